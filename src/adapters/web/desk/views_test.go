package desk_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/web/desk"
	"salonbook/src/core"
)

var (
	sectionRE = regexp.MustCompile(`(?s)<section class="day" data-date="([0-9-]+)">(.*?)</section>`)
	rowRE     = regexp.MustCompile(`(?s)<tr><th class="hour" scope="row">([^<]+)</th>(.*?)</tr>`)
	itemRE    = regexp.MustCompile(`<span class="t">([^<]+)</span>`)
)

// day is a drawn day: its rows' labels and, by label, the bookings' times in it.
type day struct {
	title string
	rows  []string
	items map[string][]string
}

func days(t *testing.T, body string) map[string]day {
	t.Helper()
	out := map[string]day{}
	for _, s := range sectionRE.FindAllStringSubmatch(body, -1) {
		d := day{items: map[string][]string{}}
		if i := strings.Index(s[2], "<h2>"); i >= 0 {
			d.title = s[2][i+4 : i+strings.Index(s[2][i:], "</h2>")]
		}
		for _, r := range rowRE.FindAllStringSubmatch(s[2], -1) {
			d.rows = append(d.rows, r[1])
			for _, it := range itemRE.FindAllStringSubmatch(r[2], -1) {
				d.items[r[1]] = append(d.items[r[1]], it[1])
			}
		}
		out[s[1]] = d
	}
	return out
}

// TestDayViewShowsABooking: a booking made through the use cases is in the
// day view, in its master's column and its hour, with service, client,
// channel, status and (for the owner) phone; "I'll come" and cancelled too.
func TestDayViewShowsABooking(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	bk := b.book(t, "boris", "haircut", berlin(2027, 3, 2, 10, 15), "Olga Client", "+49 151 2345678")
	gone := b.book(t, "anna", "manicure", berlin(2027, 3, 2, 14, 0), "Petra Gone", "+49 151 3333333")
	_, err := b.bookings.Cancel(ctx, b.salonID, gone.ID)
	require.NoError(t, err)
	br := b.browser(t)
	br.login("olga")
	a := br.get("/admin/day?date=2027-03-02")
	require.Equal(t, http.StatusOK, a.status)
	d := days(t, a.body)["2027-03-02"]
	require.Equal(t, []string{"10:15–11:00"}, d.items["10:00"])
	require.Equal(t, []string{"14:00–15:00"}, d.items["14:00"])
	require.Regexp(t, `data-booking="`+bk.ID+`">\s*<span class="t">10:15–11:00</span> Haircut <span class="s s-confirmed">confirmed</span>\s*`+
		`<div class="m"><span class="client">Olga Client</span> · telegram · <a class="phone" href="tel:\+491512345678">`, a.body)
	require.Contains(t, a.body, `<span class="s s-cancelled">cancelled</span>`)
	// Boris's column is the second.
	require.Regexp(t, `<th class="hour" scope="row">10:00</th><td class="work"></td><td class="work"><div class="b confirmed" data-booking="`+bk.ID, a.body)

	_, err = pgtest.Pool(t).Exec(ctx, `UPDATE bookings SET coming_at = $2 WHERE booking_id = $1`, bk.ID, b.clock.T)
	require.NoError(t, err)
	a = br.get("/admin/day?date=2027-03-02")
	require.Contains(t, a.body, `<span class="s s-coming">I'll come</span>`)
	// Today is the clock's day in the salon's zone.
	require.Contains(t, br.get("/admin/day").body, `data-date="2027-03-01"`)
	require.Equal(t, http.StatusBadRequest, br.get("/admin/day?date=2027-02-30").status)
}

// allDay has every master work round the clock on Sundays, so the whole of a
// DST Sunday is drawn.
func allDay(s *postgres.SalonSetup, _ *desk.Config) {
	for i := range s.Masters {
		s.Masters[i].Hours[time.Sunday] = []core.ClockRange{{Start: 0, End: 24 * 60}}
	}
}

// TestDSTSundays: the spring Sunday has 23 rows (no 02:00), the autumn one 25
// (02:00 twice, told apart), in the day view and in the week view, and each
// booking is in the hour its instant falls in.
func TestDSTSundays(t *testing.T) {
	t.Parallel()
	b := newBundle(t, allDay)
	br := b.browser(t)
	hours := func() []string {
		var out []string
		for h := 0; h < 24; h++ {
			out = append(out, time.Date(2000, 1, 1, h, 0, 0, 0, time.UTC).Format("15:04"))
		}
		return out
	}

	// Spring: 2027-03-28, 02:00 CET → 03:00 CEST.
	b.clock.T = time.Date(2027, 3, 20, 12, 0, 0, 0, time.UTC)
	br.login("olga")
	b.book(t, "anna", "haircut", berlin(2027, 3, 28, 1, 30), "Night One", "+49 151 1000001")
	b.book(t, "anna", "manicure", berlin(2027, 3, 28, 3, 30), "Night Two", "+49 151 1000002")
	spring := hours()
	spring = append(spring[:2], spring[3:]...)
	for _, path := range []string{"/admin/day?date=2027-03-28", "/admin/week?date=2027-03-28&master=anna", "/admin/week?date=2027-03-22"} {
		page := br.get(path)
		d := days(t, page.body)["2027-03-28"]
		require.Equal(t, spring, d.rows, "%s\n%s", path, page.body)
		require.Len(t, d.rows, 23)
		require.Contains(t, d.title, "(23-hour day", path)
		require.Equal(t, []string{"01:30–03:15"}, d.items["01:00"], path) // 45 minutes across the change
		require.Equal(t, []string{"03:30–04:30"}, d.items["03:00"], path)
	}
	// The week around it: Monday to Sunday, the other days 24 hours.
	w := days(t, br.get("/admin/week?date=2027-03-28&master=anna").body)
	require.Len(t, w, 7)
	require.NotContains(t, w["2027-03-27"].title, "-hour day")

	// Autumn: 2027-10-31, 03:00 CEST → 02:00 CET.
	b.clock.T = time.Date(2027, 10, 20, 12, 0, 0, 0, time.UTC)
	br.login("olga")                                                                                              // the old session timed out
	b.book(t, "boris", "haircut", time.Date(2027, 10, 31, 0, 30, 0, 0, time.UTC), "First Two", "+49 151 1000003") // 02:30 CEST
	// The slots offer a repeated wall-clock time once; the view must still draw
	// a booking in the second 02:00 hour: moved there in SQL from 03:00 CET.
	second := b.book(t, "boris", "haircut", time.Date(2027, 10, 31, 2, 0, 0, 0, time.UTC), "Second Two", "+49 151 1000004")
	_, err := pgtest.Pool(t).Exec(ctx, `UPDATE bookings SET starts_at = starts_at - interval '30 minutes',
		ends_at = ends_at - interval '30 minutes', occupied = tstzrange(lower(occupied) - interval '30 minutes',
		upper(occupied) - interval '30 minutes') WHERE booking_id = $1`, second.ID) // 02:30 CET
	require.NoError(t, err)
	autumn := hours()
	autumn = append(autumn[:2], append([]string{"02:00 CEST", "02:00 CET"}, autumn[3:]...)...)
	for _, path := range []string{"/admin/day?date=2027-10-31", "/admin/week?date=2027-10-31&master=boris", "/admin/week?date=2027-10-25"} {
		d := days(t, br.get(path).body)["2027-10-31"]
		require.Equal(t, autumn, d.rows, path)
		require.Len(t, d.rows, 25)
		require.Contains(t, d.title, "(25-hour day", path)
		require.Equal(t, []string{"02:30–02:15"}, d.items["02:00 CEST"], path) // ends in the repeated hour
		require.Equal(t, []string{"02:30–03:15"}, d.items["02:00 CET"], path)
	}
}

// TestNightShiftIsDrawnOnItsDay: Boris's Saturday shift 20:00-02:00 and a
// booking at 01:00 on Sunday are drawn on Saturday, in rows marked "Sun";
// Sunday starts where the shift ends.
func TestNightShiftIsDrawnOnItsDay(t *testing.T) {
	t.Parallel()
	b := newBundle(t, func(s *postgres.SalonSetup, _ *desk.Config) {
		s.Masters[1].Hours[time.Saturday] = []core.ClockRange{{Start: 20 * 60, End: 2 * 60}}
		s.Masters[1].Hours[time.Sunday] = nil
	})
	b.book(t, "boris", "haircut", berlin(2027, 3, 7, 1, 0), "Late Client", "+49 151 1000005")
	br := b.browser(t)
	br.login("olga")
	sat := days(t, br.get("/admin/day?date=2027-03-06").body)["2027-03-06"]
	require.Equal(t, []string{"09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00", "17:00", "18:00",
		"19:00", "20:00", "21:00", "22:00", "23:00", "00:00 Sun", "01:00 Sun"}, sat.rows)
	require.Equal(t, []string{"01:00–01:45"}, sat.items["01:00 Sun"])
	sun := days(t, br.get("/admin/day?date=2027-03-07").body)["2027-03-07"]
	require.Equal(t, "09:00", sun.rows[0], "Sunday's rows start with its shifts; the night belongs to Saturday")
	require.Empty(t, sun.items)
	w := days(t, br.get("/admin/week?date=2027-03-07&master=boris").body)
	require.Equal(t, []string{"01:00–01:45"}, w["2027-03-06"].items["01:00 Sun"])
	require.True(t, strings.Contains(br.get("/admin/week?date=2027-03-07&master=boris").body, "No shifts and no bookings."), "Boris's Sunday")
}
