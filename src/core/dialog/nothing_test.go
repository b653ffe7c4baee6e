package dialog_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
)

// annaOffWednesdays: Anna (the only one doing manicures) does not work on
// Wednesdays and is off on Friday 5 March.
func annaOffWednesdays(s *postgres.SalonSetup) {
	s.Masters[0].Hours[time.Wednesday] = nil
	s.Masters[0].DaysOff = []core.Date{{Year: 2027, Month: 3, Day: 5}}
}

// TestNothingFreeSaysWhy: a day with no free time is never a dead end: the
// answer says why as a receptionist would and offers the nearest day's times;
// "Notify me" only where the day is a working day that is full.
func TestNothingFreeSaysWhy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		now     time.Time // zero: Monday 1 March 2027, 08:00 in Berlin
		lang    string
		script  []string
		want    []string // in the last replies' text, in order
		choices []string // among the last replies' choice labels
		not     []string // not among them
		day     string   // the flow's day after it, if set
	}{
		{name: "MasterDoesNotWorkThatWeekday", script: []string{"text: manicure the day after tomorrow"},
			want:    []string{"Anna doesn't work on Wednesdays. The nearest free times are on Thursday, 4 March:"},
			choices: []string{"10:00", "Another day"}, not: []string{"Notify me"}, day: "2027-03-04"},
		{name: "MasterDoesNotWorkThatWeekdayRu", lang: "ru", script: []string{"text: маникюр послезавтра"},
			want:    []string{"Анна не работает по средам. Ближайшее свободное время — в четверг, 4 марта:"},
			choices: []string{"10:00", "Другой день"}, not: []string{"Сообщить мне"}, day: "2027-03-04"},
		{name: "DayOff", script: []string{"text: manicure on 5 March"},
			want: []string{"Anna is off on Friday, 5 March. The nearest free times are on Saturday, 6 March:"}, not: []string{"Notify me"}},
		{name: "DayOffRu", lang: "ru", script: []string{"text: маникюр 5 марта"},
			want: []string{"Анна не работает в пятницу, 5 марта. Ближайшее свободное время — в субботу, 6 марта:"}},
		{name: "SalonClosed", script: []string{"text: haircut on Sunday"},
			want: []string{"The salon is closed on Sunday, 7 March. The nearest free times are on Monday, 8 March:"}, day: "2027-03-08"},
		{name: "SalonClosedRu", lang: "ru", script: []string{"text: стрижка в воскресенье"},
			want: []string{"В воскресенье, 7 марта, салон не работает. Ближайшее свободное время — в понедельник, 8 марта:"}},
		{name: "ClosedWithATime", script: []string{"text: haircut on Sunday at 11"},
			want:    []string{"The salon is closed on Sunday, 7 March.", "Anna is free at 10:30, 11:00 and 11:30 on Monday, 8 March."},
			choices: []string{"10:30", "11:00", "11:30", "Another day"}},
		{name: "ClosedWithATimeRu", lang: "ru", script: []string{"text: стрижка в воскресенье в 11"},
			want: []string{"В воскресенье, 7 марта, салон не работает.", "В понедельник, 8 марта, Анна может принять вас в 10:30, 11:00 и 11:30."}},
		{name: "MasterWeekdayWithATime", script: []string{"text: haircut with Boris today at 2pm"},
			want: []string{"Boris doesn't work on Mondays.", "The nearest free times are tomorrow: 13:30, 14:00 and 14:30."}},
		{name: "FinishedForToday", now: time.Date(2027, 3, 1, 16, 0, 0, 0, time.UTC), script: []string{"text: haircut today"},
			want: []string{"We've finished for today. The nearest free times are tomorrow:"}},
		{name: "FinishedForTodayRu", now: time.Date(2027, 3, 1, 16, 0, 0, 0, time.UTC), lang: "ru", script: []string{"text: стрижка сегодня"},
			want: []string{"На сегодня приём уже закончился. Ближайшее свободное время — завтра:"}},
		{name: "TooSoonToday", now: time.Date(2027, 3, 1, 10, 30, 0, 0, time.UTC), script: []string{"text: manicure today"},
			want: []string{"Appointments need at least 2 hours' notice, so there's nothing left today. The nearest free times are tomorrow:"}},
		{name: "TooSoonTodayRu", now: time.Date(2027, 3, 1, 10, 30, 0, 0, time.UTC), lang: "ru", script: []string{"text: маникюр сегодня"},
			want: []string{"Записаться можно минимум за 2 часа до визита, поэтому на сегодня свободного времени уже нет. Ближайшее свободное время — завтра:"}},
		{name: "TimeBeforeOpening", script: []string{"text: manicure tomorrow at 8am"},
			want: []string{"Anna works from 10:00 to 13:00 tomorrow. The nearest free times are 10:00, 10:30 and 11:00."}},
		{name: "TimeBeforeOpeningRu", lang: "ru", script: []string{"text: маникюр завтра в 8 утра"},
			want: []string{"Завтра Анна работает с 10:00 до 13:00. Ближайшее свободное время: 10:00, 10:30 и 11:00."}},
		{name: "TimeStepOutsideHours", script: []string{"text: haircut with Boris tomorrow", "text: 8pm"},
			want: []string{"Boris works from 12:00 to 16:00 tomorrow. The nearest free times are 14:00, 14:30 and 15:00."}},
		{name: "TimeStepOutsideHoursRu", lang: "ru", script: []string{"text: стрижка у Бориса завтра", "text: 20:00"},
			want: []string{"Завтра Boris работает с 12:00 до 16:00. Ближайшее свободное время: 14:00, 14:30 и 15:00."}},
		{name: "TimeAfterClosingAnyMaster", script: []string{"text: haircut on Thursday at 19:00"},
			want: []string{"Haircut appointments are available from 10:00 to 16:00 on Thursday, 4 March. The nearest free times are 14:00 (Boris), 14:30 (Boris) and 15:00 (Boris)."}},
		{name: "HorizonEndsBeforeOpening", script: []string{"text: haircut on 31 March"},
			want: []string{"I can only book up to Tuesday, 30 March."}},
		{name: "HorizonEndsBeforeOpeningRu", lang: "ru", script: []string{"text: стрижка 31 марта"},
			want: []string{"Записаться можно не дальше чем на вторник, 30 марта."}},
		{name: "PastTheHorizon", script: []string{"text: haircut on 2 April"},
			want: []string{"I can only book up to Tuesday, 30 March."}},
		{name: "ThroughButtonsNoDeadDays", script: []string{"text: hi", "pick: Book", "pick: Manicure"},
			choices: []string{"Tue 2 Mar", "Thu 4 Mar", "Sat 6 Mar"}, not: []string{"Wed 3 Mar", "Fri 5 Mar", "Sun 7 Mar"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBundleWith(t, annaOffWednesdays)
			if !tt.now.IsZero() {
				b.clock.T = tt.now
			}
			lang := tt.lang
			if lang == "" {
				lang = "en"
			}
			c := &conv{name: "c", hint: lang}
			b.run(t, []*conv{c}, tt.script)
			var texts, labels []string
			for _, r := range c.last {
				texts = append(texts, r.Text)
				for _, ch := range r.Choices {
					labels = append(labels, ch.Label)
				}
			}
			last := strings.Join(texts, "\n\n")
			at := 0
			for _, w := range tt.want {
				i := strings.Index(last[at:], w)
				require.GreaterOrEqual(t, i, 0, "%q not in %q", w, last)
				at += i + len(w)
			}
			for _, w := range tt.choices {
				require.Contains(t, labels, w)
			}
			for _, w := range tt.not {
				require.NotContains(t, labels, w)
			}
			require.LessOrEqual(t, len(labels), 10, "a WhatsApp list's ten")
			if tt.day != "" {
				require.Equal(t, tt.day, b.state(t, pgtest.Pool(t), "c").Day)
			}
		})
	}
}

// TestNothingFreeTranscripts: the answers of a day with nothing free, in
// both languages, typed and through the buttons, to a booking.
func TestNothingFreeTranscripts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		convs  []*conv
		script []string
	}{
		{
			name:  "nothing_free_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: []string{
				"text: manicure the day after tomorrow", "text: haircut on Sunday at 11", "text: haircut with Boris on Monday",
				"text: manicure tomorrow at 8am", "pick: 10:30", "text: Olga", "text: +49 151 23456789", "pick: Confirm",
			},
		},
		{
			name:  "nothing_free_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}},
			script: []string{
				"text: маникюр послезавтра", "text: стрижка в воскресенье в 11", "text: стрижка у Бориса в понедельник",
				"text: маникюр завтра в 8 утра", "pick: 10:30", "text: Иван", "text: +7 912 345 67 89", "pick: Подтвердить",
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := newBundleWith(t, annaOffWednesdays)
			golden(t, c.name, b.run(t, c.convs, c.script))
			require.Equal(t, 1, b.confirmed(t))
		})
	}
}
