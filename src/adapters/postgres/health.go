package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Ready reports whether the database answers and its schema is at version latest,
// not dirty. The error says which, without connection details.
func Ready(ctx context.Context, pool *pgxpool.Pool, latest uint) error {
	var version int64
	var dirty bool
	err := pool.QueryRow(ctx, "SELECT version, dirty FROM schema_migrations LIMIT 1").Scan(&version, &dirty)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return errors.New("database has no migrations: run salonbook migrate")
	case err != nil:
		return errors.New("database unreachable")
	case dirty:
		return fmt.Errorf("database schema version %d is dirty", version)
	case uint(version) != latest:
		return fmt.Errorf("database schema version %d, binary expects %d: run salonbook migrate", version, latest)
	}
	return nil
}

// SalonIDs lists the salons in the database.
func SalonIDs(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	rows, err := pool.Query(ctx, "SELECT salon_id FROM salons ORDER BY salon_id")
	if err != nil {
		return nil, mapErr(err, "list salons")
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return ids, mapErr(err, "list salons")
}
