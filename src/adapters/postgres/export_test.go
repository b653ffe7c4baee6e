package postgres

// The statements of the limits, for their plan test.
const (
	ExpireLapsedSQL  = expireLapsedSQL
	CountUpcomingSQL = countUpcomingSQL
	ExpireDueSQL     = expireDueSQL
	NextExpirySQL    = nextExpirySQL
)

// WaitingSQL is Waitlist.Waiting's statement, for its plan test.
const WaitingSQL = waitingSQL
