// Package whatsapp is the WhatsApp channel: it plugs the WhatsApp Business Cloud
// API (Meta's Graph API) into the channel-neutral message pipeline of
// core/messaging, as package telegram does for Telegram.
//
//   - Webhook answers Meta's verification (GET) and receives notifications
//     (POST): it checks the X-Hub-Signature-256 HMAC of the raw body, stores each
//     message in the inbox keyed by its wamid, records the client's last message
//     time (the 24-hour window) and the delivery statuses of sent messages, and
//     answers; nothing else happens in the request.
//   - Decoder turns a stored message into the conversation's event
//     (messaging.Decoder).
//   - Render lays a reply out within WhatsApp's limits (reply buttons, a list, or
//     numbered text); Transport sends it with Client, or, outside the 24-hour
//     window, the configured template, and says what an error code means for the
//     sender.
//   - Client is a small typed net/http client of the Graph API's messages endpoint.
//
// The package must never log or return in an error the access token, the app
// secret, a message text or a phone number (a wa_id is one): logs and errors
// carry wamids, error codes and a short hash of the chat (ChatTag) only.
package whatsapp

import (
	"crypto/sha256"
	"encoding/hex"
)

// Channel is the name the WhatsApp channel goes by in the inbox and outbox.
const Channel = "whatsapp"

// ChatTag is a short, stable hash of a chat id (a wa_id, which is a phone
// number) for logs: the same chat reads the same, the number cannot be read.
func ChatTag(chatID string) string {
	sum := sha256.Sum256([]byte("salonbook-chat:" + chatID))
	return hex.EncodeToString(sum[:4])
}
