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
// it. Only a sentence counts: at least two words (three for English away
// from the channel's language: "Ok, thanks" in a Russian chat is not a
// switch; "маникюр послезавтра" in an English one is) and
// minLetters letters of one script, few of the other; a Latin sentence must
// also carry a common English word of more than two letters (a Russian
// client may type Russian in Latin letters: "strizhka i manikur", "zapishite
// do 18"). Names are not counted: a capitalised word inside a sentence, a
// master's name, the client's own ("I'm Мария Петровна"). Never while a name
// or phone is asked: "Анна Петрова" there is an answer, not a language.

// minLetters is the fewest letters of one script that make a sentence.
const minLetters = 8

// englishWords are common English words: a Latin sentence with one is
// English. No word of one or two letters that transliterated Russian has
// too (a, i, do, to, on, ...).
var englishWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`an the i'm i'd my you your we our is are can could would will
		want like need please for with of and or does what when where how much it this that there
		any anything have has book booking appointment tomorrow today morning evening afternoon tonight next time day
		free hello hi thanks thank cancel move change price cost hours open address late`) {
		englishWords[w] = true
	}
}

// typedLang is the language a typed sentence is written in ("ru", "en"), or
// "" when it does not say clearly, and how many words it counted; names
// (lower case) are words not counted.
func typedLang(text string, names map[string]bool) (lang string, words int) {
	cyr, lat, english := 0, 0, false
	first := true // the next word begins a sentence: a capital there is no name
	rs := []rune(text)
	for i := 0; i < len(rs); {
		if !unicode.IsLetter(rs[i]) && rs[i] != '\'' {
			if strings.ContainsRune(".!?", rs[i]) {
				first = true
			}
			i++
			continue
		}
		j := i
		for j < len(rs) && (unicode.IsLetter(rs[j]) || rs[j] == '\'') {
			j++
		}
		raw := rs[i:j]
		w := strings.ToLower(string(raw))
		capital := unicode.IsUpper(raw[0])
		begins := first
		first, i = false, j
		if names[w] || (capital && !begins) {
			continue
		}
		letters := 0
		for _, r := range raw {
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
		return "", words
	case cyr >= minLetters && lat*4 <= cyr:
		return "ru", words
	case lat >= minLetters && cyr*4 <= lat && english:
		return "en", words
	}
	return "", words
}

// followTyped switches the conversation to the language the client types in,
// when they have not chosen one and it is another of the salon's.
func (t *turn) followTyped(text string) {
	if !t.st.LangAuto || t.st.Step == stepName || t.st.Step == stepPhone || t.st.Step == stepLanguage {
		return
	}
	names := map[string]bool{}
	for _, m := range t.cat.Masters {
		for _, w := range strings.Fields(strings.ToLower(m.Name)) {
			names[w] = true
		}
	}
	for _, w := range strings.Fields(strings.ToLower(t.st.ClientName)) {
		names[w] = true
	}
	l, words := typedLang(text, names)
	if l == "" || l == t.st.Lang || !containsString(t.cat.Salon.Locales, l) || !containsString(t.e.catalog.Languages(), l) {
		return
	}
	if words < 3 && l == "en" && l != t.e.catalog.Match(t.in.LangHint, t.cat.Salon.Locales) {
		return // two Latin words away from the channel's language: "Ok, thanks" in a Russian chat
	}
	t.st.Lang = l
	t.p = t.e.catalog.Printer(l, t.cat.Salon.Timezone)
}

// scriptLang is the language a text's script alone says: "ru" for Cyrillic
// with no Latin letters, else "" (Latin words are used in Russian chats too).
func scriptLang(text string) string {
	cyr, lat := 0, 0
	for _, r := range text {
		switch {
		case unicode.Is(unicode.Cyrillic, r):
			cyr++
		case unicode.Is(unicode.Latin, r):
			lat++
		}
	}
	if cyr > 0 && lat == 0 {
		return "ru"
	}
	return ""
}
