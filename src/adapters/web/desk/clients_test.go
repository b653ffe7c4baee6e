package desk_test

import (
	"time"

	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
)

// clientLinks returns the names of the clients a list page links to, by id.
var clientLink = regexp.MustCompile(`<a class="client" href="/admin/clients/(\d+)">([^<]*)</a>`)

func listed(body string) map[string]int64 {
	out := map[string]int64{}
	for _, m := range clientLink.FindAllStringSubmatch(body, -1) {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		out[m[2]] = id
	}
	return out
}

func names(body string) []string {
	var out []string
	for _, m := range clientLink.FindAllStringSubmatch(body, -1) {
		out = append(out, m[2])
	}
	return out
}

// search sends the clients page's search box (POST) and returns the page
// it leads to: a name search's GET page, a phone search's answer itself.
func (br *browser) search(q string, page int) answer {
	br.t.Helper()
	form := url.Values{"csrf": {br.csrf(br.get("/admin/clients"))}, "q": {q}}
	if page > 0 {
		form.Set("page", strconv.Itoa(page))
	}
	a := br.post("/admin/clients", form)
	if a.status == http.StatusSeeOther {
		require.NotContains(br.t, a.header.Get("Location"), "login")
		return br.get(a.header.Get("Location"))
	}
	return a
}

// clientsSalon books three clients: Alice (anna, and once boris), Alina (anna)
// and Bob (boris).
func clientsSalon(t *testing.T) (*bundle, map[string]*core.Booking) {
	b := newBundle(t)
	bk := map[string]*core.Booking{
		"alice":  b.book(t, "anna", "haircut", berlin(2027, 3, 3, 10, 0), "Alice Annaclient", "+49 151 1111111"),
		"alice2": b.book(t, "boris", "haircut", berlin(2027, 3, 4, 12, 0), "Alice Annaclient", "+49 151 1111111"),
		"alina":  b.book(t, "anna", "manicure", berlin(2027, 3, 3, 14, 0), "Alina Müller", "+49 160 3333333"),
		"bob":    b.book(t, "boris", "haircut", berlin(2027, 3, 3, 11, 0), "Bob Borisclient", "+49 151 2222222"),
	}
	return b, bk
}

// TestClientSearchByNameAndPhone: an owner finds clients by part of the name
// (any case) and by phone digits however the number is written (spaces, +,
// 00, a local 0); the phones are shown to the owner.
func TestClientSearchByNameAndPhone(t *testing.T) {
	t.Parallel()
	b, _ := clientsSalon(t)
	owner := b.browser(t)
	owner.login("olga")

	all := owner.get("/admin/clients")
	require.Equal(t, http.StatusOK, all.status)
	require.Equal(t, []string{"Alice Annaclient", "Alina Müller", "Bob Borisclient"}, names(all.body))
	require.Contains(t, all.body, "491511111111", "the owner sees phones")

	for q, want := range map[string][]string{
		"ali":               {"Alice Annaclient", "Alina Müller"},
		"ALI":               {"Alice Annaclient", "Alina Müller"},
		"müller":            {"Alina Müller"},
		"borisCLIENT":       {"Bob Borisclient"},
		"+49 151 222 2222":  {"Bob Borisclient"},
		"0049-151-2222222":  {"Bob Borisclient"},
		"0151 2222222":      {"Bob Borisclient"},
		"(0151) 22 22 222":  {"Bob Borisclient"},
		"2222":              {"Bob Borisclient"},
		"+49151":            {"Alice Annaclient", "Bob Borisclient"},
		"%":                 nil, // a wildcard is a character like any other
		"_":                 nil,
		"nobody":            nil,
		"  Alice  ":         {"Alice Annaclient"},
		"Alice Annaclient":  {"Alice Annaclient"},
		"Alice Annaclient1": nil,
	} {
		a := owner.search(q, 0)
		require.Equal(t, http.StatusOK, a.status, q)
		require.Equal(t, want, names(a.body), "search %q", q)
	}
	a := owner.search("22", 0)
	require.Contains(t, a.body, "Type at least 3 digits")
	require.Empty(t, names(a.body))
	a = owner.search(strings.Repeat("x", 101), 0)
	require.Contains(t, a.body, "too long")
	require.Equal(t, []string{"Alice Annaclient", "Alina Müller"}, names(owner.get("/admin/clients?q=ali").body),
		"a name search's page is a link")
}

// TestClientsArePaged: 50 to a page, with links to the next and previous
// pages; a page that cannot be is refused.
func TestClientsArePaged(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	_, err := pgtest.Pool(t).Exec(ctx, `
		INSERT INTO clients (salon_id, name, phone)
		SELECT $1, 'Paging Client ' || lpad(g::text, 3, '0'), '+4917' || lpad(g::text, 8, '0') FROM generate_series(1, 120) g`, b.salonID)
	require.NoError(t, err)
	owner := b.browser(t)
	owner.login("olga")
	p1 := owner.get("/admin/clients?q=paging")
	got := names(p1.body)
	require.Len(t, got, 50)
	require.Equal(t, "Paging Client 001", got[0])
	require.Contains(t, p1.body, `href="/admin/clients?page=2&amp;q=paging"`)
	require.NotContains(t, p1.body, "‹ Previous")
	p3 := owner.get("/admin/clients?q=paging&page=3")
	got = names(p3.body)
	require.Len(t, got, 20)
	require.Equal(t, "Paging Client 101", got[0])
	require.Contains(t, p3.body, "‹ Previous")
	require.NotContains(t, p3.body, "Next ›")
	for _, page := range []string{"0", "-1", "x", "1001"} {
		require.Equal(t, http.StatusBadRequest, owner.get("/admin/clients?page="+page).status, page)
	}
}

// TestMasterSeesOnlyOwnClientsWithoutPhones: a master lists only the clients
// who have bookings with them, never a phone; a phone search, another
// master's client's page and a note written by crafted requests are refused.
func TestMasterSeesOnlyOwnClientsWithoutPhones(t *testing.T) {
	t.Parallel()
	b, bk := clientsSalon(t)
	anna := b.browser(t)
	anna.login("anna")

	a := anna.get("/admin/clients")
	require.Equal(t, http.StatusOK, a.status)
	ids := listed(a.body)
	require.Equal(t, []string{"Alice Annaclient", "Alina Müller"}, names(a.body))
	for _, digits := range []string{"1111111", "2222222", "3333333"} {
		require.NotContains(t, a.body, digits, "no phone to a master")
	}
	require.Empty(t, names(anna.get("/admin/clients?q=bob").body), "another master's client is not found")
	for _, q := range []string{"+49 151 2222222", "1111111", "0151"} {
		for _, a := range []answer{anna.search(q, 0), anna.get("/admin/clients?" + url.Values{"q": {q}}.Encode())} {
			require.Equal(t, http.StatusOK, a.status)
			require.Contains(t, a.body, "Only the owner can search by phone number")
			require.Empty(t, names(a.body), q)
		}
	}

	// Her client's page: her bookings only (Alice's with Boris is not hers), no phone.
	alice := anna.get(fmt.Sprintf("/admin/clients/%d", ids["Alice Annaclient"]))
	require.Equal(t, http.StatusOK, alice.status)
	require.Contains(t, alice.body, "Wed 3 Mar 2027 10:00–10:45")
	require.NotContains(t, alice.body, "Thu 4 Mar 2027", "her booking with Boris")
	require.NotContains(t, alice.body, "Boris")
	require.NotContains(t, alice.body, "1111111")
	require.NotContains(t, alice.body, "<textarea", "a master reads the note, no form")

	// Bob's page (a client of Boris only), by a crafted request.
	bob := anna.get(fmt.Sprintf("/admin/clients/%d", bk["bob"].ClientID))
	require.Equal(t, http.StatusNotFound, bob.status)
	require.NotContains(t, bob.body, "Borisclient")
	require.NotContains(t, bob.body, "2222222")

	// A note, posted with her own valid token, is refused, to her client and to Bob.
	token := anna.csrf(alice)
	for _, id := range []int64{ids["Alice Annaclient"], bk["bob"].ClientID} {
		a := anna.post(fmt.Sprintf("/admin/clients/%d/note", id), url.Values{"csrf": {token}, "note": {"written by anna"}})
		require.Equal(t, http.StatusForbidden, a.status)
	}
	var n int
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT count(*) FROM client_notes WHERE salon_id = $1`, b.salonID).Scan(&n))
	require.Zero(t, n)

	for _, path := range []string{"/admin/clients/0", "/admin/clients/x", "/admin/clients/99999999999"} {
		require.Equal(t, http.StatusNotFound, anna.get(path).status, path)
	}
}

// TestClientNote: the owner's note is saved only with the form's CSRF token,
// shown escaped, read by the client's master, deleted when emptied; a note
// over 2,000 characters is refused and shown back.
func TestClientNote(t *testing.T) {
	t.Parallel()
	b, bk := clientsSalon(t)
	owner := b.browser(t)
	owner.login("olga")
	path := fmt.Sprintf("/admin/clients/%d", bk["alice"].ClientID)
	page := owner.get(path)
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, `<textarea id="note" name="note"`)
	token := owner.csrf(page)
	note := "Allergic to <b>latex</b>;\r\nprefers mornings"

	for _, form := range []url.Values{{"note": {note}}, {"note": {note}, "csrf": {""}}, {"note": {note}, "csrf": {"forged"}}} {
		a := owner.post(path+"/note", form)
		require.Equal(t, http.StatusForbidden, a.status, "%v", form)
	}
	a := owner.post(path+"/note", url.Values{"note": {note}, "csrf": {token}}, "Sec-Fetch-Site", "cross-site")
	require.Equal(t, http.StatusForbidden, a.status, "from another site")
	require.NotContains(t, owner.get(path).body, "latex")

	a = owner.post(path+"/note", url.Values{"note": {note}, "csrf": {token}})
	require.Equal(t, http.StatusSeeOther, a.status)
	require.Equal(t, path+"?saved=1", a.header.Get("Location"))
	page = owner.get(a.header.Get("Location"))
	require.Contains(t, page.body, "Note saved.")
	require.Contains(t, page.body, "Allergic to &lt;b&gt;latex&lt;/b&gt;;\nprefers mornings")
	require.Contains(t, page.body, "Last changed by olga, Mon 1 Mar 2027 08:00")
	require.Contains(t, owner.get("/admin/clients").body, `title="has a note"`)

	anna := b.browser(t)
	anna.login("anna")
	a = anna.get(path)
	require.Contains(t, a.body, "Allergic to &lt;b&gt;latex&lt;/b&gt;")
	require.Contains(t, a.body, "Only the owner can change this note.")

	long := strings.Repeat("é", 2001)
	a = owner.post(path+"/note", url.Values{"note": {long}, "csrf": {token}})
	require.Equal(t, http.StatusBadRequest, a.status)
	require.Contains(t, a.body, "too long")
	require.Contains(t, a.body, long, "shown back")
	require.Contains(t, owner.get(path).body, "latex", "the old note stays")

	a = owner.post(path+"/note", url.Values{"note": {"  \r\n "}, "csrf": {token}})
	require.Equal(t, http.StatusSeeOther, a.status)
	require.NotContains(t, owner.get(path).body, "latex")
	var n int
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT count(*) FROM client_notes WHERE salon_id = $1`, b.salonID).Scan(&n))
	require.Zero(t, n, "an emptied note is deleted")

	// A client of another salon is not this desk's.
	other := newBundle(t)
	theirs := other.book(t, "anna", "haircut", berlin(2027, 3, 3, 10, 0), "Other Salonclient", "+49 151 9999999")
	a = owner.post(fmt.Sprintf("/admin/clients/%d/note", theirs.ClientID), url.Values{"note": {"x"}, "csrf": {token}})
	require.Equal(t, http.StatusNotFound, a.status)
	require.Equal(t, http.StatusNotFound, owner.get(fmt.Sprintf("/admin/clients/%d", theirs.ClientID)).status)
}

// TestClientPageListsBookings: past and upcoming bookings with status, master
// and service, in the salon's zone.
func TestClientPageListsBookings(t *testing.T) {
	t.Parallel()
	b, bk := clientsSalon(t)
	later := b.book(t, "anna", "manicure", berlin(2027, 3, 10, 15, 30), "Alice Annaclient", "+49 151 1111111")
	_, err := b.bookings.Cancel(ctx, b.salonID, later.ID)
	require.NoError(t, err)
	held, err := b.bookings.Book(ctx, booking.BookRequest{SalonID: b.salonID, ServiceID: "haircut", MasterID: "anna",
		Start: berlin(2027, 3, 12, 9, 0).UTC(), Client: core.Client{Name: "Alice Annaclient", Phone: "+49 151 1111111"},
		IdempotencyKey: pgtest.RandomID(), Source: "telegram:42Alice Annaclient"}) // her chat (b.book's)
	require.NoError(t, err)
	require.Equal(t, core.StatusHeld, held.Status)
	b.clock.T = berlin(2027, 3, 3, 12, 0).UTC() // the 3 March haircut is past, the 4 March one to come
	_, err = b.bookings.Mark(ctx, b.salonID, bk["alice"].ID, core.NoShow)
	require.NoError(t, err)

	owner := b.browser(t)
	owner.login("olga")
	page := owner.get(fmt.Sprintf("/admin/clients/%d", bk["alice"].ClientID))
	require.Equal(t, http.StatusOK, page.status)
	up, past, ok := strings.Cut(page.body, "<h2>Past</h2>")
	require.True(t, ok)
	rows := regexp.MustCompile(`(?s)<tr class="booking">(.*?)</tr>`)
	text := func(s string) []string {
		var out []string
		for _, m := range rows.FindAllStringSubmatch(s, -1) {
			out = append(out, strings.Join(strings.Fields(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], " ")), " "))
		}
		return out
	}
	require.Equal(t, []string{
		"Thu 4 Mar 2027 12:00–12:45 Haircut Boris confirmed telegram",
		"Wed 10 Mar 2027 15:30–16:30 Manicure Anna cancelled telegram",
		"Fri 12 Mar 2027 09:00–09:45 Haircut Anna expired telegram", // a hold that lapsed (not yet marked)
	}, text(up))
	require.Equal(t, []string{"Wed 3 Mar 2027 10:00–10:45 Haircut Anna no-show telegram"}, text(past))
	require.Contains(t, page.body, `<dd class="noshows">1 in the last year</dd>`)
	require.Contains(t, page.body, `<a href="/admin/booking/`+bk["alice"].ID+`">Wed 3 Mar 2027 10:00–10:45</a>`, "to the booking's page")
	require.Contains(t, page.body, "&#43;491511111111", "the owner sees the phone (html/template writes + so)")
}

// TestErasedClient: "delete my data" (postgres.Privacy.Erase) also deletes the
// owner's note on the client; the client leaves the list and the search, their
// page says so and keeps the bookings, and takes no new note.
func TestErasedClient(t *testing.T) {
	t.Parallel()
	b, bk := clientsSalon(t)
	owner := b.browser(t)
	owner.login("olga")
	path := fmt.Sprintf("/admin/clients/%d", bk["alina"].ClientID)
	token := owner.csrf(owner.get(path))
	require.Equal(t, http.StatusSeeOther, owner.post(path+"/note", url.Values{"note": {"Prefers Anna"}, "csrf": {token}}).status)

	pool := pgtest.Pool(t)
	key := dialog.ChatKey{SalonID: b.salonID, Channel: "telegram", ChatID: "42Alina Müller"} // b.book's chat
	// Erased after the booking ended (Erase refuses while a booking is live:
	// the dialog cancels those first).
	_, err := postgres.NewPrivacy(pool).Erase(ctx, key, 0, bk["alina"].End.Add(time.Minute))
	require.NoError(t, err)
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM client_notes WHERE client_id = $1`, bk["alina"].ClientID).Scan(&n))
	require.Zero(t, n, "the note went with the name and phone")

	require.Equal(t, []string{"Alice Annaclient", "Bob Borisclient"}, names(owner.get("/admin/clients").body))
	require.Empty(t, names(owner.get("/admin/clients?q=alina").body))
	page := owner.get(path)
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, "erased on their request")
	require.Contains(t, page.body, "Wed 3 Mar 2027 14:00–15:00", "the booking stays")
	require.NotContains(t, page.body, "Prefers Anna")
	require.NotContains(t, page.body, "<textarea")
	require.Equal(t, http.StatusNotFound, owner.post(path+"/note", url.Values{"note": {"again"}, "csrf": {token}}).status)
}

// urlsIn returns every address a page or answer leads to: its links, form
// actions and sources, and a redirect's Location.
var pageURL = regexp.MustCompile(`(?:href|action|src)="([^"]*)"`)

func urlsIn(a answer) []string {
	var out []string
	for _, m := range pageURL.FindAllStringSubmatch(a.body, -1) {
		out = append(out, m[1])
	}
	if l := a.header.Get("Location"); l != "" {
		out = append(out, l)
	}
	return out
}

// TestPhoneSearchStaysOutOfURLs: the search box is POSTed with the CSRF
// token; a phone search is answered there, paged by POST, and no link,
// form action or redirect of its pages carries the number; a number in a
// link is not searched (nor shown back); a name search goes on to its GET
// address.
func TestPhoneSearchStaysOutOfURLs(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	_, err := pgtest.Pool(t).Exec(ctx, `
		INSERT INTO clients (salon_id, name, phone)
		SELECT $1, 'Phone Client ' || lpad(g::text, 3, '0'), '+4915186420' || lpad(g::text, 3, '0') FROM generate_series(1, 120) g`, b.salonID)
	require.NoError(t, err)
	owner := b.browser(t)
	owner.login("olga")
	page := owner.get("/admin/clients")
	require.Contains(t, page.body, `<form class="search" method="post" action="/admin/clients"`)
	clean := func(a answer, typed string) {
		t.Helper()
		for _, u := range urlsIn(a) {
			for _, digits := range []string{"86420", url.QueryEscape(typed), typed} {
				require.NotContains(t, u, digits, "an address carries the number")
			}
		}
	}

	typed := "0151 86420"
	form := url.Values{"csrf": {owner.csrf(page)}, "q": {typed}}
	require.Equal(t, http.StatusForbidden, owner.post("/admin/clients", url.Values{"q": {typed}}).status, "no token")
	p1 := owner.post("/admin/clients", form)
	require.Equal(t, http.StatusOK, p1.status, "answered, not redirected")
	require.Len(t, names(p1.body), 50)
	require.Equal(t, "Phone Client 001", names(p1.body)[0])
	require.NotContains(t, p1.body, "‹ Previous")
	require.Contains(t, p1.body, `<input type="hidden" name="page" value="2">`)
	clean(p1, typed)
	form.Set("page", "3")
	p3 := owner.post("/admin/clients", form)
	require.Equal(t, http.StatusOK, p3.status)
	require.Len(t, names(p3.body), 20)
	require.Equal(t, "Phone Client 101", names(p3.body)[0])
	require.Contains(t, p3.body, `<input type="hidden" name="page" value="2">`, "back by POST")
	require.NotContains(t, p3.body, "Next ›")
	clean(p3, typed)
	form.Set("page", "0")
	require.Equal(t, http.StatusBadRequest, owner.post("/admin/clients", form).status)

	// A phone search whose session has ended goes to the login with no next=.
	gone := b.browser(t)
	gone.setSession("ended")
	a := gone.post("/admin/clients", url.Values{"csrf": {"x"}, "q": {typed}})
	require.Equal(t, http.StatusSeeOther, a.status)
	clean(a, typed)

	// A number in a link is not searched and not shown back.
	linked := owner.get("/admin/clients?" + url.Values{"q": {typed}}.Encode())
	require.Equal(t, http.StatusOK, linked.status)
	require.Contains(t, linked.body, "Search phone numbers with the search box")
	require.Empty(t, names(linked.body))
	require.NotContains(t, linked.body, "86420")

	// A name goes on to its page's address, which pages by links.
	a = owner.post("/admin/clients", url.Values{"csrf": {owner.csrf(page)}, "q": {"phone client"}, "page": {"2"}})
	require.Equal(t, http.StatusSeeOther, a.status)
	require.Equal(t, "/admin/clients?page=2&q=phone+client", a.header.Get("Location"))
	require.Contains(t, owner.get(a.header.Get("Location")).body, `href="/admin/clients?page=3&amp;q=phone&#43;client"`)
}
