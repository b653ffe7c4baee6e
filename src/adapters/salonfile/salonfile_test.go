package salonfile_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/salonfile"
	"salonbook/src/core"
	"salonbook/src/core/dialog"
	"salonbook/src/core/staff"
)

func TestParseFullFile(t *testing.T) {
	t.Parallel()

	f, err := salonfile.Load(filepath.Join("testdata", "full.yaml"))
	require.NoError(t, err)
	summary := core.ClockTime(7*60 + 45)

	s := f.Salon
	require.Equal(t, "demo", s.ID)
	require.Equal(t, "Studio Anna", s.Name)
	require.Equal(t, "Europe/Berlin", s.Timezone.String())
	require.Equal(t, []string{"en", "ru"}, s.Locales)
	require.Equal(t, "+49 30 1234567", s.Phone)
	require.Equal(t, "Torstraße 1, Berlin", s.Address)
	require.Equal(t, "DE", s.Country, "de is read as DE")
	require.Equal(t, "https://salon.example/privacy", s.PrivacyURL)
	require.Equal(t, core.Policy{
		SlotStep:      15 * time.Minute,
		MinNotice:     2 * time.Hour,
		Horizon:       60 * 24 * time.Hour,
		Hold:          10 * time.Minute,
		CancelCutoff:  12 * time.Hour,
		MaxUpcoming:   5,
		Reminders:     []time.Duration{24 * time.Hour, 90 * time.Minute},
		WaitlistOffer: 20 * time.Minute,
		StaffSummary:  &summary,
	}, s.Policy)

	require.Equal(t, []core.Service{
		{
			SalonID: "demo", ID: "haircut", Name: map[string]string{"en": "Haircut", "ru": "Стрижка"},
			Duration: 45 * time.Minute, BufferAfter: 15 * time.Minute,
			Price: core.Money{Minor: 3500, Currency: "EUR"}, Active: true, Aliases: []string{"cut", "подстричься"},
		},
		{
			SalonID: "demo", ID: "colouring", Name: map[string]string{"en": "Colouring", "ru": "Окрашивание"},
			Duration: 2 * time.Hour, BufferBefore: 5 * time.Minute, BufferAfter: 15 * time.Minute,
			Price: core.Money{Minor: 12050, Currency: "EUR"}, Active: true,
		},
		{
			SalonID: "demo", ID: "trim", Name: map[string]string{"en": "Beard trim"},
			Duration: 30 * time.Minute,
			Price:    core.Money{Minor: 1900, Currency: "EUR"}, Active: true,
		},
	}, f.Services)

	require.Len(t, f.Masters, 2)
	anna := f.Masters[0]
	require.Equal(t, "demo", anna.SalonID)
	require.Equal(t, "anna", anna.ID)
	require.Equal(t, "Anna", anna.Name)
	require.True(t, anna.Active)
	require.Equal(t, []string{"haircut", "colouring"}, anna.Services)
	require.Equal(t, []core.ClockRange{{Start: 9 * 60, End: 13 * 60}, {Start: 14 * 60, End: 19 * 60}}, anna.Hours[time.Monday])
	require.Equal(t, []core.ClockRange{{Start: 20 * 60, End: 2 * 60}}, anna.Hours[time.Saturday])
	require.True(t, anna.Hours[time.Saturday][0].CrossesMidnight())
	require.Empty(t, anna.Hours[time.Sunday])
	require.Equal(t, []core.Date{{Year: 2027, Month: time.January, Day: 1}, {Year: 2027, Month: time.December, Day: 24}}, anna.DaysOff)
	require.Equal(t, "anna@example.com", anna.Calendar)
	require.Equal(t, []string{"Анна", "Аня"}, anna.Aliases)

	boris := f.Masters[1]
	require.Equal(t, []core.ClockRange{{Start: 10 * 60, End: 18 * 60}}, boris.Hours[time.Tuesday])
	require.Equal(t, boris.Hours[time.Tuesday], boris.Hours[time.Wednesday], "an alias shares the ranges")
	require.Equal(t, []core.ClockRange{{Start: 22 * 60, End: 24 * 60}}, boris.Hours[time.Sunday])
	require.False(t, boris.Hours[time.Sunday][0].CrossesMidnight())
	require.Empty(t, boris.DaysOff)
	require.Empty(t, boris.Calendar)
	require.Nil(t, boris.Aliases)

	require.Equal(t, map[string]int64{"anna": 12345}, f.StaffChats)
}

func TestParseDefaults(t *testing.T) {
	t.Parallel()

	f, err := salonfile.Parse([]byte(minimal))
	require.NoError(t, err)
	require.Equal(t, core.Policy{
		SlotStep:      15 * time.Minute,
		MinNotice:     time.Hour,
		Horizon:       60 * 24 * time.Hour,
		Hold:          10 * time.Minute,
		CancelCutoff:  12 * time.Hour,
		MaxUpcoming:   3,
		Reminders:     []time.Duration{24 * time.Hour, 2 * time.Hour},
		WaitlistOffer: 15 * time.Minute,
		StaffSummary:  nil, // absent is off: no surprise messages to a salon after an upgrade
	}, f.Salon.Policy)
	require.Zero(t, f.Services[0].BufferBefore)
	require.Zero(t, f.Services[0].BufferAfter)
	require.NotNil(t, f.StaffChats)
	require.Empty(t, f.StaffChats)
}

func TestParseAfterBookingPolicy(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct {
		name      string
		policy    string
		reminders []time.Duration
		offer     time.Duration
		summary   string // "" is off
	}{
		{"Off", "policy: {reminders: [], staff_summary: off}\n", []time.Duration{}, 15 * time.Minute, ""},
		{"NullSummary", "policy: {staff_summary: null}\n", []time.Duration{24 * time.Hour, 2 * time.Hour}, 15 * time.Minute, ""},
		{"FalseSummary", "policy: {staff_summary: false}\n", []time.Duration{24 * time.Hour, 2 * time.Hour}, 15 * time.Minute, ""},
		{"OnSummary", "policy: {staff_summary: on}\n", []time.Duration{24 * time.Hour, 2 * time.Hour}, 15 * time.Minute, "08:00"},
		{"TrueSummary", "policy: {staff_summary: true}\n", []time.Duration{24 * time.Hour, 2 * time.Hour}, 15 * time.Minute, "08:00"},
		{"NoonSummary", "policy: {staff_summary: \"12:00\"}\n", []time.Duration{24 * time.Hour, 2 * time.Hour}, 15 * time.Minute, "12:00"},
		{"MidnightSummary", "policy: {staff_summary: \"00:00\"}\n", []time.Duration{24 * time.Hour, 2 * time.Hour}, 15 * time.Minute, "00:00"},
		{"SortedLongestFirst", "policy: {reminders: [15m, 7d, 1d2h], waitlist_offer: 5m, staff_summary: \"07:30\"}\n",
			[]time.Duration{7 * 24 * time.Hour, 26 * time.Hour, 15 * time.Minute}, 5 * time.Minute, "07:30"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := salonfile.Parse([]byte(minimal + tc.policy))
			require.NoError(t, err)
			require.Equal(t, tc.reminders, f.Salon.Policy.Reminders)
			require.Equal(t, tc.offer, f.Salon.Policy.WaitlistOffer)
			if tc.summary == "" {
				require.Nil(t, f.Salon.Policy.StaffSummary)
			} else {
				require.NotNil(t, f.Salon.Policy.StaffSummary)
				require.Equal(t, tc.summary, f.Salon.Policy.StaffSummary.String())
			}
		})
	}
}

func TestParseDurationsAndPrices(t *testing.T) {
	t.Parallel()

	f, err := salonfile.Parse([]byte(`
salon: {id: demo, name: Demo, timezone: UTC, locales: [en]}
policy: {slot_step: 1h30m, min_notice: 0, horizon: 1d12h, hold: 24h, cancel_cutoff: 2d}
services:
  - {id: a, name: {en: A}, duration: 90m, price: "0", currency: EUR}
  - {id: b, name: {en: B}, duration: 5m, price: "0.5", currency: EUR}
  - {id: c, name: {en: C}, duration: 1h, price: "1234567.89", currency: EUR}
  - {id: d, name: {en: D}, duration: 1h, price: "3500.00", currency: JPY}
masters:
  - {id: m, name: M, services: [a, b, c, d], hours: {mon: ["00:00-24:00"]}, telegram_chat_id: -1001234567890}
`))
	require.NoError(t, err)
	require.Equal(t, 90*time.Minute, f.Salon.Policy.SlotStep)
	require.Zero(t, f.Salon.Policy.MinNotice)
	require.Equal(t, 36*time.Hour, f.Salon.Policy.Horizon)
	require.Equal(t, 48*time.Hour, f.Salon.Policy.CancelCutoff)
	require.Equal(t, int64(0), f.Services[0].Price.Minor)
	require.Equal(t, int64(50), f.Services[1].Price.Minor)
	require.Equal(t, int64(123456789), f.Services[2].Price.Minor)
	require.Equal(t, int64(350000), f.Services[3].Price.Minor, "yen have no decimals: .00 is whole")
	require.Equal(t, int64(-1001234567890), f.StaffChats["m"])
}

func TestParseDemoSalon(t *testing.T) {
	t.Parallel()

	f, err := salonfile.Load(filepath.Join("..", "..", "..", "scripts", "demo-salon.yaml"))
	require.NoError(t, err)
	require.Equal(t, "Studio Anna", f.Salon.Name)
	require.Equal(t, "Europe/Berlin", f.Salon.Timezone.String())
	require.Equal(t, []string{"en", "ru"}, f.Salon.Locales)
	require.Equal(t, "DE", f.Salon.Country)
	require.Equal(t, "https://example.com/privacy", f.Salon.PrivacyURL)
	require.Len(t, f.Services, 4)
	require.Len(t, f.Masters, 3)
	for _, s := range f.Services {
		require.NotEmpty(t, s.Name["en"], s.ID)
		require.NotEmpty(t, s.Name["ru"], s.ID)
		require.Equal(t, "EUR", s.Price.Currency)
	}
	crossing := 0
	for _, m := range f.Masters {
		for _, day := range m.Hours {
			for _, r := range day {
				if r.CrossesMidnight() {
					crossing++
				}
			}
		}
	}
	require.Equal(t, 1, crossing, "one late shift crosses midnight")
	for _, m := range f.Masters {
		require.NotEmpty(t, m.Names["ru"], "%s has a Russian name", m.ID)
		require.Equal(t, m.Names["en"], m.Name, "the default name is the first locale's")
	}
	// The service and master buttons show these names whole on every channel
	// (dialog cuts a longer one with "…").
	for _, lang := range f.Salon.Locales {
		for _, s := range f.Services {
			name := s.NameIn(lang)
			require.LessOrEqual(t, utf8.RuneCountInString(name), dialog.MaxChoiceLabelRune, "%s %q", lang, name)
		}
		for _, m := range f.Masters {
			name := m.NameIn(lang)
			require.LessOrEqual(t, utf8.RuneCountInString(name), dialog.MaxChoiceLabelRune, "%s %q", lang, name)
		}
	}
}

func TestParseMasterNames(t *testing.T) {
	t.Parallel()

	one, err := salonfile.Parse([]byte(minimal))
	require.NoError(t, err)
	require.Equal(t, "Anna", one.Masters[0].Name)
	require.Nil(t, one.Masters[0].Names, "one name for every language")
	require.Equal(t, "Anna", one.Masters[0].NameIn("ru"))

	two := strings.Replace(edit(t, "    name: Anna\n", "    name: {ru: Анна, en: Anna}\n"), "locales: [en]", "locales: [en, ru]", 1)
	f, err := salonfile.Parse([]byte(two))
	require.NoError(t, err)
	m := f.Masters[0]
	require.Equal(t, "Anna", m.Name, "the salon's first locale is the default")
	require.Equal(t, map[string]string{"en": "Anna", "ru": "Анна"}, m.Names)
	require.Equal(t, "Анна", m.NameIn("ru"))
	require.Equal(t, "Anna", m.NameIn("de"), "a language without a name: the default")
}

// minimal is the smallest valid file; the invalid cases below are variations of it,
// with its line numbers:
//
//	1 salon
//	2 services:
//	3   - service cut
//	4 masters:
//	5   - id: anna
//	6     name: Anna
//	7     services: [cut]
//	8     hours: ...
const minimal = `salon: {id: demo, name: Demo, timezone: Europe/Berlin, locales: [en]}
services:
  - {id: cut, name: {en: Cut}, duration: 30m, price: "10.00", currency: EUR}
masters:
  - id: anna
    name: Anna
    services: [cut]
    hours: {mon: ["09:00-18:00"]}
`

// edit replaces old, which must occur in minimal, with new.
func edit(t *testing.T, old, new string) string {
	t.Helper()
	require.Contains(t, minimal, old)
	return strings.Replace(minimal, old, new, 1)
}

func TestParseStaff(t *testing.T) {
	t.Parallel()
	f, err := salonfile.Parse([]byte(minimal + `staff:
  - {login: olga, role: owner}
  - login: anna.k
    role: master
    master: anna
`))
	require.NoError(t, err)
	require.Equal(t, []staff.Account{
		{Login: "olga", Role: staff.Owner},
		{Login: "anna.k", Role: staff.Master, MasterID: "anna"},
	}, f.Staff)

	f, err = salonfile.Parse([]byte(minimal))
	require.NoError(t, err)
	require.Empty(t, f.Staff)
}

// TestParseRejectsStaff: every problem of the staff section, each with its line.
func TestParseRejectsStaff(t *testing.T) {
	t.Parallel()
	_, err := salonfile.Parse([]byte(minimal + `staff:
  - {login: Olga, role: owner}
  - {login: boss, role: admin}
  - {login: anna, role: master}
  - {login: zoe, role: master, master: zoe}
  - {login: owner2, role: owner, master: anna}
  - {login: boss, role: owner}
  - {login: x, role: owner, password: secret}
`))
	require.Equal(t, core.EInvalid, core.ErrorCode(err))
	require.Equal(t, "salonfile: invalid salon file:\n"+strings.Join([]string{
		`line 10: staff[0].login: "Olga" is not a login: lower-case letters, digits, '.', '_' and '-', at most 64, starting with a letter or digit`,
		`line 11: staff[1].role: "admin" is not a role: owner or master`,
		`line 12: staff[2].master: is required for role master: the id of the master this account is`,
		`line 13: staff[3].master: unknown master "zoe"`,
		`line 14: staff[4].master: an owner's account belongs to no master; leave master out`,
		`line 15: staff[5].login: login "boss" is listed twice (first on line 11)`,
		`line 16: staff[6].password: unknown field; known fields are login, role, master`,
	}, "\n"), err.Error())
}

func TestParseRejects(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		file  func(t *testing.T) string
		line  int
		field string
		msg   string // the whole first problem, as Error formats it
	}{
		{
			name:  "UnknownTopLevelField",
			file:  func(t *testing.T) string { return minimal + "colour: red\n" },
			line:  9,
			field: "colour",
			msg:   "line 9: colour: unknown field; known fields are salon, policy, services, masters, staff",
		},
		{
			name:  "MasterNameNotInLocales",
			file:  func(t *testing.T) string { return edit(t, "    name: Anna\n", "    name: {en: Anna, ru: Анна}\n") },
			line:  6,
			field: "masters[0].name.ru",
			msg:   `line 6: masters[0].name.ru: locale "ru" is not in salon.locales`,
		},
		{
			name:  "MasterNameWithoutFirstLocale",
			file:  func(t *testing.T) string { return edit(t, "    name: Anna\n", "    name: {}\n") },
			line:  6,
			field: "masters[0].name",
			msg:   `line 6: masters[0].name: needs a name in "en", the salon's first locale`,
		},
		{
			name:  "MasterNameList",
			file:  func(t *testing.T) string { return edit(t, "    name: Anna\n", "    name: [Anna, Анна]\n") },
			line:  6,
			field: "masters[0].name",
			msg:   `line 6: masters[0].name: must be a single value, not a list`,
		},
		{
			name:  "BadSalonPhone",
			file:  func(t *testing.T) string { return edit(t, "locales: [en]}", "locales: [en], phone: call us}") },
			line:  1,
			field: "salon.phone",
			msg:   `line 1: salon.phone: "call us" is not a phone number like +49 30 1234567`,
		},
		{
			name:  "BadCountry",
			file:  func(t *testing.T) string { return edit(t, "locales: [en]}", "locales: [en], country: XX}") },
			line:  1,
			field: "salon.country",
			msg:   `line 1: salon.country: "XX" is not a country code like DE or RU (ISO 3166-1 alpha-2)`,
		},
		{
			name: "PrivacyURLNotHTTPS",
			file: func(t *testing.T) string {
				return edit(t, "locales: [en]}", "locales: [en], privacy_url: 'http://example.com/p'}")
			},
			line:  1,
			field: "salon.privacy_url",
			msg:   `line 1: salon.privacy_url: "http://example.com/p" is not an https URL like https://example.com/privacy`,
		},
		{
			name:  "PrivacyURLNoHost",
			file:  func(t *testing.T) string { return edit(t, "locales: [en]}", "locales: [en], privacy_url: 'https:/p'}") },
			line:  1,
			field: "salon.privacy_url",
			msg:   `line 1: salon.privacy_url: "https:/p" is not an https URL like https://example.com/privacy`,
		},
		{
			name:  "UnknownMasterField",
			file:  func(t *testing.T) string { return edit(t, "    name: Anna\n", "    name: Anna\n    nickname: Annie\n") },
			line:  7,
			field: "masters[0].nickname",
			msg:   "line 7: masters[0].nickname: unknown field; known fields are id, name, services, hours, days_off, calendar, telegram_chat_id, aliases",
		},
		{
			name:  "AliasThatIsAMenuWord",
			file:  func(t *testing.T) string { return edit(t, "currency: EUR}", "currency: EUR, aliases: [trim, cancel]}") },
			line:  3,
			field: "services[0].aliases[1]",
			msg:   `line 3: services[0].aliases[1]: "cancel" cannot be an alias: clients typing it would mean "cancel"`,
		},
		{
			name: "AliasThatIsADay",
			file: func(t *testing.T) string {
				return edit(t, "    name: Anna\n", "    name: Anna\n    aliases: [Аня, пятница]\n")
			},
			line:  7,
			field: "masters[0].aliases[1]",
			msg:   `line 7: masters[0].aliases[1]: "пятница" cannot be an alias: clients typing it would name a day`,
		},
		{
			name:  "AliasThatIsATime",
			file:  func(t *testing.T) string { return edit(t, "currency: EUR}", "currency: EUR, aliases: [5pm cut]}") },
			line:  3,
			field: "services[0].aliases[0]",
			msg:   `line 3: services[0].aliases[0]: "5pm cut" cannot be an alias: clients typing it would name a time`,
		},
		{
			name: "AliasOfStopWordsOnly",
			file: func(t *testing.T) string {
				return edit(t, "currency: EUR}", "currency: EUR, aliases: [with me please]}")
			},
			line:  3,
			field: "services[0].aliases[0]",
			msg: `line 3: services[0].aliases[0]: "with me please" cannot be an alias: it has only words that name nothing ` +
				`on their own (like "with", "please", "мастер")`,
		},
		{
			name:  "AliasWithoutLetters",
			file:  func(t *testing.T) string { return edit(t, "currency: EUR}", "currency: EUR, aliases: [\"42\"]}") },
			line:  3,
			field: "services[0].aliases[0]",
			msg:   `line 3: services[0].aliases[0]: "42" cannot be an alias: it has no letters`,
		},
		{
			name:  "AliasTwice",
			file:  func(t *testing.T) string { return edit(t, "currency: EUR}", "currency: EUR, aliases: [trim, Trim]}") },
			line:  3,
			field: "services[0].aliases[1]",
			msg:   `line 3: services[0].aliases[1]: "Trim" is listed twice`,
		},
		{
			name:  "AliasEmpty",
			file:  func(t *testing.T) string { return edit(t, "currency: EUR}", "currency: EUR, aliases: [\" \"]}") },
			line:  3,
			field: "services[0].aliases[0]",
			msg:   `line 3: services[0].aliases[0]: must not be empty`,
		},
		{
			name: "AliasTooLong",
			file: func(t *testing.T) string {
				return edit(t, "currency: EUR}", "currency: EUR, aliases: ["+strings.Repeat("a", 61)+"]}")
			},
			line:  3,
			field: "services[0].aliases[0]",
			msg:   `line 3: services[0].aliases[0]: "` + strings.Repeat("a", 61) + `" is longer than 60 characters`,
		},
		{
			name: "TooManyAliases",
			file: func(t *testing.T) string {
				var list []string
				for i := range 21 {
					list = append(list, fmt.Sprintf("trim%c", 'a'+i))
				}
				return edit(t, "currency: EUR}", "currency: EUR, aliases: ["+strings.Join(list, ", ")+"]}")
			},
			line:  3,
			field: "services[0].aliases[20]",
			msg:   `line 3: services[0].aliases[20]: at most 20 aliases`,
		},
		{
			name:  "AliasesNotAList",
			file:  func(t *testing.T) string { return edit(t, "currency: EUR}", "currency: EUR, aliases: trim}") },
			line:  3,
			field: "services[0].aliases",
			msg:   `line 3: services[0].aliases: must be a list, not a value`,
		},
		{
			name:  "BadTime",
			file:  func(t *testing.T) string { return edit(t, `["09:00-18:00"]`, `["09:00-13:00", "14:00-25:00"]`) },
			line:  8,
			field: "masters[0].hours.mon[1]",
			msg:   `line 8: masters[0].hours.mon[1]: "14:00-25:00": time "25:00" is not HH:MM`,
		},
		{
			name:  "BadRange",
			file:  func(t *testing.T) string { return edit(t, `["09:00-18:00"]`, `["9-18"]`) },
			line:  8,
			field: "masters[0].hours.mon[0]",
			msg:   `line 8: masters[0].hours.mon[0]: range "9-18" is not HH:MM-HH:MM`,
		},
		{
			name: "UnknownWeekday",
			file: func(t *testing.T) string {
				return edit(t, `{mon: ["09:00-18:00"]}`, "\n      monday: [\"09:00-18:00\"]")
			},
			line:  9,
			field: "masters[0].hours.monday",
			msg:   "line 9: masters[0].hours.monday: unknown field; known fields are mon, tue, wed, thu, fri, sat, sun",
		},
		{
			name:  "BadDuration",
			file:  func(t *testing.T) string { return edit(t, "duration: 30m", "duration: 30 minutes") },
			line:  3,
			field: "services[0].duration",
			msg:   `line 3: services[0].duration: duration "30 minutes" is not like 90m, 1h30m or 60d`,
		},
		{
			name:  "DurationNotWholeMinutes",
			file:  func(t *testing.T) string { return edit(t, "duration: 30m", "duration: 30m30s") },
			line:  3,
			field: "services[0].duration",
			msg:   `line 3: services[0].duration: "30m30s" must be a whole number of minutes`,
		},
		{
			name:  "HorizonTooLong",
			file:  func(t *testing.T) string { return minimal + "policy: {horizon: 400d}\n" },
			line:  9,
			field: "policy.horizon",
			msg:   `line 9: policy.horizon: "400d" must be at most 366d`,
		},
		{
			name:  "SlotStepTooShort",
			file:  func(t *testing.T) string { return minimal + "policy:\n  slot_step: 2m\n" },
			line:  10,
			field: "policy.slot_step",
			msg:   `line 10: policy.slot_step: "2m" must be at least 5m`,
		},
		{
			name:  "ReminderTooSoon",
			file:  func(t *testing.T) string { return minimal + "policy:\n  reminders: [24h, 10m]\n" },
			line:  10,
			field: "policy.reminders[1]",
			msg:   `line 10: policy.reminders[1]: "10m" must be from 15m to 7d before the start`,
		},
		{
			name:  "ReminderTwice",
			file:  func(t *testing.T) string { return minimal + "policy:\n  reminders: [2h, 120m]\n" },
			line:  10,
			field: "policy.reminders[1]",
			msg:   `line 10: policy.reminders[1]: "120m" is listed twice`,
		},
		{
			name:  "SixReminders",
			file:  func(t *testing.T) string { return minimal + "policy:\n  reminders: [7d, 3d, 1d, 6h, 2h, 30m]\n" },
			line:  10,
			field: "policy.reminders[5]",
			msg:   `line 10: policy.reminders[5]: at most 5 reminders (Google Calendar's limit for the masters' events)`,
		},
		{
			name:  "ReminderTooEarly",
			file:  func(t *testing.T) string { return minimal + "policy:\n  reminders:\n    - 8d\n" },
			line:  11,
			field: "policy.reminders[0]",
			msg:   `line 11: policy.reminders[0]: "8d" must be from 15m to 7d before the start`,
		},
		{
			name:  "WaitlistOfferTooShort",
			file:  func(t *testing.T) string { return minimal + "policy: {waitlist_offer: 30s}\n" },
			line:  9,
			field: "policy.waitlist_offer",
			msg:   `line 9: policy.waitlist_offer: "30s" must be at least 1m`,
		},
		{
			name:  "StaffSummaryNotATime",
			file:  func(t *testing.T) string { return minimal + "policy:\n  staff_summary: \"25:00\"\n" },
			line:  10,
			field: "policy.staff_summary",
			msg:   `line 10: policy.staff_summary: "25:00" must be a local time like 08:00, on (08:00) or off`,
		},
		{
			name:  "StaffSummaryAfterNoon",
			file:  func(t *testing.T) string { return minimal + "policy:\n  reminders: [2h]\n  staff_summary: \"12:01\"\n" },
			line:  11,
			field: "policy.staff_summary",
			msg:   `line 11: policy.staff_summary: "12:01" is after 12:00: the summary lists the day ahead, so it goes in the morning (08:00 by default)`,
		},
		{
			name:  "StaffSummaryEvening",
			file:  func(t *testing.T) string { return minimal + "policy: {staff_summary: \"20:00\"}\n" },
			line:  9,
			field: "policy.staff_summary",
			msg:   `line 9: policy.staff_summary: "20:00" is after 12:00: the summary lists the day ahead, so it goes in the morning (08:00 by default)`,
		},
		{
			name:  "StaffSummaryYes",
			file:  func(t *testing.T) string { return minimal + "policy: {staff_summary: yes}\n" },
			line:  9,
			field: "policy.staff_summary",
			msg:   `line 9: policy.staff_summary: "yes" must be a local time like 08:00, on (08:00) or off`,
		},
		{
			name:  "MaxUpcomingZero",
			file:  func(t *testing.T) string { return minimal + "policy:\n  max_upcoming: 0\n" },
			line:  10,
			field: "policy.max_upcoming",
			msg:   `line 10: policy.max_upcoming: "0" must be a whole number from 1 to 100`,
		},
		{
			name:  "MaxUpcomingNotANumber",
			file:  func(t *testing.T) string { return minimal + "policy: {max_upcoming: three}\n" },
			line:  9,
			field: "policy.max_upcoming",
			msg:   `line 9: policy.max_upcoming: "three" must be a whole number from 1 to 100`,
		},
		{
			name:  "UnknownServiceReference",
			file:  func(t *testing.T) string { return edit(t, "services: [cut]", "services: [cut, colour]") },
			line:  7,
			field: "masters[0].services[1]",
			msg:   `line 7: masters[0].services[1]: unknown service "colour"`,
		},
		{
			name: "DuplicateID",
			file: func(t *testing.T) string {
				return edit(t, "currency: EUR}\n", "currency: EUR}\n  - {id: cut, name: {en: Cut 2}, duration: 30m, price: \"1\", currency: EUR}\n")
			},
			line:  4,
			field: "services[1].id",
			msg:   `line 4: services[1].id: duplicate id "cut" (first on line 3)`,
		},
		{
			name:  "BadID",
			file:  func(t *testing.T) string { return edit(t, "id: anna", "id: Anna") },
			line:  5,
			field: "masters[0].id",
			msg:   `line 5: masters[0].id: "Anna" is not an id: use 1 to 32 of a-z, 0-9, _ and -, starting with a letter or digit`,
		},
		{
			name:  "BadTimezone",
			file:  func(t *testing.T) string { return edit(t, "Europe/Berlin", "Mars/Olympus") },
			line:  1,
			field: "salon.timezone",
			msg:   `line 1: salon.timezone: "Mars/Olympus" is not a known IANA time zone name like Europe/Berlin`,
		},
		{
			name:  "LocalTimezone",
			file:  func(t *testing.T) string { return edit(t, "Europe/Berlin", "Local") },
			line:  1,
			field: "salon.timezone",
			msg:   `line 1: salon.timezone: "Local" is not an IANA time zone name like Europe/Berlin`,
		},
		{
			name:  "BadLocale",
			file:  func(t *testing.T) string { return edit(t, "locales: [en]", "locales: [en, Russian]") },
			line:  1,
			field: "salon.locales[1]",
			msg:   `line 1: salon.locales[1]: "Russian" is not a language tag like en, ru or pt-BR`,
		},
		{
			name:  "NoNameInFirstLocale",
			file:  func(t *testing.T) string { return edit(t, "locales: [en]", "locales: [ru, en]") },
			line:  3,
			field: "services[0].name",
			msg:   `line 3: services[0].name: needs a name in "ru", the salon's first locale`,
		},
		{
			name:  "OverlappingRanges",
			file:  func(t *testing.T) string { return edit(t, `["09:00-18:00"]`, `["09:00-13:00", "12:30-18:00"]`) },
			line:  8,
			field: "masters[0].hours.mon[1]",
			msg:   `line 8: masters[0].hours.mon[1]: "12:30-18:00" overlaps mon "09:00-13:00" (masters[0].hours.mon[0], line 8)`,
		},
		{
			name: "OverlapAcrossMidnight",
			file: func(t *testing.T) string {
				return edit(t, `{mon: ["09:00-18:00"]}`, "\n      sat: [\"20:00-02:00\"]\n      sun: [\"01:00-05:00\"]")
			},
			line:  10,
			field: "masters[0].hours.sun[0]",
			msg:   `line 10: masters[0].hours.sun[0]: "01:00-05:00" overlaps sat "20:00-02:00" (masters[0].hours.sat[0], line 9)`,
		},
		{
			name: "OverlapAcrossTheWeekEnd",
			file: func(t *testing.T) string {
				return edit(t, `{mon: ["09:00-18:00"]}`, "\n      mon: [\"01:00-03:00\"]\n      sun: [\"22:00-02:00\"]")
			},
			line:  10,
			field: "masters[0].hours.sun[0]",
			msg:   `line 10: masters[0].hours.sun[0]: "22:00-02:00" overlaps mon "01:00-03:00" (masters[0].hours.mon[0], line 9)`,
		},
		{
			name:  "PriceWithThreeDecimals",
			file:  func(t *testing.T) string { return edit(t, `price: "10.00"`, `price: "35.001"`) },
			line:  3,
			field: "services[0].price",
			msg:   `line 3: services[0].price: price "35.001" has more than 2 decimals`,
		},
		{
			name: "DecimalsInAWholeCurrency",
			file: func(t *testing.T) string {
				return edit(t, `price: "10.00", currency: EUR`, `price: "3500.50", currency: JPY`)
			},
			line:  3,
			field: "services[0].price",
			msg:   `line 3: services[0].price: "3500.50" has decimals, but JPY amounts are whole`,
		},
		{
			name:  "NegativePrice",
			file:  func(t *testing.T) string { return edit(t, `price: "10.00"`, `price: "-1"`) },
			line:  3,
			field: "services[0].price",
			msg:   `line 3: services[0].price: price "-1" must not be negative`,
		},
		{
			name:  "BadCurrency",
			file:  func(t *testing.T) string { return edit(t, "currency: EUR", "currency: euro") },
			line:  3,
			field: "services[0].currency",
			msg:   `line 3: services[0].currency: "euro" is not a currency code like EUR`,
		},
		{
			name:  "MissingSalonID",
			file:  func(t *testing.T) string { return edit(t, "id: demo, ", "") },
			line:  1,
			field: "salon.id",
			msg:   "line 1: salon.id: is required",
		},
		{
			name:  "MissingMasters",
			file:  func(t *testing.T) string { return minimal[:strings.Index(minimal, "masters:")] },
			line:  1,
			field: "masters",
			msg:   "line 1: masters: is required",
		},
		{
			name:  "EmptyMasterServices",
			file:  func(t *testing.T) string { return edit(t, "services: [cut]", "services: []") },
			line:  7,
			field: "masters[0].services",
			msg:   "line 7: masters[0].services: must not be empty",
		},
		{
			name:  "BadDayOff",
			file:  func(t *testing.T) string { return minimal + "    days_off: [\"2027-02-30\"]\n" },
			line:  9,
			field: "masters[0].days_off[0]",
			msg:   `line 9: masters[0].days_off[0]: date "2027-02-30" is not YYYY-MM-DD`,
		},
		{
			name:  "BadChatID",
			file:  func(t *testing.T) string { return minimal + "    telegram_chat_id: \"@anna\"\n" },
			line:  9,
			field: "masters[0].telegram_chat_id",
			msg:   `line 9: masters[0].telegram_chat_id: "@anna" is not a Telegram chat id (a whole number)`,
		},
		{
			name:  "RepeatedField",
			file:  func(t *testing.T) string { return minimal + "    name: Anne\n" },
			line:  9,
			field: "masters[0].name",
			msg:   "line 9: masters[0].name: field repeated (first on line 6)",
		},
		{
			name: "Tabs",
			file: func(t *testing.T) string { return "salon:\n\tid: demo\n" },
			line: 2,
			msg:  "line 2: found character that cannot start any token",
		},
		{
			name: "InvalidSyntax",
			file: func(t *testing.T) string { return edit(t, "services: [cut]", "services: [cut") },
			// yaml.v3's own line: for parser (not scanner) errors it names the line
			// before the construct it was in (go-yaml/yaml#205); it is passed on as is.
			line: 6,
			msg:  "line 6: did not find expected ',' or ']'",
		},
		{
			name: "NotAMapping",
			file: func(t *testing.T) string { return "- salon\n" },
			line: 1,
			msg:  "line 1: must be a mapping of the fields salon, policy, services, masters, staff, not a list",
		},
		{
			name: "Empty",
			file: func(t *testing.T) string { return "# nothing yet\n" },
			msg:  "file is empty",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			f, err := salonfile.Parse([]byte(tt.file(t)))
			require.Nil(t, f)
			require.Equal(t, core.EInvalid, core.ErrorCode(err))
			require.Equal(t, "salonfile.invalid", core.ErrorKey(err))
			first, ok := errors.AsType[*salonfile.Error](err)
			require.True(t, ok, "%v", err)
			require.Equal(t, tt.line, first.Line, "%v", err)
			require.Equal(t, tt.field, first.Field, "%v", err)
			require.Equal(t, tt.msg, first.Error())
			require.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestParseReportsEveryProblemInLineOrder(t *testing.T) {
	t.Parallel()

	file := `masters:
  - {id: anna, name: Anna, services: [dye], hours: {mon: ["09:00-18:00"]}}
salon: {id: Demo, name: Demo, timezone: Europe/Berlin, locales: [en]}
services:
  - {id: cut, name: {en: Cut}, duration: 30m, price: "10.001", currency: EUR}
`
	_, err := salonfile.Parse([]byte(file))
	require.Equal(t, core.EInvalid, core.ErrorCode(err))
	require.Equal(t, "salonfile: invalid salon file:\n"+
		`line 2: masters[0].services[0]: unknown service "dye"`+"\n"+
		`line 3: salon.id: "Demo" is not an id: use 1 to 32 of a-z, 0-9, _ and -, starting with a letter or digit`+"\n"+
		`line 5: services[0].price: price "10.001" has more than 2 decimals`,
		err.Error())
}

func TestParseCapsProblems(t *testing.T) {
	t.Parallel()

	var b strings.Builder
	b.WriteString(minimal)
	for i := range 25 {
		fmt.Fprintf(&b, "    extra%d: x\n", i)
	}
	_, err := salonfile.Parse([]byte(b.String()))
	require.Equal(t, core.EInvalid, core.ErrorCode(err))
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, 22, "a heading, 20 problems and a count of the rest")
	require.Equal(t, "salonfile: invalid salon file:", lines[0])
	require.Equal(t, "and 5 more problems", lines[21])
}

func TestLoad(t *testing.T) {
	t.Parallel()

	t.Run("NamesTheFile", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "salon.yaml")
		require.NoError(t, os.WriteFile(path, []byte(edit(t, `["09:00-18:00"]`, `["09:00-13:00", "14:00-25:00"]`)), 0o600))

		_, err := salonfile.Load(path)
		require.Equal(t, core.EInvalid, core.ErrorCode(err))
		first, ok := errors.AsType[*salonfile.Error](err)
		require.True(t, ok)
		require.Equal(t, path, first.File)
		require.Equal(t, path+`:8: masters[0].hours.mon[1]: "14:00-25:00": time "25:00" is not HH:MM`, first.Error())
	})

	t.Run("MissingFile", func(t *testing.T) {
		t.Parallel()
		_, err := salonfile.Load(filepath.Join(t.TempDir(), "nope.yaml"))
		require.Equal(t, core.ENotFound, core.ErrorCode(err))
		require.Equal(t, "salonfile.unreadable", core.ErrorKey(err))
	})
}

// FuzzParse checks that no input makes Parse panic and that every rejection is
// the documented error. Its seeds are the small files in testdata/seeds: the
// kilobyte-sized full and demo files are left out because the fuzzer spends up to
// a minute minimising each new input derived from a seed that large, which leaves
// a short run no time to fuzz.
func FuzzParse(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "seeds", "*.yaml"))
	require.NoError(f, err)
	require.NotEmpty(f, seeds)
	for _, path := range seeds {
		data, err := os.ReadFile(path)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add([]byte(minimal))

	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := salonfile.Parse(data)
		if err == nil {
			require.NotNil(t, file)
			require.NotEmpty(t, file.Services)
			require.NotEmpty(t, file.Masters)
			require.NotNil(t, file.Salon.Timezone)
			return
		}
		require.Nil(t, file)
		require.Equal(t, core.EInvalid, core.ErrorCode(err))
		_, ok := errors.AsType[*salonfile.Error](err)
		require.True(t, ok, "%v", err)
	})
}

func TestSeedsParseAsIntended(t *testing.T) {
	t.Parallel()

	compact, err := os.ReadFile(filepath.Join("testdata", "seeds", "compact.yaml"))
	require.NoError(t, err)
	f, err := salonfile.Parse(compact)
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"m": 1}, f.StaffChats)

	broken, err := os.ReadFile(filepath.Join("testdata", "seeds", "broken.yaml"))
	require.NoError(t, err)
	_, err = salonfile.Parse(broken)
	require.Equal(t, core.EInvalid, core.ErrorCode(err))
	require.GreaterOrEqual(t, len(strings.Split(err.Error(), "\n")), 15, "a problem in most fields: %v", err)
}

func TestParseBoundsAliasExpansion(t *testing.T) {
	t.Parallel()

	// One master with 1,000 days off, then 200 aliases of it: a small file that
	// would expand to 200,000 values.
	var b strings.Builder
	b.WriteString(minimal[:strings.Index(minimal, "masters:")])
	b.WriteString("masters:\n  - &m {id: anna, name: Anna, services: [cut], hours: {mon: [\"09:00-18:00\"]}, days_off: [")
	day := core.Date{Year: 2027, Month: time.January, Day: 1}
	for i := range 1000 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(day.AddDays(i).String())
	}
	b.WriteString("]}\n")
	for range 200 {
		b.WriteString("  - *m\n")
	}

	_, err := salonfile.Parse([]byte(b.String()))
	require.Equal(t, core.EInvalid, core.ErrorCode(err))
	require.Contains(t, err.Error(), "file is too large: more than 100000 values, counting each use of an alias")
}
