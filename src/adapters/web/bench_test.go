package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/web"
	"salonbook/src/core"
	"salonbook/src/core/booking"
)

// BenchmarkSlotsHTTP: GET /api/v1/slots for 14 days of "any master" in a salon of
// 20 masters with 10,000 bookings, through the whole HTTP stack; reports the
// median and 99th-percentile latency of the requests.
func BenchmarkSlotsHTTP(b *testing.B) {
	now := time.Date(2027, 3, 1, 6, 0, 0, 0, time.UTC)
	store, salonID := pgtest.BenchSalon(b, 20, 10000, now)
	clock := &core.FixedClock{T: now}
	srv := httptest.NewServer(web.Handler(web.Config{
		Bookings: booking.New(store, clock), SalonID: salonID, APIToken: token, Clock: clock,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}))
	defer srv.Close()
	for _, master := range []string{"any", "m07"} {
		b.Run("master="+master, func(b *testing.B) {
			req, _ := http.NewRequest("GET", srv.URL+"/api/v1/slots?service=cut&master="+master+"&from=2027-03-08&days=14", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				resp, err := srv.Client().Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
				took = append(took, time.Since(start))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
