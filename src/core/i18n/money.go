package i18n

import (
	"fmt"
	"time"

	"salonbook/src/core"
)

// currencySigns are the signs of the currencies that have one everybody reads;
// any other currency is written with its ISO code ("35 CHF").
var currencySigns = map[string]string{
	"EUR": "€", "USD": "$", "GBP": "£", "RUB": "₽", "UAH": "₴", "KZT": "₸",
	"ILS": "₪", "INR": "₹", "JPY": "¥", "TRY": "₺", "PLN": "zł", "GEL": "₾", "AMD": "֏",
}

// Price formats money as the language writes it: "€35", "€18.50" / "35 €",
// "18,50 €"; whole amounts without decimals; a currency without a sign by its
// code ("35 CHF" / "35 CHF").
func (p *Printer) Price(m core.Money) string {
	v, minus := m.Minor, ""
	if v < 0 {
		v, minus = -v, "-"
	}
	amount := fmt.Sprint(v / 100)
	if v%100 != 0 {
		amount += fmt.Sprintf("%s%02d", p.T("fmt.decimal"), v%100)
	}
	if sign, ok := currencySigns[m.Currency]; ok {
		return minus + p.T("fmt.price_sign", "Amount", amount, "Sign", sign)
	}
	return minus + p.T("fmt.price", "Amount", amount, "Currency", m.Currency)
}

// Duration formats a length of time as a price list writes it: "2 h",
// "1 h 30 min", "45 min" / "2 ч", "1 ч 30 мин", "45 мин".
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
