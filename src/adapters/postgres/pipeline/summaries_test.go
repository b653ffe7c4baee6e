package pipeline_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/core"
	"salonbook/src/core/i18n"
	"salonbook/src/core/messaging"
)

// summaryWorld is a salon whose masters Anna (chat 111) and Boris (chat 222)
// have staff chats and Chloe has none; Anna also works a night shift
// (20:00-02:00) besides 09:00-19:00.
type summaryWorld struct {
	*bundle
	pool *pgxpool.Pool
}

func newSummaryWorld(t *testing.T, summary string, locales ...string) *summaryWorld {
	t.Helper()
	w := &summaryWorld{bundle: newBundle(t), pool: pgtest.Pool(t)}
	w.apply(t, summary, locales...)
	return w
}

// apply applies the test salon with policy.staff_summary summary ("" is off).
func (w *summaryWorld) apply(t *testing.T, summary string, locales ...string) {
	t.Helper()
	setup := pgtest.Setup(w.salonID)
	setup.StaffChats = map[string]int64{"anna": 111, "boris": 222}
	if len(locales) > 0 {
		setup.Salon.Locales = locales
	}
	if summary != "" {
		at, err := core.ParseClock(summary)
		require.NoError(t, err)
		setup.Salon.Policy.StaffSummary = &at
	}
	for wd := range setup.Masters[0].Hours {
		setup.Masters[0].Hours[wd] = []core.ClockRange{{Start: 9 * 60, End: 19 * 60}, {Start: 20 * 60, End: 2 * 60}}
	}
	_, err := w.store.Apply(ctx, setup)
	require.NoError(t, err)
}

// summaries returns the summaries' loop of w on clock.
func (w *summaryWorld) summaries(t *testing.T, clock core.Timer) *pipeline.StaffSummaries {
	catalog, err := i18n.Load()
	require.NoError(t, err)
	salon := func(ctx context.Context) (*core.Salon, error) {
		c, err := w.svc.Catalog(ctx, w.salonID)
		if err != nil {
			return nil, err
		}
		return c.Salon, nil
	}
	return pipeline.NewStaffSummaries(w.pool, w.salonID, "telegram", salon, catalog, clock, slog.New(slog.DiscardHandler))
}

// book makes a confirmed booking of master at the Berlin wall-clock time on
// day for a client of that name, booked three days ahead; it returns its id.
func (w *summaryWorld) book(t *testing.T, master, service string, day core.Date, hour, minute int, client string) string {
	t.Helper()
	start := time.Date(day.Year, day.Month, day.Day, hour, minute, 0, 0, w.zone).UTC()
	w.clock.T = start.Add(-72 * time.Hour)
	r := w.req(master, start, client+day.String())
	r.ServiceID, r.Client.Name, r.Confirm = service, client, true
	b, err := w.svc.Book(ctx, r)
	require.NoError(t, err)
	return b.ID
}

// outbox lists what is queued for the salon, as "chat: text".
func (w *summaryWorld) outbox(t *testing.T) []string {
	t.Helper()
	rows, err := w.pool.Query(ctx, `SELECT chat_id, body FROM outbox WHERE salon_id = $1 ORDER BY id`, w.salonID)
	require.NoError(t, err)
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var chat string
		var body []byte
		require.NoError(t, rows.Scan(&chat, &body))
		var o messaging.Outgoing
		require.NoError(t, json.Unmarshal(body, &o))
		out = append(out, chat+": "+o.Reply.Text)
	}
	require.NoError(t, rows.Err())
	return out
}

func (w *summaryWorld) outcomes(t *testing.T) map[string]string {
	t.Helper()
	rows, err := w.pool.Query(ctx, `SELECT master_id || ' ' || day, outcome FROM staff_summaries WHERE salon_id = $1`, w.salonID)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		require.NoError(t, rows.Scan(&k, &v))
		out[k] = v
	}
	require.NoError(t, rows.Err())
	return out
}

// TestStaffSummarySentOnceAtItsTime: at 08:00 Berlin, and not a second
// before, Anna's chat gets her day once, on an ordinary Monday and on both DST
// days of 2027 (08:00 local is 06:00 UTC on 28 March, 07:00 UTC on 31 October);
// the day is the local date a booking starts on (00:30 after the previous
// evening's shift is in, the evening's 23:00 and the next night's 00:30 are
// not); Boris has nothing that day, Chloe has no staff chat: neither gets one.
func TestStaffSummarySentOnceAtItsTime(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		day  core.Date
		due  time.Time
		want string
	}{
		{core.Date{Year: 2027, Month: 3, Day: 1}, time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC), "Monday, 1 March"},
		{core.Date{Year: 2027, Month: 3, Day: 28}, time.Date(2027, 3, 28, 6, 0, 0, 0, time.UTC), "Sunday, 28 March"},
		{core.Date{Year: 2027, Month: 10, Day: 31}, time.Date(2027, 10, 31, 7, 0, 0, 0, time.UTC), "Sunday, 31 October"},
	} {
		t.Run(c.day.String(), func(t *testing.T) {
			t.Parallel()
			w := newSummaryWorld(t, "08:00")
			w.book(t, "anna", "haircut", c.day.AddDays(-1), 23, 0, "Eve Before")
			w.book(t, "anna", "haircut", c.day, 0, 30, "Night Owl")
			coming := w.book(t, "anna", "haircut", c.day, 10, 0, "Olga Petrova")
			w.book(t, "anna", "manicure", c.day, 12, 0, "Ivan")
			w.book(t, "anna", "haircut", c.day.AddDays(1), 0, 30, "Next Night")
			w.book(t, "chloe", "haircut", c.day, 10, 0, "Chloe's Client")
			_, err := w.pool.Exec(ctx, `UPDATE bookings SET coming_at = $2 WHERE booking_id = $1`, coming, c.due.Add(-time.Hour))
			require.NoError(t, err)
			held := w.req("anna", time.Date(c.day.Year, c.day.Month, c.day.Day, 15, 0, 0, 0, w.zone), "held")
			w.clock.T = c.due.Add(-48 * time.Hour)
			_, err = w.svc.Book(ctx, held)
			require.NoError(t, err, "a hold is no booking: not listed")

			sum := w.summaries(t, w.clock)
			w.clock.T = c.due.Add(-time.Second)
			next, err := sum.Tick(ctx)
			require.NoError(t, err)
			require.Equal(t, c.due, next, "it wakes at the due instant")
			require.Empty(t, w.outbox(t), "not a second before 08:00")

			for _, at := range []time.Duration{0, time.Second, time.Minute, 2 * time.Hour} {
				w.clock.T = c.due.Add(at)
				next, err = sum.Tick(ctx)
				require.NoError(t, err)
				require.Equal(t, w.clock.T.Add(pipeline.SummaryPoll), next)
			}
			require.Equal(t, []string{"111: Anna, your day on " + c.want + ": 3 bookings.\n" +
				"00:30 Haircut, Night\n" +
				"10:00 Haircut, Olga ✓ confirmed\n" +
				"12:00 Manicure, Ivan"}, w.outbox(t))
			require.Equal(t, map[string]string{"anna " + c.day.String(): "sent", "boris " + c.day.String(): "empty"}, w.outcomes(t))

			// A restart (a new loop, nothing in memory) sends nothing again.
			_, err = w.summaries(t, w.clock).Tick(ctx)
			require.NoError(t, err)
			require.Len(t, w.outbox(t), 1)
		})
	}
}

// TestStaffSummaryInRussian: in the salon's first language.
func TestStaffSummaryInRussian(t *testing.T) {
	t.Parallel()
	w := newSummaryWorld(t, "08:00", "ru", "en")
	day := core.Date{Year: 2027, Month: 3, Day: 1}
	coming := w.book(t, "anna", "haircut", day, 10, 0, "Olga Petrova")
	w.book(t, "anna", "manicure", day, 12, 0, "Ivan")
	_, err := w.pool.Exec(ctx, `UPDATE bookings SET coming_at = now() WHERE booking_id = $1`, coming)
	require.NoError(t, err)
	_, err = w.pool.Exec(ctx, `UPDATE masters SET names = '{"en": "Anna", "ru": "Анна"}' WHERE salon_id = $1 AND master_id = 'anna'`, w.salonID)
	require.NoError(t, err)
	w.clock.T = time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)
	_, err = w.summaries(t, w.clock).Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"111: Анна, на понедельник, 1 марта, у вас 2 записи.\n" +
		"10:00 Стрижка, Olga ✓ придёт\n" +
		"12:00 Manicure, Ivan"}, w.outbox(t))
}

// TestStaffSummaryOff: with policy.staff_summary off nothing is queued, at the
// old time or later; turned on again (a salon file applied while serving),
// it is at the next tick.
func TestStaffSummaryOff(t *testing.T) {
	t.Parallel()
	w := newSummaryWorld(t, "")
	day := core.Date{Year: 2027, Month: 3, Day: 1}
	w.book(t, "anna", "haircut", day, 10, 0, "Olga")
	sum := w.summaries(t, w.clock)
	for _, at := range []time.Time{time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC), time.Date(2027, 3, 1, 8, 0, 0, 0, time.UTC)} {
		w.clock.T = at
		next, err := sum.Tick(ctx)
		require.NoError(t, err)
		require.Equal(t, at.Add(pipeline.SummaryPoll), next)
	}
	require.Empty(t, w.outbox(t))
	require.Empty(t, w.outcomes(t))

	w.apply(t, "08:30")
	_, err := sum.Tick(ctx)
	require.NoError(t, err)
	require.Len(t, w.outbox(t), 1, "09:00 local: 08:30's summary goes, half an hour late, before the 10:00 booking")
}

// TestStaffSummaryTwoLoopsOneMessage: replicas ticking at the same instant
// queue one summary per master between them.
func TestStaffSummaryTwoLoopsOneMessage(t *testing.T) {
	t.Parallel()
	w := newSummaryWorld(t, "08:00")
	day := core.Date{Year: 2027, Month: 3, Day: 1}
	w.book(t, "anna", "haircut", day, 10, 0, "Olga")
	w.book(t, "boris", "haircut", day, 11, 0, "Ivan")
	w.clock.T = time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)
	const loops = 8
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, loops*5)
	for range loops {
		sum := w.summaries(t, w.clock)
		wg.Go(func() {
			<-start
			for range 5 {
				_, err := sum.Tick(ctx)
				errs <- err
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got := w.outbox(t)
	require.Len(t, got, 2, "%q", got)
	require.Contains(t, got[0]+got[1], "111: Anna")
	require.Contains(t, got[0]+got[1], "222: Boris")
}

// TestStaffSummaryLate: the service was down at 08:00. At 09:30 Anna's first
// booking of the working day (10:00) is still ahead: her summary goes, late;
// her 00:30, the end of the night shift before the due time, does not make it
// late. Boris's began at 09:00: his day's is skipped, and stays so. The next
// day, back at 08:16 (past the grace), Anna's night-shift 00:30 again does not
// count: both go.
func TestStaffSummaryLate(t *testing.T) {
	t.Parallel()
	w := newSummaryWorld(t, "08:00")
	day := core.Date{Year: 2027, Month: 3, Day: 1}
	w.book(t, "anna", "haircut", day, 0, 30, "Night")
	w.book(t, "anna", "haircut", day, 10, 0, "Olga")
	w.book(t, "boris", "haircut", day, 9, 0, "Ivan")
	next := day.AddDays(1)
	w.book(t, "anna", "haircut", next, 0, 30, "Owl")
	w.book(t, "anna", "haircut", next, 10, 0, "Olga")
	w.book(t, "anna", "manicure", next, 12, 0, "Ivan")
	w.book(t, "boris", "haircut", next, 9, 0, "Petr")
	sum := w.summaries(t, w.clock)
	w.clock.T = time.Date(2027, 3, 1, 8, 30, 0, 0, time.UTC) // 09:30 Berlin
	_, err := sum.Tick(ctx)
	require.NoError(t, err)
	w.clock.T = time.Date(2027, 3, 1, 8, 50, 0, 0, time.UTC)
	_, err = sum.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"111: Anna, your day on Monday, 1 March: 2 bookings.\n00:30 Haircut, Night\n10:00 Haircut, Olga"}, w.outbox(t))
	require.Equal(t, map[string]string{"anna 2027-03-01": "sent", "boris 2027-03-01": "late"}, w.outcomes(t))

	w.clock.T = time.Date(2027, 3, 2, 7, 16, 0, 0, time.UTC) // 08:16 Berlin
	_, err = sum.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{
		"111: Anna, your day on Monday, 1 March: 2 bookings.\n00:30 Haircut, Night\n10:00 Haircut, Olga",
		"111: Anna, your day on Tuesday, 2 March: 3 bookings.\n00:30 Haircut, Owl\n10:00 Haircut, Olga\n12:00 Manicure, Ivan",
		"222: Boris, your day on Tuesday, 2 March: 1 booking.\n09:00 Haircut, Petr",
	}, w.outbox(t))
}

// TestStaffSummaryEmptyDay: a master with nothing booked gets no summary, and
// a booking made later that day does not bring one (its staff notice tells).
func TestStaffSummaryEmptyDay(t *testing.T) {
	t.Parallel()
	w := newSummaryWorld(t, "08:00")
	sum := w.summaries(t, w.clock)
	w.clock.T = time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)
	_, err := sum.Tick(ctx)
	require.NoError(t, err)
	require.Empty(t, w.outbox(t))
	r := w.req("anna", time.Date(2027, 3, 1, 15, 0, 0, 0, w.zone), "later")
	r.Confirm = true
	_, err = w.svc.Book(ctx, r)
	require.NoError(t, err)
	_, err = sum.Tick(ctx)
	require.NoError(t, err)
	require.Empty(t, w.outbox(t))
	require.Equal(t, map[string]string{"anna 2027-03-01": "empty", "boris 2027-03-01": "empty"}, w.outcomes(t))
}

// TestStaffSummaryToABlockedChat: a chat that blocked the bot gets its summary
// stored given up, never sent.
func TestStaffSummaryToABlockedChat(t *testing.T) {
	t.Parallel()
	w := newSummaryWorld(t, "08:00")
	w.book(t, "anna", "haircut", core.Date{Year: 2027, Month: 3, Day: 1}, 10, 0, "Olga")
	out := pipeline.NewOutbox(w.pool, w.salonID)
	require.NoError(t, out.Block(ctx, messaging.Queued{Channel: "telegram", Outgoing: messaging.Outgoing{ChatID: "111"}}))
	w.clock.T = time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)
	_, err := w.summaries(t, w.clock).Tick(ctx)
	require.NoError(t, err)
	due, err := out.Due(ctx, "telegram", 10, 10)
	require.NoError(t, err)
	require.Empty(t, due)
	require.Equal(t, "blocked", w.outcomes(t)["anna 2027-03-01"])
}

// stepTimer is a clock whose waits the test ends: After reports the wait asked
// for on waits and returns a channel the test fires.
type stepTimer struct {
	mu    sync.Mutex
	now   time.Time
	waits chan time.Duration
	fire  chan time.Time
}

func (s *stepTimer) Now() time.Time { s.mu.Lock(); defer s.mu.Unlock(); return s.now }

func (s *stepTimer) set(t time.Time) { s.mu.Lock(); defer s.mu.Unlock(); s.now = t }

func (s *stepTimer) After(d time.Duration) <-chan time.Time { s.waits <- d; return s.fire }

// TestStaffSummaryRun: the loop sleeps until the due instant (at most a
// minute), queues the summary when it wakes, and returns when its context ends.
func TestStaffSummaryRun(t *testing.T) {
	t.Parallel()
	w := newSummaryWorld(t, "08:00")
	w.book(t, "anna", "haircut", core.Date{Year: 2027, Month: 3, Day: 1}, 10, 0, "Olga")
	due := time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)
	clock := &stepTimer{now: due.Add(-20 * time.Second), waits: make(chan time.Duration), fire: make(chan time.Time)}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.summaries(t, clock).Run(rctx); close(done) }()
	require.Equal(t, 20*time.Second, <-clock.waits)
	require.Empty(t, w.outbox(t))
	clock.set(due)
	clock.fire <- due
	require.Equal(t, pipeline.SummaryPoll, <-clock.waits, "tomorrow's is a day away: it looks again in a minute")
	require.Len(t, w.outbox(t), 1)
	cancel()
	<-done
}
