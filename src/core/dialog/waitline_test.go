package dialog_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/dialog"
)

// A wait-list entry for any master reads as a sentence in "My bookings"
// ("…, к любому свободному мастеру"), not "мастер любой мастер".
func TestWaitLineAnyMaster(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ lang, hello, mine, want, not string }{
		{"ru", "привет", "Мои записи", "вторник, 2 марта: Стрижка, к любому свободному мастеру", "мастер любой"},
		{"en", "hi", "My bookings", "Tuesday, 2 March: Haircut, with whoever is free", "with no preference"},
	} {
		t.Run(c.lang, func(t *testing.T) {
			t.Parallel()
			b := newBundle(t)
			wl := postgres.NewWaitlist(pgtest.Pool(t))
			require.NoError(t, wl.Join(ctx, dialog.WaitlistEntry{
				Key:       dialog.ChatKey{SalonID: b.salonID, Channel: "test", ChatID: "ivan"},
				ServiceID: "haircut", MasterID: booking.AnyMaster, Day: core.Date{Year: 2027, Month: 3, Day: 2},
				Client: core.Client{Name: "Ivan", Phone: "+79123456789"}, Lang: c.lang,
			}))
			out := b.run(t, []*conv{{name: "ivan", hint: c.lang}}, []string{"text: " + c.hello, "pick: " + c.mine})
			require.Contains(t, out, c.want)
			require.NotContains(t, out, c.not)
		})
	}
}
