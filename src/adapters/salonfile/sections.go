package salonfile

import (
	"cmp"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"salonbook/src/core"
	"salonbook/src/core/phone"
	"salonbook/src/core/staff"
)

// file walks the whole document. Sections are read in a fixed order, whatever
// their order in the file, because later ones are checked against earlier ones
// (service names against the salon's locales, masters against the services).
func (p *parser) file(data []byte) *File {
	root := p.decode(data)
	if root == nil {
		return nil
	}
	top := p.mapping(root, "", 1, "salon", "policy", "services", "masters", "staff")
	if top == nil {
		return nil
	}
	f := &File{StaffChats: map[string]int64{}}
	f.Salon = p.salon(top)
	f.Salon.Policy = p.policy(top)
	f.Services = p.services(top, f.Salon)
	f.Masters = p.masters(top, f, f.Salon.ID)
	f.Staff = p.staff(top, f.Masters)
	return f
}

func (p *parser) salon(top *mapping) core.Salon {
	var s core.Salon
	m := p.sub(top, "salon", true, "id", "name", "timezone", "locales", "phone", "address", "country", "privacy_url")
	if m == nil {
		return s
	}
	s.ID = p.id(m, "id")
	s.Name = p.text(m, "name", true)
	s.Timezone = p.timezone(m, "timezone")
	s.Locales = p.locales(m, "locales")
	s.Address = p.text(m, "address", false)
	s.Country = p.country(m, "country")
	s.Phone = p.salonPhone(m, "phone", s.Country)
	s.PrivacyURL = p.httpsURL(m, "privacy_url")
	return s
}

// country reads an ISO 3166-1 alpha-2 code that has a calling code ("DE",
// "de" is taken as "DE"): the region of phone numbers typed without one.
func (p *parser) country(m *mapping, key string) string {
	s, n := p.scalar(m, key, false)
	if n == nil {
		return ""
	}
	code := strings.ToUpper(strings.TrimSpace(s))
	if !phone.Region(code) {
		p.add(n.Line, join(m.path, key), "%q is not a country code like DE or RU (ISO 3166-1 alpha-2)", s)
		return ""
	}
	return code
}

// httpsURL reads an absolute https URL with a host, at most 500 bytes: a link
// clients are sent to.
func (p *parser) httpsURL(m *mapping, key string) string {
	s, n := p.scalar(m, key, false)
	if n == nil {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(s) > 500 ||
		strings.ContainsAny(s, " \t\r\n") {
		p.add(n.Line, join(m.path, key), "%q is not an https URL like https://example.com/privacy", s)
		return ""
	}
	return s
}

func (p *parser) timezone(m *mapping, key string) *time.Location {
	name, n := p.scalar(m, key, true)
	if n == nil {
		return nil
	}
	field := join(m.path, key)
	// LoadLocation reads "" as UTC and "Local" as wherever the server happens to
	// run; a salon's zone must be named.
	if name == "" || name == "Local" {
		p.add(n.Line, field, "%q is not an IANA time zone name like Europe/Berlin", name)
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		p.add(n.Line, field, "%q is not a known IANA time zone name like Europe/Berlin", name)
		return nil
	}
	return loc
}

func (p *parser) locales(m *mapping, key string) []string {
	items := p.list(m, key, true)
	field := join(m.path, key)
	var locales []string
	seen := map[string]bool{}
	for i, n := range items {
		s, ok := p.item(n, index(field, i))
		switch {
		case !ok:
		case !localeText.MatchString(s):
			p.add(n.Line, index(field, i), "%q is not a language tag like en, ru or pt-BR", s)
		case seen[s]:
			p.add(n.Line, index(field, i), "%q is listed twice", s)
		default:
			seen[s] = true
			locales = append(locales, s)
		}
	}
	return locales
}

// Policy defaults, documented in the package comment.
const (
	defaultSlotStep     = 15 * time.Minute
	defaultMinNotice    = time.Hour
	defaultHorizon      = 60 * 24 * time.Hour
	defaultHold         = 10 * time.Minute
	defaultCancelCutoff = 12 * time.Hour
	defaultMaxUpcoming  = 3
	maxMaxUpcoming      = 100
	defaultOffer        = 15 * time.Minute
	defaultSummary      = core.ClockTime(8 * 60)  // staff_summary: on
	latestSummary       = core.ClockTime(12 * 60) // a later summary would list a day mostly gone
	minReminder         = 15 * time.Minute
	maxReminder         = 7 * 24 * time.Hour
	// maxReminders is Google Calendar's limit on an event's reminder
	// overrides: the masters' calendar events carry the same reminders.
	maxReminders = 5
)

// defaultReminders is policy.reminders when the field is absent.
var defaultReminders = []time.Duration{24 * time.Hour, 2 * time.Hour}

func (p *parser) policy(top *mapping) core.Policy {
	pol := core.Policy{
		SlotStep:      defaultSlotStep,
		MinNotice:     defaultMinNotice,
		Horizon:       defaultHorizon,
		Hold:          defaultHold,
		CancelCutoff:  defaultCancelCutoff,
		MaxUpcoming:   defaultMaxUpcoming,
		Reminders:     slices.Clone(defaultReminders),
		WaitlistOffer: defaultOffer,
	}
	m := p.sub(top, "policy", false, "slot_step", "min_notice", "horizon", "hold", "cancel_cutoff", "max_upcoming",
		"reminders", "waitlist_offer", "staff_summary", "deposit_when", "payment_window", "deposit_refund",
		"ads_phone_consent")
	if m == nil {
		return pol
	}
	const day = 24 * time.Hour
	pol.SlotStep = p.duration(m, "slot_step", false, durationRule{def: defaultSlotStep, min: 5 * time.Minute, wholeMinutes: true})
	pol.MinNotice = p.duration(m, "min_notice", false, durationRule{def: defaultMinNotice, max: 366 * day})
	pol.Horizon = p.duration(m, "horizon", false, durationRule{def: defaultHorizon, min: day, max: 366 * day})
	pol.Hold = p.duration(m, "hold", false, durationRule{def: defaultHold, min: time.Minute, max: day})
	pol.CancelCutoff = p.duration(m, "cancel_cutoff", false, durationRule{def: defaultCancelCutoff, max: 366 * day})
	pol.MaxUpcoming = p.count(m, "max_upcoming", defaultMaxUpcoming, 1, maxMaxUpcoming)
	if _, ok := m.keys["reminders"]; ok {
		pol.Reminders = p.reminders(m, "reminders")
	}
	pol.WaitlistOffer = p.duration(m, "waitlist_offer", false, durationRule{def: defaultOffer, min: time.Minute, max: day, wholeMinutes: true})
	pol.StaffSummary = p.summary(m, "staff_summary")
	p.deposits(m, &pol)
	if s, n := p.scalar(m, "ads_phone_consent", false); n != nil {
		switch strings.TrimSpace(s) {
		case "true":
			pol.AdsPhoneConsent = true
		case "false":
		default:
			p.add(n.Line, join(m.path, "ads_phone_consent"), "%q must be true or false", s)
		}
	}
	return pol
}

// reminders reads policy.reminders: a list of offsets from 15m to 7d, each once,
// returned longest first; an empty list turns reminders off.
func (p *parser) reminders(m *mapping, key string) []time.Duration {
	items := p.list(m, key, false)
	field := join(m.path, key)
	if len(items) > maxReminders {
		p.add(items[maxReminders].Line, index(field, maxReminders), "at most %d reminders (Google Calendar's limit for the masters' events)", maxReminders)
		return nil
	}
	out := []time.Duration{}
	seen := map[time.Duration]bool{}
	for i, n := range items {
		s, ok := p.item(n, index(field, i))
		if !ok {
			continue
		}
		d, err := parseDuration(s)
		switch {
		case err != nil:
			p.add(n.Line, index(field, i), "%v", err)
		case d < minReminder || d > maxReminder:
			p.add(n.Line, index(field, i), "%q must be from %s to %s before the start", s, formatDuration(minReminder), formatDuration(maxReminder))
		case seen[d]:
			p.add(n.Line, index(field, i), "%q is listed twice", s)
		default:
			seen[d] = true
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b time.Duration) int { return cmp.Compare(b, a) })
	return out
}

// summary reads policy.staff_summary: a local time "HH:MM" from 00:00 to
// 12:00; on (or true) for 08:00; off, false or null for none. Absent is off,
// so a salon upgraded to a version with summaries gets none until its file
// asks for them.
func (p *parser) summary(m *mapping, key string) *core.ClockTime {
	n, ok := m.keys[key]
	if !ok || isNull(m.values[key]) {
		return nil
	}
	s, sn := p.scalar(m, key, false)
	if sn == nil {
		return nil
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "off", "false":
		return nil
	case "on", "true":
		at := defaultSummary
		return &at
	}
	at, err := core.ParseClock(s)
	switch {
	case err != nil || at >= 24*60:
		p.add(n.Line, join(m.path, key), "%q must be a local time like 08:00, on (08:00) or off", s)
		return nil
	case at > latestSummary:
		p.add(n.Line, join(m.path, key), "%q is after %s: the summary lists the day ahead, so it goes in the morning (%s by default)",
			s, latestSummary, defaultSummary)
		return nil
	}
	return &at
}

func (p *parser) services(top *mapping, salon core.Salon) []core.Service {
	items := p.list(top, "services", true)
	var services []core.Service
	seen := map[string]int{} // id → line
	for i, n := range items {
		path := index("services", i)
		m := p.mapping(n, path, n.Line,
			"id", "name", "duration", "price", "currency", "buffer_before", "buffer_after", "deposit", "aliases")
		if m == nil {
			continue
		}
		s := core.Service{SalonID: salon.ID, Active: true}
		s.ID = p.id(m, "id")
		p.unique(seen, s.ID, m, "id")
		s.Name = p.names(m, "name", salon.Locales)
		s.Duration = p.duration(m, "duration", true, durationRule{min: 5 * time.Minute, wholeMinutes: true})
		s.BufferBefore = p.duration(m, "buffer_before", false, durationRule{wholeMinutes: true, max: 24 * time.Hour})
		s.BufferAfter = p.duration(m, "buffer_after", false, durationRule{wholeMinutes: true, max: 24 * time.Hour})
		price, pn := p.scalar(m, "price", true)
		if pn != nil {
			minor, err := parsePrice(price)
			if err != nil {
				p.add(pn.Line, join(path, "price"), "%v", err)
			}
			s.Price.Minor = minor
		}
		if cur, cn := p.scalar(m, "currency", true); cn != nil {
			if !currencyText.MatchString(cur) {
				p.add(cn.Line, join(path, "currency"), "%q is not a currency code like EUR", cur)
			}
			s.Price.Currency = cur
		}
		if pn != nil && core.CurrencyDecimals(s.Price.Currency) == 0 && s.Price.Minor%100 != 0 {
			p.add(pn.Line, join(path, "price"), "%q has decimals, but %s amounts are whole", price, s.Price.Currency)
		}
		s.Deposit = p.deposit(m, "deposit", s.Price)
		s.Aliases = p.aliases(m)
		services = append(services, s)
	}
	return services
}

// unique records a problem when id was already seen in its list.
func (p *parser) unique(seen map[string]int, id string, m *mapping, key string) {
	if id == "" {
		return
	}
	line := m.keys[key].Line
	if first, ok := seen[id]; ok {
		p.add(line, join(m.path, key), "duplicate id %q (first on line %d)", id, first)
		return
	}
	seen[id] = line
}

// names reads a service's name in each locale. Names must be in the salon's
// locales, and one must be in its first, which clients see by default.
func (p *parser) names(m *mapping, key string, locales []string) map[string]string {
	nm := p.sub(m, key, true)
	if nm == nil {
		return nil
	}
	allowed := map[string]bool{}
	for _, loc := range locales {
		allowed[loc] = true
	}
	names := map[string]string{}
	for _, loc := range nm.order {
		field := join(nm.path, loc)
		k := nm.keys[loc]
		switch {
		case !localeText.MatchString(loc):
			p.add(k.Line, field, "%q is not a language tag like en, ru or pt-BR", loc)
			continue
		case len(locales) > 0 && !allowed[loc]:
			p.add(k.Line, field, "locale %q is not in salon.locales", loc)
			continue
		}
		if s := p.text(nm, loc, true); s != "" {
			names[loc] = s
		}
	}
	if len(locales) > 0 && nm.keys[locales[0]] == nil {
		p.add(nm.line, nm.path, "needs a name in %q, the salon's first locale", locales[0])
	}
	return names
}

// masterName reads a master's name: one name for every language (name: Anna),
// or one per locale as for services (name: {en: Anna, ru: Анна}), the first
// locale's being the default shown where a language has none.
func (p *parser) masterName(m *mapping, locales []string) (string, map[string]string) {
	if v := p.get(m, "name", false); v != nil && v.Kind == yaml.MappingNode {
		names := p.names(m, "name", locales)
		def := ""
		if len(locales) > 0 {
			def = names[locales[0]]
		}
		for _, l := range slices.Sorted(maps.Keys(names)) {
			if def == "" {
				def = names[l]
			}
		}
		return def, names
	}
	return p.text(m, "name", true), nil
}

func (p *parser) masters(top *mapping, f *File, salonID string) []core.Master {
	services := map[string]bool{}
	for _, s := range f.Services {
		services[s.ID] = true
	}
	items := p.list(top, "masters", true)
	var masters []core.Master
	seen := map[string]int{}
	for i, n := range items {
		path := index("masters", i)
		m := p.mapping(n, path, n.Line,
			"id", "name", "services", "hours", "days_off", "calendar", "telegram_chat_id", "aliases")
		if m == nil {
			continue
		}
		ms := core.Master{SalonID: salonID, Active: true}
		ms.ID = p.id(m, "id")
		p.unique(seen, ms.ID, m, "id")
		ms.Name, ms.Names = p.masterName(m, f.Salon.Locales)
		ms.Services = p.masterServices(m, services)
		ms.Hours = p.hours(m)
		ms.DaysOff = p.daysOff(m)
		ms.Calendar = p.text(m, "calendar", false)
		ms.Aliases = p.aliases(m)
		if chat, ok := p.chatID(m); ok && ms.ID != "" {
			f.StaffChats[ms.ID] = chat
		}
		masters = append(masters, ms)
	}
	return masters
}

func (p *parser) masterServices(m *mapping, known map[string]bool) []string {
	field := join(m.path, "services")
	var ids []string
	seen := map[string]bool{}
	for i, n := range p.list(m, "services", true) {
		s, ok := p.item(n, index(field, i))
		switch {
		case !ok:
		case !known[s]:
			p.add(n.Line, index(field, i), "unknown service %q", s)
		case seen[s]:
			p.add(n.Line, index(field, i), "service %q is listed twice", s)
		default:
			seen[s] = true
			ids = append(ids, s)
		}
	}
	return ids
}

func (p *parser) daysOff(m *mapping) []core.Date {
	field := join(m.path, "days_off")
	var days []core.Date
	seen := map[core.Date]bool{}
	for i, n := range p.list(m, "days_off", false) {
		s, ok := p.item(n, index(field, i))
		if !ok {
			continue
		}
		d, err := core.ParseDate(s)
		switch {
		case err != nil:
			p.add(n.Line, index(field, i), "%v", err)
		case seen[d]:
			p.add(n.Line, index(field, i), "day %s is listed twice", d)
		default:
			seen[d] = true
			days = append(days, d)
		}
	}
	return days
}

// chatID reads the optional Telegram chat id. Group chats have negative ids.
func (p *parser) chatID(m *mapping) (int64, bool) {
	s, n := p.scalar(m, "telegram_chat_id", false)
	if n == nil {
		return 0, false
	}
	field := join(m.path, "telegram_chat_id")
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	switch {
	case err != nil:
		p.add(n.Line, field, "%q is not a Telegram chat id (a whole number)", s)
		return 0, false
	case id == 0:
		p.add(n.Line, field, "must not be 0")
		return 0, false
	}
	return id, true
}

// staff reads the optional list of desk accounts: a login each, its role, and
// for a master's account the master it is. Passwords are never in the file.
func (p *parser) staff(top *mapping, masters []core.Master) []staff.Account {
	known := map[string]bool{}
	for _, m := range masters {
		known[m.ID] = true
	}
	var out []staff.Account
	seen := map[string]int{}
	for i, n := range p.list(top, "staff", false) {
		path := index("staff", i)
		m := p.mapping(n, path, n.Line, "login", "role", "master")
		if m == nil {
			continue
		}
		var a staff.Account
		if login, ln := p.scalar(m, "login", true); ln != nil {
			field := join(path, "login")
			switch {
			case !staff.LoginPattern.MatchString(login):
				p.add(ln.Line, field, "%q is not a login: lower-case letters, digits, '.', '_' and '-', at most 64, starting with a letter or digit", login)
			case seen[login] != 0:
				p.add(ln.Line, field, "login %q is listed twice (first on line %d)", login, seen[login])
			default:
				seen[login] = ln.Line
				a.Login = login
			}
		}
		if role, rn := p.scalar(m, "role", true); rn != nil {
			a.Role = staff.Role(role)
			if !a.Role.Valid() {
				p.add(rn.Line, join(path, "role"), "%q is not a role: owner or master", role)
			}
		}
		master, mn := p.scalar(m, "master", false)
		switch {
		case a.Role == staff.Master && mn == nil:
			p.add(m.line, join(path, "master"), "is required for role master: the id of the master this account is")
		case a.Role == staff.Owner && mn != nil:
			p.add(mn.Line, join(path, "master"), "an owner's account belongs to no master; leave master out")
		case mn != nil && !known[master]:
			p.add(mn.Line, join(path, "master"), "unknown master %q", master)
		case a.Role == staff.Master:
			a.MasterID = master
		}
		out = append(out, a)
	}
	return out
}
