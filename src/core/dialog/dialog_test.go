package dialog_test

import (
	"context"
	"fmt"
	"slices"
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
	toTimes(t, b, olga, "+49 151 11111119")
	toTimes(t, b, petra, "+49 151 22222229")

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
		case strings.Contains(text, "Shall I confirm the booking?"):
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
	toTimes(t, b, olga, "+49 151 11111119")
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
	toTimes(t, b, olga, "+49 151 11111119")
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
		"text: Olga", "text: +49 151 11111119", "pick: Confirm"})
	var id string
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT booking_id::text FROM bookings WHERE salon_id = $1`, b.salonID).Scan(&id))
	b.run(t, []*conv{mallory}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: #1", "pick: 12:00",
		"text: Mallory", "text: +49 151 66666669", "pick: Confirm", "pick: My bookings"})
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
		"move_day", "move_time", "language", "nonsense", "ask_cancel", "ask_move"}
	kinds := []dialog.Kind{dialog.KindText, dialog.KindChoice, dialog.KindCommand, dialog.KindContact, "weird"}
	for _, seed := range []struct {
		step, kind uint8
		text       string
	}{{0, 0, "hi"}, {1, 1, "s:haircut"}, {3, 1, "d:2027-03-02"}, {4, 1, "t:1804000000"}, {6, 0, "+49 151"},
		{7, 1, "ok"}, {8, 1, "cx:x"}, {12, 1, "l:ru"}, {2, 2, "start"}, {5, 3, "Anna"}, {13, 4, "\x00"},
		{14, 0, "yes"}, {15, 1, "my:x:1"}, {14, 1, "cy:x:1"}, {0, 0, "AAAAAA +49 151 11111119"}} {
		f.Add(seed.step, seed.kind, seed.text, "haircut", "any", "2027-03-02")
	}
	f.Fuzz(func(t *testing.T, step, kind uint8, text, service, master, day string) {
		st := dialog.State{Step: steps[int(step)%len(steps)], Service: service, Master: master, Day: day,
			Start: clock.T.Add(time.Duration(step) * time.Hour), BookingID: text}
		in := dialog.Inbound{ID: "fuzz-" + pgtest.RandomID(), Kind: kinds[int(kind)%len(kinds)], Text: text, Choice: text,
			LangHint: text}
		if kind%2 == 0 { // and sometimes a contact event without its contact
			in.Contact = &dialog.Contact{Name: text, Phone: text}
		}
		if step%3 == 0 { // a conversation seen before, possibly long ago
			st.Updated = clock.T.Add(-time.Duration(step) * time.Minute)
		}
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

// TestAnotherChatTypingTheSamePhoneSeesNothing: a chat sees and changes only what
// it booked; knowing a client's number gives no access to their bookings.
func TestAnotherChatTypingTheSamePhoneSeesNothing(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	olga, mallory := &conv{name: "olga", hint: "en"}, &conv{name: "mallory", hint: "en"}
	b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: #2", "pick: 10:30",
		"text: Olga", "text: +49 151 11111119", "pick: Confirm"})
	b.run(t, []*conv{mallory}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: #2", "pick: 12:00",
		"text: Mallory", "text: +49 151 11111119", "pick: Cancel"})
	r := b.send(t, mallory, dialog.Inbound{Kind: dialog.KindChoice, Choice: "mine"})
	require.Contains(t, r[0].Text, "no upcoming bookings")
	var name string
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT name FROM clients WHERE salon_id = $1`, b.salonID).Scan(&name))
	require.Equal(t, "Olga", name, "typing someone's number does not rename them")
	r = b.send(t, olga, dialog.Inbound{Kind: dialog.KindChoice, Choice: "mine"})
	require.Contains(t, r[0].Text, "1 upcoming booking")
}

// TestChatsDoNotStarveThePool: many first messages at once with a small pool for
// conversations: every one is answered (a step books through another pool).
func TestChatsDoNotStarveThePool(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	small, err := postgres.Open(ctx, pgtest.URL(t)+"&pool_max_conns=2")
	if err != nil { // a key=value DATABASE_URL: append the setting the other way
		small, err = postgres.Open(ctx, pgtest.URL(t)+" pool_max_conns=2")
	}
	require.NoError(t, err)
	defer small.Close()
	cat, err := i18n.Load()
	require.NoError(t, err)
	engine := dialog.NewEngine(dialog.Config{SalonID: b.salonID, Bookings: b.bookings, Catalog: cat, Clock: b.clock})
	chat := dialog.NewService(engine, postgres.NewConversations(small))
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range 8 {
		wg.Go(func() {
			_, errs[i] = chat.Handle(c, dialog.ChatKey{SalonID: b.salonID, Channel: "test", ChatID: fmt.Sprint("c", i)},
				dialog.Inbound{ID: fmt.Sprint("first-", i), Kind: dialog.KindChoice, Choice: "book"})
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
}

func TestHoldsAreReleasedWhenTheFlowEnds(t *testing.T) {
	t.Parallel()
	for _, exit := range []dialog.Inbound{
		{Kind: dialog.KindChoice, Choice: "lang"},
		{Kind: dialog.KindCommand, Text: "start"},
		{Kind: dialog.KindCommand, Text: "cancel"},
		{Kind: dialog.KindChoice, Choice: "menu"},
		{Kind: dialog.KindChoice, Choice: "drop"},
		{Kind: dialog.KindChoice, Choice: "other"},
	} {
		t.Run(exit.Choice+exit.Text, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t)
			olga := &conv{name: "olga", hint: "en"}
			toTimes(t, b, olga, "+49 151 11111119")
			b.send(t, olga, dialog.Inbound{Kind: dialog.KindChoice, Choice: pick(t, olga, "11:00")})
			require.Equal(t, 1, b.live(t))
			b.send(t, olga, exit)
			if exit.Choice == "lang" {
				b.send(t, olga, dialog.Inbound{Kind: dialog.KindChoice, Choice: "l:ru"})
			}
			require.Equal(t, 0, b.live(t), "the hold is released")
		})
	}
}

func TestDaysPageThroughTheWholeHorizon(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	olga := &conv{name: "olga", hint: "en"}
	b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna"})
	seen := map[string]bool{}
	for range 10 {
		more := false
		for _, c := range olga.last[0].Choices {
			if strings.HasPrefix(c.ID, "d:") {
				require.False(t, seen[c.ID], "day %s listed twice", c.ID)
				seen[c.ID] = true
				d, _ := core.ParseDate(strings.TrimPrefix(c.ID, "d:"))
				start, _ := d.At(0, pgtest.Berlin)
				require.True(t, start.Before(b.clock.T.Add(30*24*time.Hour)), "%s is beyond the horizon", c.ID)
			}
			more = more || c.ID == "more"
		}
		if !more {
			break
		}
		b.send(t, olga, dialog.Inbound{Kind: dialog.KindChoice, Choice: "more"})
	}
	// Anna works Monday to Saturday: every such day from 1 to 30 March is offered once.
	want := 0
	for d := (core.Date{Year: 2027, Month: 3, Day: 1}); d.Before(core.Date{Year: 2027, Month: 3, Day: 31}); d = d.AddDays(1) {
		if d.Weekday() != time.Sunday {
			want++
			require.True(t, seen["d:"+d.String()], "day %s never offered", d)
		}
	}
	require.Len(t, seen, want)
}

func TestTypedHourPicksThatTime(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	olga := &conv{name: "olga", hint: "en"}
	toTimes(t, b, olga, "+49 151 11111119")
	r := b.send(t, olga, dialog.Inbound{Kind: dialog.KindText, Text: "11"})
	require.Contains(t, r[0].Text, "Monday, 1 March at 11:00", "\"11\" means 11:00, not the 11th button")
	b.send(t, olga, dialog.Inbound{Kind: dialog.KindChoice, Choice: "other"})
	r = b.send(t, olga, dialog.Inbound{Kind: dialog.KindText, Text: "11.30"})
	require.Contains(t, r[0].Text, "Monday, 1 March at 11:30")
}

// TestReleaseNeverEndsAConfirmedBooking: a hold confirmed elsewhere (the API, or a
// step that timed out after its confirm committed) is no longer the flow's to
// release: every way a flow ends leaves it confirmed.
func TestReleaseNeverEndsAConfirmedBooking(t *testing.T) {
	t.Parallel()
	for _, exit := range []struct {
		name string
		in   dialog.Inbound
		idle bool
	}{
		{name: "other", in: dialog.Inbound{Kind: dialog.KindChoice, Choice: "other"}},
		{name: "drop", in: dialog.Inbound{Kind: dialog.KindChoice, Choice: "drop"}},
		{name: "start", in: dialog.Inbound{Kind: dialog.KindCommand, Text: "start"}},
		{name: "cancel", in: dialog.Inbound{Kind: dialog.KindCommand, Text: "cancel"}},
		{name: "language", in: dialog.Inbound{Kind: dialog.KindCommand, Text: "language"}},
		{name: "idle", in: dialog.Inbound{Kind: dialog.KindText, Text: "hi"}, idle: true},
	} {
		t.Run(exit.name, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t)
			olga := &conv{name: "olga", hint: "en"}
			// Tomorrow: outside the cancellation cutoff, where a cancel would succeed.
			b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: #2", "pick: 11:00",
				"text: Olga", "text: +49 151 11111119"})
			var id string
			require.NoError(t, pgtest.Pool(t).QueryRow(ctx,
				`SELECT booking_id::text FROM bookings WHERE salon_id = $1 AND status = 'held'`, b.salonID).Scan(&id))
			_, err := b.bookings.Confirm(ctx, b.salonID, id) // confirmed elsewhere
			require.NoError(t, err)
			if exit.idle {
				b.clock.T = b.clock.T.Add(31 * time.Minute)
			}
			b.send(t, olga, exit.in)
			if exit.name == "language" {
				b.send(t, olga, dialog.Inbound{Kind: dialog.KindChoice, Choice: "l:ru"})
			}
			got, err := b.bookings.Get(ctx, b.salonID, id)
			require.NoError(t, err)
			require.Equal(t, core.StatusConfirmed, got.Status, "a confirmed booking is never released as a hold")
		})
	}
}

// TestMoveOffersTimesOverlappingItsOwn: a booking does not stand in its own way:
// a move by half an hour is offered, and made.
func TestMoveOffersTimesOverlappingItsOwn(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	olga := &conv{name: "olga", hint: "en"}
	b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Manicure", "pick: #2", "pick: 11:00",
		"text: Olga", "text: +49 151 11111119", "pick: Confirm",
		"pick: My bookings", "pick: #1", "pick: Reschedule", "pick: Yes, move", "pick: Tue 2 Mar"})
	var times []string
	for _, c := range olga.last[0].Choices {
		if strings.HasPrefix(c.ID, "t:") {
			times = append(times, c.Label)
		}
	}
	require.Subset(t, times, []string{"10:30", "11:30"}, "times overlapping the booking's own are free for its move")
	r := b.send(t, olga, dialog.Inbound{Kind: dialog.KindChoice, Choice: pick(t, olga, "11:30")})
	require.Contains(t, r[0].Text, "Tuesday, 2 March at 11:30")
	require.Equal(t, 1, b.live(t))
}

// TestSharedChatsCannotBook: in a group every member would share one
// conversation (one member's bookings, name and phone before all the others), so
// only private chats book. What is aimed at the bot in a group (a command, a
// button) gets one polite answer in its language; anything else there (members
// talking, a staff reply to a notice, a "member joined" without text) gets none.
// Nothing is stored for a group.
func TestSharedChatsCannotBook(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	pool := pgtest.Pool(t)
	for i, in := range []dialog.Inbound{
		{Kind: dialog.KindCommand, Text: "start", LangHint: "en"},
		{Kind: dialog.KindChoice, Choice: "mine", LangHint: "en-GB"},
		{Kind: dialog.KindCommand, Text: "help", LangHint: "ru-RU"},
		{Kind: dialog.KindContact, Contact: &dialog.Contact{Name: "Olga", Phone: "+49 151 11111119"}, LangHint: "ru"},
		{Kind: dialog.KindText, Text: "записаться", LangHint: "ru-RU"},
		{Kind: dialog.KindText, Text: "ok, I'll call her", LangHint: "en"},
		{Kind: dialog.KindText, Text: ""},
	} {
		in.ID, in.Shared = fmt.Sprint("group-", i), true
		replies, err := b.chat.Handle(ctx, dialog.ChatKey{SalonID: b.salonID, Channel: "test", ChatID: "-100200300"}, in)
		require.NoError(t, err)
		if in.Kind != dialog.KindCommand && in.Kind != dialog.KindChoice {
			require.Empty(t, replies, "%q is not aimed at the bot: no answer", in.Text)
			continue
		}
		require.Len(t, replies, 1, "one answer")
		require.Empty(t, replies[0].Choices, "nothing to press in a group")
		if strings.HasPrefix(in.LangHint, "ru") {
			require.Contains(t, replies[0].Text, "в личном чате")
		} else {
			require.Contains(t, replies[0].Text, "private chat")
		}
	}
	var conversations, clients int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM conversations WHERE salon_id = $1`, b.salonID).Scan(&conversations))
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM clients WHERE salon_id = $1`, b.salonID).Scan(&clients))
	require.Zero(t, conversations, "no conversation is stored for a group")
	require.Zero(t, clients)
}

// TestTypedNumberPicksFromTheListShown: a number picks from the list the client
// saw, even after the times changed underneath it.
func TestTypedNumberPicksFromTheListShown(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	olga := &conv{name: "olga", hint: "en"}
	toTimes(t, b, olga, "+49 151 11111119")
	require.Equal(t, "11:00", olga.last[0].Choices[2].Label, "the third time shown")
	// Meanwhile someone else takes 10:00: a list built now would start at 11:00.
	_, err := b.bookings.Book(ctx, booking.BookRequest{SalonID: b.salonID, ServiceID: "haircut", MasterID: "anna",
		Start: time.Date(2027, 3, 1, 10, 0, 0, 0, pgtest.Berlin), Client: core.Client{Name: "Petra", Phone: "+49 151 22222229"},
		IdempotencyKey: "petra", Confirm: true})
	require.NoError(t, err)
	r := b.send(t, olga, dialog.Inbound{Kind: dialog.KindText, Text: "3"})
	require.Contains(t, r[0].Text, "Monday, 1 March at 11:00", "\"3\" is the third time the client saw")
}

// TestTypedHourAtATimeStepIsATime: at a time step a number that is not one of
// the times shown reads as an hour: taken when that time is offered (on any page),
// else answered with the nearest offered times; never as "Another day" or "Menu".
func TestTypedHourAtATimeStepIsATime(t *testing.T) {
	t.Parallel()
	// Any master on Tuesday: Anna from 10:00, Boris until 15:00: a page of seven
	// times, then More times, Another day and Menu (9 and 10).
	toTuesday := []string{"text: hi", "pick: Book", "pick: Haircut", "pick: No preference", "pick: Tue 2 Mar"}
	times := func(r []dialog.Reply) []string {
		var out []string
		for _, c := range r[len(r)-1].Choices {
			if strings.HasPrefix(c.ID, "t:") {
				out = append(out, c.Label)
			}
		}
		return out
	}
	for _, typed := range []string{"9", "10", "8", "17:00", "14", "15.00"} {
		t.Run(typed, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t)
			olga := &conv{name: "olga", hint: "en"}
			b.run(t, []*conv{olga}, toTuesday)
			require.Len(t, olga.last[0].Choices, 10)
			r := b.send(t, olga, dialog.Inbound{Kind: dialog.KindText, Text: typed})
			switch typed {
			case "9", "8":
				require.Contains(t, r[0].Text, "nearest", "an hour before opening is a time, not a button")
				require.Equal(t, []string{"10:00", "10:30", "11:00"}, times(r))
				// The client picks from those by number.
				r = b.send(t, olga, dialog.Inbound{Kind: dialog.KindText, Text: "2"})
				require.Contains(t, r[0].Text, "name")
				b.run(t, []*conv{olga}, []string{"text: Olga", "text: +49 151 11111119"})
				require.Contains(t, olga.last[len(olga.last)-1].Text, "Tuesday, 2 March at 10:30")
			case "17:00":
				require.Contains(t, r[0].Text, "nearest")
				require.Equal(t, []string{"14:00", "14:30", "15:00"}, times(r))
			case "10", "14", "15.00":
				require.Contains(t, r[0].Text, "name", "an offered time is taken, on this page or the next")
				b.run(t, []*conv{olga}, []string{"text: Olga", "text: +49 151 11111119"})
				want := map[string]string{"10": "10:00", "14": "14:00", "15.00": "15:00"}[typed]
				require.Contains(t, olga.last[len(olga.last)-1].Text, "Tuesday, 2 March at "+want)
			}
		})
	}
}

// TestTooManyBookingsIsExplained: a client at the salon's cap is told why the
// time cannot be held and is back at the menu, not given "something went wrong".
func TestTooManyBookingsIsExplained(t *testing.T) {
	t.Parallel()
	b := newBundleWith(t, func(s *postgres.SalonSetup) { s.Salon.Policy.MaxUpcoming = 1 })
	olga := &conv{name: "olga", hint: "en"}
	toTimes(t, b, olga, "+49 151 11111119")
	b.run(t, []*conv{olga}, []string{"pick: 11:00", "pick: Confirm"})
	require.Contains(t, olga.last[0].Text, "You're booked")
	b.run(t, []*conv{olga}, []string{"pick: Book", "pick: Haircut", "pick: Anna", "pick: #1"})
	got := b.send(t, olga, dialog.Inbound{Kind: dialog.KindChoice, Choice: pick(t, olga, "12:00")})
	last := got[len(got)-1]
	require.Contains(t, last.Text, "as many upcoming bookings as can be made here")
	require.NotContains(t, last.Text, "went wrong")
	var ids []string
	for _, c := range last.Choices {
		ids = append(ids, c.Label)
	}
	require.Contains(t, ids, "My bookings", "back at the menu, where a booking can be cancelled")
	require.Equal(t, 1, b.live(t))
}

// TestTypedHourInTheSkippedHour: on the day clocks go forward, an hour typed in
// the hour that does not exist is answered with what the client typed, not
// with the instant Go makes of it (an hour later, and maybe offered itself).
func TestTypedHourInTheSkippedHour(t *testing.T) {
	t.Parallel()
	b := newBundleWith(t, func(s *postgres.SalonSetup) {
		s.Masters[0].Hours[time.Sunday] = []core.ClockRange{{Start: 1 * 60, End: 5 * 60}}
	})
	b.clock.T = time.Date(2027, 3, 27, 7, 0, 0, 0, time.UTC) // Saturday; Berlin springs forward on Sunday at 02:00
	olga := &conv{name: "olga", hint: "en"}
	b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Sun 28 Mar"})
	r := b.send(t, olga, dialog.Inbound{Kind: dialog.KindText, Text: "2:30"})
	last := r[len(r)-1]
	require.Contains(t, last.Text, "02:30 is not free", "what the client typed")
	var times []string
	for _, c := range last.Choices {
		if strings.HasPrefix(c.ID, "t:") {
			times = append(times, c.Label)
		}
	}
	require.NotContains(t, times, "02:30")
	require.True(t, slices.IsSorted(times), "in order: %v", times)
}

// TestTypedNumberWithoutShown: a conversation stored before the list shown was
// kept (no "shown" in its state) still understands a typed number, by the list
// its step shows.
func TestTypedNumberWithoutShown(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	olga := &conv{name: "olga", hint: "en"}
	b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book"})
	require.Equal(t, "Manicure", olga.last[0].Choices[1].Label)
	tag, err := pgtest.Pool(t).Exec(ctx, `UPDATE conversations SET state = state - 'shown' WHERE salon_id = $1 AND chat_id = 'olga'`, b.salonID)
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected())
	r := b.send(t, olga, dialog.Inbound{Kind: dialog.KindText, Text: "2"})
	require.Contains(t, r[len(r)-1].Text, "Manicure is done by Anna.\n\nWhich day suits you?", "one master: no question")
	var service string
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT state->>'service' FROM conversations WHERE salon_id = $1 AND chat_id = 'olga'`,
		b.salonID).Scan(&service))
	require.Equal(t, "manicure", service, "\"2\" is the second service shown")
}
