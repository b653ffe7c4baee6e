package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/web"
	"salonbook/src/core"
	"salonbook/src/core/booking"
)

// TestBookingCalendarFile: a booking's calendar file is served at its token's
// address only: one VEVENT with CRLF line ends, folded lines, escaped text,
// the times in UTC, and STATUS:CANCELLED after a cancel; a wrong, malformed or
// other salon's token is 404, and nothing is served without BookingFiles.
func TestBookingCalendarFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, salonID := pgtest.Salon(t)
	setup := pgtest.Setup(salonID)
	setup.Salon.Address = "Torstraße 1, Berlin; Hof links, 2. Etage, Klingel \"Studio\" — bitte zweimal klingeln, danke"
	_, err := store.Apply(ctx, setup)
	require.NoError(t, err)
	clock := &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}
	svc := booking.New(store, clock)
	refs := postgres.NewReferences(pgtest.Pool(t))
	cfg := web.Config{Bookings: svc, SalonID: salonID, APIToken: token, Ready: func(context.Context) error { return nil },
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Clock: clock, BookingFiles: refs}
	srv := httptest.NewServer(web.Handler(cfg))
	t.Cleanup(srv.Close)
	cfg.BookingFiles = nil
	off := httptest.NewServer(web.Handler(cfg))
	t.Cleanup(off.Close)

	b, err := svc.Book(ctx, booking.BookRequest{SalonID: salonID, ServiceID: "haircut", MasterID: "anna",
		Start: time.Date(2027, 3, 2, 9, 0, 0, 0, time.UTC), Client: core.Client{Name: "Olga", Phone: "+49 151 23456789"},
		IdempotencyKey: "ics-1", Confirm: true})
	require.NoError(t, err)
	_, tok, err := refs.Reference(ctx, salonID, b.ID)
	require.NoError(t, err)
	url := web.BookingFileURL(srv.URL+"/", tok)
	require.Equal(t, srv.URL+"/booking/"+tok+".ics", url)

	get := func(u string) (int, http.Header, string) {
		resp, err := http.Get(u)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, resp.Header, string(body)
	}
	code, h, body := get(url)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, "text/calendar; charset=utf-8", h.Get("Content-Type"))
	require.True(t, strings.HasPrefix(body, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"), body)
	require.True(t, strings.HasSuffix(body, "END:VEVENT\r\nEND:VCALENDAR\r\n"))
	require.Equal(t, 1, strings.Count(body, "BEGIN:VEVENT"))
	require.NotContains(t, strings.ReplaceAll(body, "\r\n", ""), "\n", "every line ends in CRLF")
	for _, line := range strings.Split(strings.TrimSuffix(body, "\r\n"), "\r\n") {
		require.LessOrEqual(t, len(line), 75, "folded: %q", line)
	}
	unfolded := strings.ReplaceAll(body, "\r\n ", "")
	require.Contains(t, unfolded, "DTSTART:20270302T090000Z\r\nDTEND:20270302T094500Z\r\n")
	require.Contains(t, unfolded, "SUMMARY:Haircut · Anna · Studio "+salonID+"\r\n")
	require.Contains(t, unfolded, `LOCATION:Torstraße 1\, Berlin\; Hof links\, 2. Etage\, Klingel "Studio" — bitte zweimal klingeln\, danke`+"\r\n")
	require.Contains(t, unfolded, "STATUS:CONFIRMED\r\n")
	require.NotContains(t, body, "Olga")
	require.NotContains(t, body, "23456789", "no client's phone")

	_, err = svc.Cancel(ctx, salonID, b.ID)
	require.NoError(t, err)
	_, _, body = get(url)
	require.Contains(t, body, "STATUS:CANCELLED\r\n", "a calendar fetching it again drops it")

	for _, bad := range []string{
		srv.URL + "/booking/" + strings.Repeat("A", 22) + ".ics", // well-formed, unknown
		srv.URL + "/booking/" + tok,                              // no .ics
		srv.URL + "/booking/" + tok[:21] + ".ics",                // malformed
		srv.URL + "/booking/" + b.ID + ".ics",                    // the booking's id is not its address
		off.URL + "/booking/" + tok + ".ics",                     // not served
	} {
		code, _, _ := get(bad)
		require.Equal(t, http.StatusNotFound, code, bad)
	}
}
