package adreport_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/core"
	"salonbook/src/core/adreport"
)

func TestKeys(t *testing.T) {
	t.Parallel()
	// Meta normalises phones to digits with the country code, then hashes.
	require.Equal(t, adreport.Hash("4915112345678"), adreport.PhoneKey("+49 151 1234-5678"))
	require.Empty(t, adreport.PhoneKey(""))
	require.Regexp(t, `^[0-9a-f]{64}$`, adreport.ClientKey("demo", 42))
	require.NotEqual(t, adreport.ClientKey("demo", 42), adreport.ClientKey("other", 42), "scoped by salon")
	require.NotContains(t, adreport.ClientKey("demo", 42), "42")
	at := time.Date(2027, 3, 1, 9, 0, 0, 123e6, time.UTC)
	require.Equal(t, "fb.1.1803891600123.IwAR2x", adreport.FBC("IwAR2x", at))
	require.Equal(t, "b1-schedule", adreport.EventID("b1", adreport.Schedule))
	require.Equal(t, "b1-purchase", adreport.EventID("b1", adreport.Purchase))
}

// oneEvent is a Store of one pending event from a click.
type oneEvent struct{ state string }

func (s *oneEvent) Facts(context.Context, string, string) (adreport.Facts, error) {
	return adreport.Facts{}, nil
}

func (s *oneEvent) Handle(_ context.Context, salonID, _ string, at time.Time, fn func(adreport.Facts) (string, error)) error {
	st, err := fn(adreport.Facts{State: adreport.StatePending, Name: adreport.Schedule, SalonID: salonID, BookingID: "b1",
		OccurredAt: at, ClientID: 7, Fbclid: "IwAR2x", ClickedAt: at})
	if err == nil && st != "" {
		s.state = st
	}
	return err
}

// deadlineAPI records the deadline each send had.
type deadlineAPI struct {
	deadline time.Time
	ok       bool
}

func (a *deadlineAPI) Send(ctx context.Context, _ adreport.Event) error {
	a.deadline, a.ok = ctx.Deadline()
	return nil
}

// A send runs with the event's row locked: it is bounded (SendLimit), however
// long the job's own context lasts.
func TestASendIsBounded(t *testing.T) {
	t.Parallel()
	st, api := &oneEvent{}, &deadlineAPI{}
	r := &adreport.Reporter{Store: st, API: api, Clock: &core.FixedClock{T: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)},
		Log: slog.New(slog.DiscardHandler)}
	before := time.Now()
	require.NoError(t, r.Report(context.Background(), "demo", "b1-schedule"))
	require.True(t, api.ok, "the send has a deadline")
	require.LessOrEqual(t, api.deadline.Sub(before), adreport.DefaultSendLimit+time.Second)
	require.Equal(t, adreport.StateSent, st.state)
}
