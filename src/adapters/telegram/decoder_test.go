package telegram_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/telegram"
	"salonbook/src/adapters/telegram/telegramtest"
	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

var anna = telegramtest.User{ID: 111222333, FirstName: "Anna", LanguageCode: "de"}

// Hand-written updates, in the shape Telegram sends (field names and order of the
// Bot API; values made up).
const (
	ownContact = `{"update_id":500000003,"message":{"message_id":44,` +
		`"from":{"id":111222333,"is_bot":false,"first_name":"Anna","last_name":"Schmidt","language_code":"de"},` +
		`"chat":{"id":111222333,"first_name":"Anna","last_name":"Schmidt","type":"private"},"date":1767261610,` +
		`"contact":{"phone_number":"4915112345678","first_name":"Anna","last_name":"Schmidt","user_id":111222333}}}`
	foreignContact = `{"update_id":500000004,"message":{"message_id":45,` +
		`"from":{"id":111222333,"is_bot":false,"first_name":"Anna","language_code":"de"},` +
		`"chat":{"id":111222333,"first_name":"Anna","type":"private"},"date":1767261611,` +
		`"forward_origin":{"type":"hidden_user","date":1767261000,"sender_user_name":"Bob"},` +
		`"contact":{"phone_number":"+4917099887766","first_name":"Bob","user_id":999888777}}}`
	cardWithoutUser = `{"update_id":500000005,"message":{"message_id":46,` +
		`"from":{"id":111222333,"is_bot":false,"first_name":"Anna"},` +
		`"chat":{"id":111222333,"first_name":"Anna","type":"private"},"date":1767261612,` +
		`"contact":{"phone_number":"+4917099887766","first_name":"Carl"}}}`
	// The callback example of PROVIDERS.md A, verbatim.
	callbackExample = `{"update_id":500000002,"callback_query":{"id":"4382bfdwdsb323b2d9",
 "from":{"id":111222333,"is_bot":false,"first_name":"Anna","language_code":"de"},
 "message":{"message_id":43,"from":{"id":777000,"is_bot":true,"first_name":"SalonBot"},
   "chat":{"id":111222333,"type":"private"},"date":1767261605,"text":"Pick a time",
   "reply_markup":{"inline_keyboard":[[{"text":"10:00","callback_data":"slot:20260102T1000"}]]}},
 "chat_instance":"-8712345678901234567","data":"slot:20260102T1000"}}`
	// A button pressed on a message older than 48 hours: Telegram sends an
	// InaccessibleMessage, recognisable by its date 0.
	inaccessibleCallback = `{"update_id":500000006,"callback_query":{"id":"77","from":{"id":111222333,"is_bot":false,"first_name":"Anna"},` +
		`"message":{"chat":{"id":111222333,"type":"private"},"message_id":12,"date":0},"chat_instance":"-1","data":"menu"}}`
	// A button on an inline-mode message: no message at all.
	// A press on a group's message too old to show: the inaccessible message
	// still names its chat.
	inaccessibleGroupCallback = `{"update_id":500000012,"callback_query":{"id":"79","from":{"id":111222333,"is_bot":false,"first_name":"Anna"},` +
		`"message":{"chat":{"id":-4000000001,"title":"Salon group","type":"group"},"message_id":13,"date":0},"chat_instance":"-3","data":"mine"}}`
	inlineCallback = `{"update_id":500000007,"callback_query":{"id":"78","from":{"id":424242,"is_bot":false,"first_name":"Dora"},` +
		`"inline_message_id":"AAAAAA","chat_instance":"-2","data":"menu"}}`
	editedMessage = `{"update_id":500000008,"edited_message":{"message_id":47,` +
		`"from":{"id":111222333,"is_bot":false,"first_name":"Anna"},"chat":{"id":111222333,"type":"private"},` +
		`"date":1767261600,"edit_date":1767261700,"text":"my secret text"}}`
	myChatMember = `{"update_id":500000009,"my_chat_member":{"chat":{"id":111222333,"type":"private"},` +
		`"from":{"id":111222333,"is_bot":false,"first_name":"Anna"},"date":1767261700,` +
		`"old_chat_member":{"status":"member","user":{"id":7000000001,"is_bot":true,"first_name":"SalonBot"}},` +
		`"new_chat_member":{"status":"kicked","user":{"id":7000000001,"is_bot":true,"first_name":"SalonBot"},"until_date":0}}}`
	// A phone number where a string belongs: encoding/json's own error would
	// quote the number.
	numericPhone = `{"update_id":500000010,"message":{"message_id":48,"from":{"id":1,"is_bot":false,"first_name":"A"},` +
		`"chat":{"id":1,"type":"private"},"date":1767261600,"contact":{"phone_number":4915112345678,"first_name":"A","user_id":1}}}`
	numericText = `{"update_id":500000011,"message":{"message_id":49,"chat":{"id":1,"type":"private"},"date":1,"text":4915112345678}}`
)

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		decoder telegram.Decoder
		raw     string
		want    dialog.Inbound
		ack     string
		origin  string // the message pressed, which the answer may replace
	}{
		{
			name: "Text",
			raw:  string(telegramtest.TextUpdate(500000001, anna.ID, anna, "Hallo, ich bin Anna")),
			want: dialog.Inbound{ID: "tg:500000001", Kind: dialog.KindText, Text: "Hallo, ich bin Anna", LangHint: "de", Name: "Anna"},
		},
		{
			name: "Start",
			raw:  string(telegramtest.CommandUpdate(2, anna.ID, anna, "start")),
			want: dialog.Inbound{ID: "tg:2", Kind: dialog.KindCommand, Text: "start", LangHint: "de", Name: "Anna"},
		},
		{
			name: "StartWithDeepLinkPayload",
			raw:  string(telegramtest.CommandUpdate(3, anna.ID, anna, "/start promo-42")),
			want: dialog.Inbound{ID: "tg:3", Kind: dialog.KindCommand, Text: "start", LangHint: "de", Name: "Anna"},
		},
		{
			name: "Cancel",
			raw:  string(telegramtest.CommandUpdate(4, anna.ID, anna, "cancel")),
			want: dialog.Inbound{ID: "tg:4", Kind: dialog.KindCommand, Text: "cancel", LangHint: "de", Name: "Anna"},
		},
		{
			name: "HelpAddressedToTheBot",
			raw:  string(telegramtest.CommandUpdate(5, anna.ID, anna, "/help@salonbook_bot")),
			want: dialog.Inbound{ID: "tg:5", Kind: dialog.KindCommand, Text: "help", LangHint: "de", Name: "Anna"},
		},
		{
			name:    "LanguageAddressedToThisBotByName",
			decoder: telegram.Decoder{BotUsername: "salonbook_bot"},
			raw:     string(telegramtest.CommandUpdate(6, anna.ID, anna, "/language@SalonBook_Bot")),
			want:    dialog.Inbound{ID: "tg:6", Kind: dialog.KindCommand, Text: "language", LangHint: "de", Name: "Anna"},
		},
		{
			name:    "CommandForAnotherBotIsText",
			decoder: telegram.Decoder{BotUsername: "salonbook_bot"},
			raw:     string(telegramtest.CommandUpdate(7, anna.ID, anna, "/start@other_bot")),
			want:    dialog.Inbound{ID: "tg:7", Kind: dialog.KindText, Text: "/start@other_bot", LangHint: "de", Name: "Anna"},
		},
		{
			name: "UnknownCommandIsText",
			raw:  string(telegramtest.CommandUpdate(8, anna.ID, anna, "/settings")),
			want: dialog.Inbound{ID: "tg:8", Kind: dialog.KindText, Text: "/settings", LangHint: "de", Name: "Anna"},
		},
		{
			name: "SlashInsideTextIsText",
			raw:  string(telegramtest.TextUpdate(9, anna.ID, anna, "10/11 please")),
			want: dialog.Inbound{ID: "tg:9", Kind: dialog.KindText, Text: "10/11 please", LangHint: "de", Name: "Anna"},
		},
		{
			name:   "Callback",
			raw:    string(telegramtest.CallbackUpdate(10, anna.ID, anna, 43, "cb-10", "t:1767348000")),
			want:   dialog.Inbound{ID: "tg:10", Kind: dialog.KindChoice, Choice: "t:1767348000", LangHint: "de", Name: "Anna"},
			ack:    "cb-10",
			origin: "43",
		},
		{
			name:   "CallbackAsDocumented",
			raw:    callbackExample,
			want:   dialog.Inbound{ID: "tg:500000002", Kind: dialog.KindChoice, Choice: "slot:20260102T1000", LangHint: "de", Name: "Anna"},
			ack:    "4382bfdwdsb323b2d9",
			origin: "43",
		},
		{
			name: "CallbackOnInaccessibleMessage",
			raw:  inaccessibleCallback,
			want: dialog.Inbound{ID: "tg:500000006", Kind: dialog.KindChoice, Choice: "menu", Name: "Anna"},
			ack:  "77",
		},
		{
			name: "CallbackOnInlineMessage",
			raw:  inlineCallback,
			want: dialog.Inbound{ID: "tg:500000007", Kind: dialog.KindChoice, Choice: "menu", Name: "Dora"},
			ack:  "78",
		},
		{
			name: "TextInAGroupIsShared",
			raw:  string(telegramtest.TextUpdate(11, -4000000001, anna, "Hallo")),
			want: dialog.Inbound{ID: "tg:11", Kind: dialog.KindText, Text: "Hallo", LangHint: "de", Name: "Anna", Shared: true},
		},
		{
			name: "CommandInASupergroupIsShared",
			raw:  string(telegramtest.CommandUpdate(12, -1000000000001, anna, "start")),
			want: dialog.Inbound{ID: "tg:12", Kind: dialog.KindCommand, Text: "start", LangHint: "de", Name: "Anna", Shared: true},
		},
		{
			name:   "CallbackInAGroupIsShared",
			raw:    string(telegramtest.CallbackUpdate(13, -4000000001, anna, 50, "cb-13", "mine")),
			want:   dialog.Inbound{ID: "tg:13", Kind: dialog.KindChoice, Choice: "mine", LangHint: "de", Name: "Anna", Shared: true},
			ack:    "cb-13",
			origin: "50",
		},
		{
			name: "CallbackOnInaccessibleGroupMessageIsShared",
			raw:  inaccessibleGroupCallback,
			want: dialog.Inbound{ID: "tg:500000012", Kind: dialog.KindChoice, Choice: "mine", Name: "Anna", Shared: true},
			ack:  "79",
		},
		{
			name: "OwnContact",
			raw:  ownContact,
			want: dialog.Inbound{
				ID: "tg:500000003", Kind: dialog.KindContact, LangHint: "de", Name: "Anna",
				Contact: &dialog.Contact{Name: "Anna Schmidt", Phone: "+4915112345678", Own: true},
			},
		},
		{
			name: "ForwardedContactIsEmptyText",
			raw:  foreignContact,
			want: dialog.Inbound{ID: "tg:500000004", Kind: dialog.KindText, LangHint: "de", Name: "Anna"},
		},
		{
			name: "ContactWithoutUserIsEmptyText",
			raw:  cardWithoutUser,
			want: dialog.Inbound{ID: "tg:500000005", Kind: dialog.KindText, Name: "Anna"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.decoder.Decode([]byte(tt.raw))
			if tt.name != "StartWithDeepLinkPayload" {
				require.Nil(t, got.Ad, "no ad click")
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got.Inbound)
			require.Equal(t, tt.ack, got.Ack)
			require.Equal(t, tt.origin, got.Origin, "only a press on an accessible message has one")
		})
	}
}

// TestDecodeSent: a message carries the client's time (the flood guard judges
// by it); a press has none of its own. Both carry their place in the chat.
func TestDecodeSent(t *testing.T) {
	t.Parallel()
	d, err := telegram.Decoder{}.Decode(telegramtest.TextUpdate(9, anna.ID, anna, "hi"))
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), d.Sent, 5*time.Second)
	require.Equal(t, time.UTC, d.Sent.Location())
	require.Equal(t, int64(9), d.Seq, "the message's place in the chat (the builder uses the update id)")
	d, err = telegram.Decoder{}.Decode(telegramtest.CallbackUpdate(10, anna.ID, anna, 77, "cb", "menu"))
	require.NoError(t, err)
	require.True(t, d.Sent.IsZero())
	require.Equal(t, int64(77), d.Seq, "a press stands where the pressed message does")
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, raw, want string
	}{
		{"Empty", "", "empty body"},
		{"Blank", " \n", "empty body"},
		{"Garbage", "my secret text", "not valid JSON"},
		{"Truncated", ownContact[:len(ownContact)-9], "not valid JSON"},
		{"Null", "null", "update_id missing"},
		{"Array", `[{"update_id":1}]`, "not an update object"},
		{"NoUpdateID", `{"message":{"message_id":1,"chat":{"id":1,"type":"private"},"date":1,"text":"my secret text"}}`, "update_id missing"},
		{"NegativeUpdateID", `{"update_id":-3,"message":{"message_id":1,"chat":{"id":1,"type":"private"},"date":1,"text":"hi"}}`, "update_id missing"},
		{"EditedMessage", editedMessage, "unsupported update (edited_message)"},
		{"MyChatMember", myChatMember, "unsupported update (my_chat_member)"},
		{"NothingAtAll", `{"update_id":12}`, "unsupported update (no message or callback_query)"},
		{"UnknownKey", `{"update_id":13,"my secret text":{}}`, "unsupported update (no message or callback_query)"},
		{"PhoneAsNumber", numericPhone, "wrong type at message.contact.phone_number"},
		{"TextAsNumber", numericText, "wrong type at message.text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := telegram.Decoder{}.Decode([]byte(tt.raw))
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
			for _, secret := range []string{"secret", "4915112345678", "+4917099887766", "Anna"} {
				require.NotContains(t, err.Error(), secret)
			}
		})
	}
}

func TestChatOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, raw, update, chat string
	}{
		{"Text", string(telegramtest.TextUpdate(21, anna.ID, anna, "hi")), "21", "111222333"},
		{"GroupText", string(telegramtest.TextUpdate(22, -1001234567890, anna, "hi")), "22", "-1001234567890"},
		{"Contact", ownContact, "500000003", "111222333"},
		{"Callback", string(telegramtest.CallbackUpdate(23, anna.ID, anna, 43, "cb", "menu")), "23", "111222333"},
		{"CallbackInGroup", string(telegramtest.CallbackUpdate(24, -42, anna, 43, "cb", "menu")), "24", "-42"},
		{"CallbackOnInaccessibleMessage", inaccessibleCallback, "500000006", "111222333"},
		{"CallbackOnInlineMessage", inlineCallback, "500000007", "424242"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			update, chat, err := telegram.ChatOf([]byte(tt.raw))
			require.NoError(t, err)
			require.Equal(t, tt.update, update)
			require.Equal(t, tt.chat, chat)
		})
	}

	for name, raw := range map[string]string{
		"Empty":         "",
		"Garbage":       "my secret text",
		"NoUpdateID":    `{"message":{"chat":{"id":1}}}`,
		"NoChat":        `{"update_id":25,"message":{"message_id":1,"date":1,"text":"my secret text"}}`,
		"EditedMessage": editedMessage,
		"MyChatMember":  myChatMember,
		"StringChatID":  `{"update_id":26,"message":{"chat":{"id":"my secret text"}}}`,
	} {
		t.Run("Rejects"+name, func(t *testing.T) {
			t.Parallel()
			update, chat, err := telegram.ChatOf([]byte(raw))
			require.Error(t, err)
			require.Empty(t, update)
			require.Empty(t, chat)
			require.NotContains(t, err.Error(), "secret")
		})
	}
}

// safeError is what every decoding error looks like: a fixed text, perhaps with
// a byte offset or a lowercase JSON field path, never a piece of the update.
var safeError = regexp.MustCompile(`^telegram: (decode update|read chat): [A-Za-z0-9_ .()-]+$`)

func FuzzDecode(f *testing.F) {
	for _, seed := range [][]byte{
		telegramtest.TextUpdate(1, anna.ID, anna, "Hallo"),
		telegramtest.CommandUpdate(2, anna.ID, anna, "/start@salonbook_bot promo"),
		telegramtest.CallbackUpdate(3, anna.ID, anna, 43, "cb", "t:1767348000"),
		[]byte(ownContact), []byte(foreignContact), []byte(cardWithoutUser), []byte(callbackExample),
		[]byte(inaccessibleCallback), []byte(inlineCallback), []byte(editedMessage), []byte(myChatMember),
		[]byte(numericPhone), []byte(""), []byte("null"), []byte("{}"), []byte(`{"update_id":1}`),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := telegram.Decoder{}.Decode(raw)
		update, chat, chatErr := telegram.ChatOf(raw)
		if chatErr != nil {
			require.Regexp(t, safeError, chatErr.Error())
		} else {
			require.NotEmpty(t, update)
			require.NotEqual(t, "0", chat)
		}
		if err != nil {
			require.Regexp(t, safeError, err.Error())
			return
		}
		in := d.Inbound
		require.True(t, strings.HasPrefix(in.ID, "tg:"), in.ID)
		if chatErr == nil {
			require.Equal(t, "tg:"+update, in.ID)
		}
		switch in.Kind {
		case dialog.KindText:
			require.Nil(t, in.Contact)
		case dialog.KindCommand:
			require.Contains(t, []string{"start", "cancel", "help", "language"}, in.Text)
		case dialog.KindContact:
			require.NotNil(t, in.Contact)
			require.NotEmpty(t, in.Contact.Phone)
		case dialog.KindChoice:
			// A callback query always has an id to answer, even an empty one.
			var u struct {
				CallbackQuery json.RawMessage `json:"callback_query"`
			}
			require.NoError(t, json.Unmarshal(raw, &u))
			require.NotEmpty(t, u.CallbackQuery)
		default:
			t.Fatalf("unknown kind %q", in.Kind)
		}
		if in.Kind != dialog.KindChoice {
			require.Empty(t, d.Ack)
		}
	})
}

// A deep link's start parameter (t.me/<bot>?start=<code>, GET /go/telegram's
// redirect) is an ad click's code; only one Telegram could send (1 to 64 of
// A-Z a-z 0-9 _ -), only with /start, only in a private chat.
func TestDecodeStartCode(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]string{
		"/start promo-42":                   "promo-42",
		"/start " + strings.Repeat("a", 64): strings.Repeat("a", 64),
		"/start " + strings.Repeat("a", 65): "",
		"/start a.b":                        "",
		"/start":                            "",
		"/help promo-42":                    "",
		"/start a b":                        "",
	} {
		d, err := telegram.Decoder{}.Decode(telegramtest.CommandUpdate(3, anna.ID, anna, text))
		require.NoError(t, err, text)
		if want == "" {
			require.Nil(t, d.Ad, text)
			continue
		}
		require.Equal(t, &messaging.AdClick{Code: want}, d.Ad, text)
	}
	d, err := telegram.Decoder{}.Decode(telegramtest.CommandUpdate(4, -1000000000001, anna, "/start promo-42"))
	require.NoError(t, err)
	require.Nil(t, d.Ad, "not from a group")
}
