package dialog

import "strings"

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
	t.st.Lang = l
	t.p = t.e.catalog.Printer(l, t.cat.Salon.Timezone)
	t.reset()
	t.note, t.did = t.p.T("language.set"), true
	t.menu()
}
