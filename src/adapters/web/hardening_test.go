package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/web"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
)

// hardBundle is a server over store with a log the test reads, an optional
// request deadline and the echoing chat.
type hardBundle struct {
	srv  *httptest.Server
	log  *lockedBuffer
	chat *fakeChat
}

func newHardBundle(t *testing.T, store booking.Store, salonID string, timeout time.Duration) *hardBundle {
	t.Helper()
	clock := &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}
	b := &hardBundle{log: &lockedBuffer{}, chat: &fakeChat{}}
	b.srv = httptest.NewServer(web.Handler(web.Config{
		Bookings: booking.New(store, clock), SalonID: salonID, APIToken: token,
		Ready:  func(context.Context) error { return nil },
		Logger: slog.New(slog.NewJSONHandler(b.log, nil)), Clock: clock, Chat: b.chat,
		RequestTimeout: timeout,
	}))
	t.Cleanup(b.srv.Close)
	return b
}

// do sends body (raw) with the API token and returns the status and the decoded answer.
func (b *hardBundle) do(t *testing.T, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, b.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := b.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	return resp.StatusCode, out
}

func errMessage(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// TestDatabaseUnavailableIs503: with the database unreachable (connection
// refused, as during a restart) reads and bookings answer 503 unavailable.
func TestDatabaseUnavailableIs503(t *testing.T) {
	t.Parallel()
	pool, err := pgxpool.New(context.Background(), "postgres://postgres@127.0.0.1:1/salonbook?sslmode=disable&connect_timeout=5")
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	b := newHardBundle(t, postgres.NewStore(pool), "demo", 0)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/v1/services", ""},
		{"GET", "/api/v1/slots?service=haircut&master=any", ""},
		{"GET", "/api/v1/bookings/00000000-0000-0000-0000-000000000000", ""},
		{"POST", "/api/v1/bookings", `{"service":"haircut","master":"anna","start":"2027-03-02T10:00:00+01:00",
			"client":{"name":"Olga","phone":"+7 912 0000001"},"idempotency_key":"down-1"}`},
	} {
		status, out := b.do(t, c.method, c.path, c.body)
		require.Equal(t, http.StatusServiceUnavailable, status, "%s %s: %v", c.method, c.path, out)
		require.Equal(t, "unavailable", errCode(out), c.path)
	}
}

// TestRequestDeadline: a booking stuck behind a table lock is answered 503
// unavailable once the request's deadline passes, and its statement is cancelled
// in the server, so that nothing is stored after the answer; once the lock is
// gone the same request books. Not parallel: the lock would stall the other
// tests' bookings in the package's database.
func TestRequestDeadline(t *testing.T) {
	store, salonID := pgtest.Salon(t)
	b := newHardBundle(t, store, salonID, time.Second)
	admin := pgtest.Pool(t)
	ctx := context.Background()
	tx, err := admin.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, `LOCK TABLE bookings IN SHARE ROW EXCLUSIVE MODE`) // refuses inserts, lets reads through
	require.NoError(t, err)

	body := `{"service":"haircut","master":"anna","start":"2027-03-02T10:00:00+01:00",
		"client":{"name":"Olga","phone":"+7 912 0000002"},"idempotency_key":"deadline-1","confirm":true}`
	type answer struct {
		status int
		out    map[string]any
	}
	got := make(chan answer, 1)
	go func() {
		status, out := b.do(t, "POST", "/api/v1/bookings", body)
		got <- answer{status, out}
	}()
	var a answer
	select {
	case a = <-got:
	case <-time.After(30 * time.Second):
		require.NoError(t, tx.Rollback(ctx)) // no deadline: let the request finish, and fail below
		a = <-got
	}
	require.Equal(t, http.StatusServiceUnavailable, a.status, a.out)
	require.Equal(t, "unavailable", errCode(a.out))

	waiting := func() int {
		var n int
		require.NoError(t, admin.QueryRow(ctx, `
			SELECT count(*) FROM pg_locks
			WHERE NOT granted AND relation = 'bookings'::regclass
			  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n))
		return n
	}
	require.Eventually(t, func() bool { return waiting() == 0 }, 20*time.Second, 50*time.Millisecond,
		"the request's insert is cancelled in the server, not left waiting for the lock")
	require.NoError(t, tx.Rollback(ctx))
	var stored int
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(*) FROM bookings WHERE salon_id = $1 AND idempotency_key = 'deadline-1'`, salonID).Scan(&stored))
	require.Zero(t, stored, "answered 503, so nothing is stored")

	status, out := b.do(t, "POST", "/api/v1/bookings", body)
	require.Equal(t, http.StatusCreated, status, out)
	require.Equal(t, "confirmed", out["status"])
}

// TestStrictJSON: a body is one JSON object and nothing after it.
func TestStrictJSON(t *testing.T) {
	t.Parallel()
	store, salonID := pgtest.Salon(t)
	b := newHardBundle(t, store, salonID, 0)
	book := `{"service":"haircut","master":"anna","start":"2027-03-02T10:00:00+01:00",
		"client":{"name":"Olga","phone":"+7 912 0000003"},"idempotency_key":"strict-1"}`
	for name, trailer := range map[string]string{"Garbage": " GARBAGE", "SecondObject": `{"service":"x"}`, "Comma": ","} {
		status, out := b.do(t, "POST", "/api/v1/bookings", book+trailer)
		require.Equal(t, http.StatusBadRequest, status, name)
		require.Equal(t, "invalid", errCode(out), name)
		require.Contains(t, errMessage(out), "one JSON object", name)
	}
	status, out := b.do(t, "POST", "/api/v1/bookings", book+" \r\n\t")
	require.Equal(t, http.StatusCreated, status, "trailing white space is fine: %v", out)

	msg := `{"session":"` + chatSession + `","id":"m1","text":"hi"}`
	for _, trailer := range []string{" GARBAGE", "{}"} {
		resp, err := b.srv.Client().Post(b.srv.URL+"/chat/api/messages", "application/json", strings.NewReader(msg+trailer))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, trailer)
	}
	require.Empty(t, b.chat.Calls())
}

// TestInvalidUTF8: text that is not UTF-8 (raw bytes, or an escaped lone
// surrogate) is refused, not stored as U+FFFD.
func TestInvalidUTF8(t *testing.T) {
	t.Parallel()
	store, salonID := pgtest.Salon(t)
	b := newHardBundle(t, store, salonID, 0)
	for name, c := range map[string]struct{ name, key string }{
		"NameBytes":     {"Ol\xffga", "utf8-1"},
		"KeyBytes":      {"Olga", "utf8-\xc3("},
		"NameSurrogate": {`Ol\ud800ga`, "utf8-3"},
		"KeySurrogate":  {"Olga", `utf8-\udc00`},
	} {
		body := `{"service":"haircut","master":"anna","start":"2027-03-02T10:00:00+01:00",
			"client":{"name":"` + c.name + `","phone":"+7 912 0000004"},"idempotency_key":"` + c.key + `"}`
		status, out := b.do(t, "POST", "/api/v1/bookings", body)
		require.Equal(t, http.StatusBadRequest, status, "%s: %v", name, out)
		require.Equal(t, "invalid", errCode(out), name)
		require.Contains(t, errMessage(out), "UTF-8", name)
	}
	var n int
	require.NoError(t, pgtest.Pool(t).QueryRow(context.Background(), `SELECT count(*) FROM bookings WHERE salon_id = $1`, salonID).Scan(&n))
	require.Zero(t, n)
	// A surrogate pair is a valid escape (😀), and U+FFFD typed as itself is text.
	status, out := b.do(t, "POST", "/api/v1/bookings", `{"service":"haircut","master":"anna","start":"2027-03-02T10:00:00+01:00",
		"client":{"name":"Olga \ud83d\ude00 \ufffd �","phone":"+7 912 0000004"},"idempotency_key":"utf8-ok"}`)
	require.Equal(t, http.StatusCreated, status, out)

	for _, text := range []string{"hi \xff", `hi \udfff`} {
		resp, err := b.srv.Client().Post(b.srv.URL+"/chat/api/messages", "application/json",
			strings.NewReader(`{"session":"`+chatSession+`","id":"m1","text":"`+text+`"}`))
		require.NoError(t, err)
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, text)
		require.Contains(t, string(raw), "UTF-8")
	}
	require.Empty(t, b.chat.Calls())
}

// TestLongInputIsCappedInTheLog: a 60 KB value in a request reaches the log
// line, if at all, cut short.
func TestLongInputIsCappedInTheLog(t *testing.T) {
	t.Parallel()
	store, salonID := pgtest.Salon(t)
	b := newHardBundle(t, store, salonID, 0)
	long := strings.Repeat("x", 60<<10)
	status, _ := b.do(t, "GET", "/api/v1/slots?service="+long, "")
	require.Equal(t, http.StatusNotFound, status)
	status, _ = b.do(t, "POST", "/api/v1/bookings", `{"service":"`+long+`","master":"anna","start":"2027-03-02T10:00:00+01:00",
		"client":{"name":"Olga","phone":"+7 912 0000005"},"idempotency_key":"long-1"}`)
	require.Equal(t, http.StatusNotFound, status)
	logs := b.log.String()
	require.Contains(t, logs, "request failed")
	for line := range strings.SplitSeq(strings.TrimSpace(logs), "\n") {
		require.Less(t, len(line), 2<<10, "a log line stays short: %.200s…", line)
	}
}

// TestChatCommandsAsTyped: a command is taken as a person types it, with or
// without the slash.
func TestChatCommandsAsTyped(t *testing.T) {
	t.Parallel()
	store, salonID := pgtest.Salon(t)
	b := newHardBundle(t, store, salonID, 0)
	typed := map[string]string{"/start": dialog.CommandStart, "start": dialog.CommandStart, " /Cancel ": dialog.CommandCancel,
		"/help": dialog.CommandHelp, "/LANGUAGE": dialog.CommandLanguage}
	i := 0
	for as, want := range typed {
		i++
		raw, err := json.Marshal(map[string]any{"session": chatSession, "id": fmt.Sprint("c", i), "command": as})
		require.NoError(t, err)
		resp, err := b.srv.Client().Post(b.srv.URL+"/chat/api/messages", "application/json", strings.NewReader(string(raw)))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, as)
		calls := b.chat.Calls()
		require.Equal(t, dialog.Inbound{ID: fmt.Sprint("web:", chatSession, ":c", i), Kind: dialog.KindCommand, Text: want}, calls[len(calls)-1].In, as)
	}
	for _, bad := range []string{"/reboot", "//start", "/"} {
		raw, _ := json.Marshal(map[string]any{"session": chatSession, "id": "bad", "command": bad})
		resp, err := b.srv.Client().Post(b.srv.URL+"/chat/api/messages", "application/json", strings.NewReader(string(raw)))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, bad)
	}
}

// TestAccessLogRoute: the access log names the API route that served the
// request, not the prefix the API is mounted on.
func TestAccessLogRoute(t *testing.T) {
	t.Parallel()
	store, salonID := pgtest.Salon(t)
	b := newHardBundle(t, store, salonID, 0)
	status, _ := b.do(t, "GET", "/api/v1/services", "")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, b.log.String(), `"route":"GET /api/v1/services"`)
}

// TestJSONBodyShape: a body is a JSON object with each field once, spelled
// exactly; anything else is refused and names the problem.
func TestJSONBodyShape(t *testing.T) {
	t.Parallel()
	store, salonID := pgtest.Salon(t)
	b := newHardBundle(t, store, salonID, 0)
	rest := `"master":"anna","start":"2027-03-02T10:00:00+01:00","client":{"name":"Olga","phone":"+7 912 0000006"},"idempotency_key":"shape-1"}`
	for name, c := range map[string]struct{ body, want string }{
		"Null":          {`null`, "body must be a JSON object"},
		"Array":         {`[]`, "body must be a JSON object"},
		"String":        {`"x"`, "body must be a JSON object"},
		"CaseFolded":    {`{"SERVICE":"haircut",` + rest, `unknown field "SERVICE"`},
		"CaseFoldedIn":  {`{"service":"haircut","master":"anna","start":"2027-03-02T10:00:00+01:00","client":{"Name":"Olga","phone":"+7 912 0000006"},"idempotency_key":"shape-1"}`, `unknown field "Name"`},
		"Duplicate":     {`{"service":"nails","service":"haircut",` + rest, `field "service" is given twice`},
		"DuplicateDeep": {`{"service":"haircut","master":"anna","start":"2027-03-02T10:00:00+01:00","client":{"name":"A","name":"Olga","phone":"+7 912 0000006"},"idempotency_key":"shape-1"}`, `field "name" is given twice`},
	} {
		status, out := b.do(t, "POST", "/api/v1/bookings", c.body)
		require.Equal(t, http.StatusBadRequest, status, "%s: %v", name, out)
		require.Contains(t, errMessage(out), c.want, name)
	}
	status, out := b.do(t, "POST", "/api/v1/bookings", `{"service":"haircut",`+rest)
	require.Equal(t, http.StatusCreated, status, out)
	status, out = b.do(t, "POST", "/api/v1/bookings", `{"service":"haircut","master":"anna","start":"2027-03-02T12:00:00+01:00","client":{"name":"O \"service\":","phone":"+7 912 0000006"},"idempotency_key":"shape-2"}`)
	require.Equal(t, http.StatusCreated, status, "a string that looks like a key is text: %v", out)
}

// readsDown is a store whose reads outside a transaction fail while down is set
// (the database gone between a booking's commit and its answer); with armed,
// down is set once a transaction commits (Book reads the catalog before its
// transaction, and a failure there is its answer).
type readsDown struct {
	*postgres.Store
	down, armed atomic.Bool
}

func (s *readsDown) Auto(ctx context.Context, fn func(booking.Tx) error) error {
	if s.down.Load() {
		return core.Errorf(core.EUnavailable, "request.unavailable", "test: reads are down")
	}
	return s.Store.Auto(ctx, fn)
}

func (s *readsDown) WithTx(ctx context.Context, fn func(booking.Tx) error) error {
	err := s.Store.WithTx(ctx, fn)
	if err == nil && s.armed.Load() {
		s.down.Store(true)
	}
	return err
}

// TestStoredChangeIsAnswered: a change that is stored is answered as done even
// when the catalog cannot be read for its answer: in the zone of an earlier
// answer, else UTC, which the answer names.
func TestStoredChangeIsAnswered(t *testing.T) {
	t.Parallel()
	pg, salonID := pgtest.Salon(t)
	store := &readsDown{Store: pg}
	b := newHardBundle(t, store, salonID, 0)
	book := func(start, key string) (int, map[string]any) {
		return b.do(t, "POST", "/api/v1/bookings", `{"service":"haircut","master":"anna","start":"`+start+`",
			"client":{"name":"Olga","phone":"+7 912 0000007"},"idempotency_key":"`+key+`"}`)
	}
	store.armed.Store(true)
	status, out := book("2027-03-02T10:00:00+01:00", "stored-1")
	require.Equal(t, http.StatusCreated, status, "stored, so answered as stored: %v", out)
	require.Equal(t, "UTC", out["timezone"], "no zone known yet")
	require.Equal(t, "2027-03-02T09:00:00Z", out["start"])
	require.Contains(t, b.log.String(), "reads are down", "the failed read is logged")

	store.armed.Store(false)
	store.down.Store(false)
	status, out = b.do(t, "GET", "/api/v1/bookings/"+out["id"].(string), "")
	require.Equal(t, http.StatusOK, status, out)
	zone := out["timezone"].(string)
	require.NotEqual(t, "UTC", zone)
	store.down.Store(true)
	status, out = b.do(t, "POST", "/api/v1/bookings/"+out["id"].(string)+"/confirm", "")
	require.Equal(t, http.StatusOK, status, out)
	require.Equal(t, zone, out["timezone"], "the zone of an earlier answer")
	require.Equal(t, "2027-03-02T10:00:00+01:00", out["start"])
}
