package whatsapp_test

import (
	"strings"
	"testing"

	"salonbook/src/adapters/whatsapp"
)

// FuzzDecode: any signed body is split and each message decoded without a
// panic; an error never quotes the body (its digits could be a phone number).
// Seeds: testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"contacts":[{"profile":{"name":"Anna"},"wa_id":"4915112345678"}],"messages":[{"from":"4915112345678","id":"wamid.X","timestamp":"1767261600","type":"text","text":{"body":"Hi"}}]}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		items, statuses, bad, err := whatsapp.Split(body)
		if err != nil {
			if len(items)+len(statuses)+bad != 0 {
				t.Fatal("an error with results")
			}
			if strings.Contains(err.Error(), "4915112345678") {
				t.Fatalf("error quotes the body: %v", err)
			}
			return
		}
		for _, it := range items {
			if it.WAMID == "" || it.From == "" {
				t.Fatal("an item without its keys")
			}
			d, err := whatsapp.Decoder{}.Decode(it.Payload)
			if err != nil {
				if strings.Contains(err.Error(), it.From) {
					t.Fatalf("error quotes the sender: %v", err)
				}
				continue
			}
			if d.Inbound.ID != "wa:"+it.WAMID {
				t.Fatalf("event id %q for wamid %q", d.Inbound.ID, it.WAMID)
			}
		}
		// The decoder also takes any stored bytes without a panic.
		_, _ = whatsapp.Decoder{}.Decode(body)
	})
}

// FuzzSignature: only the HMAC of these very bytes with this secret passes.
// Seeds: testdata/fuzz/FuzzSignature.
func FuzzSignature(f *testing.F) {
	f.Add([]byte("app-secret"), []byte(`{"object":"whatsapp_business_account"}`), "sha256=00")
	f.Fuzz(func(t *testing.T, secret, body []byte, header string) {
		good := whatsapp.Sign(secret, body)
		if len(secret) > 0 && !whatsapp.ValidSignature(secret, body, good) {
			t.Fatal("the right signature is refused")
		}
		if len(secret) == 0 && whatsapp.ValidSignature(secret, body, good) {
			t.Fatal("an empty secret signs something")
		}
		if header != good && strings.ToLower(header) != good && whatsapp.ValidSignature(secret, body, header) {
			t.Fatalf("a wrong signature %q passes", header)
		}
		if len(secret) > 0 && whatsapp.ValidSignature(secret, append(body, 'x'), good) {
			t.Fatal("a signature passes for other bytes")
		}
	})
}
