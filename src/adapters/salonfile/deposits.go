package salonfile

import (
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"salonbook/src/core"
)

// Deposit defaults and bounds, documented in the package comment.
const (
	minPaymentWindow = time.Minute
	// maxPaymentWindow keeps the hosted payment page (a Stripe Checkout
	// Session, which lives at most 24 h) open 30 minutes past the window.
	maxPaymentWindow = 23 * time.Hour
	maxRefundCutoff  = 366 * 24 * time.Hour
)

// deposits reads policy.deposit_when, policy.payment_window and
// policy.deposit_refund into pol. Absent, each is the zero value, which the
// core reads as its default (never; 15 minutes; the cancellation cutoff).
func (p *parser) deposits(m *mapping, pol *core.Policy) {
	if s, n := p.scalar(m, "deposit_when", false); n != nil {
		switch core.DepositWhen(strings.TrimSpace(s)) {
		case "never":
		case core.DepositAlways:
			pol.DepositWhen = core.DepositAlways
		case core.DepositAfterNoShow:
			pol.DepositWhen = core.DepositAfterNoShow
		default:
			p.add(n.Line, join(m.path, "deposit_when"), "%q must be always, after_no_show (clients with a no-show in the last year) or never", s)
		}
	}
	if _, ok := m.keys["payment_window"]; ok {
		pol.PaymentWindow = p.duration(m, "payment_window", false,
			durationRule{min: minPaymentWindow, max: maxPaymentWindow, wholeMinutes: true})
	}
	r := p.sub(m, "deposit_refund", false, "cutoff")
	if r == nil {
		return
	}
	if _, ok := r.keys["cutoff"]; !ok {
		return
	}
	cutoff := p.duration(r, "cutoff", false, durationRule{max: maxRefundCutoff})
	if cutoff < pol.CancelCutoff {
		p.add(r.keys["cutoff"].Line, join(r.path, "cutoff"),
			"%q is shorter than policy.cancel_cutoff (%s): a client who may still cancel gets the deposit back, so the refund cutoff is at least that",
			formatDuration(cutoff), formatDuration(pol.CancelCutoff))
		return
	}
	pol.DepositRefundCutoff = cutoff
}

// deposit reads a service's deposit: a decimal amount in the service's
// currency ("10.00", at most its price) or a share of its price ("20%", a
// whole number from 1 to 100). Absent or null: none.
func (p *parser) deposit(m *mapping, key string, price core.Money) core.Deposit {
	s, n := p.scalar(m, key, false)
	if n == nil {
		return core.Deposit{}
	}
	field := join(m.path, key)
	s = strings.TrimSpace(s)
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.Atoi(strings.TrimSpace(pct))
		if err != nil || !allDigits(strings.TrimSpace(pct)) || v < 1 || v > 100 {
			p.add(n.Line, field, "%q must be a share of the price from 1%% to 100%%, a whole number", s)
			return core.Deposit{}
		}
		p.depositCurrency(n, field, price.Currency)
		return core.Deposit{Percent: v}
	}
	minor, err := parsePrice(s)
	switch {
	case err != nil:
		p.add(n.Line, field, "deposit %q is not an amount like 10.00 (in the service's currency) or a share like 20%%", s)
		return core.Deposit{}
	case minor == 0:
		p.add(n.Line, field, "must be more than 0; leave it out for no deposit")
		return core.Deposit{}
	case minor > price.Minor:
		p.add(n.Line, field, "%q is more than the price (%s)", s, price)
		return core.Deposit{}
	}
	p.depositCurrency(n, field, price.Currency)
	return core.Deposit{Minor: minor}
}

// Prices are kept in hundredths; a payment provider takes amounts in the
// currency's own minor unit, so deposits in a currency whose minor unit is
// not a hundredth (none, or a thousandth: core.CurrencyDecimals) would be
// charged a hundred times (or a tenth of) what the file says.
// depositCurrency refuses a deposit in a currency without hundredths.
func (p *parser) depositCurrency(n *yaml.Node, field, currency string) {
	if core.CurrencyDecimals(currency) != 2 {
		p.add(n.Line, field, "deposits are taken in currencies with cents (hundredths); %s has none", currency)
	}
}
