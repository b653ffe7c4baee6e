package dialog_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/dialog"
)

func hours(from, to int) []core.ClockRange {
	return []core.ClockRange{{Start: core.ClockTime(from * 60), End: core.ClockTime(to * 60)}}
}

// borisLate: Boris is off on Wednesdays and works until 20:00 on Fridays
// (and Anna as annaOffWednesdays).
func borisLate(s *postgres.SalonSetup) {
	annaOffWednesdays(s)
	s.Masters[1].Hours[time.Wednesday] = nil
	s.Masters[1].Hours[time.Friday] = hours(12, 20)
}

// borisNight: as borisLate, but Boris's Friday runs 20:00–02:00.
func borisNight(s *postgres.SalonSetup) {
	borisLate(s)
	s.Masters[1].Hours[time.Friday] = []core.ClockRange{{Start: 20 * 60, End: 2 * 60}}
}

// annaMornings: Anna works only until noon on Mondays, Tuesdays and
// Thursdays (and as annaOffWednesdays).
func annaMornings(s *postgres.SalonSetup) {
	annaOffWednesdays(s)
	for _, wd := range []time.Weekday{time.Monday, time.Tuesday, time.Thursday} {
		s.Masters[0].Hours[wd] = hours(9, 12)
	}
}

// TestPartOfTheDayIsHonoured: a part of the day asked ("tomorrow evening",
// "в пятницу после обеда") is kept when the day asked has nothing free: the
// nearest day offered is the nearest with free times in that part, its
// times shown from the first in it; with no such day near, the nearest free
// times, saying plainly there is nothing in that part. On a day that works,
// its times in that part come first, whoever chose the day.
func TestPartOfTheDayIsHonoured(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		edit   func(*postgres.SalonSetup)
		now    time.Time // zero: Monday 1 March 2027, 08:00 in Berlin
		fill   bool      // Anna's Tuesday fully booked
		script []string
		want   []string // in the last replies' text, in order
		times  []string // the last replies' first choices, in order
		day    string   // the flow's day after it
	}{
		{name: "DayOffEvening", edit: borisLate, script: []string{"text: can I get a haircut on Wednesday evening with Boris?"},
			want:  []string{"Boris doesn't work on Wednesdays. The nearest free times in the evening are on Friday, 5 March:"},
			times: []string{"Earlier", "17:00", "17:30", "18:00", "18:30", "19:00"}, day: "2027-03-05"},
		{name: "DayOffEveningRu", edit: borisLate, script: []string{"text: можно стрижку в среду вечером у Бориса?"},
			want:  []string{"Boris не работает по средам. Ближайшее свободное время вечером — в пятницу, 5 марта:"},
			times: []string{"Раньше", "17:00", "17:30", "18:00", "18:30", "19:00"}, day: "2027-03-05"},
		{name: "DayOffAfternoon", edit: annaMornings, script: []string{"text: manicure on Wednesday afternoon"},
			want:  []string{"Anna doesn't work on Wednesdays. The nearest free times in the afternoon are on Saturday, 6 March:"},
			times: []string{"Earlier", "12:00", "Another day"}, day: "2027-03-06"},
		{name: "DayOffAfternoonRu", edit: annaMornings, script: []string{"text: хочу на маникюр в среду после обеда"},
			want:  []string{"Анна не работает по средам. Ближайшее свободное время днём — в субботу, 6 марта:"},
			times: []string{"Раньше", "12:00", "Другой день"}, day: "2027-03-06"},
		{name: "DateOff", edit: annaMornings, script: []string{"text: manicure on 5 March in the afternoon"},
			want:  []string{"Anna is off on Friday, 5 March. The nearest free times in the afternoon are on Saturday, 6 March:"},
			times: []string{"Earlier", "12:00"}, day: "2027-03-06"},
		{name: "DateOffRu", edit: annaMornings, script: []string{"text: маникюр 5 марта днём"},
			want:  []string{"Анна не работает в пятницу, 5 марта. Ближайшее свободное время днём — в субботу, 6 марта:"},
			times: []string{"Раньше", "12:00"}, day: "2027-03-06"},
		{name: "NoneInThatPart", edit: annaOffWednesdays, script: []string{"text: manicure on Wednesday evening"},
			want: []string{"Anna doesn't work on Wednesdays. There's no free time in the evening in the coming days. " +
				"The nearest free times are on Thursday, 4 March:"},
			times: []string{"10:00", "10:30", "11:00", "11:30", "12:00"}, day: "2027-03-04"},
		{name: "NoneInThatPartRu", edit: annaOffWednesdays, script: []string{"text: маникюр в среду вечером"},
			want: []string{"Анна не работает по средам. Вечером в ближайшие дни свободного времени нет. " +
				"Ближайшее свободное время — в четверг, 4 марта:"},
			times: []string{"10:00", "10:30", "11:00", "11:30", "12:00"}, day: "2027-03-04"},
		{name: "AfterATime", edit: borisLate, script: []string{"text: haircut with Boris on Wednesday after 6pm"},
			want:  []string{"The nearest free times after 18:00 are on Friday, 5 March:"},
			times: []string{"Earlier", "18:00", "18:30", "19:00"}, day: "2027-03-05"},
		{name: "FullyBooked", fill: true, script: []string{"text: manicure tomorrow afternoon"},
			want: []string{"Anna is fully booked tomorrow. If tomorrow suits you best, I can let you know when a time frees up. " +
				"The nearest free times in the afternoon are on Wednesday, 3 March:"},
			times: []string{"Earlier", "12:00", "Notify me: 2 Mar"}, day: "2027-03-03"},
		{name: "FullyBookedRu", fill: true, script: []string{"text: маникюр завтра днём"},
			want:  []string{"Ближайшее свободное время днём — в среду, 3 марта:"},
			times: []string{"Раньше", "12:00", "Сообщить: 2 мар."}, day: "2027-03-03"},
		{name: "SalonClosed", edit: borisLate, script: []string{"text: haircut on Sunday evening"},
			want:  []string{"The salon is closed on Sunday, 7 March. The nearest free times in the evening are on Friday, 5 March:"},
			times: []string{"Earlier", "17:00"}, day: "2027-03-05"},
		{name: "SalonClosedRu", edit: borisLate, script: []string{"text: стрижка в воскресенье вечером"},
			want:  []string{"В воскресенье, 7 марта, салон не работает. Ближайшее свободное время вечером — в пятницу, 5 марта:"},
			times: []string{"Раньше", "17:00"}, day: "2027-03-05"},
		{name: "FinishedForToday", edit: func(s *postgres.SalonSetup) { s.Masters[1].Hours[time.Thursday] = hours(12, 20) },
			now: time.Date(2027, 3, 1, 16, 0, 0, 0, time.UTC), script: []string{"text: haircut today in the evening"},
			want:  []string{"We've finished for today. The nearest free times in the evening are on Thursday, 4 March:"},
			times: []string{"Earlier", "17:00"}, day: "2027-03-04"},
		{name: "TooSoonTodayRu", now: time.Date(2027, 3, 1, 10, 30, 0, 0, time.UTC), script: []string{"text: маникюр сегодня вечером"},
			want:  []string{"поэтому на сегодня свободного времени уже нет. Вечером в ближайшие дни свободного времени нет. Ближайшее свободное время — завтра:"},
			times: []string{"10:00"}, day: "2027-03-02"},
		{name: "DayWorks", edit: borisLate, script: []string{"text: haircut with Boris on Friday evening"},
			want:  []string{"Free times on Friday, 5 March:"},
			times: []string{"Earlier", "17:00", "17:30", "18:00", "18:30", "19:00"}, day: "2027-03-05"},
		{name: "DayWorksRu", edit: borisLate, script: []string{"text: стрижка у Бориса в пятницу вечером"},
			times: []string{"Раньше", "17:00", "17:30", "18:00", "18:30", "19:00"}, day: "2027-03-05"},
		{name: "DayWorksEarlier", edit: borisLate, script: []string{"text: haircut with Boris on Friday evening", "pick: Earlier"},
			times: []string{"Earlier", "14:00", "14:30", "15:00", "15:30", "16:00", "16:30", "Later"}},
		{name: "DayWorksEarliest", edit: borisLate, script: []string{"text: haircut with Boris on Friday evening", "pick: Earlier", "pick: Earlier"},
			times: []string{"12:00", "12:30", "13:00", "13:30", "Later"}},
		{name: "DayWorksBackLater", edit: borisLate, script: []string{"text: haircut with Boris on Friday evening", "pick: Earlier", "text: later"},
			times: []string{"Earlier", "17:00", "17:30"}},
		{name: "DayChosenAfter", edit: borisLate, script: []string{"text: haircut with Boris in the evening", "pick: Fri 5 Mar"},
			want:  []string{"Free times on Friday, 5 March:"},
			times: []string{"Earlier", "17:00", "17:30"}, day: "2027-03-05"},
		{
			// Berlin springs forward on Sunday 28 March: the evening of the
			// Tuesday after is 17:00 on its own clock (15:00 UTC, not 16:00).
			name: "AcrossTheClockChange", now: time.Date(2027, 3, 27, 7, 0, 0, 0, time.UTC),
			edit: func(s *postgres.SalonSetup) {
				s.Masters[1].Hours[time.Monday] = hours(12, 16)
				s.Masters[1].Hours[time.Tuesday] = hours(12, 20)
			},
			script: []string{"text: haircut with Boris on Sunday evening"},
			want:   []string{"Boris doesn't work on Sundays. The nearest free times in the evening are on Tuesday, 30 March:"},
			times:  []string{"Earlier", "17:00", "17:30", "18:00", "18:30", "19:00"}, day: "2027-03-30",
		},
		{
			// Boris's Saturday runs past midnight: its evening is the
			// Saturday's, from 20:00; the night after belongs to it.
			name: "NightShift",
			edit: func(s *postgres.SalonSetup) {
				s.Masters[1].Hours[time.Friday] = nil
				s.Masters[1].Hours[time.Saturday] = []core.ClockRange{{Start: 20 * 60, End: 2 * 60}}
			},
			script: []string{"text: haircut with Boris on Friday after 11pm"},
			want:   []string{"Boris doesn't work on Fridays. The nearest free times after 23:00 are on Saturday, 6 March:"},
			times:  []string{"Earlier", "23:00", "23:30", "Another day"}, day: "2027-03-06",
		},
		{
			// Thursday has times, none in the evening: the nearest evening
			// (Friday), Thursday's times a button away.
			name: "DayHasNoneInPart", edit: borisLate, script: []string{"text: haircut with Boris on Thursday evening"},
			want: []string{"On Thursday, 4 March, there's no free time in the evening. " +
				"The nearest free times in the evening are on Friday, 5 March:"},
			times: []string{"Earlier", "17:00", "17:30", "18:00", "18:30", "19:00", "Times on Thu 4 Mar"}, day: "2027-03-05",
		},
		{
			name: "DayHasNoneInPartRu", edit: borisLate, script: []string{"text: стрижка у Бориса в четверг вечером"},
			want: []string{"В четверг, 4 марта, вечером свободного времени нет. " +
				"Ближайшее свободное время вечером — в пятницу, 5 марта:"},
			times: []string{"Раньше", "17:00", "17:30", "18:00", "18:30", "19:00", "Время: чт, 4 мар."}, day: "2027-03-05",
		},
		{
			// Paged on the nearest day: the day asked stays a button away
			// (in Later's place, as on the first page; "later" typed pages).
			name: "DayHasNoneInPartPaged", edit: borisLate,
			script: []string{"text: haircut with Boris on Thursday evening", "pick: Earlier"},
			want:   []string{"Free times on Friday, 5 March:"},
			times:  []string{"Earlier", "14:00", "14:30", "15:00", "15:30", "16:00", "16:30", "Times on Thu 4 Mar"}, day: "2027-03-05",
		},
		{
			name: "DayHasNoneInPartPagedBack", edit: borisLate,
			script: []string{"text: haircut with Boris on Thursday evening", "pick: Earlier", "pick: Earlier", "text: later",
				"pick: Times on Thu 4 Mar"},
			want:  []string{"Free times on Thursday, 4 March:"},
			times: []string{"12:00", "12:30"}, day: "2027-03-04",
		},
		{
			name: "DayHasNoneInPartBack", edit: borisLate,
			script: []string{"text: haircut with Boris on Thursday evening", "pick: Times on Thu 4 Mar"},
			want:   []string{"Free times on Thursday, 4 March:"},
			times:  []string{"12:00", "12:30"}, day: "2027-03-04",
		},
		{
			// A day chosen after the evening was shown (Another day): its
			// times, saying there are none in the evening.
			name: "AnotherDayKeepsPart", edit: borisLate,
			script: []string{"text: haircut with Boris on Friday evening", "pick: Another day", "pick: Thu 4 Mar"},
			want:   []string{"There's no free time at that time of day. Here is what there is:\n\nFree times on Thursday, 4 March:"},
			times:  []string{"12:00", "12:30"}, day: "2027-03-04",
		},
		{
			name: "AnotherDayTypedRu", edit: borisLate,
			script: []string{"text: стрижка у Бориса в пятницу вечером", "text: а в четверг?"},
			want:   []string{"В эту часть дня свободных окон нет. Вот что есть:\n\nСвободное время на четверг, 4 марта:"},
			times:  []string{"12:00", "12:30"}, day: "2027-03-04",
		},
		{
			// Boris's Friday runs until 02:00: the night after it is
			// Friday's, not Saturday's morning ("before noon").
			name: "NightIsNotMorning", edit: borisNight,
			script: []string{"text: haircut with Boris on Wednesday morning"},
			want: []string{"Boris doesn't work on Wednesdays. There's no free time in the morning in the coming days. " +
				"The nearest free times are on Thursday, 4 March:"},
			times: []string{"12:00"}, day: "2027-03-04",
		},
		{
			name: "NightIsNotMorningRu", edit: borisNight,
			script: []string{"text: стрижка у Бориса в среду утром"},
			want: []string{"Boris не работает по средам. Утром в ближайшие дни свободного времени нет. " +
				"Ближайшее свободное время — в четверг, 4 марта:"},
			times: []string{"12:00"}, day: "2027-03-04",
		},
		{
			// Saturday also has a morning: its list begins there, not at
			// the night's 00:00.
			name: "MorningAfterANight", edit: func(s *postgres.SalonSetup) {
				borisNight(s)
				s.Masters[1].Hours[time.Saturday] = hours(9, 12)
			},
			script: []string{"text: haircut with Boris on Wednesday morning"},
			want:   []string{"The nearest free times in the morning are on Saturday, 6 March:"},
			times:  []string{"Earlier", "09:00", "09:30", "10:00"}, day: "2027-03-06",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			edit := tt.edit
			if edit == nil {
				edit = func(*postgres.SalonSetup) {}
			}
			b := newBundleWith(t, edit)
			if !tt.now.IsZero() {
				b.clock.T = tt.now
			}
			if tt.fill {
				fillTuesday(t, b)
			}
			hint := "en"
			if strings.HasSuffix(tt.name, "Ru") {
				hint = "ru"
			}
			c := &conv{name: "c", hint: hint}
			b.run(t, []*conv{c}, tt.script)
			text := lastText(c)
			at := 0
			for _, w := range tt.want {
				i := strings.Index(text[at:], w)
				require.GreaterOrEqual(t, i, 0, "%q not in %q", w, text)
				at += i + len(w)
			}
			labels := lastLabels(c)
			require.GreaterOrEqual(t, len(labels), len(tt.times), "%v", labels)
			require.Equal(t, tt.times, labels[:len(tt.times)])
			require.LessOrEqual(t, len(labels), 10, "a WhatsApp list's ten")
			if tt.day != "" {
				require.Equal(t, tt.day, b.state(t, pgtest.Pool(t), "c").Day)
			}
		})
	}
}

// TestPartOfTheDayTranscripts: a part of the day asked on a day the master
// does not work, in both languages, to a booking: the nearest day with free
// times in it, those first, Earlier and Later around them.
func TestPartOfTheDayTranscripts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		edit   func(*postgres.SalonSetup)
		convs  []*conv
		script []string
	}{
		{
			name: "daypart_en", edit: borisLate,
			convs: []*conv{{name: "olga", hint: "en"}},
			script: []string{
				"text: can I get a haircut on Wednesday evening with Boris?", "pick: Earlier", "pick: Later", "pick: 18:00",
				"text: Olga", "text: +49 151 23456789", "pick: Confirm",
			},
		},
		{
			name: "daypart_ru", edit: annaMornings,
			convs: []*conv{{name: "ivan", hint: "ru"}},
			script: []string{
				"text: хочу на маникюр в среду после обеда", "pick: Раньше", "pick: Позже", "pick: 12:00",
				"text: Иван", "text: +7 912 345 67 89", "pick: Подтвердить",
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := newBundleWith(t, c.edit)
			golden(t, c.name, b.run(t, c.convs, c.script))
			require.Equal(t, 1, b.confirmed(t))
		})
	}
}

// TestForgedAllDay: a "Times on <day>" press (ad:) that was not offered
// (garbage, a day not shown, a day past the booking horizon) is asked again
// with hint.pick; the flow's day and part of the day are kept, and so is
// the day asked's button.
func TestForgedAllDay(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"ad:garbage", "ad:", "ad:2027-03-09", "ad:2028-03-04", "ad:2027-02-28"} {
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			b := newBundleWith(t, borisLate)
			c := &conv{name: "c", hint: "en"}
			b.run(t, []*conv{c}, []string{"text: haircut with Boris on Thursday evening"})
			r := b.send(t, c, dialog.Inbound{Kind: dialog.KindChoice, Choice: id})
			require.True(t, strings.HasPrefix(r[0].Text, "Please pick one of the options below"), r[0].Text)
			st := b.state(t, pgtest.Pool(t), "c")
			require.Equal(t, "time", st.Step)
			require.Equal(t, "2027-03-05", st.Day)
			require.Equal(t, "17:00-24:00", st.Period)
			require.Contains(t, lastLabels(c), "Times on Thu 4 Mar")
			require.Equal(t, "17:00", lastLabels(c)[1])
		})
	}
}
