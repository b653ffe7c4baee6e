package dialog

import (
	"testing"
	"time"

	"salonbook/src/core"
	"salonbook/src/core/booking"
)

// BenchmarkWordsCache: what reading typed text costs a step before its
// parse, with the parser and open hours built anew (cold, as every step did
// before they were kept on the Engine) and kept (warm).
func BenchmarkWordsCache(b *testing.B) {
	var hours core.WeeklyHours
	for wd := time.Monday; wd <= time.Saturday; wd++ {
		hours[wd] = []core.ClockRange{{Start: 9 * 60, End: 20 * 60}}
	}
	cat := &booking.Catalog{Salon: &core.Salon{ID: "s"}}
	for _, id := range []string{"haircut", "manicure", "colouring", "beard", "pedicure", "brows"} {
		cat.Services = append(cat.Services, core.Service{ID: id, Name: map[string]string{"en": id, "ru": id + "-ru"}, Aliases: []string{id + "x"}})
	}
	for _, name := range []string{"Anna", "Boris", "Chloe", "Daria", "Elena", "Fedor"} {
		cat.Masters = append(cat.Masters, core.Master{ID: name, Name: name, Services: []string{"haircut", "manicure"}, Hours: hours})
	}
	step := func(c *wordsCache) {
		key := catalogKey(cat)
		c.parser(cat, key)
		c.open(cat, key, "", "")
		c.open(cat, key, "haircut", "Anna")
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			step(&wordsCache{})
		}
	})
	b.Run("warm", func(b *testing.B) {
		c := &wordsCache{}
		for b.Loop() {
			step(c)
		}
	})
}
