package dialog

import (
	"context"
	"strings"
	"time"

	"salonbook/src/core"
	"salonbook/src/core/booking"
)

// Kind says what an inbound event carries.
type Kind string

// The inbound kinds.
const (
	KindText    Kind = "text"    // free text typed by the client
	KindChoice  Kind = "choice"  // a button or list row the client picked: Choice holds its id
	KindContact Kind = "contact" // a shared contact card: Contact holds it
	KindCommand Kind = "command" // start, cancel, help or language: Text holds the name
	KindPaid    Kind = "paid"    // a provider reports a deposit paid: Paid holds it
)

// The commands every step understands.
const (
	CommandStart    = "start"    // start over from the menu
	CommandCancel   = "cancel"   // drop the current flow, back to the menu
	CommandHelp     = "help"     // what the bot can do
	CommandLanguage = "language" // choose the language
)

// Inbound is one event from a client, as any channel decodes it.
type Inbound struct {
	ID       string   // the channel's id of the event (update id, wamid, web message id): replaying it changes nothing
	Kind     Kind     //
	Text     string   // KindText: the text; KindCommand: the command name
	Choice   string   // KindChoice: the option id
	Contact  *Contact // KindContact
	LangHint string   // the channel's language tag for the client, e.g. "ru-RU"; may be empty
	Name     string   // the client's display name on the channel; may be empty
	// Shared marks an event from a chat several people share (a group): one
	// conversation there would show one member's bookings, name and phone to
	// all. Only private chats book; a shared one is answered and nothing stored.
	Shared bool
	Paid   *Paid // KindPaid

	paid *paidAnswer // what Service.Handle made of Paid before the step
}

// Paid is a deposit a payment provider reports paid (KindPaid): the booking
// it was asked for and the provider's ids of the payment.
type Paid struct {
	BookingID string
	booking.Payment
}

// Contact is a shared contact card. Its phone is personal data: never logged.
type Contact struct {
	Name  string
	Phone string
	// Own: the channel vouches the number is the sender's own (Telegram: the
	// contact's user_id is the sender's; WhatsApp: the chat's own number).
	Own bool
}

// Reply is one message to the client.
type Reply struct {
	Text           string   `json:"text"`
	Choices        []Choice `json:"choices,omitempty"`
	RequestContact bool     `json:"request_contact,omitempty"` // offer a "share my phone number" button where the channel has one
	// RemoveKeyboard: the step before requested the contact and this one does
	// not: a channel whose contact button stays on the client's screen until
	// taken away (Telegram's reply keyboard) removes it with this reply. Set
	// on the first reply of such a step; derived from the stored step, so it
	// holds after a restart and on any replica.
	RemoveKeyboard bool `json:"remove_keyboard,omitempty"`
	// KeyboardOnly: this reply ("👍 Got it", RemoveKeyboard set, no choices)
	// exists only to take the contact button away, ahead of a reply that
	// cannot (it has choices or is an invoice: Telegram's inline keyboard and
	// the reply keyboard's removal do not fit on one message). It is a
	// message of its own in the outbox, sent in order before the next; a
	// channel without such a button drops it (messaging.Worker.ReplyKeyboard,
	// the web chat).
	KeyboardOnly bool `json:"keyboard_only,omitempty"`
	// Lang is the language of Text, set on the replies for which a channel
	// adds words of its own (RequestContact, RemoveKeyboard); "" elsewhere.
	Lang string `json:"lang,omitempty"`
	// NoEdit: send as a new message, never in place of the message whose button
	// was pressed (a reminder keeps its words and address when answered).
	NoEdit bool `json:"no_edit,omitempty"`
	// Invoice asks for a deposit in the chat itself, on a channel with
	// payments of its own (Telegram: an invoice message; Text is its
	// description); other channels show Text.
	Invoice *Invoice `json:"invoice,omitempty"`
	// Forget: the step erased the chat's personal data ("delete my data"):
	// the channel keeps no copy of the update it answers (the pipeline
	// blanks it with the step).
	Forget bool `json:"forget,omitempty"`
}

// Invoice is a deposit asked in the chat. The provider hands Payload back with
// the payment (pre-checkout and successful payment).
type Invoice struct {
	Payload  string `json:"payload"`  // InvoicePayload of the booking: what is paid for
	Title    string `json:"title"`    // at most 32 characters
	Label    string `json:"label"`    // the price line
	Amount   int64  `json:"amount"`   // minor units
	Currency string `json:"currency"` // ISO 4217
}

// InvoicePrefix starts an invoice's payload: "dep:<booking id>".
const InvoicePrefix = "dep:"

// InvoiceBooking returns the booking an invoice payload names, or "".
func InvoiceBooking(payload string) string {
	id, ok := strings.CutPrefix(payload, InvoicePrefix)
	if !ok {
		return ""
	}
	return id
}

// Choice is an option the client can pick. ID is at most 64 bytes and holds ids
// only, never state; Label is at most 20 characters so that it fits a WhatsApp
// button.
type Choice struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// Limits every channel can render.
const (
	MaxChoiceIDBytes   = 64
	MaxChoiceLabelRune = 20
)

// ChatKey names one conversation: a chat on a channel, in a salon.
type ChatKey struct {
	SalonID string
	Channel string // "web", "telegram", "whatsapp": a name, never interpreted here
	ChatID  string
}

// Conversations stores conversation state.
type Conversations interface {
	// Run loads the conversation under a lock that serialises its events, and
	// calls step with its state (the zero State for a new conversation). The new
	// state and the replies are stored together with eventID; when eventID was
	// handled before, Run returns the replies stored then and does not call step.
	Run(ctx context.Context, key ChatKey, eventID string, step func(State) (State, []Reply)) ([]Reply, error)
}

// Transcripts is a Conversations that can also keep what the client said with
// each event and read the conversation back: for a channel whose page draws
// the conversation again (the web chat after a reload or in a second tab).
type Transcripts interface {
	// RunSaid is Conversations.Run that stores said with the event.
	RunSaid(ctx context.Context, key ChatKey, eventID string, said Said, step func(State) (State, []Reply)) ([]Reply, error)
	// History returns the conversation's language and its last events, at
	// most limit, oldest first; no events (and "") when there is none.
	History(ctx context.Context, key ChatKey, limit int) (lang string, events []Event, err error)
}

// Said is what the client sent with an event, as kept for the transcript.
type Said struct {
	Kind   Kind   `json:"kind"`
	Text   string `json:"text,omitempty"`   // KindText: the text as typed
	Choice string `json:"choice,omitempty"` // KindChoice: the id (its label is read from the replies before)
}

// Event is one handled event read back: what was said (nil when it was not
// kept) and the replies.
type Event struct {
	Said    *Said
	Replies []Reply
}

// State is where a conversation stands. It is stored as JSON; fields are stable.
type State struct {
	Step string `json:"step,omitempty"`
	Lang string `json:"lang,omitempty"`
	// LangAuto: Lang was not chosen by the client (Language button or
	// command) but came from the channel's hint or from the script they type
	// in; typed sentences may change it (language.go).
	LangAuto bool      `json:"lang_auto,omitempty"`
	Updated  time.Time `json:"updated,omitempty"`

	// What the client is choosing in the current flow.
	Service   string    `json:"service,omitempty"`
	Master    string    `json:"master,omitempty"` // a master id or "any"
	Day       string    `json:"day,omitempty"`    // YYYY-MM-DD, local
	Start     time.Time `json:"start,omitempty"`
	Page      int       `json:"page,omitempty"`
	BookingID string    `json:"booking,omitempty"`  // the booking being looked at or moved
	Asked     int64     `json:"asked,omitempty"`    // stepAskCancel/stepAskMove: the start (unix) the question named; Yes is bound to it
	Hold      string    `json:"hold,omitempty"`     // a hold of this flow not yet confirmed: released whenever the flow ends
	NextDay   string    `json:"next_day,omitempty"` // YYYY-MM-DD: where "later days" continues
	Shown     []string  `json:"shown,omitempty"`    // the ids of the choices last shown, in order: a typed number picks from these
	Join      bool      `json:"join,omitempty"`     // the name and phone asked are for the wait-list of Day, not a hold
	typedState

	// The client, remembered after the first booking.
	ClientName string `json:"name,omitempty"`
	// NameTried is text typed at the name step and asked again as a filler
	// word ("hmm", "ok"): typed again, it is taken as the name ("Ok" is a
	// surname).
	NameTried   string `json:"name_tried,omitempty"`
	ClientPhone string `json:"phone,omitempty"`
	ClientID    int64  `json:"client,omitempty"`
	// PhoneVerified: the channel vouched that ClientPhone is the client's own
	// (a contact of their own shared on Telegram, WhatsApp's own number).
	PhoneVerified bool `json:"phone_ok,omitempty"`
	// Erase: "delete my data" was asked and waits for Yes (step stepErase).
	// Forget, set by the step that erased, tells the store to drop the
	// chat's conversation: its state, transcript and events, this step's
	// included (never stored).
	Forget bool `json:"-"`
}

// Privacy erases a chat's personal data ("delete my data").
type Privacy interface {
	// Upcoming lists, by start, the live bookings not ended at now that an
	// erase would leave for no one: the chat's own and every booking of a
	// client Erase would erase (a verified number's client is shared with
	// the number's other chats). The caller cancels them first.
	Upcoming(ctx context.Context, key ChatKey, clientID int64, now time.Time) ([]core.Booking, error)
	// Erase blanks the name and phone of the chat's clients (clientID, the one
	// its state names, and those of its bookings and wait-list entries; not
	// the salon's own record of a number the chat typed that has bookings
	// from elsewhere: Erased.Kept), deletes their wait-list entries, releases
	// their holds and takes the chat's id off their bookings, which stay as
	// anonymous rows; now is when. It also blanks what the channel kept of
	// the chat and the staff's notices about those bookings. EConflict
	// "privacy.live" when a confirmed booking Upcoming would list is there
	// (made meanwhile): nothing changed. The conversation's own state and
	// events are dropped by the store that runs the step (State.Forget).
	Erase(ctx context.Context, key ChatKey, clientID int64, now time.Time) (Erased, error)
}

// Erased is what an erase did.
type Erased struct {
	Clients int // clients erased
	// Kept counts the clients the chat named that were left alone: the
	// salon's own records of a number (booked through the API or the desk)
	// that also have bookings from elsewhere. The client is told to ask the
	// salon.
	Kept int
}

// Pushed reads what was sent to a chat outside its steps: a reminder, a
// wait-list offer. Their buttons come back as presses; a typed answer (a
// WhatsApp template has no buttons) is read against the newest one.
type Pushed interface {
	// Pushed returns the newest message queued to the chat after after and
	// sent (not waiting in the outbox, not given up: the chat blocked the bot,
	// or sending failed), or nil.
	Pushed(ctx context.Context, key ChatKey, after time.Time) (*Reply, error)
}

// WaitlistEntry asks to be told when a time frees up on a day.
type WaitlistEntry struct {
	ID        int64   // set by the store
	Key       ChatKey // where to send the offer
	ServiceID string
	MasterID  string // a master id or "any"
	Day       core.Date
	ClientID  int64       // 0 when the client is not known by id
	Client    core.Client // else the client by phone (normalised), created when new
	Lang      string
}

// Waitlist stores wait-list entries; the offers are made by the matcher
// (package waitlist) and answered here.
type Waitlist interface {
	// Join records e; joining twice for the same chat, service, master and day is
	// one entry.
	Join(ctx context.Context, e WaitlistEntry) error
	// Entries lists the chat's entries for from and later days, by day.
	Entries(ctx context.Context, key ChatKey, from core.Date) ([]WaitlistEntry, error)
	// Leave deletes the entry id if it is the chat's, and says whether it did.
	Leave(ctx context.Context, key ChatKey, id int64) (bool, error)
}
