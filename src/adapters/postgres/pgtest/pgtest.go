// Package pgtest gives each test package a fresh, migrated PostgreSQL database of
// its own, cloned from a template that holds the current migrations, and drops it
// when the package's tests end. Tests never depend on what a server already holds.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// and get the database with pgtest.Pool(t) or pgtest.URL(t). The server is the one
// in DATABASE_URL; when that is unset, the project's private cluster under .data/
// (`scripts/db.sh url` starts it), never whatever happens to listen on 5432.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/migrations"
	"salonbook/src/adapters/postgres"
)

const prefix = "salonbook_test_"

var dbURL string

// Main creates the package's database, runs the tests and drops it.
func Main(m *testing.M) int {
	admin, err := adminURL(os.Getenv("DATABASE_URL"), os.Getwd)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		return 1
	}
	ctx := context.Background()
	name, u, err := create(ctx, admin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: %v\n(run the tests with `make test`, which starts PostgreSQL when none is reachable)\n", err)
		return 1
	}
	dbURL = u
	code := m.Run()
	if err := drop(ctx, admin, name); err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: drop %s: %v\n", name, err)
	}
	return code
}

// adminURL is the server the tests use: DATABASE_URL when set, else the URL that
// the repository's scripts/db.sh prints (it starts the private cluster under .data/
// when needed). A plain `go test ./...` thus never lands on an unrelated server.
func adminURL(env string, getwd func() (string, error)) (string, error) {
	if env != "" {
		return env, nil
	}
	dir, err := getwd()
	if err != nil {
		return "", err
	}
	for {
		script := filepath.Join(dir, "scripts", "db.sh")
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			cmd := exec.Command(script, "url")
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			if err != nil {
				return "", fmt.Errorf("DATABASE_URL is unset and %s url failed (%v): set DATABASE_URL or run `make test`", script, err)
			}
			return strings.TrimSpace(string(out)), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("DATABASE_URL is unset and no scripts/db.sh was found above the working directory: set DATABASE_URL or run `make test`")
		}
		dir = parent
	}
}

// URL returns the connection string of the package's database.
func URL(t testing.TB) string {
	t.Helper()
	if dbURL == "" {
		t.Fatal("pgtest: call pgtest.Main from TestMain")
	}
	return dbURL
}

// Pool opens a pool on the package's database, closed when t ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := postgres.Open(context.Background(), URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// RandomID returns a short random lowercase id, for salons and keys unique to a test.
func RandomID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func create(ctx context.Context, admin string) (name, dbURL string, err error) {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", "", fmt.Errorf("connect to the test server: %w", err)
	}
	defer conn.Close(ctx)
	sweep(ctx, conn)
	tmpl, err := template(ctx, conn, admin)
	if err != nil {
		return "", "", err
	}
	name = prefix + strconv.FormatInt(time.Now().Unix(), 10) + "_" + RandomID()
	for attempt := 0; ; attempt++ {
		_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE "+pgx.Identifier{tmpl}.Sanitize())
		if err == nil || attempt == 20 {
			break
		}
		time.Sleep(100 * time.Millisecond) // another package is cloning the template right now
	}
	if err != nil {
		return "", "", fmt.Errorf("create database: %w", err)
	}
	return name, withDB(admin, name), nil
}

// template returns the name of a template database holding the current
// migrations, creating it under an advisory lock when it is missing. It is built
// under a temporary name and renamed when complete, so a crash never leaves a
// half-migrated template behind.
func template(ctx context.Context, conn *pgx.Conn, admin string) (string, error) {
	sum, err := migrationsSum()
	if err != nil {
		return "", err
	}
	name := "salonbook_tmpl_" + sum
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(7265431)"); err != nil {
		return "", err
	}
	defer conn.Exec(ctx, "SELECT pg_advisory_unlock(7265431)") //nolint:errcheck
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{building}.Sanitize())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{building}.Sanitize()); err != nil {
		return "", fmt.Errorf("create template: %w", err)
	}
	mg, err := postgres.NewMigrator(withDB(admin, building))
	if err != nil {
		return "", err
	}
	err = mg.Up()
	mg.Close()
	if err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{building}.Sanitize()+" RENAME TO "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("finish template: %w", err)
	}
	return name, nil
}

// sweep drops test databases older than two hours: left by runs that were killed.
func sweep(ctx context.Context, conn *pgx.Conn) {
	rows, err := conn.Query(ctx, "SELECT datname FROM pg_database WHERE datname LIKE 'salonbook\\_test\\_%'")
	if err != nil {
		return
	}
	names, _ := pgx.CollectRows(rows, pgx.RowTo[string])
	for _, n := range names {
		parts := strings.SplitN(strings.TrimPrefix(n, prefix), "_", 2)
		created, err := strconv.ParseInt(parts[0], 10, 64)
		if err == nil && time.Since(time.Unix(created, 0)) > 2*time.Hour {
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{n}.Sanitize()+" WITH (FORCE)")
		}
	}
}

func drop(ctx context.Context, admin, name string) error {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

func migrationsSum() (string, error) {
	h := sha256.New()
	h.Write([]byte(postgres.RiverSchema()))
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:16], err
}

// withDB returns admin with its database replaced by name.
func withDB(admin, name string) string {
	u, err := url.Parse(admin)
	if err != nil || u.Scheme == "" {
		// A key=value connection string: the last dbname wins.
		return admin + " dbname=" + name
	}
	u.Path = "/" + name
	return u.String()
}
