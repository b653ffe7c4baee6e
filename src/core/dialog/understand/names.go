package understand

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Services and masters are found by their names' words in the message, in any
// grammatical case: two words are the same when they differ only in an ending
// ("стрижка", "стрижку", "стрижкой"; "Анна", "Анне", "Анны"; "manicure",
// "manicures"), and, for words of five letters or more, by one typo
// ("manicrue", "маникур"). A name of several words needs all of them
// ("мужская стрижка"); when no name is complete, names with some of their words
// are candidates ("haircut" for "Men's haircut" and "Women's haircut").

// entry is a catalog entry prepared for matching.
type entry struct {
	id    string
	names [][]string // each name's words (stop words dropped, unless that leaves none)
}

func compile(es []Entry, translit bool) []entry {
	out := make([]entry, 0, len(es))
	for _, e := range es {
		c := entry{id: e.ID}
		seen := map[string]bool{}
		add := func(name string) {
			var ws, all []string
			for _, t := range tokens(name) {
				if t.num {
					continue
				}
				all = append(all, t.w)
				if !stop[t.w] {
					ws = append(ws, t.w)
				}
			}
			if len(ws) == 0 {
				ws = all
			}
			key := strings.Join(ws, " ")
			if len(ws) > 0 && !seen[key] {
				seen[key] = true
				c.names = append(c.names, ws)
			}
		}
		for _, n := range e.Names {
			add(n)
			if translit {
				add(transliterate(norm(n)))
			}
		}
		out = append(out, c)
	}
	return out
}

// match is how well one entry's name is found in a message.
type match struct {
	id     string
	words  int   // the name's words
	found  int   // of them found
	score  int   // 2 for each word found as written or inflected, 1 for each found with a typo
	tokens []int // the tokens that are its words
}

func (m match) full() bool { return m.found == m.words }

// better reports whether a is a better match than b: complete before partial,
// then more words, then fewer typos.
func better(a, b match) bool {
	if a.full() != b.full() {
		return a.full()
	}
	if a.found != b.found {
		return a.found > b.found
	}
	return a.score > b.score
}

// find returns the ids of the entries best found in ts, best first (several:
// as good as each other), and marks their words used.
func find(ts []token, es []entry, masters bool) []string {
	var best []match
	for _, e := range es {
		var top match
		for _, name := range e.names {
			m := matchName(ts, name, masters)
			m.id = e.id
			if m.found > 0 && (top.id == "" || better(m, top)) {
				top = m
			}
		}
		if top.id == "" || (!top.full() && top.score < 2) {
			continue // one typo alone names nothing
		}
		switch {
		case len(best) == 0 || better(top, best[0]):
			best = []match{top}
		case !better(best[0], top):
			best = append(best, top)
		}
	}
	var ids []string
	for _, m := range best {
		out := false
		for _, i := range m.tokens {
			ts[i].used = true
			if k, ok := excludedAt(ts, i); ok {
				ts[k].used, out = true, true
			}
		}
		if !out {
			ids = append(ids, m.id)
		}
	}
	return ids
}

// matchName finds each word of name in its own unused, non-stop token.
func matchName(ts []token, name []string, masters bool) match {
	m := match{words: len(name)}
	taken := map[int]bool{}
	common := masters && len(name) == 1 && commonWords[name[0]]
	for _, w := range name {
		bestI, bestS := -1, 0
		for i := range ts {
			t := &ts[i]
			if t.used || t.num || taken[i] || stop[t.w] || (common && !masterWord(ts, i)) {
				continue
			}
			if s := sameWord(w, t.w); s > bestS {
				bestI, bestS = i, s
			}
		}
		if bestI >= 0 {
			taken[bestI] = true
			m.found++
			m.score += bestS
			m.tokens = append(m.tokens, bestI)
		}
	}
	return m
}

// endings are the inflections a word may differ by: Russian case and number
// endings of nouns, adjectives and names (soft signs are dropped by norm),
// English plurals and possessives.
var endings = words("", "а", "я", "о", "е", "у", "ю", "ы", "и", "й", "ой", "ей", "ий", "ый", "ая", "яя", "ое", "ее",
	"ую", "юю", "ом", "ем", "ам", "ям", "ах", "ях", "ов", "ев", "ами", "ями", "ого", "его", "ому", "ему", "ыми", "ими",
	"ых", "их", "s", "es", "'s", "s'", "y", "ies")

// neuter are endings no short name takes: "алло" is not "Алла", "зоо"
// not "Зоя".
var neuter = words("о", "ое", "ее", "ого", "ему", "его", "ому", "s'", "y", "ies", "es")

// sameWord says how a word of a name and a word of the message compare: 2 the
// same word, or the same stem with endings (both at least two letters of
// stem); 1 one typo apart (both five letters or more, same first letter);
// 0 different.
func sameWord(name, text string) int {
	if name == text {
		return 2
	}
	nr, _ := utf8.DecodeRuneInString(name)
	tr, _ := utf8.DecodeRuneInString(text)
	if len(text) < 2 || len(name) < 2 || isCyrillic(nr) != isCyrillic(tr) {
		return 0
	}
	lcp := 0
	for lcp < len(name) && lcp < len(text) && name[lcp] == text[lcp] {
		lcp++
	}
	for lcp > 0 && lcp < len(name) && !utf8.RuneStart(name[lcp]) {
		lcp--
	}
	// Endings are at most three letters; the stem at least two.
	for k := lcp; k > 0; {
		if utf8.RuneCountInString(name[:k]) < 2 || utf8.RuneCountInString(name[k:]) > 3 || utf8.RuneCountInString(text[k:]) > 3 {
			break
		}
		if endings[name[k:]] && endings[text[k:]] && (utf8.RuneCountInString(name) > 4 || !neuter[text[k:]]) {
			return 2
		}
		_, size := utf8.DecodeLastRuneInString(name[:k])
		k -= size
	}
	if nr != tr {
		return 0
	}
	nl, tl := utf8.RuneCountInString(name), utf8.RuneCountInString(text)
	if nl >= 5 && tl >= 5 && abs(nl-tl) <= 1 && oneEdit([]rune(name), []rune(text)) {
		return 1
	}
	return 0
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func isCyrillic(r rune) bool { return unicode.Is(unicode.Cyrillic, r) }

// oneEdit reports whether a and b differ by one insertion, deletion,
// substitution or swap of neighbours.
func oneEdit(a, b []rune) bool {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	switch {
	case len(a) == len(b):
		if i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && slices.Equal(a[i+2:], b[i+2:]) {
			return true // swapped neighbours
		}
		return slices.Equal(a[i+1:], b[i+1:])
	case len(a) == len(b)+1:
		return slices.Equal(a[i+1:], b[i:])
	case len(b) == len(a)+1:
		return slices.Equal(a[i:], b[i+1:])
	}
	return false
}

// transliterate writes a Latin name in Cyrillic and a Cyrillic one in Latin
// letters, as people spell names across the two ("Anna" is "Анна", "Ольга"
// is "olga"); mixed or other scripts come back as they are.
func transliterate(s string) string {
	latin, cyrillic := false, false
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			latin = true
		case isCyrillic(r):
			cyrillic = true
		}
	}
	switch {
	case latin && !cyrillic:
		return toCyrillic(s)
	case cyrillic && !latin:
		return toLatin(s)
	}
	return s
}

var latinDigraphs = []struct{ from, to string }{
	{"shch", "щ"}, {"sch", "щ"}, {"zh", "ж"}, {"kh", "х"}, {"ch", "ч"}, {"sh", "ш"}, {"ts", "ц"}, {"tz", "ц"},
	{"ya", "я"}, {"ia", "ия"}, {"yu", "ю"}, {"iu", "ию"}, {"yo", "е"}, {"ye", "е"}, {"ey", "ей"}, {"ay", "ай"},
	{"oy", "ой"}, {"iy", "ий"}, {"yi", "ий"}, {"ph", "ф"}, {"th", "т"}, {"ck", "к"}, {"x", "кс"},
}

var latinLetters = map[rune]string{'a': "а", 'b': "б", 'c': "к", 'd': "д", 'e': "е", 'f': "ф", 'g': "г", 'h': "х",
	'i': "и", 'j': "дж", 'k': "к", 'l': "л", 'm': "м", 'n': "н", 'o': "о", 'p': "п", 'q': "к", 'r': "р", 's': "с",
	't': "т", 'u': "у", 'v': "в", 'w': "в", 'y': "и", 'z': "з"}

func toCyrillic(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		done := false
		for _, d := range latinDigraphs {
			if strings.HasPrefix(s[i:], d.from) {
				b.WriteString(d.to)
				i += len(d.from)
				done = true
				break
			}
		}
		if done {
			continue
		}
		r := rune(s[i])
		if c, ok := latinLetters[r]; ok {
			b.WriteString(c)
		} else {
			b.WriteByte(s[i])
		}
		i++
	}
	return b.String()
}

var cyrillicLetters = map[rune]string{'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ж': "zh", 'з': "z",
	'и': "i", 'й': "y", 'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t",
	'у': "u", 'ф': "f", 'х': "kh", 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "shch", 'ы': "y", 'э': "e", 'ю': "yu", 'я': "ya"}

func toLatin(s string) string {
	var b strings.Builder
	for _, r := range s {
		if l, ok := cyrillicLetters[r]; ok {
			b.WriteString(l)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// names finds the services and then the masters the message names; one left
// out ("кроме Анны", "not with Boris") is not named.
func (p *Parser) names(ts []token, r *Request) {
	r.Services = find(ts, p.services, false)
	if ms := find(ts, p.masters, true); len(ms) > 0 {
		r.Masters = ms
	}
}

// commonWords are masters' names that are also words people write ("I will
// come", "may I", "вера в"): such a name is a master's only right after a
// word that leads to a master ("with Will", "к Вере") or alone.
var commonWords = words("will", "may", "mark", "bill", "rose", "june", "april", "grace", "hope", "joy", "faith",
	"sunny", "summer", "amber", "ruby", "dawn", "eve", "art", "jack", "pat", "sue", "don", "guy", "frank", "rich",
	"вера", "надежда", "любовь", "роза", "слава", "мира", "лада", "зоя")

// toMaster are the words that lead to a master's name.
var toMaster = words("with", "to", "by", "master", "stylist", "к", "ко", "у", "с", "мастер", "мастеру", "мастера",
	"мастером")

// masterWord reports whether token i may be a master's name that is a common
// word: alone, or after a word leading to a master.
func masterWord(ts []token, i int) bool {
	return len(ts) == 1 || (i > 0 && !ts[i-1].num && toMaster[ts[i-1].w])
}
