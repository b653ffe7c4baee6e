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
// secret, a message text, a phone number (a wa_id is one) or a wamid (Meta's
// wamids are base64 of bytes that embed the client's number): logs and errors
// carry error codes and keyed tags of chats and messages (ChatTag, MessageTag)
// only.
package whatsapp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// Channel is the name the WhatsApp channel goes by in the inbox and outbox.
const Channel = "whatsapp"

// TagKey derives the key of ChatTag and MessageTag from the app secret
// (WHATSAPP_APP_SECRET): the same secret gives the same tags across restarts
// and processes, and a tag reveals nothing of the secret. An empty secret gives
// a random key (tags then change with each process).
func TagKey(appSecret string) []byte {
	if appSecret == "" {
		key := make([]byte, sha256.Size)
		_, _ = rand.Read(key)
		return key
	}
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write([]byte("salonbook whatsapp log tags v1"))
	return mac.Sum(nil)
}

// ChatTag is a short keyed hash (HMAC-SHA256 with key, from TagKey) of a chat
// id for logs: the same chat reads the same, and without the key the number
// cannot be found by trying a country's numbers.
func ChatTag(key []byte, chatID string) string { return tag(key, "chat:", chatID) }

// MessageTag is ChatTag for a wamid, which embeds the client's number.
func MessageTag(key []byte, wamid string) string { return tag(key, "message:", wamid) }

func tag(key []byte, kind, id string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(kind))
	mac.Write([]byte(id))
	return hex.EncodeToString(mac.Sum(nil)[:6])
}
