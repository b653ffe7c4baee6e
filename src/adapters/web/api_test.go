package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/web"
	"salonbook/src/core"
	"salonbook/src/core/booking"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const token = "test-token-0123456789"

type bundle struct {
	srv     *httptest.Server
	salonID string
	clock   *core.FixedClock
	svc     *booking.Service
	ready   error
}

func newBundle(t *testing.T) *bundle {
	t.Helper()
	store, salonID := pgtest.Salon(t)
	b := &bundle{salonID: salonID, clock: &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}}
	b.svc = booking.New(store, b.clock)
	b.srv = httptest.NewServer(web.Handler(web.Config{
		Bookings: b.svc,
		SalonID:  salonID,
		APIToken: token,
		Ready:    func(context.Context) error { return b.ready },
		Logger:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Clock:    b.clock,
	}))
	t.Cleanup(b.srv.Close)
	return b
}

// call sends a request with the API token and decodes the JSON answer.
func (b *bundle) call(t *testing.T, method, path string, body any) (int, map[string]any) {
	t.Helper()
	return b.callAs(t, "Bearer "+token, method, path, body)
}

func (b *bundle) callAs(t *testing.T, auth, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(v)
	default:
		raw, err := json.Marshal(v)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, b.srv.URL+path, rd)
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := b.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

func bookBody(master, start, key string) map[string]any {
	return map[string]any{
		"service": "haircut", "master": master, "start": start, "idempotency_key": key,
		"client": map[string]any{"name": "Olga", "phone": fmt.Sprintf("+7 (912) %07d", crc32.ChecksumIEEE([]byte(key))%10000000)},
	}
}

func errCode(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func TestAuth(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	for _, auth := range []string{"", "Bearer wrong", "Bearer " + token + "x", token} {
		status, out := b.callAs(t, auth, "POST", "/api/v1/bookings", bookBody("anna", "2027-03-02T10:00:00+01:00", "auth"))
		require.Equal(t, http.StatusUnauthorized, status, "auth %q", auth)
		require.Equal(t, "forbidden", errCode(out))
	}
	status, _ := b.call(t, "GET", "/api/v1/bookings/00000000-0000-0000-0000-000000000000", nil)
	require.Equal(t, http.StatusNotFound, status)
	status, out := b.call(t, "GET", "/api/v1/slots?service=haircut&master=anna&from=2027-03-02&days=1", nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 38, len(out["slots"].([]any)), "09:00..18:15 every 15 min (the clean-up may run past closing); the refused requests booked nothing")
}

func TestSlots(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	status, out := b.call(t, "GET", "/api/v1/slots?service=haircut&master=any&from=2027-03-27&days=2", nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "Europe/Berlin", out["timezone"])
	slots := out["slots"].([]any)
	require.Equal(t, 2*38, len(slots), "any master lists each start once")
	first, last := slots[0].(map[string]any), slots[len(slots)-1].(map[string]any)
	require.Equal(t, "2027-03-27T09:00:00+01:00", first["start"], "winter time before the change")
	require.Equal(t, "2027-03-28T18:15:00+02:00", last["start"], "summer time after it: 18:15 local stays 18:15")
	require.Equal(t, "2027-03-28T19:00:00+02:00", last["end"])
	require.Equal(t, "anna", first["master"])

	for _, q := range []string{"master=anna&days=1", "service=haircut&days=0", "service=haircut&days=x", "service=haircut&from=27.03.2027"} {
		status, out = b.call(t, "GET", "/api/v1/slots?"+q, nil)
		require.Equal(t, http.StatusBadRequest, status, q)
		require.Equal(t, "invalid", errCode(out), q)
	}
	status, out = b.call(t, "GET", "/api/v1/slots?service=tattoo", nil)
	require.Equal(t, http.StatusNotFound, status)
	require.Equal(t, "not_found", errCode(out))
}

func TestBookingLifecycle(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	status, out := b.call(t, "POST", "/api/v1/bookings", bookBody("anna", "2027-03-03T10:00:00+01:00", "life-1"))
	require.Equal(t, http.StatusCreated, status, out)
	id := out["id"].(string)
	require.Equal(t, "held", out["status"])
	require.Equal(t, "2027-03-03T10:00:00+01:00", out["start"])
	require.Equal(t, "2027-03-01T08:10:00+01:00", out["hold_expires_at"])
	require.Equal(t, "35.00", out["price"])

	status, again := b.call(t, "POST", "/api/v1/bookings", bookBody("anna", "2027-03-03T10:00:00+01:00", "life-1"))
	require.Equal(t, http.StatusCreated, status)
	require.Equal(t, id, again["id"], "same idempotency key, same booking")

	status, out = b.call(t, "POST", "/api/v1/bookings/"+id+"/confirm", nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "confirmed", out["status"])
	require.Nil(t, out["hold_expires_at"])
	require.Nil(t, out["coming_at"], "not until the client says so")

	// The client pressed "I'll come" on a reminder: the API shows when, in the salon's zone.
	_, err := b.svc.Coming(context.Background(), b.salonID, id)
	require.NoError(t, err)
	status, out = b.call(t, "GET", "/api/v1/bookings/"+id, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "2027-03-01T08:00:00+01:00", out["coming_at"])

	status, out = b.call(t, "POST", "/api/v1/bookings/"+id+"/reschedule", map[string]string{"start": "2027-03-03T09:00:00Z"})
	require.Equal(t, http.StatusOK, status, out)
	require.Equal(t, "2027-03-03T10:00:00+01:00", out["start"], "the same instant written in UTC is no move")
	require.Equal(t, "2027-03-01T08:00:00+01:00", out["coming_at"], "and keeps it")

	status, out = b.call(t, "POST", "/api/v1/bookings/"+id+"/reschedule", map[string]string{"start": "2027-03-03T12:30:00+01:00"})
	require.Equal(t, http.StatusOK, status, out)
	require.Equal(t, "2027-03-03T12:30:00+01:00", out["start"])
	require.Nil(t, out["coming_at"], "a move clears it: it was said of the old time")

	status, out = b.call(t, "GET", "/api/v1/bookings/"+id, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "2027-03-03T13:15:00+01:00", out["end"])

	status, out = b.call(t, "POST", "/api/v1/bookings/"+id+"/cancel", nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "cancelled", out["status"])
}

func TestBookingErrors(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	status, _ := b.call(t, "POST", "/api/v1/bookings", bookBody("anna", "2027-03-02T10:00:00+01:00", "e0"))
	require.Equal(t, http.StatusCreated, status)

	status, out := b.call(t, "POST", "/api/v1/bookings", bookBody("anna", "2027-03-02T10:15:00+01:00", "e1"))
	require.Equal(t, http.StatusConflict, status)
	require.Equal(t, "conflict", errCode(out))
	alts := out["error"].(map[string]any)["alternatives"].([]any)
	require.NotEmpty(t, alts)
	require.Contains(t, []string{"2027-03-02T09:00:00+01:00", "2027-03-02T11:00:00+01:00"}, alts[0].(map[string]any)["start"])

	late := bookBody("anna", "2027-03-01T18:00:00+01:00", "e-late")
	late["confirm"] = true
	status, out = b.call(t, "POST", "/api/v1/bookings", late)
	require.Equal(t, http.StatusCreated, status, out)
	status, out = b.call(t, "POST", "/api/v1/bookings/"+out["id"].(string)+"/cancel", nil)
	require.Equal(t, http.StatusForbidden, status)
	require.Equal(t, "forbidden", errCode(out))

	cases := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"NotJSON", "{nope", 400, "invalid"},
		{"UnknownField", `{"service":"haircut","colour":"red"}`, 400, "invalid"},
		{"StartWithoutOffset", bookBody("anna", "2027-03-02T10:00:00", "e2"), 400, "invalid"},
		{"OffGrid", bookBody("anna", "2027-03-02T10:05:00+01:00", "e3"), 400, "invalid"},
		{"Past", bookBody("anna", "2027-02-27T10:00:00+01:00", "e4"), 400, "invalid"},
		{"UnknownService", func() any { m := bookBody("anna", "2027-03-02T12:00:00+01:00", "e5"); m["service"] = "x"; return m }(), 404, "not_found"},
		{"NoKey", bookBody("anna", "2027-03-02T12:00:00+01:00", ""), 400, "invalid"},
		{"TooLarge", `{"service":"` + string(bytes.Repeat([]byte("a"), 70<<10)) + `"}`, 400, "invalid"},
	}
	for _, c := range cases {
		status, out := b.call(t, "POST", "/api/v1/bookings", c.body)
		require.Equal(t, c.status, status, c.name)
		require.Equal(t, c.code, errCode(out), c.name)
		msg := out["error"].(map[string]any)["message"].(string)
		require.NotContains(t, msg, "postgres", "%s: internals leak: %s", c.name, msg)
		require.NotContains(t, msg, "+7", "%s: phone leaks", c.name)
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	resp, err := http.Get(b.srv.URL + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	status, _ := b.callAs(t, "", "GET", "/readyz", nil)
	require.Equal(t, 200, status)
	b.ready = errors.New("database schema version 0, binary expects 1")
	status, out := b.callAs(t, "", "GET", "/readyz", nil)
	require.Equal(t, 503, status)
	require.Contains(t, out["reason"], "schema version")
}

// TestConcurrentHTTPBookings sends 100 requests at once for overlapping times of
// one master: exactly one is created, the others get 409.
func TestConcurrentHTTPBookings(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for i := range 100 {
		wg.Go(func() {
			start := []string{"2027-03-04T10:00:00+01:00", "2027-03-04T10:15:00+01:00", "2027-03-04T10:30:00+01:00"}[i%3]
			body := bookBody("boris", start, fmt.Sprintf("http-race-%d", i))
			body["client"] = map[string]any{"name": "C", "phone": fmt.Sprintf("+4915100%04d", i)}
			raw, _ := json.Marshal(body)
			req, _ := http.NewRequest("POST", b.srv.URL+"/api/v1/bookings", bytes.NewReader(raw))
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := b.srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	require.Equal(t, map[int]int{201: 1, 409: 99}, statuses)
}

// TestKeyReusedHasAMessage reuses an idempotency key for another time: the answer
// is a 409 that says so, not "internal error".
func TestKeyReusedHasAMessage(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	status, out := b.call(t, "POST", "/api/v1/bookings", bookBody("anna", "2027-03-05T10:00:00+01:00", "reused"))
	require.Equal(t, http.StatusCreated, status, out)
	status, out = b.call(t, "POST", "/api/v1/bookings", bookBody("anna", "2027-03-05T12:00:00+01:00", "reused"))
	require.Equal(t, http.StatusConflict, status, out)
	require.Equal(t, "conflict", errCode(out))
	msg := out["error"].(map[string]any)["message"].(string)
	require.NotEqual(t, "internal error", msg)
	require.Contains(t, msg, "idempotency key")
}

// TestOwnerIsNotCapped: bookings through the API with the operator's token are
// the owner's, and policy.max_upcoming does not limit them.
func TestOwnerIsNotCapped(t *testing.T) {
	t.Parallel()
	store, salonID := pgtest.Salon(t)
	setup := pgtest.Setup(salonID)
	setup.Salon.Policy.MaxUpcoming = 1
	_, err := store.Apply(context.Background(), setup)
	require.NoError(t, err)
	clock := &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}
	srv := httptest.NewServer(web.Handler(web.Config{
		Bookings: booking.New(store, clock), SalonID: salonID, APIToken: token,
		Ready: func(context.Context) error { return nil }, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Clock: clock,
	}))
	t.Cleanup(srv.Close)
	b := &bundle{srv: srv, salonID: salonID, clock: clock}
	for i := range 3 {
		body := bookBody("anna", fmt.Sprintf("2027-03-0%dT10:00:00+01:00", 2+i), fmt.Sprint("owner-", i))
		body["client"] = map[string]any{"name": "Olga", "phone": "+49 151 12345678"}
		body["confirm"] = i > 0
		status, out := b.call(t, "POST", "/api/v1/bookings", body)
		require.Equal(t, http.StatusCreated, status, "booking %d: %v", i, out)
	}
	status, out := b.call(t, "GET", "/api/v1/slots?service=haircut&master=anna&from=2027-03-02&days=1", nil)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, out["slots"], 38-7, "the first hold was not released by the later bookings: 09:15 to 10:45 stay taken")
}

// TestMastersNames: /masters gives a master's names per language next to the
// default name, as /services gives the services' (a master with one name
// has none).
func TestMastersNames(t *testing.T) {
	t.Parallel()
	store, salonID := pgtest.Salon(t)
	setup := pgtest.Setup(salonID)
	setup.Salon.Locales = []string{"en", "ru"}
	setup.Masters[0].Names = map[string]string{"en": "Anna", "ru": "Анна"}
	_, err := store.Apply(context.Background(), setup)
	require.NoError(t, err)
	clock := &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}
	srv := httptest.NewServer(web.Handler(web.Config{Bookings: booking.New(store, clock), SalonID: salonID, APIToken: token,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Clock: clock}))
	t.Cleanup(srv.Close)
	b := &bundle{srv: srv, salonID: salonID, clock: clock}

	status, out := b.call(t, "GET", "/api/v1/masters", nil)
	require.Equal(t, http.StatusOK, status)
	masters := out["masters"].([]any)
	anna, boris := masters[0].(map[string]any), masters[1].(map[string]any)
	require.Equal(t, "anna", anna["id"])
	require.Equal(t, "Anna", anna["name"])
	require.Equal(t, map[string]any{"en": "Anna", "ru": "Анна"}, anna["names"])
	require.Equal(t, "boris", boris["id"])
	require.NotContains(t, boris, "names", "one name for every language: no map")
}
