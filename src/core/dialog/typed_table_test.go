package dialog_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/dialog/understand"
	"salonbook/src/core/i18n"
)

// state reads the stored state of chat c (through pool: pgtest.Pool opens a
// pool per call).
func (b *bundle) state(t *testing.T, pool *pgxpool.Pool, chat string) dialog.State {
	t.Helper()
	var raw []byte
	require.NoError(t, pool.QueryRow(ctx, `SELECT state FROM conversations WHERE salon_id = $1 AND channel = 'test' AND chat_id = $2`,
		b.salonID, chat).Scan(&raw))
	var st dialog.State
	require.NoError(t, json.Unmarshal(raw, &st))
	return st
}

// TestTypedSentencesFillTheFlow: every combination of a service, a master, a
// day and a time, each said in several ways, in English and in Russian, sent
// as a new client's first message, fills the whole flow: the time is taken and
// only the client's name is asked before the hold.
func TestTypedSentencesFillTheFlow(t *testing.T) {
	t.Parallel()
	type form struct{ text, id string }
	type day struct {
		text string
		d    int // day of March 2027
	}
	type at struct {
		text   string
		master string // the master the form is for: Anna works 10 to 13, Boris 12 to 16
		hour   int
	}
	langs := map[string]struct {
		services []form
		masters  []form
		days     []day
		times    []at
	}{
		"en": {
			services: []form{{"haircut", "haircut"}, {"a haircut", "haircut"}, {"Haircuts", "haircut"}, {"manicure", "manicure"}},
			masters:  []form{{"with Anna", "anna"}, {"Anna", "anna"}, {"with Boris", "boris"}, {"boris", "boris"}},
			days:     []day{{"tomorrow", 2}, {"on Friday", 5}, {"9.03", 9}, {"March 9th", 9}},
			times: []at{{"at 11", "anna", 11}, {"11am", "anna", 11}, {"at 11:00", "anna", 11}, {"at 3", "boris", 15},
				{"3pm", "boris", 15}, {"at 15:00", "boris", 15}},
		},
		"ru": {
			services: []form{{"стрижку", "haircut"}, {"на стрижку", "haircut"}, {"стрижка", "haircut"}, {"на маникюр", "manicure"}},
			masters:  []form{{"к Анне", "anna"}, {"у Анны", "anna"}, {"к Борису", "boris"}, {"Борис", "boris"}},
			days:     []day{{"завтра", 2}, {"в пятницу", 5}, {"9 марта", 9}, {"на 9.03", 9}},
			times: []at{{"в 11", "anna", 11}, {"в 11 утра", "anna", 11}, {"к 11:00", "anna", 11}, {"в 3 часа дня", "boris", 15},
				{"в 15", "boris", 15}, {"к 15:00", "boris", 15}},
		},
	}
	for lang, l := range langs {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t)
			pool := pgtest.Pool(t)
			type sentence struct {
				text, service, master string
				start                 time.Time
			}
			var all []sentence
			for _, s := range l.services {
				for _, m := range l.masters {
					if s.id == "manicure" && m.id == "boris" {
						continue // Boris does no manicures: TestTypedEdges
					}
					for _, d := range l.days {
						for _, tm := range l.times {
							if tm.master != m.id {
								continue
							}
							start := time.Date(2027, 3, d.d, tm.hour, 0, 0, 0, pgtest.Berlin).UTC()
							all = append(all,
								sentence{strings.Join([]string{s.text, m.text, d.text, tm.text}, " "), s.id, m.id, start},
								sentence{strings.Join([]string{d.text, tm.text, s.text, m.text}, " "), s.id, m.id, start})
						}
					}
				}
			}
			// One at a time: a step holds a connection of the test pool while
			// its slot search takes another.
			for i, s := range all {
				func() {
					chat := fmt.Sprintf("%s-%d", lang, i)
					replies, err := b.chat.Handle(ctx, dialog.ChatKey{SalonID: b.salonID, Channel: "test", ChatID: chat},
						dialog.Inbound{ID: chat, Kind: dialog.KindText, Text: s.text, LangHint: lang})
					if err != nil {
						t.Errorf("%q: %v", s.text, err)
						return
					}
					st := b.state(t, pool, chat)
					if st.Step != "name" || st.Service != s.service || st.Master != s.master || !st.Start.Equal(s.start) {
						t.Errorf("%q: step %q service %q master %q start %v; want name, %s, %s, %v\n%v", s.text, st.Step, st.Service,
							st.Master, st.Start, s.service, s.master, s.start, replies)
					}
				}()
			}
			t.Logf("%d sentences", len(all))
			require.Zero(t, b.live(t), "no sentence holds anything before the client is known")
		})
	}
}

// TestTypedEdges: typed requests at the edges: after closing, midnight, the
// day the clocks change, beyond the horizon, a day gone, a master who does not
// do the service, menu words where a name is asked.
func TestTypedEdges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		edit   func(*postgres.SalonSetup)
		now    time.Time // zero: Monday 1 March 2027, 08:00 in Berlin
		lang   string
		script []string
		want   []string // in the last reply's text, in order
		not    []string // not in it
		check  func(t *testing.T, b *bundle, st dialog.State)
	}{
		{
			name: "TodayAfterClosing", now: time.Date(2027, 3, 1, 18, 0, 0, 0, time.UTC), // 19:00 in Berlin
			script: []string{"text: haircut with Anna today at 5"},
			want:   []string{"Anna has finished for today.", "The nearest free times are tomorrow: 11:00, 11:30 and 12:00."},
			check: func(t *testing.T, b *bundle, st dialog.State) {
				require.Equal(t, "time", st.Step)
				require.Equal(t, "2027-03-02", st.Day, "typed hours now pick from tomorrow's times")
			},
		},
		{
			name: "TodayAfterClosingRu", now: time.Date(2027, 3, 1, 18, 0, 0, 0, time.UTC), lang: "ru",
			script: []string{"text: стрижка к Анне сегодня в 5"},
			want:   []string{"На сегодня приём уже закончился (мастер: Анна).", "Ближайшее свободное время — завтра: 11:00, 11:30 и 12:00."},
		},
		{
			name:   "EarlierOnTheFirstDays",
			script: []string{"text: haircut with Anna", "text: earlier"},
			want:   []string{"Which day suits you?"},
			not:    []string{"Please pick"},
			check:  func(t *testing.T, b *bundle, st dialog.State) { require.Equal(t, "day", st.Step) },
		},
		{
			name: "TodayAfterClosingNoTime", now: time.Date(2027, 3, 1, 18, 0, 0, 0, time.UTC),
			script: []string{"text: haircut with Anna today"},
			want:   []string{"Anna has finished for today. The nearest free times are tomorrow:"},
		},
		{
			name: "TimeAloneLaterToday", lang: "ru",
			script: []string{"text: стрижка у Анны в 12"},
			check: func(t *testing.T, b *bundle, st dialog.State) {
				require.Equal(t, "name", st.Step)
				require.True(t, st.Start.Equal(time.Date(2027, 3, 1, 12, 0, 0, 0, pgtest.Berlin)), "today: 12:00 is still ahead")
			},
		},
		{
			name: "TimeAloneAlreadyGone", now: time.Date(2027, 3, 1, 10, 30, 0, 0, time.UTC), // 11:30 in Berlin
			script: []string{"text: haircut with Anna at 11"},
			check: func(t *testing.T, b *bundle, st dialog.State) {
				require.True(t, st.Start.Equal(time.Date(2027, 3, 2, 11, 0, 0, 0, pgtest.Berlin)), "11:00 has passed today: tomorrow's")
			},
		},
		{
			name: "Midnight",
			edit: func(s *postgres.SalonSetup) {
				s.Masters[1].Hours[time.Saturday] = []core.ClockRange{{Start: 20 * 60, End: 2 * 60}}
			},
			script: []string{"text: haircut with Boris on Saturday at midnight"},
			check: func(t *testing.T, b *bundle, st dialog.State) {
				require.Equal(t, "name", st.Step)
				require.True(t, st.Start.Equal(time.Date(2027, 3, 7, 0, 0, 0, 0, pgtest.Berlin)),
					"Saturday's night shift: midnight after Saturday, not before it: %v", st.Start)
			},
		},
		{
			name: "NightShiftAtOne",
			edit: func(s *postgres.SalonSetup) {
				s.Masters[1].Hours[time.Saturday] = []core.ClockRange{{Start: 20 * 60, End: 2 * 60}}
			},
			script: []string{"text: haircut with Boris on Sunday at 1"},
			check: func(t *testing.T, b *bundle, st dialog.State) {
				require.True(t, st.Start.Equal(time.Date(2027, 3, 7, 1, 0, 0, 0, pgtest.Berlin)),
					"01:00, not 13:00: the night shift works then: %v", st.Start)
			},
		},
		{
			name: "SkippedHour", now: time.Date(2027, 3, 27, 7, 0, 0, 0, time.UTC), // Saturday; Berlin springs forward on Sunday at 02:00
			edit: func(s *postgres.SalonSetup) {
				s.Masters[0].Hours[time.Sunday] = []core.ClockRange{{Start: 1 * 60, End: 5 * 60}}
			},
			script: []string{"text: haircut with Anna tomorrow at 2:30"},
			want:   []string{"Anna can't take you at 02:30 tomorrow, but is free at"},
			check: func(t *testing.T, b *bundle, st dialog.State) {
				require.Equal(t, "2027-03-28", st.Day)
			},
		},
		{
			name:   "BeyondTheHorizon",
			script: []string{"text: haircut with Anna on 12.12"},
			want:   []string{"I can only book up to Tuesday, 30 March.", "Which day suits you?"},
		},
		{
			name: "BeyondTheHorizonRu", lang: "ru",
			script: []string{"text: стрижка у Анны 12 декабря"},
			want:   []string{"Записаться можно не дальше чем на вторник, 30 марта.", "На какой день вас записать?"},
		},
		{
			name:   "DayGone",
			script: []string{"text: haircut with Anna on 1.1.2027"},
			want:   []string{"That day has already passed.", "Which day suits you?"},
		},
		{
			name:   "MasterWhoDoesNotDoIt",
			script: []string{"text: manicure with Boris tomorrow"},
			want:   []string{"Boris doesn't do Manicure. Manicure is done by Anna.", "Free times on Tuesday, 2 March:"},
		},
		{
			name:   "MasterWhoDoesNotDoItRu",
			lang:   "ru",
			script: []string{"text: маникюр у Бориса завтра"},
			want:   []string{"Мастер Boris не делает услугу «Маникюр». Услугу «Маникюр» у нас делает мастер Анна.", "Свободное время на вторник, 2 марта:"},
		},
		{
			name:   "NameThatIsAMaster",
			script: []string{"text: haircut tomorrow at 11", "text: Anna"},
			want:   []string{"And your phone number"},
			check:  func(t *testing.T, b *bundle, st dialog.State) { require.Equal(t, "Anna", st.ClientName) },
		},
		{
			name:   "MenuWordWhereANameIsAsked",
			script: []string{"text: haircut tomorrow at 11", "text: cancel"},
			want:   []string{"OK, let's leave it there."},
			check:  func(t *testing.T, b *bundle, st dialog.State) { require.Equal(t, "", st.Step) },
		},
		{
			name:   "YesAtTheMenuBooksNothing",
			script: []string{"text: hi", "text: yes"},
			want:   []string{"Please pick one of the options below"},
		},
		{
			name:   "CancelWithNoBookings",
			script: []string{"text: cancel my booking"},
			want:   []string{"You have no upcoming bookings."},
		},
		{
			name: "CancelTypedOnABookingsScreen",
			script: []string{"text: haircut with Anna on Wednesday at 10", "text: Olga", "text: +49 151 23456789", "text: yes",
				"text: manicure with Anna on Thursday at 10", "text: yes", "pick: My bookings", "pick: #2", "text: cancel"},
			want: []string{"To cancel it, tap “Cancel booking”.", "Manicure with Anna, Thursday, 4 March at 10:00"},
			check: func(t *testing.T, b *bundle, st dialog.State) {
				require.Equal(t, "booking", st.Step)
				require.Equal(t, 2, b.confirmed(t), "shown, not cancelled")
			},
		},
		{
			name: "CancelTypedWithADay",
			script: []string{"text: haircut with Anna on Wednesday at 10", "text: Olga", "text: +49 151 23456789", "text: yes",
				"text: manicure with Anna on Thursday at 10", "text: yes", "text: отменить запись на четверг"},
			want: []string{"Чтобы отменить её, нажмите «Отменить запись».", "Маникюр, мастер Анна, четверг, 4 марта, в 10:00"},
			lang: "ru",
		},
		{
			name:   "HelpAnywhere",
			script: []string{"text: haircut", "text: help"},
			want:   []string{"You can also just write"},
		},
		{
			name:   "LanguageNamed",
			lang:   "ru",
			script: []string{"text: привет", "text: English please"},
			want:   []string{"I'll speak English from now on."},
		},
		{
			name:   "AnyMasterNoPreference",
			script: []string{"text: haircut tomorrow at noon, no preference"},
			check: func(t *testing.T, b *bundle, st dialog.State) {
				require.Equal(t, "any", st.Master)
				require.True(t, st.Start.Equal(time.Date(2027, 3, 2, 12, 0, 0, 0, pgtest.Berlin)))
			},
		},
		{
			name:   "TimeOnTheSecondPage",
			script: []string{"text: haircut tomorrow", "text: 2:30pm"},
			check: func(t *testing.T, b *bundle, st dialog.State) {
				require.Equal(t, "name", st.Step)
				require.True(t, st.Start.Equal(time.Date(2027, 3, 2, 14, 30, 0, 0, pgtest.Berlin)), "not shown on the first page, but free")
			},
		},
		{
			name:   "AmbiguousHourByTheSalonsHours",
			script: []string{"text: haircut with Boris tomorrow", "text: 2"},
			check: func(t *testing.T, b *bundle, st dialog.State) {
				require.True(t, st.Start.Equal(time.Date(2027, 3, 2, 12, 30, 0, 0, pgtest.Berlin)),
					"a number within the list picks from it: the second time shown: %v", st.Start)
			},
		},
		{
			name: "NotTomorrowButFriday", lang: "ru",
			script: []string{"text: стрижку, не завтра, а в пятницу в 11 к Анне"},
			check: func(t *testing.T, b *bundle, st dialog.State) {
				require.Equal(t, "name", st.Step)
				require.True(t, st.Start.Equal(time.Date(2027, 3, 5, 11, 0, 0, 0, pgtest.Berlin)), "Friday, not tomorrow: %v", st.Start)
			},
		},
		{
			name:   "TwoDaysAsked",
			script: []string{"text: haircut with Anna on Friday or on Saturday at 11"},
			want:   []string{"Which day suits you?"},
			check:  func(t *testing.T, b *bundle, st dialog.State) { require.Equal(t, "day", st.Step) },
		},
		{
			name:   "IWillComeIsNoMaster",
			edit:   func(s *postgres.SalonSetup) { s.Masters[1].Name = "Will" },
			script: []string{"text: haircut, I will come tomorrow at 11"},
			check: func(t *testing.T, b *bundle, st dialog.State) {
				require.Equal(t, "any", st.Master, "no master named")
			},
		},
		{
			name:   "AmbiguousHourNotShown",
			script: []string{"text: haircut with Boris tomorrow", "text: at 3"},
			check: func(t *testing.T, b *bundle, st dialog.State) {
				require.True(t, st.Start.Equal(time.Date(2027, 3, 2, 15, 0, 0, 0, pgtest.Berlin)), "15:00: Boris works then, not at 03:00")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			edit := tt.edit
			if edit == nil {
				edit = func(*postgres.SalonSetup) {}
			}
			b := newBundleWith(t, edit)
			if !tt.now.IsZero() {
				b.clock.T = tt.now
			}
			lang := tt.lang
			if lang == "" {
				lang = "en"
			}
			c := &conv{name: "c", hint: lang}
			b.run(t, []*conv{c}, tt.script)
			var texts []string
			for _, r := range c.last {
				texts = append(texts, r.Text)
			}
			last := strings.Join(texts, "\n\n")
			at := 0
			for _, w := range tt.want {
				i := strings.Index(last[at:], w)
				require.GreaterOrEqual(t, i, 0, "%q not in %q", w, last)
				at += i + len(w)
			}
			for _, w := range tt.not {
				require.NotContains(t, last, w)
			}
			if tt.check != nil {
				tt.check(t, b, b.state(t, pgtest.Pool(t), "c"))
			}
			if !strings.Contains(strings.Join(tt.script, " "), "yes") {
				require.Zero(t, b.confirmed(t), "typed text confirms nothing by itself")
			}
		})
	}
}

// FuzzTypedStep: any text typed in any step (a fresh chat, the middle of a
// booking with the client known, a move) never panics, always answers within
// the channels' limits, and never books or moves without asking: at the
// confirmation of a real hold only a pure yes (or the Confirm button's
// number) confirms it; elsewhere no booking is confirmed; a real confirmed
// booking being moved keeps its start and master after any text but a clock
// alone at the move's times ("11", "11:30"); a hold made waits for its
// confirmation. Seeds: testdata/fuzz/FuzzTypedStep, and f.Add below.
func FuzzTypedStep(f *testing.F) {
	pool := pgtest.Pool(f)
	store := postgres.NewStore(pool)
	id := "t" + pgtest.RandomID()
	_, err := store.Apply(ctx, salonSetup(id))
	require.NoError(f, err)
	cat, err := i18n.Load()
	require.NoError(f, err)
	clock := &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}
	bookings := booking.New(store, clock)
	engine := dialog.NewEngine(dialog.Config{SalonID: id, Bookings: bookings, Waitlist: postgres.NewWaitlist(pool), Catalog: cat, Clock: clock})
	words := understand.New(understand.Catalog{
		Services: []understand.Entry{{ID: "haircut", Names: []string{"Haircut", "Стрижка"}}, {ID: "manicure", Names: []string{"Manicure", "Маникюр"}}},
		Masters:  []understand.Entry{{ID: "anna", Names: []string{"Anna"}}, {ID: "boris", Names: []string{"Boris"}}},
	})
	bareClock := regexp.MustCompile(`^\s*\d{1,2}([:.]\d{2})?\s*$`)
	steps := []string{"", "service", "master", "day", "time", "name", "phone", "confirm", "mine", "booking", "move_day",
		"move_time", "move_master", "language"}
	for _, seed := range []struct {
		step uint8
		text string
	}{{0, "haircut with Anna tomorrow at 11"}, {0, "стрижку к Анне завтра в 11"}, {4, "11"}, {4, "at 3pm"}, {7, "yes"},
		{7, "да, в 12"}, {3, "tomorrow"}, {0, "cancel my booking"}, {10, "к Борису на четверг в 14"}, {0, "?"},
		{5, "menu"}, {12, "Boris"}, {4, "later"}, {3, "earlier"}, {7, "I'm not sure"}, {7, "не подтверждаю"},
		{7, "да нет, не надо"}, {7, "ok but can we do 6 instead?"}, {11, "what about 11am?"}, {11, "только не в 11"},
		{11, "11"}, {11, "another master"}, {7, "1"}} {
		f.Add(seed.step, seed.text, true)
	}
	f.Fuzz(func(t *testing.T, step uint8, text string, known bool) {
		chat := pgtest.RandomID()
		source := "fuzz:" + chat
		st := dialog.State{Step: steps[int(step)%len(steps)], Service: "haircut", Master: "anna", Day: "2027-03-02",
			Updated: clock.T.Add(-time.Minute)}
		if known || st.Step == "confirm" || st.Step == "booking" || strings.HasPrefix(st.Step, "move") {
			st.ClientName, st.ClientPhone = "Fuzz", "+49 151 "+fmt.Sprint(10000000+int(step)*7919)
		}
		// A real hold at the confirmation; a real confirmed booking to move.
		var own *core.Booking
		switch {
		case st.Step == "confirm":
			b, err := bookings.Book(ctx, booking.BookRequest{SalonID: id, ServiceID: "haircut", MasterID: "anna",
				Start: time.Date(2027, 3, 2, 10, 0, 0, 0, pgtest.Berlin), Client: core.Client{Name: st.ClientName, Phone: st.ClientPhone},
				IdempotencyKey: "hold-" + chat, Source: source, Stored: true})
			require.NoError(t, err)
			st.Hold, st.Start, st.ClientID = b.ID, b.Start, b.ClientID
		case st.Step == "booking" || strings.HasPrefix(st.Step, "move"):
			b, err := bookings.Book(ctx, booking.BookRequest{SalonID: id, ServiceID: "haircut", MasterID: "anna",
				Start: time.Date(2027, 3, 4, 10, 0, 0, 0, pgtest.Berlin), Client: core.Client{Name: st.ClientName, Phone: st.ClientPhone},
				IdempotencyKey: "own-" + chat, Source: source, Stored: true, Confirm: true})
			require.NoError(t, err)
			own, st.BookingID, st.ClientID = b, b.ID, b.ClientID
		}
		defer func() { // the next input finds the times free again
			rows, err := pool.Query(ctx, `SELECT booking_id::text, status FROM bookings WHERE salon_id = $1 AND source = $2
				AND status IN ('held', 'confirmed')`, id, source)
			require.NoError(t, err)
			type live struct{ id, status string }
			var all []live
			for rows.Next() {
				var l live
				require.NoError(t, rows.Scan(&l.id, &l.status))
				all = append(all, l)
			}
			require.NoError(t, rows.Err())
			for _, l := range all {
				if l.status == "held" {
					_, err = bookings.Release(ctx, id, l.id)
				} else {
					_, err = bookings.Cancel(ctx, id, l.id)
				}
				require.NoError(t, err)
			}
		}()
		key := dialog.ChatKey{SalonID: id, Channel: "fuzz", ChatID: chat}
		got, replies := engine.Step(ctx, key, st, dialog.Inbound{ID: "fuzz-" + chat, Kind: dialog.KindText, Text: text})
		require.NotEmpty(t, replies)
		for _, r := range replies {
			require.NotEmpty(t, r.Text)
			require.LessOrEqual(t, len(r.Choices), 10)
			for _, c := range r.Choices {
				require.LessOrEqual(t, len(c.ID), dialog.MaxChoiceIDBytes)
				require.LessOrEqual(t, utf8.RuneCountInString(c.Label), dialog.MaxChoiceLabelRune)
			}
		}
		var confirmed, held int
		var hold string
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'confirmed'),
			count(*) FILTER (WHERE status = 'held'), coalesce(max(booking_id::text) FILTER (WHERE status = 'held'), '')
			FROM bookings WHERE salon_id = $1 AND source = $2`, id, source).Scan(&confirmed, &held, &hold))
		if own != nil {
			confirmed-- // the booking being moved
		}
		if confirmed > 0 {
			r := words.Parse(text, understand.Context{Now: clock.T, Zone: pgtest.Berlin})
			n, err := strconv.Atoi(strings.TrimSpace(text))
			require.True(t, st.Step == "confirm" && (r.Intent == understand.Yes && r.Pure && !r.Slot() || err == nil && n == 1),
				"%q in %q booked without a confirmation", text, st.Step)
		}
		if held > 0 && hold != st.Hold {
			require.Equal(t, "confirm", got.Step, "%q in %q: a hold waits for its confirmation", text, st.Step)
			require.Equal(t, hold, got.Hold)
		}
		if own != nil {
			now, err := bookings.Get(ctx, id, own.ID)
			require.NoError(t, err)
			if !now.Start.Equal(own.Start) || now.MasterID != own.MasterID {
				require.True(t, st.Step == "move_time" && bareClock.MatchString(text), "%q in %q moved the booking without asking", text, st.Step)
			}
		}
	})
}
