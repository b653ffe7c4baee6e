package salonfile

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"salonbook/src/core/dialog/understand"
)

// Bounds on aliases: a few words each, a few per service or master.
const (
	maxAliases     = 20
	maxAliasLength = 60
)

// aliases reads the optional aliases of a service or a master: other words
// clients type for it, in any language ("cut", "подстричься", "Аня"). Each is
// non-blank, at most 60 characters, listed once (case aside), and must not be
// read as something else by the conversation (a menu word, a day, a time, "any
// master": understand.Reserved says why).
func (p *parser) aliases(m *mapping) []string {
	items := p.list(m, "aliases", false)
	field := join(m.path, "aliases")
	if len(items) > maxAliases {
		p.add(items[maxAliases].Line, index(field, maxAliases), "at most %d aliases", maxAliases)
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for i, n := range items {
		s, ok := p.item(n, index(field, i))
		if !ok {
			continue
		}
		s = strings.TrimSpace(s)
		key := strings.ToLower(s)
		switch {
		case s == "":
			p.add(n.Line, index(field, i), "must not be empty")
		case utf8.RuneCountInString(s) > maxAliasLength:
			p.add(n.Line, index(field, i), "%q is longer than %d characters", s, maxAliasLength)
		case strings.IndexFunc(s, unicode.IsControl) >= 0:
			p.add(n.Line, index(field, i), "%q has control characters", s)
		case seen[key]:
			p.add(n.Line, index(field, i), "%q is listed twice", s)
		default:
			if why := understand.Reserved(s); why != "" {
				p.add(n.Line, index(field, i), "%q cannot be an alias: %s", s, why)
				continue
			}
			seen[key] = true
			out = append(out, s)
		}
	}
	return out
}
