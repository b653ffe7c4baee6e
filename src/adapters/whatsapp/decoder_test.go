package whatsapp_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/whatsapp"
	"salonbook/src/adapters/whatsapp/whatsapptest"
	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

// decodeOne splits a notification holding one message and decodes it.
func decodeOne(t *testing.T, body []byte) (dialog.Inbound, error) {
	t.Helper()
	items, _, bad, err := whatsapp.Split(body)
	require.NoError(t, err)
	require.Zero(t, bad)
	require.Len(t, items, 1)
	d, err := whatsapp.Decoder{}.Decode(items[0].Payload)
	return d.Inbound, err
}

func TestDecoder(t *testing.T) {
	t.Parallel()
	fake := whatsapptest.New(whatsapptest.Options{})
	cases := map[string]struct {
		body []byte
		want dialog.Inbound
	}{
		"Text": {fake.TextMessage(anna, "wamid.A", "Hi there"),
			dialog.Inbound{ID: "wa:wamid.A", Kind: dialog.KindText, Text: "Hi there", Name: "Anna"}},
		"ButtonReply": {fake.ButtonReply(anna, "wamid.B", "wamid.OUT", "ok", "Confirm"),
			dialog.Inbound{ID: "wa:wamid.B", Kind: dialog.KindChoice, Choice: "ok", Name: "Anna"}},
		"ListReply": {fake.ListReply(anna, "wamid.C", "wamid.OUT", "d:2026-11-25", "Wed 25 Nov"),
			dialog.Inbound{ID: "wa:wamid.C", Kind: dialog.KindChoice, Choice: "d:2026-11-25", Name: "Anna"}},
		"UseThisNumber": {fake.ButtonReply(anna, "wamid.D", "wamid.OUT", whatsapp.ContactChoiceID, "Use this number"),
			dialog.Inbound{ID: "wa:wamid.D", Kind: dialog.KindContact, Name: "Anna", Contact: &dialog.Contact{Name: "Anna", Phone: "+4915112345678", Own: true}}},
		"OwnCard": {fake.ContactsMessage(anna, "wamid.E", "Anna Berg", "+49 151 12345678", anna.WaID),
			dialog.Inbound{ID: "wa:wamid.E", Kind: dialog.KindContact, Name: "Anna", Contact: &dialog.Contact{Name: "Anna Berg", Phone: "+4915112345678", Own: true}}},
		"SomeoneElsesCard": {fake.ContactsMessage(anna, "wamid.F", "Boris", "+49 151 999", "49151999"),
			dialog.Inbound{ID: "wa:wamid.F", Kind: dialog.KindText, Name: "Anna"}},
	}
	for name, c := range cases {
		got, err := decodeOne(t, c.body)
		require.NoError(t, err, name)
		require.Equal(t, c.want, got, name)
	}

	// A message from a click-to-WhatsApp ad carries the click's id; others none.
	const clid = "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ2a"
	for body, want := range map[string]*messaging.AdClick{
		string(fake.AdMessage(anna, "wamid.AD", "Hi, I saw your ad", clid)): {ClickID: clid},
		string(fake.AdMessage(anna, "wamid.AE", "Hi", "not a click id!")):   nil,
		string(fake.TextMessage(anna, "wamid.AF", "Hi")):                    nil,
	} {
		items, _, _, err := whatsapp.Split([]byte(body))
		require.NoError(t, err)
		d, err := whatsapp.Decoder{}.Decode(items[0].Payload)
		require.NoError(t, err)
		require.Equal(t, want, d.Ad)
	}

	// The client's time comes along, for the flood guard: Meta's timestamp.
	items, _, _, err := whatsapp.Split(fake.TextMessage(anna, "wamid.T", "Hi"))
	require.NoError(t, err)
	d, err := whatsapp.Decoder{}.Decode(items[0].Payload)
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), d.Sent, 5*time.Second)

	// A reaction is not answered: a dead letter, its reason free of the number.
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
		"contacts":[{"profile":{"name":"Anna"},"wa_id":"4915112345678"}],
		"messages":[{"from":"4915112345678","id":"wamid.R","timestamp":"1767261600","type":"reaction","reaction":{"message_id":"wamid.OUT","emoji":"👍"}}]}}]}]}`)
	_, err = decodeOne(t, body)
	require.ErrorContains(t, err, "reaction")
	require.NotContains(t, err.Error(), "4915112345678")
}

func TestSplitStatusesAndBatches(t *testing.T) {
	t.Parallel()
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[
		{"field":"messages","value":{"contacts":[{"profile":{"name":"A"},"wa_id":"1"},{"profile":{"name":"B"},"wa_id":"2"}],
		 "messages":[{"from":"1","id":"wamid.1","timestamp":"1767261600","type":"text","text":{"body":"x"}},
		             {"from":"2","id":"wamid.2","timestamp":"1767261601","type":"text","text":{"body":"y"}}]}},
		{"field":"messages","value":{"statuses":[{"id":"wamid.9","status":"failed","timestamp":"1767261602","recipient_id":"1",
		 "errors":[{"code":131047,"title":"Re-engagement message"}]},{"id":"wamid.9","status":"deleted","timestamp":"1"}]}},
		{"field":"account_update","value":{}}]}]}`)
	items, statuses, bad, err := whatsapp.Split(body)
	require.NoError(t, err)
	require.Len(t, items, 2)
	require.Equal(t, "2", items[1].From)
	d, err := whatsapp.Decoder{}.Decode(items[1].Payload)
	require.NoError(t, err)
	require.Equal(t, "B", d.Inbound.Name, "each message gets its own sender's name")
	require.Equal(t, []whatsapp.Status{{WAMID: "wamid.9", Status: "failed", Chat: "1", At: items[0].At.Add(2e9), Code: 131047}}, statuses)
	require.Equal(t, 1, bad, "the unknown status is counted, so the body is kept")
	_, _, _, err = whatsapp.Split([]byte(`{"object":"whatsapp_business_account","entry":"4915112345678"}`))
	require.Error(t, err)
	require.False(t, strings.Contains(err.Error(), "4915112345678"), "errors never quote the body")
}
