package calsync_test

import (
	"testing"
	"time"

	"pgregory.net/rapid"

	"salonbook/src/core"
	"salonbook/src/core/calsync"
)

// TestSubtractProperty checks Subtract against a model: minutes of a day marked
// busy, minus minutes marked mine.
func TestSubtractProperty(t *testing.T) {
	t.Parallel()
	day := time.Date(2027, 3, 3, 0, 0, 0, 0, time.UTC)
	ranges := func(t *rapid.T, label string) []core.TimeRange {
		n := rapid.IntRange(0, 6).Draw(t, label+"s")
		out := make([]core.TimeRange, n)
		for i := range out {
			a := rapid.IntRange(0, 200).Draw(t, label+"Start")
			l := rapid.IntRange(0, 60).Draw(t, label+"Len")
			out[i] = core.TimeRange{Start: day.Add(time.Duration(a) * time.Minute), End: day.Add(time.Duration(a+l) * time.Minute)}
		}
		return out
	}
	rapid.Check(t, func(t *rapid.T) {
		busy, mine := ranges(t, "busy"), ranges(t, "mine")
		var want [300]bool
		mark := func(rs []core.TimeRange, v bool, only bool) {
			for _, r := range rs {
				for m := r.Start; m.Before(r.End); m = m.Add(time.Minute) {
					i := int(m.Sub(day) / time.Minute)
					if !only || want[i] {
						want[i] = v
					}
				}
			}
		}
		mark(busy, true, false)
		mark(mine, false, true)
		got := calsync.Subtract(busy, mine)
		var have [300]bool
		for i, r := range got {
			if !r.End.After(r.Start) {
				t.Fatalf("empty range %v", r)
			}
			if i > 0 && !r.Start.After(got[i-1].End) {
				t.Fatalf("ranges %v and %v touch or overlap", got[i-1], r)
			}
			for m := r.Start; m.Before(r.End); m = m.Add(time.Minute) {
				have[int(m.Sub(day)/time.Minute)] = true
			}
		}
		if have != want {
			t.Fatalf("Subtract(%v, %v) = %v", busy, mine, got)
		}
	})
}
