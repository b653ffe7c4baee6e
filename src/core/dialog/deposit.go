package dialog

import (
	"context"
	"strconv"
	"time"
	"unicode/utf8"

	"salonbook/src/core"
	"salonbook/src/core/booking"
)

// Deposits in the conversation: a Confirm that answers StatusAwaitingPayment
// asks the client to pay (an invoice in the chat, or a link to a hosted
// payment page: Payments decides), and the flow ends there; the booking waits
// for its deposit on its own. The provider's report comes back as a KindPaid
// event of the chat, whose booking change Service.Handle records before the
// step (a failure there fails the event, which the pipeline retries: a payment
// is never answered with an apology and forgotten).

// Payments is how a chat pays a deposit.
type Payments interface {
	// Checkout returns the address of a hosted payment page for the deposit
	// of b (awaiting payment), titled title, for the chat key and the
	// language lang; "" when the chat's channel takes payments itself
	// (Reply.Invoice).
	Checkout(ctx context.Context, key ChatKey, b core.Booking, title, lang string) (string, error)
}

const prefPay = "pay:" // pay:<booking id>: the deposit of a booking awaiting it, from My bookings

// maxInvoiceTitle is Telegram's limit on an invoice's title.
const maxInvoiceTitle = 32

// paidAnswer is what Service.Handle made of a KindPaid event before its step.
type paidAnswer struct {
	res *booking.PaidResult
	err error // a refusal (not found, invalid, another booking's ids), answered
}

// recordPaid records a reported payment before the step that answers it. Only
// refusals are kept for the step; a store failure is returned, so the event
// fails and is tried again.
func (s *Service) recordPaid(ctx context.Context, in *Inbound) error {
	if in.Kind != KindPaid || in.Paid == nil {
		return nil
	}
	res, err := s.engine.bookings.Paid(ctx, s.engine.salonID, in.Paid.BookingID, in.Paid.Payment)
	switch core.ErrorCode(err) {
	case "", core.ENotFound, core.EInvalid, core.EConflict, core.EForbidden:
		in.paid = &paidAnswer{res: res, err: err}
		return nil
	}
	return err
}

// askDeposit ends the flow of a booking awaiting its deposit with the way to
// pay it: the terms, then a link, or an invoice below the menu.
func (t *turn) askDeposit(b *core.Booking) {
	note, invoice := t.deposit(b)
	t.reset()
	t.note = note
	t.menu()
	if invoice != nil {
		t.out = append(t.out, *invoice)
	}
}

// deposit is the way to pay b's deposit: the terms with a link to a hosted
// page, or with the invoice that goes below (nil for a link).
func (t *turn) deposit(b *core.Booking) (string, *Reply) {
	p := t.p
	svc := t.service(b.ServiceID)
	minutes := int(b.HoldExpiresAt.Sub(t.now) / time.Minute)
	text := p.N("deposit.ask", minutes, "Deposit", p.Price(b.Deposit), "Service", svc.NameIn(p.Lang()),
		"Master", t.masterName(b.MasterID), "Time", p.DayTime(b.Start)) +
		" " + p.T("deposit.rules", "Cutoff", t.duration(t.cat.Salon.Policy.RefundCutoff()), "Price", p.Price(b.Price))
	url := ""
	var err error
	if t.e.payments != nil {
		url, err = t.e.payments.Checkout(t.ctx, t.key, *b, t.invoiceTitle(b), p.Lang())
	}
	switch {
	case err != nil:
		// The booking waits: My bookings offers to pay again.
		return text + "\n" + p.T("deposit.link_failed"), nil
	case url != "":
		return text + "\n" + p.T("deposit.link", "URL", url), nil
	}
	inv := t.invoice(b)
	return text + "\n" + p.T("deposit.invoice"), &inv
}

// invoice is the deposit of b asked in the chat.
func (t *turn) invoice(b *core.Booking) Reply {
	p := t.p
	name := t.service(b.ServiceID).NameIn(p.Lang())
	title := t.invoiceTitle(b)
	return Reply{
		Text: p.T("deposit.description", "Service", name, "Master", t.masterName(b.MasterID), "Time", p.DayTime(b.Start),
			"Price", p.Price(b.Price)),
		Invoice: &Invoice{Payload: InvoicePrefix + b.ID, Title: title, Label: p.T("deposit.label"),
			Amount: b.Deposit.Minor, Currency: b.Deposit.Currency},
	}
}

// invoiceTitle names b's deposit on an invoice or a payment page.
func (t *turn) invoiceTitle(b *core.Booking) string {
	title := t.p.T("deposit.title", "Service", t.service(b.ServiceID).NameIn(t.p.Lang()))
	if utf8.RuneCountInString(title) > maxInvoiceTitle {
		title = string([]rune(title)[:maxInvoiceTitle-1]) + "…"
	}
	return title
}

// onPaid answers a deposit the provider reports paid (recorded already by
// Service.Handle): booked, or to be refunded, with the nearest free times
// when the time was gone. A flow under way is asked again below, unless the
// answer offers times, which start a new one.
func (t *turn) onPaid() {
	p := t.p
	a := t.in.paid
	if a == nil || a.err != nil || a.res == nil || a.res.Booking == nil {
		t.note = t.phoneMsg("deposit.unknown")
		t.again()
		return
	}
	b, res := a.res.Booking, a.res
	deposit := b.Deposit
	if t.in.Paid != nil && t.in.Paid.Amount.Minor > 0 {
		deposit = t.in.Paid.Amount
	}
	if res.Outcome == booking.PaidConfirmed {
		t.did = true
		t.note = p.T("deposit.paid", "Deposit", p.Price(deposit)) + " " + t.booked(b)
		t.ask()
		return
	}
	switch res.Reason {
	case booking.RefundLate:
		t.paidLate(b, deposit, res)
		return
	case booking.RefundUnpaid:
		t.note = p.T("deposit.refund_unpaid", "Deposit", p.Price(deposit), "Time", p.DayTime(b.Start), "On", p.DayTimeOn(b.Start))
	case booking.RefundDuplicate:
		t.note = p.T("deposit.refund_duplicate", "Deposit", p.Price(deposit), "Time", p.DayTime(b.Start), "On", p.DayTimeOn(b.Start))
	default:
		t.note = p.T("deposit.refund_amount", "Deposit", p.Price(deposit), "Time", p.DayTime(b.Start), "On", p.DayTimeOn(b.Start))
	}
	t.ask()
}

// paidLate answers a payment that came after the time was taken: it is to be
// refunded, and the nearest free times of the same service and master start
// a new booking (the flow under way is dropped).
func (t *turn) paidLate(b *core.Booking, deposit core.Money, res *booking.PaidResult) {
	p := t.p
	t.reset()
	t.st.Service, t.st.Master, t.st.Step = b.ServiceID, b.MasterID, stepTime
	t.st.Day = core.DateOf(b.Start.In(t.cat.Salon.Timezone)).String()
	if t.findService(b.ServiceID) == nil || !t.masterDoes(b.MasterID, b.ServiceID) || len(res.Alternatives) == 0 {
		t.reset()
		t.note = p.T("deposit.late_none", "Deposit", p.Price(deposit), "Time", p.DayTime(b.Start), "On", p.DayTimeOn(b.Start))
		t.menu()
		return
	}
	r := Reply{Text: p.T("deposit.late", "Deposit", p.Price(deposit), "Time", p.DayTime(b.Start), "On", p.DayTimeOn(b.Start))}
	for _, s := range res.Alternatives {
		lbl := p.Time(s.Start)
		if core.DateOf(s.Start.In(t.cat.Salon.Timezone)).String() != t.st.Day {
			lbl = p.Short(s.Start)
		}
		r.Choices = append(r.Choices, Choice{ID: prefTime + strconv.FormatInt(s.Start.Unix(), 10), Label: lbl})
	}
	r.Choices = append(r.Choices, Choice{ID: optAnyDay, Label: p.T("btn.other_day")})
	t.out = append(t.out, t.withMenu(r))
}

// payAgain answers My bookings' "Pay deposit" on a booking of this chat that
// still awaits its deposit: the way to pay it, again (the same hosted page:
// its session is made once per booking).
func (t *turn) payAgain(id string) {
	p := t.p
	b, err := t.own(id)
	switch {
	case err != nil:
		t.note = p.T("error.unavailable")
		t.ask()
	case b == nil || b.Status != core.StatusAwaitingPayment || !b.HoldLive(t.now):
		t.note = p.T("precheckout.expired")
		t.st.Step = stepMine
		t.ask()
	default:
		t.askDeposit(b)
	}
}

// depositLine is what My bookings says of a booking's deposit; "" for none.
func (t *turn) depositLine(b *core.Booking) string {
	p := t.p
	switch {
	case b.Status == core.StatusAwaitingPayment:
		return p.T("deposit.pending", "Deposit", p.Price(b.Deposit), "Until", p.Time(b.HoldExpiresAt))
	case b.DepositState == core.DepositPaid:
		return p.T("deposit.paid_line", "Deposit", p.Price(b.Deposit))
	}
	return ""
}

// cancelNote is what a client's cancel says of the booking's deposit.
func (t *turn) cancelNote(b *core.Booking) string {
	p := t.p
	switch b.DepositState {
	case core.DepositRefundDue:
		return " " + p.T("deposit.cancel_refund", "Deposit", p.Price(b.Deposit))
	case core.DepositKept:
		return " " + p.T("deposit.cancel_kept", "Cutoff", t.duration(t.cat.Salon.Policy.RefundCutoff()), "Deposit", p.Price(b.Deposit))
	}
	return ""
}

// duration says d in hours and minutes ("36 hours 30 minutes"), exactly to
// the minute: a refund cutoff rounded down to whole hours promised a refund
// the policy then refused.
func (t *turn) duration(d time.Duration) string {
	p := t.p
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case m == 0:
		return p.N("duration.hours", h)
	case h == 0:
		return p.N("duration.minutes", m)
	}
	return p.N("duration.hours", h) + " " + p.N("duration.minutes", m)
}

// PreCheckout answers a provider's last question before it charges a deposit
// in the chat (Telegram's pre_checkout_query, which must be answered within
// 10 seconds): the invoice's booking must be this chat's, still awaiting its
// deposit at now, and amount the deposit asked. ok, or the reason to show the
// client, in the salon's language nearest to langHint. It reads the booking
// (the catalog is cached) and changes nothing.
func (s *Service) PreCheckout(ctx context.Context, key ChatKey, payload string, amount core.Money, langHint string) (ok bool, reason string) {
	e := s.engine
	allowed := e.catalog.Languages()
	cat, err := e.bookings.Catalog(ctx, e.salonID)
	zone := time.UTC
	if err == nil {
		allowed, zone = cat.Salon.Locales, cat.Salon.Timezone
	}
	p := e.catalog.Printer(e.catalog.Match(langHint, allowed), zone)
	if err != nil {
		return false, p.T("error.unavailable")
	}
	id := InvoiceBooking(payload)
	b, err := e.bookings.Get(ctx, e.salonID, id)
	switch {
	case id == "" || core.ErrorCode(err) == core.ENotFound || (err == nil && b.Source != key.Channel+":"+key.ChatID):
		return false, p.T("precheckout.unknown")
	case err != nil:
		return false, p.T("error.unavailable")
	case b.DepositState == core.DepositPaid:
		return false, p.T("precheckout.paid")
	case b.Status != core.StatusAwaitingPayment || !b.HoldLive(e.clock.Now()):
		return false, p.T("precheckout.expired")
	case amount != b.Deposit:
		return false, p.T("precheckout.amount")
	}
	return true, ""
}
