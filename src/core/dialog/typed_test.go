package dialog_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
)

// TestTypedTranscripts: conversations typed rather than pressed, in English
// and Russian (golden files; -update rewrites them).
func TestTypedTranscripts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		convs  []*conv
		script []string
		check  func(t *testing.T, b *bundle)
	}{
		{
			name:  "typed_one_sentence_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: []string{
				"text: Haircut with Anna tomorrow at 11am", "text: Olga", "text: +49 151 23456789", "text: yes",
				"text: manicure on Friday at 10", "text: ok",
			},
			check: func(t *testing.T, b *bundle) { require.Equal(t, 2, b.confirmed(t)) },
		},
		{
			name:  "typed_one_sentence_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}},
			script: []string{
				"text: Запишите меня на стрижку к Анне завтра в 11 утра", "text: Иван", "text: +7 912 345 67 89", "text: да",
				"text: маникюр в пятницу в 10", "text: подтверждаю",
			},
			check: func(t *testing.T, b *bundle) { require.Equal(t, 2, b.confirmed(t)) },
		},
		{
			name:  "typed_partial_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: []string{
				"text: tomorrow at 5pm please", "pick: Haircut", "pick: 15:00", "text: Olga", "text: +49 151 23456789",
				"pick: Confirm",
				"text: I'd like a manicure", "text: on Thursday", "text: 11", "text: no",
			},
			check: func(t *testing.T, b *bundle) { require.Equal(t, 1, b.live(t)) },
		},
		{
			name:  "typed_partial_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}},
			script: []string{
				"text: хочу на маникюр", "text: в четверг", "text: в 11", "text: Иван", "text: +7 912 345 67 89",
				"text: да",
				"text: завтра в 5 вечера", "pick: Стрижка", "pick: 15:00", "pick: Подтвердить",
			},
			check: func(t *testing.T, b *bundle) { require.Equal(t, 2, b.confirmed(t)) },
		},
		{
			// Text that is not a time at the time step (a name typed early,
			// "hmm") gets the times last offered again, the nearest ones of a
			// taken time, with a line saying a time is expected.
			name:  "typed_not_a_time_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: []string{
				"text: tomorrow at 5pm please", "pick: Haircut", "text: Olga", "text: hmm", "text: 2",
				"text: Olga", "text: +49 151 23456789", "pick: Confirm",
			},
			check: func(t *testing.T, b *bundle) { require.Equal(t, 1, b.confirmed(t)) },
		},
		{
			name:  "typed_not_a_time_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}},
			script: []string{
				"text: завтра в 5 вечера", "pick: Стрижка", "text: Иван", "text: хм", "text: 2",
				"text: Иван", "text: +7 912 345 67 89", "pick: Подтвердить",
			},
			check: func(t *testing.T, b *bundle) { require.Equal(t, 1, b.confirmed(t)) },
		},
		{
			name:  "typed_ambiguous_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: []string{
				"text: book with Anna at 11", "pick: Manicure", "text: Olga", "text: +49 151 23456789", "pick: Another time",
				"text: with Boris tomorrow at 3", // 15:00: Boris works 12 to 16, but he does no manicures
				"pick: Haircut", "text: yes",
			},
			check: func(t *testing.T, b *bundle) { require.Equal(t, 1, b.confirmed(t)) },
		},
		{
			name:  "typed_ambiguous_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}},
			script: []string{
				"text: к Анне в 11", "pick: Стрижка", "contact: Иван, +7 912 345-67-89",
				"text: нет, лучше в пятницу в 12.30", "text: в 12", "text: да",
			},
			check: func(t *testing.T, b *bundle) { require.Equal(t, 1, b.confirmed(t)) },
		},
		{
			name:  "typed_earlier_later_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: []string{
				"text: hi", "pick: Book", "pick: Haircut", "pick: No preference", "pick: Later days", "pick: Later days", "pick: Earlier days",
				"text: earlier", "text: Tuesday", "pick: Later", "text: later", "pick: Earlier", "text: earlier",
				"text: tomorrow evening", "text: Monday morning",
			},
			check: func(t *testing.T, b *bundle) { require.Equal(t, 0, b.live(t)) },
		},
		{
			name:  "typed_earlier_later_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}},
			script: []string{
				"text: стрижка во вторник", "text: позже", "pick: Раньше", "text: дальше", "text: раньше",
				"text: другой день", "pick: Следующие дни", "text: раньше",
			},
			check: func(t *testing.T, b *bundle) { require.Equal(t, 0, b.live(t)) },
		},
		{
			name:  "typed_move_master_en",
			convs: []*conv{{name: "olga", hint: "en"}},
			script: []string{
				"text: haircut with Anna on Wednesday at 10", "text: Olga", "text: +49 151 23456789", "text: yes",
				"pick: My bookings", "pick: #1", "pick: Reschedule", "pick: Yes, move", "text: another master", "pick: Boris", "pick: Thu 4 Mar",
				"text: change master", "pick: Back", "pick: Thu 4 Mar", "pick: 13:00",
				"text: move my booking to Anna on Friday at 11", "text: yes",
				"text: cancel my booking",
			},
			check: func(t *testing.T, b *bundle) {
				require.Equal(t, 1, b.confirmed(t))
				require.Equal(t, []string{"anna Fri 05 11:00"}, b.masterStarts(t))
			},
		},
		{
			name:  "typed_move_master_ru",
			convs: []*conv{{name: "ivan", hint: "ru"}},
			script: []string{
				"text: стрижка у Анны в среду в 10", "text: Иван", "text: +7 912 345 67 89", "text: да",
				"text: перенести запись к Борису на четверг в 14", "pick: Да, перенести",
				"pick: Мои записи", "pick: #1", "pick: Перенести", "pick: Да, перенести", "pick: Другой мастер", "pick: Анна", "text: в пятницу",
				"text: к 12", "text: да нет", "text: к 12", "text: да",
				"text: мои записи",
			},
			check: func(t *testing.T, b *bundle) {
				require.Equal(t, 1, b.confirmed(t))
				require.Equal(t, []string{"anna Fri 05 12:00"}, b.masterStarts(t))
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t)
			golden(t, c.name, b.run(t, c.convs, c.script))
			c.check(t, b)
		})
	}
}

// confirmed counts the salon's confirmed bookings.
func (b *bundle) confirmed(t *testing.T) int {
	t.Helper()
	var n int
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx,
		`SELECT count(*) FROM bookings WHERE salon_id = $1 AND status = 'confirmed'`, b.salonID).Scan(&n))
	return n
}

// masterStarts lists the live bookings as "master Dy DD HH:MI" (Berlin), by start.
func (b *bundle) masterStarts(t *testing.T) []string {
	t.Helper()
	rows, err := pgtest.Pool(t).Query(ctx, `SELECT master_id || ' ' || to_char(starts_at AT TIME ZONE 'Europe/Berlin', 'Dy DD HH24:MI')
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

// TestNotATimeKeepsTheOffer: text at the time step shows the times offered
// again, but only those still free: a time booked since is left out (pressed,
// it would fail only at the hold); with none of them left, the step's own
// answer as it stands now (the day filled up: why, and the nearest day).
func TestNotATimeKeepsTheOffer(t *testing.T) {
	t.Parallel()
	fill := func(t *testing.T, b *bundle, hs ...int) {
		for i, h := range hs {
			_, err := b.bookings.Book(ctx, booking.BookRequest{SalonID: b.salonID, ServiceID: "haircut", MasterID: "anna",
				Start:          time.Date(2027, 3, 1, h, 0, 0, 0, pgtest.Berlin),
				Client:         core.Client{Name: "Busy", Phone: fmt.Sprintf("+4915100000%02d", i)},
				IdempotencyKey: fmt.Sprintf("fill-%d", h), Confirm: true, Source: booking.OwnerSource})
			require.NoError(t, err)
		}
	}
	t.Run("SomeTaken", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		olga := &conv{name: "olga", hint: "en"}
		b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Mon 1 Mar"})
		require.Contains(t, lastLabels(olga), "10:00")
		fill(t, b, 10)
		b.run(t, []*conv{olga}, []string{"text: hmm"})
		require.True(t, strings.HasSuffix(lastText(olga), "Free times on Monday, 1 March:"), lastText(olga))
		require.NotContains(t, lastLabels(olga), "10:00", "booked since it was shown")
		require.Contains(t, lastLabels(olga), "11:00")
	})
	t.Run("AllTaken", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		olga := &conv{name: "olga", hint: "en"}
		b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Mon 1 Mar"})
		fill(t, b, 10, 11, 12)
		b.run(t, []*conv{olga}, []string{"text: hmm"})
		require.Len(t, olga.last, 1)
		require.Equal(t, "Please pick a time below, or type one (for example, 10:00).\n\n"+
			"Anna is fully booked today. If today suits you best, I can let you know when a time frees up. "+
			"The nearest free times are tomorrow:", olga.last[0].Text)
		require.Equal(t, "2027-03-02", b.state(t, pgtest.Pool(t), "olga").Day)
	})
}

// TestReshownNearest: the nearest times of a taken time, shown again on text
// that is not a time, keep the offer's heading: with one master chosen
// "The nearest free times on …", with any master and every time one
// master's, that master named once ("Boris is free at 14:00, 14:30 and
// 15:00 tomorrow", not "(Boris)" after each). An answer in between (help, a
// thank-you) asks the step again with the day's list: shown again, that is
// the list re-shown, under the day's heading.
func TestReshownNearest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		script []string
		want   string
		first  string // the first time shown
	}{
		{name: "one master", script: []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Boris", "text: tomorrow at 5pm", "text: hmm"},
			want: "The nearest free times on Tuesday, 2 March:"},
		{name: "one master, twice", script: []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Boris", "text: tomorrow at 5pm", "text: hmm", "text: hmm"},
			want: "The nearest free times on Tuesday, 2 March:"},
		{name: "any master, all Boris's", script: []string{"text: tomorrow at 5pm please", "pick: Haircut", "text: hmm"},
			want: "Boris is free at 14:00, 14:30 and 15:00 tomorrow."},
		{name: "help in between", script: []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Boris", "text: tomorrow at 5pm", "text: help", "text: hmm"},
			want: "Free times on Tuesday, 2 March:", first: "12:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t)
			c := &conv{name: "olga", hint: "en"}
			b.run(t, []*conv{c}, tc.script)
			require.Contains(t, lastText(c), tc.want)
			require.NotContains(t, lastText(c), "(Boris)")
			if tc.first == "" {
				tc.first = "14:00"
			}
			require.Equal(t, tc.first, lastLabels(c)[0])
		})
	}
}
