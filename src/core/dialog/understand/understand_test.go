package understand_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/core"
	"salonbook/src/core/dialog/understand"
)

var berlin = func() *time.Location {
	l, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return l
}()

// catalog: four services (one with a two-word name that shares a word with
// another) and four masters, two named in Latin letters, two in Cyrillic.
var catalog = understand.Catalog{
	Services: []understand.Entry{
		{ID: "haircut", Names: []string{"Haircut", "Стрижка", "cut", "подстричься"}},
		{ID: "manicure", Names: []string{"Manicure", "Маникюр", "nails", "ногти"}},
		{ID: "beard", Names: []string{"Beard trim", "Стрижка бороды"}},
		{ID: "colouring", Names: []string{"Colouring", "Окрашивание", "color"}},
	},
	Masters: []understand.Entry{
		{ID: "anna", Names: []string{"Anna", "Аня"}},
		{ID: "boris", Names: []string{"Boris"}},
		{ID: "maria", Names: []string{"Мария"}},
		{ID: "olga", Names: []string{"Ольга"}},
	},
}

// monday is now in the tests: Monday 1 March 2027, 08:00 in Berlin.
var monday = time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)

// open9to20 is a salon open from 09:00 to 20:00.
func open9to20(c core.ClockTime) bool { return c >= 9*60 && c < 20*60 }

func ctxAt(now time.Time) understand.Context {
	return understand.Context{Now: now, Zone: berlin, Open: open9to20}
}

func date(y int, m time.Month, d int) core.Date { return core.Date{Year: y, Month: m, Day: d} }

func clock(h, m int) core.ClockTime { return core.ClockTime(h*60 + m) }

// form is one way of saying something, and what it means.
type form struct {
	text string
	id   string         // a service or master id
	day  core.Date      // a day
	at   core.ClockTime // a time (the likeliest reading)
}

// TestFullSentences: every combination of a service, a master, a day and a
// time, each said in several ways (case forms, prepositions, abbreviations),
// in two word orders, in English and in Russian, reads as all four.
func TestFullSentences(t *testing.T) {
	t.Parallel()
	p := understand.New(catalog)
	langs := map[string]struct{ services, masters, days, times []form }{
		"en": {
			services: []form{{text: "haircut", id: "haircut"}, {text: "a haircut", id: "haircut"}, {text: "Haircuts", id: "haircut"},
				{text: "cut", id: "haircut"}, {text: "manicure", id: "manicure"}, {text: "nails", id: "manicure"},
				{text: "beard trim", id: "beard"}, {text: "colouring", id: "colouring"}, {text: "haircit", id: "haircut"}},
			masters: []form{{text: "with Anna", id: "anna"}, {text: "Anna", id: "anna"}, {text: "with anna", id: "anna"},
				{text: "with Boris", id: "boris"}, {text: "Maria", id: "maria"}, {text: "with Olga", id: "olga"}},
			days: []form{{text: "today", day: date(2027, 3, 1)}, {text: "tomorrow", day: date(2027, 3, 2)},
				{text: "on Friday", day: date(2027, 3, 5)}, {text: "fri", day: date(2027, 3, 5)},
				{text: "next Tuesday", day: date(2027, 3, 9)}, {text: "12.12", day: date(2027, 12, 12)},
				{text: "12 Dec", day: date(2027, 12, 12)}, {text: "Dec 12", day: date(2027, 12, 12)},
				{text: "on the 5th", day: date(2027, 3, 5)}, {text: "the day after tomorrow", day: date(2027, 3, 3)},
				{text: "March 20th", day: date(2027, 3, 20)}, {text: "12/25", day: date(2027, 12, 25)}},
			times: []form{{text: "at 5", at: clock(17, 0)}, {text: "5pm", at: clock(17, 0)}, {text: "at 17:00", at: clock(17, 0)},
				{text: "17.30", at: clock(17, 30)}, {text: "5:30 pm", at: clock(17, 30)}, {text: "at 10", at: clock(10, 0)},
				{text: "at 10am", at: clock(10, 0)}, {text: "half past five", at: clock(17, 30)}, {text: "at noon", at: clock(12, 0)},
				{text: "at five", at: clock(17, 0)}, {text: "11 a.m.", at: clock(11, 0)}},
		},
		"ru": {
			services: []form{{text: "стрижка", id: "haircut"}, {text: "стрижку", id: "haircut"}, {text: "на стрижку", id: "haircut"},
				{text: "подстричься", id: "haircut"}, {text: "маникюр", id: "manicure"}, {text: "на маникюр", id: "manicure"},
				{text: "ногти", id: "manicure"}, {text: "стрижку бороды", id: "beard"}, {text: "окрашивание", id: "colouring"},
				{text: "на окрашивание", id: "colouring"}, {text: "маникур", id: "manicure"}},
			masters: []form{{text: "к Анне", id: "anna"}, {text: "у Анны", id: "anna"}, {text: "с Анной", id: "anna"},
				{text: "Анна", id: "anna"}, {text: "к Ане", id: "anna"}, {text: "к Борису", id: "boris"}, {text: "у Бориса", id: "boris"},
				{text: "к Марии", id: "maria"}, {text: "Мария", id: "maria"}, {text: "к Ольге", id: "olga"}, {text: "у Олги", id: "olga"}},
			days: []form{{text: "сегодня", day: date(2027, 3, 1)}, {text: "завтра", day: date(2027, 3, 2)},
				{text: "послезавтра", day: date(2027, 3, 3)}, {text: "в пятницу", day: date(2027, 3, 5)},
				{text: "в пт", day: date(2027, 3, 5)}, {text: "в следующий вторник", day: date(2027, 3, 9)},
				{text: "12 декабря", day: date(2027, 12, 12)}, {text: "12.12", day: date(2027, 12, 12)},
				{text: "на 12.12", day: date(2027, 12, 12)}, {text: "5-го", day: date(2027, 3, 5)},
				{text: "20 марта", day: date(2027, 3, 20)}, {text: "в эту среду", day: date(2027, 3, 3)}},
			times: []form{{text: "в 5 вечера", at: clock(17, 0)}, {text: "в 17", at: clock(17, 0)}, {text: "к 17", at: clock(17, 0)},
				{text: "в 17:30", at: clock(17, 30)}, {text: "в 17.30", at: clock(17, 30)}, {text: "в полшестого", at: clock(17, 30)},
				{text: "в половине шестого", at: clock(17, 30)}, {text: "в 10 утра", at: clock(10, 0)}, {text: "к 5", at: clock(17, 0)},
				{text: "в пять вечера", at: clock(17, 0)}, {text: "в 3 часа дня", at: clock(15, 0)}, {text: "в полдень", at: clock(12, 0)},
				{text: "в 17 ч", at: clock(17, 0)}},
		},
	}
	for lang, l := range langs {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			n := 0
			for _, s := range l.services {
				for _, m := range l.masters {
					for _, d := range l.days {
						for _, tm := range l.times {
							for _, text := range []string{
								strings.Join([]string{s.text, m.text, d.text, tm.text}, " "),
								strings.Join([]string{d.text, tm.text, s.text, m.text}, " "),
							} {
								n++
								r := p.Parse(text, ctxAt(monday))
								if len(r.Services) != 1 || r.Services[0] != s.id || len(r.Masters) != 1 || r.Masters[0] != m.id ||
									!r.HasDay || r.Day != d.day || len(r.Times) == 0 || r.Times[0] != tm.at {
									t.Errorf("%q: got services %v masters %v day %v (%v) times %v; want %s, %s, %v, %v",
										text, r.Services, r.Masters, r.Day, r.HasDay, r.Times, s.id, m.id, d.day, tm.at)
								}
							}
						}
					}
				}
			}
			t.Logf("%d sentences", n)
		})
	}
}

// TestParts: each part alone, and what it is not.
func TestParts(t *testing.T) {
	t.Parallel()
	p := understand.New(catalog)
	tests := []struct {
		text  string
		now   time.Time // zero: monday
		want  understand.Request
		times bool // compare all the times, not only the first
	}{
		// Days.
		{text: "today", want: understand.Request{Day: date(2027, 3, 1), HasDay: true}},
		{text: "Monday", want: understand.Request{Day: date(2027, 3, 1), HasDay: true}},
		{text: "next Monday", want: understand.Request{Day: date(2027, 3, 8), HasDay: true}},
		{text: "в понедельник", want: understand.Request{Day: date(2027, 3, 1), HasDay: true}},
		{text: "в следующий понедельник", want: understand.Request{Day: date(2027, 3, 8), HasDay: true}},
		{text: "next Sunday", want: understand.Request{Day: date(2027, 3, 14), HasDay: true}},
		{text: "Sunday", want: understand.Request{Day: date(2027, 3, 7), HasDay: true}},
		{text: "in 3 days", want: understand.Request{Day: date(2027, 3, 4), HasDay: true}},
		{text: "через 2 дня", want: understand.Request{Day: date(2027, 3, 3), HasDay: true}},
		{text: "через неделю", want: understand.Request{Day: date(2027, 3, 8), HasDay: true}},
		{text: "in a week", want: understand.Request{Day: date(2027, 3, 8), HasDay: true}},
		{text: "2027-04-01", want: understand.Request{Day: date(2027, 4, 1), HasDay: true}},
		{text: "01.04.2027", want: understand.Request{Day: date(2027, 4, 1), HasDay: true}},
		{text: "1.4.27", want: understand.Request{Day: date(2027, 4, 1), HasDay: true}},
		{text: "12 of December", want: understand.Request{Day: date(2027, 12, 12), HasDay: true}},
		{text: "December 12th, 2028", want: understand.Request{Day: date(2028, 12, 12), HasDay: true}},
		{text: "12 дек", want: understand.Request{Day: date(2027, 12, 12), HasDay: true}},
		{text: "12-го декабря", want: understand.Request{Day: date(2027, 12, 12), HasDay: true}},
		{text: "1 мая", want: understand.Request{Day: date(2027, 5, 1), HasDay: true}},
		{text: "May 1", want: understand.Request{Day: date(2027, 5, 1), HasDay: true}},
		{text: "12 числа", want: understand.Request{Day: date(2027, 3, 12), HasDay: true}},
		{text: "31.04", want: understand.Request{}},                                            // no such day, and not a time
		{text: "32.12", want: understand.Request{}},                                            // no such day
		{text: "may I book", want: understand.Request{Intent: understand.Book, Booking: true}}, // the verb, not the month
		// A date whose day has passed this year is next year's.
		{text: "12.12", now: time.Date(2027, 12, 13, 9, 0, 0, 0, time.UTC), want: understand.Request{Day: date(2028, 12, 12), HasDay: true}},
		{text: "12/12", now: time.Date(2027, 12, 13, 9, 0, 0, 0, time.UTC), want: understand.Request{Day: date(2028, 12, 12), HasDay: true}},
		{text: "12 декабря", now: time.Date(2027, 12, 13, 9, 0, 0, 0, time.UTC), want: understand.Request{Day: date(2028, 12, 12), HasDay: true}},
		{text: "13.12", now: time.Date(2027, 12, 13, 9, 0, 0, 0, time.UTC), want: understand.Request{Day: date(2027, 12, 13), HasDay: true}},
		{text: "1 Jan", now: time.Date(2027, 12, 13, 9, 0, 0, 0, time.UTC), want: understand.Request{Day: date(2028, 1, 1), HasDay: true}},
		{text: "29.02", want: understand.Request{Day: date(2028, 2, 29), HasDay: true}},                                                    // the next leap year's
		{text: "the 1st", want: understand.Request{Day: date(2027, 3, 1), HasDay: true}},                                                   // today
		{text: "the 1st", now: time.Date(2027, 3, 2, 9, 0, 0, 0, time.UTC), want: understand.Request{Day: date(2027, 4, 1), HasDay: true}}, // passed this month: next month's
		{text: "31st", want: understand.Request{Day: date(2027, 3, 31), HasDay: true}},
		{text: "31st", now: time.Date(2027, 4, 2, 9, 0, 0, 0, time.UTC), want: understand.Request{Day: date(2027, 5, 31), HasDay: true}}, // April has 30
		// "Today" is the salon's date: at 00:30 in Berlin it is already 2 March, whatever UTC says.
		{text: "today", now: time.Date(2027, 3, 1, 23, 30, 0, 0, time.UTC), want: understand.Request{Day: date(2027, 3, 2), HasDay: true}},
		{text: "tomorrow", now: time.Date(2027, 3, 1, 23, 30, 0, 0, time.UTC), want: understand.Request{Day: date(2027, 3, 3), HasDay: true}},
		// Across the spring change (Berlin, 28 March 2027 at 02:00) days are calendar days.
		{text: "tomorrow", now: time.Date(2027, 3, 27, 23, 30, 0, 0, time.UTC), want: understand.Request{Day: date(2027, 3, 29), HasDay: true}},
		{text: "завтра в 2:30", now: time.Date(2027, 3, 27, 8, 0, 0, 0, time.UTC),
			want: understand.Request{Day: date(2027, 3, 28), HasDay: true, Times: []core.ClockTime{clock(14, 30), clock(2, 30)}}, times: true},
		{text: "в воскресенье", now: time.Date(2027, 10, 30, 8, 0, 0, 0, time.UTC), want: understand.Request{Day: date(2027, 10, 31), HasDay: true}},

		// Times.
		{text: "at 5", want: understand.Request{Times: []core.ClockTime{clock(17, 0), clock(5, 0)}}, times: true},
		{text: "at 10", want: understand.Request{Times: []core.ClockTime{clock(10, 0), clock(22, 0)}}, times: true},
		{text: "at 8", want: understand.Request{Times: []core.ClockTime{clock(8, 0), clock(20, 0)}}, times: true}, // closed at 8 and 20: the rule
		{text: "at 9", want: understand.Request{Times: []core.ClockTime{clock(9, 0), clock(21, 0)}}, times: true},
		{text: "at 12", want: understand.Request{Times: []core.ClockTime{clock(12, 0), clock(0, 0)}}, times: true},
		{text: "at 09:00", want: understand.Request{Times: []core.ClockTime{clock(9, 0)}}, times: true},
		{text: "5:30", want: understand.Request{Times: []core.ClockTime{clock(17, 30), clock(5, 30)}}, times: true},
		{text: "17:00", want: understand.Request{Times: []core.ClockTime{clock(17, 0)}}, times: true},
		{text: "at midnight", want: understand.Request{Times: []core.ClockTime{0}}, times: true},
		{text: "в полночь", want: understand.Request{Times: []core.ClockTime{0}}, times: true},
		{text: "12am", want: understand.Request{Times: []core.ClockTime{0}}, times: true},
		{text: "12pm", want: understand.Request{Times: []core.ClockTime{clock(12, 0)}}, times: true},
		{text: "00:00", want: understand.Request{Times: []core.ClockTime{0}}, times: true},
		{text: "в 0", want: understand.Request{Times: []core.ClockTime{0}}, times: true},
		{text: "в 24:00", want: understand.Request{Times: []core.ClockTime{0}}, times: true},
		{text: "at 25", want: understand.Request{}},
		{text: "в 2 ночи", want: understand.Request{Times: []core.ClockTime{clock(2, 0)}}, times: true},
		{text: "в 11 вечера", want: understand.Request{Times: []core.ClockTime{clock(23, 0)}}, times: true},
		{text: "в 12 дня", want: understand.Request{Times: []core.ClockTime{clock(12, 0)}}, times: true},
		{text: "в час дня", want: understand.Request{Times: []core.ClockTime{clock(13, 0)}}, times: true},
		{text: "без четверти шесть", want: understand.Request{Times: []core.ClockTime{clock(17, 45), clock(5, 45)}}, times: true},
		{text: "четверть шестого", want: understand.Request{Times: []core.ClockTime{clock(17, 15), clock(5, 15)}}, times: true},
		{text: "quarter to six", want: understand.Request{Times: []core.ClockTime{clock(17, 45), clock(5, 45)}}, times: true},
		{text: "quarter past 10", want: understand.Request{Times: []core.ClockTime{clock(10, 15), clock(22, 15)}}, times: true},
		{text: "half five", want: understand.Request{Times: []core.ClockTime{clock(17, 30), clock(5, 30)}}, times: true},
		{text: "пол-первого", want: understand.Request{Times: []core.ClockTime{clock(12, 30), clock(0, 30)}}, times: true},
		{text: "в 5 30", want: understand.Request{Times: []core.ClockTime{clock(17, 30), clock(5, 30)}}, times: true},
		{text: "5 o'clock", want: understand.Request{Times: []core.ClockTime{clock(17, 0), clock(5, 0)}}, times: true},
		{text: "at 5 in the morning", want: understand.Request{Times: []core.ClockTime{clock(5, 0)}}, times: true},
		{text: "tomorrow 17", want: understand.Request{Day: date(2027, 3, 2), HasDay: true, Times: []core.ClockTime{clock(17, 0)}}, times: true},
		{text: "в 10.10", want: understand.Request{Times: []core.ClockTime{clock(10, 10), clock(22, 10)}}, times: true},
		{text: "10.10", want: understand.Request{Day: date(2027, 10, 10), HasDay: true}},
		{text: "after 5pm", want: understand.Request{Period: core.ClockRange{Start: clock(17, 0), End: 24 * 60}, HasPeriod: true}},
		{text: "до 12", want: understand.Request{Period: core.ClockRange{Start: 0, End: clock(12, 0)}, HasPeriod: true}},
		{text: "tomorrow evening", want: understand.Request{Day: date(2027, 3, 2), HasDay: true, Period: core.ClockRange{Start: clock(17, 0), End: 24 * 60}, HasPeriod: true}},
		{text: "завтра утром", want: understand.Request{Day: date(2027, 3, 2), HasDay: true, Period: core.ClockRange{Start: 0, End: clock(12, 0)}, HasPeriod: true}},
		{text: "в пятницу днём", want: understand.Request{Day: date(2027, 3, 5), HasDay: true, Period: core.ClockRange{Start: clock(12, 0), End: clock(17, 0)}, HasPeriod: true}},
		{text: "good evening", want: understand.Request{}},
		{text: "добрый день", want: understand.Request{}},

		// Not times, not days.
		{text: "5", want: understand.Request{}},
		{text: "2 haircuts", want: understand.Request{Services: []string{"haircut"}}},
		{text: "+49 151 2345678", want: understand.Request{}},
		{text: "8 912 345-67-89", want: understand.Request{}},
		{text: "I'm 25", want: understand.Request{}},
		{text: "150 euros", want: understand.Request{}},
		{text: "hello", want: understand.Request{}},
		{text: "привет", want: understand.Request{}},
		{text: "", want: understand.Request{}},
		{text: "   ", want: understand.Request{}},

		// Services and masters: case forms, typos, transliteration, ambiguity.
		{text: "стрижка", want: understand.Request{Services: []string{"haircut"}}},
		{text: "стрижкой", want: understand.Request{Services: []string{"haircut"}}},
		{text: "стрижки", want: understand.Request{Services: []string{"haircut"}}},
		{text: "стрижку бороды", want: understand.Request{Services: []string{"beard"}}},
		{text: "бороды", want: understand.Request{Services: []string{"beard"}}},
		{text: "beard", want: understand.Request{Services: []string{"beard"}}},
		{text: "trim", want: understand.Request{Services: []string{"beard"}}},
		{text: "маникюра", want: understand.Request{Services: []string{"manicure"}}},
		{text: "маникюром", want: understand.Request{Services: []string{"manicure"}}},
		{text: "manicrue", want: understand.Request{Services: []string{"manicure"}}},
		{text: "окрашиванием", want: understand.Request{Services: []string{"colouring"}}},
		{text: "colour", want: understand.Request{Services: []string{"colouring"}}}, // one typo from "color"
		{text: "haircut and manicure", want: understand.Request{Services: []string{"haircut", "manicure"}}},
		{text: "Анной", want: understand.Request{Masters: []string{"anna"}}},
		{text: "Анну", want: understand.Request{Masters: []string{"anna"}}},
		{text: "Аней", want: understand.Request{Masters: []string{"anna"}}},
		{text: "Бориса", want: understand.Request{Masters: []string{"boris"}}},
		{text: "Борисом", want: understand.Request{Masters: []string{"boris"}}},
		{text: "Boirs", want: understand.Request{Masters: []string{"boris"}}},
		{text: "Марией", want: understand.Request{Masters: []string{"maria"}}},
		{text: "with Mariya", want: understand.Request{Masters: []string{"maria"}}},
		{text: "Olga", want: understand.Request{Masters: []string{"olga"}}},
		{text: "Ольгой", want: understand.Request{Masters: []string{"olga"}}},
		{text: "any master", want: understand.Request{Masters: []string{understand.AnyMaster}}},
		{text: "к любому мастеру", want: understand.Request{Masters: []string{understand.AnyMaster}}},
		{text: "без разницы", want: understand.Request{Masters: []string{understand.AnyMaster}}},
		{text: "any time tomorrow", want: understand.Request{Day: date(2027, 3, 2), HasDay: true}},
		{text: "Anastasia", want: understand.Request{}},
		{text: "Анатолий", want: understand.Request{}},
		{text: "Марина", want: understand.Request{}},
		{text: "pedicure", want: understand.Request{}},
		{text: "massage", want: understand.Request{}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()
			now := tt.now
			if now.IsZero() {
				now = monday
			}
			got := p.Parse(tt.text, ctxAt(now))
			if !tt.times && len(got.Times) > 1 {
				got.Times = got.Times[:1]
			}
			want := tt.want
			if !tt.times && len(want.Times) > 1 {
				want.Times = want.Times[:1]
			}
			require.Equal(t, want, got)
		})
	}
}

// TestIntents: the menu words and short answers, in both languages, alone
// and in a sentence.
func TestIntents(t *testing.T) {
	t.Parallel()
	p := understand.New(catalog)
	tests := map[understand.Intent][]string{
		understand.Book: {"book", "Book", "book please", "I'd like to book", "make an appointment", "записаться", "Записаться!",
			"хочу записаться", "запишите меня", "запиши", "запись", "booking"},
		understand.Mine: {"my bookings", "My bookings", "my appointments", "show my booking", "мои записи", "Мои записи",
			"моя запись", "покажи мои записи", "записи"},
		understand.Cancel: {"cancel", "Cancel my booking", "cancel the appointment", "отменить", "отмените запись",
			"отменить запись на пятницу", "отмена", "I want to cancel", "не приду"},
		understand.Move: {"reschedule", "move my booking", "перенести", "перенесите запись", "хочу перенести", "перенос",
			"postpone"},
		understand.Help: {"help", "Help!", "помощь", "помогите", "что ты умеешь", "?", "??", "what can you do"},
		understand.Menu: {"menu", "меню", "start over", "главное меню", "сначала"},
		understand.Yes:  {"yes", "Yes!", "ok", "OK", "okay", "confirm", "да", "Да.", "ага", "подтверждаю", "хорошо", "давайте", "book it"},
		understand.No:   {"no", "No.", "nope", "нет", "не надо"},
		understand.Earlier: {"earlier", "Earlier", "раньше", "пораньше", "a bit earlier please", "earlier days",
			"предыдущие дни"},
		understand.Later:       {"later", "позже", "попозже", "more times", "дальше", "later days"},
		understand.OtherDay:    {"another day", "другой день", "в другой день"},
		understand.OtherMaster: {"another master", "change master", "другой мастер", "к другому мастеру", "сменить мастера"},
		understand.Language:    {"language", "язык", "English", "in English please", "по-русски", "русский"},
		understand.Price: {"how much is a haircut", "prices", "price list", "what does it cost", "how long does it take",
			"сколько стоит стрижка", "а сколько это стоит?", "цены", "прайс", "какие услуги у вас есть", "почём маникюр"},
		understand.Address: {"where are you", "what's your address", "address", "адрес", "где вы находитесь", "как добраться"},
		understand.Hours: {"opening hours", "are you open on Sunday", "when are you open", "часы работы",
			"до скольки вы работаете", "вы работаете в воскресенье?"},
		understand.Phone: {"what's your phone number", "can I call you", "какой у вас телефон", "телефон салона"},
		understand.Late: {"I'm late", "running late, sorry", "I'll be 10 minutes late", "я опоздаю", "опаздываю на 10 минут",
			"задержусь немного", "I'm late for my booking", "опаздываю на запись"},
		understand.Thanks: {"thanks", "thank you!", "спасибо", "спасибо большое"},
	}
	for intent, list := range tests {
		for _, text := range list {
			t.Run(string(intent)+"/"+text, func(t *testing.T) {
				t.Parallel()
				got := p.Parse(text, ctxAt(monday))
				require.Equal(t, intent, got.Intent, "%+v", got)
			})
		}
	}
	// Next week is its Monday.
	require.Equal(t, date(2027, 3, 8), p.Parse("ok next week then", ctxAt(monday)).Day)
	require.Equal(t, date(2027, 3, 8), p.Parse("на следующей неделе", ctxAt(monday)).Day)
	// The weekend is its Saturday.
	require.Equal(t, date(2027, 3, 6), p.Parse("anything this weekend?", ctxAt(monday)).Day)
	require.Equal(t, date(2027, 3, 6), p.Parse("есть что-нибудь на выходных", ctxAt(monday)).Day)
	// Question words that ask no question here.
	for text, not := range map[string]understand.Intent{
		"вы работаете с гель-лаком?":             understand.Hours,
		"работаете с шеллаком?":                  understand.Hours,
		"my phone number is +49 151 23456789":    understand.Phone,
		"мой номер +49 151 23456789":             understand.Phone,
		"how long will you hold it":              understand.Price,
		"how long will you keep the time for me": understand.Price,
	} {
		require.NotEqual(t, not, p.Parse(text, ctxAt(monday)).Intent, text)
	}
	for text, is := range map[string]understand.Intent{
		"вы работаете с 9?":            understand.Hours,
		"how long does a haircut take": understand.Price,
		"how long is a manicure":       understand.Price,
		"what's your phone number":     understand.Phone,
	} {
		require.Equal(t, is, p.Parse(text, ctxAt(monday)).Intent, text)
	}
	// A weekday of next week (today Monday 1 March: 12 March).
	for _, text := range []string{"Friday next week", "next week on Friday", "next week Friday", "on Friday of next week",
		"на следующей неделе в пятницу", "в пятницу на следующей неделе", "haircut friday next week at 5"} {
		require.Equal(t, date(2027, 3, 12), p.Parse(text, ctxAt(monday)).Day, text)
	}
	// Next weekend is the next week's Saturday; this weekend said on a Sunday is today.
	require.Equal(t, date(2027, 3, 13), p.Parse("на следующих выходных", ctxAt(monday)).Day)
	require.Equal(t, date(2027, 3, 13), p.Parse("next weekend", ctxAt(monday)).Day)
	sunday := time.Date(2027, 3, 7, 9, 0, 0, 0, time.UTC)
	require.Equal(t, date(2027, 3, 7), p.Parse("anything this weekend?", ctxAt(sunday)).Day)
	require.Equal(t, date(2027, 3, 7), p.Parse("есть что-нибудь на выходных", ctxAt(sunday)).Day)
	// A language named is a language chosen.
	require.Equal(t, "en", p.Parse("English", ctxAt(monday)).Lang)
	require.Equal(t, "ru", p.Parse("по-русски", ctxAt(monday)).Lang)
	require.Equal(t, "", p.Parse("язык", ctxAt(monday)).Lang)
	// Menu words around a request keep the request.
	r := p.Parse("перенести на завтра в 5 к Борису", ctxAt(monday))
	require.Equal(t, understand.Move, r.Intent)
	require.Equal(t, date(2027, 3, 2), r.Day)
	require.Equal(t, clock(17, 0), r.Times[0])
	require.Equal(t, []string{"boris"}, r.Masters)
	r = p.Parse("book a haircut with Anna tomorrow at 5", ctxAt(monday))
	require.Equal(t, understand.Book, r.Intent)
	require.Equal(t, []string{"haircut"}, r.Services)
	r = p.Parse("записаться на стрижку", ctxAt(monday))
	require.Equal(t, understand.Book, r.Intent)
	require.Equal(t, []string{"haircut"}, r.Services)
}

// TestAmbiguousServices: a word shared by several services' names names all
// of them, unless one of them is named whole.
func TestAmbiguousServices(t *testing.T) {
	t.Parallel()
	p := understand.New(understand.Catalog{Services: []understand.Entry{
		{ID: "men", Names: []string{"Men's haircut", "Мужская стрижка"}},
		{ID: "women", Names: []string{"Women's haircut", "Женская стрижка"}},
		{ID: "kids", Names: []string{"Kids' haircut", "Детская стрижка"}},
		{ID: "beard", Names: []string{"Beard trim"}},
	}})
	for text, want := range map[string][]string{
		"haircut":            {"men", "women", "kids"},
		"стрижку":            {"men", "women", "kids"},
		"men's haircut":      {"men"},
		"mens haircut":       {"men"},
		"мужскую стрижку":    {"men"},
		"женская стрижка":    {"women"},
		"детскую стрижку":    {"kids"},
		"a haircut for kids": {"kids"},
		"trim":               {"beard"},
	} {
		require.Equal(t, want, p.Parse(text, ctxAt(monday)).Services, text)
	}
}

// TestNoOpenHours: without the salon's hours, 1 to 7 are afternoon and 8 to
// 12 morning or noon.
func TestNoOpenHours(t *testing.T) {
	t.Parallel()
	p := understand.New(catalog)
	x := understand.Context{Now: monday, Zone: berlin}
	for text, want := range map[string]core.ClockTime{"at 1": clock(13, 0), "at 7": clock(19, 0), "at 8": clock(8, 0),
		"at 11": clock(11, 0), "at 12": clock(12, 0), "в 6": clock(18, 0)} {
		require.Equal(t, want, p.Parse(text, x).Times[0], text)
	}
	// A night salon: "at 1" is 01:00 when the salon works then and not at 13:00.
	x.Open = func(c core.ClockTime) bool { return c >= 20*60 || c < 2*60 }
	require.Equal(t, []core.ClockTime{clock(1, 0), clock(13, 0)}, p.Parse("at 1", x).Times)
	require.Equal(t, []core.ClockTime{clock(22, 0), clock(10, 0)}, p.Parse("в 10", x).Times)
}

// TestExpectTime: when a time was asked for, a bare number is an hour.
func TestExpectTime(t *testing.T) {
	t.Parallel()
	p := understand.New(catalog)
	x := ctxAt(monday)
	x.ExpectTime = true
	require.Equal(t, []core.ClockTime{clock(17, 0), clock(5, 0)}, p.Parse("5", x).Times)
	require.Equal(t, []core.ClockTime{clock(11, 0), clock(23, 0)}, p.Parse("11", x).Times)
	require.Equal(t, []core.ClockTime{clock(14, 0)}, p.Parse("14", x).Times)
	require.Equal(t, []core.ClockTime{clock(9, 30), clock(21, 30)}, p.Parse("9.30", x).Times)
	require.Equal(t, []core.ClockTime{clock(12, 12), clock(0, 12)}, p.Parse("12.12", x).Times, "asked for a time, 12.12 is one")
}

// TestReserved: what cannot be an alias, and what can.
func TestReserved(t *testing.T) {
	t.Parallel()
	for _, alias := range []string{"cancel", "Friday", "завтра", "5pm", "в 5", "any master", "любой", "help", "menu",
		"12.12", "42", "", "with", "мастер", "yes", "записаться", "мои записи", "позже", "noon"} {
		require.NotEmpty(t, understand.Reserved(alias), alias)
	}
	for _, alias := range []string{"cut", "подстричься", "Аня", "nails", "ногти", "gel polish", "маникюр с покрытием",
		"Стрижка горячими ножницами", "brows", "Хлоя", "beard"} {
		require.Empty(t, understand.Reserved(alias), alias)
	}
}

func ExampleParser_Parse() {
	p := understand.New(catalog)
	r := p.Parse("стрижку к Анне завтра в 5 вечера", understand.Context{Now: monday, Zone: berlin, Open: open9to20})
	fmt.Println(r.Services, r.Masters, r.Day, r.Times)
	// Output: [haircut] [anna] 2027-03-02 [17:00]
}

// BenchmarkParse: one typed sentence against a small salon's catalog.
func BenchmarkParse(b *testing.B) {
	p := understand.New(catalog)
	x := ctxAt(monday)
	for b.Loop() {
		p.Parse("стрижку к Анне завтра в 5 вечера", x)
	}
}

// TestYesAndNo: only a yes alone is a pure yes; a negated yes-word is a no; a
// yes and a no together are neither.
func TestYesAndNo(t *testing.T) {
	t.Parallel()
	p := understand.New(catalog)
	tests := []struct {
		text   string
		intent understand.Intent
		pure   bool
	}{
		{"yes", understand.Yes, true},
		{"Yes, please!", understand.Yes, true},
		{"да, подтверждаю", understand.Yes, true},
		{"ок", understand.Yes, true},
		{"I'm not sure", understand.No, false},
		{"not sure", understand.No, true},
		{"не подтверждаю", understand.No, true},
		{"не устраивает", understand.No, true},
		{"не годится", understand.No, true},
		{"не записывайте", understand.No, true},
		{"нет, не надо", understand.No, true},
		{"да нет, не надо", understand.No, true},
		{"don't confirm", understand.No, true},
		{"yes, no", understand.None, false},
		{"no, yes", understand.No, true},
		{"ok but can we do 6 instead?", understand.Yes, false},
		{"хорошо, но лучше в 6", understand.Yes, false},
	}
	for _, tt := range tests {
		r := p.Parse(tt.text, ctxAt(monday))
		require.Equal(t, tt.intent, r.Intent, tt.text)
		require.Equal(t, tt.pure, r.Pure, tt.text)
	}
}

// TestLeftOutAndTwice: what a message leaves out ("не завтра", "кроме Анны")
// is not named; the old day of a move ("с пятницы на субботу") is not the
// day; two different days or times are neither (Unsure); a master's name that
// is a common word or a short one is not read into other words.
func TestLeftOutAndTwice(t *testing.T) {
	t.Parallel()
	c := catalog
	c.Masters = append(slices.Clone(c.Masters), understand.Entry{ID: "will", Names: []string{"Will"}},
		understand.Entry{ID: "alla", Names: []string{"Алла"}})
	p := understand.New(c)
	fri, sat, tue := date(2027, 3, 5), date(2027, 3, 6), date(2027, 3, 2)
	tests := []struct {
		text    string
		day     core.Date // zero: none
		times   []core.ClockTime
		masters []string
		unsure  bool
	}{
		{text: "не завтра, а в пятницу в 11 к Анне", day: fri, times: []core.ClockTime{clock(11, 0)}, masters: []string{"anna"}},
		{text: "not tomorrow but on Friday at 11", day: fri, times: []core.ClockTime{clock(11, 0)}},
		{text: "к любому мастеру кроме Анны", masters: []string{understand.AnyMaster}},
		{text: "any master except Boris tomorrow", day: tue, masters: []string{understand.AnyMaster}},
		{text: "перенести с пятницы на субботу", day: sat},
		{text: "move it from Friday to Saturday", day: sat},
		{text: "с понедельника", day: date(2027, 3, 1)},
		{text: "только не в 11"},
		{text: "tomorrow, not at 11", day: tue},
		{text: "в пятницу или в субботу в 11", unsure: true},
		{text: "tomorrow at 11 or at 12", day: tue, unsure: true},
		{text: "I will come tomorrow at 5", day: tue, times: []core.ClockTime{clock(17, 0), clock(5, 0)}},
		{text: "tomorrow with Will", day: tue, masters: []string{"will"}},
		{text: "Will", masters: []string{"will"}},
		{text: "алло"},
		{text: "к Алле завтра", day: tue, masters: []string{"alla"}},
		{text: "у Аллы", masters: []string{"alla"}},
	}
	for _, tt := range tests {
		r := p.Parse(tt.text, ctxAt(monday))
		require.Equal(t, tt.day != core.Date{}, r.HasDay, tt.text)
		if r.HasDay {
			require.Equal(t, tt.day, r.Day, tt.text)
		}
		require.Equal(t, len(tt.times) > 0, len(r.Times) > 0, tt.text)
		if len(tt.times) > 0 {
			require.Equal(t, tt.times[0], r.Times[0], tt.text)
		}
		require.Equal(t, tt.masters, r.Masters, tt.text)
		require.Equal(t, tt.unsure, r.Unsure, tt.text)
	}
}
