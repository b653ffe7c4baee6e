package postgres

import "context"

// The statements of the limits, for their plan test.
const (
	ExpireLapsedSQL  = expireLapsedSQL
	CountUpcomingSQL = countUpcomingSQL
	ExpireDueSQL     = expireDueSQL
	NextExpirySQL    = nextExpirySQL
)

// WaitingSQL is Waitlist.Waiting's statement, for its plan test.
const WaitingSQL = waitingSQL

// The wait-list statements of a booking change and an offer, for their plan test.
const (
	OfferLiveSQL      = offerLiveSQL
	AnsweredSQL       = answeredSQL
	AnsweredOffersSQL = answeredOffersSQL
	EndEntriesSQL     = endEntriesSQL
	NoShowsSQL        = noShowsSQL
)

// LockSetting is a setting of the matcher's lock connection ("" when it has none).
func (w *Waitlist) LockSetting(name string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lock == nil {
		return ""
	}
	var v string
	_ = w.lock.QueryRow(context.Background(), `SELECT current_setting($1)`, name).Scan(&v)
	return v
}
