package dialog_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
)

// BenchmarkTypedStep: one dialog step for a typed sentence through
// dialog.Service (the conversation loaded and stored, the catalog, the
// parser, the slot search, and for a known client the hold) on the real
// store, each in a chat of its own, the way a channel's worker calls it;
// reports the median and 99th-percentile latency of the steps.
func BenchmarkTypedStep(b *testing.B) {
	pool := pgtest.Pool(b)
	store := postgres.NewStore(pool)
	id := "b" + pgtest.RandomID()
	if _, err := store.Apply(ctx, salonSetup(id)); err != nil {
		b.Fatal(err)
	}
	cat, err := i18n.Load()
	if err != nil {
		b.Fatal(err)
	}
	clock := &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}
	bookings := booking.New(store, clock)
	convs := postgres.NewConversations(pool)
	chat := dialog.NewService(dialog.NewEngine(dialog.Config{SalonID: id, Bookings: bookings,
		Waitlist: postgres.NewWaitlist(pool), Catalog: cat, Clock: clock}), convs)
	for _, bc := range []struct {
		name, text string
		known      bool   // the client's name and phone are known: the step holds the time
		press      string // a button pressed instead (the baseline), at the day step of Anna's haircuts
	}{
		{name: "button_day_baseline", press: "d:2027-03-02"},
		{name: "new_client_ru", text: "Запишите меня на стрижку к Анне завтра в 11 утра"},
		{name: "new_client_en", text: "haircut with Anna tomorrow at 11am"},
		{name: "busy_nearest_en", text: "haircut with Boris tomorrow at 5pm"},
		{name: "known_client_hold_en", text: "haircut with Anna tomorrow at 11am", known: true},
		{name: "closed_day_nearest_en", text: "haircut on Sunday"},              // why, then the nearest day's times (nothing.go)
		{name: "closed_at_time_nearest_ru", text: "стрижка в воскресенье в 11"}, // why, then the nearest times
		{name: "question_hours_en", text: "what are your opening hours"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var took []time.Duration
			n := 0
			for b.Loop() {
				n++
				key := dialog.ChatKey{SalonID: id, Channel: "bench", ChatID: fmt.Sprintf("%s-%d-%s", bc.name, n, pgtest.RandomID())}
				in := dialog.Inbound{ID: key.ChatID, Kind: dialog.KindText, Text: bc.text, LangHint: "en"}
				state := ""
				switch {
				case bc.known:
					state = fmt.Sprintf(`{"lang":"en","name":"Olga","phone":"+49 151 %08d"}`, n)
				case bc.press != "":
					state = `{"lang":"en","step":"day","service":"haircut","master":"anna"}`
					in.Kind, in.Choice, in.Text = dialog.KindChoice, bc.press, ""
				}
				if state != "" {
					b.StopTimer()
					if _, err := pool.Exec(ctx, `INSERT INTO conversations (salon_id, channel, chat_id, state) VALUES ($1, $2, $3, $4)`,
						id, key.Channel, key.ChatID, state); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				start := time.Now()
				replies, err := chat.Handle(ctx, key, in)
				took = append(took, time.Since(start))
				if err != nil || len(replies) == 0 {
					b.Fatal(err)
				}
				if bc.known {
					b.StopTimer()
					var hold string
					if err := pool.QueryRow(ctx, `SELECT booking_id::text FROM bookings WHERE salon_id = $1 AND source = $2 AND status = 'held'`,
						id, key.Channel+":"+key.ChatID).Scan(&hold); err != nil {
						b.Fatalf("no hold: %v %v", err, replies)
					}
					if _, err := bookings.Release(ctx, id, hold); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
