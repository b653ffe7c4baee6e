package dialog

import (
	"strings"
	"unicode"
)

// Language: the client chooses the language the conversation speaks.

// languagePrompt offers the salon's languages that have a catalog.
func (t *turn) languagePrompt() Reply {
	r := Reply{Text: t.p.T("ask.language")}
	for _, l := range t.cat.Salon.Locales {
		if containsString(t.e.catalog.Languages(), l) {
			r.Choices = append(r.Choices, Choice{ID: prefLang + l, Label: t.e.catalog.Printer(l, nil).LanguageName()})
		}
	}
	return r
}

func (t *turn) onLanguage() {
	l, ok := strings.CutPrefix(t.in.Choice, prefLang)
	if !ok || !containsString(t.cat.Salon.Locales, l) || !containsString(t.e.catalog.Languages(), l) {
		t.again()
		return
	}
	t.st.Lang, t.st.LangAuto = l, false // chosen: what the client types no longer changes it
	t.p = t.e.catalog.Printer(l, t.cat.Salon.Timezone)
	t.reset()
	t.note, t.did = t.p.T("language.set"), true
	t.menu()
}

// The language of what the client types: a client who has not chosen a
// language (State.LangAuto: it came from the channel's hint, or from what they
// typed before) and writes a sentence in the script of another of the salon's
// languages is answered in that language from then on, as if they had chosen
// it. Only a sentence counts: at least two words and minLetters letters of one
// script, few of the other; a Latin sentence must also carry a common English
// word (a Russian client may type Russian in Latin letters). Never while a
// name or phone is asked: "Анна Петрова" there is an answer, not a language.

// minLetters is the fewest letters of one script that make a sentence.
const minLetters = 8

// englishWords are common English words: a Latin sentence with one is English.
var englishWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an the i i'm im i'd id me my you your we our is are am be can could would will
		want like need please to for with at on in of and or do does what when where how much is it this that there
		any anything have has book booking appointment tomorrow today morning evening afternoon tonight next time day
		free hello hi thanks thank cancel move change price cost hours open address late`) {
		englishWords[w] = true
	}
}

// typedLang is the language a typed sentence is written in ("ru", "en"), or
// "" when it does not say clearly.
func typedLang(text string) string {
	cyr, lat, words, english := 0, 0, 0, false
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\''
	}) {
		letters := 0
		for _, r := range w {
			switch {
			case unicode.Is(unicode.Cyrillic, r):
				cyr++
				letters++
			case unicode.Is(unicode.Latin, r):
				lat++
				letters++
			}
		}
		if letters > 0 {
			words++
		}
		if englishWords[w] {
			english = true
		}
	}
	switch {
	case words < 2:
		return ""
	case cyr >= minLetters && lat*4 <= cyr:
		return "ru"
	case lat >= minLetters && cyr*4 <= lat && english:
		return "en"
	}
	return ""
}

// followTyped switches the conversation to the language the client types in,
// when they have not chosen one and it is another of the salon's.
func (t *turn) followTyped(text string) {
	if !t.st.LangAuto || t.st.Step == stepName || t.st.Step == stepPhone || t.st.Step == stepLanguage {
		return
	}
	l := typedLang(text)
	if l == "" || l == t.st.Lang || !containsString(t.cat.Salon.Locales, l) || !containsString(t.e.catalog.Languages(), l) {
		return
	}
	t.st.Lang = l
	t.p = t.e.catalog.Printer(l, t.cat.Salon.Timezone)
}
