package dialog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/core"
	"salonbook/src/core/booking"
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
		"text: Olga", "text: +49 151 23456789", "pick: Confirm"}
	bookIvan := []string{"text: привет", "pick: Записаться", "pick: Стрижка", "pick: Анна", "pick: #3", "pick: 10:00",
		"text: Иван", "text: +7 912 345 67 89", "pick: Подтвердить"}
	cases := []struct {
		name   string
		convs  []*conv
		fill   int // a day of March whose Anna's hours three manicures fill ("free: n" frees the n-th)
		script []string
		check  func(t *testing.T, b *bundle)
	}{
		{
			name:  "remind_coming_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: append(bookOlga,
				"clock: +26h", "remind: #1", "press: I'll be there", // the 24 h reminder
				"clock: +22h", "remind: #1", "press: I'll be there", // the 2 h one: the same answer, nothing changes
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
				"clock: +26h", "olga remind: #1", "olga press: Reschedule", "olga pick: Yes, move", "olga pick: Thu 4 Mar",
				// Petra takes Thursday 10:00 while Olga looks at the times.
				"petra text: hi", "petra pick: Book", "petra pick: Haircut", "petra pick: Anna", "petra pick: Thu 4 Mar",
				"petra pick: 10:00", "petra text: Petra", "petra text: +49 151 76543219", "petra pick: Confirm",
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
				"clock: +26h", "remind: #1", "press: Перенести", "pick: Да, перенести", "pick: #3", "pick: 12:00",
			),
			check: func(t *testing.T, b *bundle) { require.Equal(t, []string{"Thu 04 12:00"}, b.starts(t)) },
		},
		{
			name:  "remind_cancel_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: append(bookOlga,
				"pick: Book", "pick: Haircut", "pick: Anna", "pick: Thu 4 Mar", "pick: 10:00", "pick: Confirm",
				"clock: +26h", "remind: #1", "press: Cancel booking", "pick: No, keep it", // 24 h ahead: outside the 12 h cutoff
				"press: Cancel booking", "pick: Yes, cancel",
				"clock: +46h", "remind: #1", "press: Cancel booking", "press: Reschedule", // Thursday, 2 h ahead: inside
			),
			check: func(t *testing.T, b *bundle) { require.Equal(t, []string{"Thu 04 10:00"}, b.starts(t)) },
		},
		{
			name:  "remind_cancel_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}},
			script: append(bookIvan,
				"pick: Записаться", "pick: Стрижка", "pick: Анна", "pick: #4", "pick: 10:00", "pick: Подтвердить",
				"clock: +26h", "remind: #1", "press: Отменить запись", "pick: Нет, оставить",
				"press: Отменить запись", "pick: Да, отменить",
				"clock: +46h", "remind: #1", "press: Отменить запись", "press: Перенести",
			),
			check: func(t *testing.T, b *bundle) { require.Equal(t, []string{"Thu 04 10:00"}, b.starts(t)) },
		},
		{
			name:  "remind_gone_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: append(bookOlga,
				"clock: +26h", "remind: #1",
				"cmd: start", "pick: My bookings", "pick: #1", "pick: Cancel booking", "pick: Yes, cancel", // cancelled since
				"press: I'll be there", "press: Reschedule", "press: Cancel booking",
				"pick: Book", "pick: Haircut", "pick: Anna", "pick: Wed 3 Mar", "pick: 11:00", "pick: Confirm",
				"clock: +23h", "remind: #1", "clock: +2h", "press: I'll be there", // started
			),
			check: func(t *testing.T, b *bundle) { require.Equal(t, []string{"-"}, b.comingAt(t)) },
		},
		{
			name:  "remind_gone_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}},
			script: append(bookIvan,
				"clock: +26h", "remind: #1",
				"cmd: start", "pick: Мои записи", "pick: #1", "pick: Отменить запись", "pick: Да, отменить",
				"press: Приду", "press: Отменить запись",
			),
			check: func(t *testing.T, b *bundle) { require.Empty(t, b.starts(t)) },
		},
		{
			name:  "remind_mid_flow_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: append(bookOlga,
				"clock: +26h", "remind: #1",
				"cmd: start", "pick: Book", "pick: Manicure", "pick: Thu 4 Mar", "pick: 11:00", // a hold
				"press: I'll be there", // a one-line answer: the flow goes on
				"press: Reschedule",    // takes over: the flow and its hold are dropped, and it asks first
				"pick: Yes, move",
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
				"pick: Записаться", "pick: Стрижка", "pick: Анна", "pick: #4", "pick: 10:00", "pick: Подтвердить",
				"clock: +26h", "template: #1",
				"text: здравствуйте", // not a choice: the reminder's buttons again
				"text: 3",            // cancels Wednesday, asked first
				"text: 1",            // yes
				"clock: +24h", "template: #1",
				"text: перенести", // a button's label, typed: Thursday's move, asked first
				"text: да, перенести",
			),
			check: func(t *testing.T, b *bundle) { require.Equal(t, []string{"Thu 04 10:00"}, b.starts(t)) },
		},
		{
			name:  "remind_mid_flow_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}},
			script: append(bookIvan,
				"clock: +26h", "remind: #1",
				"cmd: start", "pick: Записаться", "pick: Маникюр", "pick: #3", "pick: 11:00",
				"press: Приду", "press: Перенести", "pick: Да, перенести",
			),
			check: func(t *testing.T, b *bundle) {
				require.Equal(t, []string{"Wed 03 10:00"}, b.starts(t), "the hold was released")
				require.Equal(t, []string{"Tue 02 10:00"}, b.comingAt(t))
			},
		},
		{
			// A move of another booking, then a wait-list sign-up (a full day's
			// "Notify me"), each dropped by a reminder's button: no hold to
			// release, so the answer does not speak of one.
			name:  "remind_drops_flows_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			fill:  5,
			script: append(bookOlga,
				"pick: Book", "pick: Haircut", "pick: Anna", "pick: Thu 4 Mar", "pick: 10:00", "pick: Confirm",
				"clock: +26h", "remind: #1",
				"cmd: start", "pick: Book", "pick: Manicure", "pick: Fri 5 Mar (full)",
				"press: Reschedule", // Wednesday's move asked: the sign-up is dropped
				"cmd: start", "pick: My bookings", "pick: #2", "pick: Reschedule", "pick: Yes, move", "pick: Thu 4 Mar",
				"press: Cancel booking", "pick: Yes, cancel", // Wednesday cancelled: Thursday's move is dropped
			),
			check: func(t *testing.T, b *bundle) {
				require.Equal(t, []string{"Thu 04 10:00", "Fri 05 10:00", "Fri 05 11:00", "Fri 05 12:00"}, b.starts(t))
				var n int
				require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT count(*) FROM waitlist WHERE salon_id = $1`, b.salonID).Scan(&n))
				require.Zero(t, n)
			},
		},
		{
			name:  "remind_typed_labels_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: append(bookOlga,
				"clock: +26h", "template: #1", "text: I’ll be there!", // a curly apostrophe, and a "!"
			),
			check: func(t *testing.T, b *bundle) { require.Equal(t, []string{"Tue 02 10:00"}, b.comingAt(t)) },
		},
		{
			name:  "remind_typed_labels_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}},
			script: append(bookIvan,
				"clock: +26h", "template: #1", "text: приду!",
			),
			check: func(t *testing.T, b *bundle) { require.Equal(t, []string{"Tue 02 10:00"}, b.comingAt(t)) },
		},
		{
			// Typed words for "I'll be there" answer the reminder (a button's
			// reminder or a template's); once answered, "yes" is no longer one.
			name:  "remind_typed_coming_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: append(bookOlga,
				"clock: +26h", "template: #1", "text: Yes, I'll come.", "text: yes",
			),
			check: func(t *testing.T, b *bundle) { require.Equal(t, []string{"Tue 02 10:00"}, b.comingAt(t)) },
		},
		{
			name:  "remind_typed_coming_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}},
			script: append(bookIvan,
				"clock: +26h", "remind: #1", "text: Да, приду!",
			),
			check: func(t *testing.T, b *bundle) { require.Equal(t, []string{"Tue 02 10:00"}, b.comingAt(t)) },
		},
		{
			name:  "remind_stale_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: append(bookOlga,
				"clock: +26h", "remind: #1", "press: Reschedule", "pick: Yes, move", "pick: Thu 4 Mar", "pick: 12:00",
				"press: I'll be there", // the old reminder's: the booking has moved
				"pick: I'll be there",  // the new time's
			),
			check: func(t *testing.T, b *bundle) {
				require.Equal(t, []string{"Thu 04 12:00"}, b.starts(t))
				require.Equal(t, []string{"Tue 02 10:00"}, b.comingAt(t), "recorded once, by the second press")
			},
		},
		{
			// A wait-list offer reaches a silent chat as a WhatsApp template
			// (no buttons): typed, "1" is its Book it.
			name:  "pushed_offer_typed_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			fill:  2,
			script: []string{
				"text: hi", "pick: Book", "pick: Manicure", "pick: Tue 2 Mar (full)", "pick: Notify me: 2 Mar",
				"text: Olga", "text: +49 151 23456789", "clock: +1m", "free: 1", "match: -", "text: 1",
			},
			check: func(t *testing.T, b *bundle) {
				var n int
				require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT count(*) FROM bookings
					WHERE salon_id = $1 AND source = 'test:olga' AND status = 'confirmed'`, b.salonID).Scan(&n))
				require.Equal(t, 1, n, "the offer, booked")
			},
		},
		{
			// A reminder, then an offer: "1" answers the newest, the offer.
			name:  "pushed_newest_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			fill:  4,
			script: append(bookOlga,
				"pick: Book", "pick: Manicure", "pick: Thu 4 Mar (full)", "pick: Notify me: 4 Mar",
				"clock: +26h", "template: #1", "clock: +1m", "free: 2", "match: -", "text: 1",
				"clock: +1m", "text: 2", // answered: the menu's again
			),
			check: func(t *testing.T, b *bundle) {
				require.Equal(t, []string{"Wed 03 10:00", "Thu 04 10:00", "Thu 04 11:00", "Thu 04 12:00"}, b.starts(t))
				require.Equal(t, []string{"-", "-", "-", "-"}, b.comingAt(t), "no I'll come")
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := newBundleWith(t, withReminders)
			for i, h := range []int{10, 11, 12} {
				if c.fill == 0 {
					break
				}
				bk, err := b.bookings.Book(ctx, booking.BookRequest{SalonID: b.salonID, ServiceID: "manicure", MasterID: "anna",
					Start:          time.Date(2027, 3, c.fill, h, 0, 0, 0, pgtest.Berlin),
					Client:         core.Client{Name: "Busy", Phone: fmt.Sprintf("+4915100000%02d", i)},
					IdempotencyKey: fmt.Sprintf("fill-%d", i), Confirm: true, Source: booking.OwnerSource})
				require.NoError(t, err)
				b.fills = append(b.fills, bk.ID)
			}
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
		"text: Olga Petrova", "text: +49 151 11111119", "pick: Confirm"})
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
		require.True(t, strings.HasPrefix(r[0].Text, "Thank you! See you on Wednesday, 3 March at 10:00."), r[0].Text)
	}
	require.Equal(t, []string{
		"New booking. Master: Anna. Haircut, Wednesday, 3 March at 10:00, Olga.",
		"Olga confirmed they'll be there. Master: Anna. Haircut, Wednesday, 3 March at 10:00.",
	}, notices(), "two presses, one notice")
	got, err = b.bookings.Get(ctx, b.salonID, id)
	require.NoError(t, err)
	require.Equal(t, b.clock.T, got.ComingAt)
}

// TestTypedReplyToPushed: a number typed at the menu answers the newest
// message actually pushed to the chat after its last step. A booking the owner
// moved (through the API) inside its reminder offsets got no reminder: "1" is
// the menu's Book, and nothing is recorded. The scheduler's reminder, once
// queued, is what "1" answers.
func TestTypedReplyToPushed(t *testing.T) {
	t.Parallel()
	b := newBundleWith(t, withReminders)
	olga := &conv{name: "olga", hint: "en"}
	b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Wed 3 Mar", "pick: 10:00",
		"text: Olga", "text: +49 151 23456789", "pick: Confirm"})
	list, err := b.bookings.Upcoming(ctx, b.salonID, "test:olga")
	require.NoError(t, err)
	require.Len(t, list, 1)
	// Tuesday 09:00, before the 24 h reminder is due: the owner moves it to
	// Tuesday 12:00, inside both offsets' reach of the 24 h one.
	b.clock.T = time.Date(2027, 3, 2, 9, 0, 0, 0, pgtest.Berlin)
	_, err = b.bookings.Reschedule(ctx, b.salonID, list[0].ID, time.Date(2027, 3, 2, 12, 0, 0, 0, pgtest.Berlin))
	require.NoError(t, err)
	b.clock.T = b.clock.T.Add(30 * time.Minute)
	n, _, err := b.reminders.Tick(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing is due at 09:30")
	r := b.send(t, olga, dialog.Inbound{Kind: dialog.KindText, Text: "1"})
	require.Equal(t, "Which service would you like?", strings.Split(r[0].Text, "\n")[0], "no reminder was sent: 1 is Book")
	require.Equal(t, []string{"-"}, b.comingAt(t))

	// 10:00: the 2 h reminder of 12:00 is queued and sent; "1" answers it.
	b.run(t, []*conv{olga}, []string{"cmd: start"})
	b.clock.T = b.clock.T.Add(30 * time.Minute)
	n, _, err = b.reminders.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	b.sent(t)
	r = b.send(t, olga, dialog.Inbound{Kind: dialog.KindText, Text: "1"})
	require.True(t, strings.HasPrefix(r[0].Text, "Thank you! See you on Tuesday, 2 March at 12:00."), r[0].Text)
	require.Equal(t, []string{"Tue 02 10:00"}, b.comingAt(t))
	r = b.send(t, olga, dialog.Inbound{Kind: dialog.KindText, Text: "1"})
	require.Equal(t, "Which service would you like?", strings.Split(r[0].Text, "\n")[0], "answered: 1 is the menu's again")
}

// TestTypedReplyToUnsentReminder: a reminder queued but not sent yet (behind
// the send limits, a 429, a paused channel) is not what "1" answers: the
// client has not seen it, and "1" is the menu's Book.
func TestTypedReplyToUnsentReminder(t *testing.T) {
	t.Parallel()
	b := newBundleWith(t, withReminders)
	olga := &conv{name: "olga", hint: "en"}
	b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Wed 3 Mar", "pick: 10:00",
		"text: Olga", "text: +49 151 23456789", "pick: Confirm"})
	b.clock.T = time.Date(2027, 3, 2, 10, 0, 0, 0, pgtest.Berlin)
	n, _, err := b.reminders.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the 24 h reminder is queued")
	r := b.send(t, olga, dialog.Inbound{Kind: dialog.KindText, Text: "1"})
	require.Equal(t, "Which service would you like?", strings.Split(r[0].Text, "\n")[0], "not sent: 1 is Book")
	require.Equal(t, []string{"-"}, b.comingAt(t))
}

// failingPushed is the pushed messages' store, down.
type failingPushed struct{}

func (failingPushed) Pushed(context.Context, dialog.ChatKey, time.Time) (*dialog.Reply, error) {
	return nil, core.Errorf(core.EUnavailable, "error.unavailable", "test: database down")
}

// TestTypedReplyWhilePushedIsDown: text typed at the menu while the pushed
// messages cannot be read is an apology, not the menu's answer to it ("1" is
// not Book: it may answer a reminder).
func TestTypedReplyWhilePushedIsDown(t *testing.T) {
	t.Parallel()
	b := newBundleWith(t, withReminders)
	olga := &conv{name: "olga", hint: "en"}
	b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Wed 3 Mar", "pick: 10:00",
		"text: Olga", "text: +49 151 23456789", "pick: Confirm", "cmd: start", "clock: +26h", "remind: #1"})
	cat, err := i18n.Load()
	require.NoError(t, err)
	engine := dialog.NewEngine(dialog.Config{SalonID: b.salonID, Bookings: b.bookings, Pushed: failingPushed{}, Catalog: cat, Clock: b.clock})
	down := dialog.NewService(engine, postgres.NewConversations(pgtest.Pool(t)))
	r, err := down.Handle(ctx, dialog.ChatKey{SalonID: b.salonID, Channel: "test", ChatID: "olga"},
		dialog.Inbound{ID: "down-1", Kind: dialog.KindText, Text: "1"})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(r[0].Text, "Sorry, something went wrong on our side."), r[0].Text)
	require.Equal(t, []string{"-"}, b.comingAt(t))
}

// TestStaleReminderPress: a reminder's buttons name the start they remind of;
// after the booking moved (here through the reminder's own Reschedule) a press
// on the old reminder records nothing and tells no master, and the answer
// names the new time with the booking's buttons for it. The answer to a press
// on a reminder goes as a new message: the reminder (and its address) stays.
func TestStaleReminderPress(t *testing.T) {
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
	olga := &conv{name: "olga", hint: "en"}
	b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Wed 3 Mar", "pick: 10:00",
		"text: Olga", "text: +49 151 23456789", "pick: Confirm", "clock: +26h", "remind: #1"})
	old := *olga.reminder
	r := b.send(t, olga, dialog.Inbound{Kind: dialog.KindChoice, Choice: old.Choices[1].ID}) // Reschedule
	require.True(t, r[0].NoEdit, "a press on a reminder is answered below it")
	b.run(t, []*conv{olga}, []string{"pick: Yes, move", "pick: Thu 4 Mar", "pick: 12:00"})
	require.Equal(t, []string{"Thu 04 12:00"}, b.starts(t))

	r = b.send(t, olga, dialog.Inbound{Kind: dialog.KindChoice, Choice: old.Choices[0].ID}) // I'll come, on the old reminder
	require.True(t, strings.HasPrefix(r[0].Text, "That appointment has moved to Thursday, 4 March at 12:00."), r[0].Text)
	require.True(t, r[0].NoEdit)
	require.Len(t, r[0].Choices, 4, "the booking's buttons for its new time, and Menu")
	require.NotEqual(t, old.Choices[0].ID, r[0].Choices[0].ID)
	require.Equal(t, []string{"-"}, b.comingAt(t), "nothing recorded")
	for _, c := range old.Choices[1:] { // Reschedule and Cancel on the old reminder: nothing changes either
		r = b.send(t, olga, dialog.Inbound{Kind: dialog.KindChoice, Choice: c.ID})
		require.True(t, strings.HasPrefix(r[0].Text, "That appointment has moved to Thursday, 4 March at 12:00."), r[0].Text)
	}
	require.Equal(t, []string{"Thu 04 12:00"}, b.starts(t))
	var coming int
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT count(*) FROM outbox WHERE salon_id = $1 AND chat_id = '4242'
		AND body->'reply'->>'text' LIKE '%I''ll come%'`, b.salonID).Scan(&coming))
	require.Zero(t, coming, "no staff.coming notice")

	r = b.send(t, olga, dialog.Inbound{Kind: dialog.KindChoice, Choice: r[0].Choices[0].ID}) // I'll come, for the new time
	require.True(t, strings.HasPrefix(r[0].Text, "Thank you! See you on Thursday, 4 March at 12:00."), r[0].Text)
}

// unavailable is the booking service with Get failing as a database outage does.
type unavailable struct{ *booking.Service }

func (unavailable) Get(context.Context, string, string) (*core.Booking, error) {
	return nil, core.Errorf(core.EUnavailable, "error.unavailable", "test: database down")
}

// TestPressWhileTheStoreIsDown: a booking's button pressed while the booking
// cannot be read is an apology, not "no longer booked".
func TestPressWhileTheStoreIsDown(t *testing.T) {
	t.Parallel()
	b := newBundleWith(t, withReminders)
	olga := &conv{name: "olga", hint: "en"}
	b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Wed 3 Mar", "pick: 10:00",
		"text: Olga", "text: +49 151 23456789", "pick: Confirm", "clock: +26h", "remind: #1"})
	cat, err := i18n.Load()
	require.NoError(t, err)
	engine := dialog.NewEngine(dialog.Config{SalonID: b.salonID, Bookings: unavailable{b.bookings}, Catalog: cat, Clock: b.clock})
	down := dialog.NewService(engine, postgres.NewConversations(pgtest.Pool(t)))
	for _, c := range olga.reminder.Choices {
		r, err := down.Handle(ctx, dialog.ChatKey{SalonID: b.salonID, Channel: "test", ChatID: "olga"},
			dialog.Inbound{ID: "down-" + c.ID, Kind: dialog.KindChoice, Choice: c.ID})
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(r[0].Text, "Sorry, something went wrong on our side."), "%s: %q", c.ID, r[0].Text)
	}
	require.Equal(t, []string{"-"}, b.comingAt(t))
}

// TestForgedPressOnAHold: a reminder's buttons act on confirmed bookings only.
// The flow's own hold, or a wait-list offer's, pressed with a forged
// Reschedule or Cancel, is "no longer booked": the hold is neither released
// nor moved, and the flow goes on to Confirm.
func TestForgedPressOnAHold(t *testing.T) {
	t.Parallel()
	b := newBundleWith(t, withReminders)
	olga := &conv{name: "olga", hint: "en"}
	b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Wed 3 Mar", "pick: 10:00",
		"text: Olga", "text: +49 151 23456789"}) // a hold, waiting for Confirm
	var hold string
	var start time.Time
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT booking_id::text, starts_at FROM bookings WHERE salon_id = $1 AND status = 'held'`,
		b.salonID).Scan(&hold, &start))
	unix := ":" + strconv.FormatInt(start.Unix(), 10)
	for _, forged := range []string{"mv:" + hold + unix, "cx:" + hold + unix, "ok:" + hold + unix, "mv:" + hold, "cx:" + hold} {
		r := b.send(t, olga, dialog.Inbound{Kind: dialog.KindChoice, Choice: forged})
		require.True(t, strings.HasPrefix(r[0].Text, "That appointment is no longer booked."), "%s: %q", forged, r[0].Text)
		var status string
		require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT status FROM bookings WHERE booking_id = $1`, hold).Scan(&status))
		require.Equal(t, "held", status, "%s: the hold stands", forged)
	}
	b.run(t, []*conv{olga}, []string{"pick: Confirm"})
	require.Equal(t, []string{"-"}, b.comingAt(t), "the flow went on to its booking")
}

// TestTypedComingToReminder: typed words for "I'll be there" answer the
// reminder the chat was last sent, as its button does; the same words with no
// reminder to answer (none sent, or a step taken since) confirm nothing.
func TestTypedComingToReminder(t *testing.T) {
	t.Parallel()
	book := []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Wed 3 Mar", "pick: 10:00",
		"text: Olga", "text: +49 151 23456789", "pick: Confirm"}
	for _, typed := range []string{"I'll come", "I will come", "coming", "I'll be there", "yes", "Yes!",
		"приду", "Буду", "да, приду", "буду вовремя"} {
		t.Run(typed, func(t *testing.T) {
			t.Parallel()
			b := newBundleWith(t, withReminders)
			b.run(t, []*conv{{name: "olga", hint: "en"}}, append(book, "clock: +26h", "template: #1", "text: "+typed))
			require.Equal(t, []string{"Tue 02 10:00"}, b.comingAt(t))
		})
	}
	t.Run("NoReminder", func(t *testing.T) {
		t.Parallel()
		b := newBundleWith(t, withReminders)
		b.run(t, []*conv{{name: "olga", hint: "en"}}, append(book, "clock: +1h", "text: yes", "text: I'll come"))
		require.Equal(t, []string{"-"}, b.comingAt(t))
	})
	t.Run("StepSinceReminder", func(t *testing.T) {
		t.Parallel()
		b := newBundleWith(t, withReminders)
		b.run(t, []*conv{{name: "olga", hint: "en"}}, append(book, "clock: +26h", "template: #1", "cmd: start", "text: yes", "text: coming"))
		require.Equal(t, []string{"-"}, b.comingAt(t))
	})
}

// TestTypedComingMidFlow: a reminder that came while the client was in a
// flow (choosing a time) is answered by a typed "I'll be there" / "Приду"
// (its own label or the coming words) at that step too: the booking is
// confirmed and the step's question asked again. A bare number stays the
// step's list's, and a plain "yes" is not taken for it.
func TestTypedComingMidFlow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lang, say, thanks string // thanks "": not taken for the reminder's answer
		step              string // where the reminder comes: "time" ("") or "confirm"
		script, flow      []string
	}{
		{lang: "en", say: "I'll be there", thanks: "Thank you! See you on Wednesday, 3 March at 10:00.",
			script: []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Wed 3 Mar", "pick: 10:00",
				"text: Olga", "text: +49 151 23456789", "pick: Confirm"},
			flow: []string{"pick: Book", "pick: Manicure", "pick: #3"}},
		{lang: "en", say: "sure, I'll be there!", thanks: "Thank you! See you on Wednesday, 3 March at 10:00.",
			script: []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Wed 3 Mar", "pick: 10:00",
				"text: Olga", "text: +49 151 23456789", "pick: Confirm"},
			flow: []string{"pick: Book", "pick: Manicure", "pick: #3"}},
		{lang: "ru", say: "Приду", thanks: "Спасибо! Ждём вас",
			script: []string{"text: привет", "pick: Записаться", "pick: Стрижка", "pick: Анна", "pick: #3", "pick: 10:00",
				"text: Иван", "text: +7 912 345 67 89", "pick: Подтвердить"},
			flow: []string{"pick: Записаться", "pick: Маникюр", "pick: #3"}},
		{lang: "ru", say: "спасибо, буду", thanks: "Спасибо! Ждём вас",
			script: []string{"text: привет", "pick: Записаться", "pick: Стрижка", "pick: Анна", "pick: #3", "pick: 10:00",
				"text: Иван", "text: +7 912 345 67 89", "pick: Подтвердить"},
			flow: []string{"pick: Записаться", "pick: Маникюр", "pick: #3"}},
		{lang: "en", say: "yes", thanks: "",
			script: []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Wed 3 Mar", "pick: 10:00",
				"text: Olga", "text: +49 151 23456789", "pick: Confirm"},
			flow: []string{"pick: Book", "pick: Manicure", "pick: #3"}},
		{lang: "ru", say: "да", thanks: "",
			script: []string{"text: привет", "pick: Записаться", "pick: Стрижка", "pick: Анна", "pick: #3", "pick: 10:00",
				"text: Иван", "text: +7 912 345 67 89", "pick: Подтвердить"},
			flow: []string{"pick: Записаться", "pick: Маникюр", "pick: #3"}},
		// At Confirm (a yes/no question) only the label itself is the reminder's.
		{lang: "en", say: "yes, I will", thanks: "", step: "confirm",
			script: []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Wed 3 Mar", "pick: 10:00",
				"text: Olga", "text: +49 151 23456789", "pick: Confirm"},
			flow: []string{"pick: Book", "pick: Manicure", "pick: #3", "pick: #1"}},
		{lang: "en", say: "see you then", thanks: "", step: "confirm",
			script: []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Wed 3 Mar", "pick: 10:00",
				"text: Olga", "text: +49 151 23456789", "pick: Confirm"},
			flow: []string{"pick: Book", "pick: Manicure", "pick: #3", "pick: #1"}},
		{lang: "en", say: "I'll be there", thanks: "Thank you! See you on Wednesday, 3 March at 10:00.", step: "confirm",
			script: []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Wed 3 Mar", "pick: 10:00",
				"text: Olga", "text: +49 151 23456789", "pick: Confirm"},
			flow: []string{"pick: Book", "pick: Manicure", "pick: #3", "pick: #1"}},
		{lang: "ru", say: "да, буду", thanks: "", step: "confirm",
			script: []string{"text: привет", "pick: Записаться", "pick: Стрижка", "pick: Анна", "pick: #3", "pick: 10:00",
				"text: Иван", "text: +7 912 345 67 89", "pick: Подтвердить"},
			flow: []string{"pick: Записаться", "pick: Маникюр", "pick: #3", "pick: #1"}},
		{lang: "ru", say: "да приду", thanks: "", step: "confirm",
			script: []string{"text: привет", "pick: Записаться", "pick: Стрижка", "pick: Анна", "pick: #3", "pick: 10:00",
				"text: Иван", "text: +7 912 345 67 89", "pick: Подтвердить"},
			flow: []string{"pick: Записаться", "pick: Маникюр", "pick: #3", "pick: #1"}},
		{lang: "ru", say: "хорошо буду", thanks: "", step: "confirm",
			script: []string{"text: привет", "pick: Записаться", "pick: Стрижка", "pick: Анна", "pick: #3", "pick: 10:00",
				"text: Иван", "text: +7 912 345 67 89", "pick: Подтвердить"},
			flow: []string{"pick: Записаться", "pick: Маникюр", "pick: #3", "pick: #1"}},
		{lang: "ru", say: "Приду", thanks: "Спасибо! Ждём вас", step: "confirm",
			script: []string{"text: привет", "pick: Записаться", "pick: Стрижка", "pick: Анна", "pick: #3", "pick: 10:00",
				"text: Иван", "text: +7 912 345 67 89", "pick: Подтвердить"},
			flow: []string{"pick: Записаться", "pick: Маникюр", "pick: #3", "pick: #1"}},
	} {
		if tc.step == "" {
			tc.step = "time"
		}
		t.Run(tc.step+"/"+tc.lang+"/"+tc.say, func(t *testing.T) {
			t.Parallel()
			b := newBundleWith(t, withReminders)
			c := &conv{name: "c", hint: tc.lang}
			b.run(t, []*conv{c}, tc.script)
			// Tuesday 09:55: a new booking is under way, at its time step.
			b.clock.T = time.Date(2027, 3, 2, 9, 55, 0, 0, pgtest.Berlin)
			b.run(t, []*conv{c}, tc.flow)
			day := b.state(t, pgtest.Pool(t), "c").Day
			require.Equal(t, tc.step, b.state(t, pgtest.Pool(t), "c").Step, lastText(c))
			b.clock.T = b.clock.T.Add(5 * time.Minute)
			n, _, err := b.reminders.Tick(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, n, "the 24 h reminder")
			b.sent(t)
			b.clock.T = b.clock.T.Add(time.Minute)

			r := b.send(t, c, dialog.Inbound{Kind: dialog.KindText, Text: tc.say})
			if tc.thanks == "" {
				require.NotContains(t, r[0].Text, "Thank you! See you")
				require.NotContains(t, r[0].Text, "Спасибо! Ждём вас")
				if tc.step == "confirm" { // the question's yes: the new booking is confirmed
					require.Equal(t, []string{"-", "-"}, b.comingAt(t), "the Confirm's yes: %q", r[0].Text)
					return
				}
				require.Equal(t, []string{"-"}, b.comingAt(t), "a plain yes is the step's: %q", r[0].Text)
				return
			}
			require.Contains(t, r[0].Text, tc.thanks)
			require.Equal(t, []string{"Tue 02 10:01"}, b.comingAt(t))
			st := b.state(t, pgtest.Pool(t), "c")
			require.Equal(t, tc.step, st.Step, "the flow goes on")
			require.Equal(t, day, st.Day)
			if tc.step == "confirm" {
				require.Len(t, b.starts(t), 2, "the hold is kept")
				return
			}
			r = b.send(t, c, dialog.Inbound{Kind: dialog.KindText, Text: "1"})
			require.Equal(t, "confirm", b.state(t, pgtest.Pool(t), "c").Step, "1 is the list's first time: %q", r[0].Text)
		})
	}
}

// TestNotComingWords: at the menu after a reminder, a refusal or a request
// to move is not "I'll be there": nothing is recorded.
func TestNotComingWords(t *testing.T) {
	t.Parallel()
	for _, say := range []string{"не приду", "нет", "yes please move it", "no", "I won't come", "ok"} {
		t.Run(say, func(t *testing.T) {
			t.Parallel()
			b := newBundleWith(t, withReminders)
			olga := &conv{name: "olga", hint: "en"}
			b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Wed 3 Mar", "pick: 10:00",
				"text: Olga", "text: +49 151 23456789", "pick: Confirm"})
			b.clock.T = time.Date(2027, 3, 2, 10, 0, 0, 0, pgtest.Berlin)
			n, _, err := b.reminders.Tick(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			b.sent(t)
			b.clock.T = b.clock.T.Add(time.Minute)
			b.send(t, olga, dialog.Inbound{Kind: dialog.KindText, Text: say})
			require.Equal(t, []string{"-"}, b.comingAt(t))
		})
	}
}

// TestTypedMoveCancelMidFlow: a reminder that came while the client was
// booking another time (at its time step or at Confirm) is not answered by a
// typed "Cancel booking" or "Reschedule": the label is the step's, the flow
// and its hold are kept, and the reminded booking is neither cancelled nor
// asked about.
func TestTypedMoveCancelMidFlow(t *testing.T) {
	t.Parallel()
	en := []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Wed 3 Mar", "pick: 10:00",
		"text: Olga", "text: +49 151 23456789", "pick: Confirm"}
	ru := []string{"text: привет", "pick: Записаться", "pick: Стрижка", "pick: Анна", "pick: #3", "pick: 10:00",
		"text: Иван", "text: +7 912 345 67 89", "pick: Подтвердить"}
	for _, tc := range []struct {
		lang, say, step string
		script, flow    []string
	}{
		{lang: "en", say: "Cancel booking", step: "confirm", script: en, flow: []string{"pick: Book", "pick: Manicure", "pick: #3", "pick: #1"}},
		{lang: "en", say: "Reschedule", step: "confirm", script: en, flow: []string{"pick: Book", "pick: Manicure", "pick: #3", "pick: #1"}},
		{lang: "ru", say: "Отменить запись", step: "confirm", script: ru, flow: []string{"pick: Записаться", "pick: Маникюр", "pick: #3", "pick: #1"}},
		{lang: "ru", say: "Перенести", step: "confirm", script: ru, flow: []string{"pick: Записаться", "pick: Маникюр", "pick: #3", "pick: #1"}},
		{lang: "en", say: "cancel booking", step: "time", script: en, flow: []string{"pick: Book", "pick: Manicure", "pick: #3"}},
		{lang: "ru", say: "Отменить запись", step: "time", script: ru, flow: []string{"pick: Записаться", "pick: Маникюр", "pick: #3"}},
	} {
		t.Run(tc.step+"/"+tc.lang+"/"+tc.say, func(t *testing.T) {
			t.Parallel()
			b := newBundleWith(t, withReminders)
			c := &conv{name: "c", hint: tc.lang}
			b.run(t, []*conv{c}, tc.script)
			b.clock.T = time.Date(2027, 3, 2, 9, 55, 0, 0, pgtest.Berlin)
			b.run(t, []*conv{c}, tc.flow)
			require.Equal(t, tc.step, b.state(t, pgtest.Pool(t), "c").Step, lastText(c))
			b.clock.T = b.clock.T.Add(5 * time.Minute)
			n, _, err := b.reminders.Tick(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, n, "the 24 h reminder")
			b.sent(t)
			b.clock.T = b.clock.T.Add(time.Minute)

			r := b.send(t, c, dialog.Inbound{Kind: dialog.KindText, Text: tc.say})
			st := b.state(t, pgtest.Pool(t), "c")
			require.NotEqual(t, "ask_cancel", st.Step, r[0].Text)
			require.NotEqual(t, "ask_move", st.Step, r[0].Text)
			require.NotEqual(t, "move_day", st.Step, r[0].Text)
			require.Contains(t, b.starts(t), "Wed 03 10:00", "the reminded booking is kept: %q", r[0].Text)
			require.NotContains(t, r[0].Text, "released its time")
			require.NotContains(t, r[0].Text, "освободил")
		})
	}
}

// TestPlainTextMidFlowReadsNoPushed: text at a flow step that cannot be a
// reminder's answer (not its "I'll be there" label nor the coming words) does
// not read the pushed messages, a reminder sent or not; the label does.
func TestPlainTextMidFlowReadsNoPushed(t *testing.T) {
	t.Parallel()
	b := newBundleWith(t, withReminders)
	c := &conv{name: "c", hint: "en"}
	b.run(t, []*conv{c}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Wed 3 Mar", "pick: 10:00",
		"text: Olga", "text: +49 151 23456789", "pick: Confirm"})
	b.clock.T = time.Date(2027, 3, 2, 9, 55, 0, 0, pgtest.Berlin)
	b.run(t, []*conv{c}, []string{"pick: Book", "pick: Manicure", "pick: #3"})
	b.clock.T = b.clock.T.Add(5 * time.Minute)
	n, _, err := b.reminders.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the 24 h reminder")
	b.sent(t)
	b.clock.T = b.clock.T.Add(time.Minute)

	before := b.pushed.calls.Load()
	for _, say := range []string{"what about later?", "how much is it", "hmm", "yes", "да"} {
		b.send(t, c, dialog.Inbound{Kind: dialog.KindText, Text: say})
		require.Equal(t, before, b.pushed.calls.Load(), "%q read the pushed messages", say)
		require.Equal(t, "time", b.state(t, pgtest.Pool(t), "c").Step, lastText(c))
	}
	require.Equal(t, []string{"-"}, b.comingAt(t))
	// The reminder is older than those steps now: a new one, answered by its label.
	b.clock.T = time.Date(2027, 3, 3, 8, 0, 0, 0, pgtest.Berlin)
	n, _, err = b.reminders.Tick(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the 2 h reminder")
	b.sent(t)
	b.clock.T = b.clock.T.Add(time.Minute)
	b.send(t, c, dialog.Inbound{Kind: dialog.KindText, Text: "I'll be there"})
	require.Equal(t, before+1, b.pushed.calls.Load(), "the label is read against the reminder")
	require.Equal(t, []string{"Wed 03 08:01"}, b.comingAt(t))
}
