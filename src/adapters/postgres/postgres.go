// Package postgres is salonbook's storage: a pgx v5 pool, the migrations runner,
// the booking store and the salon-file writer.
//
// It is the only place that speaks SQL. Driver errors are mapped to core error codes
// here, once (23P01 and 23505 → EConflict, no rows → ENotFound); nothing above it
// sees a pgx type. Every query is parameterised; none is built by concatenation.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/core"
)

// Open connects a pool to url and checks that the server answers.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) { return OpenSized(ctx, url, 0) }

// OpenSized is Open with at most maxConns connections (0: pgx's default).
func OpenSized(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	return OpenSettings(ctx, url, maxConns, nil)
}

// OpenSettings is OpenSized with settings (run-time parameters, such as
// statement_timeout) that every connection of the pool starts with.
func OpenSettings(ctx context.Context, url string, maxConns int32, settings map[string]string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parse error can quote the URL, password and all: do not wrap it.
		return nil, errors.New("postgres: DATABASE_URL is not a valid connection string")
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	for k, v := range settings {
		cfg.ConnConfig.RuntimeParams[k] = v
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open pool: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	return pool, nil
}

// MapErr is mapErr for the pipeline's storage (package postgres/pipeline).
func MapErr(err error, what string) error { return mapErr(err, what) }

// PassCore is passCore for the pipeline's storage (package postgres/pipeline).
func PassCore(err error, what string) error { return passCore(err, what) }

// mapErr turns driver errors into core errors: conflicts (exclusion and unique
// violations) become EConflict, a missing row ENotFound, a cancelled request
// EUnavailable; anything else stays internal, wrapped with what was being done.
func mapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return core.Errorf(core.ENotFound, "error.not_found", "postgres: %s: not found", what)
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch pgErr.Code {
		case "23P01", "23505":
			return core.Errorf(core.EConflict, "booking.slot_taken", "postgres: %s: %w", what, err)
		case "40001", "40P01", "57014":
			return core.Errorf(core.EUnavailable, "error.unavailable", "postgres: %s: %w", what, err)
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return core.Errorf(core.EUnavailable, "error.unavailable", "postgres: %s: %w", what, err)
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}
