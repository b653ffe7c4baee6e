package i18n_test

import (
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"salonbook/src/core"
	"salonbook/src/core/i18n"
)

var berlin, _ = time.LoadLocation("Europe/Berlin")

func TestCatalogs(t *testing.T) {
	t.Parallel()
	c, err := i18n.Load()
	require.NoError(t, err)
	require.Equal(t, []string{"en", "ru"}, c.Languages())

	t.Run("Match", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, "ru", c.Match("ru-RU", []string{"en", "ru"}))
		require.Equal(t, "en", c.Match("de-DE", []string{"en", "ru"}), "no German: the salon's first")
		require.Equal(t, "ru", c.Match("", []string{"ru", "en"}))
		require.Equal(t, "en", c.Match("ru", []string{"en"}), "only what the salon speaks")
		require.Equal(t, "en", c.Match("ru", []string{"fr"}), "a salon language without a catalog falls back to English")
	})

	t.Run("RussianPlurals", func(t *testing.T) {
		t.Parallel()
		p := c.Printer("ru", berlin)
		for n, want := range map[int]string{1: "1 предстоящая запись", 2: "2 предстоящие записи", 5: "5 предстоящих записей",
			11: "11 предстоящих записей", 21: "21 предстоящая запись", 22: "22 предстоящие записи"} {
			require.Contains(t, p.N("mine.count", n), want, "n=%d", n)
		}
		en := c.Printer("en", berlin)
		require.Contains(t, en.N("mine.count", 1), "1 upcoming booking:")
		require.Contains(t, en.N("mine.count", 2), "2 upcoming bookings:")
	})

	t.Run("DaysTimesPricesInTheSalonZone", func(t *testing.T) {
		t.Parallel()
		at := time.Date(2027, 3, 28, 8, 30, 0, 0, time.UTC) // 10:30 CEST, the day clocks go forward
		en, ru := c.Printer("en", berlin), c.Printer("ru", berlin)
		require.Equal(t, "Sunday, 28 March at 10:30", en.DayTime(at))
		require.Equal(t, "воскресенье, 28 марта, в 10:30", ru.DayTime(at))
		require.Equal(t, "на воскресенье, 28 марта, в 10:30", ru.DayTimeOn(at))
		require.Equal(t, "вс, 28 мар.", ru.Day(at))
		require.Equal(t, "28 мар. 10:30", ru.Short(at))
		late := time.Date(2027, 3, 27, 23, 30, 0, 0, time.UTC) // already Sunday 00:30 in Berlin
		require.Equal(t, "Sun 28 Mar", en.Day(late))
		require.Equal(t, "00:30", en.Time(late))
		require.Equal(t, "Sun 28 Mar", en.Date(core.Date{Year: 2027, Month: 3, Day: 28}))
	})

	t.Run("ButtonsFitEveryChannel", func(t *testing.T) {
		t.Parallel()
		for _, lang := range c.Languages() {
			raw, err := os.ReadFile("locales/" + lang + ".yaml")
			require.NoError(t, err)
			var msgs map[string]any
			require.NoError(t, yaml.Unmarshal(raw, &msgs))
			p := c.Printer(lang, berlin)
			for k := range msgs {
				if strings.HasPrefix(k, "btn.") || k == "language.name" {
					require.LessOrEqual(t, utf8.RuneCountInString(p.T(k)), 20, "%s %s: %q", lang, k, p.T(k))
				}
			}
			require.NotEqual(t, "menu.text", p.T("menu.text", "Salon", "X"))
		}
	})
}
