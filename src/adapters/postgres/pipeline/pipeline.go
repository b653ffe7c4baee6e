// Package pipeline is the storage of the chat message pipeline (inbox, group
// commit, outbox, leader, chat windows, delivery statuses, Telegram offsets,
// staff notices), beside the booking store of package postgres. Driver errors
// are mapped to core errors by postgres.MapErr, as everywhere.
package pipeline

import "salonbook/src/adapters/postgres"

func mapErr(err error, what string) error { return postgres.MapErr(err, what) }

func passCore(err error, what string) error { return postgres.PassCore(err, what) }
