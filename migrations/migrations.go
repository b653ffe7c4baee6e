// Package migrations carries the database schema inside the binary: numbered
// golang-migrate files (NNNN_name.up.sql / .down.sql), embedded at build time.
//
// A released migration is never edited; a change to the schema is a new file.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
