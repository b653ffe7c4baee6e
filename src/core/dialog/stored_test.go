package dialog_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
)

// TestRememberedClientBooksUnderOlderRules: a chat remembers the name and
// number its client gave before names and numbers were checked as now (a
// name with a link in it, a number without its country code in a salon with
// no country). Its next booking takes them as they are: the hold is made,
// nothing is asked again. Before, Book refused the name (client.invalid_name)
// and the chat asked for it mid-booking.
func TestRememberedClientBooksUnderOlderRules(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	olga := &conv{name: "olga", hint: "en"}
	b.run(t, []*conv{olga}, []string{"text: hi"})
	_, err := pgtest.Pool(t).Exec(ctx, `UPDATE conversations SET state = state || '{"name": "Olga (olga.de)", "phone": "015123456789"}'
		WHERE salon_id = $1 AND chat_id = 'olga'`, b.salonID)
	require.NoError(t, err)
	out := b.run(t, []*conv{olga}, []string{"pick: #1", "pick: #1", "pick: #2", "pick: #3", "pick: #2"})
	require.Contains(t, out, "Shall I confirm the booking?")
	require.NotContains(t, out, "name")
	require.Equal(t, 1, b.live(t))
}
