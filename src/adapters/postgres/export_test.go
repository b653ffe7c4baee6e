package postgres

// The statements of the limits, for their plan test.
const (
	ExpireLapsedSQL  = expireLapsedSQL
	CountUpcomingSQL = countUpcomingSQL
	ExpireDueSQL     = expireDueSQL
	NextExpirySQL    = nextExpirySQL
)
