package whatsapp_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/whatsapp"
	"salonbook/src/adapters/whatsapp/whatsapptest"
	"salonbook/src/core/dialog"
)

func choices(n int, label string) []dialog.Choice {
	var cs []dialog.Choice
	for i := range n {
		cs = append(cs, dialog.Choice{ID: fmt.Sprint("c", i), Label: fmt.Sprintf("%s %d", label, i+1)})
	}
	return cs
}

// TestRenderWithinLimits renders replies of every size and sends each to the
// fake, which refuses what Meta refuses.
func TestRenderWithinLimits(t *testing.T) {
	t.Parallel()
	fake, fakeURL := whatsapptest.Start(t, whatsapptest.Options{Limits: &whatsapptest.Limits{}})
	client := whatsapp.NewClient(whatsapp.ClientConfig{BaseURL: fakeURL, Version: "v21.0", PhoneNumberID: fake.PhoneNumberID(), Token: fake.Token()})
	fake.SetInbound(anna.WaID, time.Now())
	labels := whatsapp.Labels{Choose: "Choose", SharePhone: "Use this number"}
	long := strings.Repeat("x", 30)
	cases := []struct {
		name  string
		reply dialog.Reply
		typ   string // text, button or list
		n     int    // buttons or rows
	}{
		{"Text", dialog.Reply{Text: "Hello"}, "text", 0},
		{"ThreeButtons", dialog.Reply{Text: "Shall I book it?", Choices: choices(3, "Option")}, "button", 3},
		{"ContactButton", dialog.Reply{Text: "Your phone?", Choices: choices(1, "Cancel"), RequestContact: true}, "button", 2},
		{"FourIsAList", dialog.Reply{Text: "Which service?", Choices: choices(4, "Service")}, "list", 4},
		{"TenRows", dialog.Reply{Text: "Free times", Choices: choices(10, "Time")}, "list", 10},
		{"SameTitlesAList", dialog.Reply{Text: "Which?", Choices: []dialog.Choice{{ID: "a", Label: "Same"}, {ID: "b", Label: "Same"}}}, "list", 2},
		{"LongLabelsCut", dialog.Reply{Text: "Which?", Choices: []dialog.Choice{{ID: "a", Label: long + "a"}, {ID: "b", Label: long + "b"}}}, "list", 2},
		{"ElevenIsNumbered", dialog.Reply{Text: "Which master?", Choices: choices(11, "Master")}, "text", 0},
		{"LongIDNumbered", dialog.Reply{Text: "Which?", Choices: []dialog.Choice{{ID: strings.Repeat("i", 257), Label: "A"}}}, "text", 0},
	}
	for _, c := range cases {
		m := whatsapp.Render(anna.WaID, c.reply, labels)
		_, err := client.Send(context.Background(), m)
		require.NoError(t, err, c.name)
		sent := fake.Sent()
		got := sent[len(sent)-1]
		switch c.typ {
		case "text":
			require.Equal(t, "text", got.Type, c.name)
		case "button":
			require.Equal(t, "button", got.Kind, c.name)
			require.Len(t, got.Buttons, c.n, c.name)
		case "list":
			require.Equal(t, "list", got.Kind, c.name)
			require.Len(t, got.Rows, c.n, c.name)
		}
	}
	numbered := fake.Sent()[7].Text
	require.Contains(t, numbered, "\n1. Master 1\n")
	require.True(t, strings.HasSuffix(numbered, "\n11. Master 11"), "numbered in the reply's order: the n-th choice is number n")
	require.Equal(t, whatsapp.ContactChoiceID, fake.Sent()[2].Buttons[1].ID)

	// The fake refuses what Meta refuses: a 4th button, a 21-character title.
	bad := whatsapp.Render(anna.WaID, dialog.Reply{Text: "x", Choices: choices(3, "B")}, labels)
	bad.Interactive.Action.Buttons = append(bad.Interactive.Action.Buttons, whatsapp.Button{Type: "reply", Reply: whatsapp.ButtonReply{ID: "4", Title: "Four"}})
	_, err := client.Send(context.Background(), bad)
	require.Equal(t, &whatsapp.APIError{HTTPStatus: 400, Code: 131009, Type: "OAuthException"}, err)
	bad = whatsapp.Render(anna.WaID, dialog.Reply{Text: "x", Choices: choices(1, "B")}, labels)
	bad.Interactive.Action.Buttons[0].Reply.Title = strings.Repeat("t", 21)
	_, err = client.Send(context.Background(), bad)
	require.Equal(t, &whatsapp.APIError{HTTPStatus: 400, Code: 131009, Type: "OAuthException"}, err)
}

func TestTemplateText(t *testing.T) {
	t.Parallel()
	got := whatsapp.TemplateText(dialog.Reply{Text: "Reminder:\n\tHaircut     tomorrow 10:00", Choices: choices(2, "Opt")}, 900)
	require.Equal(t, "Reminder: · Haircut tomorrow 10:00 · 1. Opt 1 · 2. Opt 2", got)
	require.Equal(t, 20, len([]rune(whatsapp.TemplateText(dialog.Reply{Text: strings.Repeat("é", 50)}, 20))))
}
