package dialog_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core/dialog"
)

// Issue 14, items 4, 5 and 7: a conversation read back after a reload, a
// typed phone that attaches nothing, and "delete my data".

// privateBundle is a bundle whose salon is in Germany (numbers typed without
// +49 are German) with a privacy notice, and whose chats keep transcripts (as
// the web chat's do).
func privateBundle(t *testing.T) *bundle {
	t.Helper()
	b := newBundleWith(t, func(s *postgres.SalonSetup) {
		s.Salon.Country = "DE"
		s.Salon.PrivacyURL = "https://studio-anna.example/privacy"
	})
	b.chat.Transcribe("test")
	return b
}

// reload writes the conversation of c as a page drawn again reads it back.
func (b *bundle) reload(t *testing.T, out *strings.Builder, c *conv) {
	t.Helper()
	tr, err := b.chat.Transcript(ctx, dialog.ChatKey{SalonID: b.salonID, Channel: "test", ChatID: c.name})
	require.NoError(t, err)
	fmt.Fprintf(out, "-- %s reloads the page (language %s): the conversation read back\n", c.name, tr.Lang)
	var last []dialog.Reply
	for _, l := range tr.Lines {
		who := "bot"
		if l.Client {
			who = "client"
		}
		for i, line := range strings.Split(l.Text, "\n") {
			prefix := "   "
			if i == 0 {
				prefix = "  " + who + ":"
			}
			fmt.Fprintf(out, "%s %s\n", prefix, line)
		}
		if len(l.Choices) > 0 {
			var cs []string
			for _, ch := range l.Choices {
				cs = append(cs, fmt.Sprintf("[%s] %s", ch.ID, ch.Label))
			}
			fmt.Fprintf(out, "    %s\n", strings.Join(cs, " | "))
			last = append(last, dialog.Reply{Text: l.Text, Choices: l.Choices})
		}
	}
	fmt.Fprintf(out, "-- (the page sends nothing on load: no /start)\n")
	c.last = last // the buttons the page shows again are the ones pressed next
}

func TestReloadMidFlowContinues(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, hint, who, phone string
	}{
		{"reload_mid_flow_en", "en", "olga", "0151 23456789"},
		{"reload_mid_flow_ru", "ru", "ivan", "+7 912 345-67-89"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := privateBundle(t)
			cv := &conv{name: c.who, hint: c.hint}
			var out strings.Builder
			out.WriteString(b.run(t, []*conv{cv}, []string{"text: hi", "pick: #1", "pick: #1", "pick: #2", "pick: #1", "pick: #2",
				"text: " + strings.ToUpper(c.who[:1]) + c.who[1:], "text: " + c.phone}))
			require.Equal(t, 1, b.live(t), "a hold")
			b.reload(t, &out, cv)
			// The hold is still there, and the buttons read back confirm it.
			require.Equal(t, 1, b.live(t), "the reload released nothing")
			out.WriteString(b.run(t, []*conv{cv}, []string{"pick: #1"}))
			var status string
			require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT status FROM bookings WHERE salon_id = $1`, b.salonID).Scan(&status))
			require.Equal(t, "confirmed", status)
			b.reload(t, &out, cv)
			golden(t, c.name, stableIDs(out.String()))
		})
	}
}

// TestTypedPhoneAttachesNothing: a number typed in a chat is contact
// information. A second person typing the first one's number books in their
// own name, at the same time (two people sharing a phone), sees only their
// own bookings, and the first person's name stays.
func TestTypedPhoneAttachesNothing(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, hint, first, second, phone string
	}{
		{"typed_phone_of_another_en", "en", "olga", "petra", "+49 151 23456789"},
		{"typed_phone_of_another_ru", "ru", "ivan", "maria", "0151 2345 6789"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := privateBundle(t)
			first, second := &conv{name: c.first, hint: c.hint}, &conv{name: c.second, hint: c.hint}
			name := func(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
			got := b.run(t, []*conv{first, second}, []string{
				// The first books Anna on Tuesday at 12:00.
				c.first + " text: hi", c.first + " pick: #1", c.first + " pick: #1", c.first + " pick: #2", c.first + " pick: #2",
				c.first + " pick: 12:00", c.first + " text: " + name(c.first), c.first + " text: " + c.phone, c.first + " pick: #1",
				// The second types the first's number as their own, for Boris at
				// the same time: before, the number was the client, the
				// client was "in two places at once", and the bookings, the
				// name and the cap were the first person's.
				c.second + " text: hi", c.second + " pick: #1", c.second + " pick: #1", c.second + " pick: #3", c.second + " pick: #1",
				c.second + " pick: 12:00", c.second + " text: " + name(c.second), c.second + " text: " + c.phone, c.second + " pick: #1",
				c.second + " pick: #2", // My bookings: only the second's own
			})
			var out strings.Builder
			out.WriteString(got)
			rows, err := pgtest.Pool(t).Query(ctx, `SELECT c.name, c.phone, b.master_id, b.status FROM bookings b JOIN clients c USING (client_id)
				WHERE b.salon_id = $1 ORDER BY b.master_id`, b.salonID)
			require.NoError(t, err)
			defer rows.Close()
			var lines []string
			for rows.Next() {
				var n, p, m, s string
				require.NoError(t, rows.Scan(&n, &p, &m, &s))
				lines = append(lines, fmt.Sprintf("%s %s %s %s", m, s, n, p))
			}
			require.NoError(t, rows.Err())
			require.Equal(t, []string{
				"anna confirmed " + name(c.first) + " +4915123456789",
				"boris confirmed " + name(c.second) + " +4915123456789",
			}, lines, "two clients with one phone, each in their own name")
			fmt.Fprintf(&out, "-- bookings: %s\n", strings.Join(lines, "; "))
			golden(t, c.name, stableIDs(out.String()))
		})
	}
}

// TestDeleteMyData: typed in either language, "delete my data" asks first
// (No keeps everything); the button under Help asks too; Yes cancels the
// upcoming booking, erases the client's name and phone, the wait-list entry,
// the chat's id on its bookings and the conversation, and keeps the booking
// row for the salon's books.
func TestDeleteMyData(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, hint, who, phrase string
	}{
		{"delete_my_data_en", "en", "olga", "Delete my data!"},
		{"delete_my_data_ru", "ru", "ivan", "удалить мои данные"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := privateBundle(t)
			cv := &conv{name: c.who, hint: c.hint}
			var out strings.Builder
			defer func() {
				if t.Failed() {
					t.Logf("transcript:\n%s", out.String())
				}
			}()
			out.WriteString(b.run(t, []*conv{cv}, []string{"text: hi", "pick: #1", "pick: #1", "pick: #2", "pick: #3", "pick: #2",
				"text: " + strings.ToUpper(c.who[:1]) + c.who[1:], "text: +49 151 23456789", "pick: #1",
				"text: " + c.phrase, "pick: #2", // No: nothing goes
				"pick: #4", // Help, with its button
			}))
			require.Equal(t, 1, b.live(t))
			var clientID int64
			require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT client_id FROM bookings WHERE salon_id = $1`, b.salonID).Scan(&clientID))
			out.WriteString(b.run(t, []*conv{cv}, []string{"pick: #1", "pick: #1", "pick: #2"})) // Delete my data, Yes, My bookings
			var name, phone, identity, status, source string
			require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `
				SELECT c.name, c.phone, c.identity, b.status, b.source FROM bookings b JOIN clients c USING (client_id)
				WHERE b.salon_id = $1`, b.salonID).Scan(&name, &phone, &identity, &status, &source))
			require.Equal(t, []string{"", "", fmt.Sprintf("erased:%d", clientID), "cancelled", "erased"},
				[]string{name, phone, identity, status, source}, "the booking row stays, anonymous")
			var events int
			require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT count(*) FROM dialog_events WHERE salon_id = $1`, b.salonID).Scan(&events))
			require.Equal(t, 1, events, "the conversation is forgotten, the erasing event with it: only My bookings after")
			b.reload(t, &out, cv)
			golden(t, c.name, stableIDs(out.String()))
		})
	}
}
