package dialog_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
)

// TestLanguageFollowsWhatIsTyped: a client who has not chosen a language and
// types a sentence in another of the salon's languages is answered in it
// from then on; a name, a single word, transliterated Russian, a chosen
// language or a name being taken change nothing.
func TestLanguageFollowsWhatIsTyped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		hint   string
		script []string
		want   string // in the last replies
		lang   string // the conversation's language after
	}{
		{"CyrillicInAnEnglishChat", "en", []string{"text: маникюр послезавтра"}, "Ближайшее свободное время", "ru"},
		{"StaysAfterSwitching", "en", []string{"text: хочу записаться на стрижку", "text: hi"}, "пожалуйста", "ru"},
		{"EnglishInARussianChat", "ru", []string{"text: can I come tomorrow evening"}, "Which service", "en"},
		{"ANameIsNotALanguage", "en", []string{"text: Анна"}, "Hello", "en"},
		{"TwoShortWordsAreNot", "en", []string{"text: да ок"}, "", "en"},
		{"TransliteratedRussianStays", "ru", []string{"text: zapisatsya na strizhku zavtra"}, "", "ru"},
		{"TranslitWithIStays", "ru", []string{"text: strizhka i manikur zavtra"}, "", "ru"},
		{"TranslitWithAStays", "ru", []string{"text: a skolko stoit strizhka"}, "", "ru"},
		{"TranslitWithDoStays", "ru", []string{"text: zapishite do 18"}, "", "ru"},
		{"CyrillicNameInAnEnglishSentence", "en", []string{"text: I'm Мария Петровна"}, "", "en"},
		{"CyrillicNameAtTheMasterStep", "en", []string{"text: haircut tomorrow", "text: Анна Петрова"}, "", "en"},
		{"OkThanksInARussianChat", "ru", []string{"text: привет", "text: Ok, thanks"}, "", "ru"},
		{"ThreeWordsLeaveTheChannelLanguage", "ru", []string{"text: ok thanks so much"}, "", "en"},
		{"ChosenLanguageStays", "en", []string{"text: hi", "pick: Language", "pick: English", "text: маникюр послезавтра"},
			"The nearest free times", "en"},
		{"NotWhileTakingAName", "en", []string{"text: manicure tomorrow at 11", "text: Анна Петровна Иванова"}, "phone", "en"},
		{"AfterTheNameItFollows", "en", []string{"text: manicure tomorrow at 11", "text: Анна Петровна",
			"text: +49 151 23456789", "text: нет, не надо записывать"}, "", "ru"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBundleWith(t, annaOffWednesdays)
			c := &conv{name: "c", hint: tt.hint}
			b.run(t, []*conv{c}, tt.script)
			var texts []string
			for _, r := range c.last {
				texts = append(texts, r.Text)
			}
			require.Contains(t, strings.Join(texts, "\n"), tt.want)
			st := b.state(t, pgtest.Pool(t), "c")
			require.Equal(t, tt.lang, st.Lang)
			require.Equal(t, tt.name != "ChosenLanguageStays", st.LangAuto)
		})
	}
}
