package whatsapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// The webhook notification, as much of it as we read. Meta's shape:
// {"object":"whatsapp_business_account","entry":[{"id":…,"changes":[{"field":"messages",
// "value":{"metadata":{…},"contacts":[…],"messages":[…],"statuses":[…]}}]}]}.
type notification struct {
	Object string `json:"object"`
	Entry  []struct {
		Changes []struct {
			Field string `json:"field"`
			Value struct {
				Metadata struct {
					PhoneNumberID string `json:"phone_number_id"`
				} `json:"metadata"`
				Contacts []struct {
					Profile struct {
						Name string `json:"name"`
					} `json:"profile"`
					WaID string `json:"wa_id"`
				} `json:"contacts"`
				Messages []json.RawMessage `json:"messages"`
				Statuses []statusShape     `json:"statuses"`
			} `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

// messageHead is the part of a message the webhook reads to key it.
type messageHead struct {
	ID        string `json:"id"`
	From      string `json:"from"`
	Timestamp string `json:"timestamp"`
}

type statusShape struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	Timestamp   string `json:"timestamp"`
	RecipientID string `json:"recipient_id"`
	Errors      []struct {
		Code int `json:"code"`
	} `json:"errors"`
}

// stored is what the inbox keeps of one message: the message as Meta sent it
// and the sender's profile name from the notification's contacts.
type stored struct {
	Name    string          `json:"name,omitempty"`
	Message json.RawMessage `json:"message"`
}

// Item is one inbound message of a notification, ready for the inbox.
type Item struct {
	WAMID   string    // the message id: the inbox key
	From    string    // the sender's wa_id: the chat
	Number  string    // the business number's id it was sent to (value.metadata.phone_number_id)
	At      time.Time // when the client sent it (Meta's timestamp)
	Payload []byte    // what the inbox stores (see Decoder)
}

// Status is one delivery status of a notification.
type Status struct {
	WAMID  string // the sent message's id
	Number string // the business number's id it was sent from (value.metadata.phone_number_id)
	Status string // sent, delivered, read or failed
	Chat   string // the recipient's wa_id
	At     time.Time
	Code   int // the first error's code, for failed
}

// Statuses Meta reports that this package records.
var knownStatus = map[string]bool{"sent": true, "delivered": true, "read": true, "failed": true}

// maxIDBytes bounds a wamid or wa_id taken from a notification: real ones are
// well under 100 bytes; a longer one is not Meta's.
const maxIDBytes = 256

// Split reads a webhook notification into its messages and statuses. Messages
// without an id or a sender, statuses of unknown kinds and other fields' changes
// are left out; bad reports how many messages or statuses could not be read, so
// the caller can keep the body as a dead letter. An error means the body is not
// a notification at all. Errors never quote the body.
func Split(body []byte) (items []Item, statuses []Status, bad int, err error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil, 0, errors.New("whatsapp: read notification: empty body")
	}
	var n notification
	if err := json.Unmarshal(body, &n); err != nil {
		return nil, nil, 0, jsonError("read notification", err)
	}
	if n.Object != "whatsapp_business_account" {
		return nil, nil, 0, errors.New("whatsapp: read notification: not a whatsapp_business_account notification")
	}
	for _, e := range n.Entry {
		for _, c := range e.Changes {
			if c.Field != "messages" {
				continue
			}
			names := map[string]string{}
			for _, ct := range c.Value.Contacts {
				names[ct.WaID] = ct.Profile.Name
			}
			for _, raw := range c.Value.Messages {
				var h messageHead
				if json.Unmarshal(raw, &h) != nil || !validID(h.ID) || !validID(h.From) {
					bad++
					continue
				}
				payload, err := json.Marshal(stored{Name: names[h.From], Message: raw})
				if err != nil {
					bad++
					continue
				}
				items = append(items, Item{WAMID: h.ID, From: h.From, Number: c.Value.Metadata.PhoneNumberID, At: unixTime(h.Timestamp), Payload: payload})
			}
			for _, s := range c.Value.Statuses {
				if !validID(s.ID) || !knownStatus[s.Status] {
					bad++
					continue
				}
				st := Status{WAMID: s.ID, Number: c.Value.Metadata.PhoneNumberID, Status: s.Status, Chat: s.RecipientID, At: unixTime(s.Timestamp)}
				if len(s.Errors) > 0 {
					st.Code = s.Errors[0].Code
				}
				statuses = append(statuses, st)
			}
		}
	}
	return items, statuses, bad, nil
}

func validID(s string) bool { return s != "" && len(s) <= maxIDBytes }

// unixTime reads Meta's timestamps (decimal Unix seconds); zero when unreadable.
func unixTime(s string) time.Time {
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil || sec <= 0 || sec > 1<<40 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

// jsonError describes a JSON decoding error without quoting the input:
// encoding/json's texts can quote part of it (a phone number, say).
func jsonError(op string, err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("whatsapp: %s: not valid JSON (at byte %d)", op, syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Errorf("whatsapp: %s: a field has the wrong type", op)
	default:
		return fmt.Errorf("whatsapp: %s: malformed", op)
	}
}
