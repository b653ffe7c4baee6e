package i18n_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/core"
	"salonbook/src/core/i18n"
)

// nb is the non-breaking space between a number and its unit, and Russian's
// thousands separator.
const nb = "\u00a0"

func TestPrice(t *testing.T) {
	t.Parallel()
	c, err := i18n.Load()
	require.NoError(t, err)
	for _, tt := range []struct {
		lang  string
		minor int64
		cur   string
		want  string
	}{
		{"en", 3500, "EUR", "€35"},
		{"en", 1850, "EUR", "€18.50"},
		{"en", 3505, "EUR", "€35.05"},
		{"en", 4000, "USD", "$40"},
		{"en", 2000, "GBP", "£20"},
		{"en", 125000, "EUR", "€1,250"},
		{"en", 123456789, "USD", "$1,234,567.89"},
		{"en", 150000, "RUB", "1,500" + nb + "₽"}, // the sign after the number in every language
		{"en", 3500, "PLN", "35" + nb + "zł"},
		{"en", 3500, "AMD", "35" + nb + "֏"},
		{"en", 3500, "GEL", "35" + nb + "₾"},
		{"en", 3500, "KZT", "35" + nb + "₸"},
		{"en", 3500, "UAH", "35" + nb + "₴"},
		{"en", 3500, "XYZ", "35" + nb + "XYZ"},
		{"en", 3550, "CHF", "35.50" + nb + "CHF"},
		{"en", 350000, "JPY", "¥3,500"}, // kept in hundredths, and whole (core.CurrencyDecimals)
		{"en", 1250, "KWD", "12.50" + nb + "KWD"},
		{"en", 0, "EUR", "€0"},
		{"en", -1850, "EUR", "-€18.50"},
		{"ru", 3500, "EUR", "35" + nb + "€"},
		{"ru", 1850, "EUR", "18,50" + nb + "€"},
		{"ru", 150000, "RUB", "1500" + nb + "₽"}, // four digits stay together
		{"ru", 1200000, "RUB", "12" + nb + "000" + nb + "₽"},
		{"ru", 1234567, "RUB", "12" + nb + "345,67" + nb + "₽"},
		{"ru", 123456700, "EUR", "1" + nb + "234" + nb + "567" + nb + "€"},
		{"ru", 3500, "PLN", "35" + nb + "zł"},
		{"ru", 4000, "USD", "40" + nb + "$"},
		{"ru", 3500, "XYZ", "35" + nb + "XYZ"},
		{"ru", 3550, "CHF", "35,50" + nb + "CHF"},
	} {
		p := c.Printer(tt.lang, time.UTC)
		require.Equal(t, tt.want, p.Price(core.Money{Minor: tt.minor, Currency: tt.cur}), "%s %d %s", tt.lang, tt.minor, tt.cur)
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()
	c, err := i18n.Load()
	require.NoError(t, err)
	en, ru := c.Printer("en", time.UTC), c.Printer("ru", time.UTC)
	for d, want := range map[time.Duration][2]string{
		45 * time.Minute:  {"45" + nb + "min", "45" + nb + "мин"},
		59 * time.Minute:  {"59" + nb + "min", "59" + nb + "мин"},
		60 * time.Minute:  {"1" + nb + "h", "1" + nb + "ч"},
		90 * time.Minute:  {"1" + nb + "h 30" + nb + "min", "1" + nb + "ч 30" + nb + "мин"},
		120 * time.Minute: {"2" + nb + "h", "2" + nb + "ч"},
		150 * time.Minute: {"2" + nb + "h 30" + nb + "min", "2" + nb + "ч 30" + nb + "мин"},
		24 * time.Hour:    {"24" + nb + "h", "24" + nb + "ч"},
	} {
		require.Equal(t, want[0], en.Duration(d), "%v", d)
		require.Equal(t, want[1], ru.Duration(d), "%v", d)
	}
}
