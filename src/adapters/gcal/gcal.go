// Package gcal is the Google Calendar side of calendar sync: it implements
// calsync.Calendar with the official client (google.golang.org/api/calendar/v3).
//
// The generated client does not retry, so every call here does: rate limits
// (429, and 403 with a rate-limit reason), 5xx, slow answers and network errors
// are retried with capped exponential backoff and jitter; 400, 401, 404 and other
// 403s are not, and come back as a permanent *calsync.Failure. Errors never carry
// a token or a client's data.
package gcal

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
	"google.golang.org/api/calendar/v3"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"salonbook/src/core"
	"salonbook/src/core/calsync"
)

var _ calsync.Calendar = (*Calendar)(nil)

// Options configure the client.
type Options struct {
	// CredentialsJSON is a service account key (GOOGLE_CREDENTIALS_FILE). Nil
	// means no authentication: only for a fake server at Endpoint.
	CredentialsJSON []byte
	// Subject is the user the service account acts for (domain-wide
	// delegation, GOOGLE_IMPERSONATE); "" for none.
	Subject string
	// Endpoint is the server's root URL ("" for Google's); "/calendar/v3/" is
	// added when missing (GOOGLE_CALENDAR_ENDPOINT).
	Endpoint string
	// HTTPClient replaces the transport (tests); it takes precedence over the
	// credentials.
	HTTPClient *http.Client
	// Attempts is how many times a call is tried before it fails. Zero means 5.
	Attempts int
	// BaseDelay and MaxDelay bound the backoff between tries (defaults 500 ms
	// and 30 s); each wait is drawn between half and all of min(MaxDelay,
	// BaseDelay × 2^try).
	BaseDelay, MaxDelay time.Duration
	// CallTimeout bounds one try (default 15 s): a slow answer is retried.
	CallTimeout time.Duration
}

// Calendar is Google Calendar through the official client.
type Calendar struct {
	svc *calendar.Service
	o   Options
}

// New builds the client. It fails, without echoing the key, when the
// credentials cannot be read.
func New(ctx context.Context, o Options) (*Calendar, error) {
	var opts []option.ClientOption
	if o.Endpoint != "" {
		ep := strings.TrimRight(o.Endpoint, "/")
		if !strings.HasSuffix(ep, "/calendar/v3") {
			ep += "/calendar/v3"
		}
		opts = append(opts, option.WithEndpoint(ep+"/"))
	}
	switch {
	case o.HTTPClient != nil:
		opts = append(opts, option.WithHTTPClient(o.HTTPClient))
	case o.CredentialsJSON != nil:
		creds, err := google.CredentialsFromJSONWithTypeAndParams(ctx, o.CredentialsJSON, google.ServiceAccount,
			google.CredentialsParams{Scopes: []string{calendar.CalendarEventsScope, calendar.CalendarFreebusyScope}, Subject: o.Subject})
		if err != nil {
			return nil, errors.New("gcal: the credentials are not a service account key")
		}
		opts = append(opts, option.WithCredentials(creds))
	default:
		opts = append(opts, option.WithoutAuthentication())
	}
	svc, err := calendar.NewService(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("gcal: %w", err)
	}
	if o.Attempts <= 0 {
		o.Attempts = 5
	}
	if o.BaseDelay <= 0 {
		o.BaseDelay = 500 * time.Millisecond
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 30 * time.Second
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 15 * time.Second
	}
	return &Calendar{svc: svc, o: o}, nil
}

// privateKey marks our events with their booking (for a later incremental sync).
const privateKey = "salonbook_booking"

func apiEvent(ev calsync.Event) *calendar.Event {
	zone := "UTC"
	loc := time.UTC
	if ev.Zone != nil {
		zone, loc = ev.Zone.String(), ev.Zone
	}
	return &calendar.Event{
		Id:          ev.ID,
		Summary:     ev.Summary,
		Description: ev.Description,
		Status:      "confirmed",
		Start:       &calendar.EventDateTime{DateTime: ev.Start.In(loc).Format(time.RFC3339), TimeZone: zone},
		End:         &calendar.EventDateTime{DateTime: ev.End.In(loc).Format(time.RFC3339), TimeZone: zone},
		ExtendedProperties: &calendar.EventExtendedProperties{
			Private: map[string]string{privateKey: ev.BookingID},
		},
		Reminders: reminders(ev.Reminders),
	}
}

// Google's limits on an event's reminder overrides.
const (
	maxOverrides       = 5
	maxReminderMinutes = 40320 // four weeks
)

// reminders are an event's popup reminders, at most maxOverrides of them, each
// 0..maxReminderMinutes minutes before; none: the calendar's defaults. Always
// sent, so that a patch also drops overrides the policy no longer has.
func reminders(before []time.Duration) *calendar.EventReminders {
	if len(before) == 0 {
		return &calendar.EventReminders{UseDefault: true}
	}
	r := &calendar.EventReminders{ForceSendFields: []string{"UseDefault"}}
	for _, d := range before[:min(len(before), maxOverrides)] {
		r.Overrides = append(r.Overrides, &calendar.EventReminder{Method: "popup",
			Minutes: min(max(int64(d/time.Minute), 0), maxReminderMinutes), ForceSendFields: []string{"Minutes"}})
	}
	return r
}

// Insert creates the event; ErrExists when its id is taken.
func (c *Calendar) Insert(ctx context.Context, calendarID string, ev calsync.Event) error {
	return c.retry(ctx, "insert", func(ctx context.Context) error {
		_, err := c.svc.Events.Insert(calendarID, apiEvent(ev)).SendUpdates("none").Context(ctx).Do()
		if status(err) == http.StatusConflict {
			return calsync.ErrExists
		}
		return err
	})
}

// Update patches the event to ev (status confirmed: a deleted event comes back).
func (c *Calendar) Update(ctx context.Context, calendarID string, ev calsync.Event) error {
	return c.retry(ctx, "patch", func(ctx context.Context) error {
		_, err := c.svc.Events.Patch(calendarID, ev.ID, apiEvent(ev)).SendUpdates("none").Context(ctx).Do()
		if s := status(err); s == http.StatusNotFound || s == http.StatusGone {
			return calsync.ErrGone
		}
		return err
	})
}

// Delete deletes the event; 404 and 410 are ErrGone.
func (c *Calendar) Delete(ctx context.Context, calendarID, eventID string) error {
	return c.retry(ctx, "delete", func(ctx context.Context) error {
		err := c.svc.Events.Delete(calendarID, eventID).SendUpdates("none").Context(ctx).Do()
		if s := status(err); s == http.StatusNotFound || s == http.StatusGone {
			return calsync.ErrGone
		}
		return err
	})
}

// MaxFreeBusySpan is the longest window one freebusy query asks for: Google
// refuses long ranges ("The requested time range is too long"), so a long
// booking horizon is read in pieces.
const MaxFreeBusySpan = 60 * 24 * time.Hour

// Busy reads the calendar's busy time in window with freebusy.
func (c *Calendar) Busy(ctx context.Context, calendarID string, window core.TimeRange) ([]core.TimeRange, error) {
	var out []core.TimeRange
	for from := window.Start; from.Before(window.End); from = from.Add(MaxFreeBusySpan) {
		to := from.Add(MaxFreeBusySpan)
		if to.After(window.End) {
			to = window.End
		}
		part, err := c.busy(ctx, calendarID, core.TimeRange{Start: from, End: to})
		if err != nil {
			return nil, err
		}
		out = append(out, part...)
	}
	return out, nil
}

// accessReasons are per-calendar freebusy errors that retrying cannot fix.
var accessReasons = map[string]bool{"notFound": true, "forbidden": true, "notACalendarUser": true}

func (c *Calendar) busy(ctx context.Context, calendarID string, window core.TimeRange) ([]core.TimeRange, error) {
	var out []core.TimeRange
	err := c.retry(ctx, "freebusy", func(ctx context.Context) error {
		resp, err := c.svc.Freebusy.Query(&calendar.FreeBusyRequest{
			TimeMin: window.Start.UTC().Format(time.RFC3339),
			TimeMax: window.End.UTC().Format(time.RFC3339),
			Items:   []*calendar.FreeBusyRequestItem{{Id: calendarID}},
		}).Context(ctx).Do()
		if err != nil {
			return err
		}
		cal, ok := resp.Calendars[calendarID]
		if !ok {
			return &calsync.Failure{Status: http.StatusOK, Reason: "freebusy: calendar missing from the answer", Permanent: true}
		}
		if len(cal.Errors) > 0 {
			// notFound: no such calendar, or not shared with the service account;
			// backendError and the like pass: retried.
			reason := cal.Errors[0].Reason
			if accessReasons[reason] {
				return &calsync.Failure{Status: http.StatusNotFound, Reason: "freebusy: " + reason, Permanent: true}
			}
			return &passing{reason: reason}
		}
		out = out[:0]
		for _, p := range cal.Busy {
			s, err1 := time.Parse(time.RFC3339, p.Start)
			e, err2 := time.Parse(time.RFC3339, p.End)
			if err1 != nil || err2 != nil {
				return &calsync.Failure{Status: http.StatusOK, Reason: "freebusy: unreadable busy period", Permanent: true}
			}
			out = append(out, core.TimeRange{Start: s.UTC(), End: e.UTC()})
		}
		return nil
	})
	return out, err
}

// passing is a failure inside a 200 answer that is worth another try.
type passing struct{ reason string }

func (p *passing) Error() string { return p.reason }

// retry runs call until it succeeds, fails for good, or runs out of tries.
// ErrExists and ErrGone are answers, not failures.
func (c *Calendar) retry(ctx context.Context, what string, call func(context.Context) error) error {
	var last *calsync.Failure
	for try := 0; try < c.o.Attempts; try++ {
		if try > 0 {
			wait := c.backoff(try, last)
			select {
			case <-ctx.Done():
				return &calsync.Failure{Reason: what + ": " + ctx.Err().Error(), Err: ctx.Err()}
			case <-time.After(wait):
			}
		}
		callCtx, cancel := context.WithTimeout(ctx, c.o.CallTimeout)
		err := call(callCtx)
		cancel()
		if err == nil || errors.Is(err, calsync.ErrExists) || errors.Is(err, calsync.ErrGone) {
			return err
		}
		if f, ok := errors.AsType[*calsync.Failure](err); ok {
			return f // already judged (an answer that cannot be used)
		}
		last = classify(what, err)
		if last.Permanent || ctx.Err() != nil {
			return last
		}
	}
	return last
}

func (c *Calendar) backoff(try int, last *calsync.Failure) time.Duration {
	d := min(c.o.MaxDelay, c.o.BaseDelay<<min(try-1, 20))
	d = d/2 + rand.N(d/2+1)
	if last != nil {
		if ae, ok := errors.AsType[*googleapi.Error](last.Err); ok && ae.Header != nil {
			if s, err := strconv.Atoi(ae.Header.Get("Retry-After")); err == nil && s > 0 {
				d = max(d, min(c.o.MaxDelay, time.Duration(s)*time.Second))
			}
		}
	}
	return d
}

// rateReasons are the 403 reasons that mean "slow down", not "no access".
var rateReasons = map[string]bool{"rateLimitExceeded": true, "userRateLimitExceeded": true, "quotaExceeded": true}

// classify judges a failed call: what is worth another try.
func classify(what string, err error) *calsync.Failure {
	if p, ok := errors.AsType[*passing](err); ok {
		return &calsync.Failure{Status: http.StatusOK, Reason: what + ": " + p.reason, Err: err}
	}
	if ae, ok := errors.AsType[*googleapi.Error](err); ok {
		reason := http.StatusText(ae.Code)
		if len(ae.Errors) > 0 && ae.Errors[0].Reason != "" {
			reason = ae.Errors[0].Reason
		}
		passing := ae.Code == http.StatusTooManyRequests || ae.Code >= 500 ||
			(ae.Code == http.StatusForbidden && rateReasons[reason])
		return &calsync.Failure{Status: ae.Code, Reason: what + ": " + reason, Permanent: !passing, Err: err}
	}
	if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok && re.Response != nil {
		// The token endpoint: a bad key or delegation is permanent, Google down is not.
		code := re.Response.StatusCode
		permanent := code < 500 && code != http.StatusTooManyRequests
		return &calsync.Failure{Status: code, Reason: what + ": token " + cmpOr(re.ErrorCode, http.StatusText(code)), Permanent: permanent, Err: err}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &calsync.Failure{Reason: what + ": no answer in time", Err: err}
	}
	return &calsync.Failure{Reason: what + ": " + networkReason(err), Err: err}
}

// networkReason names a transport failure without the URL (which could carry
// a calendar id we would rather not spread) or anything else.
func networkReason(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return msg
}

func status(err error) int {
	if ae, ok := errors.AsType[*googleapi.Error](err); ok {
		return ae.Code
	}
	return 0
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
