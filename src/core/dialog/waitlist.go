package dialog

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/i18n"
)

// The wait-list: a full working day offers "Notify me" (where the channel can
// be written to unasked); the matcher (package waitlist) later holds a freed
// time for the entry and sends OfferReply; its buttons come back here.

// offersTo reports whether entries of this chat's channel get offers.
func (t *turn) offersTo() bool {
	return t.e.waitlist != nil && !slices.Contains(t.e.noOffers, t.key.Channel)
}

// joinWaitlist puts the client on local day d's wait-list: only a working day
// of the flow's masters, whole within the horizon, that is full (whatever
// the button said: ids can be forged or stale). The flow's day becomes d
// only once it passes.
func (t *turn) joinWaitlist(d core.Date) {
	if !t.offersTo() || !t.bookable(d) || !t.wholeDayBookable(d) || t.st.Step != stepTime {
		t.again()
		return
	}
	if _, full := t.whyNone(d); !full {
		t.again() // closed, the master's day off, too soon today: no time can free up
		return
	}
	if free, err := t.free(d, 1); err != nil || len(free) > 0 {
		t.again() // the day has times again: they are shown instead
		return
	}
	t.st.Day, t.st.Page, t.st.DayPages = d.String(), 0, nil
	// An offer is a hold in the client's name: ask who they are first.
	t.st.Join = true
	if t.st.ClientName == "" {
		t.st.Step = stepName
		t.ask()
		return
	}
	if t.st.ClientPhone == "" {
		t.st.Step = stepPhone
		t.ask()
		return
	}
	t.join()
}

// afterClient goes on once the client's name and phone are known: to the
// wait-list, or to the hold.
func (t *turn) afterClient() {
	if t.st.Join {
		t.join()
		return
	}
	t.hold()
}

// join stores the wait-list entry for the flow's day.
func (t *turn) join() {
	d, err := core.ParseDate(t.st.Day)
	if err != nil {
		t.reset()
		t.menu()
		return
	}
	client, err := booking.NormaliseClient(t.e.salonID, t.cat.Salon.Country,
		core.Client{Name: t.st.ClientName, Phone: t.st.ClientPhone, Verified: t.st.PhoneVerified}, true)
	if err != nil {
		t.bookingFailed(err, stepTime) // asks for the name or phone again; Join stays set
		return
	}
	err = t.e.waitlist.Join(t.ctx, WaitlistEntry{Key: t.key, ServiceID: t.st.Service, MasterID: t.st.Master,
		Day: d, ClientID: t.st.ClientID, Client: client, Lang: t.st.Lang})
	t.reset()
	if err != nil {
		t.note = t.p.T("error.unavailable")
	} else {
		t.did = true
		t.note = t.p.T("waitlist.joined", "Day", t.p.DateLong(d), "On", t.p.DateOn(d), "At", t.p.DateAt(d))
	}
	t.menu()
}

// Offer is a freed time held for a wait-listed client.
type Offer struct {
	BookingID string            // the hold
	Lang      string            // the entry's language; "" or one the salon lacks: the salon's first
	Start     time.Time         // UTC
	Service   map[string]string // the service's names by locale
	Master    string            // the master's default name
	// MasterNames are the master's names by locale; nil: Master in every language.
	MasterNames map[string]string
	// Made and Expires are when the offer is made and its hold expires: the
	// text says the minutes between (OfferHold, or less when the hold ends at
	// the start). Expires zero: Policy.OfferHold.
	Made, Expires time.Time
}

// OfferReply writes a wait-list offer in the client's language and the salon's
// zone: the service, the master, the day and time, and how long it is held,
// with the buttons "Book it" and "No, thanks".
func OfferReply(catalog *i18n.Catalog, salon *core.Salon, o Offer) Reply {
	lang := o.Lang
	if !slices.Contains(salon.Locales, lang) {
		lang = catalog.Match("", salon.Locales)
	}
	p := catalog.Printer(lang, salon.Timezone)
	minutes := int(salon.Policy.OfferHold() / time.Minute)
	if !o.Expires.IsZero() {
		// Rounded: Made is read a moment after the hold's own now, so a
		// 15-minute hold measures 14:59.99 from here.
		minutes = int((o.Expires.Sub(o.Made) + 30*time.Second) / time.Minute)
	}
	return Reply{
		Text: p.N("offer.text", minutes, "Service", serviceName(o.Service, lang, salon.Locales),
			"Master", masterName(o.MasterNames, lang, o.Master), "Time", p.DayTime(o.Start)),
		Choices: []Choice{
			{ID: prefOfferYes + o.BookingID, Label: p.T("btn.offer_yes")},
			{ID: prefOfferNo + o.BookingID, Label: p.T("btn.offer_no")},
		},
	}
}

// onOffer answers "Book it" and "No, thanks" from any step; the flow under
// way, if any, is asked again after the answer. The id is checked: only a
// live offer hold this chat was given is acted on.
func (t *turn) onOffer() {
	p := t.p
	id, yes := strings.CutPrefix(t.in.Choice, prefOfferYes)
	if !yes {
		id = strings.TrimPrefix(t.in.Choice, prefOfferNo)
	}
	b, err := t.own(id)
	if err != nil {
		t.note = p.T("error.unavailable")
		t.ask()
		return
	}
	if b == nil || !strings.HasPrefix(b.IdempotencyKey, booking.OfferKeyPrefix) {
		t.note = p.T("offer.expired")
		t.ask()
		return
	}
	if !yes {
		t.decline(b)
		t.ask()
		return
	}
	c, err := t.e.bookings.Confirm(t.ctx, t.e.salonID, b.ID)
	switch {
	case core.ErrorKey(err) == "booking.hold_expired":
		t.note = p.T("offer.expired")
	case core.ErrorKey(err) == "deposit.unavailable":
		t.note = t.depositUnavailable()
	case err != nil:
		t.note = p.T("error.unavailable")
	case c.Status == core.StatusAwaitingPayment:
		note, invoice := t.deposit(c)
		t.note = note
		t.ask()
		if invoice != nil {
			t.out = append(t.out, *invoice)
		}
		return
	default:
		t.note = t.booked(c)
	}
	t.ask()
}

// decline answers "No, thanks": the offer's hold is released (its release
// wakes the matcher in the same statement, postgres.Store), unless it was
// booked already ("Book it" pressed first), or it ended.
func (t *turn) decline(b *core.Booking) {
	p := t.p
	if b.Status == core.StatusConfirmed {
		t.note = p.T("offer.booked", "Time", p.DayTime(b.Start))
		return
	}
	released, err := t.e.bookings.Release(t.ctx, t.e.salonID, b.ID)
	switch {
	case err != nil:
		t.note = p.T("error.unavailable")
	case released:
		t.note = p.T("offer.declined")
	default: // confirmed or ended meanwhile
		if now, _ := t.own(b.ID); now != nil && now.Status == core.StatusConfirmed {
			t.note = p.T("offer.booked", "Time", p.DayTime(b.Start))
		} else {
			t.note = p.T("offer.expired")
		}
	}
}

// isOffer reports whether b is a wait-list offer still standing (not booked).
func isOffer(b *core.Booking) bool {
	return b.Status == core.StatusHeld && strings.HasPrefix(b.IdempotencyKey, booking.OfferKeyPrefix)
}

// waiting lists the chat's wait-list entries for today and later.
func (t *turn) waiting() []WaitlistEntry {
	if t.e.waitlist == nil {
		return nil
	}
	list, err := t.e.waitlist.Entries(t.ctx, t.key, t.today())
	if err != nil {
		return nil
	}
	return list
}

// waitingLines adds the chat's wait-list entries to "My bookings", each with
// its "Leave" button.
func (t *turn) waitingLines(r *Reply, list []WaitlistEntry) {
	p := t.p
	if len(list) == 0 {
		return
	}
	r.Text += "\n\n" + p.T("mine.waiting")
	// "Leave <day>" names one entry unless the chat waits twice on a day (a
	// master and any master, two services): then the lines are numbered and
	// the buttons say the number.
	days := map[core.Date]int{}
	for _, e := range list {
		days[e.Day]++
	}
	numbered := slices.ContainsFunc(list, func(e WaitlistEntry) bool { return days[e.Day] > 1 })
	for i, e := range list {
		service := t.service(e.ServiceID).NameIn(p.Lang())
		line := p.T("mine.wait_line_any", "Day", p.DateLong(e.Day), "Service", service)
		if e.MasterID != booking.AnyMaster {
			line = p.T("mine.wait_line", "Day", p.DateLong(e.Day), "Service", service, "Master", t.masterName(e.MasterID))
		}
		lbl := p.T("btn.leave", "Day", p.Date(e.Day))
		if numbered {
			line = strconv.Itoa(i+1) + ". " + line
			lbl = p.T("btn.leave_n", "N", strconv.Itoa(i+1))
		}
		r.Text += "\n• " + line
		r.Choices = append(r.Choices, Choice{ID: prefLeave + strconv.FormatInt(e.ID, 10), Label: label(lbl)})
	}
}

// leave takes the chat off one of its wait-list entries; the store checks the
// id is the chat's.
func (t *turn) leave() {
	id, err := strconv.ParseInt(strings.TrimPrefix(t.in.Choice, prefLeave), 10, 64)
	list := t.waiting()
	i := slices.IndexFunc(list, func(e WaitlistEntry) bool { return e.ID == id })
	if err != nil || i < 0 {
		t.st.Step = stepMine
		t.again()
		return
	}
	e := list[i]
	if ok, err := t.e.waitlist.Leave(t.ctx, t.key, id); err != nil || !ok {
		t.st.Step = stepMine
		t.note = t.p.T("error.unavailable")
		t.ask()
		return
	}
	t.st.Step = stepMine
	t.note = t.p.T("waitlist.left", "Day", t.p.DateLong(e.Day), "On", t.p.DateOn(e.Day))
	t.ask()
}
