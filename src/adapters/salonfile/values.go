package salonfile

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var (
	idText       = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	localeText   = regexp.MustCompile(`^[a-z]{2,3}(-[A-Z]{2})?$`)
	currencyText = regexp.MustCompile(`^[A-Z]{3}$`)
	priceText    = regexp.MustCompile(`^([0-9]+)(?:\.([0-9]+))?$`)
)

// id reads a required id field.
func (p *parser) id(m *mapping, key string) string {
	s, n := p.scalar(m, key, true)
	if n == nil {
		return ""
	}
	if !idText.MatchString(s) {
		p.add(n.Line, join(m.path, key), "%q is not an id: use 1 to 32 of a-z, 0-9, _ and -, starting with a letter or digit", s)
	}
	return s
}

// durationRule bounds a duration field; a zero max means no upper bound.
type durationRule struct {
	def          time.Duration // used when the field is absent
	min, max     time.Duration
	wholeMinutes bool
}

// duration reads a duration field and checks it against r.
func (p *parser) duration(m *mapping, key string, required bool, r durationRule) time.Duration {
	s, n := p.scalar(m, key, required)
	if n == nil {
		return r.def
	}
	field := join(m.path, key)
	d, err := parseDuration(s)
	switch {
	case err != nil:
		p.add(n.Line, field, "%v", err)
	case d < r.min:
		p.add(n.Line, field, "%q must be at least %s", s, formatDuration(r.min))
	case r.max > 0 && d > r.max:
		p.add(n.Line, field, "%q must be at most %s", s, formatDuration(r.max))
	case r.wholeMinutes && d%time.Minute != 0:
		p.add(n.Line, field, "%q must be a whole number of minutes", s)
	}
	return d
}

// count reads an optional whole-number field from min to max, def when absent.
func (p *parser) count(m *mapping, key string, def, min, max int) int {
	s, n := p.scalar(m, key, false)
	if n == nil {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || !allDigits(s) || v < min || v > max {
		p.add(n.Line, join(m.path, key), "%q must be a whole number from %d to %d", s, min, max)
		return def
	}
	return v
}

// maxDays bounds the "d" part of a duration, far above any sensible value and far
// below an overflow.
const maxDays = 9999

// parseDuration reads a Go duration ("90m", "1h30m") or a whole number of days,
// optionally followed by a Go duration ("60d", "1d12h").
func parseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("duration %q is not like 90m, 1h30m or 60d", s)
	var days time.Duration
	rest := s
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || !allDigits(s[:i]) || n > maxDays {
			return 0, bad
		}
		days, rest = time.Duration(n)*24*time.Hour, s[i+1:]
		if rest == "" {
			return days, nil
		}
		if rest[0] == '+' || rest[0] == '-' {
			return 0, bad
		}
	}
	d, err := time.ParseDuration(rest)
	if err != nil || (days > 0 && d > math.MaxInt64-days) {
		return 0, bad
	}
	return days + d, nil
}

func allDigits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// formatDuration writes d the way the file would: 5m, 12h, 60d.
func formatDuration(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	s := d.String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	if s == "" {
		return "0"
	}
	return s
}

// maxPriceDigits keeps a price in minor units well inside int64.
const maxPriceDigits = 13

// parsePrice reads a decimal amount with at most two decimals into minor units,
// from its text, so that no float ever rounds it.
func parsePrice(s string) (int64, error) {
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("price %q must not be negative", s)
	}
	m := priceText.FindStringSubmatch(s)
	switch {
	case m == nil:
		return 0, fmt.Errorf("price %q is not a decimal amount like 35.00", s)
	case len(m[2]) > 2:
		return 0, fmt.Errorf("price %q has more than 2 decimals", s)
	case len(m[1]) > maxPriceDigits:
		return 0, fmt.Errorf("price %q is too large", s)
	}
	whole, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("price %q is not a decimal amount like 35.00", s)
	}
	frac := int64(0)
	if m[2] != "" {
		f, _ := strconv.Atoi(m[2])
		if len(m[2]) == 1 {
			f *= 10
		}
		frac = int64(f)
	}
	return whole*100 + frac, nil
}
