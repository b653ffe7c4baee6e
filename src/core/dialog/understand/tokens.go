package understand

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds on what one message costs to read: a chat message longer than this is
// not a booking request, and the rest of it is ignored.
const (
	maxRunes  = 400
	maxTokens = 80
	maxWord   = 40 // runes of one word kept for matching
)

// token is one word or number of a message.
type token struct {
	w    string // a word: normalised (see norm); a number: digits and the separators between them
	num  bool   // digits, possibly with ':', '.', '/' or '-' between groups ("17:30", "12.12.2027")
	glue bool   // written right after the previous token, without a space ("5pm", "17ч", "12th")
	used bool   // taken by something already understood
}

// norm is the form every word is compared in: lower case, ё as е, no soft or
// hard sign (clients drop them: "Ольга"/"Олга"), curly apostrophes straight.
func norm(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToLower(s) {
		switch r {
		case 'ё':
			b.WriteRune('е')
		case 'ь', 'ъ':
		case '’', '‘', 'ʼ', '`':
			b.WriteByte('\'')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// meridiemDots writes a.m. and p.m. as one word each, not "a", "m".
var meridiemDots = strings.NewReplacer("a.m.", "am ", "p.m.", "pm ", "a.m", "am", "p.m", "pm")

// tokens splits text into words and numbers. Letters glued to digits split
// ("5pm" is 5 and pm); an apostrophe or a hyphen between letters stays inside
// a word ("o'clock", "по-русски"); a hyphen between a number and letters
// splits ("12-го"). Everything else separates.
func tokens(text string) []token {
	if utf8.RuneCountInString(text) > maxRunes {
		text = string([]rune(text)[:maxRunes])
	}
	text = norm(text)
	text = meridiemDots.Replace(text)
	rs := []rune(text)
	var out []token
	prevEnd := -2
	for i := 0; i < len(rs) && len(out) < maxTokens; {
		r := rs[i]
		switch {
		case unicode.IsDigit(r):
			j := i
			for j < len(rs) {
				if unicode.IsDigit(rs[j]) {
					j++
					continue
				}
				if strings.ContainsRune(":./-", rs[j]) && j+1 < len(rs) && unicode.IsDigit(rs[j+1]) {
					j++
					continue
				}
				break
			}
			out = append(out, token{w: asciiDigits(rs[i:j]), num: true, glue: prevEnd == i})
			prevEnd, i = j, j
		case unicode.IsLetter(r):
			j := i
			for j < len(rs) {
				if unicode.IsLetter(rs[j]) || unicode.Is(unicode.Mn, rs[j]) {
					j++
					continue
				}
				if (rs[j] == '\'' || rs[j] == '-') && j+1 < len(rs) && unicode.IsLetter(rs[j+1]) && j > i {
					j++
					continue
				}
				break
			}
			w := rs[i:j]
			if len(w) > maxWord {
				w = w[:maxWord]
			}
			out = append(out, token{w: string(w), glue: prevEnd == i})
			prevEnd, i = j, j
		default:
			i++
		}
	}
	return out
}

// asciiDigits writes the digits of any script as ASCII ones, keeping the
// separators.
func asciiDigits(rs []rune) string {
	b := make([]byte, 0, len(rs))
	for _, r := range rs {
		if unicode.IsDigit(r) {
			if r >= '0' && r <= '9' {
				b = append(b, byte(r))
			} else {
				b = append(b, byte('0'+digitValue(r)))
			}
			continue
		}
		b = append(b, byte(r))
	}
	return string(b)
}

// digitValue is the value of a decimal digit of any script (Unicode lays each
// script's ten digits out in order).
func digitValue(r rune) int {
	for _, t := range unicode.Nd.R16 {
		if r >= rune(t.Lo) && r <= rune(t.Hi) {
			return int(r-rune(t.Lo)) % 10
		}
	}
	for _, t := range unicode.Nd.R32 {
		if r >= rune(t.Lo) && r <= rune(t.Hi) {
			return int(r-rune(t.Lo)) % 10
		}
	}
	return 0
}

// set is a set of normalised words.
type set map[string]bool

func words(list ...string) set {
	s := set{}
	for _, w := range list {
		s[norm(w)] = true
	}
	return s
}
