package whatsapptest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// body is an outbound message as the fake reads it (its own types, so that a
// mistake in the adapter's types is not repeated here).
type body struct {
	MessagingProduct string `json:"messaging_product"`
	RecipientType    string `json:"recipient_type"`
	To               string `json:"to"`
	Type             string `json:"type"`
	Text             *struct {
		Body string `json:"body"`
	} `json:"text"`
	Interactive *struct {
		Type string `json:"type"`
		Body *struct {
			Text string `json:"text"`
		} `json:"body"`
		Action *struct {
			Buttons []struct {
				Type  string `json:"type"`
				Reply *struct {
					ID    string `json:"id"`
					Title string `json:"title"`
				} `json:"reply"`
			} `json:"buttons"`
			Button   string `json:"button"`
			Sections []struct {
				Title string `json:"title"`
				Rows  []struct {
					ID          string `json:"id"`
					Title       string `json:"title"`
					Description string `json:"description"`
				} `json:"rows"`
			} `json:"sections"`
		} `json:"action"`
	} `json:"interactive"`
	Template *struct {
		Name     string `json:"name"`
		Language *struct {
			Code string `json:"code"`
		} `json:"language"`
		Components []struct {
			Type       string `json:"type"`
			Parameters []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"parameters"`
		} `json:"components"`
	} `json:"template"`
}

// parse validates an outbound message against WhatsApp's limits. It returns
// the message, or Meta's error code (100: a field missing or unknown; 131009: a
// value out of bounds) with details.
func parse(raw []byte) (Sent, int, string) {
	var b body
	if err := json.Unmarshal(raw, &b); err != nil {
		return Sent{}, 100, "the body is not JSON"
	}
	if b.MessagingProduct != "whatsapp" {
		return Sent{}, 100, "messaging_product must be whatsapp"
	}
	if b.To == "" || strings.Trim(b.To, "+0123456789") != "" {
		return Sent{}, 100, "to must be a phone number"
	}
	m := Sent{To: b.To, Type: b.Type}
	bad := func(format string, args ...any) (Sent, int, string) {
		return Sent{}, 131009, fmt.Sprintf(format, args...)
	}
	switch b.Type {
	case "text":
		if b.Text == nil || strings.TrimSpace(b.Text.Body) == "" {
			return Sent{}, 100, "text.body is required"
		}
		if utf8Len(b.Text.Body) > 4096 {
			return bad("text.body is longer than 4096 characters")
		}
		m.Text = b.Text.Body
	case "interactive":
		ia := b.Interactive
		if ia == nil || ia.Body == nil || ia.Action == nil || strings.TrimSpace(ia.Body.Text) == "" {
			return Sent{}, 100, "interactive.body and interactive.action are required"
		}
		m.Text, m.Kind = ia.Body.Text, ia.Type
		switch ia.Type {
		case "button":
			if utf8Len(ia.Body.Text) > 1024 {
				return bad("body.text is longer than 1024 characters")
			}
			n := len(ia.Action.Buttons)
			if n < 1 || n > 3 {
				return bad("Buttons count is invalid: %d, must be 1 to 3", n)
			}
			titles, ids := map[string]bool{}, map[string]bool{}
			for _, bt := range ia.Action.Buttons {
				if bt.Type != "reply" || bt.Reply == nil {
					return Sent{}, 100, "a button must be of type reply with a reply object"
				}
				t, id := bt.Reply.Title, bt.Reply.ID
				switch {
				case utf8Len(t) < 1 || utf8Len(t) > 20:
					return bad("Button title length invalid. Min length: 1, Max length: 20")
				case len(id) < 1 || len(id) > 256:
					return bad("Button id length invalid. Min length: 1, Max length: 256")
				case titles[t]:
					return bad("Button title is not unique")
				case ids[id]:
					return bad("Button id is not unique")
				}
				titles[t], ids[id] = true, true
				m.Buttons = append(m.Buttons, Choice{ID: id, Title: t})
			}
		case "list":
			if utf8Len(ia.Body.Text) > 4096 {
				return bad("body.text is longer than 4096 characters")
			}
			if l := utf8Len(ia.Action.Button); l < 1 || l > 20 {
				return bad("Button label length invalid. Min length: 1, Max length: 20")
			}
			m.ListText = ia.Action.Button
			if len(ia.Action.Sections) < 1 || len(ia.Action.Sections) > 10 {
				return bad("Sections count is invalid")
			}
			ids := map[string]bool{}
			for _, sec := range ia.Action.Sections {
				if len(ia.Action.Sections) > 1 && (utf8Len(sec.Title) < 1 || utf8Len(sec.Title) > 24) {
					return bad("Section title length invalid. Min length: 1, Max length: 24")
				}
				if utf8Len(sec.Title) > 24 {
					return bad("Section title length invalid. Max length: 24")
				}
				for _, r := range sec.Rows {
					switch {
					case utf8Len(r.Title) < 1 || utf8Len(r.Title) > 24:
						return bad("Row title length invalid. Min length: 1, Max length: 24")
					case utf8Len(r.Description) > 72:
						return bad("Row description length invalid. Max length: 72")
					case len(r.ID) < 1 || len(r.ID) > 200:
						return bad("Row id length invalid. Min length: 1, Max length: 200")
					case ids[r.ID]:
						return bad("Row id is not unique")
					}
					ids[r.ID] = true
					m.Rows = append(m.Rows, Choice{ID: r.ID, Title: r.Title, Description: r.Description})
				}
			}
			if len(m.Rows) < 1 || len(m.Rows) > 10 {
				return bad("Total row count exceed max allowed count: 10")
			}
		default:
			return Sent{}, 100, "interactive.type must be button or list"
		}
	case "template":
		t := b.Template
		if t == nil || t.Name == "" || t.Language == nil || t.Language.Code == "" {
			return Sent{}, 100, "template.name and template.language.code are required"
		}
		m.Template, m.Language = t.Name, t.Language.Code
		for _, c := range t.Components {
			for _, p := range c.Parameters {
				if p.Type != "text" {
					return Sent{}, 100, "only text parameters are supported by the fake"
				}
				if strings.ContainsAny(p.Text, "\n\t") || strings.Contains(p.Text, "     ") {
					return Sent{}, 132018, "Param text cannot have new-line/tab characters or more than 4 consecutive spaces"
				}
				if strings.TrimSpace(p.Text) == "" {
					return Sent{}, 131008, "Required parameter is missing"
				}
				m.Params = append(m.Params, p.Text)
			}
		}
	default:
		return Sent{}, 100, "type must be text, interactive or template"
	}
	return m, 0, ""
}
