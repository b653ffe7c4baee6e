package dialog_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/adapters/whatsapp"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
	"salonbook/src/core/waitlist"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var ctx = context.Background()

// bundle is one conversation world: a salon of its own, a fixed clock (Monday
// 1 March 2027, 08:00 in Berlin), the real booking service and conversation store.
type bundle struct {
	salonID  string
	store    *postgres.Store
	clock    *core.FixedClock
	bookings *booking.Service
	chat     *dialog.Service
	events   int
	matcher  *waitlist.Matcher
	fills    []string                  // bookings that fill a day (waitlist cases)
	offers   map[string][]dialog.Reply // wait-list offers queued, by chat, not yet shown
	// reminders is the real scheduler (channel "test"): "remind" queues what
	// is due into the outbox, where the dialog's Pushed reads it back.
	reminders *pipeline.Reminders
	pushed    *countingPushed // the dialog's Pushed, counting its reads
}

// countingPushed is the real pushed messages' store, counting the reads.
type countingPushed struct {
	store dialog.Pushed
	calls atomic.Int64
}

func (c *countingPushed) Pushed(ctx context.Context, key dialog.ChatKey, after time.Time) (*dialog.Reply, error) {
	c.calls.Add(1)
	return c.store.Pushed(ctx, key, after)
}

// salonSetup: Anna does haircuts and manicures Mon–Sat 10:00–13:00; Boris does
// haircuts Tue–Sat 12:00–16:00.
func salonSetup(id string) postgres.SalonSetup {
	var anna, boris core.WeeklyHours
	for wd := time.Monday; wd <= time.Saturday; wd++ {
		anna[wd] = []core.ClockRange{{Start: 10 * 60, End: 13 * 60}}
		if wd != time.Monday {
			boris[wd] = []core.ClockRange{{Start: 12 * 60, End: 16 * 60}}
		}
	}
	return postgres.SalonSetup{
		Salon: core.Salon{ID: id, Name: "Studio Anna", Timezone: pgtest.Berlin, Locales: []string{"en", "ru"},
			Phone: "+49 30 1234567", Address: "Torstraße 1, Berlin",
			Policy: core.Policy{SlotStep: 30 * time.Minute, MinNotice: 2 * time.Hour, Horizon: 30 * 24 * time.Hour,
				Hold: 10 * time.Minute, CancelCutoff: 12 * time.Hour}},
		Services: []core.Service{
			{ID: "haircut", Name: map[string]string{"en": "Haircut", "ru": "Стрижка"}, Duration: 45 * time.Minute,
				BufferAfter: 15 * time.Minute, Price: core.Money{Minor: 3500, Currency: "EUR"}},
			{ID: "manicure", Name: map[string]string{"en": "Manicure", "ru": "Маникюр"}, Duration: 60 * time.Minute,
				Price: core.Money{Minor: 2500, Currency: "EUR"}},
		},
		Masters: []core.Master{
			{ID: "anna", Name: "Anna", Names: map[string]string{"en": "Anna", "ru": "Анна"}, Services: []string{"haircut", "manicure"}, Hours: anna}, // Boris: one name for all
			{ID: "boris", Name: "Boris", Services: []string{"haircut"}, Hours: boris},
		},
	}
}

func newBundle(t *testing.T) *bundle {
	t.Helper()
	return newBundleWith(t, func(*postgres.SalonSetup) {})
}

// newBundleWith is newBundle with the salon changed by edit before it is applied.
func newBundleWith(t *testing.T, edit func(*postgres.SalonSetup)) *bundle {
	t.Helper()
	pool := pgtest.Pool(t)
	store := postgres.NewStore(pool)
	id := "d" + pgtest.RandomID()
	setup := salonSetup(id)
	edit(&setup)
	_, err := store.Apply(ctx, setup)
	require.NoError(t, err)
	cat, err := i18n.Load()
	require.NoError(t, err)
	b := &bundle{salonID: id, store: store, clock: &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}}
	b.bookings = booking.New(store, b.clock)
	wl := postgres.NewWaitlist(pool)
	store.FollowChanges(wl.Record)
	// The offer's message as serve queues it, kept here to be shown by "match".
	b.offers = map[string][]dialog.Reply{}
	salon, err := b.bookings.Catalog(ctx, id)
	require.NoError(t, err)
	var mu sync.Mutex
	offers := pipeline.NewOffers(func(s *core.Salon, o dialog.Offer) dialog.Reply { return dialog.OfferReply(cat, s, o) }, b.clock,
		slog.New(slog.DiscardHandler))
	store.FollowOffers(func(ctx context.Context, tx pgx.Tx, entry int64, bk core.Booking, s *core.Salon) error {
		if err := offers.Record(ctx, tx, entry, bk, s); err != nil { // queued as serve queues it
			return err
		}
		var chat, lang string
		if err := tx.QueryRow(ctx, `SELECT chat_id, lang FROM waitlist WHERE id = $1`, entry).Scan(&chat, &lang); err != nil {
			return err
		}
		svc := salon.Services[slices.IndexFunc(salon.Services, func(s core.Service) bool { return s.ID == bk.ServiceID })]
		m := salon.Masters[slices.IndexFunc(salon.Masters, func(m core.Master) bool { return m.ID == bk.MasterID })]
		r := dialog.OfferReply(cat, salon.Salon, dialog.Offer{BookingID: bk.ID, Lang: lang, Start: bk.Start, Service: svc.Name,
			Master: m.Name, MasterNames: m.Names})
		mu.Lock()
		b.offers[chat] = append(b.offers[chat], r)
		mu.Unlock()
		return nil
	})
	b.matcher = &waitlist.Matcher{SalonID: id, Store: wl, Bookings: b.bookings, Clock: b.clock, Channels: []string{"test"}}
	b.reminders = pipeline.NewReminders(pipeline.RemindersConfig{Pool: pool, SalonID: id, Channels: []string{"test"},
		Clock: b.clock, Catalog: cat, Salon: func(ctx context.Context) (*core.Salon, error) {
			c, err := b.bookings.Catalog(ctx, id)
			if err != nil {
				return nil, err
			}
			return c.Salon, nil
		}})
	store.FollowChanges(b.reminders.Record)
	b.pushed = &countingPushed{store: pipeline.NewPushed(pool)}
	engine := dialog.NewEngine(dialog.Config{SalonID: id, Bookings: b.bookings, Waitlist: wl, Pushed: b.pushed,
		Privacy: postgres.NewPrivacy(pool), Catalog: cat, Clock: b.clock, References: postgres.NewReferences(pool), CalendarURL: calendarURL})
	b.chat = dialog.NewService(engine, postgres.NewConversations(pool))
	return b
}

// conv is one client's chat in a transcript.
type conv struct {
	name     string
	hint     string
	last     []dialog.Reply
	reminder *dialog.Reply // the last reminder sent to the chat (remind, template): press picks from it
	outbox   int64         // the last reminder's outbox row read
}

// send delivers one inbound event and checks what every channel relies on: at
// least one reply, choice ids within 64 bytes and unique, labels within 20
// characters.
func (b *bundle) send(t *testing.T, c *conv, in dialog.Inbound) []dialog.Reply {
	t.Helper()
	b.events++
	if in.ID == "" {
		in.ID = fmt.Sprintf("ev-%d", b.events)
	}
	in.LangHint = c.hint
	replies, err := b.chat.Handle(ctx, dialog.ChatKey{SalonID: b.salonID, Channel: "test", ChatID: c.name}, in)
	require.NoError(t, err)
	require.NotEmpty(t, replies, "every event gets an answer")
	for _, r := range replies {
		require.NotEmpty(t, r.Text)
		seen := map[string]bool{}
		for _, ch := range r.Choices {
			require.LessOrEqual(t, len(ch.ID), dialog.MaxChoiceIDBytes, ch.ID)
			require.LessOrEqual(t, utf8.RuneCountInString(ch.Label), dialog.MaxChoiceLabelRune, ch.Label)
			require.False(t, seen[ch.ID], "duplicate choice id %s", ch.ID)
			seen[ch.ID] = true
		}
	}
	c.last = replies
	return replies
}

// pick finds a choice of the last reply by its label, or "#n" for the n-th.
func pick(t *testing.T, c *conv, what string) string {
	t.Helper()
	var all []dialog.Choice
	for _, r := range c.last {
		all = append(all, r.Choices...)
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(what, "#")); err == nil && strings.HasPrefix(what, "#") {
		require.LessOrEqual(t, n, len(all), "no choice %s in %v", what, all)
		return all[n-1].ID
	}
	for _, ch := range all {
		if ch.Label == what {
			return ch.ID
		}
	}
	t.Fatalf("%s: no choice labelled %q in %v", c.name, what, all)
	return ""
}

// run plays a script and returns the transcript. A line is "[chat] verb: arg":
// text, pick (a label or #n), cmd, contact ("Name, phone"), "clock: +2h",
// "free: n" (cancel the n-th booking that fills a day) or "match: -" (one
// wait-list matcher pass; the offers it queues are shown as their chats get them);
// "remind: #n" sends the reminder of the chat's n-th upcoming booking as the
// scheduler would (with buttons), "template: #n" as a WhatsApp template outside
// the 24-hour window (one line of text), and "press: label" presses a button of
// the last reminder, whatever was said since. Lines without a chat name go to
// the first chat.
func (b *bundle) run(t *testing.T, convs []*conv, script []string) string {
	t.Helper()
	byName := map[string]*conv{}
	for _, c := range convs {
		byName[c.name] = c
	}
	var out strings.Builder
	defer func() {
		if t.Failed() {
			t.Logf("transcript so far:\n%s", out.String())
		}
	}()
	for _, line := range script {
		c := convs[0]
		if name, rest, ok := strings.Cut(line, " "); ok && byName[name] != nil {
			c, line = byName[name], rest
		}
		verb, arg, _ := strings.Cut(line, ": ")
		var in dialog.Inbound
		switch verb {
		case "remind", "template":
			r := b.reminder(t, c, arg)
			c.reminder = &r
			if verb == "remind" {
				fmt.Fprintf(&out, "-- reminder to %s:\n", c.name)
				show(&out, c.name, r)
				c.last = []dialog.Reply{r}
			} else {
				fmt.Fprintf(&out, "-- reminder to %s as a WhatsApp template:\n%s < %s\n", c.name, c.name, whatsapp.TemplateText(r, whatsapp.TemplateMaxParam))
			}
			continue
		case "press":
			require.NotNil(t, c.reminder, "press before any reminder")
			in = dialog.Inbound{Kind: dialog.KindChoice, Choice: pick(t, &conv{name: c.name, last: []dialog.Reply{*c.reminder}}, arg)}
		case "clock":
			d, err := time.ParseDuration(strings.TrimPrefix(arg, "+"))
			require.NoError(t, err)
			b.clock.T = b.clock.T.Add(d)
			fmt.Fprintf(&out, "-- clock %s: %s\n", arg, b.clock.T.In(pgtest.Berlin).Format("Mon 2 Jan 15:04 MST"))
			continue
		case "free":
			n, err := strconv.Atoi(arg)
			require.NoError(t, err)
			bk, err := b.bookings.Cancel(ctx, b.salonID, b.fills[n-1])
			require.NoError(t, err)
			fmt.Fprintf(&out, "-- cancelled: %s %s\n", bk.MasterID, bk.Start.In(pgtest.Berlin).Format("Mon 2 Jan 15:04"))
			continue
		case "match":
			n, err := b.matcher.Pass(ctx)
			require.NoError(t, err)
			b.sent(t) // the offers, as the chats get them
			fmt.Fprintf(&out, "-- matcher: %d offer(s)\n", n)
			for _, cv := range convs {
				if rs := b.offers[cv.name]; len(rs) > 0 {
					delete(b.offers, cv.name)
					cv.last = rs
					b.print(&out, cv, rs)
				}
			}
			continue
		case "text":
			in = dialog.Inbound{Kind: dialog.KindText, Text: arg}
		case "cmd":
			in = dialog.Inbound{Kind: dialog.KindCommand, Text: arg}
		case "pick":
			in = dialog.Inbound{Kind: dialog.KindChoice, Choice: pick(t, c, arg)}
		case "forge":
			in = dialog.Inbound{Kind: dialog.KindChoice, Choice: arg}
		case "contact", "own": // own: the sender's own contact, which the channel vouches for
			name, phone, _ := strings.Cut(arg, ", ")
			in = dialog.Inbound{Kind: dialog.KindContact, Contact: &dialog.Contact{Name: name, Phone: phone, Own: verb == "own"}}
		default:
			t.Fatalf("bad script line %q", line)
		}
		fmt.Fprintf(&out, "%s > %s %s\n", c.name, verb, arg)
		b.print(&out, c, b.send(t, c, in))
	}
	return stableIDs(out.String())
}

// print writes replies to c into the transcript.
func (b *bundle) print(out *strings.Builder, c *conv, replies []dialog.Reply) {
	{
		for _, r := range replies {
			show(out, c.name, r)
		}
	}
}

// show writes one reply to name into a transcript.
func show(out *strings.Builder, name string, r dialog.Reply) {
	for i, l := range strings.Split(r.Text, "\n") {
		prefix := "   "
		if i == 0 {
			prefix = name + " <"
		}
		fmt.Fprintf(out, "%s %s\n", prefix, l)
	}
	if len(r.Choices) > 0 {
		var cs []string
		for _, ch := range r.Choices {
			cs = append(cs, fmt.Sprintf("[%s] %s", ch.ID, ch.Label))
		}
		fmt.Fprintf(out, "    %s\n", strings.Join(cs, " | "))
	}
	if r.RequestContact {
		fmt.Fprintf(out, "    (asks for the contact)\n")
	}
	if r.KeyboardOnly {
		fmt.Fprintf(out, "    (takes the contact button away; dropped where there is none)\n")
	}
}

// reminder runs the reminder scheduler once (the real one, at the bundle's
// clock) and returns the reminder it queued to the chat, which must be of the
// chat's n-th ("#n") upcoming booking.
func (b *bundle) reminder(t *testing.T, c *conv, arg string) dialog.Reply {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimPrefix(arg, "#"))
	require.NoError(t, err, "remind: #n")
	list, err := b.bookings.Upcoming(ctx, b.salonID, "test:"+c.name)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(list), n, "%s has no upcoming booking %s", c.name, arg)
	_, _, err = b.reminders.Tick(ctx)
	require.NoError(t, err)
	var body []byte
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT id, body FROM outbox
		WHERE salon_id = $1 AND channel = 'test' AND chat_id = $2 AND id > $3 AND body->>'template' = 'reminder'
		ORDER BY id DESC LIMIT 1`, b.salonID, c.name, c.outbox).Scan(&c.outbox, &body), "no reminder queued to %s", c.name)
	var o struct{ Reply dialog.Reply }
	require.NoError(t, json.Unmarshal(body, &o))
	require.Contains(t, o.Reply.Choices[0].ID, list[n-1].ID, "the reminder of booking %s", arg)
	b.sent(t)
	return o.Reply
}

// sent marks every message queued to the salon's chats sent, as a sender
// would have sent them.
func (b *bundle) sent(t *testing.T) {
	t.Helper()
	_, err := pgtest.Pool(t).Exec(ctx, `UPDATE outbox SET sent_at = now() WHERE salon_id = $1 AND sent_at IS NULL AND failed IS NULL`,
		b.salonID)
	require.NoError(t, err)
}

var (
	uuidRe  = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	entryRe = regexp.MustCompile(`wx:[0-9]+`)
)

// stableIDs replaces booking ids (random) and wait-list entry ids (a sequence
// shared by parallel tests) by their order of appearance.
func stableIDs(s string) string {
	s = stableRefs(s)
	entries := map[string]string{}
	s = entryRe.ReplaceAllStringFunc(s, func(id string) string {
		if _, ok := entries[id]; !ok {
			entries[id] = fmt.Sprintf("wx:<entry-%d>", len(entries)+1)
		}
		return entries[id]
	})
	seen := map[string]string{}
	return uuidRe.ReplaceAllStringFunc(s, func(id string) string {
		if _, ok := seen[id]; !ok {
			seen[id] = fmt.Sprintf("<booking-%d>", len(seen)+1)
		}
		return seen[id]
	})
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	require.NotContains(t, got, "<no value>", "a message's template names data its caller does not pass")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./src/core/dialog/ -update to create %s", path)
	require.Equal(t, string(want), got, "transcript %s changed; if intended, rerun with -update and review the diff", name)
}

// bookLine counts the live bookings of the salon.
func (b *bundle) live(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx,
		`SELECT count(*) FROM bookings WHERE salon_id = $1 AND status IN ('held', 'confirmed')`, b.salonID).Scan(&n))
	return n
}

func TestTranscripts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		convs  []*conv
		script []string
		check  func(t *testing.T, b *bundle)
	}{
		{
			name:  "book_en",
			convs: []*conv{{name: "olga", hint: "en-GB"}},
			script: []string{
				"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: #1", "pick: 10:30",
				"text: Olga", "text: +49 151 23456789", "pick: Confirm",
			},
			check: func(t *testing.T, b *bundle) { require.Equal(t, 1, b.live(t)) },
		},
		{
			name:  "book_any_master_ru",
			convs: []*conv{{name: "ivan", hint: "ru-RU"}},
			script: []string{
				"cmd: start", "pick: Записаться", "pick: Стрижка", "pick: Любой мастер", "pick: #2", "pick: 12:00",
				"contact: Иван, +7 912 345-67-89", "pick: Подтвердить",
			},
			check: func(t *testing.T, b *bundle) { require.Equal(t, 1, b.live(t)) },
		},
		{
			name:  "conflict_then_alternative_en",
			convs: []*conv{{name: "olga", hint: "en"}, {name: "petra", hint: "en"}},
			script: []string{
				"olga text: hello", "olga pick: Book", "olga pick: Haircut", "olga pick: Anna", "olga pick: #1",
				"petra text: hello", "petra pick: Book", "petra pick: Haircut", "petra pick: Anna", "petra pick: #1",
				"petra pick: 10:30", "petra text: Petra", "petra text: +49 151 76543219",
				"olga pick: 10:30", "olga text: Olga", "olga text: +49 151 23456789",
				"olga text: hmm", // the alternatives again, not the day's list
				"olga pick: #1", "olga pick: Confirm", "petra pick: Confirm",
			},
			check: func(t *testing.T, b *bundle) { require.Equal(t, 2, b.live(t)) },
		},
		{
			name:  "conflict_then_alternative_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}, {name: "olga", hint: "ru"}},
			script: []string{
				"ivan text: привет", "ivan pick: Записаться", "ivan pick: Стрижка", "ivan pick: Boris", "ivan pick: #1",
				"olga text: привет", "olga pick: Записаться", "olga pick: Стрижка", "olga pick: Boris", "olga pick: #1",
				"olga pick: 13:00", "olga text: Ольга", "olga text: +7 912 000 00 01", "olga pick: Подтвердить",
				"ivan pick: 13:00", "ivan text: Иван", "ivan text: +7 912 000 00 02", "ivan text: хм", "ivan pick: #1", "ivan pick: Подтвердить",
			},
			check: func(t *testing.T, b *bundle) { require.Equal(t, 2, b.live(t)) },
		},
		{
			name:  "cancel_outside_and_inside_cutoff_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}},
			script: []string{
				"text: привет", "pick: Записаться", "pick: Маникюр", "pick: #3", "pick: 10:00",
				"text: Иван", "text: +7 912 345 67 89", "pick: Подтвердить",
				"pick: Мои записи", "pick: #1", "pick: Отменить запись", "pick: Нет, оставить",
				"pick: Мои записи", "pick: #1", "pick: Отменить запись", "pick: Да, отменить",
				"pick: Записаться", "pick: Маникюр", "pick: #1", "pick: 12:00", "pick: Подтвердить",
				"pick: Мои записи", "pick: #1", "pick: Отменить запись",
			},
			check: func(t *testing.T, b *bundle) { require.Equal(t, 1, b.live(t)) },
		},
		{
			name:  "reschedule_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}},
			script: []string{
				"text: привет", "pick: Записаться", "pick: Маникюр", "pick: #1", "pick: 11:00",
				"text: Иван", "text: +7 912 345 67 89", "pick: Подтвердить",
				"pick: Мои записи", "pick: #1", "pick: Перенести", // inside the 12 h cutoff: refused
				"pick: Записаться", "pick: Маникюр", "pick: #2", "pick: 11:00", "pick: Подтвердить",
				"pick: Мои записи", "pick: #2", "pick: Перенести", "pick: Да, перенести", "pick: #3", "pick: 10:00",
				"pick: Мои записи",
			},
			check: func(t *testing.T, b *bundle) { require.Equal(t, 2, b.live(t)) },
		},
		{
			name:  "cancel_outside_and_inside_cutoff_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: []string{
				"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: #1", "pick: 12:00",
				"text: Olga", "text: +49 151 23456789", "pick: Confirm",
				"pick: Book", "pick: Haircut", "pick: Anna", "pick: #2", "pick: 10:00", "pick: Confirm",
				"pick: My bookings", "pick: #2", "pick: Cancel booking", "pick: No, keep it",
				"pick: My bookings", "pick: #2", "pick: Cancel booking", "pick: Yes, cancel",
				"pick: My bookings", "pick: #1", "pick: Cancel booking",
				"pick: My bookings", "pick: #1", "pick: Reschedule",
			},
			check: func(t *testing.T, b *bundle) { require.Equal(t, 1, b.live(t)) },
		},
		{
			name:  "waitlist_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: []string{
				"text: hi", "pick: Book", "pick: Manicure", "pick: Tue 2 Mar (full)", "pick: Notify me: 2 Mar",
				"text: Olga", "text: +49 151 23456789",
			},
			check: func(t *testing.T, b *bundle) {
				var n int
				require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT count(*) FROM waitlist WHERE salon_id = $1 AND day = '2027-03-02'`, b.salonID).Scan(&n))
				require.Equal(t, 1, n)
			},
		},
		{
			name:  "waitlist_offer_en",
			convs: []*conv{{name: "olga", hint: "en"}, {name: "petra", hint: "en"}},
			script: []string{
				"olga text: hi", "olga pick: Book", "olga pick: Manicure", "olga pick: #2", "olga pick: Notify me: 2 Mar",
				"olga text: Olga", "olga text: +49 151 23456789",
				"petra text: hi", "petra pick: Book", "petra pick: Manicure", "petra pick: #2", "petra pick: Notify me: 2 Mar",
				"petra contact: Petra, +49 151 76543219",
				"match: -", // nothing is free: no offer
				"free: 1", "match: -", "olga pick: No, thanks",
				"match: -", "petra pick: Book it", "petra pick: My bookings",
				"free: 2", "match: -", "olga pick: Book it", "olga pick: My bookings",
			},
			check: func(t *testing.T, b *bundle) {
				var n int
				require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT count(*) FROM waitlist WHERE salon_id = $1`, b.salonID).Scan(&n))
				require.Equal(t, 0, n, "both entries booked: both gone")
				require.Equal(t, 3, b.live(t))
			},
		},
		{
			name:  "waitlist_offer_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}, {name: "olga", hint: "ru"}},
			script: []string{
				"ivan text: привет", "ivan pick: Записаться", "ivan pick: Маникюр", "ivan pick: #2", "ivan pick: Сообщить: 2 мар.",
				"ivan text: Иван", "ivan text: +7 912 345 67 89",
				"olga text: привет", "olga pick: Записаться", "olga pick: Маникюр", "olga pick: #2", "olga pick: Сообщить: 2 мар.",
				"olga contact: Ольга, +7 912 000 00 01",
				"free: 3", "match: -", "ivan pick: Нет, спасибо",
				"match: -", "clock: +16m", "olga pick: Записаться", // the offer lapsed
				"match: -", // passed on: nobody left who was not offered 12:00
				"free: 1", "match: -", "ivan pick: Записаться",
			},
			check: func(t *testing.T, b *bundle) {
				var n int
				require.NoError(t, pgtest.Pool(t).QueryRow(ctx,
					`SELECT count(*) FROM bookings WHERE salon_id = $1 AND status = 'confirmed'`, b.salonID).Scan(&n))
				require.Equal(t, 2, n, "11:00 as filled, and Ivan's 10:00; Olga's offer lapsed")
				var queued int // what serve sends: the offers the pipeline queued, in the client's language
				require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT count(*) FROM outbox WHERE salon_id = $1
					AND body->'reply'->>'text' LIKE 'Освободилось время: Маникюр, мастер Анна,%'`, b.salonID).Scan(&queued))
				require.Equal(t, 3, queued, "the master's Russian name")
			},
		},
		{
			name:  "waitlist_mine_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: []string{
				"text: hi", "pick: Book", "pick: Manicure", "pick: #2", "pick: Notify me: 2 Mar",
				"text: Olga", "text: +49 151 23456789",
				"pick: Book", "pick: Haircut", "pick: Anna", "pick: #2", "pick: Notify me: 2 Mar",
				"pick: My bookings", "pick: #2", "forge: wx:999999999", "pick: Leave Tue 2 Mar",
			},
			check: func(t *testing.T, b *bundle) {
				var n int
				require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT count(*) FROM waitlist WHERE salon_id = $1`, b.salonID).Scan(&n))
				require.Equal(t, 0, n)
			},
		},
		{
			name:  "waitlist_mine_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}},
			script: []string{
				"text: привет", "pick: Записаться", "pick: Маникюр", "pick: #2", "pick: Сообщить: 2 мар.",
				"contact: Иван, +7 912 345 67 89",
				"pick: Мои записи", "pick: #1",
			},
			check: func(t *testing.T, b *bundle) {
				var n int
				require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT count(*) FROM waitlist WHERE salon_id = $1`, b.salonID).Scan(&n))
				require.Equal(t, 0, n)
			},
		},
		{
			name:  "start_over_and_language_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}},
			script: []string{
				"text: здравствуйте", "pick: Записаться", "pick: Стрижка", "cmd: start",
				"pick: Записаться", "pick: Стрижка", "pick: Анна", "pick: #1", "pick: 10:00",
				"text: Иван", "text: +7 912 345 67 89", "cmd: cancel",
				"pick: Язык", "pick: English", "pick: Help", "cmd: language", "pick: Русский",
			},
			check: func(t *testing.T, b *bundle) { require.Equal(t, 0, b.live(t), "cancelling the flow releases the hold") },
		},
		{
			name:  "garbage_everywhere_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: []string{
				"text: hi", "text: what?", "text: 1", // menu: a number picks the option
				"text: banana", "forge: s:tattoo", "text: 1", // service
				"text: blah", "forge: m:zed", "text: 2", // master
				"text: whenever", "forge: d:1999-01-01", "text: 1", // day
				"text: soon please", "forge: t:12", "text: 1", // time: t:12 is 1970, refused when held
				"text: ", "text: Olga", // name
				"text: call me maybe", "text: 12", "text: +49 151 23456789", // phone
				"text: maybe", "cmd: dance", "pick: Confirm", // confirm
				"forge: b:00000000-0000-0000-0000-000000000000", "text: 2", // menu: My bookings
				"forge: cx:00000000-0000-0000-0000-000000000000", "text: #1", "text: 1",
			},
			check: func(t *testing.T, b *bundle) { require.Equal(t, 1, b.live(t)) },
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t)
			if strings.HasPrefix(c.name, "waitlist") {
				// Fill Anna's Tuesday: three one-hour manicures from 10:00.
				for i, h := range []int{10, 11, 12} {
					bk, err := b.bookings.Book(ctx, booking.BookRequest{SalonID: b.salonID, ServiceID: "manicure", MasterID: "anna",
						Start:          time.Date(2027, 3, 2, h, 0, 0, 0, pgtest.Berlin),
						Client:         core.Client{Name: "Busy", Phone: fmt.Sprintf("+4915100000%02d", i)},
						IdempotencyKey: fmt.Sprintf("fill-%d", i), Confirm: true, Source: booking.OwnerSource})
					require.NoError(t, err)
					b.fills = append(b.fills, bk.ID)
				}
			}
			golden(t, c.name, b.run(t, c.convs, c.script))
			c.check(t, b)
		})
	}
}
