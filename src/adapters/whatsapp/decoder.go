package whatsapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

// ContactChoiceID is the id of the "use this number" reply button that stands
// for the "share my phone number" request (WhatsApp has no such button): its
// press comes from the client's own number, so it reads as their contact.
const ContactChoiceID = "wa.phone"

// Decoder reads the messages the Webhook stored for the message pipeline. The
// zero value is ready to use.
//
// A text becomes text (the conversation reads "/start" and the like itself); a
// reply button or list row becomes a choice (the "use this number" button, the
// client's own contact); a contact card becomes the client's contact when it is
// their own (one of its phones has the sender's wa_id), else text without
// words, as does media the conversation cannot use (it answers with a hint). A
// reaction, a system notice or an unsupported message is an error: kept as a
// dead letter, unanswered. A message sent from a click-to-WhatsApp ad carries
// the click's id (its referral's ctwa_clid: Decoded.Ad).
type Decoder struct{}

var _ messaging.Decoder = Decoder{}

// message is the part of an inbound message the decoder reads.
type message struct {
	ID        string `json:"id"`
	From      string `json:"from"`
	Timestamp string `json:"timestamp"`
	Type      string `json:"type"`
	Text      *struct {
		Body string `json:"body"`
	} `json:"text"`
	Interactive *struct {
		Type        string `json:"type"`
		ButtonReply *struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"button_reply"`
		ListReply *struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"list_reply"`
	} `json:"interactive"`
	Button *struct {
		Text    string `json:"text"`
		Payload string `json:"payload"`
	} `json:"button"` // a template's quick-reply button
	// Referral is what a click-to-WhatsApp ad adds to the message the client
	// sends from it (their first, as a rule): ctwa_clid is the click's id.
	Referral *struct {
		SourceType string `json:"source_type"`
		SourceID   string `json:"source_id"`
		CtwaClid   string `json:"ctwa_clid"`
	} `json:"referral"`
	Contacts []struct {
		Name struct {
			FormattedName string `json:"formatted_name"`
		} `json:"name"`
		Phones []struct {
			Phone string `json:"phone"`
			WaID  string `json:"wa_id"`
		} `json:"phones"`
	} `json:"contacts"`
}

// Decode reads one stored message. Its errors name what is wrong and never
// quote the message.
func (Decoder) Decode(raw []byte) (messaging.Decoded, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return messaging.Decoded{}, errors.New("whatsapp: decode message: empty")
	}
	var s stored
	if err := json.Unmarshal(raw, &s); err != nil {
		return messaging.Decoded{}, jsonError("decode message", err)
	}
	var m message
	if err := json.Unmarshal(s.Message, &m); err != nil {
		return messaging.Decoded{}, jsonError("decode message", err)
	}
	if !validID(m.ID) || !validID(m.From) {
		return messaging.Decoded{}, errors.New("whatsapp: decode message: id or from missing")
	}
	in := dialog.Inbound{ID: "wa:" + m.ID, Name: s.Name, Kind: dialog.KindText}
	switch m.Type {
	case "text":
		if m.Text != nil {
			in.Text = m.Text.Body
		}
	case "interactive":
		var id string
		switch {
		case m.Interactive != nil && m.Interactive.ButtonReply != nil:
			id = m.Interactive.ButtonReply.ID
		case m.Interactive != nil && m.Interactive.ListReply != nil:
			id = m.Interactive.ListReply.ID
		}
		switch {
		case id == "":
			return messaging.Decoded{}, errors.New("whatsapp: decode message: interactive reply without an id")
		case id == ContactChoiceID:
			in.Kind, in.Contact = dialog.KindContact, &dialog.Contact{Name: s.Name, Phone: "+" + m.From, Own: true}
		default:
			in.Kind, in.Choice = dialog.KindChoice, id
		}
	case "button":
		if m.Button != nil {
			in.Text = m.Button.Text
		}
	case "contacts":
		// Only the client's own card identifies them; someone else's is not
		// their phone, and reads as a message without text.
		for _, c := range m.Contacts {
			for _, p := range c.Phones {
				if p.WaID == m.From && strings.TrimSpace(p.Phone) != "" {
					in.Kind = dialog.KindContact
					// The chat's own number (wa_id), as Meta knows it: verified.
					in.Contact = &dialog.Contact{Name: c.Name.FormattedName, Phone: "+" + p.WaID, Own: true}
				}
			}
		}
	case "image", "audio", "video", "document", "sticker", "location":
		// No text: the step answers as it does to anything it cannot use.
	case "reaction", "system", "unsupported", "request_welcome", "order", "":
		return messaging.Decoded{}, fmt.Errorf("whatsapp: decode message: not answered (%s)", typeName(m.Type))
	default:
		return messaging.Decoded{}, errors.New("whatsapp: decode message: unknown type")
	}
	d := messaging.Decoded{Inbound: in, Sent: unixTime(m.Timestamp)}
	if r := m.Referral; r != nil && validClickID(r.CtwaClid) {
		d.Ad = &messaging.AdClick{ClickID: r.CtwaClid}
	}
	return d, nil
}

// validClickID reports whether id looks like a ctwa_clid (URL-safe
// characters, at most 500): anything else is not passed on to Meta.
func validClickID(id string) bool {
	if id == "" || len(id) > 500 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.~", r)) {
			return false
		}
	}
	return true
}

// typeName is t for the reason of a dead letter, from a fixed set only.
func typeName(t string) string {
	if t == "" {
		return "no type"
	}
	return t
}
