package dialog

import (
	"strings"
	"time"

	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/i18n"
)

// StaffNotice is what a master is told of a change to one of their confirmed
// bookings (booking.Change, with the names the store knows).
type StaffNotice struct {
	Kind        booking.ChangeKind
	Start, From time.Time         // From: the old start, for Moved
	Service     map[string]string // the service's names by locale
	Client      string            // the client's name as stored
	Master      string            // the master's default name
	MasterNames map[string]string // the master's names by locale; nil: Master in every language
	Deposit     core.Money        // the booking's deposit; zero when none was asked
	DepositTo   core.DepositState // where it stands after the change
}

// StaffText writes staff notices (messages staff.booked, staff.moved,
// staff.cancelled) in the salon's first language and zone. It names the client
// by first name only: staff chats are no place for full names or phones.
func StaffText(catalog *i18n.Catalog, salon *core.Salon) func(StaffNotice) string {
	lang := catalog.Match("", salon.Locales)
	p := catalog.Printer(lang, salon.Timezone)
	return func(n StaffNotice) string {
		service := serviceName(n.Service, lang, salon.Locales)
		client, _, _ := strings.Cut(strings.TrimSpace(n.Client), " ")
		text := p.T("staff."+string(n.Kind), "Service", service, "Client", client, "Master", masterName(n.MasterNames, lang, n.Master),
			"Time", p.DayTime(n.Start), "From", p.DayTime(n.From))
		switch n.DepositTo {
		case core.DepositPaid, core.DepositRefundDue, core.DepositKept:
			if n.Kind == booking.Booked || n.Kind == booking.Cancelled {
				text += " " + p.T("staff.deposit."+string(n.DepositTo), "Deposit", p.Price(n.Deposit))
			}
		}
		return text
	}
}
