package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/adapters/web"
	"salonbook/src/core"
	"salonbook/src/core/booking"
)

// TestBookingReminders: a booking answer's "reminders" are the due times of a
// chat booking's reminders in the salon's zone, "none: no chat" for one made
// through the API, and "none: off" when the salon has no reminders.
func TestBookingReminders(t *testing.T) {
	t.Parallel()
	store, salonID := pgtest.Salon(t)
	setup := pgtest.Setup(salonID)
	setup.Salon.Policy.Reminders = []time.Duration{24 * time.Hour, 2 * time.Hour}
	_, err := store.Apply(context.Background(), setup)
	require.NoError(t, err)
	clock := &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}
	svc := booking.New(store, clock)
	rem := pipeline.NewReminders(pipeline.RemindersConfig{Pool: pgtest.Pool(t), SalonID: salonID,
		Channels: []string{"telegram"}, Clock: clock})
	store.FollowChanges(rem.Record)
	b := &bundle{salonID: salonID, clock: clock}
	b.srv = httptest.NewServer(web.Handler(web.Config{Bookings: svc, SalonID: salonID, APIToken: token,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Clock: clock, Reminders: rem}))
	t.Cleanup(b.srv.Close)

	body := bookBody("anna", "2027-03-02T10:00:00+01:00", "api")
	body["confirm"] = true
	status, out := b.call(t, "POST", "/api/v1/bookings", body)
	require.Equal(t, http.StatusCreated, status, out)
	require.Equal(t, "none: no chat", out["reminders"])

	chat, err := svc.Book(context.Background(), booking.BookRequest{SalonID: salonID, ServiceID: "haircut", MasterID: "boris",
		Start: time.Date(2027, 3, 2, 9, 0, 0, 0, time.UTC), Client: core.Client{Name: "Ida", Phone: "+49 151 11111111"},
		IdempotencyKey: "tg", Confirm: true, Source: "telegram:42"})
	require.NoError(t, err)
	status, out = b.call(t, "GET", "/api/v1/bookings/"+chat.ID, nil)
	require.Equal(t, http.StatusOK, status, out)
	require.Equal(t, []any{"2027-03-01T10:00:00+01:00", "2027-03-02T08:00:00+01:00"}, out["reminders"])

	_, err = store.Apply(context.Background(), pgtest.Setup(salonID)) // reminders off
	require.NoError(t, err)
	status, out = b.call(t, "GET", "/api/v1/bookings/"+chat.ID, nil)
	require.Equal(t, http.StatusOK, status, out)
	require.Equal(t, "none: off", out["reminders"])
}
