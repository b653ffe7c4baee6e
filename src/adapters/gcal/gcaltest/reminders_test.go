package gcaltest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/api/calendar/v3"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"salonbook/src/adapters/gcal/gcaltest"
)

// TestReminderLimits: the fake refuses reminders as Google does (400): more
// than 5 overrides, minutes outside 0..40320, an unknown method, overrides
// with the defaults; an event inserted without reminders has the defaults.
func TestReminderLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fake := gcaltest.New("a@example.com")
	t.Cleanup(fake.Close)
	svc, err := calendar.NewService(ctx, option.WithEndpoint(fake.URL()+"/calendar/v3/"), option.WithHTTPClient(fake.Client()))
	require.NoError(t, err)
	start := time.Date(2027, 3, 28, 10, 0, 0, 0, time.UTC)
	event := func(id string, r *calendar.EventReminders) *calendar.Event {
		return &calendar.Event{Id: id, Start: &calendar.EventDateTime{DateTime: start.Format(time.RFC3339)},
			End: &calendar.EventDateTime{DateTime: start.Add(time.Hour).Format(time.RFC3339)}, Reminders: r}
	}
	popups := func(mins ...int64) []*calendar.EventReminder {
		var out []*calendar.EventReminder
		for _, m := range mins {
			out = append(out, &calendar.EventReminder{Method: "popup", Minutes: m, ForceSendFields: []string{"Minutes"}})
		}
		return out
	}
	for name, r := range map[string]*calendar.EventReminders{
		"six":          {Overrides: popups(1, 2, 3, 4, 5, 6)},
		"tooFar":       {Overrides: popups(40321)},
		"negative":     {Overrides: popups(-1)},
		"sms":          {Overrides: []*calendar.EventReminder{{Method: "sms", Minutes: 10}}},
		"withDefaults": {UseDefault: true, Overrides: popups(10)},
	} {
		_, err := svc.Events.Insert("a@example.com", event("abcde00001", r)).Do()
		var gerr *googleapi.Error
		require.ErrorAs(t, err, &gerr, name)
		require.Equal(t, 400, gerr.Code, name)
	}
	_, err = svc.Events.Insert("a@example.com", event("abcde00002", &calendar.EventReminders{Overrides: popups(0, 40320, 1, 2, 3)})).Do()
	require.NoError(t, err, "five, at the edges")
	_, err = svc.Events.Insert("a@example.com", event("abcde00003", nil)).Do()
	require.NoError(t, err)
	ev, ok := fake.Event("a@example.com", "abcde00003")
	require.True(t, ok)
	require.True(t, ev.Reminders.UseDefault)
	_, err = svc.Events.Patch("a@example.com", "abcde00002", &calendar.Event{Reminders: &calendar.EventReminders{Overrides: popups(1, 2, 3, 4, 5, 6)}}).Do()
	require.Error(t, err, "a patch is checked too")
	ev, _ = fake.Event("a@example.com", "abcde00002")
	require.Len(t, ev.Reminders.Overrides, 5, "and a refused one changes nothing")
}
