package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/meta/metatest"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/telegram/telegramtest"
	"salonbook/src/adapters/whatsapp/whatsapptest"
	"salonbook/src/core/adreport"
)

// adServe runs serve for the demo salon id with Telegram on the fake Bot API
// and, when fake is not nil, reporting to Meta on the fake Conversions API.
func adServe(t *testing.T, id string, fake *metatest.Server) (tg *telegramtest.Server, addr string, logs *syncBuffer) {
	t.Helper()
	tg, tgURL := telegramtest.Start(t, telegramtest.Options{})
	const secret = "ads-webhook-secret-0123456789"
	vars := map[string]string{"DATABASE_URL": pgtest.URL(t), "HTTP_ADDR": "127.0.0.1:0", "SALONBOOK_API_TOKEN": "ads-token-0123456789",
		"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_WEBHOOK_SECRET": secret, "TELEGRAM_API_URL": tgURL,
		"TELEGRAM_BOT_USERNAME": "studio_anna_bot", "SALONBOOK_SALON": id}
	if fake != nil {
		vars["META_PIXEL_ID"], vars["META_CAPI_TOKEN"] = fake.Options().DatasetID, fake.Options().Token
		vars["META_API_URL"], vars["META_TEST_EVENT_CODE"] = fake.URL(), "TEST4242"
	}
	ctx := context.Background()
	require.NoError(t, run(ctx, []string{"migrate"}, env(vars), &bytes.Buffer{}, nil))
	applyDemo(t, vars, id, nil)
	serveCtx, stop := context.WithCancel(ctx)
	ready := make(chan string, 1)
	done := make(chan error, 1)
	logs = &syncBuffer{}
	go func() { done <- run(serveCtx, []string{"serve"}, env(vars), logs, ready) }()
	addr = <-ready
	t.Cleanup(func() {
		stop()
		require.NoError(t, <-done)
		if fake != nil {
			require.NotContains(t, logs.String(), fake.Options().Token, "the Conversions API token never reaches the log")
		}
	})
	resp, err := http.PostForm(tgURL+"/bot"+tg.Token()+"/setWebhook",
		url.Values{"url": {"http://" + addr + "/telegram/webhook"}, "secret_token": {secret}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return tg, addr, logs
}

// noRedirect is a client that shows a redirect instead of following it.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// TestAdsOverTelegramEndToEnd: a client clicks a salon's Instagram ad whose
// destination is salonbook's /go/telegram, lands in the bot through the deep
// link, and books. Meta's fake receives one Schedule, as "other" (Telegram is
// no business messaging channel of Meta's), with the click's fbc, the hashed
// client id and the service's price, in the test tab's code; the privacy note
// says bookings are reported.
func TestAdsOverTelegramEndToEnd(t *testing.T) {
	t.Parallel()
	fake := metatest.New(metatest.Options{Version: "v24.0"})
	t.Cleanup(fake.Close)
	salon := "adsdemo" + pgtest.RandomID() // a run of its own (go test -count=n shares the database)
	tg, addr, _ := adServe(t, salon, fake)
	ctx := context.Background()

	const fbclid = "IwZXh0bgNhZW0CMTAAAR2xyz_ABC-def_qrstuvwxyzABCDEFGHIJKLmnopQRSTUVwxyz98765-zyxwvutsrqponmlkjihgfedcba"
	before := time.Now()
	resp, err := noRedirect.Get("http://" + addr + "/go/telegram?fbclid=" + fbclid)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "t.me", loc.Host)
	require.Equal(t, "/studio_anna_bot", loc.Path)
	code := loc.Query().Get("start")
	require.Regexp(t, `^[A-Za-z0-9_-]{1,64}$`, code, "a start parameter Telegram takes (the fbclid is %d characters)", len(fbclid))
	require.NotContains(t, code, fbclid[:10])

	const chat = 222333444
	olga := telegramtest.User{ID: chat, FirstName: "Olga", LanguageCode: "en"}
	updateID := int64(600000000)
	deliver := func(update []byte) {
		t.Helper()
		status, err := tg.Deliver(ctx, update)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status)
	}
	wait := func(n int) telegramtest.SentMessage {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if sent := tg.SentTo(chat); len(sent) > n {
				return sent[n]
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("no message %d from the bot; sent so far: %+v", n+1, tg.SentTo(chat))
		return telegramtest.SentMessage{}
	}
	press := func(m telegramtest.SentMessage, label string) {
		t.Helper()
		for _, row := range m.Keyboard {
			for _, b := range row {
				if b.Text == label || (label == "#first" && b.Text != "Menu") {
					updateID++
					deliver(telegramtest.CallbackUpdateOn(updateID, olga, m, fmt.Sprint("cb", updateID), b.CallbackData))
					return
				}
			}
		}
		t.Fatalf("no button %q in %+v", label, m.Keyboard)
	}
	say := func(text string) {
		updateID++
		deliver(telegramtest.TextUpdate(updateID, chat, olga, text))
	}

	updateID++
	deliver(telegramtest.CommandUpdate(updateID, chat, olga, "/start "+code))
	m := wait(0)
	require.Contains(t, m.Text, "Hello!")
	press(m, "Book")
	press(wait(1), "Haircut")
	press(wait(2), "No preference")
	press(wait(3), "#first")
	press(wait(4), "#first")
	m = wait(5)
	require.Contains(t, m.Text, "What's your name?")
	require.Contains(t, m.Text, "reported to Meta to measure the ad", "the privacy note says so")
	say("Olga")
	wait(6)
	say("+49 151 23456789")
	require.True(t, wait(7).RemovesKeyboard, "the phone's reply keyboard goes away")
	m = wait(8)
	require.Contains(t, m.Text, "Shall I confirm the booking?")
	press(m, "Confirm")
	require.Contains(t, wait(9).Text, "You're booked")

	require.Eventually(t, func() bool { return len(fake.Events()) == 1 }, 20*time.Second, 20*time.Millisecond)
	pool := pgtest.Pool(t)
	var bookingID string
	var clientID, price int64
	var currency string
	require.NoError(t, pool.QueryRow(ctx, `SELECT booking_id::text, client_id, price_minor, currency FROM bookings WHERE salon_id = $1`, salon).
		Scan(&bookingID, &clientID, &price, &currency))
	ev := fake.Events()[0]
	require.Equal(t, "Schedule", ev.EventName)
	require.Equal(t, adreport.EventID(bookingID, adreport.Schedule), ev.EventID)
	require.Equal(t, "other", ev.ActionSource)
	require.Empty(t, ev.MessagingChannel)
	require.Equal(t, "TEST4242", ev.TestEventCode)
	require.Regexp(t, `^fb\.1\.[0-9]{13}\.`+fbclid+`$`, ev.UserData.FBC)
	ms, err := strconv.ParseInt(strings.Split(ev.UserData.FBC, ".")[2], 10, 64)
	require.NoError(t, err)
	require.False(t, time.UnixMilli(ms).Before(before.Truncate(time.Millisecond)), "the click's time")
	require.Equal(t, []string{adreport.ClientKey(salon, clientID)}, ev.UserData.ExternalID)
	require.Empty(t, ev.UserData.Phone, "the demo salon's consent does not cover a phone hash")
	require.InDelta(t, float64(price)/100, *ev.CustomData.Value, 0.001)
	require.Equal(t, currency, ev.CustomData.Currency)
	// Nothing personal in what was sent.
	for _, s := range []string{"Olga", "4915123456789", "23456789", strconv.Itoa(chat)} {
		require.NotContains(t, fmt.Sprintf("%+v", ev), s)
	}
}

// TestAdsOffByDefault: without META_PIXEL_ID there is no /go/telegram, the
// privacy note says nothing of Meta, and a /start with a click's code keeps
// nothing: no booking can be reported.
func TestAdsOffByDefault(t *testing.T) {
	t.Parallel()
	salon := "adsoff" + pgtest.RandomID()
	tg, addr, _ := adServe(t, salon, nil)
	ctx := context.Background()
	resp, err := noRedirect.Get("http://" + addr + "/go/telegram?fbclid=abc")
	require.NoError(t, err)
	resp.Body.Close()
	require.NotEqual(t, http.StatusFound, resp.StatusCode)

	pool := pgtest.Pool(t)
	_, err = pool.Exec(ctx, `INSERT INTO meta_clicks (code, salon_id, fbclid, clicked_at) VALUES ($1, $2, 'abc', now())`, "off"+salon, salon)
	require.NoError(t, err)
	const chat = 333444555
	olga := telegramtest.User{ID: chat, FirstName: "Olga", LanguageCode: "en"}
	status, err := tg.Deliver(ctx, telegramtest.CommandUpdate(700000001, chat, olga, "/start off"+salon))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	require.Eventually(t, func() bool { return len(tg.SentTo(chat)) == 1 }, 20*time.Second, 20*time.Millisecond)
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM meta_chats WHERE salon_id = $1`, salon).Scan(&n))
	require.Zero(t, n, "the click was not tied to the chat")
}

// TestMetaConfig: a bad value fails start-up naming the variable, never
// echoing the token.
func TestMetaConfig(t *testing.T) {
	t.Parallel()
	base := map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1/db"}
	with := func(kv ...string) func(string) string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return env(m)
	}
	c, err := loadConfig(with(), need{database: true})
	require.NoError(t, err)
	require.False(t, c.Meta.On(), "off by default")
	c, err = loadConfig(with("META_PIXEL_ID", "1234567890", "META_CAPI_TOKEN", "EAAB-secret-token"), need{database: true})
	require.NoError(t, err)
	require.True(t, c.Meta.On())
	require.Equal(t, "https://graph.facebook.com", c.Meta.APIURL)
	require.Equal(t, "v24.0", c.Meta.APIVersion)
	require.Equal(t, 10, c.Meta.ClicksPerAddr, "clicks per address: 10 by default")
	c, err = loadConfig(with("META_PIXEL_ID", "1234567890", "META_CAPI_TOKEN", "EAAB-secret-token", "META_CLICKS_PER_ADDR", "0"), need{database: true})
	require.NoError(t, err)
	require.Zero(t, c.Meta.ClicksPerAddr, "0: no limit per address")
	require.Equal(t, -1, newChatsPerAddr(c.Meta.ClicksPerAddr), "off for web.Config")
	for _, tc := range []struct {
		kv   []string
		name string
	}{
		{[]string{"META_PIXEL_ID", "1234567890"}, "META_CAPI_TOKEN"},
		{[]string{"META_CAPI_TOKEN", "EAAB-secret-token"}, "META_PIXEL_ID"},
		{[]string{"META_PIXEL_ID", "pixel", "META_CAPI_TOKEN", "EAAB-secret-token"}, "META_PIXEL_ID"},
		{[]string{"META_PIXEL_ID", "1234567890", "META_CAPI_TOKEN", "EAAB-secret-token", "META_API_VERSION", "24"}, "META_API_VERSION"},
		{[]string{"META_PIXEL_ID", "1234567890", "META_CAPI_TOKEN", "EAAB-secret-token", "META_API_URL", "ftp://x"}, "META_API_URL"},
		{[]string{"META_PIXEL_ID", "1234567890", "META_CAPI_TOKEN", "EAAB-secret-token", "META_TEST_EVENT_CODE", "a b"}, "META_TEST_EVENT_CODE"},
		{[]string{"META_PIXEL_ID", "1234567890", "META_CAPI_TOKEN", "EAAB-secret-token", "WHATSAPP_TOKEN", "wa-token",
			"WHATSAPP_APP_SECRET", "app-secret-0123456789", "WHATSAPP_VERIFY_TOKEN", "verify-token-0123456789",
			"WHATSAPP_PHONE_NUMBER_ID", "106540352242922"}, "WHATSAPP_BUSINESS_ACCOUNT_ID"},
		{[]string{"TELEGRAM_BOT_TOKEN", "1:x", "TELEGRAM_MODE", "polling", "TELEGRAM_BOT_USERNAME", "no"}, "TELEGRAM_BOT_USERNAME"},
		{[]string{"META_PIXEL_ID", "1234567890", "META_CAPI_TOKEN", "EAAB-secret-token", "META_CLICKS_PER_ADDR", "-1"}, "META_CLICKS_PER_ADDR"},
	} {
		_, err := loadConfig(with(tc.kv...), need{database: true})
		require.Error(t, err, "%v", tc.kv)
		require.Contains(t, err.Error(), tc.name)
		require.NotContains(t, err.Error(), "EAAB-secret-token")
	}
}

// TestAdsOverWhatsAppWithADeposit: a client writes from a click-to-WhatsApp
// ad (the message's referral carries ctwa_clid), books, and pays the deposit
// on Stripe's page. Meta's fake receives a Schedule (the price) and a
// Purchase (the deposit), both business_messaging on whatsapp with the click
// id and the business account, each once.
func TestAdsOverWhatsAppWithADeposit(t *testing.T) {
	t.Parallel()
	fake := metatest.New(metatest.Options{Version: "v24.0"})
	t.Cleanup(fake.Close)
	salon := "adswa" + pgtest.RandomID()
	s := startDepositServerWith(t, salon, telegramtest.Options{PaymentProviderToken: testProviderToken}, false,
		"META_PIXEL_ID", fake.Options().DatasetID, "META_CAPI_TOKEN", fake.Options().Token, "META_API_URL", fake.URL(),
		"WHATSAPP_BUSINESS_ACCOUNT_ID", "102290129340398")
	t.Cleanup(func() { require.NotContains(t, s.logs.String(), fake.Options().Token) })
	ctx := context.Background()
	olga := whatsapptest.Client{WaID: "4915112349999", Name: "Olga"}
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

	const clid = "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ2a"
	deliver(s.wa.AdMessage(olga, s.wa.NewWAMID(olga.WaID), "Hi, I saw your ad", clid))
	press(wait(0), "Book")
	press(wait(1), "Haircut")
	press(wait(2), "Anna")
	say("5")
	require.Contains(t, wait(4).Text, "Free times on")
	say("1")
	m := wait(5)
	require.Contains(t, m.Text, "name")
	require.Contains(t, m.Text, "reported to Meta to measure the ad")
	say("Olga")
	wait(6)
	say("+49 151 12349999")
	press(wait(7), "Confirm")
	m = wait(8)
	link := regexp.MustCompile(`https://checkout\.stripe\.com/c/pay/\S+`).FindString(m.Text)
	require.NotEmpty(t, link, m.Text)
	require.Empty(t, fake.Events(), "not booked until paid")
	_, err := s.st.Pay(ctx, s.st.SessionByURL(link))
	require.NoError(t, err)
	require.Contains(t, wait(9).Text, "Deposit of €10 received")

	require.Eventually(t, func() bool { return len(fake.Events()) == 2 }, 20*time.Second, 20*time.Millisecond, "%+v", fake.Refused())
	byName := map[string]metatest.Received{}
	for _, e := range fake.Events() {
		byName[e.EventName] = e
		require.Equal(t, "business_messaging", e.ActionSource)
		require.Equal(t, "whatsapp", e.MessagingChannel)
		require.Equal(t, clid, e.UserData.CtwaClid)
		require.Equal(t, "102290129340398", e.UserData.WhatsAppBusinessAccountID)
		require.Empty(t, e.UserData.Phone, "the demo salon's consent does not cover a phone hash")
		require.NotContains(t, fmt.Sprintf("%+v", e), olga.WaID)
	}
	require.InDelta(t, 10.00, *byName["Purchase"].CustomData.Value, 0.001, "the deposit")
	require.Greater(t, *byName["Schedule"].CustomData.Value, 10.0, "the price")
	pool := pgtest.Pool(t)
	require.Eventually(t, func() bool {
		var sent int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM meta_events WHERE salon_id = $1 AND state = 'sent'`, salon).Scan(&sent))
		return sent == 2
	}, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, 2, fake.Requests(), "each once")
}
