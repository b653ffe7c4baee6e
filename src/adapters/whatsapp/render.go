package whatsapp

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"salonbook/src/core/dialog"
)

// WhatsApp's limits on what we send, in characters (ids in bytes). Meta refuses
// a message beyond them (error 131009 or 100).
const (
	MaxButtons        = 3
	MaxButtonTitle    = 20
	MaxButtonID       = 256
	MaxButtonBody     = 1024
	MaxListButton     = 20
	MaxRows           = 10 // in all sections together
	MaxRowTitle       = 24
	MaxRowDescription = 72
	MaxRowID          = 200
	MaxListBody       = 4096
	MaxText           = 4096
)

// Message is a Cloud API message (the body of POST /{phone-number-id}/messages).
type Message struct {
	MessagingProduct string       `json:"messaging_product"` // always "whatsapp"
	RecipientType    string       `json:"recipient_type"`    // always "individual"
	To               string       `json:"to"`
	Type             string       `json:"type"` // text, interactive or template
	Text             *Text        `json:"text,omitempty"`
	Interactive      *Interactive `json:"interactive,omitempty"`
	Template         *Template    `json:"template,omitempty"`
}

// Text is a text message.
type Text struct {
	PreviewURL bool   `json:"preview_url"`
	Body       string `json:"body"`
}

// Interactive is a reply-button ("button") or list ("list") message.
type Interactive struct {
	Type   string   `json:"type"`
	Body   TextPart `json:"body"`
	Action Action   `json:"action"`
}

// TextPart is an interactive message's body.
type TextPart struct {
	Text string `json:"text"`
}

// Action holds the buttons, or the list's button label and sections.
type Action struct {
	Buttons  []Button  `json:"buttons,omitempty"`
	Button   string    `json:"button,omitempty"`
	Sections []Section `json:"sections,omitempty"`
}

// Button is one reply button.
type Button struct {
	Type  string      `json:"type"` // "reply"
	Reply ButtonReply `json:"reply"`
}

// ButtonReply is a reply button's id and title.
type ButtonReply struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Section is a list's section.
type Section struct {
	Title string `json:"title,omitempty"`
	Rows  []Row  `json:"rows"`
}

// Row is one row of a list.
type Row struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// Template is a template message: an approved template by name and language,
// with its body's parameters.
type Template struct {
	Name       string      `json:"name"`
	Language   Language    `json:"language"`
	Components []Component `json:"components,omitempty"`
}

// Language is a template's language code as approved ("en", "en_US").
type Language struct {
	Code string `json:"code"`
}

// Component is a template component with its parameters.
type Component struct {
	Type       string      `json:"type"` // "body"
	Parameters []Parameter `json:"parameters"`
}

// Parameter is one template parameter.
type Parameter struct {
	Type string `json:"type"` // "text"
	Text string `json:"text"`
}

// Labels are the words the rendering adds, in the chat's language.
type Labels struct {
	Choose     string // the list's button ("Choose")
	SharePhone string // the reply button standing for "share my phone number"
}

// Render lays reply r to wa_id to out within WhatsApp's limits:
//
//   - no choices: a text message;
//   - up to 3 choices (the "use this number" button counted, when r requests
//     the contact) whose titles are unique: reply buttons;
//   - up to 10 choices: a list, one section, one row per choice, under the
//     Choose button;
//   - more than 10 choices, or choices a button or row cannot carry (an id too
//     long, titles alike among buttons): numbered text, "1. …" per choice in
//     the reply's order, which the conversation reads back (a number picks the
//     n-th choice). The conversation pages its long lists itself ("More",
//     "Later days") so that a reply offers at most 10 choices; numbered text is
//     the guard, not the plan.
//
// Labels longer than a title are cut with "…" (the conversation keeps them to
// 20 characters, which fit). Texts too long for the message type are cut with
// "…" rather than refused.
func Render(to string, r dialog.Reply, l Labels) Message {
	m := Message{MessagingProduct: "whatsapp", RecipientType: "individual", To: to}
	choices := r.Choices
	if r.RequestContact && l.SharePhone != "" {
		choices = append(choices[:len(choices):len(choices)], dialog.Choice{ID: ContactChoiceID, Label: l.SharePhone})
	}
	body := strings.TrimSpace(r.Text)
	if body == "" {
		body = "…" // an interactive message needs a body
	}
	switch {
	case len(choices) == 0:
	case len(choices) <= MaxButtons && buttonsFit(choices):
		ia := &Interactive{Type: "button", Body: TextPart{Text: fit(body, MaxButtonBody)}}
		for _, c := range choices {
			ia.Action.Buttons = append(ia.Action.Buttons, Button{Type: "reply", Reply: ButtonReply{ID: c.ID, Title: fit(c.Label, MaxButtonTitle)}})
		}
		m.Type, m.Interactive = "interactive", ia
		return m
	case len(choices) <= MaxRows && rowsFit(choices):
		label := l.Choose
		if strings.TrimSpace(label) == "" {
			label = "Choose"
		}
		sec := Section{}
		for _, c := range choices {
			sec.Rows = append(sec.Rows, Row{ID: c.ID, Title: fit(c.Label, MaxRowTitle)})
		}
		m.Type = "interactive"
		m.Interactive = &Interactive{Type: "list", Body: TextPart{Text: fit(body, MaxListBody)},
			Action: Action{Button: fit(label, MaxListButton), Sections: []Section{sec}}}
		return m
	default:
		body = numbered(body, r.Choices)
	}
	m.Type, m.Text = "text", &Text{Body: fit(body, MaxText)}
	return m
}

// numbered appends the choices to text as a numbered list.
func numbered(text string, choices []dialog.Choice) string {
	var b strings.Builder
	b.WriteString(text)
	if len(choices) > 0 {
		b.WriteString("\n")
	}
	for i, c := range choices {
		fmt.Fprintf(&b, "\n%d. %s", i+1, c.Label)
	}
	return b.String()
}

// buttonsFit: every id 1..256 bytes, every title non-empty and, cut to 20
// characters, unique (Meta refuses two buttons alike).
func buttonsFit(choices []dialog.Choice) bool {
	seen := map[string]bool{}
	ids := map[string]bool{}
	for _, c := range choices {
		t := fit(c.Label, MaxButtonTitle)
		if c.ID == "" || len(c.ID) > MaxButtonID || strings.TrimSpace(t) == "" || seen[t] || ids[c.ID] {
			return false
		}
		seen[t], ids[c.ID] = true, true
	}
	return true
}

// rowsFit: every id 1..200 bytes and unique, every title non-empty.
func rowsFit(choices []dialog.Choice) bool {
	ids := map[string]bool{}
	for _, c := range choices {
		if c.ID == "" || len(c.ID) > MaxRowID || ids[c.ID] || strings.TrimSpace(c.Label) == "" {
			return false
		}
		ids[c.ID] = true
	}
	return true
}

// fit cuts s to n characters, ending it with "…" when cut.
func fit(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, k := 0, 0
	for j := range s {
		if k == n-1 {
			i = j
			break
		}
		k++
	}
	return s[:i] + "…"
}

// TemplateText flattens a reply into one template parameter: Meta refuses
// newlines, tabs and more than four spaces in a row in a parameter. The
// choices follow as numbered options, which the conversation reads back when
// the client answers with a number. At most max characters.
func TemplateText(r dialog.Reply, max int) string {
	s := numbered(strings.TrimSpace(r.Text), r.Choices)
	s = strings.Join(strings.FieldsFunc(s, func(c rune) bool { return c == '\n' || c == '\r' || c == '\t' }), " · ")
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		s = "…"
	}
	return fit(s, max)
}
