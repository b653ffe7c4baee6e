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
	"salonbook/src/core/dialog"
)

// withColouring adds colouring (Anna) to the salon, and Anna's Wednesdays off.
func withColouring(s *postgres.SalonSetup) {
	annaOffWednesdays(s)
	s.Services = append(s.Services, core.Service{ID: "colouring", Name: map[string]string{"en": "Colouring", "ru": "Окрашивание"},
		Duration: 2 * time.Hour, Price: core.Money{Minor: 8900, Currency: "EUR"}, Aliases: []string{"colour", "color", "покрасить"}})
	s.Masters[0].Services = append(s.Masters[0].Services, "colouring")
}

// TestTypedMessagesGetUsefulAnswers: realistic first messages, in English
// and Russian, each from a new client: every one gets an answer that helps
// (a price, the address, the hours, the booking under way with what was
// understood), never only "please pick" or a dead end.
func TestTypedMessagesGetUsefulAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lang, text string
		want       []string // in the replies, in order
		step       string   // the step after, if checked
	}{
		{"en", "can I come tomorrow evening", []string{"Which service would you like?", "Colouring: 2\u00a0h, €89"}, "service"},
		{"ru", "есть что-нибудь на выходных", []string{"Какая услуга вам нужна?"}, "service"},
		{"en", "anything this weekend for a manicure?", []string{"Free times on Saturday, 6 March"}, "time"},
		{"en", "a haircut for my son saturday morning", []string{"Free times on Saturday, 6 March"}, "time"},
		{"ru", "перенести мою запись", []string{"У вас нет предстоящих записей."}, ""},
		{"en", "I'm late", []string{"Thanks for letting us know. Please call us on +49 30 1234567"}, "menu"},
		{"en", "I'll be 10 minutes late", []string{"Please call us on +49 30 1234567"}, "menu"},
		{"ru", "я опоздаю на 10 минут", []string{"Позвоните нам, пожалуйста, по телефону +49 30 1234567"}, "menu"},
		{"ru", "сколько стоит окрашивание", []string{"Окрашивание стоит 89\u00a0€ и длится 2\u00a0ч.", "На какой день вас записать?"}, "day"},
		{"ru", "сколько стоит маникюр", []string{"Маникюр стоит 25\u00a0€ и длится 1\u00a0ч.", "На какой день вас записать?"}, "day"},
		{"en", "how much is a haircut", []string{"Haircut costs €35 and takes 45\u00a0min.", "Who would you like to see?"}, "master"},
		{"en", "how long does colouring take", []string{"Colouring costs €89 and takes 2\u00a0h."}, "day"},
		{"en", "prices", []string{"Haircut: 45\u00a0min, €35", "Manicure: 1\u00a0h, €25"}, "service"},
		{"ru", "цены", []string{"Стрижка — 45\u00a0мин, 35\u00a0€", "Маникюр — 1\u00a0ч, 25\u00a0€"}, "service"},
		{"ru", "прайс", []string{"Окрашивание — 2\u00a0ч, 89\u00a0€"}, "service"},
		{"en", "what services do you have", []string{"Which service would you like?"}, "service"},
		{"ru", "какие услуги есть", []string{"Какая услуга вам нужна?"}, "service"},
		{"en", "where are you", []string{"We're at Torstraße 1, Berlin. Our phone number is +49 30 1234567."}, "menu"},
		{"ru", "адрес", []string{"Мы находимся по адресу: Torstraße 1, Berlin."}, "menu"},
		{"ru", "где вы находитесь", []string{"Мы находимся по адресу: Torstraße 1, Berlin."}, "menu"},
		{"ru", "часы работы", []string{"Часы работы салона:", "• Понедельник: 10:00–13:00", "• Воскресенье: выходной"}, "menu"},
		{"en", "what are your opening hours", []string{"Our opening hours:", "• Monday: 10:00–13:00", "• Sunday: closed"}, "menu"},
		{"ru", "до скольки вы работаете", []string{"• Суббота: 10:00–16:00"}, "menu"},
		{"en", "are you open on sunday", []string{"The salon is closed on Sunday, 7 March."}, "menu"},
		{"ru", "вы работаете в воскресенье?", []string{"В воскресенье, 7 марта, салон не работает."}, "menu"},
		{"en", "are you open on thursday", []string{"We're open from 10:00 to 16:00 on Thursday, 4 March."}, "menu"},
		{"ru", "вы открыты в четверг?", []string{"В четверг, 4 марта, мы работаем с 10:00 до 16:00."}, "menu"},
		{"en", "are you open tomorrow for a haircut?", []string{"Free times on Tuesday, 2 March"}, "time"},
		{"ru", "вы работаете завтра? хочу на маникюр", []string{"Свободное время на вторник, 2 марта"}, "time"},
		{"en", "what's your phone number", []string{"You can call the salon at +49 30 1234567."}, "menu"},
		{"ru", "какой у вас телефон", []string{"Телефон салона: +49 30 1234567."}, "menu"},
		{"en", "thanks", []string{"You're welcome!"}, "menu"},
		{"ru", "спасибо", []string{"Всегда пожалуйста!"}, "menu"},
		{"en", "I want to book a manicure", []string{"Manicure is done by Anna.", "Which day suits you?"}, "day"},
		{"ru", "хочу записаться на маникюр", []string{"Услугу «Маникюр» у нас делает мастер Анна."}, "day"},
		{"en", "any time this week for a haircut?", []string{"Who would you like to see?"}, "master"},
		{"ru", "можно сегодня вечером подстричься", []string{"Какая услуга вам нужна?"}, "service"},
		{"en", "manicure next week", []string{"Free times on Monday, 8 March"}, "time"},
		{"ru", "маникюр на следующей неделе", []string{"Свободное время на понедельник, 8 марта"}, "time"},
		{"en", "haircut next friday", []string{"Free times on Friday, 12 March"}, "time"},
		{"ru", "стрижка в следующую пятницу", []string{"Свободное время на пятницу, 12 марта"}, "time"},
		{"en", "cancel my appointment", []string{"You have no upcoming bookings."}, ""},
		{"ru", "отмените мою запись", []string{"У вас нет предстоящих записей."}, ""},
		{"en", "colour with Anna tomorrow afternoon", []string{"Free times on Tuesday, 2 March"}, "time"},
		{"ru", "маникюр в субботу утром", []string{"Свободное время на субботу, 6 марта"}, "time"},
		{"en", "is Boris available tomorrow", []string{"Free times on Tuesday, 2 March"}, "time"},
		{"ru", "Борис завтра свободен?", []string{"Свободное время на вторник, 2 марта"}, "time"},
		{"ru", "маникюр в среду", []string{"Анна не работает по средам. Ближайшее свободное время — в четверг, 4 марта:"}, "time"},
		{"en", "manicure on wednesday at 11", []string{"Anna doesn't work on Wednesdays.", "The nearest free times are on Thursday, 4 March: 10:30, 11:00 and 11:30."}, "time"},
	}
	b := newBundleWith(t, withColouring)
	pool := pgtest.Pool(t)
	for i, tt := range tests {
		c := &conv{name: fmt.Sprintf("q%d", i), hint: tt.lang}
		rs := b.send(t, c, dialog.Inbound{Kind: dialog.KindText, Text: tt.text})
		var all strings.Builder
		for _, r := range rs {
			show(&all, "<", r)
		}
		got := all.String()
		at := 0
		for _, w := range tt.want {
			k := strings.Index(got[at:], w)
			if k < 0 {
				t.Errorf("%s %q: %q not in\n%s", tt.lang, tt.text, w, got)
				break
			}
			at += k + len(w)
		}
		require.NotContains(t, got, "Please pick", tt.text)
		require.NotContains(t, got, "Пожалуйста, выберите", tt.text)
		if tt.step == "menu" {
			tt.step = "" // the menu's step is stored empty
			require.Equal(t, tt.step, b.state(t, pool, c.name).Step, "%s %q", tt.lang, tt.text)
		} else if tt.step != "" {
			require.Equal(t, tt.step, b.state(t, pool, c.name).Step, "%s %q", tt.lang, tt.text)
		}
	}
}

// TestQuestionsTranscripts: questions answered from the salon file, at the
// menu and in the middle of a booking (which goes on after the answer), in
// both languages.
func TestQuestionsTranscripts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		convs  []*conv
		script []string
	}{
		{
			name:  "typed_questions_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: []string{
				"text: where are you", "text: what are your opening hours", "text: how much is a haircut", "pick: Anna",
				"text: are you open on Thursday?", "pick: #1", "text: how much is it?", "pick: 10:00", "text: Olga",
				"text: +49 151 23456789", "pick: Confirm", "text: thanks", "text: I'll be 10 minutes late",
			},
		},
		{
			name:  "typed_questions_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}},
			script: []string{
				"text: где вы находитесь", "text: часы работы", "text: сколько стоит стрижка", "pick: Анна",
				"text: вы работаете в четверг?", "pick: #1", "text: а сколько это стоит?", "pick: 10:00", "text: Иван",
				"text: +7 912 345 67 89", "pick: Подтвердить", "text: спасибо", "text: я опоздаю на 10 минут",
			},
		},
		{
			// The browser said English; the client writes Russian, then English.
			name:  "typed_language_follows_en",
			convs: []*conv{{name: "anna", hint: "en-GB"}},
			script: []string{
				"text: hi", "text: хочу маникюр послезавтра", "pick: 10:00", "text: Anna Smith", "text: +49 151 23456789",
				"text: да", "text: can I also get a haircut tomorrow?", "text: Спасибо",
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := newBundleWith(t, withColouring)
			golden(t, c.name, b.run(t, c.convs, c.script))
			require.Equal(t, 1, b.confirmed(t))
		})
	}
}
