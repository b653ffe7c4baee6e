// Package postgres is salonbook's storage: a pgx v5 pool, the migrations runner,
// the booking store and the salon-file writer.
//
// It and its subpackage pipeline (the message pipeline's storage) are the only
// places that speak SQL. Driver errors are mapped to core error codes
// here, once (23P01 and 23505 → EConflict, no rows → ENotFound); nothing above it
// sees a pgx type. Every query is parameterised; none is built by concatenation.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"

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
	// A context that ends cancels the statement in the server (a cancel
	// request) and waits for its answer: the statement either stopped (its
	// transaction, or a booking's one-statement autocommit, rolled back) or had
	// already finished, and the caller is told which. pgx's default returns an
	// error at once and cancels in the background, so a statement about to finish
	// (an insert whose lock was just let go, a commit) could still commit after
	// the caller answered "failed". The socket is closed only if the server has
	// not answered within cancelGrace.
	cfg.ConnConfig.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: cancelGrace}
	}
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

// cancelGrace is how long a statement whose context ended may take to answer
// the cancel request before its connection is closed.
const cancelGrace = 2 * time.Second

// mapErr turns driver errors into core errors: conflicts (exclusion and unique
// violations) become EConflict, a missing row ENotFound, a cancelled request or
// a database that cannot be reached (see unreachable) EUnavailable; anything else
// stays internal, wrapped with what was being done.
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
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || unreachable(err) {
		return core.Errorf(core.EUnavailable, "error.unavailable", "postgres: %s: %w", what, err)
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// unreachable reports whether err says the database could not be reached or
// dropped the connection: a failed connect (refused, as during a restart; a
// server starting up or shutting down), a closed pool or connection, a network
// error or an EOF, and the server's own connection-exception (08…), shutdown
// (57P01–57P03) and too-many-connections (53300) errors.
func unreachable(err error) bool {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), pgErr.Code == "57P01", pgErr.Code == "57P02", pgErr.Code == "57P03", pgErr.Code == "53300":
			return true
		}
		if _, connect := errors.AsType[*pgconn.ConnectError](err); !connect {
			return false // the server answered: not a question of reaching it
		}
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	return errors.Is(err, puddle.ErrClosedPool) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
