package desk_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/web/desk"
	"salonbook/src/core"
)

// TestBlockSpanOnClockChanges: the block form's wall-clock times in the
// salon's zone (Europe/Berlin) to instants: a night over midnight, an end of
// 24:00 (or 00:00), the spring change (2027-03-28: 02:00 to 03:00 skipped, a
// time in it refused, naming the jump) and the autumn one (2027-10-31: 02:00
// to 03:00 shown twice, a start or an end there refused as ambiguous, a block
// through it taking both).
func TestBlockSpanOnClockChanges(t *testing.T) {
	t.Parallel()
	utc := func(mo time.Month, d, h, mi int) time.Time { return time.Date(2027, mo, d, h, mi, 0, 0, time.UTC) }
	for _, c := range []struct {
		name       string
		day        core.Date
		from, to   string
		start, end time.Time
		refusal    string
	}{
		{"an hour", core.Date{Year: 2027, Month: 3, Day: 2}, "12:00", "13:00", utc(3, 2, 11, 0), utc(3, 2, 12, 0), ""},
		{"over midnight", core.Date{Year: 2027, Month: 3, Day: 2}, "23:00", "01:00", utc(3, 2, 22, 0), utc(3, 3, 0, 0), ""},
		{"to 24:00", core.Date{Year: 2027, Month: 3, Day: 2}, "22:00", "24:00", utc(3, 2, 21, 0), utc(3, 2, 23, 0), ""},
		{"to 00:00 is 24:00", core.Date{Year: 2027, Month: 3, Day: 2}, "22:00", "00:00", utc(3, 2, 21, 0), utc(3, 2, 23, 0), ""},
		{"summer time, to 24:00", core.Date{Year: 2027, Month: 7, Day: 1}, "20:00", "24:00", utc(7, 1, 18, 0), utc(7, 1, 22, 0), ""},

		{"spring: through the gap, one real hour", core.Date{Year: 2027, Month: 3, Day: 28}, "01:00", "03:00", utc(3, 28, 0, 0), utc(3, 28, 1, 0), ""},
		{"spring: a night over the gap", core.Date{Year: 2027, Month: 3, Day: 27}, "23:00", "04:00", utc(3, 27, 22, 0), utc(3, 28, 2, 0), ""},
		{"spring: from in the gap", core.Date{Year: 2027, Month: 3, Day: 28}, "02:30", "04:00", time.Time{}, time.Time{},
			"02:30 does not exist on Sun 28 Mar 2027: the clocks go forward from 02:00 to 03:00. Choose a time outside it."},
		{"spring: to at the gap's start", core.Date{Year: 2027, Month: 3, Day: 28}, "01:00", "02:00", time.Time{}, time.Time{},
			"02:00 does not exist on Sun 28 Mar 2027: the clocks go forward from 02:00 to 03:00. Choose a time outside it."},
		{"spring: a night ending in the gap", core.Date{Year: 2027, Month: 3, Day: 27}, "23:00", "02:59", time.Time{}, time.Time{},
			"02:59 does not exist on Sun 28 Mar 2027: the clocks go forward from 02:00 to 03:00. Choose a time outside it."},

		{"autumn: through the repeated hour, both", core.Date{Year: 2027, Month: 10, Day: 31}, "01:00", "03:00", utc(10, 30, 23, 0), utc(10, 31, 2, 0), ""},
		{"autumn: just before it", core.Date{Year: 2027, Month: 10, Day: 31}, "01:00", "01:59", utc(10, 30, 23, 0), utc(10, 30, 23, 59), ""},
		{"autumn: after it", core.Date{Year: 2027, Month: 10, Day: 31}, "03:00", "04:00", utc(10, 31, 2, 0), utc(10, 31, 3, 0), ""},
		{"autumn: an end in it", core.Date{Year: 2027, Month: 10, Day: 31}, "01:00", "02:30", time.Time{}, time.Time{},
			"02:30 happens twice on the night of Sun 31 Oct 2027: the clocks go back then. Choose a start and an end outside the repeated times (a block may run through them)."},
		{"autumn: a start in it", core.Date{Year: 2027, Month: 10, Day: 31}, "02:00", "03:30", time.Time{}, time.Time{},
			"02:00 happens twice on the night of Sun 31 Oct 2027: the clocks go back then. Choose a start and an end outside the repeated times (a block may run through them)."},
		{"autumn: a night ending in it", core.Date{Year: 2027, Month: 10, Day: 30}, "22:00", "02:59", time.Time{}, time.Time{},
			"02:59 happens twice on the night of Sun 31 Oct 2027: the clocks go back then. Choose a start and an end outside the repeated times (a block may run through them)."},
	} {
		t.Run(c.name, func(t *testing.T) {
			from, err := core.ParseClock(c.from)
			require.NoError(t, err)
			to, err := core.ParseClock(c.to)
			require.NoError(t, err)
			start, end, msg := desk.BlockSpan(c.day, from, to, pgtest.Berlin)
			require.Equal(t, c.refusal, msg)
			if c.refusal == "" {
				require.Equal(t, c.start, start, "start")
				require.Equal(t, c.end, end, "end")
			}
		})
	}
}

// TestDeskBlockFormOnClockChanges: the form answers the clock changes as
// BlockSpan does: an ambiguous autumn end is refused with the form kept, a
// skipped spring time named, and a block through the repeated hour stored
// with both of its occurrences.
func TestDeskBlockFormOnClockChanges(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	owner := b.browser(t)
	owner.login("olga")
	page := owner.get("/admin/block?date=2027-10-31")
	form := url.Values{"csrf": {owner.csrf(page)}, "key": {owner.key(page)}, "master": {"anna"}, "date": {"2027-10-31"},
		"from": {"01:00"}, "to": {"02:30"}, "note": {"Night shift break"}}
	a := owner.post("/admin/block", form)
	require.Equal(t, http.StatusBadRequest, a.status)
	require.Contains(t, a.body, "02:30 happens twice on the night of Sun 31 Oct 2027")
	require.Contains(t, a.body, `value="Night shift break"`, "the form keeps what was typed")

	form.Set("date", "2027-03-28")
	form.Set("from", "02:30")
	form.Set("to", "04:00")
	a = owner.post("/admin/block", form)
	require.Equal(t, http.StatusBadRequest, a.status)
	require.Contains(t, a.body, "02:30 does not exist on Sun 28 Mar 2027: the clocks go forward from 02:00 to 03:00.")

	form.Set("date", "2027-10-31")
	form.Set("from", "01:00")
	form.Set("to", "03:00")
	blk := b.get(t, changedTo(t, owner.post("/admin/block", form), "blocked"))
	require.Equal(t, time.Date(2027, 10, 30, 23, 0, 0, 0, time.UTC), blk.Start)
	require.Equal(t, time.Date(2027, 10, 31, 2, 0, 0, 0, time.UTC), blk.End, "three real hours: the repeated one too")
}
