package dialog_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
)

// fillTuesday books Anna's whole Tuesday 2 March (10:00–13:00) with manicures.
func fillTuesday(t *testing.T, b *bundle) {
	t.Helper()
	for i, h := range []int{10, 11, 12} {
		_, err := b.bookings.Book(ctx, booking.BookRequest{SalonID: b.salonID, ServiceID: "manicure", MasterID: "anna",
			Start:          time.Date(2027, 3, 2, h, 0, 0, 0, pgtest.Berlin),
			Client:         core.Client{Name: "Busy", Phone: fmt.Sprintf("+4915100000%02d", i)},
			IdempotencyKey: fmt.Sprintf("fill-%d", i), Confirm: true, Source: booking.OwnerSource})
		require.NoError(t, err)
	}
}

func lastText(c *conv) string {
	var s []string
	for _, r := range c.last {
		s = append(s, r.Text)
	}
	return strings.Join(s, "\n")
}

func lastLabels(c *conv) []string {
	var s []string
	for _, r := range c.last {
		for _, ch := range r.Choices {
			s = append(s, ch.Label)
		}
	}
	return s
}

// TestWaitDayChecked: "Notify me" for another day (wd:<day>) joins only the
// day shown, and only a working day that is full; a forged or stale one
// leaves the flow as it was.
func TestWaitDayChecked(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, id string }{
		{"ClosedDay", "wd:2027-03-07"},
		{"MastersWeekdayOff", "wd:2027-03-03"},
		{"MastersDayOff", "wd:2027-03-05"},
		{"Malformed", "wd:2027-13-45"},
		{"BeyondHorizon", "wd:2099-01-01"},
		{"NeverShown", "wd:2027-03-09"},
		{"Past", "wd:2027-02-26"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBundleWith(t, annaOffWednesdays)
			fillTuesday(t, b)
			c := &conv{name: "c", hint: "en"}
			b.run(t, []*conv{c}, []string{"text: manicure tomorrow"})
			require.Contains(t, lastText(c), "fully booked tomorrow")
			before := b.state(t, pgtest.Pool(t), "c")
			b.run(t, []*conv{c}, []string{"forge: " + tt.id})
			after := b.state(t, pgtest.Pool(t), "c")
			require.NotContains(t, lastText(c), "let you know")
			require.False(t, after.Join, "not on the way to the wait-list")
			require.Equal(t, before.Day, after.Day)
			require.Equal(t, before.Step, after.Step)
		})
	}
	t.Run("TheDayShown", func(t *testing.T) {
		t.Parallel()
		b := newBundleWith(t, annaOffWednesdays)
		fillTuesday(t, b)
		c := &conv{name: "c", hint: "en"}
		b.run(t, []*conv{c}, []string{"text: manicure tomorrow", "pick: Notify me: 2 Mar"})
		st := b.state(t, pgtest.Pool(t), "c")
		require.True(t, st.Join)
		require.Equal(t, "2027-03-02", st.Day)
	})
}

// bookBoris books haircuts with Boris at the given instants.
func bookBoris(t *testing.T, b *bundle, at ...time.Time) {
	t.Helper()
	for i, s := range at {
		_, err := b.bookings.Book(ctx, booking.BookRequest{SalonID: b.salonID, ServiceID: "haircut", MasterID: "boris",
			Start: s, Client: core.Client{Name: "Busy", Phone: fmt.Sprintf("+4915100001%02d", i)},
			IdempotencyKey: fmt.Sprintf("boris-%d", i), Confirm: true, Source: booking.OwnerSource})
		require.NoError(t, err)
	}
}

// TestNightShift: a shift running past midnight is the master's hours on both
// days: the hour of the night asked is within them, the nearest times are
// looked for in that night too, and the day after is a working day.
func TestNightShift(t *testing.T) {
	t.Parallel()
	sun := func(h int) time.Time { return time.Date(2027, 3, 7, h, 0, 0, 0, pgtest.Berlin) }
	tests := []struct {
		name   string
		from   core.ClockTime
		booked []time.Time
		script []string
		want   []string
		not    []string
	}{
		{name: "TakenHourOfTheNight", from: 20 * 60, booked: []time.Time{sun(1)},
			script: []string{"text: haircut with Boris on Saturday at 1"},
			want:   []string{"00:00"}, not: []string{"Boris works", "20:00, 20:30"}},
		{name: "FullNightIsFullyBooked", from: 22 * 60, booked: []time.Time{sun(0), sun(1)},
			script: []string{"text: haircut with Boris on Sunday"},
			want:   []string{"Boris is fully booked on Sunday, 7 March."}, not: []string{"doesn't work"}},
		{name: "OpenAfterMidnight", from: 22 * 60, booked: []time.Time{sun(0), sun(1)},
			script: []string{"text: are you open on Sunday?"},
			want:   []string{"from 00:00 to 02:00"}, not: []string{"closed"}},
		{name: "OpenAfterMidnightRu", from: 22 * 60, booked: []time.Time{sun(0), sun(1)},
			script: []string{"text: вы работаете в воскресенье?"},
			want:   []string{"00:00 до 02:00"}, not: []string{"не работает"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBundleWith(t, func(s *postgres.SalonSetup) {
				s.Masters[1].Hours[time.Saturday] = []core.ClockRange{{Start: tt.from, End: 2 * 60}}
			})
			bookBoris(t, b, tt.booked...)
			hint := "en"
			if strings.HasSuffix(tt.name, "Ru") {
				hint = "ru"
			}
			c := &conv{name: "c", hint: hint}
			b.run(t, []*conv{c}, tt.script)
			text := lastText(c)
			for _, w := range tt.want {
				require.Contains(t, text, w)
			}
			for _, w := range tt.not {
				require.NotContains(t, text, w)
			}
		})
	}
}

// TestNotifyNamesTheDay: "Notify me" beside another day's times says for
// which day, in the text and on the button, asked by buttons or typed.
func TestNotifyNamesTheDay(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, lang, say, text, label string }{
		{"Day", "en", "text: manicure tomorrow", "Anna is fully booked tomorrow. If tomorrow suits you best, I can let you know when a time frees up.", "Notify me: 2 Mar"},
		{"DayRu", "ru", "text: маникюр завтра", "Если вам удобнее именно завтра, могу сообщить, когда освободится время.", "Сообщить: 2 мар."},
		{"DayAndTime", "en", "text: manicure tomorrow at 11", "Anna is fully booked tomorrow. If tomorrow suits you best, I can let you know when a time frees up.", "Notify me: 2 Mar"},
		{"DayAndTimeRu", "ru", "text: маникюр завтра в 11", "Если вам удобнее именно завтра, могу сообщить, когда освободится время.", "Сообщить: 2 мар."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t)
			fillTuesday(t, b)
			c := &conv{name: "c", hint: tt.lang}
			b.run(t, []*conv{c}, []string{tt.say})
			require.Contains(t, lastText(c), tt.text)
			require.Contains(t, lastLabels(c), tt.label)
		})
	}
}

// TestPriceQuestionHoldsNothing: a price asked with a time answers the price
// and offers the time as a button; nothing is held until it is pressed.
func TestPriceQuestionHoldsNothing(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, lang, say, want, press string
		known                        bool
	}{
		{"En", "en", "text: how much is a haircut with Anna on Thursday at 11?", "Anna is free on Thursday, 4 March at 11:00. Would you like to book it?", "pick: 11:00", false},
		{"Ru", "ru", "text: сколько стоит стрижка у Анны в четверг в 11?", "Анна может принять вас в четверг, 4 марта, в 11:00. Записать вас?", "pick: 11:00", false},
		{"Known", "en", "text: how much is a haircut with Anna on Thursday at 11?", "Anna is free on Thursday, 4 March at 11:00. Would you like to book it?", "pick: 11:00", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t)
			c := &conv{name: "c", hint: tt.lang}
			if tt.known { // name and phone known: a time taken would be held at once
				b.run(t, []*conv{c}, []string{"text: manicure tomorrow at 10", "text: Olga", "text: +49 151 23456789", "pick: Confirm"})
			}
			b.run(t, []*conv{c}, []string{tt.say})
			text := lastText(c)
			require.Contains(t, text, tt.want)
			require.NotContains(t, text, "holding")
			require.NotContains(t, text, "Держу")
			require.Empty(t, b.state(t, pgtest.Pool(t), "c").Hold, "nothing held")
			b.run(t, []*conv{c}, []string{tt.press})
			st := b.state(t, pgtest.Pool(t), "c")
			if tt.known {
				require.NotEmpty(t, st.Hold, "held once pressed")
			} else {
				require.Equal(t, "name", st.Step, "the booking goes on once pressed")
			}
			require.Equal(t, time.Date(2027, 3, 4, 11, 0, 0, 0, pgtest.Berlin).UTC(), st.Start.UTC())
		})
	}
}

// TestNoSalonPhone: a salon file without a phone gets answers that name
// none ("You can call the salon at ." was said).
func TestNoSalonPhone(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, lang, say, want string }{
		{"Phone", "en", "text: what's your phone number?", "I don't have a phone number to give you, but you can write to us right here"},
		{"PhoneRu", "ru", "text: какой у вас телефон?", "Номера телефона у меня нет, но вы можете написать нам прямо здесь"},
		{"Address", "en", "text: what's your address?", "We're at Torstraße 1, Berlin."},
		{"AddressRu", "ru", "text: где вы находитесь?", "Мы находимся по адресу: Torstraße 1, Berlin."},
		{"Late", "en", "text: I'm running late, sorry", "you can move or cancel your appointment under My bookings."},
		{"LateRu", "ru", "text: я опаздываю", "запись можно перенести или отменить в разделе «Мои записи»."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBundleWith(t, func(s *postgres.SalonSetup) { s.Salon.Phone = "" })
			c := &conv{name: "c", hint: tt.lang}
			b.run(t, []*conv{c}, []string{tt.say})
			text := lastText(c)
			require.Contains(t, text, tt.want)
			for _, bad := range []string{" .", ": .", "телефону ,", "Phone", "Телефон салона:"} {
				require.NotContains(t, text, bad)
			}
		})
	}
}

// TestNoTimeCanFreeUp: a day no time can ever free up on is not "fully
// booked" (no Notify me): a notice of days, a shift shorter than the service.
func TestNoTimeCanFreeUp(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, lang, say, want string
		edit                  func(*postgres.SalonSetup)
	}{
		{"NoticeOfDays", "en", "text: manicure tomorrow", "Appointments need at least 2 days' notice, so I can't book you in tomorrow.",
			func(s *postgres.SalonSetup) { s.Salon.Policy.MinNotice = 48 * time.Hour }},
		{"NoticeOfDaysRu", "ru", "text: маникюр завтра", "Записаться можно минимум за 2 дня до визита, поэтому завтра записаться уже не получится.",
			func(s *postgres.SalonSetup) { s.Salon.Policy.MinNotice = 48 * time.Hour }},
		{"NoticeOfHours", "en", "text: manicure tomorrow", "Appointments need at least 30 hours' notice, so I can't book you in tomorrow.",
			func(s *postgres.SalonSetup) { s.Salon.Policy.MinNotice = 30 * time.Hour }},
		{"ShiftTooShort", "en", "text: manicure on Thursday", "Manicure takes 1\u00a0h, and Anna only works from 10:00 to 10:30 on Thursday, 4 March.",
			func(s *postgres.SalonSetup) {
				s.Masters[0].Hours[time.Thursday] = []core.ClockRange{{Start: 10 * 60, End: 10*60 + 30}}
			}},
		{"ShiftTooShortRu", "ru", "text: маникюр в четверг", "Услуга «Маникюр» длится 1\u00a0ч, а Анна в четверг, 4 марта, работает только с 10:00 до 10:30.",
			func(s *postgres.SalonSetup) {
				s.Masters[0].Hours[time.Thursday] = []core.ClockRange{{Start: 10 * 60, End: 10*60 + 30}}
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBundleWith(t, tt.edit)
			c := &conv{name: "c", hint: tt.lang}
			b.run(t, []*conv{c}, []string{tt.say})
			require.Contains(t, lastText(c), tt.want)
			for _, l := range lastLabels(c) {
				require.NotContains(t, l, "Notify")
				require.NotContains(t, l, "Сообщить")
			}
		})
	}
}
