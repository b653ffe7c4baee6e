package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/stripe"
	"salonbook/src/adapters/stripe/stripetest"
	"salonbook/src/adapters/telegram/telegramtest"
	"salonbook/src/adapters/whatsapp/whatsapptest"
)

const testProviderToken = "284685063:TEST:ZmFrZVByb3ZpZGVyVG9rZW4"

// depositDemo makes the demo salon ask every chat client €10 for a
// haircut, refunded on a cancel at least 48 hours ahead; Anna's notices go
// to a staff chat.
func depositDemo(demo []byte) []byte {
	demo = regexp.MustCompile(`(?m)^(  staff_summary: .*\n)`).ReplaceAll(demo,
		[]byte("${1}  deposit_when: always\n  payment_window: 15m\n  deposit_refund: {cutoff: 48h}\n"))
	demo = regexp.MustCompile(`(?m)^(    price: "35.00"\n)`).ReplaceAll(demo, []byte("${1}    deposit: \"10.00\"\n"))
	return regexp.MustCompile(`(?m)^(    name: \{en: Anna, .*\n)`).ReplaceAll(demo, []byte("${1}    telegram_chat_id: -900\n"))
}

// depositServer is serve with Telegram, WhatsApp and Stripe on, each a fake.
type depositServer struct {
	tg   *telegramtest.Server
	wa   *whatsapptest.Server
	st   *stripetest.Server
	addr string
	logs *syncBuffer
}

func startDepositServer(t testing.TB, id string) *depositServer {
	return startDepositServerWith(t, id, telegramtest.Options{PaymentProviderToken: testProviderToken}, true)
}

// startDepositServerWith starts it with the fake Bot API's options and more
// variables; refusals also checks that serve refuses to start without a
// provider's variables.
func startDepositServerWith(t testing.TB, id string, tgOpts telegramtest.Options, refusals bool, more ...string) *depositServer {
	t.Helper()
	s := &depositServer{logs: &syncBuffer{}}
	var tgURL, waURL, stURL string
	s.tg, tgURL = telegramtest.Start(t, tgOpts)
	s.wa, waURL = whatsapptest.Start(t, whatsapptest.Options{})
	s.st, stURL = stripetest.Start(t, stripetest.Options{})
	const secret = "deposit-webhook-secret-0123456789"
	vars := map[string]string{"DATABASE_URL": pgtest.URL(t), "HTTP_ADDR": "127.0.0.1:0", "SALONBOOK_API_TOKEN": "e2e-token-0123456789",
		"PUBLIC_URL":         "https://salon.example",
		"TELEGRAM_BOT_TOKEN": s.tg.Token(), "TELEGRAM_WEBHOOK_SECRET": secret, "TELEGRAM_API_URL": tgURL,
		"TELEGRAM_PAYMENT_PROVIDER_TOKEN": testProviderToken,
		"WHATSAPP_TOKEN":                  s.wa.Token(), "WHATSAPP_APP_SECRET": s.wa.AppSecret(), "WHATSAPP_VERIFY_TOKEN": "verify-token-0123456789",
		"WHATSAPP_PHONE_NUMBER_ID": s.wa.PhoneNumberID(), "WHATSAPP_API_URL": waURL, "WHATSAPP_API_VERSION": "v24.0",
		"STRIPE_SECRET_KEY": s.st.Key(), "STRIPE_WEBHOOK_SECRET": s.st.WebhookSecret(), "STRIPE_API_URL": stURL}
	for i := 0; i+1 < len(more); i += 2 {
		vars[more[i]] = more[i+1]
	}
	ctx := context.Background()
	require.NoError(t, run(ctx, []string{"migrate"}, env(vars), &bytes.Buffer{}, nil))
	applyDemo(t, vars, id, depositDemo)

	if refusals {
		checkRefusals(t, vars)
	}
	serveCtx, stop := context.WithCancel(ctx)
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() { done <- run(serveCtx, []string{"serve"}, env(vars), s.logs, ready) }()
	s.addr = <-ready
	t.Cleanup(func() {
		stop()
		require.NoError(t, <-done)
		for _, secret := range []string{s.st.Key(), s.st.WebhookSecret(), testProviderToken, s.tg.Token(), s.wa.Token()} {
			require.NotContains(t, s.logs.String(), secret, "no secret in the log")
		}
	})
	resp, err := http.PostForm(tgURL+"/bot"+s.tg.Token()+"/setWebhook",
		url.Values{"url": {"http://" + s.addr + "/telegram/webhook"}, "secret_token": {secret}})
	require.NoError(t, err)
	resp.Body.Close()
	s.wa.SetWebhook("http://" + s.addr + "/whatsapp/webhook")
	s.st.SetWebhook("http://" + s.addr + "/stripe/webhook")
	return s
}

// checkRefusals: without Stripe, or without Telegram's provider token, a
// salon asking deposits is refused at start, naming the variable.
func checkRefusals(t testing.TB, vars map[string]string) {
	t.Helper()
	ctx := context.Background()
	noStripe := map[string]string{}
	for k, v := range vars {
		if !strings.HasPrefix(k, "STRIPE_") {
			noStripe[k] = v
		}
	}
	err := run(ctx, []string{"serve"}, env(noStripe), &bytes.Buffer{}, nil)
	require.ErrorContains(t, err, "STRIPE_SECRET_KEY")
	noToken := map[string]string{}
	for k, v := range vars {
		if k != "TELEGRAM_PAYMENT_PROVIDER_TOKEN" {
			noToken[k] = v
		}
	}
	err = run(ctx, []string{"serve"}, env(noToken), &bytes.Buffer{}, nil)
	require.ErrorContains(t, err, "TELEGRAM_PAYMENT_PROVIDER_TOKEN")
}

// TestDepositsOverWhatsAppAndStripe: a WhatsApp client is sent a Stripe
// Checkout link; paid, the booking is confirmed once however often Stripe
// delivers the event; forged, old and replayed deliveries change nothing; a
// cancel 4+ days ahead is refunded through the Refunds API.
func TestDepositsOverWhatsAppAndStripe(t *testing.T) {
	t.Parallel()
	s := startDepositServer(t, "depwa")
	ctx := context.Background()
	pool := pgtest.Pool(t)
	olga := whatsapptest.Client{WaID: "4915112340000", Name: "Olga"}
	deliver := func(body []byte) {
		t.Helper()
		status, err := s.wa.Deliver(ctx, body)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status)
	}
	wait := func(n int) whatsapptest.Sent {
		t.Helper()
		var sent []whatsapptest.Sent
		require.Eventually(t, func() bool { sent = s.wa.SentTo(olga.WaID); return len(sent) > n }, 20*time.Second, 20*time.Millisecond,
			"no message %d from the salon; sent so far: %+v", n+1, s.wa.SentTo(olga.WaID))
		return sent[n]
	}
	press := func(m whatsapptest.Sent, label string) {
		t.Helper()
		for _, c := range append(m.Buttons, m.Rows...) {
			if c.Title == label {
				body, ok := s.wa.Reply(olga, m, c.ID)
				require.True(t, ok)
				deliver(body)
				return
			}
		}
		t.Fatalf("no button or row %q in %+v %+v", label, m.Buttons, m.Rows)
	}
	say := func(text string) { deliver(s.wa.TextMessage(olga, s.wa.NewWAMID(olga.WaID), text)) }

	say("Hi")
	press(wait(0), "Book")
	press(wait(1), "Haircut")
	press(wait(2), "Anna")
	say("5") // the fifth day offered: more than 48 hours ahead
	m := wait(4)
	require.Contains(t, m.Text, "Free times on")
	say("1")
	require.Contains(t, wait(5).Text, "name")
	say("Olga")
	wait(6)
	say("+49 151 12340000")
	press(wait(7), "Confirm")
	m = wait(8)
	require.Contains(t, m.Text, "please pay a deposit of €10 within 15 minutes")
	link := regexp.MustCompile(`https://checkout\.stripe\.com/c/pay/\S+`).FindString(m.Text)
	require.NotEmpty(t, link, m.Text)
	session := s.st.SessionByURL(link)
	require.NotEmpty(t, session)
	var bookingID, status string
	require.NoError(t, pool.QueryRow(ctx, `SELECT booking_id::text, status FROM bookings WHERE salon_id = 'depwa'`).Scan(&bookingID, &status))
	require.Equal(t, "awaiting_payment", status)
	require.Equal(t, bookingID, s.st.Session(session)["client_reference_id"])
	noChatInMetadata(t, s.st, session, olga.WaID)

	ev, err := s.st.Pay(ctx, session)
	require.NoError(t, err, "the webhook took the event")
	m = wait(9)
	require.Contains(t, m.Text, "Deposit of €10 received, thank you. You're booked: Haircut with Anna")
	var deposit string
	require.NoError(t, pool.QueryRow(ctx, `SELECT status, deposit_state FROM bookings WHERE booking_id = $1`, bookingID).Scan(&status, &deposit))
	require.Equal(t, []string{"confirmed", "paid"}, []string{status, deposit})
	require.Eventually(t, func() bool { return len(s.tg.SentTo(-900)) == 1 }, 10*time.Second, 20*time.Millisecond,
		"Anna's staff chat hears of the booking once it is paid")
	require.Contains(t, s.tg.SentTo(-900)[0].Text, "New booking. Master: Anna.")
	require.Contains(t, s.tg.SentTo(-900)[0].Text, "Deposit paid: €10.")

	// Stripe delivers the event again (signed anew): confirmed once, answered once.
	body, sig, err := s.st.Signed(ev, time.Now().Add(2*time.Second))
	require.NoError(t, err)
	code, err := s.st.Post(ctx, body, sig, ev)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	// Forged, old and replayed deliveries: 400, nothing stored.
	for name, d := range map[string]struct {
		body []byte
		sig  string
	}{
		"BadSignature": {body, stripetest.Sign(body, time.Now(), "whsec_notTheEndpointsSecret00")},
		"OldTimestamp": {body, stripetest.Sign(body, time.Now().Add(-stripe.Tolerance-time.Minute), s.st.WebhookSecret())},
		"Replayed":     {body, sig},
		"Unsigned":     {body, ""},
	} {
		code, err := s.st.Post(ctx, d.body, d.sig, ev)
		require.NoError(t, err, name)
		require.Equal(t, http.StatusBadRequest, code, name)
	}
	time.Sleep(300 * time.Millisecond) // a second answer would be queued by now
	require.Len(t, s.wa.SentTo(olga.WaID), 10, "answered once")
	var payments, inbox int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM payments WHERE booking_id = $1`, bookingID).Scan(&payments))
	require.Equal(t, 1, payments)
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM inbox WHERE salon_id = 'depwa' AND update_id LIKE 'stripe:%'`).Scan(&inbox))
	require.Equal(t, 1, inbox, "one inbox row per event id")
	require.Len(t, s.tg.SentTo(-900), 1, "one staff notice")

	// Cancelled four days ahead: the deposit goes back through Stripe's Refunds API.
	press(wait(9), "My bookings")
	m = wait(10)
	say("1")
	m = wait(11)
	require.Contains(t, m.Text, "Deposit paid: €10")
	press(m, "Cancel booking")
	m = wait(12)
	require.Contains(t, m.Text, "Your deposit of €10 is refunded if you cancel at least 48 hours before.")
	press(m, "Yes, cancel")
	m = wait(13)
	require.Contains(t, m.Text, "Your deposit of €10 will be refunded.")
	pi, _ := s.st.Session(session)["payment_intent"].(string)
	require.Eventually(t, func() bool { return s.st.Refunded(pi) == 1000 }, 20*time.Second, 50*time.Millisecond, "refunded through Stripe")
	require.Eventually(t, func() bool {
		var state, dep string
		return pool.QueryRow(ctx, `SELECT p.state, k.deposit_state FROM payments p JOIN bookings k USING (booking_id)
			WHERE k.booking_id = $1`, bookingID).Scan(&state, &dep) == nil && state == "refunded" && dep == "refunded"
	}, 10*time.Second, 50*time.Millisecond)
	require.Equal(t, 1, s.st.Refunds(), "once")

	// The web chat: the same page, and the payment confirms through the
	// chat's conversation; the client sees it in My bookings.
	const web = "webchat-session-0123456789"
	n := 0
	chat := func(field, value string) []map[string]any {
		t.Helper()
		n++
		body := fmt.Sprintf(`{"session":%q,"id":"m%d",%q:%q,"lang":"en"}`, web, n, field, value)
		resp, err := http.Post("http://"+s.addr+"/chat/api/messages", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var out struct {
			Replies []map[string]any `json:"replies"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return out.Replies
	}
	chat("command", "start")
	for _, c := range []string{"book", "s:haircut", "m:anna"} {
		chat("choice", c)
	}
	chat("text", "6")
	chat("text", "1")
	chat("text", "Petra")
	chat("text", "+49 151 76543219")
	replies := chat("choice", "ok")
	text := replies[0]["text"].(string)
	require.Contains(t, text, "please pay a deposit of €10")
	link = regexp.MustCompile(`https://checkout\.stripe\.com/c/pay/\S+`).FindString(text)
	session = s.st.SessionByURL(link)
	require.NotEmpty(t, session)
	require.Equal(t, "https://salon.example/chat", s.st.Session(session)["success_url"], "back to the chat")
	noChatInMetadata(t, s.st, session, web)
	_, err = s.st.Pay(ctx, session)
	require.NoError(t, err)
	chat("choice", "mine")
	replies = chat("text", "1")
	require.Contains(t, replies[0]["text"], "Deposit paid: €10.")
}

// noChatInMetadata: what Stripe is sent of a booking is its ids, never its
// chat (a phone number, a web chat's login token).
func noChatInMetadata(t *testing.T, st *stripetest.Server, session, chatID string) {
	t.Helper()
	meta, _ := st.Session(session)["metadata"].(map[string]string)
	for name, m := range map[string]map[string]string{"session": meta, "payment intent": st.IntentMetadata(session)} {
		require.ElementsMatch(t, []string{"booking", "salon"}, slices.Collect(maps.Keys(m)), name)
		for k, v := range m {
			require.NotContains(t, v, chatID, "%s metadata %s", name, k)
		}
	}
}

// TestDepositsOverTelegram: an invoice; the pre-checkout query answered in
// the webhook request; the successful payment confirms once, however often it
// comes; a pre-checkout for a booking whose window passed is refused.
func TestDepositsOverTelegram(t *testing.T) {
	t.Parallel()
	s := startDepositServer(t, "deptg")
	ctx := context.Background()
	pool := pgtest.Pool(t)
	const chat = 777000111
	ivan := telegramtest.User{ID: chat, FirstName: "Ivan", LanguageCode: "ru"}
	updateID := int64(800000000)
	deliver := func(update []byte) {
		t.Helper()
		status, err := s.tg.Deliver(ctx, update)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status)
	}
	wait := func(n int) telegramtest.SentMessage {
		t.Helper()
		var sent []telegramtest.SentMessage
		require.Eventually(t, func() bool { sent = s.tg.SentTo(chat); return len(sent) > n }, 20*time.Second, 20*time.Millisecond,
			"no message %d from the bot; sent so far: %+v", n+1, s.tg.SentTo(chat))
		return sent[n]
	}
	press := func(m telegramtest.SentMessage, label string) {
		t.Helper()
		for _, row := range m.Keyboard {
			for _, b := range row {
				if b.Text == label {
					updateID++
					deliver(telegramtest.CallbackUpdateOn(updateID, ivan, m, fmt.Sprint("cb", updateID), b.CallbackData))
					return
				}
			}
		}
		t.Fatalf("no button %q in %+v", label, m.Keyboard)
	}
	say := func(text string) {
		updateID++
		deliver(telegramtest.TextUpdate(updateID, chat, ivan, text))
	}
	// book holds and confirms Anna's first haircut time on the day-th day
	// offered; it returns the invoice and the count of messages so far.
	book := func(n int, day string) (telegramtest.SentMessage, int) {
		t.Helper()
		say("/start")
		press(wait(n), "Записаться")
		press(wait(n+1), "Стрижка")
		press(wait(n+2), "Анна")
		say(day)
		say("1")
		n += 5
		if n == 5 { // the first time: name and phone
			say("Иван")
			say("+7 912 345 67 89")
			n += 3 // name, phone, and the message that takes the phone's keyboard away
		}
		press(wait(n), "Подтвердить")
		require.Contains(t, wait(n+1).Text, "внесите, пожалуйста, предоплату 10\u00a0€ в течение 15 минут")
		inv := wait(n + 2)
		require.Equal(t, "sendInvoice", inv.Method)
		require.EqualValues(t, 1000, inv.Invoice.TotalAmount)
		require.Equal(t, "EUR", inv.Invoice.Currency)
		return inv, n + 3
	}
	inv, n := book(0, "5")
	var bookingID string
	require.NoError(t, pool.QueryRow(ctx, `SELECT booking_id::text FROM bookings WHERE salon_id = 'deptg' AND status = 'awaiting_payment'`).Scan(&bookingID))
	require.Equal(t, "dep:"+bookingID, inv.Invoice.Payload)

	updateID += 2
	res, err := s.tg.Pay(ctx, ivan, inv, updateID-1)
	require.NoError(t, err)
	require.True(t, res.Answered)
	require.True(t, res.OK, res.Message)
	t.Logf("pre-checkout answered in %s", res.Latency)
	require.Less(t, res.Latency, time.Second)
	m := wait(n)
	require.Contains(t, m.Text, "Предоплата 10\u00a0€ получена, спасибо. Вы записаны: Стрижка, мастер Анна")
	n++
	// The successful payment comes again (a redelivery, and the same charge
	// under another update): one confirmation.
	again := telegramtest.SuccessfulPaymentUpdate(updateID, m.MessageID+1, ivan, "EUR", 1000, inv.Invoice.Payload, res.ChargeID, res.ProviderChargeID)
	deliver(again)
	updateID++
	deliver(telegramtest.SuccessfulPaymentUpdate(updateID, m.MessageID+1, ivan, "EUR", 1000, inv.Invoice.Payload, res.ChargeID, res.ProviderChargeID))
	require.Contains(t, wait(n).Text, "Предоплата 10\u00a0€ получена", "the repeat is answered as the first")
	n++
	var payments int
	var status, deposit, charge, providerCharge string
	require.NoError(t, pool.QueryRow(ctx, `SELECT k.status, k.deposit_state, p.charge_id, p.provider_charge_id, (SELECT count(*) FROM payments WHERE booking_id = k.booking_id)
		FROM bookings k JOIN payments p USING (booking_id) WHERE k.booking_id = $1`, bookingID).Scan(&status, &deposit, &charge, &providerCharge, &payments))
	require.Equal(t, []string{"confirmed", "paid", res.ChargeID, res.ProviderChargeID}, []string{status, deposit, charge, providerCharge})
	require.Equal(t, 1, payments)
	require.Eventually(t, func() bool { return len(s.tg.SentTo(-900)) == 1 }, 10*time.Second, 20*time.Millisecond)

	// Another booking whose payment window has passed: the pre-checkout is refused.
	inv2, n := book(n, "6")
	_, err = pool.Exec(ctx, `UPDATE bookings SET hold_expires_at = now() - interval '1 minute' WHERE salon_id = 'deptg' AND status = 'awaiting_payment'`)
	require.NoError(t, err)
	updateID += 2
	res, err = s.tg.Pay(ctx, ivan, inv2, updateID-1)
	require.NoError(t, err)
	require.True(t, res.Answered)
	require.False(t, res.OK)
	require.Equal(t, "Это время больше не закреплено за вами: срок оплаты истёк. Запишитесь, пожалуйста, заново.", res.Message)
	time.Sleep(300 * time.Millisecond)
	require.Len(t, s.tg.SentTo(chat), n, "no payment, no answer")
}

// webChat posts the web chat's messages of one session, in lang.
func webChat(t *testing.T, addr, session string) func(field, value, lang string) []map[string]any {
	n := 0
	return func(field, value, lang string) []map[string]any {
		t.Helper()
		n++
		body := fmt.Sprintf(`{"session":%q,"id":"m%d",%q:%q,"lang":%q}`, session, n, field, value, lang)
		resp, err := http.Post("http://"+addr+"/chat/api/messages", "application/json", strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var out struct {
			Replies []map[string]any `json:"replies"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return out.Replies
	}
}

var checkoutLink = regexp.MustCompile(`https://checkout\.stripe\.com/c/pay/\S+`)

// TestStripePageKeptAndClosedWithItsBooking: "Pay deposit" again after a
// language switch gives the first page (no idempotency error); the page is
// closed through Stripe's API once its booking lapses or is cancelled, not
// 30 minutes later.
func TestStripePageKeptAndClosedWithItsBooking(t *testing.T) {
	t.Parallel()
	s := startDepositServerWith(t, "deppage", telegramtest.Options{PaymentProviderToken: testProviderToken}, false)
	ctx := context.Background()
	pool := pgtest.Pool(t)
	chat := webChat(t, s.addr, "webchat-session-page-0123456789")
	book := func(chat func(field, value, lang string) []map[string]any, day string) (link, bookingID string) {
		t.Helper()
		chat("command", "start", "en")
		for _, c := range []string{"book", "s:haircut", "m:anna"} {
			chat("choice", c, "en")
		}
		chat("text", day, "en")
		chat("text", "1", "en")
		chat("text", "Petra", "en")
		chat("text", "+49 151 76543219", "en")
		text, _ := chat("choice", "ok", "en")[0]["text"].(string)
		link = checkoutLink.FindString(text)
		require.NotEmpty(t, link, text)
		require.NoError(t, pool.QueryRow(ctx, `SELECT booking_id::text FROM bookings WHERE salon_id = 'deppage' AND status = 'awaiting_payment'`).Scan(&bookingID))
		return link, bookingID
	}
	link, first := book(chat, "6")
	session := s.st.SessionByURL(link)
	require.NotEmpty(t, session)

	// In Russian now, the deposit asked again: the same page.
	chat("choice", "lang", "en")
	chat("choice", "l:ru", "ru")
	chat("choice", "mine", "ru")
	chat("text", "1", "ru")
	text, _ := chat("choice", "pay:"+first, "ru")[0]["text"].(string)
	require.Equal(t, link, checkoutLink.FindString(text), text)
	require.Len(t, s.st.Sessions(), 1, "one session per booking")
	require.Equal(t, "open", s.st.Session(session)["status"])

	// The payment window lapses: the page is closed within seconds.
	_, err := pool.Exec(ctx, `UPDATE bookings SET hold_expires_at = now() - interval '1 second' WHERE booking_id = $1`, first)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return s.st.Session(session)["status"] == "expired" }, 20*time.Second, 50*time.Millisecond,
		"the lapsed booking's page is closed")

	// Another booking (another session: the chat's flood limit), cancelled
	// by the client: its page is closed too.
	chat = webChat(t, s.addr, "webchat-session-page-9876543210")
	link, second := book(chat, "7")
	session = s.st.SessionByURL(link)
	require.NotEmpty(t, session)
	chat("choice", "mine", "en")
	chat("text", "1", "en")
	asked := chat("choice", "cx:"+second, "en") // a cancel asks first
	yes := ""
	for _, r := range asked {
		choices, _ := r["choices"].([]any)
		for _, c := range choices {
			if id, _ := c.(map[string]any)["id"].(string); strings.HasPrefix(id, "cy:") {
				yes = id
			}
		}
	}
	require.NotEmpty(t, yes, "the cancel asks first: %v", asked)
	chat("choice", yes, "en")
	var status string
	require.NoError(t, pool.QueryRow(ctx, `SELECT status FROM bookings WHERE booking_id = $1`, second).Scan(&status))
	require.Equal(t, "cancelled", status)
	require.Eventually(t, func() bool { return s.st.Session(session)["status"] == "expired" }, 20*time.Second, 50*time.Millisecond,
		"the cancelled booking's page is closed")
	_, err = s.st.Pay(ctx, session)
	require.Error(t, err, "a closed page cannot be paid")
}
