package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/core/messaging"
)

// TestDueRechecksRowsChangedSinceItsSnapshot: a message sent, given up or
// leased by another transaction after Due's statement took its snapshot, but
// before Due locks it, is not leased and handed out again. In READ COMMITTED
// the row lock finds the newest version of the row and re-checks only the
// locking subquery's own WHERE on it: with `id = r.id` alone, Due leased a sent
// message again (the sender sent it twice) or a given-up one (a superseded
// reminder went out).
//
// Due is held between its snapshot and its locks: its connection resolves
// now() to a function of the test's schema (search_path puts it before
// pg_catalog) that waits for an advisory lock the test holds. Due calls now()
// on each head it reads (`not_before <= now()`), after its snapshot and before
// any row lock; meanwhile the test changes the head on another connection and
// commits.
func TestDueRechecksRowsChangedSinceItsSnapshot(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, pool *pgxpool.Pool, out *pipeline.Outbox, id int64)
	}{
		{"Sent", func(t *testing.T, _ *pgxpool.Pool, out *pipeline.Outbox, id int64) {
			q := dueOne(t, out, id)
			require.NoError(t, out.Done(ctx, q, ""))
		}},
		{"GivenUp", func(t *testing.T, pool *pgxpool.Pool, _ *pipeline.Outbox, id int64) {
			// As Reminders' supersede, an ended offer or an erase give it up.
			_, err := pool.Exec(ctx, `UPDATE outbox SET failed = 'superseded' WHERE id = $1`, id)
			require.NoError(t, err)
		}},
		{"LeasedByAnother", func(t *testing.T, _ *pgxpool.Pool, out *pipeline.Outbox, id int64) {
			dueOne(t, out, id)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, salonID := pgtest.Salon(t)
			pool := pgtest.Pool(t)
			key := rand.Int32N(1 << 30)
			schema := "due_held_" + pgtest.RandomID()
			for _, q := range []string{
				`CREATE SCHEMA ` + schema,
				`CREATE FUNCTION ` + schema + `.now() RETURNS timestamptz LANGUAGE plpgsql VOLATILE AS $$
				BEGIN
					PERFORM pg_catalog.pg_advisory_xact_lock_shared(` + strconv.Itoa(int(key)) + `);
					RETURN pg_catalog.now();
				END $$`,
			} {
				_, err := pool.Exec(ctx, q)
				require.NoError(t, err, q)
			}
			t.Cleanup(func() { _, _ = pool.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`) })
			cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
			require.NoError(t, err)
			cfg.ConnConfig.RuntimeParams["search_path"] = schema + ", pg_catalog, public"
			heldPool, err := pgxpool.NewWithConfig(ctx, cfg)
			require.NoError(t, err)
			t.Cleanup(heldPool.Close)

			var head, other int64 // head first: the lower id, the one dueOne takes
			for _, m := range []struct {
				chat string
				id   *int64
			}{{"A", &head}, {"B", &other}} {
				require.NoError(t, pool.QueryRow(ctx, `
					INSERT INTO outbox (salon_id, channel, chat_id, body) VALUES ($1, 'tg', $2, '{"text": "a reply"}')
					RETURNING id`, salonID, m.chat).Scan(m.id))
			}

			lock, err := pool.Acquire(ctx)
			require.NoError(t, err)
			defer lock.Release()
			_, err = lock.Exec(ctx, `SELECT pg_advisory_lock($1::bigint)`, key)
			require.NoError(t, err)
			unlocked := false
			unlock := func() {
				if !unlocked {
					unlocked = true
					_, err := lock.Exec(context.Background(), `SELECT pg_advisory_unlock($1::bigint)`, key)
					require.NoError(t, err)
				}
			}
			defer unlock()

			type result struct {
				qs  []messaging.Queued
				err error
			}
			held := make(chan result, 1)
			go func() {
				qs, err := pipeline.NewOutbox(heldPool, salonID).Due(ctx, "tg", 10, 10)
				held <- result{qs, err}
			}()
			waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			for {
				var waiting bool
				require.NoError(t, pool.QueryRow(waitCtx, `
					SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
					               AND classid = 0 AND objid = $1 AND objsubid = 1)`, key).Scan(&waiting))
				if waiting {
					break // Due has its snapshot and waits before its first row lock
				}
				select {
				case r := <-held:
					t.Fatalf("Due ended before it was held: %v %v", r.qs, r.err)
				case <-time.After(10 * time.Millisecond):
				}
			}

			tc.change(t, pool, pipeline.NewOutbox(pool, salonID), head)
			var before string
			require.NoError(t, pool.QueryRow(ctx, `SELECT row(sent_at, failed, leased_until, lease_token)::text FROM outbox WHERE id = $1`, head).Scan(&before))
			unlock()
			r := <-held
			require.NoError(t, r.err)
			var ids []int64
			for _, q := range r.qs {
				ids = append(ids, q.ID)
			}
			require.Equal(t, []int64{other}, ids, "the head changed since Due's snapshot is not handed out; the other chat's is")
			var after string
			require.NoError(t, pool.QueryRow(ctx, `SELECT row(sent_at, failed, leased_until, lease_token)::text FROM outbox WHERE id = $1`, head).Scan(&after))
			require.Equal(t, before, after, "the changed head is left as it was committed")
		})
	}
}

// dueOne leases the message id, the lowest due, through out (another
// sender's Due) and returns it.
func dueOne(t *testing.T, out *pipeline.Outbox, id int64) messaging.Queued {
	t.Helper()
	qs, err := out.Due(ctx, "tg", 0, 1)
	require.NoError(t, err)
	for _, q := range qs {
		if q.ID == id {
			return q
		}
	}
	t.Fatalf("message %d not due: %v", id, qs)
	return messaging.Queued{}
}

// TestDoneWithALostLeaseIsLogged: a Done whose lease ran out and was taken by
// another Due marks nothing (that Due's sender may send the message again), and
// says so in the log, by the outbox row's id: no chat id.
func TestDoneWithALostLeaseIsLogged(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	var logged bytes.Buffer
	out := pipeline.NewOutbox(pool, salonID)
	out.SetLog(slog.New(slog.NewTextHandler(&logged, nil)))
	var kept, lost int64
	for _, m := range []struct {
		chat string
		id   *int64
	}{{"4915112345678", &kept}, {"4915187654321", &lost}} {
		require.NoError(t, pool.QueryRow(ctx, `
			INSERT INTO outbox (salon_id, channel, chat_id, body) VALUES ($1, 'tg', $2, '{"text": "a reply"}')
			RETURNING id`, salonID, m.chat).Scan(m.id))
	}
	qs, err := out.Due(ctx, "tg", 0, 10)
	require.NoError(t, err)
	require.Len(t, qs, 2)
	// The second lease runs out and another sender's Due takes the message.
	_, err = pool.Exec(ctx, `UPDATE outbox SET leased_until = now() - interval '1 second' WHERE id = $1`, lost)
	require.NoError(t, err)
	again := dueOne(t, pipeline.NewOutbox(pool, salonID), lost)

	require.NoError(t, out.Done(ctx, qs[0], ""))
	require.Empty(t, logged.String(), "a Done under its lease logs nothing")
	require.NoError(t, out.Done(ctx, qs[1], ""))
	line := logged.String()
	require.Contains(t, line, "level=WARN")
	require.Contains(t, line, "lease lost: another sender may send it again")
	require.Contains(t, line, fmt.Sprintf("outbox_ids=[%d]", lost))
	require.NotContains(t, line, "4915187654321")
	require.NotContains(t, line, "4915112345678")
	var token string
	require.NoError(t, pool.QueryRow(ctx, `SELECT lease_token FROM outbox WHERE id = $1 AND sent_at IS NULL`, lost).Scan(&token))
	require.Equal(t, again.Lease, token, "the other sender's lease stands")
}
