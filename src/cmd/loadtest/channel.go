package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"salonbook/src/cmd/internal/keepalive"
)

// channel is one chat platform as the harness drives it: its fake (started by
// newChannel), the server's settings for it, and what a client's messages and
// presses look like on it. Clients are numbered; the channel makes each one's
// identity on the platform from its number. Adding a channel is a type with
// these methods, a case in newChannel and its words in wordsOf.
type channel interface {
	name() string // the server's name for the channel (inbox.channel)
	// env is serve's environment for the fake (the harness adds the database,
	// the address and the salon); raised lifts the server's sending limits,
	// to measure the pipeline rather than the platform's limits.
	env(raised bool, workers int) map[string]string
	// hook points the fake's webhook at the server listening on addr.
	hook(addr string) error
	// deliver posts body to the server's webhook as the platform does and
	// returns the webhook's status.
	deliver(ctx context.Context, body []byte) (int, error)
	first(i int) update             // client i's first message (/start, "Hi")
	paced(i int) update             // the first message of the i-th paced chat (not a client)
	text(i int, text string) update // client i types text
	// press is client i pressing the choice id of m; false when m has no such choice.
	press(i int, m reply, id string) (update, bool)
	// phone is client i answering the question for its phone number in m.
	phone(i int, m reply) (update, bool)
	// latest is how many messages the bot has sent client i (edits included)
	// and the last of them.
	latest(i int) (int, reply)
	// sent is when each message (and edit) the fake accepted was sent, all
	// together and by chat.
	sent() (all []time.Time, perChat map[string][]time.Time)
	count(r *ltResult) // the fake's own counts: rate-limit refusals, edits, other refusals
	close()
}

// reply is a message the bot sent, as a client reads it.
type reply struct {
	text    string
	choices []string // the ids of its buttons and list rows
	msg     any      // the fake's own record, for press
}

// words name a channel's things in the report.
type words struct {
	first   string // the first messages of the burst
	updates string // what the platform delivers
	tooMany string // its rate-limit refusals
	raised  string // the fake and the sender with raised limits
	limited string // with the platform's limits
}

// newChannel returns the channel on its fake. WhatsApp's deliveries to the
// webhook keep conns connections (the clients in flight at once) for reuse;
// Telegram's are never more at once than the webhook's max_connections (40),
// fewer than telegramtest's client keeps.
func newChannel(name, limits string, conns int) (channel, error) {
	switch name {
	case "", "telegram":
		return newTelegram(limits)
	case "whatsapp":
		return newWhatsApp(limits, conns)
	}
	return nil, fmt.Errorf("loadtest: -channel must be telegram or whatsapp, not %q", name)
}

func wordsOf(channel string) words {
	if channel == "whatsapp" {
		return whatsAppWords
	}
	return telegramWords
}

// keepAlive returns a client like the fakes' own, with timeout, that keeps
// conns idle connections per host. The harness shares the machine with the
// server: connections opened and closed for requests beyond what a client
// keeps idle (the default transport 2, whatsapptest's 256; a converse run has
// 1,000 clients at once) cost CPU on both sides that a load run then measured.
func keepAlive(timeout time.Duration, conns int) *http.Client {
	return &http.Client{Timeout: timeout, Transport: keepalive.Transport(conns),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
