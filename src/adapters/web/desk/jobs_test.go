package desk_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
)

// TestJobsPage: an owner sees the salon's river jobs counted by kind and
// state and the failed ones with their last error, cleaned of anything like
// an address or a phone number, never the stack trace; another salon's jobs
// are not there; a master is refused.
func TestJobsPage(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	pool := pgtest.Pool(t)
	queue := "desk_" + pgtest.RandomID() // no river client works this queue
	_, err := pool.Exec(ctx, `
		INSERT INTO river_job (state, kind, queue, max_attempts, attempt, args, errors, finalized_at, attempted_at, scheduled_at)
		VALUES
		  ('completed', 'calendar_push', $2, 25, 1, jsonb_build_object('salon_id', $1::text, 'booking_id', 'b-1'), NULL, now(), now(), now()),
		  ('completed', 'calendar_push', $2, 25, 1, jsonb_build_object('salon_id', $1::text, 'booking_id', 'b-2'), NULL, now(), now(), now()),
		  ('completed', 'calendar_push', $2, 25, 1, jsonb_build_object('salon_id', $1::text, 'booking_id', 'b-3'), NULL, now(), now(), now()),
		  ('retryable', 'calendar_push', $2, 25, 2, jsonb_build_object('salon_id', $1::text, 'booking_id', 'b-4'),
		   ARRAY[jsonb_build_object('at', now(), 'attempt', 1, 'error', 'first try', 'trace', 'goroutine 1 [running]'),
		         jsonb_build_object('at', now(), 'attempt', 2, 'error', 'calendar answered 403 rateLimitExceeded for anna@salon.example, client +49 151 2345678', 'trace', 'goroutine 7 [running]: secret/trace.go')],
		   NULL, now(), now() + interval '5 minutes'),
		  ('discarded', 'calendar_refresh', $2, 3, 3, jsonb_build_object('salon_id', $1::text),
		   ARRAY[jsonb_build_object('at', now(), 'attempt', 3, 'error', 'calendar unreachable: no answer in time', 'trace', '')],
		   now(), now(), now()),
		  ('retryable', 'calendar_push', $2, 25, 1, jsonb_build_object('salon_id', 'another-salon', 'booking_id', 'theirs'),
		   ARRAY[jsonb_build_object('at', now(), 'attempt', 1, 'error', 'another salon''s failure', 'trace', '')],
		   NULL, now(), now())`,
		b.salonID, queue)
	require.NoError(t, err)

	owner := b.browser(t)
	owner.login("olga")
	page := owner.get("/admin/jobs")
	require.Equal(t, http.StatusOK, page.status, page.body)
	// The counts: a row per state, a column per kind (calendar_push, calendar_refresh).
	require.Contains(t, page.body, `<th scope="col" class="num">calendar_push</th><th scope="col" class="num">calendar_refresh</th>`)
	cells := func(state string) []string {
		m := regexp.MustCompile(`(?s)<tr data-state="` + state + `">(.*?)</tr>`).FindStringSubmatch(page.body)
		require.NotNil(t, m, state)
		var out []string
		for _, c := range regexp.MustCompile(`<td class="num">([^<]*)</td>`).FindAllStringSubmatch(m[1], -1) {
			out = append(out, c[1])
		}
		return out
	}
	for state, want := range map[string][]string{
		"available": {"·", "·"}, "retryable": {"1", "·"}, "completed": {"3", "·"}, "discarded": {"·", "1"}, "cancelled": {"·", "·"},
	} {
		require.Equal(t, want, cells(state), state)
	}

	require.Contains(t, page.body, "booking b-4")
	require.Contains(t, page.body, "2 of 25")
	require.Contains(t, page.body, "calendar answered 403 rateLimitExceeded for [address], client [number]")
	require.Contains(t, page.body, "calendar unreachable: no answer in time")
	require.Contains(t, page.body, "3 of 3")
	for _, s := range []string{"anna@salon.example", "2345678", "goroutine", "trace.go", "first try", "another salon", "theirs"} {
		require.NotContains(t, page.body, s)
	}
	require.Equal(t, 2, strings.Count(page.body, `<li data-job="`))

	anna := b.browser(t)
	anna.login("anna")
	a := anna.get("/admin/jobs")
	require.Equal(t, http.StatusForbidden, a.status)
	require.NotContains(t, a.body, "calendar_push")
	require.NotContains(t, anna.get("/admin/day").body, `href="/admin/jobs"`)
}
