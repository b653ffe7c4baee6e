package understand

import (
	"time"
	"unicode"

	"salonbook/src/core"
)

// Reserved says why a name cannot serve as an alias of a service or a master,
// or "" when it can: a client typing it would be read as something else (a menu
// word such as "cancel", a day such as "Friday", a time such as "5pm", "any
// master"), or it has no word that could name anything ("the", "123").
func Reserved(alias string) string {
	hasLetter := false
	for _, r := range alias {
		if unicode.IsLetter(r) {
			hasLetter = true
			break
		}
	}
	if !hasLetter {
		return "it has no letters"
	}
	ts := tokens(alias)
	content := false
	for _, t := range ts {
		if !t.num && !stop[t.w] {
			content = true
		}
	}
	if !content {
		return "it has only words that name nothing on their own (like \"with\", \"please\", \"мастер\")"
	}
	s := &scan{ts: ts, x: Context{Now: time.Date(2000, 1, 1, 12, 0, 0, 0, time.UTC), Zone: time.UTC}, today: core.Date{Year: 2000, Month: 1, Day: 1}}
	var r Request
	s.when(&r)
	s.intents(&r)
	switch {
	case r.Intent != None:
		return "clients typing it would mean \"" + string(r.Intent) + "\""
	case r.HasDay:
		return "clients typing it would name a day"
	case len(r.Times) > 0 || r.HasPeriod:
		return "clients typing it would name a time"
	case len(r.Masters) > 0:
		return "clients typing it would mean any master"
	}
	return ""
}
