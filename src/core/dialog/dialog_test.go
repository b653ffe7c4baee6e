package dialog_test

import (
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
)

// toTimes walks a chat to the list of Anna's haircut times on her first day,
// with the client's name and phone already given.
func toTimes(t *testing.T, b *bundle, c *conv, phone string) {
	t.Helper()
	b.run(t, []*conv{c}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: #1", "pick: 10:30",
		"text: " + c.name, "text: " + phone, "pick: Another time"})
}

func TestRaceForTheSameTime(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	olga, petra := &conv{name: "olga", hint: "en"}, &conv{name: "petra", hint: "en"}
	toTimes(t, b, olga, "+49 151 1111111")
	toTimes(t, b, petra, "+49 151 2222222")

	choice := pick(t, olga, "11:00")
	require.Equal(t, choice, pick(t, petra, "11:00"))
	var wg sync.WaitGroup
	answers := make([][]dialog.Reply, 2)
	for i, c := range []*conv{olga, petra} {
		wg.Go(func() {
			answers[i], _ = b.chat.Handle(ctx, dialog.ChatKey{SalonID: b.salonID, Channel: "test", ChatID: c.name},
				dialog.Inbound{ID: "race-" + c.name, Kind: dialog.KindChoice, Choice: choice, LangHint: "en"})
		})
	}
	wg.Wait()
	var held, offered int
	for _, a := range answers {
		require.NotEmpty(t, a)
		text := a[len(a)-1].Text
		switch {
		case strings.Contains(text, "Shall I book it?"):
			held++
		case strings.Contains(text, "was just taken"):
			offered++
			require.NotEmpty(t, a[len(a)-1].Choices)
			require.True(t, strings.HasPrefix(a[len(a)-1].Choices[0].ID, "t:"), "alternatives come first")
		}
	}
	require.Equal(t, 1, held, "one holds the time")
	require.Equal(t, 1, offered, "the other is offered alternatives")
	require.Equal(t, 1, b.live(t))
}

func TestReplayChangesNothing(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	olga := &conv{name: "olga", hint: "en"}
	toTimes(t, b, olga, "+49 151 1111111")
	in := dialog.Inbound{ID: "same-event", Kind: dialog.KindChoice, Choice: pick(t, olga, "11:00")}
	first := b.send(t, olga, in)
	require.Equal(t, 1, b.live(t))
	again := b.send(t, olga, in)
	require.Equal(t, first, again, "a replayed event gets the same answer")
	require.Equal(t, 1, b.live(t), "and books nothing more")
	// The conversation goes on from where the first delivery left it.
	done := b.send(t, olga, dialog.Inbound{Kind: dialog.KindChoice, Choice: "ok"})
	require.Contains(t, done[0].Text, "You're booked")
}

func TestIdleConversationStartsOver(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	olga := &conv{name: "olga", hint: "en"}
	toTimes(t, b, olga, "+49 151 1111111")
	b.send(t, olga, dialog.Inbound{Kind: dialog.KindChoice, Choice: pick(t, olga, "11:00")})
	require.Equal(t, 1, b.live(t))
	b.clock.T = b.clock.T.Add(31 * time.Minute)
	r := b.send(t, olga, dialog.Inbound{Kind: dialog.KindChoice, Choice: "ok"})
	require.Contains(t, r[0].Text, "let's start again")
	require.Equal(t, 0, b.live(t), "the forgotten hold is released")
}

func TestForgedBookingIDsAreNotHonoured(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	olga, mallory := &conv{name: "olga", hint: "en"}, &conv{name: "mallory", hint: "en"}
	b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: #1", "pick: 10:30",
		"text: Olga", "text: +49 151 1111111", "pick: Confirm"})
	var id string
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT booking_id::text FROM bookings WHERE salon_id = $1`, b.salonID).Scan(&id))
	b.run(t, []*conv{mallory}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: #1", "pick: 12:00",
		"text: Mallory", "text: +49 151 6666666", "pick: Confirm", "pick: My bookings"})
	for _, forged := range []string{"cx:" + id, "mv:" + id, "b:" + id} {
		b.send(t, mallory, dialog.Inbound{Kind: dialog.KindChoice, Choice: forged})
	}
	got, err := b.bookings.Get(ctx, b.salonID, id)
	require.NoError(t, err)
	require.Equal(t, core.StatusConfirmed, got.Status, "another client's booking cannot be cancelled by guessing its id")
}

// FuzzStep feeds random events to the engine from every step: it never panics
// and always answers within the channels' limits.
func FuzzStep(f *testing.F) {
	pool := pgtest.Pool(f)
	store := postgres.NewStore(pool)
	id := "f" + pgtest.RandomID()
	_, err := store.Apply(ctx, salonSetup(id))
	require.NoError(f, err)
	cat, err := i18n.Load()
	require.NoError(f, err)
	clock := &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}
	engine := dialog.NewEngine(dialog.Config{SalonID: id, Bookings: booking.New(store, clock),
		Waitlist: postgres.NewWaitlist(pool), Catalog: cat, Clock: clock})
	steps := []string{"", "service", "master", "day", "time", "name", "phone", "confirm", "mine", "booking",
		"move_day", "move_time", "language", "nonsense"}
	kinds := []dialog.Kind{dialog.KindText, dialog.KindChoice, dialog.KindCommand, dialog.KindContact, "weird"}
	for _, seed := range []struct {
		step, kind uint8
		text       string
	}{{0, 0, "hi"}, {1, 1, "s:haircut"}, {3, 1, "d:2027-03-02"}, {4, 1, "t:1804000000"}, {6, 0, "+49 151"},
		{7, 1, "ok"}, {8, 1, "cx:x"}, {12, 1, "l:ru"}, {2, 2, "start"}, {5, 3, "Anna"}, {13, 4, "\x00"}} {
		f.Add(seed.step, seed.kind, seed.text, "haircut", "any", "2027-03-02")
	}
	f.Fuzz(func(t *testing.T, step, kind uint8, text, service, master, day string) {
		st := dialog.State{Step: steps[int(step)%len(steps)], Service: service, Master: master, Day: day,
			Start: clock.T.Add(time.Duration(step) * time.Hour), BookingID: text}
		in := dialog.Inbound{ID: "fuzz-" + pgtest.RandomID(), Kind: kinds[int(kind)%len(kinds)], Text: text, Choice: text,
			Contact: &dialog.Contact{Name: text, Phone: text}, LangHint: text}
		_, replies := engine.Step(ctx, dialog.ChatKey{SalonID: id, Channel: "fuzz", ChatID: "x"}, st, in)
		require.NotEmpty(t, replies)
		for _, r := range replies {
			require.NotEmpty(t, r.Text)
			for _, c := range r.Choices {
				require.LessOrEqual(t, len(c.ID), dialog.MaxChoiceIDBytes)
				require.LessOrEqual(t, utf8.RuneCountInString(c.Label), dialog.MaxChoiceLabelRune)
			}
		}
	})
}
