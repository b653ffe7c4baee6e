package staff

import "time"

// Feed is a master's calendar feed as the desk lists it: its secret is never
// stored, only when and by whom the current one was made.
type Feed struct {
	MasterID  string
	CreatedAt time.Time
	CreatedBy string // the desk login, or "cli"
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
