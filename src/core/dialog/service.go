package dialog

import (
	"context"
	"strings"
)

// Service is the conversation as a channel sees it: one inbound event in, the
// replies out, the state kept by Conversations.
type Service struct {
	engine *Engine
	convs  Conversations
	// transcribe: the channels whose events keep what the client said, when
	// convs can (Transcripts), so that their pages can draw the conversation
	// again.
	transcribe map[string]bool
}

// NewService returns a Service.
func NewService(e *Engine, convs Conversations) *Service {
	return &Service{engine: e, convs: convs, transcribe: map[string]bool{}}
}

// Transcribe makes the events of channels keep what the client said, for
// Transcript (the web chat: its page is drawn again after a reload). Other
// channels keep no copy of what their clients type. Call before Handle.
func (s *Service) Transcribe(channels ...string) *Service {
	for _, c := range channels {
		s.transcribe[c] = true
	}
	return s
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
	replies, _, err := s.Answer(ctx, key, in)
	return replies, err
}

// Answer is Handle that also says the conversation's language after the step
// ("" for a replay, which runs no step, and for a shared chat): a page
// follows it with its own labels.
func (s *Service) Answer(ctx context.Context, key ChatKey, in Inbound) ([]Reply, string, error) {
	if in.Shared {
		if in.Kind != KindCommand && in.Kind != KindChoice {
			return nil, "", nil
		}
		return []Reply{s.engine.privateOnly(ctx, in)}, "", nil
	}
	if err := s.recordPaid(ctx, &in); err != nil {
		return nil, "", err
	}
	var lang string
	step := func(st State) (State, []Reply) {
		st, out := s.engine.Step(ctx, key, st, in)
		lang = st.Lang
		return st, out
	}
	if t, ok := s.convs.(Transcripts); ok && s.transcribe[key.Channel] {
		said := Said{Kind: in.Kind}
		switch in.Kind {
		case KindText:
			said.Text = in.Text
		case KindChoice:
			said.Choice = in.Choice
		}
		replies, err := t.RunSaid(ctx, key, in.ID, said, step)
		return replies, lang, err
	}
	replies, err := s.convs.Run(ctx, key, in.ID, step)
	return replies, lang, err
}

// transcriptEvents is how many of a conversation's last events Transcript
// reads back.
const transcriptEvents = 100

// Line is one message of a conversation read back: the client's (Client) or
// the bot's, with the choices still open (only on the bot's last message
// that has them).
type Line struct {
	Client  bool
	Text    string
	Choices []Choice
}

// Transcript is a conversation read back for a page drawn again.
type Transcript struct {
	Lang  string // the conversation's language; "" when there is no conversation
	Lines []Line // oldest first; none when nothing was said yet
}

// Transcript reads the conversation key back (its last events, a week at
// most), for a channel that Transcribe named: what the client typed or
// pressed (a press shows its button's label, read from the replies before
// it; commands show nothing) and every reply. Only the replies of the last
// event that had choices keep them, as the page shows them: older buttons
// are history.
func (s *Service) Transcript(ctx context.Context, key ChatKey) (Transcript, error) {
	t, ok := s.convs.(Transcripts)
	if !ok || !s.transcribe[key.Channel] {
		return Transcript{}, nil
	}
	lang, events, err := t.History(ctx, key, transcriptEvents)
	if err != nil {
		return Transcript{}, err
	}
	out := Transcript{Lang: lang}
	var before []Reply
	from, to := 0, 0 // the lines whose choices stay open: the last event's that had some
	for _, e := range events {
		if said := e.Said; said != nil {
			switch said.Kind {
			case KindText:
				if t := strings.TrimSpace(said.Text); t != "" && !strings.HasPrefix(t, "/") {
					out.Lines = append(out.Lines, Line{Client: true, Text: t})
				}
			case KindChoice:
				if l := labelOf(before, said.Choice); l != "" {
					out.Lines = append(out.Lines, Line{Client: true, Text: l})
				}
			}
		}
		first, open := len(out.Lines), false
		for _, r := range e.Replies {
			if r.KeyboardOnly {
				continue // the page has no contact button to take away
			}
			out.Lines = append(out.Lines, Line{Text: r.Text, Choices: r.Choices})
			open = open || len(r.Choices) > 0
		}
		if open {
			from, to = first, len(out.Lines)
		}
		before = e.Replies
	}
	for i := range out.Lines {
		if i < from || i >= to {
			out.Lines[i].Choices = nil
		}
	}
	return out, nil
}

// labelOf finds the label of choice id among replies, "" when none has it.
func labelOf(replies []Reply, id string) string {
	for _, r := range replies {
		for _, c := range r.Choices {
			if c.ID == id {
				return c.Label
			}
		}
	}
	return ""
}
