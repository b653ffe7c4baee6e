package main

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
)

// TestBackupAndRestore runs the runbook's scripts: scripts/backup.sh dumps a
// database with bookings, scripts/restore.sh restores it into a fresh one; the
// rows are all there, the schema is current, and the exclusion constraints
// still refuse an overlap. A second restore into the now full database is
// refused.
func TestBackupAndRestore(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"pg_dump", "pg_restore", "psql"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (apt-get install postgresql-client)", tool)
		}
	}
	ctx := context.Background()
	src, dst := freshDatabase(t, "bk"), freshDatabase(t, "rs")
	vars := map[string]string{"DATABASE_URL": src}
	require.NoError(t, run(ctx, []string{"migrate"}, env(vars), &bytes.Buffer{}, nil))
	applyDemo(t, vars, "backup", nil)

	// Three bookings, one cancelled, through the use cases.
	pool, err := postgres.Open(ctx, src)
	require.NoError(t, err)
	defer pool.Close()
	svc := booking.New(postgres.NewStore(pool), core.SystemClock{})
	slots, _, err := svc.Slots(ctx, booking.SlotsRequest{SalonID: "backup", ServiceID: "haircut", MasterID: "anna",
		From: core.DateOf(time.Now().Add(48 * time.Hour)), Days: 14})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(slots), 3)
	var ids []string
	for i, phone := range []string{"+49 151 4440001", "+49 151 4440002", "+49 151 4440003"} {
		b, err := svc.Book(ctx, booking.BookRequest{SalonID: "backup", ServiceID: "haircut", MasterID: "anna", Start: slots[i*4].Start,
			Client: core.Client{Name: "Client", Phone: phone}, IdempotencyKey: phone, Confirm: true, Source: booking.OwnerSource})
		require.NoError(t, err)
		ids = append(ids, b.ID)
	}
	_, err = svc.Cancel(ctx, "backup", ids[2])
	require.NoError(t, err)

	// A reply waiting in the outbox at the dump, and one sent before it.
	_, err = pool.Exec(ctx, `INSERT INTO outbox (salon_id, channel, chat_id, body, sent_at) VALUES
		('backup', 'telegram', '1', '{}', NULL), ('backup', 'telegram', '2', '{}', now())`)
	require.NoError(t, err)

	file := filepath.Join(t.TempDir(), "nested", "salonbook.dump")
	out := script(t, "backup.sh", src, file)
	require.Contains(t, out, file)
	info, err := os.Stat(file)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the dump holds phone numbers: its owner's only")
	cmd := exec.Command("bash", filepath.Join("..", "..", "..", "scripts", "backup.sh"), file)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+src)
	msg, err := cmd.CombinedOutput()
	require.Error(t, err, "an existing dump is never overwritten")
	require.Contains(t, string(msg), "exists")

	out = script(t, "restore.sh", dst, file)
	require.Contains(t, out, "3 bookings, 1 unsent outbox messages given up")

	rows := func(u, sql string) [][]any {
		conn, err := pgx.Connect(ctx, u)
		require.NoError(t, err)
		defer conn.Close(ctx)
		r, err := conn.Query(ctx, sql)
		require.NoError(t, err)
		var all [][]any
		for r.Next() {
			v, err := r.Values()
			require.NoError(t, err)
			all = append(all, v)
		}
		require.NoError(t, r.Err())
		return all
	}
	for _, q := range []string{
		`SELECT booking_id::text, salon_id, master_id, client_id, starts_at, ends_at, occupied::text, status, idempotency_key, source FROM bookings ORDER BY 1`,
		`SELECT client_id, name, phone FROM clients ORDER BY 1`,
		`SELECT salon_id, master_id, active FROM masters ORDER BY 1, 2`,
		`SELECT version, dirty FROM schema_migrations`,
		`SELECT count(*) FROM river_migration`,
	} {
		require.Equal(t, rows(src, q), rows(dst, q), q)
	}
	require.Len(t, rows(dst, `SELECT 1 FROM bookings WHERE status = 'confirmed'`), 2)
	require.Equal(t, [][]any{{"1", "restore: waiting at the dump, may have been sent after it"}, {"2", nil}},
		rows(dst, `SELECT chat_id, failed FROM outbox ORDER BY chat_id`), "what may have gone after the dump is not sent again")

	// The restored constraints refuse an overlap, whoever writes it.
	conn, err := pgx.Connect(ctx, dst)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `
		WITH c AS (INSERT INTO clients (salon_id, name, phone) VALUES ('backup', 'Other', '+491514440009') RETURNING client_id)
		INSERT INTO bookings (salon_id, master_id, service_id, client_id, starts_at, ends_at, occupied, status, price_minor, currency, idempotency_key)
		SELECT salon_id, master_id, service_id, (SELECT client_id FROM c), starts_at + interval '5 minutes', ends_at + interval '5 minutes',
		       tstzrange(lower(occupied) + interval '5 minutes', upper(occupied) + interval '5 minutes'), 'confirmed', price_minor, currency, 'overlap'
		FROM bookings WHERE booking_id = $1`, ids[0])
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	require.True(t, ok, "%v", err)
	require.Equal(t, "23P01", pgErr.Code, "an exclusion constraint refuses it")
	require.Equal(t, "bookings_no_master_overlap", pgErr.ConstraintName)
	restored, err := postgres.Open(ctx, dst)
	require.NoError(t, err)
	defer restored.Close()
	_, err = booking.New(postgres.NewStore(restored), core.SystemClock{}).Book(ctx, booking.BookRequest{SalonID: "backup", ServiceID: "haircut",
		MasterID: "anna", Start: slots[0].Start, Client: core.Client{Name: "Late", Phone: "+49 151 4440010"}, IdempotencyKey: "late", Confirm: true,
		Source: booking.OwnerSource})
	_, taken := errors.AsType[*booking.ConflictError](err)
	require.True(t, taken, "the restored database answers the time is taken: %v", err)

	cmd = exec.Command("bash", filepath.Join("..", "..", "..", "scripts", "restore.sh"), file)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dst)
	msg, err = cmd.CombinedOutput()
	require.Error(t, err, "a restore into a database with tables is refused")
	require.Contains(t, string(msg), "restore into a new, empty one")
}

// TestBackupScriptsKeepThePasswordOffTheCommandLine: the scripts hand the
// database URL to pg_dump, pg_restore and psql through libpq's environment
// (any user can read another's command line in ps). Fakes of the tools record
// their arguments and environment.
func TestBackupScriptsKeepThePasswordOffTheCommandLine(t *testing.T) {
	t.Parallel()
	bin, rec := t.TempDir(), t.TempDir()
	for _, tool := range []string{"pg_dump", "pg_restore", "psql"} {
		fake := "#!/usr/bin/env bash\n" +
			`echo "$*" >> "` + rec + `/` + tool + `.args"` + "\n" +
			`echo "$PGHOST|$PGPORT|$PGUSER|$PGPASSWORD|$PGDATABASE|$PGSSLMODE" >> "` + rec + `/` + tool + `.env"` + "\n" +
			`if [[ $1 == --format=custom ]]; then : > "${3#--file=}"; fi` + "\n" +
			`if [[ ` + tool + ` == psql ]]; then echo 0; fi` + "\n"
		require.NoError(t, os.WriteFile(filepath.Join(bin, tool), []byte(fake), 0o755))
	}
	const dbURL = "postgres://sb%40user:s3cr%2Ft%20pw@db.example:6543/salon%20book?sslmode=verify-full"
	run := func(name string, args ...string) {
		cmd := exec.Command("bash", append([]string{filepath.Join("..", "..", "..", "scripts", name)}, args...)...)
		cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "PATH="+bin+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s: %s", name, out)
	}
	file := filepath.Join(t.TempDir(), "x.dump")
	run("backup.sh", file)
	run("restore.sh", file)
	for _, tool := range []string{"pg_dump", "pg_restore", "psql"} {
		args, err := os.ReadFile(filepath.Join(rec, tool+".args"))
		require.NoError(t, err, tool)
		require.NotContains(t, string(args), "s3cr", tool)
		require.NotContains(t, string(args), "db.example", tool)
		env, err := os.ReadFile(filepath.Join(rec, tool+".env"))
		require.NoError(t, err, tool)
		for _, line := range strings.Split(strings.TrimSpace(string(env)), "\n") {
			require.Equal(t, "db.example|6543|sb@user|s3cr/t pw|salon book|verify-full", line, tool)
		}
	}
}

// script runs scripts/<name> with DATABASE_URL and args and returns its output.
func script(t *testing.T, name, dbURL string, args ...string) string {
	t.Helper()
	cmd := exec.Command("bash", append([]string{filepath.Join("..", "..", "..", "scripts", name)}, args...)...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s: %s", name, out)
	return string(out)
}

// freshDatabase creates an empty database beside the package's, dropped when
// t ends, and returns its URL.
func freshDatabase(t *testing.T, tag string) string {
	t.Helper()
	admin := pgtest.Pool(t)
	name := "salonbook_test_" + tag + "_" + pgtest.RandomID()
	_, err := admin.Exec(context.Background(), `CREATE DATABASE `+name)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`) })
	u, err := url.Parse(pgtest.URL(t))
	require.NoError(t, err)
	u.Path = "/" + name
	return u.String()
}
