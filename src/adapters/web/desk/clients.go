package desk

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/staff"
)

// ClientStore is what the clients pages read and write (postgres.Desk).
// ENotFound where said.
type ClientStore interface {
	// Clients returns one page of the salon's clients matching q.
	Clients(ctx context.Context, salonID string, q staff.ClientQuery, now time.Time) ([]staff.ClientRow, error)
	// Client returns a client with the note and bookings (only masterID's
	// when set); ENotFound when there is no such client, or masterID is set
	// and the client has no booking of theirs.
	Client(ctx context.Context, salonID string, clientID int64, masterID string) (staff.ClientCard, error)
	// SetClientNote stores (or, empty, deletes) the note on a client;
	// ENotFound when there is no such client.
	SetClientNote(ctx context.Context, salonID string, clientID int64, note, by string, now time.Time) error
	// NoShows counts the client's no-shows that started at or after since
	// (every master's: as a booking's page shows it).
	NoShows(ctx context.Context, salonID string, clientID int64, since time.Time) (int, error)
}

// The clients pages: /admin/clients (a search, by pages) and
// /admin/clients/{id} (one client's bookings and the note). What a viewer may
// find and see is staff's rule: an owner any client, by name or phone, phones
// shown; a master only clients with bookings of theirs, by name, without
// phones, and only those bookings. The note is the owner's to write (one
// voice for what the salon keeps on a person); masters who see the client read
// it. Neither a phone nor a note is ever logged: the access log has the route
// pattern only, and a phone number is never put in a URL (history, a
// proxy's log, the login's next=): the search box is POSTed; a name search is
// sent on to GET /admin/clients?q=… (a link that can be kept and paged), a
// phone search is answered there and then, its pages asked for by POST too,
// and a GET with a number in q is not searched.
func (d *desk) clientRoutes(mux *http.ServeMux) {
	if d.cfg.Clients == nil {
		return
	}
	mux.Handle("GET /admin/clients", d.authed(d.clients))
	mux.Handle("POST /admin/clients", d.authed(d.clientSearch))
	mux.Handle("GET /admin/clients/{id}", d.authed(d.client))
	mux.Handle("POST /admin/clients/{id}/note", d.authed(d.clientNote))
}

type clientsPage struct {
	Title, Salon string
	V            *viewer
	Query        string
	Problem      string
	Rows         []clientRow
	Searched     bool
	Prev, Next   string // page links
	Page         int
	// Posted: a phone search's answer; its pages are asked for by POST
	// (PrevPage, NextPage: the page numbers, 0 for none), never by a link.
	Posted             bool
	PrevPage, NextPage int
}

type clientRow struct {
	Link, Name, Phone string
	Bookings          int
	Next              string
	HasNote           bool
}

var searchProblems = map[staff.SearchRefusal]string{
	staff.PhoneSearchOwnersOnly: "Only the owner can search by phone number. Search by name.",
	staff.PhoneSearchTooShort:   "Type at least 3 digits of the phone number.",
	staff.SearchTooLong:         "That search is too long.",
}

// clientPageNo reads a page number ("" is the first) as an offset from 0.
func clientPageNo(s string) (int, bool) {
	if s == "" {
		return 0, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > staff.MaxClientPage {
		return 0, false
	}
	return n - 1, true
}

// phoneSearch reports whether a parsed search is of phone numbers (or would
// be, if the viewer could or had typed enough digits).
func phoneSearch(q staff.ClientQuery, refusal staff.SearchRefusal) bool {
	return q.Phone != "" || refusal == staff.PhoneSearchTooShort || refusal == staff.PhoneSearchOwnersOnly
}

// clientsLink is the GET address of a name search's page n (from 1).
func clientsLink(text string, n int) string {
	vals := url.Values{}
	if text != "" {
		vals.Set("q", text)
	}
	if n > 1 {
		vals.Set("page", strconv.Itoa(n))
	}
	if len(vals) == 0 {
		return "/admin/clients"
	}
	return "/admin/clients?" + vals.Encode()
}

// clientSearch answers the search box (POST, CSRF-checked by authed): a name
// search is sent on to its GET address; a phone search, and any refusal, is
// answered here, so the number stays out of every URL.
func (d *desk) clientSearch(w http.ResponseWriter, r *http.Request, v *viewer) {
	text := r.PostFormValue("q")
	pageNo, ok := clientPageNo(r.PostFormValue("page"))
	if !ok {
		d.problem(w, r, v, http.StatusBadRequest, "There is no such page of clients.")
		return
	}
	if q, refusal := staff.ParseClientSearch(text, pageNo, v.Account); refusal == "" && q.Phone == "" {
		http.Redirect(w, r, clientsLink(text, pageNo+1), http.StatusSeeOther)
		return
	}
	d.listClients(w, r, v, text, pageNo, true)
}

func (d *desk) clients(w http.ResponseWriter, r *http.Request, v *viewer) {
	pageNo, ok := clientPageNo(r.URL.Query().Get("page"))
	if !ok {
		d.problem(w, r, v, http.StatusBadRequest, "There is no such page of clients.")
		return
	}
	d.listClients(w, r, v, r.URL.Query().Get("q"), pageNo, false)
}

// listClients draws page pageNo (from 0) of the search text; posted says the
// search came from the form (POST), not a link.
func (d *desk) listClients(w http.ResponseWriter, r *http.Request, v *viewer, text string, pageNo int, posted bool) {
	cat, err := d.cfg.Catalog.Catalog(r.Context(), d.cfg.SalonID)
	if err != nil {
		d.failed(w, r, v, err)
		return
	}
	p := clientsPage{Title: "Clients", Salon: cat.Salon.Name, V: v, Query: text, Page: pageNo + 1, Searched: text != ""}
	q, refusal := staff.ParseClientSearch(text, pageNo, v.Account)
	if !posted && phoneSearch(q, refusal) {
		// A number in a link (typed, kept or sent) is not searched: it
		// is already in a history and maybe a log; the box keeps it out.
		p.Query, p.Problem = "", "Search phone numbers with the search box: a number in a link is not searched."
		if refusal == staff.PhoneSearchOwnersOnly {
			p.Problem = searchProblems[refusal]
		}
		d.render(w, http.StatusOK, "clients.html", p)
		return
	}
	if refusal != "" {
		p.Problem = searchProblems[refusal]
		d.render(w, http.StatusOK, "clients.html", p)
		return
	}
	q.Limit++ // one more tells whether there is a next page
	rows, err := d.cfg.Clients.Clients(r.Context(), d.cfg.SalonID, q, d.cfg.Clock.Now())
	if err != nil {
		d.failed(w, r, v, err)
		return
	}
	next, prev := 0, pageNo // page numbers from 1; 0: none
	if len(rows) > staff.ClientsPerPage {
		rows = rows[:staff.ClientsPerPage]
		if pageNo+2 <= staff.MaxClientPage {
			next = pageNo + 2
		}
	}
	switch {
	case q.Phone != "": // its pages by POST (posted: a GET never gets here with a number)
		p.Posted, p.PrevPage, p.NextPage = true, prev, next
	default:
		if next > 0 {
			p.Next = clientsLink(text, next)
		}
		if prev > 0 {
			p.Prev = clientsLink(text, prev)
		}
	}
	zone := cat.Salon.Timezone
	for _, c := range rows {
		row := clientRow{Link: "/admin/clients/" + strconv.FormatInt(c.ID, 10), Name: c.Name, Bookings: c.Bookings, HasNote: c.HasNote}
		if v.SeesPhones() {
			row.Phone = c.Phone
		}
		if !c.Next.IsZero() {
			row.Next = when(c.Next, zone)
		}
		p.Rows = append(p.Rows, row)
	}
	d.render(w, http.StatusOK, "clients.html", p)
}

type clientPage struct {
	Title, Salon string
	V            *viewer
	ID           int64
	Name, Phone  string
	Since        string
	Total        int
	Capped       bool // more bookings than shown
	Upcoming     []clientBooking
	Past         []clientBooking
	Note         string
	NoteBy       string // "olga, Wed 3 Mar 2027 10:00"
	MayEdit      bool
	Erased       string // when the client's data was erased on their request
	Saved        bool
	Error        string
	// NoShows counts the client's no-shows of the last year, every master's
	// (as a booking's page shows them).
	NoShows int
}

type clientBooking struct {
	When, Service, Master, Status, Channel, Link string // Link: the booking's page, else its day
	Class                                        string // the status as a CSS class: "coming" for "I'll come"
}

// clientID reads the {id} of the path: a positive number, else not found.
func clientID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// card reads the client the viewer may see: for a master, only one with
// bookings of theirs, and only those.
func (d *desk) card(ctx context.Context, v *viewer, id int64) (staff.ClientCard, error) {
	master := ""
	if !v.Owner() {
		master = v.MasterID
		if master == "" {
			return staff.ClientCard{}, core.Errorf(core.ENotFound, "client.not_found", "desk: an account with no master sees no client")
		}
	}
	return d.cfg.Clients.Client(ctx, d.cfg.SalonID, id, master)
}

func (d *desk) client(w http.ResponseWriter, r *http.Request, v *viewer) {
	id, ok := clientID(r)
	if !ok {
		d.problem(w, r, v, http.StatusNotFound, "No such client.")
		return
	}
	d.showClient(w, r, v, id, http.StatusOK, "", nil)
}

// showClient draws the client's page; typed, when not nil, is a note that
// was not saved (shown back with msg).
func (d *desk) showClient(w http.ResponseWriter, r *http.Request, v *viewer, id int64, status int, msg string, typed *string) {
	cat, err := d.cfg.Catalog.Catalog(r.Context(), d.cfg.SalonID)
	if err != nil {
		d.failed(w, r, v, err)
		return
	}
	c, err := d.card(r.Context(), v, id)
	if core.ErrorCode(err) == core.ENotFound {
		d.problem(w, r, v, http.StatusNotFound, "No such client.")
		return
	}
	if err != nil {
		d.failed(w, r, v, err)
		return
	}
	zone := cat.Salon.Timezone
	now := d.cfg.Clock.Now()
	noShows, err := d.cfg.Clients.NoShows(r.Context(), d.cfg.SalonID, id, now.AddDate(-1, 0, 0))
	if err != nil {
		d.failed(w, r, v, err)
		return
	}
	p := clientPage{NoShows: noShows, Title: c.Name, Salon: cat.Salon.Name, V: v, ID: c.ID, Name: c.Name, Since: dateTitle(core.DateOf(c.Since.In(zone))),
		Total: len(c.Bookings), Capped: len(c.Bookings) >= staff.ClientBookingsCap, Note: c.Note.Text,
		MayEdit: v.Owner(), Saved: r.URL.Query().Get("saved") == "1" && typed == nil, Error: msg}
	if v.SeesPhones() {
		p.Phone = c.Phone
	}
	if !c.Erased.IsZero() { // no name, no phone, no note: the bookings stay
		p.Title, p.Name, p.MayEdit, p.Erased = "Erased client", "", false, when(c.Erased, zone)
	}
	if c.Note.Text != "" {
		p.NoteBy = c.Note.UpdatedBy + ", " + when(c.Note.UpdatedAt, zone)
	}
	if typed != nil {
		p.Note = *typed
	}
	// Newest first from the store: the past stays so, the upcoming are turned
	// to come soonest first.
	for _, e := range c.Bookings {
		b := clientBookingOf(e, cat, zone, now)
		if d.cfg.Records != nil { // the actions' pages are there (actions.go)
			b.Link = "/admin/booking/" + url.PathEscape(e.Booking.ID)
		}
		if e.Booking.End.After(now) {
			p.Upcoming = append([]clientBooking{b}, p.Upcoming...)
		} else {
			p.Past = append(p.Past, b)
		}
	}
	d.render(w, status, "client.html", p)
}

func clientBookingOf(e staff.Entry, cat *booking.Catalog, zone *time.Location, now time.Time) clientBooking {
	b := e.Booking
	status := e.Status(now)
	label := status
	if status == "coming" {
		label = "I'll come"
	}
	return clientBooking{
		Class:   status,
		When:    when(b.Start, zone) + "–" + b.End.In(zone).Format("15:04"),
		Service: serviceName(cat, b.ServiceID),
		Master:  masterName(cat.Masters, b.MasterID),
		Status:  label,
		Channel: e.Channel(),
		Link:    "/admin/day?date=" + core.DateOf(b.Start.In(zone)).String(),
	}
}

func (d *desk) clientNote(w http.ResponseWriter, r *http.Request, v *viewer) {
	id, ok := clientID(r)
	if !ok {
		d.problem(w, r, v, http.StatusNotFound, "No such client.")
		return
	}
	if !v.Owner() {
		d.problem(w, r, v, http.StatusForbidden, "Only the owner can change a client's note.")
		return
	}
	note, ok := staff.CleanNote(r.PostFormValue("note"))
	if !ok {
		d.showClient(w, r, v, id, http.StatusBadRequest, "The note is too long: at most 2,000 characters. It was not saved.", &note)
		return
	}
	err := d.cfg.Clients.SetClientNote(r.Context(), d.cfg.SalonID, id, note, v.Login, d.cfg.Clock.Now())
	if core.ErrorCode(err) == core.ENotFound {
		d.problem(w, r, v, http.StatusNotFound, "No such client.")
		return
	}
	if err != nil {
		d.failed(w, r, v, err)
		return
	}
	http.Redirect(w, r, "/admin/clients/"+strconv.FormatInt(id, 10)+"?saved=1", http.StatusSeeOther)
}

// when is an instant in the salon's zone: "Wed 3 Mar 2027 10:00".
func when(t time.Time, zone *time.Location) string {
	return t.In(zone).Format("Mon 2 Jan 2006 15:04")
}
