package desk_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/jobs"
	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/web/desk"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/staff"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var ctx = context.Background()

// The test salon's accounts and their passwords.
var passwords = map[string]string{"olga": "olga-secret-1", "anna": "anna-secret-1", "boris": "boris-secret-1"}

type bundle struct {
	srv      *httptest.Server
	salonID  string
	clock    *core.FixedClock
	bookings *booking.Service
	store    *postgres.Store
	desk     *postgres.Desk
	setup    postgres.SalonSetup
}

// newBundle serves the desk of a fresh test salon (pgtest.Setup) with an
// owner olga and master accounts anna and boris, passwords set.
func newBundle(t *testing.T, edit ...func(*postgres.SalonSetup, *desk.Config)) *bundle {
	t.Helper()
	pool := pgtest.Pool(t)
	store := postgres.NewStore(pool)
	b := &bundle{salonID: "s" + pgtest.RandomID(), store: store, desk: postgres.NewDesk(pool),
		clock: &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}} // Monday 08:00 in Berlin
	b.setup = pgtest.Setup(b.salonID)
	b.setup.Staff = []staff.Account{{Login: "olga", Role: staff.Owner},
		{Login: "anna", Role: staff.Master, MasterID: "anna"}, {Login: "boris", Role: staff.Master, MasterID: "boris"}}
	b.bookings = booking.New(store, b.clock)
	cfg := desk.Config{SalonID: b.salonID, Store: b.desk, Catalog: b.bookings, Clock: b.clock,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Bookings: b.bookings, Records: b.desk,
		Clients: b.desk, Feeds: b.desk, Jobs: jobs.NewBoard(pool)}
	for _, e := range edit {
		e(&b.setup, &cfg)
	}
	_, err := store.Apply(ctx, b.setup)
	require.NoError(t, err)
	for login, pw := range passwords {
		h, err := desk.HashPassword(pw)
		require.NoError(t, err)
		require.NoError(t, b.desk.SetPassword(ctx, b.salonID, login, h, b.clock.T))
	}
	mux := http.NewServeMux()
	mux.Handle("/", desk.Handler(cfg))
	mux.Handle("GET /calendar/", desk.FeedHandler(cfg)) // as serve mounts it
	b.srv = httptest.NewServer(mux)
	t.Cleanup(b.srv.Close)
	return b
}

// browser is an HTTP client with a cookie jar that does not follow redirects.
type browser struct {
	t   *testing.T
	b   *bundle
	c   *http.Client
	jar *cookiejar.Jar
}

func (b *bundle) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, b: b, jar: jar, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type answer struct {
	status int
	body   string
	header http.Header
}

func (br *browser) do(req *http.Request) answer {
	br.t.Helper()
	resp, err := br.c.Do(req)
	require.NoError(br.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(br.t, err)
	return answer{status: resp.StatusCode, body: string(body), header: resp.Header}
}

func (br *browser) get(path string) answer {
	br.t.Helper()
	req, err := http.NewRequest("GET", br.b.srv.URL+path, nil)
	require.NoError(br.t, err)
	return br.do(req)
}

func (br *browser) post(path string, form url.Values, headers ...string) answer {
	br.t.Helper()
	req, err := http.NewRequest("POST", br.b.srv.URL+path, strings.NewReader(form.Encode()))
	require.NoError(br.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return br.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the page.
func (br *browser) csrf(page answer) string {
	br.t.Helper()
	m := csrfField.FindStringSubmatch(page.body)
	require.NotNil(br.t, m, "no csrf field in:\n%s", page.body)
	return m[1]
}

// tryLogin opens the login page and posts login and password.
func (br *browser) tryLogin(login, password string) answer {
	br.t.Helper()
	page := br.get("/admin/login")
	require.Equal(br.t, http.StatusOK, page.status)
	return br.post("/admin/login", url.Values{"login": {login}, "password": {password}, "csrf": {br.csrf(page)}})
}

// login logs in and returns the session cookie's value.
func (br *browser) login(login string) string {
	br.t.Helper()
	a := br.tryLogin(login, passwords[login])
	require.Equal(br.t, http.StatusSeeOther, a.status, a.body)
	require.Equal(br.t, "/admin/day", a.header.Get("Location"))
	return br.session()
}

func (br *browser) session() string {
	u, _ := url.Parse(br.b.srv.URL)
	for _, c := range br.jar.Cookies(u) {
		if c.Name == "desk" {
			return c.Value
		}
	}
	return ""
}

func (br *browser) setSession(value string) {
	u, _ := url.Parse(br.b.srv.URL)
	br.jar.SetCookies(u, []*http.Cookie{{Name: "desk", Value: value, Path: "/"}})
}

// book makes a confirmed booking through the use cases, at a Berlin wall time.
func (b *bundle) book(t *testing.T, master, service string, at time.Time, name, phone string) *core.Booking {
	t.Helper()
	bk, err := b.bookings.Book(ctx, booking.BookRequest{SalonID: b.salonID, ServiceID: service, MasterID: master,
		Start: at.UTC(), Client: core.Client{Name: name, Phone: phone}, IdempotencyKey: pgtest.RandomID(),
		Confirm: true, Source: "telegram:42" + name}) // a chat per client: a chat's client is its person
	require.NoError(t, err)
	return bk
}

func berlin(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, pgtest.Berlin)
}
