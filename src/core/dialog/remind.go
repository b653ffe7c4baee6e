package dialog

import (
	"maps"
	"slices"
	"time"

	"salonbook/src/core"
	"salonbook/src/core/i18n"
)

// Reminder is what a client is reminded of: one of their confirmed bookings, with
// the names the store knows. Reminders are sent outside any step (by a
// scheduler), to the chat the booking was made in; the buttons they carry come
// back to Step like any press.
type Reminder struct {
	BookingID string
	Lang      string            // the conversation's language; "" or one the salon lacks: the salon's first
	Start     time.Time         // the booking's start (UTC)
	Service   map[string]string // the service's names by locale
	Master    string            // the master's default name
	// MasterNames are the master's names by locale; nil: Master in every language.
	MasterNames map[string]string
}

// ReminderReply writes a reminder in the client's language and the salon's zone:
// the salon, its address, the service, the master and the time, with the buttons
// "I'll come", "Reschedule" and "Cancel" (their ids carry the start: a press
// after the booking moved is told so, not acted on).
func ReminderReply(catalog *i18n.Catalog, salon *core.Salon, r Reminder) Reply {
	lang := r.Lang
	if !slices.Contains(salon.Locales, lang) {
		lang = catalog.Match("", salon.Locales)
	}
	p := catalog.Printer(lang, salon.Timezone)
	text := p.T("remind.text", "Salon", salon.Name, "Service", serviceName(r.Service, lang, salon.Locales),
		"Master", masterName(r.MasterNames, lang, r.Master), "Time", p.DayTime(r.Start))
	if salon.Address != "" {
		text += "\n" + p.T("remind.address", "Address", salon.Address)
	}
	return Reply{Text: text, Choices: bookingChoices(p, r.BookingID, r.Start)}
}

// masterName is a master's name in lang, else the default name: a name is
// never shown in another language than the client's when it has one there.
func masterName(names map[string]string, lang, def string) string {
	if n := names[lang]; n != "" {
		return n
	}
	return def
}

// serviceName is a service's name in lang, else in the salon's languages in
// order, else in the first language by code: always the same one.
func serviceName(names map[string]string, lang string, locales []string) string {
	name := names[lang]
	for _, l := range slices.Concat(locales, slices.Sorted(maps.Keys(names))) {
		if name != "" {
			break
		}
		name = names[l]
	}
	return name
}
