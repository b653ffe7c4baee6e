package pipeline_test

import (
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
	"salonbook/src/core/messaging"
)

// TestEraseBlanksNoticesAndTheChat: "delete my data" leaves no name in the
// outbox. The staff notices about the erased client's bookings that were
// sent are blanked at once; the notice of the cancellation the erase made
// still goes to the master (it is marked, then blanked once sent); the
// chat's own messages are blanked the same way (sent ones now, one still
// to send once sent); a notice about another client is left as it was.
func TestEraseBlanksNoticesAndTheChat(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	setup := pgtest.Setup(b.salonID)
	setup.StaffChats = map[string]int64{"anna": 12345}
	_, err := b.store.Apply(ctx, setup)
	require.NoError(t, err)
	pool := pgtest.Pool(t)
	catalog, err := i18n.Load()
	require.NoError(t, err)
	salon, err := b.svc.Catalog(ctx, b.salonID)
	require.NoError(t, err)
	b.store.FollowChanges(pipeline.NewStaffNotices("telegram", dialog.StaffText(catalog, salon.Salon), slog.New(slog.DiscardHandler)).Record)

	mine := b.req("anna", b.at(3, 10, 0), "olga")
	mine.Source, mine.Client.Name, mine.Confirm = "telegram:77", "Olga Petrova", true
	olga, err := b.svc.Book(ctx, mine)
	require.NoError(t, err)
	theirs := b.req("anna", b.at(4, 10, 0), "petra")
	theirs.Source, theirs.Client.Name, theirs.Confirm = "telegram:78", "Petra Ivanova", true
	_, err = b.svc.Book(ctx, theirs)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE outbox SET sent_at = now() WHERE salon_id = $1`, b.salonID) // the notices went out
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO outbox (salon_id, channel, chat_id, body, sent_at)
		VALUES ($1, 'telegram', '77', '{"chat_id": "77", "reply": {"text": "Olga, you are booked"}}', now()),
		       ($1, 'telegram', '77', '{"chat_id": "77", "reply": {"text": "Anything else, Olga?"}}', NULL)`, b.salonID)
	require.NoError(t, err)
	_, err = b.svc.Cancel(ctx, b.salonID, olga.ID) // as the dialog does before it erases
	require.NoError(t, err)

	_, err = postgres.NewPrivacy(pool).Erase(ctx, dialog.ChatKey{SalonID: b.salonID, Channel: "telegram", ChatID: "77"}, 0, b.clock.T)
	require.NoError(t, err)
	bodies := func() []string {
		rows, err := pool.Query(ctx, `SELECT body::text FROM outbox WHERE salon_id = $1 ORDER BY id`, b.salonID)
		require.NoError(t, err)
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			out = append(out, s)
		}
		return out
	}
	got := bodies()
	require.Len(t, got, 5)
	require.Equal(t, `{"erased": true}`, got[0], "Olga's booking notice, sent")
	require.Contains(t, got[1], "Petra", "another client's notice stays")
	require.Equal(t, `{"erased": true}`, got[2], "the chat's message, sent")
	for _, i := range []int{3, 4} { // the chat's unsent message; the cancellation notice
		require.Contains(t, got[i], `"forget": true`)
	}
	require.Contains(t, got[4], "Booking cancelled. Master: Anna. Haircut, Wednesday, 3 March at 10:00, Olga.", "the master still hears of it")

	out := pipeline.NewOutbox(pool, b.salonID)
	due, err := out.Due(ctx, "telegram", 10, 10)
	require.NoError(t, err)
	require.Len(t, due, 2)
	for _, q := range due {
		require.NotNil(t, q.Outgoing.Reply, "still sent as queued")
		require.NoError(t, out.Done(ctx, q, ""))
	}
	got = bodies()
	for _, i := range []int{0, 2, 3, 4} {
		require.Equal(t, `{"erased": true}`, got[i], "row %d", i)
	}
	var o messaging.Outgoing
	require.NoError(t, json.Unmarshal([]byte(got[1]), &o))
	require.NotEmpty(t, o.Booking, "notices name their booking")
}

// TestTheErasingUpdateIsBlanked: the update whose step erased the chat's
// data (Handled.Forget) is blanked as it is marked handled; its chat's other
// updates are not touched here (the erase blanked those handled before).
func TestTheErasingUpdateIsBlanked(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	_, salonID := pgtest.Salon(t)
	in := pipeline.NewInbox(pool, salonID)
	require.NoError(t, in.Add(ctx, "tg", "u1", "9", []byte(`{"text": "Yes, delete", "from": {"first_name": "Olga"}}`), ""))
	require.NoError(t, in.Add(ctx, "tg", "u2", "9", []byte(`{"text": "hi again"}`), ""))
	for i, forget := range []bool{true, false} {
		found, err := in.Next(ctx, "tg", func(p messaging.Pending) (messaging.Handled, error) {
			return messaging.Handled{Forget: forget}, nil
		})
		require.NoError(t, err)
		require.True(t, found, "update %d", i)
	}
	rows, err := pool.Query(ctx, `SELECT payload FROM inbox WHERE salon_id = $1 ORDER BY id`, salonID)
	require.NoError(t, err)
	defer rows.Close()
	var payloads []string
	for rows.Next() {
		var p []byte
		require.NoError(t, rows.Scan(&p))
		payloads = append(payloads, string(p))
	}
	require.Equal(t, []string{"", `{"text": "hi again"}`}, payloads)
}
