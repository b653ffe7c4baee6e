// Package i18n holds what a client reads, in every language the product speaks:
// message catalogs (one file per language under locales/, with CLDR plural rules
// through go-i18n), and the formatting of days, times and prices in the salon's
// zone. Adding a language is adding a file.
//
// It knows nothing of channels; it never reads the clock.
package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"

	"salonbook/src/core"
)

//go:embed locales/*.yaml
var locales embed.FS

// Catalog is every language's messages.
type Catalog struct {
	bundle *goi18n.Bundle
	langs  []string // by file name, sorted
}

// Load reads the embedded catalogs. Every language must define every key that
// English defines; a missing one is an error here, not a blank in a chat.
func Load() (*Catalog, error) {
	c := &Catalog{bundle: goi18n.NewBundle(language.English)}
	c.bundle.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	files, err := fs.Glob(locales, "locales/*.yaml")
	if err != nil {
		return nil, err
	}
	keys := map[string][]string{}
	for _, f := range files {
		mf, err := c.bundle.LoadMessageFileFS(locales, f)
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", f, err)
		}
		lang := strings.TrimSuffix(path.Base(f), ".yaml")
		c.langs = append(c.langs, lang)
		for _, m := range mf.Messages {
			keys[lang] = append(keys[lang], m.ID)
		}
	}
	for _, lang := range c.langs {
		for _, k := range keys["en"] {
			if !slices.Contains(keys[lang], k) {
				return nil, fmt.Errorf("i18n: %s.yaml lacks %q", lang, k)
			}
		}
	}
	return c, nil
}

// Languages lists the languages with a catalog, e.g. ["en", "ru"].
func (c *Catalog) Languages() []string { return slices.Clone(c.langs) }

// Match picks the language for a client: the one of allowed (the salon's
// locales that have a catalog) that best fits the channel's hint, else the first
// allowed, else English.
func (c *Catalog) Match(hint string, allowed []string) string {
	var have []string
	for _, l := range allowed {
		if slices.Contains(c.langs, l) {
			have = append(have, l)
		}
	}
	if len(have) == 0 {
		return "en"
	}
	if tag, err := language.Parse(hint); err == nil {
		base, _ := tag.Base()
		if slices.Contains(have, base.String()) {
			return base.String()
		}
	}
	return have[0]
}

// Printer writes in one language and one zone.
type Printer struct {
	lang string
	loc  *goi18n.Localizer
	zone *time.Location
}

// Printer returns a printer for lang (English when there is no such catalog)
// showing times in zone.
func (c *Catalog) Printer(lang string, zone *time.Location) *Printer {
	if !slices.Contains(c.langs, lang) {
		lang = "en"
	}
	return &Printer{lang: lang, loc: goi18n.NewLocalizer(c.bundle, lang), zone: zone}
}

// Lang is the printer's language.
func (p *Printer) Lang() string { return p.lang }

// Zone is the zone the printer shows times in.
func (p *Printer) Zone() *time.Location { return p.zone }

// T returns the message key with its {{.Name}} placeholders filled from data
// (pairs of name, value). A missing key shows as the key itself, so it is seen.
func (p *Printer) T(key string, data ...any) string {
	return p.localize(key, nil, data)
}

// N is T for a message with plural forms, chosen by n; n is also .N in the text.
func (p *Printer) N(key string, n int, data ...any) string {
	return p.localize(key, n, append(data, "N", n))
}

func (p *Printer) localize(key string, count any, data []any) string {
	td := map[string]any{}
	for i := 0; i+1 < len(data); i += 2 {
		td[fmt.Sprint(data[i])] = data[i+1]
	}
	s, err := p.loc.Localize(&goi18n.LocalizeConfig{MessageID: key, TemplateData: td, PluralCount: count})
	if err != nil {
		return key
	}
	return s
}

// Day formats the local day of t in few characters, for a button: "Tue 8 Dec" /
// "вт, 8 дек.".
func (p *Printer) Day(t time.Time) string {
	l := t.In(p.zone)
	return p.T("fmt.day", "Weekday", p.T(fmt.Sprintf("weekday.%d", int(l.Weekday()))),
		"Day", l.Day(), "Month", p.T(fmt.Sprintf("month.%d", int(l.Month()))))
}

// Date formats a calendar day as Day does.
func (p *Printer) Date(d core.Date) string { return p.Day(p.noon(d)) }

// DateLong formats a calendar day as DayLong does: "Tuesday, 8 December".
func (p *Printer) DateLong(d core.Date) string { return p.DayLong(p.noon(d)) }

// DateOn formats a calendar day as DayOn does: "on Tuesday, 8 December" / "на
// вторник, 8 декабря".
func (p *Printer) DateOn(d core.Date) string { return p.DayOn(p.noon(d)) }

// DateAt names a calendar day as the time something happens: "on Tuesday,
// 8 December" / "во вторник, 8 декабря".
func (p *Printer) DateAt(d core.Date) string {
	return p.T("fmt.day_at", "Weekday", p.T(fmt.Sprintf("weekday.on.%d", int(d.Weekday()))),
		"Day", d.Day, "Month", p.T(fmt.Sprintf("month_long.%d", int(d.Month))))
}

func (p *Printer) noon(d core.Date) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, p.zone)
}

// Time formats the local wall-clock time of t: "10:00".
func (p *Printer) Time(t time.Time) string { return t.In(p.zone).Format("15:04") }

// DayTime formats a start in full for a sentence: "Tuesday, 8 December at
// 10:00" / "вторник, 8 декабря, в 10:00".
func (p *Printer) DayTime(t time.Time) string {
	return p.T("fmt.day_time", "Day", p.DayLong(t), "Time", p.Time(t))
}

// DayTimeOn is DayTime after "on" / "на": "on Tuesday, 8 December at 10:00" /
// "на вторник, 8 декабря, в 10:00".
func (p *Printer) DayTimeOn(t time.Time) string {
	return p.T("fmt.day_time", "Day", p.DayOn(t), "Time", p.Time(t))
}

// Short formats a start in few characters for a button: "8 Dec 10:00" /
// "8 дек. 10:00".
func (p *Printer) Short(t time.Time) string {
	l := t.In(p.zone)
	return p.T("fmt.short", "Day", l.Day(), "Month", p.T(fmt.Sprintf("month.%d", int(l.Month()))), "Time", p.Time(t))
}

// LanguageName is the language's name in itself: "English", "Русский".
func (p *Printer) LanguageName() string { return p.T("language.name") }
