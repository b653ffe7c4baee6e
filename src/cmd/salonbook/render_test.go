package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/telegram/telegramtest"
	"salonbook/src/adapters/whatsapp/whatsapptest"
)

// update rewrites testdata/render/*.golden: go test ./src/cmd/salonbook/ -run TestChannelTranscripts -update
var update = flag.Bool("update", false, "rewrite testdata/render/*.golden from the current output")

// renderClock is what serve's clock reads when a channel transcript starts:
// Monday 1 March 2027, 07:50 in Berlin. It then runs in real time (a
// transcript takes seconds, so no time shown changes). Not 08:00: with two
// hours' notice the 10:00 start sat exactly on the edge, offered or not by
// how many milliseconds the transcript had run.
const renderClock = "2027-03-01T06:50:00Z"

// renderFlow is one conversation of issue 14, played the same way on every
// channel. A script line is "[who] verb: arg":
//   - text: what the client types;
//   - pick: the choice the client presses, by its id ("s:haircut", "ok"), by
//     an id prefix and its order ("b:#1": the first choice whose id begins
//     "b:"), or a time "t@2027-03-02T12:00" (Berlin): ids, not labels, so the
//     scripts outlive a rewording of the catalogs;
//   - restart: the web chat's page is reloaded (the transcript the server
//     restores is shown); Telegram's and WhatsApp's server is stopped and
//     started again on the same database.
//
// Lines without a name are the first client's.
type renderFlow struct {
	name    string
	lang    string
	clients []string
	script  []string
}

func renderFlows() []renderFlow {
	var flows []renderFlow
	add := func(name string, en, ru []string, clients ...[2]string) {
		flows = append(flows, renderFlow{name + "_en", "en", []string{clients[0][0]}, en},
			renderFlow{name + "_ru", "ru", []string{clients[0][1]}, ru})
		if len(clients) > 1 {
			flows[len(flows)-2].clients = append(flows[len(flows)-2].clients, clients[1][0])
			flows[len(flows)-1].clients = append(flows[len(flows)-1].clients, clients[1][1])
		}
	}
	client := [2]string{"olga", "ivan"}
	// book is the pressed way to a hold on (master, day, time), then name and phone.
	book := func(master, day, at, name, phone string) []string {
		return []string{"pick: book", "pick: s:haircut", "pick: m:" + master, "pick: d:" + day, "pick: t@" + day + "T" + at,
			"text: " + name, "text: " + phone}
	}
	add("one_sentence",
		[]string{"text: Haircut with Anna tomorrow at 11am", "text: Olga", "text: +49 151 23456789", "text: yes"},
		[]string{"text: Запишите меня на стрижку к Анне завтра в 11 утра", "text: Иван", "text: +7 912 345 67 89", "text: да"},
		client)
	add("partial",
		[]string{"text: tomorrow at 5pm please", "pick: s:haircut", "pick: t@2027-03-02T15:00", "text: Olga", "text: +49 151 23456789",
			"pick: ok"},
		[]string{"text: хочу на маникюр", "text: в четверг", "text: в 11", "text: Иван", "text: +7 912 345 67 89", "text: да"},
		client)
	add("ambiguous",
		[]string{"text: book with Anna at 11", "pick: s:manicure", "text: Olga", "text: +49 151 23456789", "pick: other",
			"text: with Boris tomorrow at 3", "pick: s:haircut", "text: yes"},
		[]string{"text: к Анне в 11", "pick: s:haircut", "text: Иван", "text: +7 912 345-67-89",
			"text: нет, лучше в пятницу в 12.30", "text: в 12", "text: да"},
		client)
	cancel := func(hi, name, phone string) []string {
		s := append([]string{"text: " + hi}, book("anna", "2027-03-02", "10:00", name, phone)...)
		return append(s, "pick: ok",
			"pick: mine", "pick: b:#1", "pick: cx:#1", "pick: kn:#1", // No: kept
			"pick: mine", "pick: b:#1", "pick: cx:#1", "pick: cy:#1", // Yes: cancelled
			"pick: mine")
	}
	add("cancel", cancel("hi", "Olga", "+49 151 23456789"), cancel("привет", "Иван", "+7 912 345 67 89"), client)
	add("move_master",
		[]string{"text: haircut with Anna on Wednesday at 10", "text: Olga", "text: +49 151 23456789", "text: yes",
			"pick: mine", "pick: b:#1", "pick: mv:#1", "pick: my:#1", "pick: mm", "pick: m:boris", "pick: d:2027-03-04",
			"pick: t@2027-03-04T13:00", "pick: mine"},
		[]string{"text: стрижка у Анны в среду в 10", "text: Иван", "text: +7 912 345 67 89", "text: да",
			"text: перенести запись к Борису на четверг в 14", "pick: t@2027-03-04T14:00", "text: мои записи"},
		client)
	restart := func(hi, name, phone string) []string {
		s := append([]string{"text: " + hi}, book("anna", "2027-03-02", "10:30", name, phone)...)
		return append(s, "restart", "pick: ok", "pick: mine")
	}
	add("restart_mid_flow", restart("hi", "Olga", "0151 23456789"), restart("привет", "Иван", "+7 912 345-67-89"), client)
	// other: first and second are "chat name" pairs.
	other := func(hi string, first, second [2]string, phone string) []string {
		var s []string
		for _, l := range append([]string{"text: " + hi}, book("anna", "2027-03-02", "12:00", first[1], phone)...) {
			s = append(s, first[0]+" "+l)
		}
		s = append(s, first[0]+" pick: ok")
		// The second types the first's number, for Boris at the same time: a
		// booking of their own, in their own name; My bookings shows only theirs.
		for _, l := range append([]string{"text: " + hi}, book("boris", "2027-03-02", "12:00", second[1], phone)...) {
			s = append(s, second[0]+" "+l)
		}
		return append(s, second[0]+" pick: ok", second[0]+" pick: mine")
	}
	add("phone_of_another", other("hi", [2]string{"olga", "Olga"}, [2]string{"petra", "Petra"}, "+49 151 23456789"),
		other("привет", [2]string{"ivan", "Иван"}, [2]string{"maria", "Мария"}, "0151 2345 6789"),
		client, [2]string{"petra", "maria"})
	erase := func(hi, name, phrase string) []string {
		s := append([]string{"text: " + hi}, book("anna", "2027-03-02", "11:00", name, "+49 151 23456789")...)
		return append(s, "pick: ok", "text: "+phrase, "pick: erase:no", "pick: help", "pick: erase", "pick: erase:yes", "pick: mine",
			"restart")
	}
	add("delete_my_data", erase("hi", "Olga", "Delete my data!"), erase("привет", "Иван", "удалить мои данные"), client)
	return flows
}

// channelClient plays one channel's side of a transcript: it sends what the
// client does and writes what the client then sees.
type channelClient interface {
	// start is called once the server listens at addr (again after a restart).
	start(t *testing.T, addr string)
	text(t *testing.T, who, text string)
	// pick presses the choice that id (see renderFlow) names on what who sees.
	pick(t *testing.T, who, id string)
	// seen writes what who was shown since the last call.
	seen(t *testing.T, out *strings.Builder)
	// reload: the web page is reloaded; other channels do nothing.
	reload(t *testing.T, out *strings.Builder)
	env(vars map[string]string)
	setPool(pool *pgxpool.Pool)
}

// TestChannelTranscripts plays the conversations of issue 14 (both languages)
// through the real server on each channel, and writes what the client sees
// there: Telegram's messages and edits with their inline keyboards as the fake
// Bot API stored them, WhatsApp's interactive messages (body, buttons, list
// rows) as the fake Graph API took them, and the web chat's JSON as the page
// renders it. Golden files in testdata/render; -update rewrites them.
func TestChannelTranscripts(t *testing.T) {
	t.Parallel()
	for _, channel := range []string{"telegram", "whatsapp", "web"} {
		for _, f := range renderFlows() {
			t.Run(channel+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				var c channelClient
				switch channel {
				case "telegram":
					c = newTelegramClient(t, f)
				case "whatsapp":
					c = newWhatsAppClient(t, f)
				default:
					c = newWebClient(f)
				}
				got := playChannel(t, c, f)
				renderGolden(t, channel+"_"+f.name, got)
			})
		}
	}
}

// playChannel serves a salon of its own with the channel on, plays the script
// and returns the transcript with random ids named by order of appearance.
func playChannel(t *testing.T, c channelClient, f renderFlow) string {
	ctx := context.Background()
	vars := map[string]string{"DATABASE_URL": pgtest.URL(t), "HTTP_ADDR": "127.0.0.1:0", "SALONBOOK_API_TOKEN": "render-token-0123456789",
		"LOADTEST_CLOCK_START": renderClock, "LOADTEST_CLOCK_AT": time.Now().UTC().Format(time.RFC3339Nano),
		"PUBLIC_URL": "http://salon.example"}
	c.env(vars)
	pool := pgtest.Pool(t)
	c.setPool(pool)
	require.NoError(t, run(ctx, []string{"migrate"}, env(vars), &bytes.Buffer{}, nil))
	salonID := "r" + pgtest.RandomID()
	file, err := os.ReadFile(filepath.Join("testdata", "render", "salon.yaml"))
	require.NoError(t, err)
	file = regexp.MustCompile(`(?m)^(  id: )render$`).ReplaceAll(file, []byte("${1}"+salonID))
	if f.lang == "ru" {
		file = bytes.Replace(file, []byte("locales: [en, ru]"), []byte("locales: [ru, en]"), 1)
	}
	path := filepath.Join(t.TempDir(), "salon.yaml")
	require.NoError(t, os.WriteFile(path, file, 0o600))
	require.NoError(t, run(ctx, []string{"apply", path}, env(vars), &bytes.Buffer{}, nil))
	vars["SALONBOOK_SALON"] = salonID

	refs := map[string]bool{}
	var out strings.Builder
	defer func() {
		if t.Failed() {
			t.Logf("transcript so far:\n%s", out.String())
		}
	}()
	stop := serveOnce(t, vars, c)
	defer func() { stop() }()
	for _, line := range f.script {
		who := f.clients[0]
		if name, rest, ok := strings.Cut(line, " "); ok && contains(f.clients, name) {
			who, line = name, rest
		}
		verb, arg, _ := strings.Cut(line, ": ")
		switch verb {
		case "text":
			fmt.Fprintf(&out, "%s > types %q\n", who, arg)
			c.text(t, who, arg)
		case "pick":
			fmt.Fprintf(&out, "%s > presses %s\n", who, arg)
			c.pick(t, who, timeChoice(t, arg))
		case "restart":
			if _, web := c.(*webClient); web {
				c.reload(t, &out)
				continue
			}
			stop()
			fmt.Fprintf(&out, "-- the server is stopped and started again\n")
			stop = serveOnce(t, vars, c)
			continue
		default:
			t.Fatalf("bad script line %q", line)
		}
		c.seen(t, &out)
		rows, err := pool.Query(ctx, `SELECT reference FROM booking_refs WHERE salon_id = $1`, salonID)
		require.NoError(t, err)
		for rows.Next() {
			var r string
			require.NoError(t, rows.Scan(&r))
			refs[r] = true
		}
		require.NoError(t, rows.Err())
	}
	// What the salon's books hold afterwards: each booking, whose it is.
	rows, err := pool.Query(ctx, `SELECT b.master_id, to_char(b.starts_at AT TIME ZONE 'Europe/Berlin', 'Dy DD Mon HH24:MI'), b.status,
			c.name, c.phone, b.source
		FROM bookings b JOIN clients c USING (client_id) WHERE b.salon_id = $1 ORDER BY b.created_at, b.booking_id`, salonID)
	require.NoError(t, err)
	for rows.Next() {
		var master, start, status, name, phone, source string
		require.NoError(t, rows.Scan(&master, &start, &status, &name, &phone, &source))
		source, _, _ = strings.Cut(source, ":") // the channel; its chat id is random on the web
		fmt.Fprintf(&out, "-- booking: %s %s %s, client %q %q, by %s\n", master, start, status, name, phone, source)
	}
	require.NoError(t, rows.Err())
	return scrubRender(out.String(), refs)
}

// serveOnce runs serve until the returned stop is called.
func serveOnce(t *testing.T, vars map[string]string, c channelClient) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	var logs syncBuffer
	go func() { done <- run(ctx, []string{"serve"}, env(vars), &logs, ready) }()
	select {
	case addr := <-ready:
		c.start(t, addr)
	case err := <-done:
		cancel()
		t.Fatalf("serve stopped: %v\n%s", err, logs.String())
	}
	stopped := false
	return func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		require.NoError(t, <-done)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// timeChoice turns "t@2027-03-02T12:00" (Berlin) into the time's choice id.
func timeChoice(t *testing.T, id string) string {
	at, ok := strings.CutPrefix(id, "t@")
	if !ok {
		return id
	}
	tm, err := time.ParseInLocation("2006-01-02T15:04", at, pgtest.Berlin)
	require.NoError(t, err)
	return fmt.Sprintf("t:%d", tm.Unix())
}

// findChoice picks among ids as id names one (see renderFlow); "" when none does.
func findChoice(ids []string, id string) string {
	if prefix, n, ok := strings.Cut(id, "#"); ok {
		k, err := strconv.Atoi(n)
		if err != nil {
			return ""
		}
		for _, x := range ids {
			if strings.HasPrefix(x, prefix) {
				if k--; k == 0 {
					return x
				}
			}
		}
		return ""
	}
	if contains(ids, id) {
		return id
	}
	return ""
}

var (
	renderUUID  = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	renderToken = regexp.MustCompile(`/booking/[A-Za-z0-9_-]{22,}\.ics`)
)

// scrubRender names booking ids, references and calendar tokens (random) by
// their order of appearance.
func scrubRender(s string, refs map[string]bool) string {
	name := func(re *regexp.Regexp, form string) {
		seen := map[string]string{}
		s = re.ReplaceAllStringFunc(s, func(m string) string {
			if _, ok := seen[m]; !ok {
				seen[m] = fmt.Sprintf(form, len(seen)+1)
			}
			return seen[m]
		})
	}
	name(renderUUID, "<booking-%d>")
	name(renderToken, "/booking/<token-%d>.ics")
	if len(refs) > 0 {
		var alts []string
		for r := range refs {
			alts = append(alts, regexp.QuoteMeta(r))
		}
		sort.Strings(alts)
		name(regexp.MustCompile(`\b(`+strings.Join(alts, "|")+`)\b`), "<ref-%d>")
	}
	return s
}

func renderGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "render", name+".golden")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "go test ./src/cmd/salonbook/ -run TestChannelTranscripts -update creates %s", path)
	require.Equal(t, string(want), got, "transcript %s changed; if intended, rerun with -update and review the diff", name)
}

// indent writes text as the client sees it, under "who <".
func indent(out *strings.Builder, who, head, text string) {
	for i, l := range strings.Split(text, "\n") {
		if i == 0 {
			fmt.Fprintf(out, "%s < %s%s\n", who, head, l)
			continue
		}
		fmt.Fprintf(out, "    %s\n", l)
	}
}

// settle waits until the salon has no update waiting and no message unsent:
// whatever the last action caused has reached the fake.
func settle(t *testing.T, pool *pgxpool.Pool, salonID string, more func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if more() {
			var waiting int
			require.NoError(t, pool.QueryRow(context.Background(), `
				SELECT (SELECT count(*) FROM inbox WHERE salon_id = $1 AND handled_at IS NULL)
				     + (SELECT count(*) FROM outbox WHERE salon_id = $1 AND sent_at IS NULL AND failed IS NULL)`, salonID).Scan(&waiting))
			if waiting == 0 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no answer within 30 s")
}

// telegramClient: the real go-telegram client in serve, the fake Bot API here.
type telegramClient struct {
	fake     *telegramtest.Server
	url      string
	users    map[string]telegramtest.User
	updateID int64
	shown    map[int64]int // messages of a chat already written
	vars     map[string]string
	pool     *pgxpool.Pool
}

func (c *telegramClient) setPool(p *pgxpool.Pool) { c.pool = p }

const (
	renderWebhookSecret = "render-webhook-secret-0123456789"
	firstUpdateID       = 700000000
)

func newTelegramClient(t *testing.T, f renderFlow) *telegramClient {
	fake, u := telegramtest.Start(t, telegramtest.Options{})
	c := &telegramClient{fake: fake, url: u, users: map[string]telegramtest.User{}, updateID: firstUpdateID, shown: map[int64]int{}}
	for i, who := range f.clients {
		c.users[who] = telegramtest.User{ID: int64(1001 + i), FirstName: strings.ToUpper(who[:1]) + who[1:], LanguageCode: f.lang}
	}
	return c
}

func (c *telegramClient) env(vars map[string]string) {
	c.vars = vars
	vars["TELEGRAM_BOT_TOKEN"], vars["TELEGRAM_WEBHOOK_SECRET"], vars["TELEGRAM_API_URL"] = c.fake.Token(), renderWebhookSecret, c.url
}

func (c *telegramClient) start(t *testing.T, addr string) {
	resp, err := http.PostForm(c.url+"/bot"+c.fake.Token()+"/setWebhook",
		url.Values{"url": {"http://" + addr + "/telegram/webhook"}, "secret_token": {renderWebhookSecret}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func (c *telegramClient) deliver(t *testing.T, update []byte) {
	status, err := c.fake.Deliver(context.Background(), update)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
}

func (c *telegramClient) text(t *testing.T, who, text string) {
	c.updateID++
	u := c.users[who]
	c.deliver(t, telegramtest.TextUpdate(c.updateID, u.ID, u, text))
}

// pick presses a button of the newest message of the chat that has a keyboard.
func (c *telegramClient) pick(t *testing.T, who, id string) {
	u := c.users[who]
	sent := c.fake.SentTo(u.ID)
	for i := len(sent) - 1; i >= 0; i-- {
		if sent[i].Keyboard == nil {
			continue
		}
		var ids []string
		for _, row := range sent[i].Keyboard {
			for _, b := range row {
				ids = append(ids, b.CallbackData)
			}
		}
		data := findChoice(ids, id)
		if data == "" {
			continue // an answer of two messages: the button is on the one before
		}
		c.updateID++
		c.deliver(t, telegramtest.CallbackUpdateOn(c.updateID, u, sent[i], fmt.Sprint("cb", c.updateID), data))
		return
	}
	t.Fatalf("%s: no button %q on any message", who, id)
}

func (c *telegramClient) seen(t *testing.T, out *strings.Builder) {
	settle(t, c.pool, c.vars["SALONBOOK_SALON"], func() bool {
		for _, u := range c.users {
			if len(c.fake.SentTo(u.ID)) > c.shown[u.ID] {
				return true
			}
		}
		return false
	})
	names := make([]string, 0, len(c.users))
	for who := range c.users {
		names = append(names, who)
	}
	sort.Slice(names, func(i, j int) bool { return c.users[names[i]].ID < c.users[names[j]].ID })
	for _, who := range names {
		id := c.users[who].ID
		sent := c.fake.SentTo(id)
		for _, m := range sent[c.shown[id]:] {
			// Message ids count the client's messages too (from the first update id).
			head := fmt.Sprintf("[new message %d] ", m.MessageID-firstUpdateID)
			if m.Method == "editMessageText" {
				head = fmt.Sprintf("[edits message %d] ", m.MessageID-firstUpdateID)
			}
			indent(out, who, head, m.Text)
			for _, row := range m.Keyboard {
				var bs []string
				for _, b := range row {
					bs = append(bs, fmt.Sprintf("[%s → %s]", b.Text, b.CallbackData))
				}
				fmt.Fprintf(out, "    %s\n", strings.Join(bs, " "))
			}
			if m.Markup != "" {
				fmt.Fprintf(out, "    %s\n", replyMarkup(m.Markup))
			}
		}
		c.shown[id] = len(sent)
	}
}

// replyMarkup describes a markup other than an inline keyboard as the client
// sees it: a reply keyboard under the input field, or its removal.
func replyMarkup(raw string) string {
	var m struct {
		Keyboard [][]struct {
			Text           string `json:"text"`
			RequestContact bool   `json:"request_contact"`
		} `json:"keyboard"`
		Remove bool `json:"remove_keyboard"`
	}
	if json.Unmarshal([]byte(raw), &m) != nil {
		return "markup: " + raw
	}
	if m.Remove {
		return "(the reply keyboard goes away)"
	}
	var rows []string
	for _, row := range m.Keyboard {
		var bs []string
		for _, b := range row {
			if b.RequestContact {
				bs = append(bs, fmt.Sprintf("[%s → shares the contact]", b.Text))
			} else {
				bs = append(bs, fmt.Sprintf("[%s]", b.Text))
			}
		}
		rows = append(rows, strings.Join(bs, " "))
	}
	if len(rows) == 0 {
		return "markup: " + raw
	}
	return "reply keyboard: " + strings.Join(rows, " / ")
}

func (c *telegramClient) reload(*testing.T, *strings.Builder) {}

// whatsAppClient: serve's Cloud API client, the fake Graph API here.
type whatsAppClient struct {
	fake    *whatsapptest.Server
	url     string
	clients map[string]whatsapptest.Client
	order   []string
	shown   map[string]int
	vars    map[string]string
	pool    *pgxpool.Pool
}

func (c *whatsAppClient) setPool(p *pgxpool.Pool) { c.pool = p }

func newWhatsAppClient(t *testing.T, f renderFlow) *whatsAppClient {
	fake, u := whatsapptest.Start(t, whatsapptest.Options{})
	c := &whatsAppClient{fake: fake, url: u, clients: map[string]whatsapptest.Client{}, order: f.clients, shown: map[string]int{}}
	for i, who := range f.clients {
		c.clients[who] = whatsapptest.Client{WaID: fmt.Sprintf("4917000000%02d", i+1), Name: strings.ToUpper(who[:1]) + who[1:]}
	}
	return c
}

func (c *whatsAppClient) env(vars map[string]string) {
	c.vars = vars
	vars["WHATSAPP_TOKEN"], vars["WHATSAPP_APP_SECRET"], vars["WHATSAPP_VERIFY_TOKEN"] = c.fake.Token(), c.fake.AppSecret(), "verify-token-0123456789"
	vars["WHATSAPP_PHONE_NUMBER_ID"], vars["WHATSAPP_API_URL"], vars["WHATSAPP_API_VERSION"] = c.fake.PhoneNumberID(), c.url, "v24.0"
	vars["WHATSAPP_TEMPLATES"] = "en=salon_message,ru=salon_message_ru"
}

func (c *whatsAppClient) start(_ *testing.T, addr string) {
	c.fake.SetWebhook("http://" + addr + "/whatsapp/webhook")
}

func (c *whatsAppClient) deliver(t *testing.T, body []byte) {
	status, err := c.fake.Deliver(context.Background(), body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
}

func (c *whatsAppClient) text(t *testing.T, who, text string) {
	cl := c.clients[who]
	c.deliver(t, c.fake.TextMessage(cl, c.fake.NewWAMID(cl.WaID), text))
}

// pick presses a button or list row of the newest interactive message.
func (c *whatsAppClient) pick(t *testing.T, who, id string) {
	cl := c.clients[who]
	sent := c.fake.SentTo(cl.WaID)
	for i := len(sent) - 1; i >= 0; i-- {
		m := sent[i]
		if len(m.Buttons)+len(m.Rows) == 0 {
			continue
		}
		var ids []string
		for _, ch := range append(append([]whatsapptest.Choice(nil), m.Buttons...), m.Rows...) {
			ids = append(ids, ch.ID)
		}
		choice := findChoice(ids, id)
		if choice == "" {
			continue // an answer of two messages: the choice is on the one before
		}
		body, ok := c.fake.Reply(cl, m, choice)
		require.True(t, ok)
		c.deliver(t, body)
		return
	}
	t.Fatalf("%s: no button or row %q on any message", who, id)
}

func (c *whatsAppClient) seen(t *testing.T, out *strings.Builder) {
	settle(t, c.pool, c.vars["SALONBOOK_SALON"], func() bool {
		for who, cl := range c.clients {
			if len(c.fake.SentTo(cl.WaID)) > c.shown[who] {
				return true
			}
		}
		return false
	})
	c.fake.Settle()
	for _, who := range c.order {
		sent := c.fake.SentTo(c.clients[who].WaID)
		for _, m := range sent[c.shown[who]:] {
			requireWithinLimits(t, m)
			head := "[" + m.Type
			if m.Kind != "" {
				head += " " + m.Kind
			}
			if m.Template != "" {
				head += " " + m.Template + " " + m.Language
			}
			head += "] "
			indent(out, who, head, m.Text)
			if len(m.Params) > 0 {
				fmt.Fprintf(out, "    params: %q\n", m.Params)
			}
			if len(m.Buttons) > 0 {
				var bs []string
				for _, b := range m.Buttons {
					bs = append(bs, fmt.Sprintf("[%s → %s]", b.Title, b.ID))
				}
				fmt.Fprintf(out, "    buttons: %s\n", strings.Join(bs, " "))
			}
			if len(m.Rows) > 0 {
				fmt.Fprintf(out, "    list %q:\n", m.ListText)
				for _, r := range m.Rows {
					desc := ""
					if r.Description != "" {
						desc = " — " + r.Description
					}
					fmt.Fprintf(out, "      %s%s → %s\n", r.Title, desc, r.ID)
				}
			}
		}
		c.shown[who] = len(sent)
	}
}

func (c *whatsAppClient) reload(*testing.T, *strings.Builder) {}

// webClient: the chat page's own requests to /chat and /chat/api/messages.
type webClient struct {
	base    string
	lang    string
	order   []string
	http    map[string]*http.Client
	last    map[string][]webReply // the buttons the page shows, by client
	pending map[string][]webReply // the last answer, not yet written
	seq     int
	pageLng map[string]string
	// langNote: the answer's "lang" changed the page's language (its labels, lang and placeholder).
	langNote map[string]string
}

type webReply struct {
	Text    string `json:"text"`
	Choices []struct {
		ID    string `json:"id"`
		Label string `json:"label"`
	} `json:"choices"`
}

func newWebClient(f renderFlow) *webClient {
	c := &webClient{lang: f.lang, order: f.clients, http: map[string]*http.Client{}, last: map[string][]webReply{},
		pending: map[string][]webReply{}, pageLng: map[string]string{}, langNote: map[string]string{}}
	for _, who := range f.clients {
		jar, _ := cookiejar.New(nil)
		c.http[who] = &http.Client{Jar: jar, Timeout: 20 * time.Second}
	}
	return c
}

func (c *webClient) env(map[string]string) {}

func (c *webClient) setPool(*pgxpool.Pool) {}

// start opens the chat page for each client: the session cookie is set.
func (c *webClient) start(t *testing.T, addr string) {
	c.base = "http://" + addr
	for _, who := range c.order {
		resp, err := c.http[who].Get(c.base + "/chat")
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
}

func (c *webClient) post(t *testing.T, who string, field, value string) {
	c.seq++
	body, err := json.Marshal(map[string]string{"id": fmt.Sprint("m", c.seq), field: value, "lang": c.lang})
	require.NoError(t, err)
	resp, err := c.http[who].Post(c.base+"/chat/api/messages", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got struct {
		Replies []webReply `json:"replies"`
		Lang    string     `json:"lang"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	c.last[who], c.pending[who] = got.Replies, got.Replies
	if got.Lang != c.pageLng[who] {
		c.pageLng[who] = got.Lang
		c.langNote[who] = got.Lang
	}
}

func (c *webClient) text(t *testing.T, who, text string) { c.post(t, who, "text", text) }

func (c *webClient) pick(t *testing.T, who, id string) {
	var ids []string
	for _, r := range c.last[who] {
		for _, ch := range r.Choices {
			ids = append(ids, ch.ID)
		}
	}
	choice := findChoice(ids, id)
	require.NotEmpty(t, choice, "no button %q among %v", id, ids)
	c.post(t, who, "choice", choice)
}

func writeWebReplies(out *strings.Builder, who string, rs []webReply) {
	for _, r := range rs {
		indent(out, who, "", r.Text)
		if len(r.Choices) > 0 {
			var bs []string
			for _, ch := range r.Choices {
				bs = append(bs, fmt.Sprintf("[%s → %s]", ch.Label, ch.ID))
			}
			fmt.Fprintf(out, "    %s\n", strings.Join(bs, " "))
		}
	}
}

func (c *webClient) seen(_ *testing.T, out *strings.Builder) {
	for _, who := range c.order {
		if l := c.langNote[who]; l != "" {
			fmt.Fprintf(out, "-- the page's language is now %s\n", l)
			c.langNote[who] = ""
		}
		writeWebReplies(out, who, c.pending[who])
		c.pending[who] = nil
	}
}

// reload loads the page again: it sends nothing and shows the transcript the
// server keeps (GET /chat/api/messages), the last buttons live again.
func (c *webClient) reload(t *testing.T, out *strings.Builder) {
	who := c.order[0]
	fmt.Fprintf(out, "%s > reloads the page\n", who)
	resp, err := c.http[who].Get(c.base + "/chat")
	require.NoError(t, err)
	resp.Body.Close()
	resp, err = c.http[who].Get(c.base + "/chat/api/messages")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var got struct {
		Lang     string `json:"lang"`
		Messages []struct {
			From string `json:"from"`
			webReply
		} `json:"messages"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	fmt.Fprintf(out, "-- the page restores its transcript (lang %q):\n", got.Lang)
	var last []webReply
	for _, m := range got.Messages {
		if m.From == "client" {
			fmt.Fprintf(out, "   | %s > %s\n", who, strings.ReplaceAll(m.Text, "\n", " / "))
			continue
		}
		var b strings.Builder
		writeWebReplies(&b, who, []webReply{m.webReply})
		for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
			fmt.Fprintf(out, "   | %s\n", l)
		}
		if len(m.Choices) > 0 {
			last = []webReply{m.webReply}
		}
	}
	c.last[who] = last
}
