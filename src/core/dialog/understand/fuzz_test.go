package understand_test

import (
	"slices"
	"testing"
	"time"

	"salonbook/src/core/dialog/understand"
)

// FuzzParse: no message makes the parser panic, and what it returns is well
// formed: ids from the catalog, real dates, times of day within a day.
// Seeds: testdata/fuzz/FuzzParse, and f.Add below.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"стрижку к Анне завтра в 5 вечера", "haircut with Anna tomorrow at 5", "12.12", "17.30",
		"в полшестого", "без четверти шесть", "Dec 12th, 2027", "29.02", "через 400 дней", "at 99:99", "1.2.3.4.5",
		"пол-", "half past", "quarter to", "в", "12-го", "a.m.p.m.", "٥pm", "５時", "\x00\xff", "any time any master"} {
		f.Add(s, uint8(0), false)
	}
	ids := func(es []understand.Entry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.ID)
		}
		return append(out, understand.AnyMaster)
	}
	services, masters := ids(catalog.Services), ids(catalog.Masters)
	p := understand.New(catalog)
	f.Fuzz(func(t *testing.T, text string, hour uint8, expect bool) {
		now := monday.Add(time.Duration(hour) * 97 * time.Minute)
		r := p.Parse(text, understand.Context{Now: now, Zone: berlin, Open: open9to20, ExpectTime: expect})
		for _, id := range r.Services {
			if !slices.Contains(services, id) || id == understand.AnyMaster {
				t.Fatalf("%q: service %q not in the catalog", text, id)
			}
		}
		for _, id := range r.Masters {
			if !slices.Contains(masters, id) {
				t.Fatalf("%q: master %q not in the catalog", text, id)
			}
		}
		if r.HasDay {
			if _, err := time.Parse(time.DateOnly, r.Day.String()); err != nil {
				t.Fatalf("%q: day %v: %v", text, r.Day, err)
			}
		}
		for _, c := range r.Times {
			if c < 0 || c >= 24*60 {
				t.Fatalf("%q: time %v", text, c)
			}
		}
		if r.HasPeriod && (r.Period.Start < 0 || r.Period.End > 24*60) {
			t.Fatalf("%q: period %v", text, r.Period)
		}
		_ = understand.Reserved(text)
	})
}
