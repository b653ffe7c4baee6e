package dialog

import "context"

// Service is the conversation as a channel sees it: one inbound event in, the
// replies out, the state kept by Conversations.
type Service struct {
	engine *Engine
	convs  Conversations
}

// NewService returns a Service.
func NewService(e *Engine, convs Conversations) *Service {
	return &Service{engine: e, convs: convs}
}

// Handle runs one step of the conversation key. Events of one conversation run
// one at a time, in order; replaying an event id returns the replies it got the
// first time and changes nothing. A step's bookings use the event id as their
// idempotency key, so a step replayed after a crash cannot book twice.
//
// An event from a shared chat (a group) is never stored: a command or a button
// press there, aimed at the bot, gets one answer pointing to a private chat;
// anything else (members talking, a "member joined" without text) gets none.
//
// A deposit reported paid (KindPaid) is recorded first, on its own (the
// booking use case is idempotent per payment): an error there is returned, so
// the event is tried again rather than answered with an apology.
func (s *Service) Handle(ctx context.Context, key ChatKey, in Inbound) ([]Reply, error) {
	if in.Shared {
		if in.Kind != KindCommand && in.Kind != KindChoice {
			return nil, nil
		}
		return []Reply{s.engine.privateOnly(ctx, in)}, nil
	}
	if err := s.recordPaid(ctx, &in); err != nil {
		return nil, err
	}
	return s.convs.Run(ctx, key, in.ID, func(st State) (State, []Reply) {
		return s.engine.Step(ctx, key, st, in)
	})
}
