package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/golang-migrate/migrate/v4"
	migratepgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"salonbook/migrations"
)

// Migrator runs the embedded migrations against one database.
type Migrator struct {
	m   *migrate.Migrate
	url string
}

// NewMigrator connects to url for migrating. Close it when done.
func NewMigrator(url string) (*Migrator, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, errors.New("postgres: DATABASE_URL is not a valid connection string")
	}
	db := stdlib.OpenDB(*cfg)
	drv, err := migratepgx.WithInstance(db, &migratepgx.Config{})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: migrate: read embedded files: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", drv)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	return &Migrator{m: m, url: url}, nil
}

// Up applies every pending migration of the project, then river's (the job
// queue's tables: calendar jobs are inserted in the booking's transaction); with
// none pending it does nothing.
func (g *Migrator) Up() error {
	if err := g.m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("postgres: migrate up: %w", err)
	}
	return g.riverUp(context.Background())
}

func (g *Migrator) riverUp(ctx context.Context) error {
	cfg, err := pgxpool.ParseConfig(g.url)
	if err != nil {
		return errors.New("postgres: DATABASE_URL is not a valid connection string")
	}
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("postgres: migrate river: %w", err)
	}
	defer pool.Close()
	rm, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return fmt.Errorf("postgres: migrate river: %w", err)
	}
	if _, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("postgres: migrate river: %w", err)
	}
	return nil
}

// RiverSchema names the last river migration Up applies; test templates are
// keyed by it as well as by the project's migrations, so a river upgrade with new
// tables builds new templates.
func RiverSchema() string {
	rm, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		return "river: " + err.Error()
	}
	all := rm.AllVersions()
	if len(all) == 0 {
		return "river: none"
	}
	return fmt.Sprintf("river migration %d", all[len(all)-1].Version)
}

// Down reverts the last n migrations of the project (river's tables stay).
func (g *Migrator) Down(n int) error {
	if err := g.m.Steps(-n); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("postgres: migrate down: %w", err)
	}
	return nil
}

// Version reports the applied version (0 for none) and whether a failed
// migration left the schema dirty.
func (g *Migrator) Version() (uint, bool, error) {
	v, dirty, err := g.m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("postgres: migrate version: %w", err)
	}
	return v, dirty, nil
}

// Latest is the highest version among the embedded migrations.
func Latest() (uint, error) {
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return 0, fmt.Errorf("postgres: read embedded migrations: %w", err)
	}
	defer src.Close()
	v, err := src.First()
	if err != nil {
		return 0, fmt.Errorf("postgres: read embedded migrations: %w", err)
	}
	for {
		next, err := src.Next(v)
		if err != nil {
			return v, nil
		}
		v = next
	}
}

// Close releases the migrator's connection.
func (g *Migrator) Close() error {
	serr, derr := g.m.Close()
	return errors.Join(serr, derr)
}
