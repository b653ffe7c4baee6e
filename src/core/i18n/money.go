package i18n

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"salonbook/src/core"
)

// currencySigns are the signs of the currencies that have one everybody reads;
// any other currency is written with its ISO code ("35 CHF").
var currencySigns = map[string]string{
	"EUR": "€", "USD": "$", "GBP": "£", "RUB": "₽", "UAH": "₴", "KZT": "₸",
	"ILS": "₪", "INR": "₹", "JPY": "¥", "TRY": "₺", "PLN": "zł", "GEL": "₾", "AMD": "֏",
}

// signAfter are the currencies whose sign follows the number in every
// language ("35 zł", "1500 ₽", "35 ֏"), as their own countries write them.
var signAfter = map[string]bool{"PLN": true, "AMD": true, "GEL": true, "KZT": true, "UAH": true, "RUB": true}

// Price formats money as the language writes it: "€35", "€18.50", "€1,250" /
// "35 €", "18,50 €", "1500 €", "12 000 €"; whole amounts without decimals;
// the signs of signAfter after the number in every language ("35 zł"); a
// currency without a sign by its code ("35 CHF"). The space before a sign or
// code is a non-breaking one (fmt.price, fmt.price_sign), so is Russian's
// thousands separator (fmt.group).
func (p *Printer) Price(m core.Money) string {
	v, minus := m.Minor, ""
	if v < 0 {
		v, minus = -v, "-"
	}
	amount := p.group(v / 100)
	if v%100 != 0 {
		amount += fmt.Sprintf("%s%02d", p.T("fmt.decimal"), v%100)
	}
	sign, ok := currencySigns[m.Currency]
	switch {
	case ok && signAfter[m.Currency]:
		return minus + p.T("fmt.price", "Amount", amount, "Currency", sign)
	case ok:
		return minus + p.T("fmt.price_sign", "Amount", amount, "Sign", sign)
	}
	return minus + p.T("fmt.price", "Amount", amount, "Currency", m.Currency)
}

// group writes a whole number with the language's thousands separator
// (fmt.group) once it has at least fmt.group_from digits: "1,250" / "1250",
// "12 000".
func (p *Printer) group(n int64) string {
	s := strconv.FormatInt(n, 10)
	from, err := strconv.Atoi(p.T("fmt.group_from"))
	if err != nil || len(s) < max(from, 4) {
		return s
	}
	sep := p.T("fmt.group")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Duration formats a length of time as a price list writes it: "2 h",
// "1 h 30 min", "45 min" / "2 ч", "1 ч 30 мин", "45 мин", whole minutes
// (seconds are dropped). A length below one minute is not valid input (it
// reads "0 min"): durations, buffers and notices are whole minutes.
func (p *Printer) Duration(d time.Duration) string {
	mins := int(d / time.Minute)
	h, m := mins/60, mins%60
	switch {
	case h == 0:
		return p.T("fmt.minutes", "N", m)
	case m == 0:
		return p.T("fmt.hours", "N", h)
	}
	return p.T("fmt.hours_minutes", "H", h, "M", m)
}
