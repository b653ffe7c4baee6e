package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"salonbook/migrations"
	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/dialog"
)

// convBundle is one test's world: a salon of its own and the conversation stores
// over the package database.
type convBundle struct {
	pool    *pgxpool.Pool
	convs   *postgres.Conversations
	wait    *postgres.Waitlist
	salonID string
}

func newConvBundle(t *testing.T) *convBundle {
	t.Helper()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	return &convBundle{pool: pool, convs: postgres.NewConversations(pool), wait: postgres.NewWaitlist(pool), salonID: salonID}
}

func (b *convBundle) chat(id string) dialog.ChatKey {
	return dialog.ChatKey{SalonID: b.salonID, Channel: "telegram", ChatID: id}
}

// keep is a step that changes nothing and says ok.
func keep(st dialog.State) (dialog.State, []dialog.Reply) {
	return st, []dialog.Reply{{Text: "ok"}}
}

func TestConversations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("NewConversationGetsZeroState", func(t *testing.T) {
		t.Parallel()
		b := newConvBundle(t)
		var got *dialog.State
		_, err := b.convs.Run(ctx, b.chat("1"), "e1", func(st dialog.State) (dialog.State, []dialog.Reply) {
			got = &st
			return st, nil
		})
		require.NoError(t, err)
		require.NotNil(t, got)
		require.Equal(t, dialog.State{}, *got)
	})

	t.Run("StateRoundTrips", func(t *testing.T) {
		t.Parallel()
		b := newConvBundle(t)
		want := dialog.State{
			Step: "confirm", Lang: "ru", Updated: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC),
			Service: "haircut", Master: "any", Day: "2027-03-02",
			Start: time.Date(2027, 3, 2, 9, 15, 0, 123456789, time.UTC), Page: 3, BookingID: "b-1",
			Shown:      []string{"t:1804064400", "days", "menu"},
			ClientName: "Анна", ClientPhone: "+491511234567", ClientID: 42,
		}
		_, err := b.convs.Run(ctx, b.chat("1"), "e1", func(dialog.State) (dialog.State, []dialog.Reply) { return want, nil })
		require.NoError(t, err)
		var got dialog.State
		_, err = b.convs.Run(ctx, b.chat("1"), "e2", func(st dialog.State) (dialog.State, []dialog.Reply) {
			got = st
			return st, nil
		})
		require.NoError(t, err)
		require.Equal(t, want, got)
		require.Equal(t, time.UTC, got.Start.Location())
	})

	t.Run("ReplayReturnsFirstRepliesWithoutStep", func(t *testing.T) {
		t.Parallel()
		b := newConvBundle(t)
		calls := 0
		step := func(st dialog.State) (dialog.State, []dialog.Reply) {
			calls++
			st.Page++
			return st, []dialog.Reply{{Text: fmt.Sprintf("call %d", calls), Choices: []dialog.Choice{{ID: "book", Label: "Book"}}, RequestContact: true}}
		}
		first, err := b.convs.Run(ctx, b.chat("1"), "e1", step)
		require.NoError(t, err)
		again, err := b.convs.Run(ctx, b.chat("1"), "e1", step)
		require.NoError(t, err)
		require.Equal(t, 1, calls)
		require.Equal(t, first, again)
		require.Equal(t, "call 1", again[0].Text)

		var page int
		_, err = b.convs.Run(ctx, b.chat("1"), "e2", func(st dialog.State) (dialog.State, []dialog.Reply) {
			page = st.Page
			return st, nil
		})
		require.NoError(t, err)
		require.Equal(t, 1, page, "the replay changed the state")
	})

	t.Run("SameEventIDInTwoChatsIsTwoEvents", func(t *testing.T) {
		t.Parallel()
		b := newConvBundle(t)
		say := func(text string) func(dialog.State) (dialog.State, []dialog.Reply) {
			return func(st dialog.State) (dialog.State, []dialog.Reply) { return st, []dialog.Reply{{Text: text}} }
		}
		a, err := b.convs.Run(ctx, b.chat("a"), "e1", say("for a"))
		require.NoError(t, err)
		other, err := b.convs.Run(ctx, b.chat("b"), "e1", say("for b"))
		require.NoError(t, err)
		require.Equal(t, []dialog.Reply{{Text: "for a"}}, a)
		require.Equal(t, []dialog.Reply{{Text: "for b"}}, other, "a chat never gets another chat's stored replies")
		again, err := b.convs.Run(ctx, b.chat("b"), "e1", say("again"))
		require.NoError(t, err)
		require.Equal(t, other, again, "and each chat's replay is its own")
	})

	t.Run("ConcurrentReplaysRunStepOnce", func(t *testing.T) {
		t.Parallel()
		b := newConvBundle(t)
		var calls atomic.Int32
		const n = 10
		var wg sync.WaitGroup
		got := make([][]dialog.Reply, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				got[i], errs[i] = b.convs.Run(ctx, b.chat("1"), "e1", func(st dialog.State) (dialog.State, []dialog.Reply) {
					c := calls.Add(1)
					return st, []dialog.Reply{{Text: fmt.Sprintf("call %d", c)}}
				})
			})
		}
		wg.Wait()
		require.EqualValues(t, 1, calls.Load())
		for i := range n {
			require.NoError(t, errs[i])
			require.Equal(t, []dialog.Reply{{Text: "call 1"}}, got[i])
		}
	})

	t.Run("ReplayOfNoRepliesReturnsNone", func(t *testing.T) {
		t.Parallel()
		b := newConvBundle(t)
		_, err := b.convs.Run(ctx, b.chat("1"), "e1", func(st dialog.State) (dialog.State, []dialog.Reply) { return st, nil })
		require.NoError(t, err)
		got, err := b.convs.Run(ctx, b.chat("1"), "e1", keep)
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("OneChatsEventsAreSerialised", func(t *testing.T) {
		t.Parallel()
		b := newConvBundle(t)
		const n = 20
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				_, err := b.convs.Run(ctx, b.chat("1"), fmt.Sprintf("e%d", i), func(st dialog.State) (dialog.State, []dialog.Reply) {
					st.Page++
					return st, nil
				})
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		var page int
		_, err := b.convs.Run(ctx, b.chat("1"), "last", func(st dialog.State) (dialog.State, []dialog.Reply) {
			page = st.Page
			return st, nil
		})
		require.NoError(t, err)
		require.Equal(t, n, page)
	})

	t.Run("ChatsDoNotBlockEachOther", func(t *testing.T) {
		t.Parallel()
		b := newConvBundle(t)
		entered, release := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			_, err := b.convs.Run(ctx, b.chat("a"), "a1", func(st dialog.State) (dialog.State, []dialog.Reply) {
				close(entered)
				<-release
				return st, nil
			})
			done <- err
		}()
		<-entered
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		got, err := b.convs.Run(tctx, b.chat("b"), "b1", keep)
		close(release) // before any assertion, so that chat A's goroutine ends
		require.NoError(t, err, "chat B waited for chat A")
		require.Equal(t, []dialog.Reply{{Text: "ok"}}, got)
		require.NoError(t, <-done)
	})

	t.Run("EmptyEventIDIsInvalid", func(t *testing.T) {
		t.Parallel()
		b := newConvBundle(t)
		called := false
		_, err := b.convs.Run(ctx, b.chat("1"), "", func(st dialog.State) (dialog.State, []dialog.Reply) {
			called = true
			return st, nil
		})
		require.Equal(t, core.EInvalid, core.ErrorCode(err))
		require.False(t, called)
	})

	t.Run("UnknownSalonIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := newConvBundle(t)
		_, err := b.convs.Run(ctx, dialog.ChatKey{SalonID: "no-such-salon", Channel: "web", ChatID: "1"}, "e1", keep)
		require.Equal(t, core.ENotFound, core.ErrorCode(err))
	})

	t.Run("PruneEventsDeletesOnlyOldOnes", func(t *testing.T) {
		t.Parallel()
		b := newConvBundle(t)
		for _, id := range []string{"old1", "old2", "new"} {
			_, err := b.convs.Run(ctx, b.chat("1"), id, keep)
			require.NoError(t, err)
		}
		_, err := b.pool.Exec(ctx, `UPDATE dialog_events SET created_at = now() - interval '3 days'
			WHERE salon_id = $1 AND event_id LIKE 'old%'`, b.salonID)
		require.NoError(t, err)

		n, err := b.convs.PruneEvents(ctx, time.Now().Add(-24*time.Hour))
		require.NoError(t, err)
		require.EqualValues(t, 2, n) // other tests' events are all fresh

		var left []string
		rows, err := b.pool.Query(ctx, `SELECT event_id FROM dialog_events WHERE salon_id = $1`, b.salonID)
		require.NoError(t, err)
		left, err = pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		require.Equal(t, []string{"new"}, left)
	})
}

func TestWaitlist(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	day := core.Date{Year: 2027, Month: 3, Day: 2}

	count := func(t *testing.T, b *convBundle) int {
		t.Helper()
		var n int
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM waitlist WHERE salon_id = $1`, b.salonID).Scan(&n))
		return n
	}

	t.Run("JoiningTwiceIsOneEntry", func(t *testing.T) {
		t.Parallel()
		b := newConvBundle(t)
		e := dialog.WaitlistEntry{Key: b.chat("1"), ServiceID: "haircut", MasterID: "anna", Day: day, Lang: "en"}
		require.NoError(t, b.wait.Join(ctx, e))
		require.NoError(t, b.wait.Join(ctx, e))
		require.Equal(t, 1, count(t, b))

		e.Day = day.AddDays(1)
		require.NoError(t, b.wait.Join(ctx, e))
		require.Equal(t, 2, count(t, b))
	})

	t.Run("UnknownClientIsStoredAsNull", func(t *testing.T) {
		t.Parallel()
		b := newConvBundle(t)
		require.NoError(t, b.wait.Join(ctx, dialog.WaitlistEntry{Key: b.chat("1"), ServiceID: "haircut", MasterID: "any", Day: day}))
		var client *int64
		var got time.Time
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT client_id, day FROM waitlist WHERE salon_id = $1`, b.salonID).Scan(&client, &got))
		require.Nil(t, client)
		require.Equal(t, day, core.DateOf(got))
	})

	t.Run("KnownClientIsStored", func(t *testing.T) {
		t.Parallel()
		b := newConvBundle(t)
		var id int64
		require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO clients (salon_id, name, phone) VALUES ($1, 'Anna', '+491510000001')
			RETURNING client_id`, b.salonID).Scan(&id))
		require.NoError(t, b.wait.Join(ctx, dialog.WaitlistEntry{Key: b.chat("1"), ServiceID: "haircut", MasterID: "any", Day: day, ClientID: id}))
		var client int64
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT client_id FROM waitlist WHERE salon_id = $1`, b.salonID).Scan(&client))
		require.Equal(t, id, client)
	})

	t.Run("UnknownServiceIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := newConvBundle(t)
		err := b.wait.Join(ctx, dialog.WaitlistEntry{Key: b.chat("1"), ServiceID: "massage", MasterID: "any", Day: day})
		require.Equal(t, core.ENotFound, core.ErrorCode(err))
		require.Equal(t, "service.not_found", core.ErrorKey(err))
	})
}

// TestMigrationsGoDown checks that every down migration undoes its up on a
// scratch database: the last one alone, then all of them.
func TestMigrationsGoDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u, err := url.Parse(pgtest.URL(t))
	if err != nil || u.Scheme == "" {
		t.Skip("the test database URL is not a URL")
	}
	pool := pgtest.Pool(t)
	name := "salonbook_scratch_" + pgtest.RandomID()
	_, err = pool.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := pool.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		require.NoError(t, err)
	})
	u.Path = "/" + name

	latest, err := postgres.Latest()
	require.NoError(t, err)
	mg, err := postgres.NewMigrator(u.String())
	require.NoError(t, err)
	defer mg.Close()
	version := func() uint {
		t.Helper()
		v, dirty, err := mg.Version()
		require.NoError(t, err)
		require.False(t, dirty)
		return v
	}

	require.NoError(t, mg.Up())
	require.Equal(t, latest, version())
	// The one before the latest: numbers may have gaps (branches take numbers
	// out of order).
	src, err := iofs.New(migrations.FS, ".")
	require.NoError(t, err)
	previous, err := src.Prev(latest)
	require.NoError(t, err)
	count := 1
	for v := latest; ; count++ {
		if v, err = src.Prev(v); err != nil {
			break
		}
	}
	above8 := 0 // the migrations after 0008
	for v := latest; v > 8; above8++ {
		if v, err = src.Prev(v); err != nil {
			break
		}
	}
	require.NoError(t, src.Close())
	require.NoError(t, mg.Down(1))
	require.Equal(t, previous, version())
	require.NoError(t, mg.Up())
	require.Equal(t, latest, version())

	// 0009's down goes back to one row per channel and event id: of two chats'
	// events with the same id, the older stays.
	conn, err := pgx.Connect(ctx, u.String())
	require.NoError(t, err)
	defer func() { _ = conn.Close(ctx) }()
	_, err = conn.Exec(ctx, `
		INSERT INTO salons (salon_id, name, timezone, locales, slot_step_seconds, min_notice_seconds, horizon_seconds, hold_seconds, cancel_cutoff_seconds)
		VALUES ('s', 'S', 'Europe/Berlin', '{en}', 1800, 0, 86400, 600, 0);
		INSERT INTO conversations (salon_id, channel, chat_id) VALUES ('s', 'telegram', '1'), ('s', 'telegram', '2');
		INSERT INTO dialog_events (salon_id, channel, chat_id, event_id, replies, created_at)
		VALUES ('s', 'telegram', '2', 'tg:7', '[]', now() - interval '1 minute'), ('s', 'telegram', '1', 'tg:7', '[]', now())`)
	require.NoError(t, err)
	// 0022's checks are valid (one ALTER, no NOT VALID left behind).
	var invalid int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM pg_constraint
		WHERE conrelid = 'bookings'::regclass AND NOT convalidated`).Scan(&invalid))
	require.Zero(t, invalid)
	// A block with its event in the master's Google calendar: 0022's down
	// drops the block but keeps the event's row, so the operator can find the
	// "Blocked" event the older code would read back as busy time for good.
	_, err = conn.Exec(ctx, `
		INSERT INTO masters (salon_id, master_id, name, hours, calendar) VALUES ('s', 'm', 'M', '{}', 'cal@example.com');
		INSERT INTO bookings (booking_id, salon_id, master_id, kind, note, starts_at, ends_at, occupied, status,
		                      price_minor, currency, idempotency_key)
		VALUES ('00000000-0000-0000-0000-0000000000b1', 's', 'm', 'block', 'Break', '2027-03-02 11:00Z', '2027-03-02 12:00Z',
		        '[2027-03-02 11:00Z, 2027-03-02 12:00Z)', 'confirmed', 0, 'EUR', 'desk:b1');
		INSERT INTO calendar_events (salon_id, booking_id, calendar, event_id, starts_at, ends_at)
		VALUES ('s', '00000000-0000-0000-0000-0000000000b1', 'cal@example.com', 'evb1', '2027-03-02 11:00Z', '2027-03-02 12:00Z')`)
	require.NoError(t, err)
	require.NoError(t, mg.Down(above8))
	require.Equal(t, uint(8), version())
	var blocks, events int
	require.NoError(t, conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM bookings),
		(SELECT count(*) FROM calendar_events WHERE event_id = 'evb1' AND NOT deleted)`).Scan(&blocks, &events))
	require.Zero(t, blocks, "the block is gone")
	require.Equal(t, 1, events, "its event's row is kept for the operator")
	rows, err := conn.Query(ctx, `SELECT chat_id FROM dialog_events WHERE event_id = 'tg:7'`)
	require.NoError(t, err)
	chats, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{"2"}, chats, "one row left, the older")
	var key string
	require.NoError(t, conn.QueryRow(ctx, `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'dialog_events_pkey'`).Scan(&key))
	require.Equal(t, "PRIMARY KEY (salon_id, channel, event_id)", key)
	require.NoError(t, mg.Up())
	require.Equal(t, latest, version())
	// A salon from before 0013 (an upgrade) gets no morning summaries until
	// its file asks for them; and none later than 12:00.
	var summary *int32
	require.NoError(t, conn.QueryRow(ctx, `SELECT staff_summary_minute FROM salons WHERE salon_id = 's'`).Scan(&summary))
	require.Nil(t, summary, "0013 turned summaries on for an existing salon")
	_, err = conn.Exec(ctx, `UPDATE salons SET staff_summary_minute = 721 WHERE salon_id = 's'`)
	require.Error(t, err, "a summary after 12:00")
	_, err = conn.Exec(ctx, `UPDATE salons SET staff_summary_minute = 720 WHERE salon_id = 's'`)
	require.NoError(t, err)
	require.NoError(t, mg.Down(count))
	require.Equal(t, uint(0), version())

	scratch, err := postgres.Open(ctx, u.String())
	require.NoError(t, err)
	defer scratch.Close()
	var tables []string
	// River's tables are river's: Down reverts the project's migrations only.
	rows, err = scratch.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'river\_%' ORDER BY 1`)
	require.NoError(t, err)
	tables, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{"schema_migrations"}, tables)
	var riverJobs bool
	require.NoError(t, scratch.QueryRow(ctx, `SELECT to_regclass('river_job') IS NOT NULL`).Scan(&riverJobs))
	require.True(t, riverJobs, "migrate up creates river's tables")

	require.NoError(t, mg.Up())
	require.Equal(t, latest, version())
}

// TestConversationStepInTwoRoundTrips: the step's transaction sends BEGIN with
// its first statements and COMMIT with its write (issue 17). On one
// connection, a failed run (an unknown salon) leaves nothing open: the next
// run on that connection works; a step is stored whole, a replay answers the
// stored replies without running the step, and a replay rolls back (it wrote
// nothing) rather than leaving the conversation locked.
func TestConversationStepInTwoRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, salonID := pgtest.Salon(t)
	cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
	require.NoError(t, err)
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	defer pool.Close()
	convs := postgres.NewConversations(pool)
	key := dialog.ChatKey{SalonID: salonID, Channel: "telegram", ChatID: "2rt"}

	_, err = convs.Run(ctx, dialog.ChatKey{SalonID: "no-such-salon", Channel: "telegram", ChatID: "2rt"}, "e0", keep)
	require.Equal(t, core.ENotFound, core.ErrorCode(err))

	ran := 0
	step := func(st dialog.State) (dialog.State, []dialog.Reply) {
		ran++
		st.Step = "asked"
		return st, []dialog.Reply{{Text: fmt.Sprint("reply ", ran)}}
	}
	got, err := convs.Run(ctx, key, "e1", step)
	require.NoError(t, err, "the connection of the failed run is usable")
	require.Equal(t, []dialog.Reply{{Text: "reply 1"}}, got)
	again, err := convs.Run(ctx, key, "e1", step)
	require.NoError(t, err)
	require.Equal(t, got, again, "a replay answers what was stored")
	require.Equal(t, 1, ran, "and runs no step")

	var state string
	var events int
	require.NoError(t, pool.QueryRow(ctx, `SELECT state->>'step', (SELECT count(*) FROM dialog_events WHERE salon_id = $1 AND chat_id = $2)
		FROM conversations WHERE salon_id = $1 AND chat_id = $2`, salonID, "2rt").Scan(&state, &events))
	require.Equal(t, "asked", state)
	require.Equal(t, 1, events)
	// Nothing is left locked: another connection updates the row at once.
	lockCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	other := pgtest.Pool(t)
	_, err = other.Exec(lockCtx, `UPDATE conversations SET updated_at = now() WHERE salon_id = $1 AND chat_id = $2`, salonID, "2rt")
	require.NoError(t, err)
}
