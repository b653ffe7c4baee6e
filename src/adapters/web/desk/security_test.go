package desk_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/web/desk"
)

// TestAdminRoutesNeedASession: every desk route, without a session (none, or a
// made-up one), sends the browser to the login page and shows nothing.
func TestAdminRoutesNeedASession(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	routes := []struct{ method, path string }{
		{"GET", "/admin"}, {"GET", "/admin/"}, {"GET", "/admin/day"}, {"GET", "/admin/day?date=2027-03-03"},
		{"GET", "/admin/week"}, {"GET", "/admin/week?master=anna"}, {"GET", "/admin/nothing-here"},
		{"POST", "/admin/logout"}, {"POST", "/admin/day"}, {"POST", "/admin/bookings/x/cancel"},
		{"GET", "/admin/clients"}, {"GET", "/admin/clients?q=anna"}, {"GET", "/admin/clients/1"},
		{"POST", "/admin/clients/1/note"}, {"GET", "/admin/feeds"}, {"POST", "/admin/feeds/anna"}, {"GET", "/admin/jobs"},
	}
	for _, cookie := range []string{"", "made-up-session-id"} {
		br := b.browser(t)
		if cookie != "" {
			br.setSession(cookie)
		}
		for _, rt := range routes {
			var a answer
			if rt.method == "GET" {
				a = br.get(rt.path)
				if rt.path == "/admin" { // first to /admin/, then as any page
					require.Equal(t, http.StatusSeeOther, a.status)
					a = br.get(a.header.Get("Location"))
				}
			} else {
				a = br.post(rt.path, url.Values{"csrf": {"x"}})
			}
			require.Equal(t, http.StatusSeeOther, a.status, "%s %s", rt.method, rt.path)
			require.True(t, strings.HasPrefix(a.header.Get("Location"), "/admin/login"), "%s %s → %s", rt.method, rt.path, a.header.Get("Location"))
			require.NotContains(t, a.body, "Anna", "%s %s", rt.method, rt.path)
		}
	}
}

// TestLoginGoesBackToThePageAsked: after the login the browser is where it was
// going; a "next" that leaves the desk is ignored (no open redirect).
func TestLoginGoesBackToThePageAsked(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	br := b.browser(t)
	a := br.get("/admin/week?date=2027-03-03")
	require.Equal(t, "/admin/login?next=%2Fadmin%2Fweek%3Fdate%3D2027-03-03", a.header.Get("Location"))
	page := br.get(a.header.Get("Location"))
	a = br.post("/admin/login", url.Values{"login": {"olga"}, "password": {passwords["olga"]}, "csrf": {br.csrf(page)},
		"next": {"/admin/week?date=2027-03-03"}})
	require.Equal(t, http.StatusSeeOther, a.status)
	require.Equal(t, "/admin/week?date=2027-03-03", a.header.Get("Location"))

	for _, next := range []string{"https://evil.example/admin/day", "//evil.example/admin/", "/\\evil.example", "/chat",
		"/admin/../chat", "/admin/%2e%2e/chat", "/admin/day/../../chat?x=1", "/admin/./login"} {
		br := b.browser(t)
		page := br.get("/admin/login")
		a := br.post("/admin/login", url.Values{"login": {"olga"}, "password": {passwords["olga"]}, "csrf": {br.csrf(page)},
			"next": {next}})
		require.Equal(t, "/admin/day", a.header.Get("Location"), next)
	}
}

// TestLoginMakesANewSession: a session id planted in the browser before the
// login (made up, or the attacker's own live session) is never the one the
// login uses, and a live planted one is ended.
func TestLoginMakesANewSession(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	attacker := b.browser(t)
	planted := attacker.login("anna")

	victim := b.browser(t)
	victim.setSession(planted)
	got := victim.login("olga")
	require.NotEmpty(t, got)
	require.NotEqual(t, planted, got)
	require.Contains(t, victim.get("/admin/day").body, "olga (owner)")

	// The attacker's copy leads nowhere: it was ended, not promoted.
	a := attacker.get("/admin/day")
	require.Equal(t, http.StatusSeeOther, a.status)

	// A made-up id is not taken either.
	victim2 := b.browser(t)
	victim2.setSession("chosen-by-the-attacker")
	require.NotEqual(t, "chosen-by-the-attacker", victim2.login("olga"))
}

// TestStolenCookieAfterLogout: a copy of the session cookie is worthless once
// its owner logs out.
func TestStolenCookieAfterLogout(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	owner := b.browser(t)
	stolen := owner.login("olga")
	thief := b.browser(t)
	thief.setSession(stolen)
	require.Equal(t, http.StatusOK, thief.get("/admin/day").status, "the copy works while the session lives")

	page := owner.get("/admin/day")
	a := owner.post("/admin/logout", url.Values{"csrf": {owner.csrf(page)}})
	require.Equal(t, http.StatusSeeOther, a.status)
	require.Equal(t, "/admin/login", a.header.Get("Location"))
	require.Contains(t, a.header.Get("Set-Cookie"), "desk=;")

	for _, br := range []*browser{thief, owner} {
		br.setSession(stolen)
		a := br.get("/admin/day")
		require.Equal(t, http.StatusSeeOther, a.status)
		require.True(t, strings.HasPrefix(a.header.Get("Location"), "/admin/login"))
	}
}

// TestIdleSessionLogsOut: the idle and absolute timeouts, through the pages.
func TestIdleSessionLogsOut(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	br := b.browser(t)
	br.login("olga")
	b.clock.T = b.clock.T.Add(desk.DefaultIdle - time.Minute)
	require.Equal(t, http.StatusOK, br.get("/admin/day").status)
	b.clock.T = b.clock.T.Add(desk.DefaultIdle)
	require.Equal(t, http.StatusSeeOther, br.get("/admin/day").status)
}

// TestWrongPasswordsAreThrottled: ten wrong passwords for one account; from the
// sixth on the answer is 429 without the password being tried, so the right
// one is refused too, until the window has passed.
func TestWrongPasswordsAreThrottled(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	br := b.browser(t)
	var statuses []int
	for range 10 {
		statuses = append(statuses, br.tryLogin("olga", "wrong-password").status)
	}
	require.Equal(t, []int{401, 401, 401, 401, 401, 429, 429, 429, 429, 429}, statuses)
	a := br.tryLogin("olga", passwords["olga"])
	require.Equal(t, http.StatusTooManyRequests, a.status)
	require.Equal(t, "900", a.header.Get("Retry-After"))
	require.Contains(t, a.body, "Too many failed logins")
	require.Equal(t, http.StatusTooManyRequests, br.tryLogin(" OLGA ", passwords["olga"]).status, "the login as typed counts as the account")

	// Other accounts from elsewhere are not held up (the address here has 10 failures of its 20).
	require.Equal(t, http.StatusSeeOther, b.browser(t).tryLogin("anna", passwords["anna"]).status)

	b.clock.T = b.clock.T.Add(desk.DefaultFailWindow)
	require.Equal(t, http.StatusSeeOther, br.tryLogin("olga", passwords["olga"]).status)
}

// TestOneAddressIsThrottled: twenty failures from one address, over many
// logins (known or not), hold back every login from it.
func TestOneAddressIsThrottled(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	br := b.browser(t)
	for i := range 20 {
		login := []string{"olga", "anna", "boris", "nobody", "x1", "x2"}[i%6]
		require.Equal(t, http.StatusUnauthorized, br.tryLogin(login, "wrong-password").status, "try %d", i)
	}
	require.Equal(t, http.StatusTooManyRequests, br.tryLogin("boris", passwords["boris"]).status)
}

// TestWrongLoginAndWrongPasswordLookAlike: an unknown login, a login with no
// password set and a wrong password get the same status and the same page.
func TestWrongLoginAndWrongPasswordLookAlike(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	// chloe has an account but no password.
	b.setup.Staff = append(b.setup.Staff, b.setup.Staff[1])
	b.setup.Staff[3].Login, b.setup.Staff[3].MasterID = "chloe", "chloe"
	_, err := b.store.Apply(ctx, b.setup)
	require.NoError(t, err)

	answers := map[string]answer{}
	for _, login := range []string{"nobody", "chloe", "olga"} {
		br := b.browser(t)
		answers[login] = br.tryLogin(login, "wrong-password")
		require.Equal(t, http.StatusUnauthorized, answers[login].status, login)
		require.Contains(t, answers[login].body, "Wrong login or password.")
	}
	strip := func(a answer, login string) string {
		return strings.ReplaceAll(csrfField.ReplaceAllString(a.body, ""), `value="`+login+`"`, `value="…"`)
	}
	require.Equal(t, strip(answers["olga"], "olga"), strip(answers["nobody"], "nobody"))
	require.Equal(t, strip(answers["olga"], "olga"), strip(answers["chloe"], "chloe"))
}

// TestFormsWithoutCSRFTokenAreRefused: the logout form and the login form,
// each posted without its token, with a wrong one, and from another site.
func TestFormsWithoutCSRFTokenAreRefused(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	br := b.browser(t)
	br.login("olga")
	page := br.get("/admin/day")
	token := br.csrf(page)

	for _, form := range []url.Values{{}, {"csrf": {""}}, {"csrf": {"forged"}}, {"csrf": {token + "x"}}} {
		a := br.post("/admin/logout", form)
		require.Equal(t, http.StatusForbidden, a.status, "%v", form)
		require.Equal(t, http.StatusOK, br.get("/admin/day").status, "still logged in")
	}
	// The right token, sent from another site (a browser says so), is refused.
	for _, h := range [][]string{{"Sec-Fetch-Site", "cross-site"}, {"Origin", "https://evil.example"}} {
		a := br.post("/admin/logout", url.Values{"csrf": {token}}, h...)
		require.Equal(t, http.StatusForbidden, a.status, "%v", h)
	}
	require.Equal(t, http.StatusOK, br.get("/admin/day").status, "still logged in")
	// Another session's token does not fit this one.
	other := b.browser(t)
	other.login("olga")
	otherToken := other.csrf(other.get("/admin/day"))
	require.NotEqual(t, token, otherToken)
	require.Equal(t, http.StatusForbidden, br.post("/admin/logout", url.Values{"csrf": {otherToken}}).status)
	require.Equal(t, http.StatusSeeOther, br.post("/admin/logout", url.Values{"csrf": {token}}).status)

	// The login form: no cookie token, or a token that is not the cookie's.
	fresh := b.browser(t)
	a := fresh.post("/admin/login", url.Values{"login": {"olga"}, "password": {passwords["olga"]}})
	require.Equal(t, http.StatusForbidden, a.status)
	fresh.get("/admin/login")
	a = fresh.post("/admin/login", url.Values{"login": {"olga"}, "password": {passwords["olga"]}, "csrf": {"guessed"}})
	require.Equal(t, http.StatusForbidden, a.status)
	require.Empty(t, fresh.session())
}

// TestMasterCannotReachFurther: a master's crafted requests for another
// master's week, the whole salon's week or the phones are refused or show
// nothing of it.
func TestMasterCannotReachFurther(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	b.book(t, "anna", "haircut", berlin(2027, 3, 3, 10, 0), "Alice Annaclient", "+49 151 1111111")
	b.book(t, "boris", "haircut", berlin(2027, 3, 3, 11, 0), "Bob Borisclient", "+49 151 2222222")
	anna := b.browser(t)
	anna.login("anna")

	for _, path := range []string{"/admin/week?master=boris", "/admin/week?master=all", "/admin/week?master=boris&master=anna"} {
		a := anna.get(path)
		require.Equal(t, http.StatusForbidden, a.status, path)
		require.NotContains(t, a.body, "Bob Borisclient", path)
	}
	a := anna.get("/admin/week?date=2027-03-03")
	require.Equal(t, http.StatusOK, a.status)
	require.Contains(t, a.body, "Alice Annaclient")
	require.NotContains(t, a.body, "Bob Borisclient")

	day := anna.get("/admin/day?date=2027-03-03")
	require.Equal(t, http.StatusOK, day.status)
	require.Contains(t, day.body, "Alice Annaclient", "her own client")
	require.Contains(t, day.body, "11:00–11:45</span> Haircut", "Boris's booking as busy time")
	require.NotContains(t, day.body, "Bob Borisclient")
	// (html/template writes "+" as "&#43;": look for the digits.)
	require.NotContains(t, day.body, "491511111111", "no phone to a master, not even her own client's")
	require.NotContains(t, day.body, "491512222222")

	owner := b.browser(t)
	owner.login("olga")
	day = owner.get("/admin/day?date=2027-03-03")
	require.Contains(t, day.body, "Bob Borisclient")
	require.Contains(t, day.body, "491512222222")
	require.Equal(t, http.StatusOK, owner.get("/admin/week?master=boris").status)
	require.Equal(t, http.StatusOK, owner.get("/admin/week?master=all").status)
}

// TestCookies: HttpOnly and SameSite=Lax always; Secure with the __Host-
// prefix when the public URL is https (the feed link's, on a path of its
// own, with __Secure-).
func TestCookies(t *testing.T) {
	t.Parallel()
	plain := newBundle(t)
	br := plain.browser(t)
	page := br.get("/admin/login")
	a := br.post("/admin/login", url.Values{"login": {"olga"}, "password": {passwords["olga"]}, "csrf": {br.csrf(page)}})
	c := sessionCookie(t, a.header, "desk")
	require.True(t, c.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, c.SameSite)
	require.False(t, c.Secure)
	require.Equal(t, "/", c.Path)

	secure := newBundle(t, func(_ *postgres.SalonSetup, cfg *desk.Config) { cfg.PublicURL = "https://salon.example" })
	// The server is plain HTTP; the cookie jar would not send a Secure cookie
	// back, so read the headers only.
	br = secure.browser(t)
	page = br.get("/admin/login")
	login := sessionCookie(t, page.header, "__Host-desk_login")
	a = br.post("/admin/login", url.Values{"login": {"olga"}, "password": {passwords["olga"]}, "csrf": {br.csrf(page)}},
		"Cookie", "__Host-desk_login="+login.Value)
	require.Equal(t, http.StatusSeeOther, a.status, a.body)
	c = sessionCookie(t, a.header, "__Host-desk")
	require.True(t, c.Secure)
	require.True(t, c.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, c.SameSite)
	require.Zero(t, c.MaxAge, "a session cookie: the server's timeouts end it")

	// The feed link cookie: __Secure- (__Host- demands Path=/), Secure, its page's path only.
	req, err := http.NewRequest("GET", secure.srv.URL+"/admin/feeds", nil)
	require.NoError(t, err)
	req.Header.Set("Cookie", "__Host-desk="+c.Value)
	feeds := br.do(req)
	require.Equal(t, http.StatusOK, feeds.status, feeds.body)
	a = br.post("/admin/feeds/anna", url.Values{"csrf": {br.csrf(feeds)}, "action": {"new"}}, "Cookie", "__Host-desk="+c.Value)
	require.Equal(t, http.StatusSeeOther, a.status, a.body)
	f := sessionCookie(t, a.header, "__Secure-desk_feed")
	require.True(t, f.Secure)
	require.True(t, f.HttpOnly)
	require.Equal(t, "/admin/feeds", f.Path)
}

func sessionCookie(t *testing.T, h http.Header, name string) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no cookie %s in %v", name, h.Values("Set-Cookie"))
	return nil
}

// TestPagesAreNotCachedOrFramed: the headers every desk page carries.
func TestPagesAreNotCachedOrFramed(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	br := b.browser(t)
	br.login("olga")
	a := br.get("/admin/day")
	require.Equal(t, "no-store", a.header.Get("Cache-Control"))
	require.Equal(t, "DENY", a.header.Get("X-Frame-Options"))
	require.Contains(t, a.header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	require.NotContains(t, a.header.Get("Content-Security-Policy"), "script-src")
}

// TestPasswordHash: argon2id, salted, verified only by the right password.
func TestPasswordHash(t *testing.T) {
	t.Parallel()
	h1, err := desk.HashPassword("correct horse")
	require.NoError(t, err)
	h2, err := desk.HashPassword("correct horse")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(h1, "$argon2id$v=19$m=19456,t=2,p=1$"), h1)
	require.NotEqual(t, h1, h2, "salted")
	require.True(t, desk.VerifyPassword(h1, "correct horse"))
	require.False(t, desk.VerifyPassword(h1, "correct horsE"))
	require.False(t, desk.VerifyPassword("", "correct horse"))
	require.False(t, desk.VerifyPassword("$argon2id$v=19$m=999999999,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5", "x"))
	_, err = desk.HashPassword("short")
	require.Error(t, err)
}
