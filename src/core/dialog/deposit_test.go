package dialog_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
)

// hostedPage is the Payments of the transcripts: a WhatsApp chat pays on a
// hosted page (its address names the booking), a Telegram chat by invoice.
type hostedPage struct{}

func (hostedPage) Checkout(_ context.Context, key dialog.ChatKey, b core.Booking, _, lang string) (string, error) {
	if key.Channel == "telegram" {
		return "", nil
	}
	return "https://checkout.stripe.com/c/pay/cs_test_" + b.ID + "#" + lang, nil
}

// depositBundle is the transcripts' salon asking a €10 deposit for a
// haircut of every chat client (15-minute payment window, refund cutoff
// 48 h), with the conversation's Payments.
type depositBundle struct {
	*bundle
	channel string
	wl      *postgres.Waitlist
}

func newDepositBundle(t *testing.T, channel string) *depositBundle {
	t.Helper()
	return newDepositBundleCutoff(t, channel, 48*time.Hour)
}

// newDepositBundleCutoff is newDepositBundle with another refund cutoff.
func newDepositBundleCutoff(t *testing.T, channel string, cutoff time.Duration) *depositBundle {
	t.Helper()
	b := newBundleWith(t, func(s *postgres.SalonSetup) {
		s.Salon.Policy.DepositWhen = core.DepositAlways
		s.Salon.Policy.DepositRefundCutoff = cutoff
		s.Services[0].Deposit = core.Deposit{Minor: 1000}
	})
	pool := pgtest.Pool(t)
	cat, err := i18n.Load()
	require.NoError(t, err)
	wl := postgres.NewWaitlist(pool)
	t.Cleanup(wl.Close)
	engine := dialog.NewEngine(dialog.Config{SalonID: b.salonID, Bookings: b.bookings, Waitlist: wl, Pushed: pipeline.NewPushed(pool),
		Catalog: cat, Clock: b.clock, Payments: hostedPage{}, Privacy: postgres.NewPrivacy(pool),
		References: postgres.NewReferences(pool), CalendarURL: calendarURL})
	b.chat = dialog.NewService(engine, postgres.NewConversations(pool))
	return &depositBundle{bundle: b, channel: channel, wl: wl}
}

func (b *depositBundle) key(c *conv) dialog.ChatKey {
	return dialog.ChatKey{SalonID: b.salonID, Channel: b.channel, ChatID: c.name}
}

// lastDeposit is the chat's latest booking asked for a deposit.
func (b *depositBundle) lastDeposit(t *testing.T, c *conv) *core.Booking {
	t.Helper()
	var id string
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT booking_id::text FROM bookings
		WHERE salon_id = $1 AND source = $2 AND deposit_state IS NOT NULL ORDER BY created_at DESC LIMIT 1`,
		b.salonID, b.channel+":"+c.name).Scan(&id), "no deposit asked of %s", c.name)
	bk, err := b.bookings.Get(ctx, b.salonID, id)
	require.NoError(t, err)
	return bk
}

// paid is the report of the chat's latest deposit paid, as the channel
// decodes it: a Telegram successful_payment, or a Stripe Checkout Session
// completed (through the inbox).
func (b *depositBundle) paid(t *testing.T, c *conv, charge string) dialog.Inbound {
	bk := b.lastDeposit(t, c)
	p := booking.Payment{Provider: "telegram", ChargeID: b.salonID + "_" + charge, ProviderChargeID: "ch_" + charge, Amount: bk.Deposit}
	if b.channel != "telegram" {
		p = booking.Payment{Provider: "stripe", ChargeID: "pi_" + b.salonID + charge, SessionID: "cs_test_" + b.salonID + charge,
			EventID: "evt_" + b.salonID + charge, Amount: bk.Deposit}
	}
	return dialog.Inbound{Kind: dialog.KindPaid, Paid: &dialog.Paid{BookingID: bk.ID, Payment: p}}
}

// run plays a deposit script. Besides text, pick, cmd, contact and clock (as
// the transcripts'), "pay: <charge>" reports the chat's latest deposit paid
// with that charge id (again: a redelivery), "expire: -" runs the expiry
// loop once, and "take: -" has the salon book the chat's latest deposit's
// time for someone else.
func (b *depositBundle) run(t *testing.T, convs []*conv, script []string) string {
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
		case "clock":
			d, err := time.ParseDuration(strings.TrimPrefix(arg, "+"))
			require.NoError(t, err)
			b.clock.T = b.clock.T.Add(d)
			fmt.Fprintf(&out, "-- clock %s: %s\n", arg, b.clock.T.In(pgtest.Berlin).Format("Mon 2 Jan 15:04 MST"))
			continue
		case "expire":
			n, err := b.wl.ExpireDue(ctx, b.salonID, b.clock.T)
			require.NoError(t, err)
			fmt.Fprintf(&out, "-- expiry loop: %d let go\n", n)
			continue
		case "take":
			bk := b.lastDeposit(t, c)
			_, err := b.bookings.Book(ctx, booking.BookRequest{SalonID: b.salonID, ServiceID: bk.ServiceID, MasterID: bk.MasterID,
				Start: bk.Start, Client: core.Client{Name: "Walk-in", Phone: "+49 30 7654321"}, IdempotencyKey: "take-" + bk.ID,
				Confirm: true, Source: booking.OwnerSource})
			require.NoError(t, err)
			fmt.Fprintf(&out, "-- the salon books %s for someone else\n", bk.Start.In(pgtest.Berlin).Format("Mon 2 Jan 15:04"))
			continue
		case "pay":
			in = b.paid(t, c, arg)
		case "text":
			in = dialog.Inbound{Kind: dialog.KindText, Text: arg}
		case "cmd":
			in = dialog.Inbound{Kind: dialog.KindCommand, Text: arg}
		case "pick":
			in = dialog.Inbound{Kind: dialog.KindChoice, Choice: pick(t, c, arg)}
		case "contact":
			name, phone, _ := strings.Cut(arg, ", ")
			in = dialog.Inbound{Kind: dialog.KindContact, Contact: &dialog.Contact{Name: name, Phone: phone}}
		default:
			t.Fatalf("bad script line %q", line)
		}
		fmt.Fprintf(&out, "%s > %s %s\n", c.name, verb, arg)
		b.events++
		in.ID, in.LangHint = fmt.Sprintf("ev-%d", b.events), c.hint
		replies, err := b.chat.Handle(ctx, b.key(c), in)
		require.NoError(t, err)
		require.NotEmpty(t, replies)
		c.last = replies
		for _, r := range replies {
			show(&out, c.name, r)
			if r.Invoice != nil {
				fmt.Fprintf(&out, "    (invoice %q: %s %d.%02d %s, payload %s)\n", r.Invoice.Title, r.Invoice.Label,
					r.Invoice.Amount/100, r.Invoice.Amount%100, r.Invoice.Currency, r.Invoice.Payload)
			}
		}
	}
	return stableIDs(out.String())
}

// status reads a booking's status and deposit state.
func (b *depositBundle) status(t *testing.T, id string) (core.BookingStatus, core.DepositState) {
	t.Helper()
	bk, err := b.bookings.Get(ctx, b.salonID, id)
	require.NoError(t, err)
	return bk.Status, bk.DepositState
}

func TestDepositTranscripts(t *testing.T) {
	t.Parallel()
	book := func(words ...string) []string { // to the confirm step of Anna's (#2) haircut on Wed 3 Mar, 10:30
		return []string{"text: hi", "pick: " + words[0], "pick: " + words[1], "pick: #2", "pick: #3", "pick: 10:30",
			"text: " + words[2], "text: " + words[3], "pick: " + words[4]}
	}
	cases := []struct {
		name, channel string
		convs         []*conv
		script        []string
		check         func(t *testing.T, b *depositBundle)
	}{
		{
			// Telegram: an invoice; paid in time; the payment reported twice
			// confirms once; cancelled four days ahead: refunded.
			name: "deposit_telegram_en", channel: "telegram", convs: []*conv{{name: "olga", hint: "en"}},
			script: append(book("Book", "Haircut", "Olga", "+49 151 23456789", "Confirm"),
				"clock: +10m", "pay: ch1", "pay: ch1", "pick: My bookings", "pick: #1", "pick: Cancel booking", "pick: Yes, cancel"),
			check: func(t *testing.T, b *depositBundle) {
				bk := b.lastDeposit(t, &conv{name: "olga"})
				st, dep := b.status(t, bk.ID)
				require.Equal(t, core.StatusCancelled, st)
				require.Equal(t, core.DepositRefundDue, dep)
			},
		},
		{
			// Russian, and the client cancels inside the refund cutoff: kept.
			name: "deposit_telegram_ru", channel: "telegram", convs: []*conv{{name: "ivan", hint: "ru"}},
			script: append(book("Записаться", "Стрижка", "Иван", "+7 912 345 67 89", "Подтвердить"),
				"pay: ch1", "pick: Мои записи", "pick: #1", "clock: +24h", "cmd: start", "pick: Мои записи", "pick: #1", "pick: Отменить запись", "pick: Да, отменить"),
			check: func(t *testing.T, b *depositBundle) {
				st, dep := b.status(t, b.lastDeposit(t, &conv{name: "ivan"}).ID)
				require.Equal(t, core.StatusCancelled, st)
				require.Equal(t, core.DepositKept, dep)
			},
		},
		{
			// WhatsApp: a link; not paid in time, the time released and taken;
			// the late payment is refunded and nearby times offered; one is
			// booked, and paid.
			name: "deposit_whatsapp_en", channel: "whatsapp", convs: []*conv{{name: "petra", hint: "en"}},
			script: append(book("Book", "Haircut", "Petra", "+49 151 76543219", "Confirm"),
				"clock: +16m", "expire: -", "take: -", "pay: late1", "pick: 11:30", "pick: Confirm", "pay: ok2",
				"pick: My bookings"),
			check: func(t *testing.T, b *depositBundle) {
				var states []string
				rows, err := pgtest.Pool(t).Query(ctx, `SELECT p.state || '/' || coalesce(p.refund_reason, '-') FROM payments p
					JOIN bookings k USING (booking_id) WHERE k.salon_id = $1 ORDER BY p.payment_id`, b.salonID)
				require.NoError(t, err)
				for rows.Next() {
					var s string
					require.NoError(t, rows.Scan(&s))
					states = append(states, s)
				}
				require.Equal(t, []string{"refund_due/late", "paid/-"}, states)
			},
		},
		{
			name: "deposit_whatsapp_ru", channel: "whatsapp", convs: []*conv{{name: "ivan", hint: "ru"}},
			script: append(book("Записаться", "Стрижка", "Иван", "+7 912 345 67 89", "Подтвердить"),
				"pick: Мои записи", "pick: #1", "pick: Внести предоплату", "clock: +16m", "expire: -", "take: -", "pay: late1"),
			check: func(t *testing.T, b *depositBundle) {
				st, dep := b.status(t, b.lastDeposit(t, &conv{name: "ivan"}).ID)
				require.Equal(t, core.StatusExpired, st)
				require.Equal(t, core.DepositRefundDue, dep)
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := newDepositBundle(t, c.channel)
			golden(t, c.name, b.run(t, c.convs, c.script))
			c.check(t, b)
		})
	}
}

func TestPreCheckout(t *testing.T) {
	t.Parallel()
	b := newDepositBundle(t, "telegram")
	olga := &conv{name: "olga", hint: "en"}
	b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: #3", "pick: 10:30",
		"text: Olga", "text: +49 151 23456789", "pick: Confirm"})
	bk := b.lastDeposit(t, olga)
	payload := dialog.InvoicePrefix + bk.ID
	key := b.key(olga)
	ok, reason := b.chat.PreCheckout(ctx, key, payload, core.Money{Minor: 1000, Currency: "EUR"}, "en")
	require.True(t, ok, reason)

	for name, tc := range map[string]struct {
		key     dialog.ChatKey
		payload string
		amount  core.Money
		lang    string
		reason  string
	}{
		"AnotherChat":   {dialog.ChatKey{SalonID: b.salonID, Channel: "telegram", ChatID: "mallory"}, payload, bk.Deposit, "en", "This invoice is not for a booking of yours."},
		"ForgedPayload": {key, "dep:00000000-0000-0000-0000-000000000000", bk.Deposit, "en", "This invoice is not for a booking of yours."},
		"NotAnInvoice":  {key, bk.ID, bk.Deposit, "en", "This invoice is not for a booking of yours."},
		"OtherAmount":   {key, payload, core.Money{Minor: 999, Currency: "EUR"}, "en", "The deposit amount has changed. Please open My bookings and pay again."},
		"OtherCurrency": {key, payload, core.Money{Minor: 1000, Currency: "USD"}, "ru", "Сумма предоплаты изменилась. Откройте, пожалуйста, «Мои записи» и оплатите снова."},
	} {
		ok, reason := b.chat.PreCheckout(ctx, tc.key, tc.payload, tc.amount, tc.lang)
		require.False(t, ok, name)
		require.Equal(t, tc.reason, reason, name)
	}

	// The window passed: refused, in the client's language, whether or not
	// the expiry loop has let the booking go yet.
	b.clock.T = b.clock.T.Add(15*time.Minute + time.Second)
	ok, reason = b.chat.PreCheckout(ctx, key, payload, bk.Deposit, "ru")
	require.False(t, ok)
	require.Equal(t, "Это время больше не закреплено за вами: срок оплаты истёк. Запишитесь, пожалуйста, заново.", reason)
	_, err := b.wl.ExpireDue(ctx, b.salonID, b.clock.T)
	require.NoError(t, err)
	ok, reason = b.chat.PreCheckout(ctx, key, payload, bk.Deposit, "en-GB")
	require.False(t, ok)
	require.Equal(t, "This time is no longer kept for you: the time to pay has passed. Please book again.", reason)
}

// A payment whose recording fails is not answered: the event fails and the
// pipeline tries it again, so money taken is never met with an apology and
// forgotten.
func TestPaidThatCannotBeRecordedFailsTheEvent(t *testing.T) {
	t.Parallel()
	b := newDepositBundle(t, "telegram")
	olga := &conv{name: "olga", hint: "en"}
	b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: #3", "pick: 10:30",
		"text: Olga", "text: +49 151 23456789", "pick: Confirm"})
	in := b.paid(t, olga, "c1")
	in.ID = "paid-1"
	cctx, cancel := contextCancelled()
	defer cancel()
	_, err := b.chat.Handle(cctx, b.key(olga), in)
	require.Error(t, err)
	require.Equal(t, core.EUnavailable, core.ErrorCode(err))
	replies, err := b.chat.Handle(ctx, b.key(olga), in)
	require.NoError(t, err, "tried again, it is recorded and answered")
	require.Contains(t, replies[0].Text, "Deposit of €10 received")
}

// contextCancelled is a context that has ended: the store refuses it
// (EUnavailable), as it does a database that cannot be reached.
func contextCancelled() (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(context.Background())
	cancel()
	return c, cancel
}

// The master's notice of a paid booking says the deposit is paid; of a
// cancel, whether it is to be refunded or kept.
func TestStaffNoticeSaysTheDeposit(t *testing.T) {
	t.Parallel()
	cat, err := i18n.Load()
	require.NoError(t, err)
	text := dialog.StaffText(cat, &core.Salon{Timezone: pgtest.Berlin, Locales: []string{"ru", "en"}})
	start := time.Date(2027, 3, 3, 9, 30, 0, 0, time.UTC)
	n := dialog.StaffNotice{Kind: booking.Booked, Start: start, Service: map[string]string{"ru": "Стрижка"}, Client: "Иван Петров",
		Master: "Anna", Deposit: core.Money{Minor: 1000, Currency: "EUR"}, DepositTo: core.DepositPaid}
	require.Equal(t, "Новая запись. Мастер: Anna. Стрижка, среда, 3 марта, в 10:30, клиент: Иван. Предоплата внесена: 10\u00a0€.", text(n))
	n.Kind, n.DepositTo = booking.Cancelled, core.DepositRefundDue
	require.Equal(t, "Запись отменена. Мастер: Anna. Стрижка, среда, 3 марта, в 10:30, клиент: Иван. Предоплату 10\u00a0€ нужно вернуть.", text(n))
	n.DepositTo = core.DepositKept
	require.Contains(t, text(n), "Предоплата 10\u00a0€ остаётся у салона")
	n.Kind, n.DepositTo = booking.Booked, ""
	require.Equal(t, "Новая запись. Мастер: Anna. Стрижка, среда, 3 марта, в 10:30, клиент: Иван.", text(n), "no deposit, no word of one")
}

// TestEraseCancelsAsTheClient: "delete my data" cancels the client's paid
// booking as the client's own cancel does: inside the refund cutoff the
// deposit is kept, not refunded as by the salon's cancel.
func TestEraseCancelsAsTheClient(t *testing.T) {
	t.Parallel()
	b := newDepositBundle(t, "telegram")
	olga := &conv{name: "olga", hint: "en"}
	b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: #3", "pick: 10:30",
		"text: Olga", "text: +49 151 23456789", "pick: Confirm", "pay: ch1"})
	bk := b.lastDeposit(t, olga) // read before the erase forgets the chat
	b.run(t, []*conv{olga}, []string{
		"clock: +24h", // Wed 10:30 is now 25.5 h ahead: inside the 48 h refund cutoff, outside the 12 h cancel cutoff
		"text: Delete my data!", "pick: Yes, delete"})
	st, dep := b.status(t, bk.ID)
	require.Equal(t, core.StatusCancelled, st)
	require.Equal(t, core.DepositKept, dep, "kept, as the client's cancel")
}

// TestRefundCutoffIsSaidExactly: a refund cutoff of 36 h 30 min is said so,
// not rounded down to 36 hours (a client cancelling 36 h 10 min ahead was
// promised a refund the policy refused); in Russian too.
func TestRefundCutoffIsSaidExactly(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ hint, book, haircut, confirm, mine, cancel, want, refund, lost string }{
		{"en", "Book", "Haircut", "Confirm", "My bookings", "Cancel booking", "at least 36 hours 30 minutes before the appointment",
			"Your deposit of €10 is refunded if you cancel at least 36 hours 30 minutes before.",
			"It is now less than 36 hours 30 minutes before the appointment, so if you cancel, the deposit of €10 is kept."},
		{"ru", "Записаться", "Стрижка", "Подтвердить", "Мои записи", "Отменить запись", "не позднее чем за 36 часов 30 минут до визита",
			"Предоплата 10\u00a0€ вернётся, если отменить запись не позднее чем за 36 часов 30 минут до визита.",
			"Предоплата возвращается, только если отменить запись не позднее чем за 36 часов 30 минут до визита, поэтому при отмене сейчас предоплата 10\u00a0€ не вернётся."},
	} {
		t.Run(c.hint, func(t *testing.T) {
			t.Parallel()
			b := newDepositBundleCutoff(t, "telegram", 36*time.Hour+30*time.Minute)
			olga := &conv{name: "olga", hint: c.hint}
			out := b.run(t, []*conv{olga}, []string{"text: hi", "pick: " + c.book, "pick: " + c.haircut, "pick: #2", "pick: #5", "pick: #1",
				"text: Olga", "text: +49 151 23456789", "pick: " + c.confirm,
				"pay: ch1", "clock: +70h", "pick: " + c.mine, "pick: #1", "pick: " + c.cancel}) // Thursday 07:00: 27 h ahead
			require.Contains(t, out, c.want)
			require.Contains(t, out, c.refund, "the booked message says the cutoff to the minute")
			require.Contains(t, out, c.lost, "the cancel question says the cutoff to the minute too")
		})
	}
}
