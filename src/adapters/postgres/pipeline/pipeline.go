// Package pipeline is the storage of the chat message pipeline (inbox, group
// commit, outbox, leader, chat windows, delivery statuses, Telegram offsets,
// staff notices), beside the booking store of package postgres. Driver errors
// are mapped to core errors by postgres.MapErr, as everywhere.
package pipeline

import (
	"context"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/adapters/postgres"
)

// StatementTimeout is how long any one statement on a pool from Open may run
// (the server's statement_timeout, lock waits included) before the server
// cancels it. The pipeline's statements take milliseconds; this bounds the
// one that goes wrong (a plan that went quadratic once ran minutes, holding
// locks the webhook waited on) and those run with no deadline of their own (a
// worker's step runs under a context that is never cancelled). Above the
// group commit's 10 s, whose own deadline answers first; below serve's 40 s
// shutdown wait.
const StatementTimeout = 15 * time.Second

// Open opens a pool for the pipeline (inbox, group commit, outbox, leader,
// windows, deliveries) of at most maxConns connections, each with
// statement_timeout StatementTimeout. Set per pool, not per transaction: it
// covers every statement, those outside a transaction included, without a
// round trip, and a new query cannot forget it. The leader's session lock is
// not a statement and is not cut.
func Open(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	return postgres.OpenSettings(ctx, url, maxConns,
		map[string]string{"statement_timeout": strconv.FormatInt(StatementTimeout.Milliseconds(), 10)})
}

func mapErr(err error, what string) error { return postgres.MapErr(err, what) }

func passCore(err error, what string) error { return postgres.PassCore(err, what) }
