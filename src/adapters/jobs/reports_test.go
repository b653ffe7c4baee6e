package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/jobs"
	"salonbook/src/adapters/meta"
	"salonbook/src/adapters/meta/metatest"
	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/adreport"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

// adBundle is a salon whose confirmed bookings are reported to a fake
// Conversions API through real river jobs, wired as serve wires them.
type adBundle struct {
	pool    *pgxpool.Pool
	salonID string
	store   *postgres.Store
	svc     *booking.Service
	ads     *postgres.AdReports
	fake    *metatest.Server
	clock   *core.FixedClock
	runner  *jobs.Reports
	log     *syncBuf
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const waba = "102290129340398"

// capiToken is shaped as Meta's access tokens are ("EA…"), so that a test
// can see it leak.
const capiToken = "EAAGm0PX4ZCpsBAKq7vZBZCZAxZBZCZA9ZAZBk1x3yQ"

func adSetup(t *testing.T, consent bool) *adBundle {
	t.Helper()
	pool := pgtest.Pool(t)
	clock := &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}
	b := &adBundle{pool: pool, salonID: "m" + pgtest.RandomID(), store: postgres.NewStore(pool), ads: postgres.NewAdReports(pool), clock: clock,
		fake: metatest.New(metatest.Options{Version: "v24.0", Token: capiToken, Now: clock.Now}), log: &syncBuf{}}
	t.Cleanup(b.fake.Close)
	s := pgtest.Setup(b.salonID)
	s.Salon.Policy.AdsPhoneConsent = consent
	_, err := b.store.Apply(context.Background(), s)
	require.NoError(t, err)
	b.svc = booking.New(b.store, clock)
	client, err := meta.New(meta.Options{URL: b.fake.URL(), Version: "v24.0", DatasetID: b.fake.Options().DatasetID,
		Token: b.fake.Options().Token, WhatsAppBusinessAccountID: waba, HTTPClient: b.fake.Client(), BaseDelay: time.Millisecond})
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(b.log, nil))
	rep := &adreport.Reporter{Store: b.ads, API: client, Clock: clock, Log: log}
	b.runner, err = jobs.NewReports(pool, jobs.ReportsConfig{Reporter: rep, SalonID: b.salonID, Log: log, Poll: 20 * time.Millisecond, Queue: "ads" + b.salonID})
	require.NoError(t, err)
	b.store.FollowChanges(func(ctx context.Context, tx pgx.Tx, c booking.Change) error {
		ids, err := b.ads.Record(ctx, tx, c, clock.Now())
		if err != nil {
			return err
		}
		return b.runner.Insert(ctx, tx, c.Booking.SalonID, ids)
	})
	return b
}

func (b *adBundle) start(t *testing.T) {
	t.Helper()
	require.NoError(t, b.runner.Start(context.Background()))
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = b.runner.Stop(stop)
	})
}

// book books a haircut for a chat ("<channel>:<chat>") at day d, hour h as
// the chat does: a hold, then its confirmation.
func (b *adBundle) book(t *testing.T, source string, d, h int) *core.Booking {
	t.Helper()
	ctx := context.Background()
	held, err := b.svc.Book(ctx, booking.BookRequest{SalonID: b.salonID, ServiceID: "haircut", MasterID: "anna",
		Start: berlin(d, h, 0), Client: core.Client{Name: "Maria", Phone: "+49 151 30001" + strconv.Itoa(d*100+h)},
		IdempotencyKey: source + strconv.Itoa(d*100+h), Source: source})
	require.NoError(t, err)
	bk, err := b.svc.Confirm(ctx, b.salonID, held.ID)
	require.NoError(t, err)
	return bk
}

func (b *adBundle) state(t *testing.T, eventID string) string {
	t.Helper()
	var s string
	err := b.pool.QueryRow(context.Background(), `SELECT state FROM meta_events WHERE event_id = $1`, eventID).Scan(&s)
	if err == pgx.ErrNoRows {
		return ""
	}
	require.NoError(t, err)
	return s
}

func (b *adBundle) waitState(t *testing.T, eventID, want string) {
	t.Helper()
	require.Eventually(t, func() bool { return b.state(t, eventID) == want }, 20*time.Second, 20*time.Millisecond,
		"event %s never %s (is %q); log:\n%s", eventID, want, b.state(t, eventID), b.log.String())
}

// A Telegram chat that came from an ad click (GET /go/telegram?fbclid=…, then
// /start <code>) books: one Schedule goes to Meta with action_source other
// (business_messaging would be refused without a messaging channel Telegram
// is not), the click's fbc, the client's hashed id, the price; no phone hash
// without the salon's consent, and nothing raw.
func TestTelegramBookingFromAnAdSendsOneSchedule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := adSetup(t, false)
	b.start(t)
	clicked := b.clock.Now().Add(-time.Hour)
	code, err := b.ads.Click(ctx, b.salonID, "IwAR2xYz_fbclid-1", clicked)
	require.NoError(t, err)
	require.Regexp(t, `^[A-Za-z0-9_-]{1,64}$`, code)
	require.NoError(t, b.ads.Clicked(ctx, dialog.ChatKey{SalonID: b.salonID, Channel: "telegram", ChatID: "700"},
		messaging.AdClick{Code: code}, b.clock.Now()))

	bk := b.book(t, "telegram:700", 3, 10)
	id := adreport.EventID(bk.ID, adreport.Schedule)
	b.waitState(t, id, adreport.StateSent)
	evs := b.fake.Events()
	require.Len(t, evs, 1)
	ev := evs[0]
	require.Equal(t, "Schedule", ev.EventName)
	require.Equal(t, id, ev.EventID)
	require.Equal(t, "other", ev.ActionSource)
	require.Empty(t, ev.MessagingChannel)
	require.Equal(t, b.clock.Now().Unix(), ev.EventTime, "seconds")
	require.Equal(t, "fb.1."+strconv.FormatInt(clicked.UnixMilli(), 10)+".IwAR2xYz_fbclid-1", ev.UserData.FBC)
	require.Equal(t, []string{adreport.Hash(b.salonID + ":" + strconv.FormatInt(bk.ClientID, 10))}, ev.UserData.ExternalID)
	require.Empty(t, ev.UserData.Phone, "no phone hash without the salon's consent")
	require.Empty(t, ev.UserData.CtwaClid)
	require.NotNil(t, ev.CustomData)
	require.InDelta(t, 35.00, *ev.CustomData.Value, 0.001)
	require.Equal(t, "EUR", ev.CustomData.Currency)

	// The code was taken: a second /start with it names no click.
	require.NoError(t, b.ads.Clicked(ctx, dialog.ChatKey{SalonID: b.salonID, Channel: "telegram", ChatID: "701"},
		messaging.AdClick{Code: code}, b.clock.Now()))
	bk2 := b.book(t, "telegram:701", 3, 12)
	require.Empty(t, b.state(t, adreport.EventID(bk2.ID, adreport.Schedule)), "organic: nothing recorded")
}

// A WhatsApp chat whose first message came from a click-to-WhatsApp ad (its
// referral's ctwa_clid) books: one Schedule as business_messaging on
// whatsapp, with the click id and the business account; the phone's hash
// with the salon's consent (digits of E.164 only).
func TestWhatsAppBookingFromAReferralSendsOneSchedule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := adSetup(t, true)
	b.start(t)
	const clid = "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ2a"
	require.NoError(t, b.ads.Clicked(ctx, dialog.ChatKey{SalonID: b.salonID, Channel: "whatsapp", ChatID: "4915112345678"},
		messaging.AdClick{ClickID: clid}, b.clock.Now()))
	bk := b.book(t, "whatsapp:4915112345678", 3, 10)
	b.waitState(t, adreport.EventID(bk.ID, adreport.Schedule), adreport.StateSent)
	evs := b.fake.Events()
	require.Len(t, evs, 1)
	ev := evs[0]
	require.Equal(t, "business_messaging", ev.ActionSource)
	require.Equal(t, "whatsapp", ev.MessagingChannel)
	require.Equal(t, clid, ev.UserData.CtwaClid)
	require.Equal(t, waba, ev.UserData.WhatsAppBusinessAccountID)
	require.Empty(t, ev.UserData.FBC)
	require.Equal(t, []string{adreport.Hash("4915130001310")}, ev.UserData.Phone, "the hash of the E.164 digits, with consent")
	require.Empty(t, b.fake.Refused())
}

// A replayed confirm, the change recorded again and a job run again (river
// retrying after the send) send nothing twice: the event's row is unique.
func TestAnEventIsSentAtMostOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := adSetup(t, false)
	b.start(t)
	key := dialog.ChatKey{SalonID: b.salonID, Channel: "whatsapp", ChatID: "4915100000001"}
	require.NoError(t, b.ads.Clicked(ctx, key, messaging.AdClick{ClickID: "clid-1"}, b.clock.Now()))
	bk := b.book(t, "whatsapp:4915100000001", 3, 10)
	id := adreport.EventID(bk.ID, adreport.Schedule)
	b.waitState(t, id, adreport.StateSent)

	_, err := b.svc.Confirm(ctx, b.salonID, bk.ID) // a replayed confirm
	require.NoError(t, err)
	pool := b.pool
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		ids, err := b.ads.Record(ctx, tx, booking.Change{Kind: booking.Booked, Booking: *bk}, b.clock.Now())
		require.Empty(t, ids, "recorded before")
		if err != nil {
			return err
		}
		// The job again, as river would run it after a lost ack.
		return b.runner.Insert(ctx, tx, b.salonID, []string{id})
	})
	require.NoError(t, err)
	var done int
	require.Eventually(t, func() bool {
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'ad_report' AND args->>'event_id' = $1 AND state = 'completed'`, id).Scan(&done))
		return done == 2
	}, 20*time.Second, 20*time.Millisecond)
	require.Len(t, b.fake.Events(), 1, "sent once")
	require.Equal(t, 1, b.fake.Requests())
}

// A 5xx is retried (within the job, then by river with backoff); a 400 is
// logged and not retried.
func TestServerErrorsAreRetriedRefusalsAreNot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := adSetup(t, false)
	b.start(t)
	key := dialog.ChatKey{SalonID: b.salonID, Channel: "whatsapp", ChatID: "4915100000002"}
	require.NoError(t, b.ads.Clicked(ctx, key, messaging.AdClick{ClickID: "clid-2"}, b.clock.Now()))

	// Three tries in the job fail (503, 429, 500): river runs it again later.
	b.fake.FailNext(503, 429, 500)
	bk := b.book(t, "whatsapp:4915100000002", 3, 10)
	id := adreport.EventID(bk.ID, adreport.Schedule)
	b.waitState(t, id, adreport.StateSent)
	require.Len(t, b.fake.Events(), 1)
	require.Equal(t, 4, b.fake.Requests(), "three failed tries, then the job's retry")
	var attempt int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT attempt FROM river_job WHERE args->>'event_id' = $1`, id).Scan(&attempt))
	require.Equal(t, 2, attempt)

	// Meta refuses the next one (a validation error): marked, logged, done.
	b.fake.FailNext(400)
	bk2 := b.book(t, "whatsapp:4915100000002", 4, 10)
	id2 := adreport.EventID(bk2.ID, adreport.Schedule)
	b.waitState(t, id2, adreport.StateRefused)
	require.Contains(t, b.log.String(), "ad event refused; not retried")
	require.Contains(t, b.log.String(), "code 100")
	var state string
	require.Eventually(t, func() bool {
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT state::text, attempt FROM river_job WHERE args->>'event_id' = $1`, id2).Scan(&state, &attempt))
		return state != "running"
	}, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, "completed", state, "not retried")
	require.Equal(t, 1, attempt)
	require.Equal(t, 5, b.fake.Requests())
	require.NotContains(t, b.log.String(), b.fake.Options().Token)
}

// Nothing is sent for a chat that came from no ad (organic), nor for a
// client who asked to delete their data: the erase drops the events still
// pending, and forgets the chat's click.
func TestNothingForOrganicChatsOrErasedClients(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := adSetup(t, false)
	organic := b.book(t, "whatsapp:4915100000003", 3, 10)
	require.Empty(t, b.state(t, adreport.EventID(organic.ID, adreport.Schedule)))

	key := dialog.ChatKey{SalonID: b.salonID, Channel: "telegram", ChatID: "703"}
	code, err := b.ads.Click(ctx, b.salonID, "fbclid-3", b.clock.Now())
	require.NoError(t, err)
	require.NoError(t, b.ads.Clicked(ctx, key, messaging.AdClick{Code: code}, b.clock.Now()))
	bk := b.book(t, "telegram:703", 3, 12)
	id := adreport.EventID(bk.ID, adreport.Schedule)
	require.Equal(t, adreport.StatePending, b.state(t, id), "recorded; the runner is not started yet")

	// After the visit the client erases their data, before the job ran.
	b.clock.T = berlin(3, 14, 0)
	done, err := postgres.NewPrivacy(b.pool).Erase(ctx, key, bk.ClientID, b.clock.Now())
	require.NoError(t, err)
	require.Equal(t, 1, done.Clients)
	require.Equal(t, adreport.StateDropped, b.state(t, id))
	var chats int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM meta_chats WHERE salon_id = $1`, b.salonID).Scan(&chats))
	require.Zero(t, chats, "the chat's click is gone")

	b.start(t)
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE args->>'event_id' = $1 AND state = 'completed'`, id).Scan(&n))
		return n == 1
	}, 20*time.Second, 20*time.Millisecond)
	require.Zero(t, b.fake.Requests(), "nothing reached Meta")
}

// A booking confirmed by its paid deposit records a Purchase with the
// deposit's value besides its Schedule.
func TestPaidDepositRecordsAPurchase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := adSetup(t, false)
	b.start(t)
	key := dialog.ChatKey{SalonID: b.salonID, Channel: "whatsapp", ChatID: "4915100000004"}
	require.NoError(t, b.ads.Clicked(ctx, key, messaging.AdClick{ClickID: "clid-4"}, b.clock.Now()))
	bk := b.book(t, "whatsapp:4915100000004", 5, 10)
	paid := *bk
	paid.ID = bk.ID
	paid.DepositState, paid.Deposit = core.DepositPaid, core.Money{Minor: 1000, Currency: "EUR"}
	var ids []string
	require.NoError(t, pgx.BeginFunc(ctx, b.pool, func(tx pgx.Tx) error {
		var err error
		ids, err = b.ads.Record(ctx, tx, booking.Change{Kind: booking.Booked, Booking: paid}, b.clock.Now())
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE bookings SET deposit_minor = 1000, deposit_state = 'paid' WHERE booking_id = $1`, bk.ID)
		if err != nil {
			return err
		}
		return b.runner.Insert(ctx, tx, b.salonID, ids)
	}))
	require.Equal(t, []string{adreport.EventID(bk.ID, adreport.Purchase)}, ids, "the Schedule was recorded with the booking")
	b.waitState(t, ids[0], adreport.StateSent)
	var purchase *metatest.Received
	for _, e := range b.fake.Events() {
		if e.EventName == "Purchase" {
			purchase = &e
		}
	}
	require.NotNil(t, purchase)
	require.InDelta(t, 10.00, *purchase.CustomData.Value, 0.001)
	require.Equal(t, "EUR", purchase.CustomData.Currency)
}

// Each salon's events go on the salon's own queue, and a salon's process
// sends only its own salon's events: a job of another salon that reaches it
// (a queue shared by mistake, as every salon's once was) is cancelled unsent,
// and the store does not read another salon's event.
func TestASalonSendsOnlyItsOwnEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	a, b := adSetup(t, false), adSetup(t, false)
	require.Equal(t, "ads-"+b.salonID, jobs.AdsQueue(b.salonID))
	require.Regexp(t, `^ads-h[0-9a-f]{20}$`, jobs.AdsQueue("a--b"), "a salon id river takes no queue name from")
	require.NotEqual(t, jobs.AdsQueue("x"), jobs.AdsQueue("y"))

	// Salon a's runner on salon b's queue.
	log := slog.New(slog.NewTextHandler(a.log, nil))
	client, err := meta.New(meta.Options{URL: a.fake.URL(), Version: "v24.0", DatasetID: a.fake.Options().DatasetID,
		Token: a.fake.Options().Token, HTTPClient: a.fake.Client(), BaseDelay: time.Millisecond})
	require.NoError(t, err)
	wrong, err := jobs.NewReports(a.pool, jobs.ReportsConfig{Reporter: &adreport.Reporter{Store: a.ads, API: client, Clock: a.clock, Log: log},
		SalonID: a.salonID, Log: log, Poll: 20 * time.Millisecond, Queue: "ads" + b.salonID})
	require.NoError(t, err)
	require.NoError(t, wrong.Start(ctx))
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = wrong.Stop(stop)
	})

	key := dialog.ChatKey{SalonID: b.salonID, Channel: "whatsapp", ChatID: "4915100000009"}
	require.NoError(t, b.ads.Clicked(ctx, key, messaging.AdClick{ClickID: "clid-9"}, b.clock.Now()))
	bk := b.book(t, "whatsapp:4915100000009", 3, 10)
	id := adreport.EventID(bk.ID, adreport.Schedule)
	var state string
	require.Eventually(t, func() bool {
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT state::text FROM river_job WHERE args->>'event_id' = $1`, id).Scan(&state))
		return state == "cancelled" || state == "completed"
	}, 20*time.Second, 20*time.Millisecond)
	require.Equal(t, "cancelled", state)
	require.Zero(t, a.fake.Requests(), "nothing sent with salon a's token")
	require.Equal(t, adreport.StatePending, b.state(t, id))

	_, err = a.ads.Facts(ctx, a.salonID, id)
	require.Equal(t, core.ENotFound, core.ErrorCode(err), "salon b's event is not salon a's")
	f, err := b.ads.Facts(ctx, b.salonID, id)
	require.NoError(t, err)
	require.Equal(t, bk.ID, f.BookingID)
}

// A salon's runner adopts its jobs left on the old shared queue, and only its
// own; it then sends them.
func TestReportsAdoptTheSalonsJobsFromTheSharedQueue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := adSetup(t, false)
	key := dialog.ChatKey{SalonID: b.salonID, Channel: "whatsapp", ChatID: "4915100000010"}
	require.NoError(t, b.ads.Clicked(ctx, key, messaging.AdClick{ClickID: "clid-10"}, b.clock.Now()))
	bk := b.book(t, "whatsapp:4915100000010", 3, 10)
	id := adreport.EventID(bk.ID, adreport.Schedule)
	// As the old version queued it, and another salon's job beside it.
	_, err := b.pool.Exec(ctx, `UPDATE river_job SET queue = 'ads' WHERE args->>'event_id' = $1`, id)
	require.NoError(t, err)
	other := "o" + pgtest.RandomID()
	_, err = b.pool.Exec(ctx, `INSERT INTO river_job (kind, queue, args, max_attempts, state) VALUES ('ad_report', 'ads', $1, 12, 'available')`,
		`{"salon_id":"`+other+`","event_id":"x-schedule"}`)
	require.NoError(t, err)
	n, err := b.runner.Adopt(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	var left int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE queue = 'ads' AND args->>'salon_id' = $1`, other).Scan(&left))
	require.Equal(t, 1, left, "another salon's job stays")
	_, err = b.pool.Exec(ctx, `DELETE FROM river_job WHERE queue = 'ads' AND args->>'salon_id' = $1`, other)
	require.NoError(t, err)
	b.start(t)
	b.waitState(t, id, adreport.StateSent)
}

// Graph's throttling (HTTP 400, code 80004 or 17) and a revoked token lose no
// event: the job tries again later and the event goes; the token's problem is
// logged as an error naming the setting.
func TestThrottlesAndTokenErrorsAreRetried(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := adSetup(t, false)
	b.start(t)
	key := dialog.ChatKey{SalonID: b.salonID, Channel: "whatsapp", ChatID: "4915100000011"}
	require.NoError(t, b.ads.Clicked(ctx, key, messaging.AdClick{ClickID: "clid-11"}, b.clock.Now()))
	b.fake.FailNext(metatest.Throttled, metatest.TokenRevoked)
	bk := b.book(t, "whatsapp:4915100000011", 3, 10)
	id := adreport.EventID(bk.ID, adreport.Schedule)
	b.waitState(t, id, adreport.StateSent)
	require.Len(t, b.fake.Events(), 1)
	require.Equal(t, 3, b.fake.Requests(), "one request per attempt")
	require.Contains(t, b.log.String(), "level=ERROR")
	require.Contains(t, b.log.String(), "META_CAPI_TOKEN")
	require.NotContains(t, b.log.String(), "ad event refused")
}

// Graph's code 190 quoting the token: neither the log nor the job's errors
// (river_job.errors) hold it.
func TestAQuotedTokenIsNotLogged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := adSetup(t, false)
	key := dialog.ChatKey{SalonID: b.salonID, Channel: "whatsapp", ChatID: "4915100000017"}
	require.NoError(t, b.ads.Clicked(ctx, key, messaging.AdClick{ClickID: "clid-17"}, b.clock.Now()))
	b.fake.FailNext(metatest.TokenQuoted)
	bk := b.book(t, "whatsapp:4915100000017", 3, 10)
	id := adreport.EventID(bk.ID, adreport.Schedule)
	b.start(t)
	var errs string
	require.Eventually(t, func() bool {
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT coalesce(errors::text, '') FROM river_job WHERE args->>'event_id' = $1`, id).Scan(&errs))
		return errs != ""
	}, 20*time.Second, 20*time.Millisecond)
	require.Contains(t, errs, "Malformed access token [token]")
	require.Contains(t, b.log.String(), "Malformed access token [token]")
	require.NotContains(t, errs, capiToken)
	require.NotContains(t, b.log.String(), capiToken)
}

// gateAPI holds every send until released, and counts them.
type gateAPI struct {
	mu      sync.Mutex
	sends   int
	in      chan struct{}
	release chan struct{}
	err     error // what each send returns
}

func (g *gateAPI) Send(ctx context.Context, ev adreport.Event) error {
	g.mu.Lock()
	g.sends++
	g.mu.Unlock()
	g.in <- struct{}{}
	<-g.release
	return g.err
}

func (g *gateAPI) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sends
}

// onePool is a pool of one connection and its backend's pid: a test can ask
// whether that very session waits for a lock (other tests share the database).
func onePool(t *testing.T, pool *pgxpool.Pool) (*pgxpool.Pool, int32) {
	t.Helper()
	cfg := pool.Config()
	cfg.MaxConns, cfg.MinConns = 1, 0
	one, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(one.Close)
	var pid int32
	require.NoError(t, one.QueryRow(context.Background(), `SELECT pg_backend_pid()`).Scan(&pid))
	return one, pid
}

// blocked reports whether the session pid waits for another's lock.
func blocked(t *testing.T, pool *pgxpool.Pool, pid int32) bool {
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT cardinality(pg_blocking_pids($1))`, pid).Scan(&n))
	return n > 0
}

// The event is locked from its read to its mark: a second run of its job
// while the first is sending waits and then sends nothing. A client's erase
// meanwhile does not wait for the send (its step has a time limit): it skips
// the event being sent (it has left) and drops the others; nothing of the
// client's is sent after it commits.
func TestConcurrentRunsAndAnEraseSendOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := adSetup(t, false)
	key := dialog.ChatKey{SalonID: b.salonID, Channel: "whatsapp", ChatID: "4915100000012"}
	require.NoError(t, b.ads.Clicked(ctx, key, messaging.AdClick{ClickID: "clid-12"}, b.clock.Now()))
	bk := b.book(t, "whatsapp:4915100000012", 3, 10)
	id := adreport.EventID(bk.ID, adreport.Schedule)
	g := &gateAPI{in: make(chan struct{}, 4), release: make(chan struct{})}
	log := slog.New(slog.NewTextHandler(b.log, nil))
	rep := &adreport.Reporter{Store: b.ads, API: g, Clock: b.clock, Log: log}
	one, pid := onePool(t, b.pool)
	rep2 := &adreport.Reporter{Store: postgres.NewAdReports(one), API: g, Clock: b.clock, Log: log}

	var once sync.Once
	release := func() { once.Do(func() { close(g.release) }) }
	t.Cleanup(release) // before the pool's close, should an assertion fail

	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { errs[0] = rep.Report(ctx, b.salonID, id) })
	<-g.in // the first run is sending
	wg.Go(func() { errs[1] = rep2.Report(ctx, b.salonID, id) })
	require.Eventually(t, func() bool { return blocked(t, b.pool, pid) || g.count() > 1 }, 10*time.Second, 5*time.Millisecond)
	require.Equal(t, 1, g.count(), "the second run waits")
	release()
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.Equal(t, 1, g.count(), "sent once")
	require.Equal(t, adreport.StateSent, b.state(t, id))

	// Another booking's event is sending when the client erases their data;
	// a third one waits for its job.
	bk2 := b.book(t, "whatsapp:4915100000012", 3, 12)
	id2 := adreport.EventID(bk2.ID, adreport.Schedule)
	bk3 := b.book(t, "whatsapp:4915100000012", 3, 14)
	id3 := adreport.EventID(bk3.ID, adreport.Schedule)
	b.clock.T = berlin(3, 16, 0) // after the visits: an erase takes no live booking
	g.release = make(chan struct{})
	once = sync.Once{}
	var sendErr, erased error
	wg.Go(func() { sendErr = rep.Report(ctx, b.salonID, id2) })
	<-g.in
	erasing := make(chan struct{})
	go func() {
		defer close(erasing)
		_, erased = postgres.NewPrivacy(b.pool).Erase(ctx, key, bk2.ClientID, b.clock.Now())
	}()
	select {
	case <-erasing: // while the send is still held
	case <-time.After(20 * time.Second):
		t.Fatal("the erase waits for the event being sent")
	}
	require.NoError(t, erased)
	require.Equal(t, adreport.StateDropped, b.state(t, id3), "the events not being sent are dropped")
	release()
	wg.Wait()
	require.NoError(t, sendErr)
	require.Equal(t, adreport.StateSent, b.state(t, id2), "the event in flight had left")
	require.NoError(t, rep.Report(ctx, b.salonID, id3))
	require.Equal(t, 2, g.count(), "nothing sent after the erase")

	// An event whose send fails while the client erases is retried, read
	// erased, and dropped unsent.
	key4 := dialog.ChatKey{SalonID: b.salonID, Channel: "whatsapp", ChatID: "4915100000022"}
	require.NoError(t, b.ads.Clicked(ctx, key4, messaging.AdClick{ClickID: "clid-22"}, b.clock.Now()))
	bk4 := b.book(t, "whatsapp:4915100000022", 5, 10)
	id4 := adreport.EventID(bk4.ID, adreport.Schedule)
	b.clock.T = berlin(5, 12, 0)
	fail := &gateAPI{in: make(chan struct{}, 4), release: make(chan struct{}), err: errors.New("HTTP 500")}
	frep := &adreport.Reporter{Store: b.ads, API: fail, Clock: b.clock, Log: log}
	t.Cleanup(func() {
		select {
		case <-fail.release:
		default:
			close(fail.release)
		}
	})
	wg.Go(func() { sendErr = frep.Report(ctx, b.salonID, id4) })
	<-fail.in
	_, erased = postgres.NewPrivacy(b.pool).Erase(ctx, key4, bk4.ClientID, b.clock.Now())
	require.NoError(t, erased)
	close(fail.release)
	wg.Wait()
	require.Error(t, sendErr)
	require.Equal(t, adreport.StatePending, b.state(t, id4))
	require.NoError(t, rep.Report(ctx, b.salonID, id4))
	require.Equal(t, adreport.StateDropped, b.state(t, id4), "the retry reads the client erased")
	require.Equal(t, 2, g.count(), "nothing sent after the erase")
}

// An event whose job's last try fails is dropped, not left pending forever.
func TestAnEventIsDroppedAfterTheLastTry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := adSetup(t, false)
	key := dialog.ChatKey{SalonID: b.salonID, Channel: "whatsapp", ChatID: "4915100000013"}
	require.NoError(t, b.ads.Clicked(ctx, key, messaging.AdClick{ClickID: "clid-13"}, b.clock.Now()))
	bk := b.book(t, "whatsapp:4915100000013", 3, 10)
	id := adreport.EventID(bk.ID, adreport.Schedule)
	// Its job, as river would have it on its last attempt.
	_, err := b.pool.Exec(ctx, `UPDATE river_job SET max_attempts = 1 WHERE args->>'event_id' = $1`, id)
	require.NoError(t, err)
	b.fake.FailNext(500, 500, 500)
	b.start(t)
	b.waitState(t, id, adreport.StateDropped)
	require.Empty(t, b.fake.Events())
	require.Contains(t, b.log.String(), "its last try failed")
}

// A token error outlasting the job's attempts drops nothing: the job waits
// (snoozed, no attempt counted) and the event is sent once the token works,
// or dropped when older than Meta takes.
func TestATokenErrorOutlastsTheRetries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := adSetup(t, false)
	key := dialog.ChatKey{SalonID: b.salonID, Channel: "whatsapp", ChatID: "4915100000019"}
	require.NoError(t, b.ads.Clicked(ctx, key, messaging.AdClick{ClickID: "clid-19"}, b.clock.Now()))
	bk := b.book(t, "whatsapp:4915100000019", 3, 10)
	bk2 := b.book(t, "whatsapp:4915100000019", 3, 12)
	client, err := meta.New(meta.Options{URL: b.fake.URL(), Version: "v24.0", DatasetID: b.fake.Options().DatasetID,
		Token: b.fake.Options().Token, WhatsAppBusinessAccountID: waba, HTTPClient: b.fake.Client(), Tries: 1})
	require.NoError(t, err)
	rep := &adreport.Reporter{Store: b.ads, API: client, Clock: b.clock, Log: slog.New(slog.NewTextHandler(b.log, nil))}
	last := func(id string) *river.Job[jobs.ReportArgs] {
		return &river.Job[jobs.ReportArgs]{JobRow: &rivertype.JobRow{Attempt: 12, MaxAttempts: 12},
			Args: jobs.ReportArgs{SalonID: b.salonID, EventID: id}}
	}
	id, id2 := adreport.EventID(bk.ID, adreport.Schedule), adreport.EventID(bk2.ID, adreport.Schedule)
	for _, e := range []string{id, id2} {
		b.fake.FailNext(metatest.TokenRevoked)
		err = jobs.WorkReport(ctx, rep, b.salonID, last(e))
		_, snoozed := errors.AsType[*river.JobSnoozeError](err)
		require.True(t, snoozed, "the last attempt waits: %v", err)
		require.Equal(t, adreport.StatePending, b.state(t, e))
	}
	require.NotContains(t, b.log.String(), "its last try failed")

	// The token is fixed: the event goes.
	b.clock.T = b.clock.T.Add(2 * 24 * time.Hour)
	require.NoError(t, jobs.WorkReport(ctx, rep, b.salonID, last(id)))
	require.Equal(t, adreport.StateSent, b.state(t, id))
	// Never fixed: dropped once older than Meta takes, unsent.
	b.clock.T = b.clock.T.Add(5 * 24 * time.Hour)
	require.NoError(t, jobs.WorkReport(ctx, rep, b.salonID, last(id2)))
	require.Equal(t, adreport.StateDropped, b.state(t, id2))
	require.Len(t, b.fake.Events(), 1)
}

// timeoutAPI is a send outlasting the job's time: the job's context ends.
type timeoutAPI struct{ end context.CancelFunc }

func (a timeoutAPI) Send(ctx context.Context, _ adreport.Event) error {
	a.end()
	<-ctx.Done()
	return ctx.Err()
}

// A last try that failed because the job's time ran out still drops the
// event: GiveUp does not run on the ended context.
func TestALastTryOutOfTimeDropsTheEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := adSetup(t, false)
	key := dialog.ChatKey{SalonID: b.salonID, Channel: "whatsapp", ChatID: "4915100000018"}
	require.NoError(t, b.ads.Clicked(ctx, key, messaging.AdClick{ClickID: "clid-18"}, b.clock.Now()))
	bk := b.book(t, "whatsapp:4915100000018", 3, 10)
	id := adreport.EventID(bk.ID, adreport.Schedule)
	jctx, end := context.WithCancel(ctx)
	defer end()
	rep := &adreport.Reporter{Store: b.ads, API: timeoutAPI{end}, Clock: b.clock, Log: slog.New(slog.NewTextHandler(b.log, nil))}
	job := &river.Job[jobs.ReportArgs]{JobRow: &rivertype.JobRow{Attempt: 12, MaxAttempts: 12},
		Args: jobs.ReportArgs{SalonID: b.salonID, EventID: id}}
	require.Error(t, jobs.WorkReport(jctx, rep, b.salonID, job))
	require.Equal(t, adreport.StateDropped, b.state(t, id))
}

// An event close to Meta's seven days (within the hour) is dropped, not sent
// to be refused at the edge.
func TestAnEventNearSevenDaysIsDropped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := adSetup(t, false)
	key := dialog.ChatKey{SalonID: b.salonID, Channel: "whatsapp", ChatID: "4915100000014"}
	require.NoError(t, b.ads.Clicked(ctx, key, messaging.AdClick{ClickID: "clid-14"}, b.clock.Now()))
	bk := b.book(t, "whatsapp:4915100000014", 3, 10)
	id := adreport.EventID(bk.ID, adreport.Schedule)
	b.clock.T = b.clock.T.Add(7*24*time.Hour - 30*time.Minute)
	b.start(t)
	b.waitState(t, id, adreport.StateDropped)
	require.Zero(t, b.fake.Requests())
}

// A chat's ad click counts for 28 days: a booking after that records
// nothing, and the old click is forgotten by the hourly prune (not on every
// click: that scanned the salon's rows).
func TestAChatsClickExpires(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := adSetup(t, false)
	old := dialog.ChatKey{SalonID: b.salonID, Channel: "whatsapp", ChatID: "4915100000015"}
	require.NoError(t, b.ads.Clicked(ctx, old, messaging.AdClick{ClickID: "clid-15"}, b.clock.Now().Add(-29*24*time.Hour)))
	bk := b.book(t, "whatsapp:4915100000015", 3, 10)
	require.Empty(t, b.state(t, adreport.EventID(bk.ID, adreport.Schedule)), "the click is too old")

	fresh := dialog.ChatKey{SalonID: b.salonID, Channel: "whatsapp", ChatID: "4915100000016"}
	require.NoError(t, b.ads.Clicked(ctx, fresh, messaging.AdClick{ClickID: "clid-16"}, b.clock.Now()))
	n, err := b.ads.PruneChats(ctx, b.salonID, b.clock.Now())
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	var chats []string
	rows, err := b.pool.Query(ctx, `SELECT chat_id FROM meta_chats WHERE salon_id = $1`, b.salonID)
	require.NoError(t, err)
	chats, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{fresh.ChatID}, chats, "the old click is forgotten")
	bk2 := b.book(t, "whatsapp:4915100000016", 3, 12)
	require.Equal(t, adreport.StatePending, b.state(t, adreport.EventID(bk2.ID, adreport.Schedule)))
}

// A click's code waits a day for its /start: an older one names no click.
func TestAClickCodeLastsADay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := adSetup(t, false)
	code, err := b.ads.Click(ctx, b.salonID, "fbclid-17", b.clock.Now().Add(-25*time.Hour))
	require.NoError(t, err)
	require.NoError(t, b.ads.Clicked(ctx, dialog.ChatKey{SalonID: b.salonID, Channel: "telegram", ChatID: "717"},
		messaging.AdClick{Code: code}, b.clock.Now()))
	var n int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM meta_chats WHERE salon_id = $1`, b.salonID).Scan(&n))
	require.Zero(t, n)
}
