package staff

import "time"

// Feed is a master's calendar feed as the desk lists it: its secret is never
// stored, only when and by whom the current one was made.
type Feed struct {
	MasterID  string
	CreatedAt time.Time
	CreatedBy string // the desk login, or "cli"
}

// FeedEntry is a booking as a calendar feed shows it: the entry, how many
// changes were recorded to it (booking_changes: made, confirmed, moved,
// cancelled, expired, marked…) and when the latest was.
type FeedEntry struct {
	Entry
	Changes   int
	ChangedAt time.Time // zero when none was recorded
}

// Sequence is the entry's revision at now for calendars (RFC 5545
// SEQUENCE): its recorded changes, and one more while it is a hold (or
// awaits its deposit) that has lapsed at now but is not yet marked expired
// (it shows cancelled; the expiry, once written, is the change that takes
// that one's place). Every change statement records one, so it grows with
// each change, however close together and whatever the writers' clocks
// say, and never goes down.
func (e FeedEntry) Sequence(now time.Time) int {
	n := e.Changes
	if e.lapsed(now) {
		n++
	}
	return n
}

// Modified is when the entry last changed as the feed shows it: the later of
// its updated_at and its latest recorded change (the two are written by
// different clocks, the database's and the service's: a writer whose clock is
// behind lowers neither the latest change nor so this), and for a lapsed hold
// not yet marked expired, its expiry.
func (e FeedEntry) Modified(now time.Time) time.Time {
	t := e.Booking.UpdatedAt
	if e.ChangedAt.After(t) {
		t = e.ChangedAt
	}
	if e.lapsed(now) && e.Booking.HoldExpiresAt.After(t) {
		t = e.Booking.HoldExpiresAt
	}
	return t
}

// lapsed reports whether the entry is stored as a hold (or as awaiting its
// deposit) that has lapsed at now: Status shows it expired.
func (e FeedEntry) lapsed(now time.Time) bool {
	return e.Booking.Status.Pending() && !e.Booking.HoldLive(now)
}

// JobCount is how many background jobs of one kind are in one state.
type JobCount struct {
	Kind, State string
	N           int64
}

// JobProblem is a background job that failed at least once: retrying,
// given up (discarded) or cancelled. Error is its last error's text as the
// job stored it; the desk cleans it before showing it.
type JobProblem struct {
	ID          int64
	Kind        string
	Queue       string
	State       string
	Attempt     int
	MaxAttempts int
	Error       string
	At          time.Time // the last attempt, or when it was finalized
	Next        time.Time // the next attempt of a retrying job; zero otherwise
	BookingID   string    // the booking a calendar push is about; "" for other kinds
}
