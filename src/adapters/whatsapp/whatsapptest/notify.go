package whatsapptest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"
)

// Client is a WhatsApp user of the fake.
type Client struct {
	WaID string // the phone number, digits only
	Name string // the profile name
}

// Sign is Meta's X-Hub-Signature-256 value of body with the fake's secret.
func (s *Server) Sign(body []byte) string {
	mac := hmac.New(sha256.New, []byte(s.opts.AppSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Deliver posts body to the webhook signed with the fake's secret and returns
// the webhook's status.
func (s *Server) Deliver(ctx context.Context, body []byte) (int, error) {
	return s.post(ctx, body, s.Sign(body))
}

// DeliverUnsigned posts body with the given signature header ("" for none).
func (s *Server) DeliverUnsigned(ctx context.Context, body []byte, signature string) (int, error) {
	return s.post(ctx, body, signature)
}

// SetInbound sets when the client last wrote (opens or ages the 24-hour window).
func (s *Server) SetInbound(waID string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inbound[waID] = at
}

// NewWAMID returns a fresh id of a message from waID, in Meta's form (it
// embeds waID).
func (s *Server) NewWAMID(waID string) string { return wamid(waID) }

// TextMessage is the notification of a text from c, as Meta sends it; it also
// opens c's window on the fake at the fake's now.
func (s *Server) TextMessage(c Client, wamid, text string) []byte {
	return s.message(c, wamid, map[string]any{"type": "text", "text": map[string]string{"body": text}})
}

// AdMessage is the notification of a text c sends from a click-to-WhatsApp
// ad: Meta adds the ad's referral, with the click's id (ctwa_clid).
func (s *Server) AdMessage(c Client, wamid, text, ctwaClid string) []byte {
	return s.message(c, wamid, map[string]any{"type": "text", "text": map[string]string{"body": text},
		"referral": map[string]string{"source_url": "https://fb.me/3cr4Wqqkx", "source_id": "120212345678901234",
			"source_type": "ad", "headline": "Book a haircut", "body": "20% off this week", "media_type": "image",
			"image_url": "https://scontent.xx.fbcdn.net/v/ad.jpg", "ctwa_clid": ctwaClid}})
}

// ButtonReply is the notification of c pressing the reply button id (title)
// of the message context.
func (s *Server) ButtonReply(c Client, wamid, context, id, title string) []byte {
	return s.message(c, wamid, map[string]any{"type": "interactive", "context": map[string]string{"from": "15550783881", "id": context},
		"interactive": map[string]any{"type": "button_reply", "button_reply": map[string]string{"id": id, "title": title}}})
}

// ListReply is the notification of c choosing the row id (title) of the list
// message context.
func (s *Server) ListReply(c Client, wamid, context, id, title string) []byte {
	return s.message(c, wamid, map[string]any{"type": "interactive", "context": map[string]string{"from": "15550783881", "id": context},
		"interactive": map[string]any{"type": "list_reply", "list_reply": map[string]string{"id": id, "title": title}}})
}

// ContactsMessage is the notification of c sharing a contact card with phone
// (wa_id waID: c's own card when it is c.WaID).
func (s *Server) ContactsMessage(c Client, wamid, name, phone, waID string) []byte {
	return s.message(c, wamid, map[string]any{"type": "contacts", "contacts": []map[string]any{{
		"name":   map[string]string{"formatted_name": name, "first_name": name},
		"phones": []map[string]string{{"phone": phone, "wa_id": waID, "type": "CELL"}},
	}}})
}

// Reply is the notification answering m as the client would: pressing the
// button or row with id.
func (s *Server) Reply(c Client, m Sent, id string) ([]byte, bool) {
	for _, b := range m.Buttons {
		if b.ID == id {
			return s.ButtonReply(c, s.NewWAMID(c.WaID), m.ID, b.ID, b.Title), true
		}
	}
	for _, r := range m.Rows {
		if r.ID == id {
			return s.ListReply(c, s.NewWAMID(c.WaID), m.ID, r.ID, r.Title), true
		}
	}
	return nil, false
}

func (s *Server) message(c Client, wamid string, fields map[string]any) []byte {
	now := s.opts.Now()
	s.SetInbound(c.WaID, now)
	msg := map[string]any{"from": c.WaID, "id": wamid, "timestamp": strconv.FormatInt(now.Unix(), 10)}
	for k, v := range fields {
		msg[k] = v
	}
	return s.envelope(map[string]any{
		"contacts": []map[string]any{{"profile": map[string]string{"name": c.Name}, "wa_id": c.WaID}},
		"messages": []any{msg},
	})
}

// StatusUpdate is the notification of a status of the sent message wamid to
// waID; code is the error code of a failed status (0: none).
func (s *Server) StatusUpdate(wamid, waID, status string, code int, at time.Time) []byte {
	st := map[string]any{"id": wamid, "status": status, "timestamp": strconv.FormatInt(at.Unix(), 10), "recipient_id": waID}
	if code != 0 {
		st["errors"] = []map[string]any{{"code": code, "title": "failed", "message": "failed",
			"error_data": map[string]string{"details": "see code"}}}
	}
	return s.envelope(map[string]any{"statuses": []any{st}})
}

func (s *Server) envelope(value map[string]any) []byte {
	value["messaging_product"] = "whatsapp"
	value["metadata"] = map[string]string{"display_phone_number": "15550783881", "phone_number_id": s.opts.PhoneNumberID}
	b, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{
		"id": "102290129340398", "changes": []any{map[string]any{"field": "messages", "value": value}}}}})
	return b
}
