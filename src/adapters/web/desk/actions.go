package desk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"salonbook/src/core"
	"salonbook/src/core/availability"
	"salonbook/src/core/booking"
	"salonbook/src/core/phone"
	"salonbook/src/core/staff"
)

// The desk's actions (issue 15, item 3): a booking for a client who phoned or
// walked in, a move, a cancel (an owner may override the cutoff, with a
// reason), blocked time, and attendance marks. Every change goes through the
// booking use cases (Bookings), so the database's exclusion constraints
// decide, as for a client's booking; who may do what is staff.Account's, asked
// here before each change and never taken from the form. Each form carries the
// session's CSRF token (authed checks it), answers a change with a redirect to
// the booking's page (POST-redirect-GET), and shows a refusal on the same
// page: a taken time with the nearest free times, as the chat offers them
// (booking.ConflictError).

// Bookings is what the actions change through (booking.Service).
type Bookings interface {
	Slots(ctx context.Context, req booking.SlotsRequest) ([]availability.Slot, *core.Salon, error)
	Book(ctx context.Context, req booking.BookRequest) (*core.Booking, error)
	CancelBy(ctx context.Context, salonID, bookingID string, sc booking.StaffChange) (*core.Booking, error)
	RescheduleBy(ctx context.Context, salonID, bookingID string, start time.Time, sc booking.StaffChange) (*core.Booking, error)
	Mark(ctx context.Context, salonID, bookingID string, a core.Attendance) (*core.Booking, error)
	Unmark(ctx context.Context, salonID, bookingID, reason string) (*core.Booking, error)
	Block(ctx context.Context, req booking.BlockRequest) (*core.Booking, error)
	Unblock(ctx context.Context, salonID, bookingID, reason string) (*core.Booking, error)
}

var _ Bookings = (*booking.Service)(nil)

// Records is what the actions' pages read (postgres.Desk): a booking with its
// client, its history, a client's no-shows.
type Records interface {
	// Entry returns a booking or block with its client. ENotFound.
	Entry(ctx context.Context, salonID, bookingID string) (staff.Entry, error)
	// History returns the booking's recorded changes, oldest first.
	History(ctx context.Context, salonID, bookingID string) ([]staff.Change, error)
	// NoShows counts the client's no-shows that started at or after since.
	NoShows(ctx context.Context, salonID string, clientID int64, since time.Time) (int, error)
}

// actionRoutes adds the actions' routes; none when the desk has no Bookings.
func (d *desk) actionRoutes(mux *http.ServeMux) {
	if d.cfg.Bookings == nil || d.cfg.Records == nil {
		return
	}
	mux.Handle("GET /admin/book", d.authed(d.bookPage))
	mux.Handle("POST /admin/book", d.authed(d.book))
	mux.Handle("GET /admin/block", d.authed(d.blockPage))
	mux.Handle("POST /admin/block", d.authed(d.block))
	mux.Handle("GET /admin/booking/{id}", d.authed(d.bookingPage))
	mux.Handle("POST /admin/booking/{id}/move", d.authed(d.move))
	mux.Handle("POST /admin/booking/{id}/cancel", d.authed(d.cancel))
	mux.Handle("POST /admin/booking/{id}/mark", d.authed(d.mark))
	mux.Handle("POST /admin/booking/{id}/unmark", d.authed(d.unmark))
	mux.Handle("POST /admin/booking/{id}/unblock", d.authed(d.unblock))
}

// acting is the request's context naming the viewer as the changes' actor.
func acting(r *http.Request, v *viewer) context.Context {
	return booking.WithActor(r.Context(), booking.DeskActor(v.Login))
}

// refusals are the desk's words for the use cases' refusals (by message key).
var refusals = map[string]string{
	"booking.slot_taken":      "That time was just taken.",
	"booking.client_overlap":  "The client already has a booking at that time.",
	"booking.in_past":         "That time is in the past.",
	"booking.too_soon":        "That time is sooner than the salon's minimum notice.",
	"booking.too_far":         "That time is beyond the salon's booking horizon.",
	"booking.not_offered":     "That time is not offered (outside the master's hours, a day off, or off the slot grid).",
	"booking.not_active":      "The booking is no longer active.",
	"booking.cancel_too_late": "The booking starts within the cancellation cutoff: only an owner may change it now, with a reason.",
	"booking.not_started":     "The booking has not started yet: attendance is marked at or after its start.",
	"booking.started":         "The booking has already started: it can no longer be moved or cancelled, only marked arrived or no-show.",
	"booking.marked":          "The attendance is marked: an owner must undo the mark first.",
	"booking.reason_needed":   "A change inside the cancellation cutoff needs a reason.",
	"booking.bad_reason":      "A reason or note may have at most 200 characters, on one line.",
	"booking.bad_block":       "A block must end after it starts and last at most 24 hours.",
	"booking.block_overlap":   "A booking or another block stands in that time: move or cancel it first.",
	"booking.key_reused":      "This form was already used for something else. Reload it and try again.",
	"booking.not_found":       "No such booking.",
	"client.invalid_phone":    "That is not a phone number of its country: give it with its country code (+…), or as a number of the salon's country.",
	"client.invalid_name":     "The client's name must have 1 to 100 characters.",
	"service.not_found":       "No such service.",
	"master.not_found":        "No such master.",
	"master.no_service":       "That master does not do that service.",
	"request.invalid":         "That request is not valid.",
}

// refusal returns the status and words for a use case's refusal; ok false
// for an error that is no refusal (the database, a deadline: d.failed).
func refusal(err error) (int, string, bool) {
	msg, ok := refusals[core.ErrorKey(err)]
	if !ok {
		return 0, "", false
	}
	switch core.ErrorCode(err) {
	case core.EInvalid:
		return http.StatusBadRequest, msg, true
	case core.ENotFound:
		return http.StatusNotFound, msg, true
	case core.EConflict:
		return http.StatusConflict, msg, true
	case core.EForbidden:
		return http.StatusForbidden, msg, true
	}
	return 0, "", false
}

// done are the notes a change's redirect shows (?done=…); the parameter is
// only ever looked up here, never shown.
var done = map[string]string{
	"booked": "Booked.", "moved": "Moved.", "cancelled": "Cancelled.", "marked": "Marked.",
	"unmarked": "The mark is undone.", "blocked": "The time is blocked.", "unblocked": "The block is lifted.",
}

var formKey = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

type option struct {
	Value, Label string
	Selected     bool
}

// slotChoice is a free start offered as a radio button.
type slotChoice struct {
	Value, Label string // unix seconds; "10:00" (with the day when it is another)
	Checked      bool
}

func slotChoices(slots []availability.Slot, day core.Date, zone *time.Location, masters []core.Master, named bool, checked string) []slotChoice {
	out := make([]slotChoice, 0, len(slots))
	for _, s := range slots {
		l := s.Start.In(zone)
		label := l.Format("15:04")
		if core.DateOf(l) != day {
			label = l.Format("Mon 2 Jan 15:04")
		}
		if named {
			label += " · " + masterName(masters, s.MasterID)
		}
		v := strconv.FormatInt(s.Start.Unix(), 10)
		out = append(out, slotChoice{Value: v, Label: label, Checked: v == checked})
	}
	return out
}

func masterName(ms []core.Master, id string) string {
	for _, m := range ms {
		if m.ID == id {
			return m.Name
		}
	}
	return id
}

// parseStart reads a form's start (unix seconds).
func parseStart(s string) (time.Time, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	return time.Unix(n, 0).UTC(), true
}

func dayTime(t time.Time, zone *time.Location) string {
	return t.In(zone).Format("Mon 2 Jan 2006, 15:04")
}

// ---- a new booking ----

type bookData struct {
	Title, Salon string
	V            *viewer
	Services     []option
	Masters      []option
	Service      string
	Master       string
	Date         string
	Searched     bool // a service and a day are chosen: the free times are shown
	Slots        []slotChoice
	Name, Phone  string
	Key          string
	Error        string
	Day          string // the day view's link
}

// bookForm is what the new-booking form carries.
type bookForm struct {
	service, master, date, start, name, phone, key string
}

func (d *desk) bookPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	q := r.URL.Query()
	d.renderBook(w, r, v, bookForm{service: q.Get("service"), master: q.Get("master"), date: q.Get("date")}, http.StatusOK, "", nil)
}

// renderBook draws the new-booking form: service, master and day (a GET form),
// then the day's free times and the client (a POST form). alts, when not nil,
// are the nearest free times of a taken one, shown instead of the day's.
func (d *desk) renderBook(w http.ResponseWriter, r *http.Request, v *viewer, f bookForm, status int, msg string, alts []availability.Slot) {
	cat, err := d.cfg.Catalog.Catalog(r.Context(), d.cfg.SalonID)
	if err != nil {
		d.failed(w, r, v, err)
		return
	}
	zone := cat.Salon.Timezone
	day := core.DateOf(d.cfg.Clock.Now().In(zone))
	if f.date != "" {
		if day, err = core.ParseDate(f.date); err != nil || day.Year < 2000 || day.Year > 2200 {
			d.problem(w, r, v, http.StatusBadRequest, "The date must be like 2027-03-28.")
			return
		}
	}
	if !v.Owner() {
		f.master = v.MasterID // a master books for themselves only
	} else if f.master == "" {
		f.master = booking.AnyMaster
	}
	data := bookData{Title: "New booking", Salon: cat.Salon.Name, V: v, Service: f.service, Master: f.master,
		Date: day.String(), Name: f.name, Phone: f.phone, Key: f.key, Error: msg, Day: "/admin/day?date=" + day.String()}
	if !formKey.MatchString(data.Key) {
		data.Key = newToken()
	}
	lang := "en"
	if len(cat.Salon.Locales) > 0 {
		lang = cat.Salon.Locales[0]
	}
	for _, s := range cat.Services {
		data.Services = append(data.Services, option{Value: s.ID, Label: s.NameIn(lang), Selected: s.ID == f.service})
	}
	if v.Owner() {
		data.Masters = append(data.Masters, option{Value: booking.AnyMaster, Label: "Any master", Selected: f.master == booking.AnyMaster})
	}
	for _, m := range cat.Masters {
		if v.Owner() || m.ID == v.MasterID {
			data.Masters = append(data.Masters, option{Value: m.ID, Label: m.Name, Selected: m.ID == f.master})
		}
	}
	if f.service != "" {
		data.Searched = true
		slots := alts
		if slots == nil {
			slots, _, err = d.cfg.Bookings.Slots(r.Context(), booking.SlotsRequest{SalonID: d.cfg.SalonID, ServiceID: f.service,
				MasterID: f.master, From: day, Days: 1})
			if err != nil {
				st, m, ok := refusal(err)
				if !ok {
					d.failed(w, r, v, err)
					return
				}
				status, data.Error, data.Searched = st, m, false
			}
		}
		data.Slots = slotChoices(slots, day, zone, cat.Masters, f.master == booking.AnyMaster, f.start)
	}
	d.render(w, status, "book.html", data)
}

func (d *desk) book(w http.ResponseWriter, r *http.Request, v *viewer) {
	f := bookForm{service: r.PostFormValue("service"), master: r.PostFormValue("master"), date: r.PostFormValue("date"),
		start: r.PostFormValue("start"), name: r.PostFormValue("name"), phone: r.PostFormValue("phone"), key: r.PostFormValue("key")}
	if !v.Owner() && f.master != v.MasterID {
		d.problem(w, r, v, http.StatusForbidden, "You may book only your own time.")
		return
	}
	if !formKey.MatchString(f.key) {
		d.renderBook(w, r, v, f, http.StatusBadRequest, "This form is incomplete. Reload it and try again.", nil)
		return
	}
	start, ok := parseStart(f.start)
	if !ok {
		d.renderBook(w, r, v, f, http.StatusBadRequest, "Choose one of the free times.", nil)
		return
	}
	b, err := d.cfg.Bookings.Book(acting(r, v), booking.BookRequest{SalonID: d.cfg.SalonID, ServiceID: f.service,
		MasterID: f.master, Start: start, Client: core.Client{Name: f.name, Phone: f.phone},
		IdempotencyKey: booking.DeskSourcePrefix + f.key, Confirm: true, Source: booking.DeskActor(v.Login),
		// A master's number is contact information only: the booking's client
		// is their own record of it, named as typed, so typing a number never
		// shows them the name the salon stored under it.
		ContactOnly: !v.SeesPhones()})
	if err != nil {
		status, msg, ok := refusal(err)
		if !ok {
			d.failed(w, r, v, err)
			return
		}
		var alts []availability.Slot
		if c, ok := errors.AsType[*booking.ConflictError](err); ok {
			alts, msg = c.Alternatives, msg+" The nearest free times:"
			if len(alts) == 0 {
				msg = "That time was just taken, and there is no free time near it."
			}
			f.start = ""
		}
		if core.ErrorKey(err) == "client.invalid_phone" {
			// The rule is the country's numbering plan (booking reads the number
			// as phone.Possible): show one of the salon's country.
			if cat, err := d.cfg.Catalog.Catalog(r.Context(), d.cfg.SalonID); err == nil {
				if ex := phone.Example(cat.Salon.Country); ex != "" {
					msg += " For example " + ex + "."
				}
			}
		}
		d.renderBook(w, r, v, f, status, msg, alts)
		return
	}
	http.Redirect(w, r, "/admin/booking/"+url.PathEscape(b.ID)+"?done=booked", http.StatusSeeOther)
}

// ---- one booking ----

type historyLine struct {
	When, Who, What, Reason string
}

type bookingData struct {
	Title, Salon string
	V            *viewer
	ID           string
	Block        bool
	When         string
	Master       string
	Service      string
	Client       string
	Phone        string // owners only
	KnownAs      string // owners only: the salon's own name for that phone, when another
	Channel      string
	Status       string // as the grid names it
	StatusLabel  string
	Note         string
	NoShows      int
	ShowNoShows  bool
	Deposit      string // the deposit and where it stands; "" when none was asked
	Done, Error  string
	Day          string // the day view's link
	History      []historyLine
	// What the viewer may do now.
	CanMove, CanCancel, CanMark, CanUnmark, CanUnblock bool
	InsideCutoff                                       bool // an owner's override (with a reason) is needed
	Started                                            bool // a confirmed booking whose start has come: marks only
	CanOverride                                        bool
	MoveDate                                           string
	MoveSearched                                       bool
	MoveSlots                                          []slotChoice
	Reason                                             string
}

// entry reads the booking of the request's path and checks that v may open
// it; otherwise it answers (404, 403) and returns false.
func (d *desk) entry(w http.ResponseWriter, r *http.Request, v *viewer) (staff.Entry, bool) {
	e, err := d.cfg.Records.Entry(r.Context(), d.cfg.SalonID, r.PathValue("id"))
	if err != nil {
		d.failed(w, r, v, err)
		return e, false
	}
	if !v.SeesClientsOf(e.Booking.MasterID) {
		d.problem(w, r, v, http.StatusForbidden, "You may open and change only your own bookings.")
		return e, false
	}
	return e, true
}

func (d *desk) bookingPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	e, ok := d.entry(w, r, v)
	if !ok {
		return
	}
	q := r.URL.Query()
	d.renderBooking(w, r, v, e, http.StatusOK, done[q.Get("done")], "", q.Get("move"), nil, "")
}

// renderBooking draws a booking's page: what it is, its history, and the
// forms of what v may do with it now. moveDay (a date) shows that day's free
// times for a move; alts, when not nil, are shown instead (a taken time's
// nearest free times).
func (d *desk) renderBooking(w http.ResponseWriter, r *http.Request, v *viewer, e staff.Entry, status int, note, msg, moveDay string, alts []availability.Slot, reason string) {
	ctx := r.Context()
	cat, err := d.cfg.Catalog.Catalog(ctx, d.cfg.SalonID)
	if err != nil {
		d.failed(w, r, v, err)
		return
	}
	hist, err := d.cfg.Records.History(ctx, d.cfg.SalonID, e.Booking.ID)
	if err != nil {
		d.failed(w, r, v, err)
		return
	}
	zone, now, b := cat.Salon.Timezone, d.cfg.Clock.Now(), e.Booking
	day := core.DateOf(b.Start.In(zone))
	data := bookingData{Salon: cat.Salon.Name, V: v, ID: b.ID, Block: b.Block, Master: masterName(cat.Masters, b.MasterID),
		When:   dayTime(b.Start, zone) + "–" + b.End.In(zone).Format("15:04"),
		Status: e.Status(now), Note: b.Note, Done: note, Error: msg, Day: "/admin/day?date=" + day.String(), Reason: reason}
	data.StatusLabel = statusLabel(data.Status)
	may := v.MayChange(b.MasterID)
	if b.Block {
		data.Title = "Blocked time"
		data.CanUnblock = may && b.Status == core.StatusConfirmed
	} else {
		data.Title = "Booking"
		data.Service = serviceName(cat, b.ServiceID)
		data.Client, data.Channel = e.ClientName, e.Channel()
		if v.SeesPhones() {
			data.Phone, data.KnownAs = e.ClientPhone, e.ClientKnownAs
		}
		n, err := d.cfg.Records.NoShows(ctx, d.cfg.SalonID, b.ClientID, now.AddDate(-1, 0, 0))
		if err != nil {
			d.failed(w, r, v, err)
			return
		}
		data.NoShows, data.ShowNoShows = n, true
		data.Deposit = depositLine(b)
		confirmed := b.Status == core.StatusConfirmed
		// Once it has started a booking is only marked: no override moves or
		// cancels it (booking.started).
		data.Started = confirmed && !now.Before(b.Start)
		data.InsideCutoff = confirmed && !data.Started && b.Start.Sub(now) < cat.Salon.Policy.CancelCutoff
		data.CanOverride = data.InsideCutoff && v.MayOverride()
		free := may && b.Attendance == "" && !data.Started && (!data.InsideCutoff || data.CanOverride)
		data.CanMove = free && confirmed
		data.CanCancel = free && (confirmed || b.HoldLive(now))
		data.CanMark = may && confirmed && b.Attendance == "" && !now.Before(b.Start)
		data.CanUnmark = b.Attendance != "" && v.MayUnmark()
	}
	for _, c := range hist {
		data.History = append(data.History, historyOf(c, zone))
	}
	if data.CanMove && (moveDay != "" || alts != nil) {
		mday := day
		if moveDay != "" {
			if mday, err = core.ParseDate(moveDay); err != nil || mday.Year < 2000 || mday.Year > 2200 {
				mday, data.Error, status = day, "The date must be like 2027-03-28.", http.StatusBadRequest
			}
		}
		data.MoveDate, data.MoveSearched = mday.String(), true
		slots := alts
		if slots == nil {
			slots, _, err = d.cfg.Bookings.Slots(ctx, booking.SlotsRequest{SalonID: d.cfg.SalonID, ServiceID: b.ServiceID,
				MasterID: b.MasterID, From: mday, Days: 1, Exclude: b.ID})
			if err != nil {
				st, m, ok := refusal(err)
				if !ok {
					d.failed(w, r, v, err)
					return
				}
				status, data.Error = st, m
			}
		}
		data.MoveSlots = slotChoices(slots, mday, zone, nil, false, "")
	}
	if data.MoveDate == "" {
		data.MoveDate = day.String()
	}
	d.render(w, status, "booking.html", data)
}

// statusLabel is a status as people read it.
func statusLabel(s string) string {
	switch s {
	case "coming":
		return "I'll come"
	case "no-show":
		return "no-show"
	case string(core.StatusAwaitingPayment):
		return "awaiting the deposit"
	}
	return s
}

// depositLine says a booking's deposit and where it stands: paid counts
// toward the price on arrival (and is kept on a no-show).
func depositLine(b core.Booking) string {
	amount := price(b.Deposit)
	switch b.DepositState {
	case core.DepositDue:
		if b.Status == core.StatusAwaitingPayment {
			return amount + ": awaiting payment"
		}
		return amount + ": not paid"
	case core.DepositPaid:
		if b.Attendance == core.NoShow {
			return amount + ": paid, kept (no-show)"
		}
		return amount + ": paid; counts toward the price"
	case core.DepositRefundDue:
		return amount + ": to be refunded"
	case core.DepositRefunded:
		return amount + ": refunded"
	case core.DepositKept:
		return amount + ": kept (cancelled after the refund cutoff)"
	}
	return ""
}

// historyOf words one recorded change.
func historyOf(c staff.Change, zone *time.Location) historyLine {
	h := historyLine{When: c.At.In(zone).Format("Mon 2 Jan 15:04"), Reason: c.Reason}
	switch {
	case strings.HasPrefix(c.Actor, booking.DeskSourcePrefix):
		h.Who = strings.TrimPrefix(c.Actor, booking.DeskSourcePrefix) + " (desk)"
	case c.Actor == booking.ActorChat:
		h.Who = "the client (chat)"
	case c.Actor == booking.ActorAPI:
		h.Who = "the API"
	default:
		h.Who = c.Actor
	}
	what := map[string]string{
		"held": "held the time", "booked": "booked", "confirmed": "confirmed", "cancelled": "cancelled",
		"released": "let the hold go", "expired": "the hold expired", "coming": "said \"I'll come\"",
		"arrived": "marked arrived", "no_show": "marked no-show", "unmarked": "undid the attendance mark",
		"blocked": "blocked the time", "unblocked": "lifted the block",
		"awaiting_payment": "confirmed, awaiting the deposit", "paid": "the deposit was paid",
		"refund_due": "a payment came too late: to be refunded",
	}[c.Action]
	if c.Action == string(booking.ActMoved) {
		what = "moved from " + c.From.In(zone).Format("Mon 2 Jan 15:04") + " to " + c.Start.In(zone).Format("Mon 2 Jan 15:04")
	}
	if what == "" {
		what = c.Action
	}
	if c.Override {
		what += ", inside the cancellation cutoff"
	}
	h.What = what
	return h
}

// changed answers a change: to the booking's page when it was made, else the
// page again with the refusal (and, for a taken time, the nearest free ones).
func (d *desk) changed(w http.ResponseWriter, r *http.Request, v *viewer, e staff.Entry, err error, doneKey string) {
	if err == nil {
		http.Redirect(w, r, "/admin/booking/"+url.PathEscape(e.Booking.ID)+"?done="+doneKey, http.StatusSeeOther)
		return
	}
	status, msg, ok := refusal(err)
	if !ok {
		d.failed(w, r, v, err)
		return
	}
	var alts []availability.Slot
	if c, ok := errors.AsType[*booking.ConflictError](err); ok {
		alts, msg = c.Alternatives, msg+" The nearest free times:"
		if len(alts) == 0 {
			alts, msg = []availability.Slot{}, "That time was just taken, and there is no free time near it."
		}
	}
	// The page as it is now (a refusal changed nothing, but others may have).
	if now, err := d.cfg.Records.Entry(r.Context(), d.cfg.SalonID, e.Booking.ID); err == nil {
		e = now
	}
	d.renderBooking(w, r, v, e, status, "", msg, "", alts, strings.TrimSpace(r.PostFormValue("reason")))
}

// changeable reads the booking of the request's path and checks that v may
// change it, and may override the cutoff if the form asks to.
func (d *desk) changeable(w http.ResponseWriter, r *http.Request, v *viewer) (staff.Entry, booking.StaffChange, bool) {
	sc := booking.StaffChange{Reason: r.PostFormValue("reason"), OverrideCutoff: r.PostFormValue("override") != ""}
	e, ok := d.entry(w, r, v)
	if !ok {
		return e, sc, false
	}
	if !v.MayChange(e.Booking.MasterID) {
		d.problem(w, r, v, http.StatusForbidden, "You may change only your own bookings.")
		return e, sc, false
	}
	if sc.OverrideCutoff && !v.MayOverride() {
		d.problem(w, r, v, http.StatusForbidden, "Only an owner may change a booking inside the cancellation cutoff.")
		return e, sc, false
	}
	return e, sc, true
}

func (d *desk) move(w http.ResponseWriter, r *http.Request, v *viewer) {
	e, sc, ok := d.changeable(w, r, v)
	if !ok {
		return
	}
	start, ok := parseStart(r.PostFormValue("start"))
	if !ok {
		d.renderBooking(w, r, v, e, http.StatusBadRequest, "", "Choose one of the free times.", r.PostFormValue("date"), nil, sc.Reason)
		return
	}
	_, err := d.cfg.Bookings.RescheduleBy(acting(r, v), d.cfg.SalonID, e.Booking.ID, start, sc)
	d.changed(w, r, v, e, err, "moved")
}

func (d *desk) cancel(w http.ResponseWriter, r *http.Request, v *viewer) {
	e, sc, ok := d.changeable(w, r, v)
	if !ok {
		return
	}
	_, err := d.cfg.Bookings.CancelBy(acting(r, v), d.cfg.SalonID, e.Booking.ID, sc)
	d.changed(w, r, v, e, err, "cancelled")
}

func (d *desk) mark(w http.ResponseWriter, r *http.Request, v *viewer) {
	e, _, ok := d.changeable(w, r, v)
	if !ok {
		return
	}
	a := core.Attendance(r.PostFormValue("attendance"))
	if !slices.Contains([]core.Attendance{core.Arrived, core.NoShow}, a) {
		d.renderBooking(w, r, v, e, http.StatusBadRequest, "", "Mark arrived or no-show.", "", nil, "")
		return
	}
	_, err := d.cfg.Bookings.Mark(acting(r, v), d.cfg.SalonID, e.Booking.ID, a)
	d.changed(w, r, v, e, err, "marked")
}

func (d *desk) unmark(w http.ResponseWriter, r *http.Request, v *viewer) {
	e, sc, ok := d.changeable(w, r, v)
	if !ok {
		return
	}
	if !v.MayUnmark() {
		d.problem(w, r, v, http.StatusForbidden, "Only an owner may undo an attendance mark.")
		return
	}
	_, err := d.cfg.Bookings.Unmark(acting(r, v), d.cfg.SalonID, e.Booking.ID, sc.Reason)
	d.changed(w, r, v, e, err, "unmarked")
}

func (d *desk) unblock(w http.ResponseWriter, r *http.Request, v *viewer) {
	e, sc, ok := d.changeable(w, r, v)
	if !ok {
		return
	}
	_, err := d.cfg.Bookings.Unblock(acting(r, v), d.cfg.SalonID, e.Booking.ID, sc.Reason)
	d.changed(w, r, v, e, err, "unblocked")
}

// ---- blocked time ----

type blockData struct {
	Title, Salon   string
	V              *viewer
	Masters        []option
	Date, From, To string
	Note, Key      string
	Error          string
	Day            string
}

func (d *desk) blockPage(w http.ResponseWriter, r *http.Request, v *viewer) {
	q := r.URL.Query()
	d.renderBlock(w, r, v, q.Get("master"), q.Get("date"), q.Get("from"), q.Get("to"), "", "", http.StatusOK, "")
}

func (d *desk) renderBlock(w http.ResponseWriter, r *http.Request, v *viewer, master, date, from, to, note, key string, status int, msg string) {
	cat, err := d.cfg.Catalog.Catalog(r.Context(), d.cfg.SalonID)
	if err != nil {
		d.failed(w, r, v, err)
		return
	}
	day := core.DateOf(d.cfg.Clock.Now().In(cat.Salon.Timezone))
	if date != "" {
		if dd, err := core.ParseDate(date); err == nil {
			day = dd
		}
	}
	if !v.Owner() {
		master = v.MasterID
	}
	data := blockData{Title: "Block time", Salon: cat.Salon.Name, V: v, Date: day.String(), From: from, To: to, Note: note,
		Key: key, Error: msg, Day: "/admin/day?date=" + day.String()}
	if !formKey.MatchString(data.Key) {
		data.Key = newToken()
	}
	for _, m := range cat.Masters {
		if v.Owner() || m.ID == v.MasterID {
			data.Masters = append(data.Masters, option{Value: m.ID, Label: m.Name, Selected: m.ID == master})
		}
	}
	d.render(w, status, "block.html", data)
}

func (d *desk) block(w http.ResponseWriter, r *http.Request, v *viewer) {
	master, date, from, to := r.PostFormValue("master"), r.PostFormValue("date"), r.PostFormValue("from"), r.PostFormValue("to")
	note, key := r.PostFormValue("note"), r.PostFormValue("key")
	again := func(status int, msg string) { d.renderBlock(w, r, v, master, date, from, to, note, key, status, msg) }
	if !v.MayChange(master) {
		d.problem(w, r, v, http.StatusForbidden, "You may block only your own time.")
		return
	}
	if !formKey.MatchString(key) {
		again(http.StatusBadRequest, "This form is incomplete. Reload it and try again.")
		return
	}
	cat, err := d.cfg.Catalog.Catalog(r.Context(), d.cfg.SalonID)
	if err != nil {
		d.failed(w, r, v, err)
		return
	}
	day, derr := core.ParseDate(date)
	f, ferr := core.ParseClock(from)
	t, terr := core.ParseClock(to)
	if derr != nil || ferr != nil || terr != nil || f >= 24*60 || day.Year < 2000 || day.Year > 2200 {
		again(http.StatusBadRequest, "Give the day and the times from and to, like 12:00 and 13:00.")
		return
	}
	start, end, msg := blockSpan(day, f, t, cat.Salon.Timezone)
	if msg != "" {
		again(http.StatusBadRequest, msg)
		return
	}
	b, err := d.cfg.Bookings.Block(acting(r, v), booking.BlockRequest{SalonID: d.cfg.SalonID, MasterID: master,
		Start: start, End: end, Note: note, IdempotencyKey: booking.DeskSourcePrefix + key, Source: booking.DeskActor(v.Login)})
	if err != nil {
		status, msg, ok := refusal(err)
		if !ok {
			d.failed(w, r, v, err)
			return
		}
		again(status, msg)
		return
	}
	http.Redirect(w, r, "/admin/booking/"+url.PathEscape(b.ID)+"?done=blocked", http.StatusSeeOther)
}

// blockSpan turns the block form's wall-clock times on day, in the salon's
// zone, into instants: from on day, to on day too, or on the next day when it
// is at or before from (a night: 23:00 to 01:00; 00:00 is the next midnight
// as 24:00 is). Where the clocks change it answers, rather than guess:
//   - a time the clocks skip (spring: 02:00 to 03:00 in Berlin) does not
//     exist: refused, with the times the clocks jump between;
//   - a time the clocks show twice (autumn: 02:00 to 03:00 again) is
//     ambiguous: refused too, from or to alike. The two readings differ by
//     the size of the change (a block "01:00 to 02:30" would end at the first
//     02:30 or an hour later), and a block that ends too early frees time the
//     master meant to keep. A block may run through those times (01:00 to
//     03:00 covers both of them); only its edges must name one instant.
//
// msg is "" when the times are good; else what to tell the person.
func blockSpan(day core.Date, from, to core.ClockTime, zone *time.Location) (start, end time.Time, msg string) {
	toDay := day
	if to <= from {
		toDay = day.AddDays(1)
	}
	for _, e := range []struct {
		d core.Date
		c core.ClockTime
		t *time.Time
	}{{day, from, &start}, {toDay, to, &end}} {
		t, ok := e.d.At(e.c, zone)
		switch {
		case !ok:
			jumpFrom, jumpTo := clockJump(t, zone)
			return start, end, fmt.Sprintf("%s does not exist on %s: the clocks go forward from %s to %s. Choose a time outside it.",
				e.c, dayLabel(e.d), jumpFrom, jumpTo)
		case shownTwice(t, zone):
			return start, end, fmt.Sprintf("%s happens twice on the night of %s: the clocks go back then. Choose a start and an end outside the repeated times (a block may run through them).",
				e.c, dayLabel(e.d))
		}
		*e.t = t
	}
	return start, end, ""
}

// clockJump returns the wall-clock times a spring change in zone jumps
// between (02:00 and 03:00), given an instant near it.
func clockJump(near time.Time, zone *time.Location) (from, to string) {
	l := near.In(zone)
	at, end := l.ZoneBounds() // the change is the nearer bound
	if at.IsZero() || !end.IsZero() && end.Sub(l) < l.Sub(at) {
		at = end
	}
	if at.IsZero() {
		return "?", "?"
	}
	_, offset := at.Add(-time.Second).Zone()
	return at.In(time.FixedZone("", offset)).Format("15:04"), at.In(zone).Format("15:04")
}

// dayLabel is a date as the desk writes it ("Sun 28 Mar 2027").
func dayLabel(d core.Date) string {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Format("Mon 2 Jan 2006")
}

// shownTwice reports whether the wall clock in zone shows t's time again
// later: t lies in the times an autumn change repeats.
func shownTwice(t time.Time, zone *time.Location) bool {
	l := t.In(zone)
	_, end := l.ZoneBounds()
	if end.IsZero() {
		return false
	}
	_, before := l.Zone()
	_, after := end.In(zone).Zone()
	if after >= before {
		return false
	}
	again := l.Add(time.Duration(before-after) * time.Second).In(zone)
	return !again.Before(end) && again.Hour() == l.Hour() && again.Minute() == l.Minute()
}
