package web_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core/booking"
)

// TestNoShow: POST /api/v1/bookings/{id}/no-show marks a confirmed booking
// at or after its start, with the API's token; the booking's JSON shows the
// mark, and its record names the API.
func TestNoShow(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	body := bookBody("anna", "2027-03-02T10:00:00+01:00", "ns-1")
	body["confirm"] = true
	status, out := b.call(t, "POST", "/api/v1/bookings", body)
	require.Equal(t, http.StatusCreated, status, out)
	id := out["id"].(string)
	require.Nil(t, out["attendance"])

	status, _ = b.callAs(t, "", "POST", "/api/v1/bookings/"+id+"/no-show", nil)
	require.Equal(t, http.StatusUnauthorized, status, "guarded like the other writes")
	status, out = b.call(t, "POST", "/api/v1/bookings/"+id+"/no-show", nil)
	require.Equal(t, http.StatusConflict, status, "before its start")
	require.Contains(t, out["error"].(map[string]any)["message"], "has not started")

	b.clock.T = time.Date(2027, 3, 2, 9, 5, 0, 0, time.UTC) // 10:05 in Berlin
	status, out = b.call(t, "POST", "/api/v1/bookings/"+id+"/no-show", nil)
	require.Equal(t, http.StatusOK, status, out)
	require.Equal(t, "no_show", out["attendance"])
	require.Equal(t, "2027-03-02T10:05:00+01:00", out["attendance_at"])
	status, out = b.call(t, "POST", "/api/v1/bookings/"+id+"/no-show", nil)
	require.Equal(t, http.StatusOK, status, "again: the same answer")
	require.Equal(t, "2027-03-02T10:05:00+01:00", out["attendance_at"])
	status, out = b.call(t, "GET", "/api/v1/bookings/"+id, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "no_show", out["attendance"])
	require.Nil(t, out["kind"], "an appointment")
	status, out = b.call(t, "POST", "/api/v1/bookings/"+id+"/cancel", nil)
	require.Equal(t, http.StatusForbidden, status, "a marked booking has begun: too late, as before marks: %v", out)

	var actor string
	require.NoError(t, pgtest.Pool(t).QueryRow(context.Background(),
		`SELECT actor FROM booking_changes WHERE booking_id = $1 AND action = 'no_show'`, id).Scan(&actor))
	require.Equal(t, "api", actor)

	status, _ = b.call(t, "POST", "/api/v1/bookings/00000000-0000-0000-0000-000000000000/no-show", nil)
	require.Equal(t, http.StatusNotFound, status)

	// A block (made on the desk) reads as one, and is no booking to mark.
	blk, err := b.svc.Block(context.Background(), booking.BlockRequest{SalonID: b.salonID, MasterID: "boris",
		Start: time.Date(2027, 3, 3, 11, 0, 0, 0, time.UTC), End: time.Date(2027, 3, 3, 12, 0, 0, 0, time.UTC),
		IdempotencyKey: "desk:b", Source: "desk:olga"})
	require.NoError(t, err)
	status, out = b.call(t, "GET", "/api/v1/bookings/"+blk.ID, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "block", out["kind"])
	status, _ = b.call(t, "POST", "/api/v1/bookings/"+blk.ID+"/no-show", nil)
	require.Equal(t, http.StatusNotFound, status)
	status, _ = b.call(t, "POST", "/api/v1/bookings/"+blk.ID+"/cancel", nil)
	require.Equal(t, http.StatusNotFound, status, "lifted on the desk, not cancelled as a booking")
}
