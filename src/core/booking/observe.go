package booking

// Observer is told how the use cases end, for metrics (an adapter counts and
// times them; core neither reads the time for it nor knows the metrics).
// Start is called as a use case begins, with its name (an Op constant), and the
// func it returns once as it ends, with the use case's error (nil: it
// answered). Both must be quick and safe for concurrent use.
type Observer interface {
	Start(op string) func(err error)
}

// The use cases an Observer is told of.
const (
	OpSlots      = "slots" // a search for free times
	OpBook       = "book"  // a hold or a booking (a replay too)
	OpConfirm    = "confirm"
	OpCancel     = "cancel"
	OpReschedule = "reschedule"
	OpRelease    = "release" // a chat letting its hold go
	OpPaid       = "paid"    // a provider's report of a deposit paid
)

// Observe has o told of every use case from now on; call it before the
// Service is used (it is not synchronised). nil stops telling.
func (s *Service) Observe(o Observer) { s.observer = o }

// observed starts op with the observer, if any; the func it returns takes the
// use case's error by pointer, so that a deferred call sees the named result.
func (s *Service) observed(op string) func(*error) {
	if s.observer == nil {
		return func(*error) {}
	}
	end := s.observer.Start(op)
	return func(err *error) { end(*err) }
}

// Unobserved returns a copy of s that tells no Observer: for the service's own
// background work (the wait-list matcher's searches and holds), which the
// metrics must not count as clients' activity. Call it after the service is
// set up (Observe, RemindChats): the copy keeps the rest as it is then.
func (s *Service) Unobserved() *Service {
	c := *s
	c.observer = nil
	return &c
}
