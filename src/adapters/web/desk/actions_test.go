package desk_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/web/desk"
	"salonbook/src/core"
	"salonbook/src/core/booking"
)

var (
	keyField   = regexp.MustCompile(`name="key" value="([^"]+)"`)
	startField = regexp.MustCompile(`name="start" value="([0-9]+)"`)
	bookingLoc = regexp.MustCompile(`^/admin/booking/([0-9a-f-]{36})\?done=([a-z]+)$`)
)

func (br *browser) key(page answer) string {
	br.t.Helper()
	m := keyField.FindStringSubmatch(page.body)
	require.NotNil(br.t, m, "no key field in:\n%s", page.body)
	return m[1]
}

// starts returns the free times a page offers, as unix seconds.
func starts(page answer) []string {
	var out []string
	for _, m := range startField.FindAllStringSubmatch(page.body, -1) {
		out = append(out, m[1])
	}
	return out
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// changedTo checks a change's answer (a redirect to the booking's page) and
// returns the booking's id.
func changedTo(t *testing.T, a answer, done string) string {
	t.Helper()
	require.Equal(t, http.StatusSeeOther, a.status, a.body)
	m := bookingLoc.FindStringSubmatch(a.header.Get("Location"))
	require.NotNil(t, m, a.header.Get("Location"))
	require.Equal(t, done, m[2])
	return m[1]
}

func (b *bundle) get(t *testing.T, id string) *core.Booking {
	t.Helper()
	bk, err := b.bookings.Get(ctx, b.salonID, id)
	require.NoError(t, err)
	return bk
}

// TestDeskBooksAPhoneCall: the owner picks a service, "any master" and a day,
// gets the free times (booking.Service.Slots), and books one for a client who
// phoned: confirmed at once, made by the desk, shown with its history. The
// same form sent twice books once; a bad phone is refused with the form kept;
// a taken time answers with the nearest free ones.
func TestDeskBooksAPhoneCall(t *testing.T) {
	t.Parallel()
	b := newBundle(t, func(s *postgres.SalonSetup, _ *desk.Config) { s.Salon.Country = "DE" })
	br := b.browser(t)
	br.login("olga")
	page := br.get("/admin/book?service=haircut&master=any&date=2027-03-02")
	require.Equal(t, http.StatusOK, page.status)
	free := starts(page)
	require.Len(t, free, 38, "09:00..18:15, each start once for any master")
	require.Contains(t, page.body, "10:00 · Anna")
	ten := unix(berlin(2027, 3, 2, 10, 0))
	form := url.Values{"csrf": {br.csrf(page)}, "key": {br.key(page)}, "service": {"haircut"}, "master": {"any"},
		"date": {"2027-03-02"}, "start": {ten}, "name": {"Petra Phone"}, "phone": {"+49 151 5550000"}}

	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("phone", "12")
	a := br.post("/admin/book", bad)
	require.Equal(t, http.StatusBadRequest, a.status)
	require.Contains(t, a.body, "That is not a phone number of its country: give it with its country code (&#43;…), or as a number of the salon&#39;s country.")
	require.Contains(t, a.body, "For example &#43;49 ", "an example of the salon's country (DE)")
	require.Contains(t, a.body, `value="Petra Phone"`, "the form keeps what was typed")

	id := changedTo(t, br.post("/admin/book", form), "booked")
	bk := b.get(t, id)
	require.Equal(t, core.StatusConfirmed, bk.Status, "confirmed at once: no hold")
	require.True(t, bk.HoldExpiresAt.IsZero())
	require.Equal(t, "desk:olga", bk.Source)
	require.Equal(t, "anna", bk.MasterID)
	require.Equal(t, id, changedTo(t, br.post("/admin/book", form), "booked"), "the same form twice: one booking")

	page = br.get("/admin/booking/" + id + "?done=booked")
	require.Equal(t, http.StatusOK, page.status)
	for _, want := range []string{"Booked.", "Petra Phone", "491515550000", "desk", "Tue 2 Mar 2027, 10:00–10:45",
		"olga (desk): booked", "0 in the last year"} {
		require.Contains(t, page.body, want)
	}

	// Another form for Anna at 10:00: taken; the nearest free times instead.
	page = br.get("/admin/book?service=haircut&master=anna&date=2027-03-02")
	require.NotContains(t, starts(page), ten, "the booked time is no longer offered")
	form.Set("key", br.key(page))
	form.Set("master", "anna")
	form.Set("phone", "+49 151 5550001")
	a = br.post("/admin/book", form)
	require.Equal(t, http.StatusConflict, a.status)
	require.Contains(t, a.body, "That time was just taken. The nearest free times:")
	alts := starts(a)
	require.NotEmpty(t, alts)
	require.LessOrEqual(t, len(alts), 3)
	require.NotContains(t, alts, ten)
}

// TestMasterTypingAKnownNumberLearnsNoName: a number the salon knows (an
// owner's desk booking named it) typed by a master with another name books
// on the master's own record of the number: the master's pages show only
// what they typed, never the stored name; the owner sees both ("known as"),
// and the salon's record keeps its name.
func TestMasterTypingAKnownNumberLearnsNoName(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	deskBook := func(br *browser, master, at, name, phone string) string {
		t.Helper()
		page := br.get("/admin/book?service=haircut&master=" + master + "&date=2027-03-02")
		require.Contains(t, starts(page), at)
		return changedTo(t, br.post("/admin/book", url.Values{"csrf": {br.csrf(page)}, "key": {br.key(page)},
			"service": {"haircut"}, "master": {master}, "date": {"2027-03-02"}, "start": {at},
			"name": {name}, "phone": {phone}}), "booked")
	}
	owner := b.browser(t)
	owner.login("olga")
	stored := deskBook(owner, "boris", unix(berlin(2027, 3, 2, 10, 0)), "Vera Stored", "+49 151 7770001")

	anna := b.browser(t)
	anna.login("anna")
	typed := deskBook(anna, "anna", unix(berlin(2027, 3, 2, 12, 0)), "V. Typed", "+49 (151) 777-0001")
	page := anna.get("/admin/booking/" + typed)
	require.Equal(t, http.StatusOK, page.status)
	require.Contains(t, page.body, "V. Typed")
	require.NotContains(t, page.body, "Vera Stored", "the master sees only what she typed")
	require.NotContains(t, page.body, "7770001")
	require.NotContains(t, anna.get("/admin/day?date=2027-03-02").body, "Vera Stored")
	require.NotContains(t, anna.get("/admin/week?master=anna&date=2027-03-02").body, "Vera Stored")

	page = owner.get("/admin/booking/" + typed)
	require.Contains(t, page.body, "V. Typed (known as Vera Stored)", "the owner sees both")
	require.Contains(t, page.body, "491517770001")
	page = owner.get("/admin/booking/" + stored)
	require.Contains(t, page.body, "Vera Stored")
	require.NotContains(t, page.body, "known as", "the salon's own record is no other name")

	mine, theirs := b.get(t, typed), b.get(t, stored)
	require.NotEqual(t, theirs.ClientID, mine.ClientID, "the master's record of the number, not the salon's client")
	var name string
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT name FROM clients WHERE client_id = $1`, theirs.ClientID).Scan(&name))
	require.Equal(t, "Vera Stored", name)
	// Her own record follows what she types, and is one client for her.
	again := deskBook(anna, "anna", unix(berlin(2027, 3, 2, 15, 0)), "Vera T.", "+49 151 7770001")
	require.Equal(t, mine.ClientID, b.get(t, again).ClientID)
	require.Contains(t, anna.get("/admin/booking/"+again).body, "Vera T.")
}

// TestDeskMovesCancelsAndMarks: a chat's booking moved on the desk, a
// cancel inside the cutoff (an owner's, with a reason), attendance marks at
// and after the start only, and an owner's undo; each in the history with
// who made it.
func TestDeskMovesCancelsAndMarks(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	bk := b.book(t, "anna", "haircut", berlin(2027, 3, 3, 10, 0), "Maria Chat", "+49 151 1234567")
	owner := b.browser(t)
	owner.login("olga")

	page := owner.get("/admin/booking/" + bk.ID + "?move=2027-03-03")
	require.Equal(t, http.StatusOK, page.status)
	eleven := unix(berlin(2027, 3, 3, 10, 30))
	require.Contains(t, starts(page), eleven, "half an hour later: the booking's own time is not in the way")
	id := changedTo(t, owner.post("/admin/booking/"+bk.ID+"/move", url.Values{"csrf": {owner.csrf(page)}, "start": {eleven},
		"reason": {"asked by phone"}}), "moved")
	require.Equal(t, bk.ID, id)
	require.Equal(t, berlin(2027, 3, 3, 10, 30).UTC(), b.get(t, bk.ID).Start)

	// The day before: inside the 12-hour cutoff.
	b.clock.T = time.Date(2027, 3, 3, 5, 0, 0, 0, time.UTC)
	owner.login("olga") // the session of two days ago has timed out
	anna := b.browser(t)
	anna.login("anna")
	page = anna.get("/admin/booking/" + bk.ID)
	require.Contains(t, page.body, "only an owner can move or cancel it now")
	require.NotContains(t, page.body, "/cancel")
	a := anna.post("/admin/booking/"+bk.ID+"/cancel", url.Values{"csrf": {anna.csrf(page)}})
	require.Equal(t, http.StatusForbidden, a.status)
	require.Contains(t, a.body, "only an owner may change it now")
	page = owner.get("/admin/booking/" + bk.ID)
	require.Contains(t, page.body, "Change it anyway (owner)")
	a = owner.post("/admin/booking/"+bk.ID+"/cancel", url.Values{"csrf": {owner.csrf(page)}, "override": {"1"}})
	require.Equal(t, http.StatusBadRequest, a.status)
	require.Contains(t, a.body, "needs a reason")
	changedTo(t, owner.post("/admin/booking/"+bk.ID+"/cancel", url.Values{"csrf": {owner.csrf(page)}, "override": {"1"},
		"reason": {"the client is ill"}}), "cancelled")
	require.Equal(t, core.StatusCancelled, b.get(t, bk.ID).Status)
	page = owner.get("/admin/booking/" + bk.ID)
	require.Contains(t, page.body, "olga (desk): moved from Wed 3 Mar 10:00 to Wed 3 Mar 10:30 <q>asked by phone</q>")
	require.Contains(t, page.body, "olga (desk): cancelled, inside the cancellation cutoff <q>the client is ill</q>")

	// Marks: Anna's own booking, at and after its start only.
	own := b.book(t, "anna", "haircut", berlin(2027, 3, 3, 14, 0), "Nina Late", "+49 151 7654321")
	page = anna.get("/admin/booking/" + own.ID)
	require.NotContains(t, page.body, `value="no_show"`, "no mark before the start")
	a = anna.post("/admin/booking/"+own.ID+"/mark", url.Values{"csrf": {anna.csrf(page)}, "attendance": {"no_show"}})
	require.Equal(t, http.StatusConflict, a.status, "a crafted mark before the start is refused by the use case")
	require.Contains(t, a.body, "has not started yet")
	require.Empty(t, b.get(t, own.ID).Attendance)
	b.clock.T = berlin(2027, 3, 3, 14, 0).UTC()
	owner.login("olga")
	anna.login("anna")
	page = anna.get("/admin/booking/" + own.ID)
	require.Contains(t, page.body, `value="no_show"`)
	changedTo(t, anna.post("/admin/booking/"+own.ID+"/mark", url.Values{"csrf": {anna.csrf(page)}, "attendance": {"no_show"}}), "marked")
	require.Equal(t, core.NoShow, b.get(t, own.ID).Attendance)
	a = anna.post("/admin/booking/"+own.ID+"/unmark", url.Values{"csrf": {anna.csrf(page)}})
	require.Equal(t, http.StatusForbidden, a.status, "a master cannot undo a mark")
	require.Equal(t, core.NoShow, b.get(t, own.ID).Attendance)
	page = owner.get("/admin/booking/" + own.ID)
	require.Contains(t, page.body, `<span class="s s-no-show">no-show</span>`)
	require.Contains(t, page.body, "1 in the last year")
	changedTo(t, owner.post("/admin/booking/"+own.ID+"/unmark", url.Values{"csrf": {owner.csrf(page)}, "reason": {"wrong button"}}), "unmarked")
	page = anna.get("/admin/booking/" + own.ID)
	changedTo(t, anna.post("/admin/booking/"+own.ID+"/mark", url.Values{"csrf": {anna.csrf(page)}, "attendance": {"arrived"}}), "marked")
	page = owner.get("/admin/booking/" + own.ID)
	for _, want := range []string{"anna (desk): marked no-show", "olga (desk): undid the attendance mark <q>wrong button</q>",
		"anna (desk): marked arrived", `<span class="s s-arrived">arrived</span>`} {
		require.Contains(t, page.body, want)
	}
	day := owner.get("/admin/day?date=2027-03-03")
	require.Contains(t, day.body, `<span class="s s-arrived">arrived</span>`)
	require.Contains(t, day.body, `<a class="open" href="/admin/booking/`+own.ID+`">`)
}

// TestDeskStartedBookingIsOnlyMarked: once a booking has started, the owner's
// page offers no move or cancel (only the marks), and a crafted cancel or
// move with the override is refused by the use case and changes nothing.
func TestDeskStartedBookingIsOnlyMarked(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	bk := b.book(t, "anna", "haircut", berlin(2027, 3, 1, 10, 0), "Maria Chat", "+49 151 1234567")
	b.clock.T = berlin(2027, 3, 1, 10, 30).UTC()
	owner := b.browser(t)
	owner.login("olga")
	page := owner.get("/admin/booking/" + bk.ID)
	require.Equal(t, http.StatusOK, page.status)
	require.NotContains(t, page.body, "/cancel")
	require.NotContains(t, page.body, "/move")
	require.NotContains(t, page.body, "Change it anyway (owner)")
	require.Contains(t, page.body, "It has started: it can no longer be moved or cancelled.")
	require.Contains(t, page.body, `value="no_show"`)
	token := owner.csrf(page)
	for _, rq := range []struct {
		path string
		form url.Values
	}{
		{"/admin/booking/" + bk.ID + "/cancel", url.Values{"override": {"1"}, "reason": {"too late"}}},
		{"/admin/booking/" + bk.ID + "/move", url.Values{"override": {"1"}, "reason": {"too late"}, "start": {unix(berlin(2027, 3, 2, 10, 0))}}},
	} {
		rq.form.Set("csrf", token)
		a := owner.post(rq.path, rq.form)
		require.Equal(t, http.StatusConflict, a.status, rq.path)
		require.Contains(t, a.body, "The booking has already started: it can no longer be moved or cancelled", rq.path)
	}
	got := b.get(t, bk.ID)
	require.Equal(t, core.StatusConfirmed, got.Status)
	require.Equal(t, berlin(2027, 3, 1, 10, 0).UTC(), got.Start)
}

// TestDeskBlocksTime: a block made on the desk is in the grid, gone from the
// free times (the chat's too: a hold there is refused by the constraint), and
// lifted again; a block over a booking is refused.
func TestDeskBlocksTime(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	b.book(t, "anna", "haircut", berlin(2027, 3, 2, 15, 0), "Maria Chat", "+49 151 1234567")
	anna := b.browser(t)
	anna.login("anna")
	page := anna.get("/admin/block?date=2027-03-02")
	require.Equal(t, http.StatusOK, page.status)
	form := url.Values{"csrf": {anna.csrf(page)}, "key": {anna.key(page)}, "master": {"anna"}, "date": {"2027-03-02"},
		"from": {"12:00"}, "to": {"13:00"}, "note": {"Dentist"}}
	id := changedTo(t, anna.post("/admin/block", form), "blocked")
	blk := b.get(t, id)
	require.True(t, blk.Block)
	require.Equal(t, berlin(2027, 3, 2, 12, 0).UTC(), blk.Start)
	require.Equal(t, berlin(2027, 3, 2, 13, 0).UTC(), blk.End)

	day := anna.get("/admin/day?date=2027-03-02")
	require.Contains(t, day.body, `<div class="b blocked" data-booking="`+id+`">`)
	require.Contains(t, day.body, `12:00–13:00</span> Dentist <span class="s s-blocked">blocked</span>`)
	boris := b.browser(t)
	boris.login("boris")
	require.NotContains(t, boris.get("/admin/day?date=2027-03-02").body, "Dentist", "another master sees the time, not the note")

	slots, _, err := b.bookings.Slots(ctx, booking.SlotsRequest{SalonID: b.salonID, ServiceID: "haircut", MasterID: "anna",
		From: core.Date{Year: 2027, Month: 3, Day: 2}, Days: 1})
	require.NoError(t, err)
	for _, s := range slots {
		require.False(t, s.Start.Before(blk.End) && s.Start.Add(time.Hour).After(blk.Start), "slot %v in the block", s.Start)
	}
	_, err = b.bookings.Book(ctx, booking.BookRequest{SalonID: b.salonID, ServiceID: "haircut", MasterID: "anna",
		Start: berlin(2027, 3, 2, 12, 0).UTC(), Client: core.Client{Name: "Web", Phone: "+49 151 9999999"},
		IdempotencyKey: "web:1", Source: "web:s1"})
	require.Equal(t, core.EConflict, core.ErrorCode(err), "a chat's hold on the block")

	// Over the 15:00 booking: refused, the form kept.
	page = anna.get("/admin/block?date=2027-03-02")
	form.Set("key", anna.key(page))
	form.Set("from", "14:30")
	form.Set("to", "16:00")
	a := anna.post("/admin/block", form)
	require.Equal(t, http.StatusConflict, a.status)
	require.Contains(t, a.body, "A booking or another block stands in that time")
	// Nonsense times.
	form.Set("from", "25:00")
	require.Equal(t, http.StatusBadRequest, anna.post("/admin/block", form).status)

	page = anna.get("/admin/booking/" + id)
	require.Contains(t, page.body, "Blocked time")
	require.Contains(t, page.body, "anna (desk): blocked the time <q>Dentist</q>")
	changedTo(t, anna.post("/admin/booking/"+id+"/unblock", url.Values{"csrf": {anna.csrf(page)}}), "unblocked")
	require.Equal(t, core.StatusCancelled, b.get(t, id).Status)
	require.NotContains(t, anna.get("/admin/day?date=2027-03-02").body, "Dentist", "a lifted block leaves the grid")
}

// TestMasterCannotActForOthers: a master's crafted requests, each with a
// valid CSRF token, for another master's booking or block, or for an owner's
// right (the cutoff override, undoing a mark), are refused and change nothing.
func TestMasterCannotActForOthers(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	theirs := b.book(t, "boris", "haircut", berlin(2027, 3, 3, 10, 0), "Bob Borisclient", "+49 151 2222222")
	mine := b.book(t, "anna", "haircut", berlin(2027, 3, 1, 18, 0), "Alice Annaclient", "+49 151 1111111") // inside the cutoff
	blk, err := b.bookings.Block(booking.WithActor(ctx, "desk:olga"), booking.BlockRequest{SalonID: b.salonID, MasterID: "boris",
		Start: berlin(2027, 3, 3, 12, 0), End: berlin(2027, 3, 3, 13, 0), IdempotencyKey: "desk:x", Source: "desk:olga"})
	require.NoError(t, err)
	anna := b.browser(t)
	anna.login("anna")
	token := anna.csrf(anna.get("/admin/day"))
	key := anna.key(anna.get("/admin/book?service=haircut&date=2027-03-04"))

	for _, id := range []string{theirs.ID, blk.ID} {
		a := anna.get("/admin/booking/" + id)
		require.Equal(t, http.StatusForbidden, a.status)
		require.NotContains(t, a.body, "Bob Borisclient")
	}
	for _, rq := range []struct {
		path string
		form url.Values
	}{
		{"/admin/booking/" + theirs.ID + "/cancel", url.Values{}},
		{"/admin/booking/" + theirs.ID + "/move", url.Values{"start": {unix(berlin(2027, 3, 3, 15, 0))}}},
		{"/admin/booking/" + theirs.ID + "/mark", url.Values{"attendance": {"no_show"}}},
		{"/admin/booking/" + blk.ID + "/unblock", url.Values{}},
		{"/admin/book", url.Values{"service": {"haircut"}, "master": {"boris"}, "start": {unix(berlin(2027, 3, 4, 10, 0))},
			"name": {"X"}, "phone": {"+49 151 3333333"}, "key": {key}}},
		{"/admin/book", url.Values{"service": {"haircut"}, "master": {"any"}, "start": {unix(berlin(2027, 3, 4, 10, 0))},
			"name": {"X"}, "phone": {"+49 151 3333333"}, "key": {key}}},
		{"/admin/block", url.Values{"master": {"boris"}, "date": {"2027-03-04"}, "from": {"10:00"}, "to": {"11:00"}, "key": {key}}},
		// Her own booking, but owners' rights.
		{"/admin/booking/" + mine.ID + "/cancel", url.Values{"override": {"1"}, "reason": {"I say so"}}},
		{"/admin/booking/" + mine.ID + "/move", url.Values{"override": {"1"}, "reason": {"I say so"}, "start": {unix(berlin(2027, 3, 2, 10, 0))}}},
		{"/admin/booking/" + mine.ID + "/unmark", url.Values{}},
	} {
		rq.form.Set("csrf", token)
		a := anna.post(rq.path, rq.form)
		require.Equal(t, http.StatusForbidden, a.status, "%s %v: %s", rq.path, rq.form, a.body)
	}
	require.Equal(t, core.StatusConfirmed, b.get(t, theirs.ID).Status)
	require.Equal(t, berlin(2027, 3, 3, 10, 0).UTC(), b.get(t, theirs.ID).Start)
	require.Empty(t, b.get(t, theirs.ID).Attendance)
	require.Equal(t, core.StatusConfirmed, b.get(t, blk.ID).Status)
	require.Equal(t, core.StatusConfirmed, b.get(t, mine.ID).Status)
	var made int
	require.NoError(t, pgtest.Pool(t).QueryRow(context.Background(),
		`SELECT count(*) FROM bookings WHERE salon_id = $1 AND source LIKE 'desk:anna%'`, b.salonID).Scan(&made))
	require.Zero(t, made, "nothing booked or blocked")
	// Without the override, her own booking inside the cutoff is refused by the use case.
	a := anna.post("/admin/booking/"+mine.ID+"/cancel", url.Values{"csrf": {token}})
	require.Equal(t, http.StatusForbidden, a.status)
	require.Equal(t, core.StatusConfirmed, b.get(t, mine.ID).Status)
}

// TestActionFormsWithoutCSRFTokenAreRefused: every action's form, posted
// without the session's token or with a wrong one, changes nothing.
func TestActionFormsWithoutCSRFTokenAreRefused(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	bk := b.book(t, "anna", "haircut", berlin(2027, 3, 3, 10, 0), "Maria Chat", "+49 151 1234567")
	b.clock.T = berlin(2027, 3, 3, 10, 0).UTC()
	owner := b.browser(t)
	owner.login("olga")
	key := owner.key(owner.get("/admin/book?service=haircut&date=2027-03-04"))
	for _, csrf := range []string{"", "forged"} {
		for _, rq := range []struct {
			path string
			form url.Values
		}{
			{"/admin/booking/" + bk.ID + "/cancel", url.Values{"override": {"1"}, "reason": {"x"}}},
			{"/admin/booking/" + bk.ID + "/move", url.Values{"start": {unix(berlin(2027, 3, 4, 10, 0))}}},
			{"/admin/booking/" + bk.ID + "/mark", url.Values{"attendance": {"no_show"}}},
			{"/admin/book", url.Values{"service": {"haircut"}, "master": {"boris"}, "start": {unix(berlin(2027, 3, 4, 10, 0))},
				"name": {"X"}, "phone": {"+49 151 3333333"}, "key": {key}}},
			{"/admin/block", url.Values{"master": {"boris"}, "date": {"2027-03-04"}, "from": {"10:00"}, "to": {"11:00"}, "key": {key}}},
		} {
			if csrf != "" {
				rq.form.Set("csrf", csrf)
			}
			a := owner.post(rq.path, rq.form)
			require.Equal(t, http.StatusForbidden, a.status, rq.path)
			require.True(t, strings.Contains(a.body, "This form has expired"), rq.path)
		}
	}
	got := b.get(t, bk.ID)
	require.Equal(t, core.StatusConfirmed, got.Status)
	require.Empty(t, got.Attendance)
	var n int
	require.NoError(t, pgtest.Pool(t).QueryRow(context.Background(), `SELECT count(*) FROM bookings WHERE salon_id = $1`, b.salonID).Scan(&n))
	require.Equal(t, 1, n)
}
