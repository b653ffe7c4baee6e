package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/i18n"
	"salonbook/src/core/messaging"
)

// remindBundle is a test salon with reminders [24h, 2h], 30 min notice, a
// year ahead, Chloe also working 00:00-02:00, and Reminders recording every
// change and queueing on the bundle's clock.
type remindBundle struct {
	*bundle
	rem *pipeline.Reminders
}

func newRemindBundle(t *testing.T, now time.Time) *remindBundle {
	t.Helper()
	b := newBundle(t)
	b.clock.T = now
	rb := &remindBundle{bundle: b}
	_, err := b.store.Apply(ctx, rb.setup())
	require.NoError(t, err)
	catalog, err := i18n.Load()
	require.NoError(t, err)
	rb.rem = rb.scheduler(t, catalog)
	b.store.FollowChanges(rb.rem.Record)
	b.svc.RemindChats(rb.rem.Remindable)
	return rb
}

// setup is the bundle's salon as newRemindBundle applies it.
func (b *remindBundle) setup() postgres.SalonSetup {
	setup := pgtest.Setup(b.salonID)
	setup.Salon.Address = "Torstraße 1"
	setup.Salon.Policy.Reminders = []time.Duration{24 * time.Hour, 2 * time.Hour}
	setup.Salon.Policy.MinNotice = 30 * time.Minute
	setup.Salon.Policy.Horizon = 365 * 24 * time.Hour
	for wd := range setup.Masters[2].Hours {
		setup.Masters[2].Hours[wd] = []core.ClockRange{{Start: 0, End: 120}, {Start: 9 * 60, End: 19 * 60}}
	}
	return setup
}

// salon is the bundle's salon as the booking service sees it.
func (b *remindBundle) salon(ctx context.Context) (*core.Salon, error) {
	c, err := b.svc.Catalog(ctx, b.salonID)
	if err != nil {
		return nil, err
	}
	return c.Salon, nil
}

func catalogOf(t *testing.T) *i18n.Catalog {
	t.Helper()
	catalog, err := i18n.Load()
	require.NoError(t, err)
	return catalog
}

// scheduler is another scheduler of the bundle's salon (a replica).
func (b *remindBundle) scheduler(t *testing.T, catalog *i18n.Catalog) *pipeline.Reminders {
	if catalog == nil {
		var err error
		catalog, err = i18n.Load()
		require.NoError(t, err)
	}
	return pipeline.NewReminders(pipeline.RemindersConfig{
		Pool: pgtest.Pool(t), SalonID: b.salonID, Channels: []string{"telegram", "whatsapp"}, Clock: b.clock,
		Catalog: catalog, Batch: 50, Backlog: map[string]int{"telegram": 10_000, "whatsapp": 10_000},
		Salon: func(ctx context.Context) (*core.Salon, error) {
			c, err := b.svc.Catalog(ctx, b.salonID)
			if err != nil {
				return nil, err
			}
			return c.Salon, nil
		},
	})
}

// book books start with Anna (Chloe at night) through source, confirmed.
func (b *remindBundle) book(t *testing.T, source string, start time.Time, key string) *core.Booking {
	t.Helper()
	r := b.req("anna", start, key)
	if start.In(b.zone).Hour() < 2 {
		r.MasterID = "chloe"
	}
	r.Source, r.Confirm = source, true
	bk, err := b.svc.Book(ctx, r)
	require.NoError(t, err)
	return bk
}

type reminderRow struct {
	Booking string
	Start   time.Time
	Due     time.Time
	Sent    bool
	Skipped string
}

// rows are the salon's reminder rows by due time.
func (b *remindBundle) rows(t *testing.T) []reminderRow {
	t.Helper()
	rows, err := pgtest.Pool(t).Query(ctx, `
		SELECT booking_id::text, starts_at, due_at, sent_at IS NOT NULL, coalesce(skipped, '')
		FROM reminders WHERE salon_id = $1 ORDER BY due_at, booking_id`, b.salonID)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (reminderRow, error) {
		var x reminderRow
		err := r.Scan(&x.Booking, &x.Start, &x.Due, &x.Sent, &x.Skipped)
		x.Start, x.Due = x.Start.UTC(), x.Due.UTC()
		return x, err
	})
	require.NoError(t, err)
	return out
}

// dues are the due instants of the unsent rows, in the salon's zone.
func (b *remindBundle) dues(t *testing.T) []string {
	var out []string
	for _, r := range b.rows(t) {
		if !r.Sent {
			out = append(out, r.Due.In(b.zone).Format("Mon 2006-01-02 15:04 MST"))
		}
	}
	return out
}

type remindMsg struct {
	Channel, Chat, Text string
	Choices             []string
}

// outbox lists the salon's remindMsg messages in id order.
func (b *remindBundle) outbox(t *testing.T) []remindMsg {
	t.Helper()
	rows, err := pgtest.Pool(t).Query(ctx, `SELECT channel, chat_id, body FROM outbox WHERE salon_id = $1 ORDER BY id`, b.salonID)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (remindMsg, error) {
		var q remindMsg
		var body []byte
		if err := r.Scan(&q.Channel, &q.Chat, &body); err != nil {
			return q, err
		}
		var o messaging.Outgoing
		if err := json.Unmarshal(body, &o); err != nil {
			return q, err
		}
		q.Text = o.Reply.Text
		for _, c := range o.Reply.Choices {
			q.Choices = append(q.Choices, c.ID)
		}
		require.Equal(t, q.Chat, o.ChatID)
		return q, nil
	})
	require.NoError(t, err)
	return out
}

// tick runs one look at the bundle's clock and says how many it handled.
func (b *remindBundle) tick(t *testing.T) int {
	t.Helper()
	n, _, err := b.rem.Tick(ctx)
	require.NoError(t, err)
	return n
}

// TestReminderInstants: each reminder is due at the start minus the offset as
// an exact duration, so across a DST change the 24h reminder is at another wall
// time the day before (spring: an hour earlier, autumn: an hour later); across
// midnight it is on the day before; and the scheduler queues it at that instant,
// not a second before.
func TestReminderInstants(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		now   time.Time // UTC
		start time.Time // Berlin wall time
		want  []string
	}{
		{"SpringForward", time.Date(2027, 3, 20, 12, 0, 0, 0, time.UTC), time.Date(2027, 3, 28, 10, 0, 0, 0, pgtest.Berlin),
			[]string{"Sat 2027-03-27 09:00 CET", "Sun 2027-03-28 08:00 CEST"}},
		{"DayAfterSpring", time.Date(2027, 3, 20, 12, 0, 0, 0, time.UTC), time.Date(2027, 3, 29, 10, 0, 0, 0, pgtest.Berlin),
			[]string{"Sun 2027-03-28 10:00 CEST", "Mon 2027-03-29 08:00 CEST"}},
		{"FallBack", time.Date(2027, 10, 20, 12, 0, 0, 0, time.UTC), time.Date(2027, 10, 31, 10, 0, 0, 0, pgtest.Berlin),
			[]string{"Sat 2027-10-30 11:00 CEST", "Sun 2027-10-31 08:00 CET"}},
		{"DayAfterFallBack", time.Date(2027, 10, 20, 12, 0, 0, 0, time.UTC), time.Date(2027, 11, 1, 10, 0, 0, 0, pgtest.Berlin),
			[]string{"Sun 2027-10-31 10:00 CET", "Mon 2027-11-01 08:00 CET"}},
		{"FallBackNight", time.Date(2027, 10, 20, 12, 0, 0, 0, time.UTC), time.Date(2027, 10, 31, 1, 0, 0, 0, pgtest.Berlin),
			[]string{"Sat 2027-10-30 01:00 CEST", "Sat 2027-10-30 23:00 CEST"}},
		{"AcrossMidnight", time.Date(2027, 5, 1, 12, 0, 0, 0, time.UTC), time.Date(2027, 5, 10, 0, 30, 0, 0, pgtest.Berlin),
			[]string{"Sun 2027-05-09 00:30 CEST", "Sun 2027-05-09 22:30 CEST"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := newRemindBundle(t, c.now)
			bk := b.book(t, "telegram:7001", c.start, "k")
			require.Equal(t, c.want, b.dues(t))
			for i, r := range b.rows(t) {
				require.Equal(t, bk.Start, r.Start)
				require.Equal(t, []time.Duration{24 * time.Hour, 2 * time.Hour}[i], bk.Start.Sub(r.Due), "an exact duration")
				b.clock.T = r.Due.Add(-time.Second)
				require.Zero(t, b.tick(t), "not before its due time")
				b.clock.T = r.Due
				require.Equal(t, 1, b.tick(t), "at its due time")
				require.Len(t, b.outbox(t), i+1)
			}
		})
	}
}

// TestReminderMessage: the reminder goes to the chat the client booked in, in
// the conversation's language (else the salon's first), with the salon, its
// address, the service, the master (by the name in that language), the local time
// and the three buttons.
func TestReminderMessage(t *testing.T) {
	t.Parallel()
	b := newRemindBundle(t, time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC))
	setup := b.setup()
	setup.Masters[0].Names = map[string]string{"en": "Anna", "ru": "Анна"} // named per language (masters.names)
	_, err := b.store.Apply(ctx, setup)
	require.NoError(t, err)
	_, err = pgtest.Pool(t).Exec(ctx, `INSERT INTO conversations (salon_id, channel, chat_id, state) VALUES ($1, 'whatsapp', '4915112345678', '{"lang":"ru"}')`, b.salonID)
	require.NoError(t, err)
	ru := b.book(t, "whatsapp:4915112345678", b.at(3, 10, 0), "ru")
	en := b.book(t, "telegram:7002", b.at(3, 12, 0), "en")
	b.clock.T = b.at(3, 10, 0).Add(-2 * time.Hour)
	require.Equal(t, 3, b.tick(t), "both 24h reminders and the first booking's 2h one")
	out := b.outbox(t)
	require.Len(t, out, 2, "the 24h reminder of the first booking is dropped: its 2h one is due in the same batch; oldest due first")
	require.Equal(t, "whatsapp", out[1].Channel)
	require.Equal(t, "4915112345678", out[1].Chat)
	require.Contains(t, out[1].Text, "Напоминаем о записи в Studio "+b.salonID+": Стрижка, мастер Анна")
	require.Contains(t, out[1].Text, "10:00")
	require.Contains(t, out[1].Text, "Адрес: Torstraße 1")
	at := ":" + strconv.FormatInt(b.at(3, 10, 0).Unix(), 10) // the start the reminder names
	require.Equal(t, []string{"ok:" + ru.ID + at, "mv:" + ru.ID + at, "cx:" + ru.ID + at}, out[1].Choices)
	require.Equal(t, "telegram", out[0].Channel)
	require.Equal(t, "7002", out[0].Chat)
	require.Contains(t, out[0].Text, "Haircut with Anna at Studio "+b.salonID)
	require.Contains(t, out[0].Text, "12:00")
	require.Contains(t, out[0].Text, "Address: Torstraße 1")
	at = ":" + strconv.FormatInt(b.at(3, 12, 0).Unix(), 10)
	require.Equal(t, []string{"ok:" + en.ID + at, "mv:" + en.ID + at, "cx:" + en.ID + at}, out[0].Choices)
}

// TestReminderNotWhenAlreadyDue: a reminder already due when the booking is
// confirmed is not scheduled (booked 90 minutes ahead: none; 3 hours ahead:
// only the 2h one; exactly 2 hours ahead: none, it is due now).
func TestReminderNotWhenAlreadyDue(t *testing.T) {
	t.Parallel()
	b := newRemindBundle(t, time.Date(2027, 3, 3, 7, 0, 0, 0, time.UTC)) // 08:00 Berlin
	b.book(t, "telegram:1", b.at(3, 9, 30), "90m")
	require.Empty(t, b.rows(t))
	b.clock.T = b.at(3, 9, 0)
	b.book(t, "telegram:2", b.at(3, 11, 0), "2h")
	require.Empty(t, b.rows(t), "due exactly now: already due")
	b.clock.T = b.at(3, 10, 0)
	late := b.book(t, "telegram:3", b.at(3, 13, 0), "3h")
	rows := b.rows(t)
	require.Len(t, rows, 1)
	require.Equal(t, late.Start.Add(-2*time.Hour), rows[0].Due)
}

// TestReminderSources: only a chat of a channel that can take a message is
// reminded; the API's and the web chat's bookings are not; a salon with
// reminders off schedules none; other change kinds change nothing.
func TestReminderSources(t *testing.T) {
	t.Parallel()
	b := newRemindBundle(t, time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC))
	b.book(t, "api", b.at(3, 10, 0), "api")
	b.book(t, "web:session", b.at(3, 12, 0), "web")
	b.book(t, "viber:1", b.at(3, 14, 0), "viber")
	require.Empty(t, b.rows(t))
	require.False(t, b.rem.Remindable("api"))
	require.False(t, b.rem.Remindable("web:session"))
	require.False(t, b.rem.Remindable("telegram:"))
	require.True(t, b.rem.Remindable("whatsapp:4915112345678"))

	bk := b.book(t, "telegram:9", b.at(4, 10, 0), "tg")
	require.Len(t, b.rows(t), 2)
	err := b.store.WithTx(ctx, func(tx booking.Tx) error {
		return tx.Changed(ctx, booking.Change{Kind: booking.ChangeKind("coming"), Booking: *bk})
	})
	require.NoError(t, err)
	require.Len(t, b.rows(t), 2, "an unknown kind (\"I'll come\") changes nothing")

	setup := pgtest.Setup(b.salonID) // reminders off
	_, err = b.store.Apply(ctx, setup)
	require.NoError(t, err)
	require.Empty(t, b.rows(t), "off: the reminders scheduled go")
	b.book(t, "telegram:10", b.at(5, 10, 0), "off")
	require.Empty(t, b.rows(t), "off: nothing more")
}

// TestReminderReschedule: a move replaces the reminders: the old start's never
// fire, the new start's do.
func TestReminderReschedule(t *testing.T) {
	t.Parallel()
	b := newRemindBundle(t, time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC))
	bk := b.book(t, "telegram:5", b.at(4, 10, 0), "mv")
	_, err := b.svc.Reschedule(ctx, b.salonID, bk.ID, b.at(4, 15, 0))
	require.NoError(t, err)
	rows := b.rows(t)
	require.Len(t, rows, 2)
	for _, r := range rows {
		require.Equal(t, b.at(4, 15, 0), r.Start)
	}
	for _, step := range []struct {
		at   time.Time
		want int
	}{{b.at(3, 10, 0), 0}, {b.at(3, 15, 0), 1}, {b.at(4, 8, 0), 0}} {
		b.clock.T = step.at
		require.Equal(t, step.want, b.tick(t), "at %v: the old start's reminders are gone, the new one's go", step.at)
	}
	out := b.outbox(t)
	require.Len(t, out, 1)
	require.Contains(t, out[0].Text, "15:00")

	// Sent for 15:00, then moved to 16:00 and back: 15:00's 24h reminder is
	// not sent twice; its 2h one, never sent, is scheduled again.
	b.clock.T = b.at(3, 16, 0)
	_, err = b.svc.Reschedule(ctx, b.salonID, bk.ID, b.at(4, 16, 0))
	require.NoError(t, err)
	_, err = b.svc.Reschedule(ctx, b.salonID, bk.ID, b.at(4, 15, 0))
	require.NoError(t, err)
	b.clock.T = b.at(4, 13, 0)
	require.Equal(t, 1, b.tick(t))
	out = b.outbox(t)
	require.Len(t, out, 2, "the 2h reminder of 15:00, once; 16:00's none")
	require.Contains(t, out[1].Text, "15:00")
}

// TestReminderMovedToAnotherMaster: a reminder already queued names the
// master; a move to another master at the same start gives it up (it was
// due already: not queued again, as after any move), and the next one names
// the new master.
func TestReminderMovedToAnotherMaster(t *testing.T) {
	t.Parallel()
	b := newRemindBundle(t, time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC))
	bk := b.book(t, "telegram:7", b.at(4, 10, 0), "mm")
	b.clock.T = b.at(3, 10, 0)
	require.Equal(t, 1, b.tick(t))
	require.Contains(t, b.outbox(t)[0].Text, "Anna")
	_, err := b.svc.Move(ctx, b.salonID, bk.ID, "boris", b.at(4, 10, 0))
	require.NoError(t, err)
	var failed string
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT coalesce(failed, '') FROM outbox WHERE salon_id = $1 ORDER BY id LIMIT 1`,
		b.salonID).Scan(&failed))
	require.Equal(t, "reminder superseded", failed, "the queued reminder naming Anna is given up")
	require.Zero(t, b.tick(t), "already due when moved: not queued again (as after any move)")
	b.clock.T = b.at(4, 8, 0)
	require.Equal(t, 1, b.tick(t))
	out := b.outbox(t)
	require.Len(t, out, 2)
	require.Contains(t, out[1].Text, "Boris")
}

// TestReminderMovedWhileClaimed: a move that commits while the scheduler holds
// the old start's reminder claimed is seen: the old reminder is never remindMsg,
// and the move neither fails nor deadlocks.
func TestReminderMovedWhileClaimed(t *testing.T) {
	t.Parallel()
	b := newRemindBundle(t, time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC))
	bk := b.book(t, "telegram:6", b.at(4, 10, 0), "race")
	b.clock.T = b.at(3, 10, 0)
	pool := pgtest.Pool(t)
	moved := make(chan error, 1)
	pipeline.SetRemindersClaimed(b.rem, func(ctx context.Context, tx pgx.Tx) {
		go func() {
			_, err := b.svc.Reschedule(context.Background(), b.salonID, bk.ID, b.at(4, 15, 0))
			moved <- err
		}()
		// Until the move has changed the booking and waits for the claimed row.
		require.Eventually(t, func() bool {
			var waiting bool
			require.NoError(t, pool.QueryRow(ctx, `
				SELECT count(*) > 0 FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%DELETE FROM reminders%'`).Scan(&waiting))
			return waiting
		}, 10*time.Second, 5*time.Millisecond)
	})
	require.Zero(t, b.tick(t), "the booking being moved is left for the next look")
	require.NoError(t, <-moved)
	pipeline.SetRemindersClaimed(b.rem, nil)
	require.Zero(t, b.tick(t))
	require.Empty(t, b.outbox(t))
	b.clock.T = b.at(3, 15, 0)
	require.Equal(t, 1, b.tick(t))
	require.Contains(t, b.outbox(t)[0].Text, "15:00")
}

// TestReminderCancelAndHolds: a cancel removes the reminders; a hold schedules
// nothing, whether it expires or is confirmed later (then it does); a replayed
// confirm schedules nothing twice.
func TestReminderCancelAndHolds(t *testing.T) {
	t.Parallel()
	b := newRemindBundle(t, time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC))
	bk := b.book(t, "telegram:8", b.at(4, 10, 0), "cx")
	require.Len(t, b.rows(t), 2)
	_, err := b.svc.Cancel(ctx, b.salonID, bk.ID)
	require.NoError(t, err)
	require.Empty(t, b.rows(t))

	r := b.req("anna", b.at(5, 10, 0), "hold")
	r.Source = "telegram:8"
	held, err := b.svc.Book(ctx, r)
	require.NoError(t, err)
	require.Equal(t, core.StatusHeld, held.Status)
	require.Empty(t, b.rows(t), "a hold schedules nothing")
	b.clock.T = b.clock.T.Add(time.Hour) // the hold expires unconfirmed
	_, err = b.svc.Confirm(ctx, b.salonID, held.ID)
	require.Error(t, err)
	b.clock.T = b.at(5, 9, 0)
	require.Zero(t, b.tick(t))
	require.Empty(t, b.rows(t))

	b.clock.T = time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	r.IdempotencyKey = "hold2"
	held, err = b.svc.Book(ctx, r)
	require.NoError(t, err)
	_, err = b.svc.Confirm(ctx, b.salonID, held.ID)
	require.NoError(t, err)
	_, err = b.svc.Confirm(ctx, b.salonID, held.ID)
	require.NoError(t, err)
	r.IdempotencyKey, r.Confirm, r.Start = "direct", true, b.at(6, 10, 0)
	for range 2 {
		_, err = b.svc.Book(ctx, r)
		require.NoError(t, err)
	}
	require.Len(t, b.rows(t), 4, "two per booking, whatever is replayed")
	// The key, not the replay path, keeps them once: recording a change twice
	// schedules nothing more.
	err = b.store.WithTx(ctx, func(tx booking.Tx) error {
		for range 2 {
			if err := tx.Changed(ctx, booking.Change{Kind: booking.Booked, Booking: *held}); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Len(t, b.rows(t), 4)
	b.clock.T = b.at(6, 8, 30)
	require.Equal(t, 4, b.tick(t))
	out := b.outbox(t)
	require.Len(t, out, 1, "the 5th's have passed with its start; of the 6th's, the later only")
	require.Contains(t, out[0].Text, "Saturday, 6 March at 10:00")
}

// TestRemindersReplicas: four schedulers at once queue each reminder once.
func TestRemindersReplicas(t *testing.T) {
	t.Parallel()
	b := newRemindBundle(t, time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC))
	const bookings = 120
	for i := range bookings {
		day, slot := 3+i/30, i%30
		start := b.at(day, 9, 0).Add(time.Duration(slot/3) * time.Hour)
		r := b.req([]string{"anna", "boris", "chloe"}[slot%3], start, "rep"+string(rune('A'+i/26))+string(rune('a'+i%26)))
		r.Source, r.Confirm = "telegram:"+r.IdempotencyKey, true
		_, err := b.svc.Book(ctx, r)
		require.NoError(t, err)
	}
	require.Len(t, b.rows(t), 2*bookings)
	// Four schedulers look at once, at every hour from the first due time to
	// the last start: each reminder is due at one of these looks.
	schedulers := []*pipeline.Reminders{b.rem, b.scheduler(t, nil), b.scheduler(t, nil), b.scheduler(t, nil)}
	for b.clock.T = b.at(2, 9, 0); b.clock.T.Before(b.at(3+bookings/30, 19, 0)); b.clock.T = b.clock.T.Add(time.Hour) {
		var wg sync.WaitGroup
		for _, s := range schedulers {
			wg.Go(func() {
				for {
					n, _, err := s.Tick(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					if n == 0 {
						return
					}
				}
			})
		}
		wg.Wait()
	}
	out := b.outbox(t)
	seen := map[string]int{}
	for _, q := range out {
		seen[q.Choices[0]]++
	}
	require.Len(t, seen, bookings)
	for id, n := range seen {
		require.Equal(t, 2, n, "%s: its 24h and its 2h reminder, once each", id)
	}
	var refs, distinct int
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT count(outbox_id), count(DISTINCT outbox_id) FROM reminders WHERE salon_id = $1`,
		b.salonID).Scan(&refs, &distinct))
	require.Equal(t, 2*bookings, refs)
	require.Equal(t, 2*bookings, distinct)
	sent := 0
	for _, r := range b.rows(t) {
		if r.Sent {
			sent++
		}
	}
	require.Len(t, out, 2*bookings)
	require.Equal(t, 2*bookings, sent)
}

// TestRemindersCrashMidBatch: a look cut off after its claim (its context
// cancelled, or its connection killed) queues nothing and loses nothing: the
// next look queues each reminder once.
func TestRemindersCrashMidBatch(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"cancel", "kill"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			b := newRemindBundle(t, time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC))
			for i := range 6 {
				b.book(t, "telegram:"+string(rune('a'+i)), b.at(3, 10+i, 0), string(rune('a'+i)))
			}
			b.clock.T = b.at(2, 23, 0)
			pool := pgtest.Pool(t)
			tctx, cancel := context.WithCancel(ctx)
			defer cancel()
			pipeline.SetRemindersClaimed(b.rem, func(ctx context.Context, tx pgx.Tx) {
				if how == "cancel" {
					cancel()
					return
				}
				var pid int
				require.NoError(t, tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
				_, err := pool.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid)
				require.NoError(t, err)
			})
			_, _, err := b.rem.Tick(tctx)
			require.Error(t, err)
			require.True(t, errors.Is(err, context.Canceled) || how == "kill", err)
			require.Empty(t, b.outbox(t))
			for _, r := range b.rows(t) {
				require.False(t, r.Sent)
			}
			pipeline.SetRemindersClaimed(b.rem, nil)
			require.Equal(t, 6, b.tick(t))
			require.Zero(t, b.tick(t))
			require.Len(t, b.outbox(t), 6)
		})
	}
}

// TestRemindersRunStops: Run queues what is due and returns once its context
// ends.
func TestRemindersRunStops(t *testing.T) {
	t.Parallel()
	b := newRemindBundle(t, time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC))
	b.book(t, "telegram:11", b.at(3, 10, 0), "run")
	rem := b.scheduler(t, nil)
	b.clock.T = b.at(2, 10, 0)
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { rem.Run(rctx); close(done) }()
	require.Eventually(t, func() bool { return len(b.outbox(t)) == 1 }, 10*time.Second, 10*time.Millisecond)
	cancel()
	<-done
}
