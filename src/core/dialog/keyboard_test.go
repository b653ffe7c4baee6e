package dialog_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/core/dialog"
)

// TestReplyAfterPhoneRemovesKeyboard: the contact request and the first reply
// of the step after it carry what a channel needs to show and then take away
// a contact button (the language, RemoveKeyboard), read from the stored step.
func TestReplyAfterPhoneRemovesKeyboard(t *testing.T) {
	t.Parallel()
	toPhone := func(t *testing.T, b *bundle, c *conv) []dialog.Reply {
		t.Helper()
		b.run(t, []*conv{c}, []string{"text: привет", "pick: Записаться", "pick: Стрижка", "pick: Анна", "pick: #1", "pick: 10:30"})
		r := b.send(t, c, dialog.Inbound{Kind: dialog.KindText, Text: "Иван"})
		require.True(t, r[len(r)-1].RequestContact)
		return r
	}

	t.Run("PhoneTyped", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		c := &conv{name: "ivan", hint: "ru"}
		ask := toPhone(t, b, c)
		require.Equal(t, "ru", ask[len(ask)-1].Lang)
		require.False(t, ask[len(ask)-1].RemoveKeyboard)
		r := b.send(t, c, dialog.Inbound{Kind: dialog.KindText, Text: "+7 912 345 67 89"})
		// The hold's summary has buttons, which cannot carry the removal: a
		// reply of its own goes first (its own outbox message, its own send).
		require.Len(t, r, 2)
		require.Equal(t, dialog.Reply{Text: "👍 Принято", RemoveKeyboard: true, KeyboardOnly: true, Lang: "ru"}, r[0])
		require.NotEmpty(t, r[1].Choices, "the hold's summary")
		require.False(t, r[1].RemoveKeyboard)
		require.False(t, r[1].KeyboardOnly)
		next := b.send(t, c, dialog.Inbound{Kind: dialog.KindChoice, Choice: "other"})
		for _, r := range next {
			require.False(t, r.RemoveKeyboard, "only once")
			require.False(t, r.KeyboardOnly)
		}
	})

	t.Run("PhoneShared", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		c := &conv{name: "ivan", hint: "ru"}
		toPhone(t, b, c)
		r := b.send(t, c, dialog.Inbound{Kind: dialog.KindContact, Contact: &dialog.Contact{Phone: "+79123456789", Own: true}})
		require.True(t, r[0].RemoveKeyboard)
		require.True(t, r[0].KeyboardOnly)
		require.Empty(t, r[0].Choices)
	})

	t.Run("WrongPhoneAsksAgain", func(t *testing.T) {
		t.Parallel()
		b := newBundle(t)
		c := &conv{name: "ivan", hint: "ru"}
		toPhone(t, b, c)
		r := b.send(t, c, dialog.Inbound{Kind: dialog.KindText, Text: "не скажу"})
		for _, r := range r {
			require.False(t, r.RemoveKeyboard, "the button is offered again instead")
			require.False(t, r.KeyboardOnly)
		}
		require.True(t, r[len(r)-1].RequestContact)
	})
}
