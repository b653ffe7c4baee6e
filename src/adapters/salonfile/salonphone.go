package salonfile

import (
	"salonbook/src/core/phone"
)

// salonPhone reads the salon's phone, shown to clients (the booked message,
// a refused cancel): a number that can be dialled, with its country code or
// of the salon's country; kept as written (its spacing is the salon's).
func (p *parser) salonPhone(m *mapping, key, country string) string {
	s, n := p.scalar(m, key, false)
	if n == nil {
		return ""
	}
	if _, ok := phone.Parse(s, country, phone.Possible); !ok {
		p.add(n.Line, join(m.path, key), "%q is not a phone number like +49 30 1234567", s)
		return ""
	}
	return s
}
