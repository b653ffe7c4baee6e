package i18n_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/core"
	"salonbook/src/core/i18n"
)

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
		{"en", 150000, "RUB", "₽1500"},
		{"en", 3500, "XYZ", "35 XYZ"},
		{"en", 3550, "CHF", "35.50 CHF"},
		{"en", 0, "EUR", "€0"},
		{"en", -1850, "EUR", "-€18.50"},
		{"ru", 3500, "EUR", "35 €"},
		{"ru", 1850, "EUR", "18,50 €"},
		{"ru", 150000, "RUB", "1500 ₽"},
		{"ru", 4000, "USD", "40 $"},
		{"ru", 3500, "XYZ", "35 XYZ"},
		{"ru", 3550, "CHF", "35,50 CHF"},
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
		45 * time.Minute:  {"45 min", "45 мин"},
		60 * time.Minute:  {"1 h", "1 ч"},
		90 * time.Minute:  {"1 h 30 min", "1 ч 30 мин"},
		120 * time.Minute: {"2 h", "2 ч"},
		150 * time.Minute: {"2 h 30 min", "2 ч 30 мин"},
	} {
		require.Equal(t, want[0], en.Duration(d), "%v", d)
		require.Equal(t, want[1], ru.Duration(d), "%v", d)
	}
}
