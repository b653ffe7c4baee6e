package desk_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/web/desk"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/staff"
)

// vevent is one VEVENT's properties (name without parameters → value).
type vevent map[string]string

// parseICS checks body is an iCalendar stream as RFC 5545 writes it (CRLF
// line ends, physical lines of at most 75 octets, folds not splitting a UTF-8
// character, BEGIN/END balanced, the calendar's required properties, each
// VEVENT with UID, DTSTAMP and DTSTART, times in UTC) and returns the
// calendar's properties and its events by UID.
func parseICS(t *testing.T, body string) (vevent, map[string]vevent) {
	t.Helper()
	require.True(t, strings.HasSuffix(body, "\r\n"), "ends with CRLF")
	phys := strings.Split(strings.TrimSuffix(body, "\r\n"), "\r\n")
	var lines []string
	for i, l := range phys {
		require.NotContains(t, l, "\n", "line %d: a bare LF", i)
		require.NotContains(t, l, "\r", "line %d: a bare CR", i)
		require.LessOrEqual(t, len(l), 75, "line %d is %d octets: %q", i, len(l), l)
		require.True(t, utf8.ValidString(l), "line %d: a fold split a character: %q", i, l)
		if strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
			require.NotEmpty(t, lines, "a continuation first")
			lines[len(lines)-1] += l[1:]
			continue
		}
		lines = append(lines, l)
	}
	cal := vevent{}
	events := map[string]vevent{}
	var stack []string
	var ev vevent
	for _, l := range lines {
		name, value, ok := strings.Cut(l, ":")
		require.True(t, ok, "no colon: %q", l)
		name, _, _ = strings.Cut(name, ";")
		switch name {
		case "BEGIN":
			stack = append(stack, value)
			if value == "VEVENT" {
				ev = vevent{}
			}
			continue
		case "END":
			require.NotEmpty(t, stack)
			require.Equal(t, stack[len(stack)-1], value, "END matches BEGIN")
			stack = stack[:len(stack)-1]
			if value == "VEVENT" {
				for _, p := range []string{"UID", "DTSTAMP", "DTSTART"} {
					require.NotEmpty(t, ev[p], "a VEVENT without %s: %v", p, ev)
				}
				for _, p := range []string{"DTSTAMP", "DTSTART", "DTEND", "LAST-MODIFIED", "CREATED"} {
					require.Regexp(t, `^\d{8}T\d{6}Z$`, ev[p], "%s in UTC", p)
				}
				require.NotContains(t, events, ev["UID"], "UIDs are unique")
				events[ev["UID"]] = ev
				ev = nil
			}
			continue
		}
		require.NotEmpty(t, stack, "a property outside the calendar: %q", l)
		if ev != nil {
			ev[name] = value
		} else {
			cal[name] = value
		}
	}
	require.Empty(t, stack, "every BEGIN ended")
	require.Equal(t, "2.0", cal["VERSION"])
	require.NotEmpty(t, cal["PRODID"])
	require.Equal(t, "GREGORIAN", cal["CALSCALE"])
	require.Equal(t, "PUBLISH", cal["METHOD"])
	require.NotEmpty(t, cal["X-WR-CALNAME"])
	return cal, events
}

// unescape reads an RFC 5545 TEXT value.
func unescape(s string) string {
	return strings.NewReplacer(`\\`, `\`, `\;`, `;`, `\,`, `,`, `\n`, "\n", `\N`, "\n").Replace(s)
}

var feedURL = regexp.MustCompile(`value="(http://[^"]+/calendar/[A-Za-z0-9_-]{43}\.ics)"`)

// newFeed makes (or rotates) a master's feed as the owner does, on the feeds
// page, and returns its path, read from the page the POST leads to.
func newFeed(t *testing.T, owner *browser, master string) string {
	t.Helper()
	page := owner.get("/admin/feeds")
	require.Equal(t, http.StatusOK, page.status)
	a := owner.post("/admin/feeds/"+master, url.Values{"csrf": {owner.csrf(page)}, "action": {"new"}})
	require.Equal(t, http.StatusSeeOther, a.status, a.body)
	require.Equal(t, "/admin/feeds", a.header.Get("Location"))
	shown := owner.get("/admin/feeds")
	m := feedURL.FindStringSubmatch(shown.body)
	require.NotNil(t, m, "no feed URL on the page:\n%s", shown.body)
	require.Contains(t, shown.body, "webcal://"+strings.TrimPrefix(m[1], "http://"))
	again := owner.get("/admin/feeds")
	require.NotContains(t, again.body, m[1], "shown once")
	require.NotContains(t, again.body, "/calendar/")
	u, err := url.Parse(m[1])
	require.NoError(t, err)
	return u.Path
}

// sequence reads an event's SEQUENCE.
func sequence(t *testing.T, ev vevent) int {
	t.Helper()
	n, err := strconv.Atoi(ev["SEQUENCE"])
	require.NoError(t, err, "SEQUENCE of %v", ev)
	return n
}

type feedAnswer struct {
	answer
	cal    vevent
	events map[string]vevent
}

func (b *bundle) fetchFeed(t *testing.T, path string, headers ...string) feedAnswer {
	t.Helper()
	req, err := http.NewRequest("GET", b.srv.URL+path, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	f := feedAnswer{answer: answer{status: resp.StatusCode, body: string(body), header: resp.Header}}
	if resp.StatusCode == http.StatusOK {
		f.cal, f.events = parseICS(t, f.body)
	}
	return f
}

// longName makes the calendar's name long, with characters TEXT escapes and
// characters of several octets, so that its line is folded.
func longName(s *postgres.SalonSetup, _ *desk.Config) {
	s.Salon.Name = `Salon, Spa; and \ Beauty — a name long enough to fold: ünïcödé ünïcödé ünïcödé 美容院`
}

// TestCalendarFeed: the owner makes Anna's feed; it is valid iCalendar with
// her held, confirmed and cancelled bookings (not Boris's), in UTC, with no
// phone and only first names; an unchanged feed answers 304 to its ETag; each
// change (a confirmation, a lapse, a move and a cancel in the same second)
// gives a higher SEQUENCE, and a clock behind lowers it not.
func TestCalendarFeed(t *testing.T) {
	t.Parallel()
	b := newBundle(t, longName)
	alice := b.book(t, "anna", "haircut", berlin(2027, 3, 3, 10, 0), "Zoë,Ann Annaclient", "+49 151 1111111")
	bob := b.book(t, "boris", "haircut", berlin(2027, 3, 3, 11, 0), "Bob Borisclient", "+49 151 2222222")
	gone := b.book(t, "anna", "manicure", berlin(2027, 3, 4, 14, 0), "Dora Cancelled", "+49 151 4444444")
	_, err := b.bookings.Cancel(ctx, b.salonID, gone.ID)
	require.NoError(t, err)
	held, err := b.bookings.Book(ctx, booking.BookRequest{SalonID: b.salonID, ServiceID: "haircut", MasterID: "anna",
		Start: berlin(2027, 3, 5, 9, 0).UTC(), Client: core.Client{Name: "Carol Held", Phone: "+49 151 3333333"},
		IdempotencyKey: pgtest.RandomID(), Source: "web:abc"})
	require.NoError(t, err)
	// Beyond the window: long ago, and past the horizon (60 days).
	old := b.book(t, "anna", "haircut", berlin(2027, 3, 2, 10, 0), "Olde Client", "+49 151 5555555")
	// Her blocked time: a break (shown), and a sick hour lifted (cancelled).
	brk, err := b.bookings.Block(ctx, booking.BlockRequest{SalonID: b.salonID, MasterID: "anna", Start: berlin(2027, 3, 3, 13, 0).UTC(),
		End: berlin(2027, 3, 3, 13, 30).UTC(), Note: "Break, lunch", IdempotencyKey: pgtest.RandomID(), Source: "desk:olga"})
	require.NoError(t, err)
	sick, err := b.bookings.Block(ctx, booking.BlockRequest{SalonID: b.salonID, MasterID: "anna", Start: berlin(2027, 3, 4, 9, 0).UTC(),
		End: berlin(2027, 3, 4, 10, 0).UTC(), IdempotencyKey: pgtest.RandomID(), Source: "desk:olga"})
	require.NoError(t, err)
	_, err = b.bookings.Unblock(ctx, b.salonID, sick.ID, "")
	require.NoError(t, err)

	owner := b.browser(t)
	owner.login("olga")
	path := newFeed(t, owner, "anna")

	b.clock.T = time.Date(2027, 3, 1, 7, 5, 0, 0, time.UTC) // the hold is still live
	f := b.fetchFeed(t, path)
	require.Equal(t, http.StatusOK, f.status, f.body)
	require.Equal(t, "text/calendar; charset=utf-8", f.header.Get("Content-Type"))
	require.NotEmpty(t, f.header.Get("ETag"))
	require.NotEmpty(t, f.header.Get("Last-Modified"))
	require.Contains(t, f.header.Get("Cache-Control"), "private")
	require.Equal(t, `Anna · Salon, Spa; and \ Beauty — a name long enough to fold: ünïcödé ünïcödé ünïcödé 美容院`,
		unescape(f.cal["X-WR-CALNAME"]))
	require.Contains(t, f.body, `Salon\, Spa\; and \\ Beauty`)
	require.Equal(t, "Europe/Berlin", f.cal["X-WR-TIMEZONE"])

	require.Len(t, f.events, 6, "Alice's, Dora's (cancelled), Carol's (held), the old one, two blocks; not Boris's")
	require.Equal(t, `Blocked · Break\, lunch`, f.events[brk.ID+"@salonbook"]["SUMMARY"])
	require.Equal(t, "CONFIRMED", f.events[brk.ID+"@salonbook"]["STATUS"])
	require.Equal(t, "Blocked", f.events[sick.ID+"@salonbook"]["SUMMARY"])
	require.Equal(t, "CANCELLED", f.events[sick.ID+"@salonbook"]["STATUS"], "a lifted block")
	starts := regexp.MustCompile(`DTSTART:(\d{8}T\d{6}Z)`).FindAllStringSubmatch(f.body, -1)
	for i := 1; i < len(starts); i++ {
		require.LessOrEqual(t, starts[i-1][1], starts[i][1], "events by start: the body (and its ETag) stays the same")
	}
	require.NotContains(t, f.events, bob.ID+"@salonbook")
	for _, s := range []string{"Borisclient", "Bob", "1111111", "2222222", "3333333", "Annaclient"} {
		require.NotContains(t, f.body, s, "no phone, no last name, nothing of Boris")
	}
	a := f.events[alice.ID+"@salonbook"]
	require.Equal(t, "20270303T090000Z", a["DTSTART"], "10:00 in Berlin (CET) in UTC")
	require.Equal(t, "20270303T094500Z", a["DTEND"])
	require.Equal(t, "Haircut: Zoë,Ann", unescape(a["SUMMARY"]))
	require.Equal(t, `Haircut: Zoë\,Ann`, a["SUMMARY"])
	require.Equal(t, "CONFIRMED", a["STATUS"])
	require.Equal(t, "1", a["SEQUENCE"], "booked: one change")
	require.Equal(t, "CANCELLED", f.events[gone.ID+"@salonbook"]["STATUS"])
	require.Equal(t, "TENTATIVE", f.events[held.ID+"@salonbook"]["STATUS"])
	require.Contains(t, f.events, old.ID+"@salonbook")

	// Unchanged: 304 to its ETag, with no body.
	same := b.fetchFeed(t, path, "If-None-Match", f.header.Get("ETag"))
	require.Equal(t, http.StatusNotModified, same.status)
	require.Empty(t, same.body)
	require.Equal(t, http.StatusOK, b.fetchFeed(t, path, "If-None-Match", `"other"`).status)

	// A hold confirmed in the same instant it was made: its SEQUENCE grows.
	quick, err := b.bookings.Book(ctx, booking.BookRequest{SalonID: b.salonID, ServiceID: "haircut", MasterID: "anna",
		Start: berlin(2027, 3, 5, 11, 0).UTC(), Client: core.Client{Name: "Quinn Quick", Phone: "+49 151 7777777"},
		IdempotencyKey: pgtest.RandomID(), Source: "web:quick"})
	require.NoError(t, err)
	before := b.fetchFeed(t, path).events[quick.ID+"@salonbook"]
	require.Equal(t, "TENTATIVE", before["STATUS"])
	_, err = b.bookings.Confirm(ctx, b.salonID, quick.ID)
	require.NoError(t, err)
	after := b.fetchFeed(t, path).events[quick.ID+"@salonbook"]
	require.Equal(t, "CONFIRMED", after["STATUS"])
	require.Greater(t, sequence(t, after), sequence(t, before), "a confirmation in the same second is a new revision")

	// The hold lapses: it is cancelled in the feed, a revision up though
	// nothing was written; the expiry, when written, keeps that revision.
	tentative := f.events[held.ID+"@salonbook"]
	b.clock.T = time.Date(2027, 3, 1, 7, 30, 0, 0, time.UTC)
	f = b.fetchFeed(t, path)
	lapsed := f.events[held.ID+"@salonbook"]
	require.Equal(t, "CANCELLED", lapsed["STATUS"])
	require.Equal(t, sequence(t, tentative)+1, sequence(t, lapsed), "shown cancelled: a new revision")
	require.Greater(t, lapsed["LAST-MODIFIED"], tentative["LAST-MODIFIED"], "modified when it lapsed")
	n, err := postgres.NewWaitlist(pgtest.Pool(t)).ExpireDue(ctx, b.salonID, b.clock.T)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	expired := b.fetchFeed(t, path).events[held.ID+"@salonbook"]
	require.Equal(t, "CANCELLED", expired["STATUS"])
	require.Equal(t, sequence(t, lapsed), sequence(t, expired), "the expiry written is the change already shown")
	require.GreaterOrEqual(t, expired["LAST-MODIFIED"], lapsed["LAST-MODIFIED"])

	// Moved, then cancelled, in the same instant (the clock stands still):
	// the same UID, a new start, and each change a higher SEQUENCE and a new ETag.
	_, err = b.bookings.Reschedule(ctx, b.salonID, alice.ID, berlin(2027, 3, 3, 15, 0).UTC())
	require.NoError(t, err)
	moved := b.fetchFeed(t, path)
	m := moved.events[alice.ID+"@salonbook"]
	require.Equal(t, "20270303T140000Z", m["DTSTART"])
	require.Greater(t, sequence(t, m), sequence(t, a))
	require.NotEqual(t, f.header.Get("ETag"), moved.header.Get("ETag"))
	require.Greater(t, m["LAST-MODIFIED"], a["LAST-MODIFIED"])
	require.Equal(t, m["DTSTAMP"], m["LAST-MODIFIED"])
	_, err = b.bookings.Cancel(ctx, b.salonID, alice.ID)
	require.NoError(t, err)
	cancelled := b.fetchFeed(t, path)
	c := cancelled.events[alice.ID+"@salonbook"]
	require.Equal(t, "CANCELLED", c["STATUS"])
	require.Greater(t, sequence(t, c), sequence(t, m), "a cancel in the same second as the move is a new revision")
	require.GreaterOrEqual(t, c["LAST-MODIFIED"], m["LAST-MODIFIED"])
	require.NotEqual(t, moved.header.Get("ETag"), cancelled.header.Get("ETag"))
	// A writer whose clock is behind (updated_at earlier than the last
	// change's) lowers neither.
	_, err = pgtest.Pool(t).Exec(ctx, `UPDATE bookings SET updated_at = updated_at - interval '1 day' WHERE booking_id = $1`, alice.ID)
	require.NoError(t, err)
	skewed := b.fetchFeed(t, path).events[alice.ID+"@salonbook"]
	require.Equal(t, sequence(t, c), sequence(t, skewed))
	require.GreaterOrEqual(t, skewed["LAST-MODIFIED"], c["LAST-MODIFIED"])

	// A week after its cancel (on the database's clock, which wrote its
	// updated_at), the cancelled booking leaves the feed.
	_, err = pgtest.Pool(t).Exec(ctx, `UPDATE bookings SET updated_at = now() - $2::interval WHERE booking_id = $1`,
		gone.ID, desk.FeedCancelled+time.Minute)
	require.NoError(t, err)
	f = b.fetchFeed(t, path)
	require.NotContains(t, f.events, gone.ID+"@salonbook")
	require.Contains(t, f.events, alice.ID+"@salonbook", "cancelled today")
	// A month on, the old booking has left the window.
	b.clock.T = berlin(2027, 3, 2, 10, 0).UTC().Add(desk.FeedPast + time.Minute)
	f = b.fetchFeed(t, path)
	require.NotContains(t, f.events, old.ID+"@salonbook")
	// And a booking past the horizon is not yet in it.
	b.clock.T = time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)
	far := b.book(t, "anna", "haircut", berlin(2027, 4, 29, 10, 0), "Far Client", "+49 151 6666666")
	b.clock.T = time.Date(2027, 2, 27, 7, 0, 0, 0, time.UTC)
	require.NotContains(t, b.fetchFeed(t, path).events, far.ID+"@salonbook")
}

// TestCalendarFeedSecrets: a rotated secret's old URL, a turned-off feed, a
// made-up or malformed secret and another salon's feed all answer 404; the
// database holds only hashes; masters cannot manage feeds; "feed is off" is
// said of a master of the salon only, never of what a link says.
func TestCalendarFeedSecrets(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	b.book(t, "anna", "haircut", berlin(2027, 3, 3, 10, 0), "Alice Annaclient", "+49 151 1111111")
	owner := b.browser(t)
	owner.login("olga")
	first := newFeed(t, owner, "anna")
	require.Equal(t, http.StatusOK, b.fetchFeed(t, first).status)
	secret := strings.TrimSuffix(strings.TrimPrefix(first, "/calendar/"), ".ics")
	var stored []byte
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT secret_hash FROM calendar_feeds WHERE salon_id = $1 AND master_id = 'anna'`,
		b.salonID).Scan(&stored))
	require.Equal(t, desk.FeedHash(secret), stored, "only the hash is stored")
	require.NotContains(t, string(stored), secret)

	second := newFeed(t, owner, "anna")
	require.NotEqual(t, first, second)
	require.Equal(t, http.StatusNotFound, b.fetchFeed(t, first).status, "the rotated secret is dead")
	require.Equal(t, http.StatusOK, b.fetchFeed(t, second).status)
	page := owner.get("/admin/feeds")
	require.Contains(t, page.body, "On since Mon 1 Mar 2027 08:00 (olga)")

	// Another master's feed leads to theirs only; another salon's desk does not know this one.
	boris := newFeed(t, owner, "boris")
	require.NotContains(t, b.fetchFeed(t, boris).body, "Alice")
	other := newBundle(t)
	require.Equal(t, http.StatusNotFound, other.fetchFeed(t, second).status)

	made, _ := desk.NewFeedSecret()
	for _, p := range []string{"/calendar/" + made + ".ics", "/calendar/" + made, "/calendar/short.ics",
		"/calendar/" + secret + "x.ics", "/calendar/" + secret[:42] + ".ics", "/calendar/", "/calendar/a/" + secret + ".ics"} {
		a := b.fetchFeed(t, p)
		require.Equal(t, http.StatusNotFound, a.status, p)
	}

	// Turned off.
	a := owner.post("/admin/feeds/anna", url.Values{"csrf": {owner.csrf(page)}, "action": {"off"}})
	require.Equal(t, http.StatusSeeOther, a.status)
	require.Contains(t, owner.get(a.header.Get("Location")).body, "Anna's feed is off")
	for _, off := range []string{"Everything", "nobody", "<b>x</b>"} { // a link made up elsewhere says nothing
		page := owner.get("/admin/feeds?" + url.Values{"off": {off}}.Encode())
		require.Equal(t, http.StatusOK, page.status)
		require.NotContains(t, page.body, "feed is off", off)
	}
	require.Equal(t, http.StatusNotFound, b.fetchFeed(t, second).status)

	// Without the token, from a master, for a master that is not: refused.
	require.Equal(t, http.StatusForbidden, owner.post("/admin/feeds/anna", url.Values{"action": {"new"}}).status)
	require.Equal(t, http.StatusNotFound, owner.post("/admin/feeds/nobody", url.Values{"csrf": {owner.csrf(page)}, "action": {"new"}}).status)
	anna := b.browser(t)
	anna.login("anna")
	day := anna.get("/admin/day")
	require.NotContains(t, day.body, `href="/admin/feeds"`, "no link for a master")
	require.Equal(t, http.StatusForbidden, anna.get("/admin/feeds").status)
	a = anna.post("/admin/feeds/anna", url.Values{"csrf": {anna.csrf(day)}, "action": {"new"}})
	require.Equal(t, http.StatusForbidden, a.status)
	var n int
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT count(*) FROM calendar_feeds WHERE salon_id = $1 AND master_id = 'anna'`,
		b.salonID).Scan(&n))
	require.Zero(t, n, "still off")
}

// TestCalendarFeedEndsWithMaster: a master left out of the salon file loses
// the feed (its row is deleted with the apply): the link answers 404, and
// still does once the master is back in the file; a new link is needed.
func TestCalendarFeedEndsWithMaster(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	b.book(t, "anna", "haircut", berlin(2027, 3, 3, 10, 0), "Alice Annaclient", "+49 151 1111111")
	owner := b.browser(t)
	owner.login("olga")
	path := newFeed(t, owner, "anna")
	boris := newFeed(t, owner, "boris")
	require.Equal(t, http.StatusOK, b.fetchFeed(t, path).status)

	without := b.setup
	without.Masters = slices.DeleteFunc(slices.Clone(b.setup.Masters), func(m core.Master) bool { return m.ID == "anna" })
	without.Staff = slices.DeleteFunc(slices.Clone(b.setup.Staff), func(a staff.Account) bool { return a.MasterID == "anna" })
	_, err := b.store.Apply(ctx, without)
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, b.fetchFeed(t, path).status)
	var n int
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT count(*) FROM calendar_feeds WHERE salon_id = $1 AND master_id = 'anna'`,
		b.salonID).Scan(&n))
	require.Zero(t, n, "the feed is gone with the master")

	_, err = b.store.Apply(ctx, b.setup) // Anna is back
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, b.fetchFeed(t, path).status, "her old link stays dead")
	require.Regexp(t, `(?s)<tr data-master="anna"><td>Anna</td>\s*<td>Off</td>`, owner.get("/admin/feeds").body)
	require.Equal(t, http.StatusOK, b.fetchFeed(t, boris).status, "another master's feed is untouched")
	again := newFeed(t, owner, "anna")
	require.Equal(t, http.StatusOK, b.fetchFeed(t, again).status)
}

// feedCookie returns the jar's feed link cookie for path, nil when it sends none there.
func (br *browser) feedCookie(path string) *http.Cookie {
	u, _ := url.Parse(br.b.srv.URL + path)
	for _, c := range br.jar.Cookies(u) {
		if c.Name == "desk_feed" {
			return c
		}
	}
	return nil
}

// TestFeedLinkCookie: the cookie that carries a new feed link from the POST
// to the page showing it is sent to /admin/feeds only (not the chat or the
// API), does not hold the secret readably, shows nothing in another session,
// and is deleted by the logout as by the page that shows it.
func TestFeedLinkCookie(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	owner := b.browser(t)
	owner.login("olga")
	page := owner.get("/admin/feeds")
	a := owner.post("/admin/feeds/anna", url.Values{"csrf": {owner.csrf(page)}, "action": {"new"}})
	require.Equal(t, http.StatusSeeOther, a.status, a.body)
	set := sessionCookie(t, a.header, "desk_feed")
	require.Equal(t, "/admin/feeds", set.Path)
	require.True(t, set.HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, set.SameSite)
	require.Equal(t, 300, set.MaxAge)
	for _, path := range []string{"/", "/chat", "/api/v1/slots", "/admin/day", "/admin/feedsx"} {
		require.Nil(t, owner.feedCookie(path), "sent to %s", path)
	}
	sealed := owner.feedCookie("/admin/feeds")
	require.NotNil(t, sealed)

	// Another session of the same owner, given the cookie, shows nothing.
	other := b.browser(t)
	other.login("olga")
	u, _ := url.Parse(b.srv.URL + "/admin/feeds")
	other.jar.SetCookies(u, []*http.Cookie{{Name: "desk_feed", Value: sealed.Value, Path: "/admin/feeds"}})
	require.NotContains(t, other.get("/admin/feeds").body, "/calendar/", "sealed to the session that made it")

	// Its own session shows it, once; the secret was not readable in the cookie.
	shown := owner.get("/admin/feeds")
	m := feedURL.FindStringSubmatch(shown.body)
	require.NotNil(t, m, shown.body)
	secret := strings.TrimSuffix(m[1][strings.LastIndex(m[1], "/")+1:], ".ics")
	for _, s := range []string{sealed.Value, unbase64(sealed.Value)} {
		require.NotContains(t, s, secret)
		require.NotContains(t, s, "anna")
	}
	require.Nil(t, owner.feedCookie("/admin/feeds"), "deleted once shown")

	// A link made and not yet looked at goes with the logout; kept by hand,
	// it shows nothing in the next session either.
	page = owner.get("/admin/feeds")
	require.Equal(t, http.StatusSeeOther, owner.post("/admin/feeds/boris", url.Values{"csrf": {owner.csrf(page)}, "action": {"new"}}).status)
	kept := owner.feedCookie("/admin/feeds")
	require.NotNil(t, kept)
	out := owner.post("/admin/logout", url.Values{"csrf": {owner.csrf(page)}})
	require.Equal(t, http.StatusSeeOther, out.status)
	gone := sessionCookie(t, out.header, "desk_feed")
	require.Equal(t, "/admin/feeds", gone.Path)
	require.Negative(t, gone.MaxAge)
	require.Nil(t, owner.feedCookie("/admin/feeds"), "deleted by the logout")
	owner.login("olga")
	owner.jar.SetCookies(u, []*http.Cookie{{Name: "desk_feed", Value: kept.Value, Path: "/admin/feeds"}})
	require.NotContains(t, owner.get("/admin/feeds").body, "/calendar/", "a new session cannot read the old one's")
}

func unbase64(s string) string {
	raw, _ := base64.RawURLEncoding.DecodeString(s)
	return string(raw)
}
