package gcal_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/gcal"
	"salonbook/src/adapters/gcal/gcaltest"
	"salonbook/src/core"
	"salonbook/src/core/calsync"
)

const cal = "anna@example.com"

func setup(t *testing.T) (*gcaltest.Server, *gcal.Calendar) {
	t.Helper()
	fake := gcaltest.New(cal)
	t.Cleanup(fake.Close)
	c, err := gcal.New(context.Background(), gcal.Options{Endpoint: fake.URL(), HTTPClient: fake.Client(),
		Attempts: 4, BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond, CallTimeout: 200 * time.Millisecond})
	require.NoError(t, err)
	return fake, c
}

var berlin, _ = time.LoadLocation("Europe/Berlin")

func event(id string) calsync.Event {
	start := time.Date(2027, 3, 28, 10, 0, 0, 0, berlin)
	return calsync.Event{ID: id, BookingID: "b1", Summary: "Haircut · Anna", Start: start.UTC(), End: start.Add(45 * time.Minute).UTC(), Zone: berlin}
}

func TestAnswers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	id := calsync.EventID("s", "b1")

	t.Run("InsertTwiceIsExistsAndDeleteTwiceIsGone", func(t *testing.T) {
		t.Parallel()
		fake, c := setup(t)
		require.NoError(t, c.Insert(ctx, cal, event(id)))
		require.ErrorIs(t, c.Insert(ctx, cal, event(id)), calsync.ErrExists)
		require.NoError(t, c.Delete(ctx, cal, id))
		require.ErrorIs(t, c.Delete(ctx, cal, id), calsync.ErrGone, "410 after a delete")
		require.ErrorIs(t, c.Delete(ctx, cal, "0123456789"), calsync.ErrGone, "404")
		require.ErrorIs(t, c.Insert(ctx, cal, event(id)), calsync.ErrExists, "a deleted event keeps its id")
		require.NoError(t, c.Update(ctx, cal, event(id)), "an update brings it back")
		require.Len(t, fake.Events(cal), 1)
		require.ErrorIs(t, c.Update(ctx, cal, event("0123456789")), calsync.ErrGone)
	})

	t.Run("InstantsAndZone", func(t *testing.T) {
		t.Parallel()
		fake, c := setup(t)
		require.NoError(t, c.Insert(ctx, cal, event(id)))
		ev, ok := fake.Event(cal, id)
		require.True(t, ok)
		require.Equal(t, "2027-03-28T10:00:00+02:00", ev.Start.DateTime) // the day clocks went forward
		require.Equal(t, "Europe/Berlin", ev.Start.TimeZone)
		require.Equal(t, "2027-03-28T10:45:00+02:00", ev.End.DateTime)
	})

	t.Run("BusyIsReadInUTC", func(t *testing.T) {
		t.Parallel()
		fake, c := setup(t)
		a := time.Date(2027, 3, 3, 11, 0, 0, 0, time.UTC)
		fake.AddBusy(cal, a, a.Add(time.Hour))
		fake.AddBusy(cal, a.Add(30*time.Minute), a.Add(2*time.Hour)) // Google merges these
		busy, err := c.Busy(ctx, cal, core.TimeRange{Start: a.Add(-time.Hour), End: a.Add(24 * time.Hour)})
		require.NoError(t, err)
		require.Equal(t, []core.TimeRange{{Start: a, End: a.Add(2 * time.Hour)}}, busy)
	})
}

func TestRetries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	id := calsync.EventID("s", "b1")
	for _, c := range []struct {
		name      string
		fail      []gcaltest.Failure
		ok        bool
		calls     int
		permanent bool
	}{
		{"429Then500ThenOK", []gcaltest.Failure{{Status: 429, Reason: "rateLimitExceeded"}, {Status: 500, Reason: "backendError"}}, true, 3, false},
		{"403RateLimitIsRetried", []gcaltest.Failure{{Status: 403, Reason: "userRateLimitExceeded"}}, true, 2, false},
		{"403ForbiddenIsNot", []gcaltest.Failure{{Status: 403, Reason: "forbidden"}}, false, 1, true},
		{"400IsNot", []gcaltest.Failure{{Status: 400, Reason: "badRequest"}}, false, 1, true},
		{"401IsNot", []gcaltest.Failure{{Status: 401, Reason: "authError"}}, false, 1, true},
		{"DownTooLongGivesUp", []gcaltest.Failure{{Status: 503}, {Status: 503}, {Status: 503}, {Status: 503}, {Status: 503}}, false, 4, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fake, cl := setup(t)
			fake.Fail(c.fail...)
			err := cl.Insert(ctx, cal, event(id))
			require.Equal(t, c.calls, fake.Calls("insert"))
			if c.ok {
				require.NoError(t, err)
				require.Len(t, fake.Events(cal), 1)
				require.Equal(t, 1, fake.Inserted(cal, id))
				return
			}
			var f *calsync.Failure
			require.True(t, errors.As(err, &f), "got %v", err)
			require.Equal(t, c.permanent, f.Permanent)
			require.Empty(t, fake.Events(cal))
		})
	}

	t.Run("SlowAnswerIsRetried", func(t *testing.T) {
		t.Parallel()
		fake, cl := setup(t)
		fake.Fail(gcaltest.Failure{Slow: time.Second, Only: "delete"}) // beyond the 200 ms a try may take
		require.NoError(t, cl.Insert(ctx, cal, event(id)))
		require.NoError(t, cl.Delete(ctx, cal, id), "the first try timed out, the second deleted")
		require.Equal(t, 2, fake.Calls("delete"))
		require.Empty(t, fake.Events(cal))
	})

	t.Run("TransientCalendarErrorIsRetried", func(t *testing.T) {
		t.Parallel()
		fake, cl := setup(t)
		fake.Fail(gcaltest.Failure{Calendar: "backendError", Only: "freebusy"})
		_, err := cl.Busy(ctx, cal, core.TimeRange{Start: time.Now(), End: time.Now().Add(time.Hour)})
		require.NoError(t, err)
		require.Equal(t, 2, fake.Calls("freebusy"))
	})

	t.Run("LongWindowInPieces", func(t *testing.T) {
		t.Parallel()
		fake, cl := setup(t)
		from := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
		block := from.Add(150 * 24 * time.Hour)
		fake.AddBusy(cal, block, block.Add(time.Hour))
		busy, err := cl.Busy(ctx, cal, core.TimeRange{Start: from, End: from.Add(200 * 24 * time.Hour)})
		require.NoError(t, err)
		require.Equal(t, 4, fake.Calls("freebusy"))
		require.Equal(t, []core.TimeRange{{Start: block, End: block.Add(time.Hour)}}, busy)
	})

	t.Run("UnknownCalendarIsPermanent", func(t *testing.T) {
		t.Parallel()
		fake, cl := setup(t)
		_, err := cl.Busy(ctx, "ghost@example.com", core.TimeRange{Start: time.Now(), End: time.Now().Add(time.Hour)})
		require.True(t, calsync.Permanent(err))
		require.Equal(t, 1, fake.Calls("freebusy"))
		err = cl.Insert(ctx, "ghost@example.com", event(id))
		require.True(t, calsync.Permanent(err))
		require.Contains(t, err.Error(), "404")
	})
}

func TestBadCredentialsFailWithoutEcho(t *testing.T) {
	t.Parallel()
	_, err := gcal.New(context.Background(), gcal.Options{CredentialsJSON: []byte(`{"type":"service_account","private_key":"SECRET-KEY-MATERIAL"`)})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "SECRET")
}
