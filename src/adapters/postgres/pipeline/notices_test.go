package pipeline_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/core/messaging"
)

func TestStaffNotices(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	setup := pgtest.Setup(b.salonID)
	setup.StaffChats = map[string]int64{"anna": 12345}
	_, err := b.store.Apply(ctx, setup)
	require.NoError(t, err)
	pool := pgtest.Pool(t)
	b.svc.NotifyWith(pipeline.NewStaffNotices(pool, b.salonID, func(n pipeline.StaffNotice) string {
		from := ""
		if !n.From.IsZero() {
			from = " from " + n.From.In(b.zone).Format("15:04")
		}
		return fmt.Sprintf("%s %s %s %s%s", n.Kind, n.Service["en"], n.Client, n.Start.In(b.zone).Format("02 15:04"), from)
	}, slog.New(slog.DiscardHandler)))

	notices := func() []string {
		rows, err := pool.Query(ctx, `SELECT chat_id, body FROM outbox WHERE salon_id = $1 ORDER BY id`, b.salonID)
		require.NoError(t, err)
		defer rows.Close()
		var out []string
		for rows.Next() {
			var chat string
			var body []byte
			require.NoError(t, rows.Scan(&chat, &body))
			var o messaging.Outgoing
			require.NoError(t, json.Unmarshal(body, &o))
			require.Equal(t, "12345", chat)
			out = append(out, o.Reply.Text)
		}
		return out
	}

	held, err := b.svc.Book(ctx, b.req("anna", b.at(3, 10, 0), "n1"))
	require.NoError(t, err)
	require.Empty(t, notices(), "a hold is no booking yet")
	_, err = b.svc.Confirm(ctx, b.salonID, held.ID)
	require.NoError(t, err)
	_, err = b.svc.Reschedule(ctx, b.salonID, held.ID, b.at(3, 12, 0))
	require.NoError(t, err)
	_, err = b.svc.Cancel(ctx, b.salonID, held.ID)
	require.NoError(t, err)
	r := b.req("boris", b.at(3, 10, 0), "n2")
	r.Confirm = true
	_, err = b.svc.Book(ctx, r)
	require.NoError(t, err, "Boris has no chat: nothing is queued for him")
	r = b.req("anna", b.at(4, 10, 0), "n3")
	r.Client.Name = "Olga Petrova"
	r.Confirm = true
	_, err = b.svc.Book(ctx, r)
	require.NoError(t, err)
	require.Equal(t, []string{
		"booked Haircut Client 03 10:00",
		"moved Haircut Client 03 12:00 from 10:00",
		"cancelled Haircut Client 03 12:00",
		"booked Haircut Olga 04 10:00",
	}, notices())
}
