// Package phone reads the phone numbers clients give: E.164 out, the salon's
// country as the region of a number typed without its country code. It wraps
// github.com/nyaruka/phonenumbers (Google's libphonenumber metadata), so
// lengths and prefixes are checked per country rather than by a digit count.
package phone

import (
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// maxInput is the longest text read as a number: a real one with spaces and
// brackets is well under it, and the parser's work stays small.
const maxInput = 40

// Check says how strictly a number is judged.
type Check int

const (
	// Possible accepts a number whose length fits its country (the booking
	// engine's rule: the owner's word, and numbers stored before).
	Possible Check = iota
	// Valid also wants the number's prefix to be one the country gives out
	// (what a client types in a chat: a missing digit is caught there).
	Valid
)

// Parse reads s as a phone number and returns it in E.164 ("+4930123456").
// A number without a leading + (or 00) is read in region, an ISO 3166-1
// alpha-2 code (the salon's country); with region empty it must have its
// country code. Only digits, spaces, and + ( ) - . / between them are taken:
// text, letters or a URL are not a number. ok is false when s is not a number
// by check.
func Parse(s, region string, check Check) (e164 string, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxInput {
		return "", false
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == ' ', r == '-', r == '(', r == ')', r == '.', r == '/', r == '\u00a0':
		default:
			return "", false
		}
	}
	if digits < 6 || digits > 17 { // 17: "00" and 15 digits
		return "", false
	}
	if !Region(region) {
		region = ""
		if rest, ok := strings.CutPrefix(s, "00"); ok {
			s = "+" + rest // the international prefix of most of the world
		}
		if !strings.HasPrefix(s, "+") {
			return "", false
		}
	}
	n, err := phonenumbers.Parse(s, strings.ToUpper(region))
	if err != nil {
		return "", false
	}
	switch check {
	case Valid:
		if !phonenumbers.IsValidNumber(n) {
			return "", false
		}
	default:
		if !phonenumbers.IsPossibleNumber(n) {
			return "", false
		}
	}
	out := phonenumbers.Format(n, phonenumbers.E164)
	if len(out) < 7 || len(out) > 16 { // + and 6..15 digits
		return "", false
	}
	return out, true
}

// Region reports whether code is a region the metadata knows: an upper-case
// ISO 3166-1 alpha-2 code with a calling code ("DE", "RU").
func Region(code string) bool {
	if len(code) != 2 || !unicode.IsUpper(rune(code[0])) || !unicode.IsUpper(rune(code[1])) {
		return false
	}
	return phonenumbers.GetCountryCodeForRegion(code) != 0
}

// Example returns an example number of region in international format
// ("+49 30 123456"), for a hint; "" when the region is unknown.
func Example(region string) string {
	if !Region(region) {
		return ""
	}
	n := phonenumbers.GetExampleNumberForType(region, phonenumbers.MOBILE)
	if n == nil {
		return ""
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}

// Looks reports whether s is mostly what a phone number is made of: it is
// then not a name (a client who typed their number where their name was asked).
func Looks(s string) bool {
	digits, other := 0, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' || r == ' ' || r == '-' || r == '(' || r == ')' || r == '.' || r == '/':
		default:
			other++
		}
	}
	return digits >= 5 && digits > other
}
