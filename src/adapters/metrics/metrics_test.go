package metrics_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/metrics"
	"salonbook/src/core"
	"salonbook/src/core/booking"
)

// TestUnknownPathsMakeNoSeries: a thousand different paths no route matches
// count under one series; matched routes count by pattern, not by path.
func TestUnknownPathsMakeNoSeries(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Config{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h := m.Instrument(mux)
	for i := range 1000 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", fmt.Sprintf("/nope/%d", i), nil))
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", fmt.Sprintf("/things/%d", i), nil))
	}
	n, err := testutil.GatherAndCount(m.Registry(), "salonbook_http_requests_total")
	require.NoError(t, err)
	require.Equal(t, 2, n, "one series for the unmatched paths, one for the route")
	n, err = testutil.GatherAndCount(m.Registry(), "salonbook_http_request_duration_seconds")
	require.NoError(t, err)
	require.Equal(t, 2, n)
}

// TestHandlerWantsTheToken: with a token, a scrape without it, or with
// another, is answered 401.
func TestHandlerWantsTheToken(t *testing.T) {
	t.Parallel()
	h := metrics.New(metrics.Config{}).Handler("0123456789abcdef-metrics")
	for auth, want := range map[string]int{
		"": http.StatusUnauthorized, "Bearer 0123456789abcdef-metric": http.StatusUnauthorized,
		"Bearer 0123456789abcdef-metricsX": http.StatusUnauthorized, "0123456789abcdef-metrics": http.StatusUnauthorized,
		"Bearer 0123456789abcdef-metrics": http.StatusOK,
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		h.ServeHTTP(rec, req)
		require.Equal(t, want, rec.Code, "%q", auth)
		require.NotContains(t, rec.Body.String(), "0123456789abcdef")
	}
}

// TestBookingResults: a use case's error becomes a result from a fixed set.
func TestBookingResults(t *testing.T) {
	t.Parallel()
	m := metrics.New(metrics.Config{})
	for _, err := range []error{
		nil,
		&booking.ConflictError{Err: &core.Error{Code: core.EConflict, Key: "booking.slot_taken"}},
		core.Errorf(core.EConflict, "booking.too_many", "x"),
		core.Errorf(core.EInvalid, "request.invalid", "x"),
		errors.New("anything else"),
	} {
		m.Start(booking.OpBook)(err)
	}
	for result, want := range map[string]float64{"ok": 1, "taken": 1, "conflict": 1, "invalid": 1, "internal": 1} {
		c, err := m.BookingRequests().GetMetricWithLabelValues(booking.OpBook, result)
		require.NoError(t, err)
		require.Equal(t, want, testutil.ToFloat64(c), result)
	}
}
