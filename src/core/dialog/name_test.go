package dialog_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
)

// TestNameStep: at the name step a filler word ("hmm", "ок") is asked again,
// not kept as the client's name, and an introduction ("My name is Olga",
// "Меня зовут Ольга") keeps only the name.
func TestNameStep(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		hint, typed, want string // want "": asked again
	}{
		{"en", "hmm", ""},
		{"en", "Ok.", ""},
		{"en", "thank you!", ""},
		{"ru", "хм", ""},
		{"ru", "Да", ""},
		{"en", "My name is Olga", "Olga"},
		{"en", "I'm Olga Petrova.", "Olga Petrova"},
		{"ru", "Меня зовут Ольга", "Ольга"},
		{"ru", "я Ольга", "Ольга"},
		{"en", "Ok Sun", "Ok Sun"},
		{"en", "I’m Olga", "Olga"},
		{"en", "Hi, I'm Olga :)", "Olga"},
		{"en", "Good morning! My name is Olga Petrova", "Olga Petrova"},
		{"en", "Olga?", "Olga"},
		{"en", "My name is Ok", "Ok"},
		{"en", "It's me", ""},
		{"en", "my name is", ""},
		{"ru", "Привет, меня зовут Ольга", "Ольга"},
		{"ru", "Это я", ""},
		{"ru", "Меня зовут", ""},
		{"ru", "Яна", "Яна"},
		{"ru", "Я Яна", "Яна"},
		{"en", "My name is İlkay", "İlkay"},
		{"ru", "Добрый день!", ""},
		{"en", "Good morning", ""},
		{"en", "Hello there", ""},
		{"en", "Hi, how are you?", ""},
		{"en", "Hi-Jin", "Hi-Jin"},
		{"en", "I'm not sure", ""},
		{"ru", "Я хочу записаться", ""},
		{"en", "This is for my daughter", ""},
		{"en", "I'm Ok", "Ok"},
		{"en", "Yana", "Yana"},
		{"en", "Isaac", "Isaac"},
	} {
		t.Run(c.hint+"/"+c.typed, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t)
			olga := &conv{name: "olga", hint: c.hint}
			b.run(t, []*conv{olga}, []string{"text: hi", "pick: #1", "pick: #1", "pick: #2", "pick: #2", "pick: 12:00"})
			b.run(t, []*conv{olga}, []string{"text: " + c.typed})
			st := b.state(t, pgtest.Pool(t), "olga")
			if c.want == "" {
				require.Empty(t, st.ClientName)
				hint := map[string]string{"en": "I need your name", "ru": "Для записи мне нужно ваше имя"}[c.hint]
				require.True(t, strings.HasPrefix(lastText(olga), hint), lastText(olga))
				return
			}
			require.Equal(t, c.want, st.ClientName)
		})
	}
}

// TestNameStepTakesAFillerWordTypedAgain: a name that is also a filler word
// ("Ok", a surname) is asked again once, then taken when typed again.
func TestNameStepTakesAFillerWordTypedAgain(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	ok := &conv{name: "ok", hint: "en"}
	b.run(t, []*conv{ok}, []string{"text: hi", "pick: #1", "pick: #1", "pick: #2", "pick: #2", "pick: 12:00", "text: Ok"})
	require.Empty(t, b.state(t, pgtest.Pool(t), "ok").ClientName)
	b.run(t, []*conv{ok}, []string{"text: ok"})
	st := b.state(t, pgtest.Pool(t), "ok")
	require.Equal(t, "ok", st.ClientName)
	require.Empty(t, st.NameTried)
}

// TestNameStepRefusesAFillerTypedTwice: only filler words that are also
// surnames are taken on a second try; "hmm" twice is still no name.
func TestNameStepRefusesAFillerTypedTwice(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	c := &conv{name: "hmm", hint: "en"}
	b.run(t, []*conv{c}, []string{"text: hi", "pick: #1", "pick: #1", "pick: #2", "pick: #2", "pick: 12:00", "text: hmm", "text: hmm"})
	require.Empty(t, b.state(t, pgtest.Pool(t), "hmm").ClientName)
	require.True(t, strings.HasPrefix(lastText(c), "I need your name"), lastText(c))
}
