package dialog_test

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/core"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
	"salonbook/src/core/messaging"
)

// withReminders is the transcripts' salon with reminders 24 h and 2 h ahead.
func withReminders(s *postgres.SalonSetup) {
	s.Salon.Policy.Reminders = []time.Duration{24 * time.Hour, 2 * time.Hour}
}

// comingAt reads when the chat's bookings were confirmed with "I'll come", by start.
func (b *bundle) comingAt(t *testing.T) []string {
	t.Helper()
	rows, err := pgtest.Pool(t).Query(ctx, `SELECT coalesce(to_char(coming_at AT TIME ZONE 'Europe/Berlin', 'Dy DD HH24:MI'), '-')
		FROM bookings WHERE salon_id = $1 AND status = 'confirmed' ORDER BY starts_at`, b.salonID)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

// starts lists the live bookings' starts in Berlin, by start.
func (b *bundle) starts(t *testing.T) []string {
	t.Helper()
	rows, err := pgtest.Pool(t).Query(ctx, `SELECT to_char(starts_at AT TIME ZONE 'Europe/Berlin', 'Dy DD HH24:MI')
		FROM bookings WHERE salon_id = $1 AND status IN ('held', 'confirmed') ORDER BY starts_at`, b.salonID)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

// TestReminderTranscripts: a reminder's buttons, pressed at any time and in any
// state, act through the same flows and rules as My bookings; a reminder sent
// as a WhatsApp template is answered by typing.
func TestReminderTranscripts(t *testing.T) {
	t.Parallel()
	bookOlga := []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Wed 3 Mar", "pick: 10:00",
		"text: Olga", "text: +49 151 2345678", "pick: Confirm"}
	bookIvan := []string{"text: привет", "pick: Записаться", "pick: Стрижка", "pick: Anna", "pick: #3", "pick: 10:00",
		"text: Иван", "text: +7 912 345 67 89", "pick: Подтвердить"}
	cases := []struct {
		name   string
		convs  []*conv
		script []string
		check  func(t *testing.T, b *bundle)
	}{
		{
			name:  "remind_coming_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: append(bookOlga,
				"clock: +26h", "remind: #1", "press: I'll come", // the 24 h reminder
				"clock: +22h", "remind: #1", "press: I'll come", // the 2 h one: the same answer, nothing changes
			),
			check: func(t *testing.T, b *bundle) {
				require.Equal(t, []string{"Tue 02 10:00"}, b.comingAt(t), "recorded once, at the first press")
			},
		},
		{
			name:  "remind_coming_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}},
			script: append(bookIvan,
				"clock: +26h", "remind: #1", "press: Приду", "clock: +22h", "remind: #1", "press: Приду",
			),
			check: func(t *testing.T, b *bundle) { require.Equal(t, []string{"Tue 02 10:00"}, b.comingAt(t)) },
		},
		{
			name:  "remind_reschedule_en",
			convs: []*conv{{name: "olga", hint: "en"}, {name: "petra", hint: "en"}},
			script: append(bookOlga,
				"clock: +26h", "olga remind: #1", "olga press: Reschedule", "olga pick: Thu 4 Mar",
				// Petra takes Thursday 10:00 while Olga looks at the times.
				"petra text: hi", "petra pick: Book", "petra pick: Haircut", "petra pick: Anna", "petra pick: Thu 4 Mar",
				"petra pick: 10:00", "petra text: Petra", "petra text: +49 151 7654321", "petra pick: Confirm",
				"olga pick: 10:00", "olga pick: #1",
			),
			check: func(t *testing.T, b *bundle) {
				require.Equal(t, []string{"Thu 04 10:00", "Thu 04 11:00"}, b.starts(t), "Olga moved to the nearest free time")
			},
		},
		{
			name:  "remind_reschedule_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}},
			script: append(bookIvan,
				"clock: +26h", "remind: #1", "press: Перенести", "pick: #3", "pick: 12:00",
			),
			check: func(t *testing.T, b *bundle) { require.Equal(t, []string{"Thu 04 12:00"}, b.starts(t)) },
		},
		{
			name:  "remind_cancel_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: append(bookOlga,
				"pick: Book", "pick: Haircut", "pick: Anna", "pick: Thu 4 Mar", "pick: 10:00", "pick: Confirm",
				"clock: +26h", "remind: #1", "press: Cancel booking", // 24 h ahead: outside the 12 h cutoff
				"clock: +46h", "remind: #1", "press: Cancel booking", "press: Reschedule", // Thursday, 2 h ahead: inside
			),
			check: func(t *testing.T, b *bundle) { require.Equal(t, []string{"Thu 04 10:00"}, b.starts(t)) },
		},
		{
			name:  "remind_cancel_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}},
			script: append(bookIvan,
				"pick: Записаться", "pick: Стрижка", "pick: Anna", "pick: #4", "pick: 10:00", "pick: Подтвердить",
				"clock: +26h", "remind: #1", "press: Отменить запись",
				"clock: +46h", "remind: #1", "press: Отменить запись", "press: Перенести",
			),
			check: func(t *testing.T, b *bundle) { require.Equal(t, []string{"Thu 04 10:00"}, b.starts(t)) },
		},
		{
			name:  "remind_gone_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: append(bookOlga,
				"clock: +26h", "remind: #1",
				"cmd: start", "pick: My bookings", "pick: #1", "pick: Cancel booking", // cancelled since
				"press: I'll come", "press: Reschedule", "press: Cancel booking",
				"pick: Book", "pick: Haircut", "pick: Anna", "pick: Wed 3 Mar", "pick: 11:00", "pick: Confirm",
				"clock: +23h", "remind: #1", "clock: +2h", "press: I'll come", // started
			),
			check: func(t *testing.T, b *bundle) { require.Equal(t, []string{"-"}, b.comingAt(t)) },
		},
		{
			name:  "remind_gone_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}},
			script: append(bookIvan,
				"clock: +26h", "remind: #1",
				"cmd: start", "pick: Мои записи", "pick: #1", "pick: Отменить запись",
				"press: Приду", "press: Отменить запись",
			),
			check: func(t *testing.T, b *bundle) { require.Empty(t, b.starts(t)) },
		},
		{
			name:  "remind_mid_flow_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: append(bookOlga,
				"clock: +26h", "remind: #1",
				"cmd: start", "pick: Book", "pick: Manicure", "pick: Anna", "pick: Thu 4 Mar", "pick: 11:00", // a hold
				"press: I'll come",  // a one-line answer: the flow goes on
				"press: Reschedule", // takes over: the flow and its hold are dropped
			),
			check: func(t *testing.T, b *bundle) {
				require.Equal(t, []string{"Wed 03 10:00"}, b.starts(t), "the hold was released")
				require.Equal(t, []string{"Tue 02 10:00"}, b.comingAt(t))
			},
		},
		{
			name:  "remind_template_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: append(bookOlga,
				"clock: +26h", "template: #1", // silent for a day: the window is closed
				"text: 1", // I'll come
				"text: 1", // answered: a number is the menu's again
			),
			check: func(t *testing.T, b *bundle) { require.Equal(t, []string{"Tue 02 10:00"}, b.comingAt(t)) },
		},
		{
			name:  "remind_template_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}},
			script: append(bookIvan,
				"pick: Записаться", "pick: Стрижка", "pick: Anna", "pick: #4", "pick: 10:00", "pick: Подтвердить",
				"clock: +26h", "template: #1",
				"text: здравствуйте", // not a choice: the reminder's buttons again
				"text: 3",            // cancels Wednesday
				"clock: +24h", "template: #1",
				"text: перенести", // a button's label, typed: Thursday's move
			),
			check: func(t *testing.T, b *bundle) { require.Equal(t, []string{"Thu 04 10:00"}, b.starts(t)) },
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := newBundleWith(t, withReminders)
			golden(t, c.name, b.run(t, c.convs, c.script))
			c.check(t, b)
		})
	}
}

// TestComingFromTheChat: "I'll come" pressed twice queues exactly one staff
// notice (the real recorder, in the change's transaction); the same buttons
// with the id of another chat's booking (forged, or guessed) change nothing,
// tell nothing of that booking, and queue no notice.
func TestComingFromTheChat(t *testing.T) {
	t.Parallel()
	b := newBundleWith(t, func(s *postgres.SalonSetup) {
		withReminders(s)
		s.StaffChats = map[string]int64{"anna": 4242}
	})
	catalog, err := i18n.Load()
	require.NoError(t, err)
	cat, err := b.bookings.Catalog(ctx, b.salonID)
	require.NoError(t, err)
	b.store.FollowChanges(pipeline.NewStaffNotices("telegram", dialog.StaffText(catalog, cat.Salon), slog.New(slog.DiscardHandler)).Record)
	notices := func() []string {
		rows, err := pgtest.Pool(t).Query(ctx, `SELECT body FROM outbox WHERE salon_id = $1 AND chat_id = '4242' ORDER BY id`, b.salonID)
		require.NoError(t, err)
		defer rows.Close()
		var out []string
		for rows.Next() {
			var body []byte
			require.NoError(t, rows.Scan(&body))
			var o messaging.Outgoing
			require.NoError(t, json.Unmarshal(body, &o))
			out = append(out, o.Reply.Text)
		}
		return out
	}

	olga, mallory := &conv{name: "olga", hint: "en"}, &conv{name: "mallory", hint: "en"}
	b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Wed 3 Mar", "pick: 10:00",
		"text: Olga Petrova", "text: +49 151 1111111", "pick: Confirm"})
	list, err := b.bookings.Upcoming(ctx, b.salonID, "test:olga")
	require.NoError(t, err)
	require.Len(t, list, 1)
	id := list[0].ID
	require.Len(t, notices(), 1, "the booking's own notice")
	b.clock.T = b.clock.T.Add(26 * time.Hour) // the 24 h reminder

	b.run(t, []*conv{mallory}, []string{"text: hi"})
	for _, forged := range []string{"ok:" + id, "mv:" + id, "cx:" + id} {
		r := b.send(t, mallory, dialog.Inbound{Kind: dialog.KindChoice, Choice: forged})
		require.Len(t, r, 1)
		require.True(t, strings.HasPrefix(r[0].Text, "That appointment is no longer booked."),
			"%s: the answer to an unknown id, nothing about Olga's booking: %q", forged, r[0].Text)
		require.NotContains(t, r[0].Text, "Haircut")
	}
	got, err := b.bookings.Get(ctx, b.salonID, id)
	require.NoError(t, err)
	require.Equal(t, core.StatusConfirmed, got.Status)
	require.Equal(t, list[0].Start, got.Start)
	require.True(t, got.ComingAt.IsZero(), "a forged I'll come records nothing")
	require.Len(t, notices(), 1, "and tells the master nothing")

	for range 2 {
		r := b.send(t, olga, dialog.Inbound{Kind: dialog.KindChoice, Choice: "ok:" + id})
		require.True(t, strings.HasPrefix(r[0].Text, "Thank you! See you on Wed 3 Mar, 10:00."), r[0].Text)
	}
	require.Equal(t, []string{
		"New booking for Anna: Haircut, Wed 3 Mar, 10:00, Olga.",
		`Olga confirmed with "I'll come" for Anna: Haircut, Wed 3 Mar, 10:00.`,
	}, notices(), "two presses, one notice")
	got, err = b.bookings.Get(ctx, b.salonID, id)
	require.NoError(t, err)
	require.Equal(t, b.clock.T, got.ComingAt)
}

// TestTypedReplyToAReminder: a number typed at the menu answers a reminder only
// when one was due after the chat's last step; a booking made inside its
// reminder offsets had none, and "1" is the menu's Book. Of two bookings with
// reminders due, the newest reminder is the one answered.
func TestTypedReplyToAReminder(t *testing.T) {
	t.Parallel()
	b := newBundleWith(t, withReminders)
	olga := &conv{name: "olga", hint: "en"}
	// Monday 08:00, for 10:00: the 2 h reminder was due as she booked; none is sent.
	b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Mon 1 Mar", "pick: 10:00",
		"text: Olga", "text: +49 151 2345678", "pick: Confirm"})
	b.clock.T = b.clock.T.Add(time.Hour)
	r := b.send(t, olga, dialog.Inbound{Kind: dialog.KindText, Text: "1"})
	require.Equal(t, "Which service would you like?", strings.Split(r[0].Text, "\n")[0], "no reminder: 1 is Book")

	// Wednesday 12:00 and Thursday 11:00; on Wednesday at 11:00 Wednesday's 2 h
	// reminder (due 10:00) and Thursday's 24 h one (due 11:00) are both out.
	b.run(t, []*conv{olga}, []string{"cmd: start", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Wed 3 Mar", "pick: 12:00", "pick: Confirm",
		"pick: Book", "pick: Haircut", "pick: Anna", "pick: Thu 4 Mar", "pick: 11:00", "pick: Confirm"})
	b.clock.T = time.Date(2027, 3, 3, 11, 0, 0, 0, pgtest.Berlin)
	r = b.send(t, olga, dialog.Inbound{Kind: dialog.KindText, Text: "1"})
	require.True(t, strings.HasPrefix(r[0].Text, "Thank you! See you on Thu 4 Mar, 11:00."), r[0].Text)
	r = b.send(t, olga, dialog.Inbound{Kind: dialog.KindText, Text: "I'LL COME"})
	require.Equal(t, "Anything else I can do for you?", strings.Split(r[0].Text, "\n\n")[1],
		"answered: the next text is the menu's, not the older reminder's")
}
