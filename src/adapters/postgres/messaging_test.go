package postgres_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

func TestInbox(t *testing.T) {
	t.Parallel()

	t.Run("RedeliveryIsANoOpAndDeadLettersAreKept", func(t *testing.T) {
		t.Parallel()
		_, salonID := pgtest.Salon(t)
		pool := pgtest.Pool(t)
		in := postgres.NewInbox(pool, salonID)
		require.NoError(t, in.Add(ctx, "tg", "1", "42", []byte(`{"a":1}`), ""))
		require.NoError(t, in.Add(ctx, "tg", "1", "42", []byte(`{"a":1}`), ""))
		require.NoError(t, in.Add(ctx, "tg", "dead:x", "", []byte(`garbage`), "undecodable"))
		var n, dead int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*), count(dead) FROM inbox WHERE salon_id = $1`, salonID).Scan(&n, &dead))
		require.Equal(t, 2, n)
		require.Equal(t, 1, dead)
		calls := 0
		for {
			found, err := in.Next(ctx, "tg", func(p messaging.Pending) ([]messaging.Outgoing, string, error) {
				calls++
				return nil, "", nil
			})
			require.NoError(t, err)
			if !found {
				break
			}
		}
		require.Equal(t, 1, calls, "the dead letter is never handed out")
	})

	t.Run("OneChatInOrderManyChatsInParallel", func(t *testing.T) {
		t.Parallel()
		_, salonID := pgtest.Salon(t)
		in := postgres.NewInbox(pgtest.Pool(t), salonID)
		for i := range 60 {
			require.NoError(t, in.Add(ctx, "tg", fmt.Sprint(i), fmt.Sprint(i%3), []byte(fmt.Sprint(i)), ""))
		}
		var mu sync.Mutex
		seen := map[string][]string{}
		busy := map[string]bool{}
		overlaps := 0
		var errs []error
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				for {
					found, err := in.Next(ctx, "tg", func(p messaging.Pending) ([]messaging.Outgoing, string, error) {
						mu.Lock()
						if busy[p.ChatID] {
							overlaps++
						}
						busy[p.ChatID] = true
						mu.Unlock()
						time.Sleep(time.Millisecond)
						mu.Lock()
						busy[p.ChatID] = false
						seen[p.ChatID] = append(seen[p.ChatID], string(p.Payload))
						mu.Unlock()
						return []messaging.Outgoing{{ChatID: p.ChatID, Reply: &dialog.Reply{Text: "ok"}}}, "", nil
					})
					if err != nil || !found {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
						return
					}
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		require.Zero(t, overlaps, "two workers were in one chat at once")
		for chat, got := range seen {
			require.Len(t, got, 20)
			for i := 1; i < len(got); i++ {
				var a, b int
				fmt.Sscan(got[i-1], &a)
				fmt.Sscan(got[i], &b)
				require.Less(t, a, b, "chat %s out of order", chat)
			}
		}
	})

	t.Run("AFailedStepWritesNothingAndHoldsTheChat", func(t *testing.T) {
		t.Parallel()
		_, salonID := pgtest.Salon(t)
		pool := pgtest.Pool(t)
		in := postgres.NewInbox(pool, salonID)
		require.NoError(t, in.Add(ctx, "tg", "1", "9", []byte("first"), ""))
		require.NoError(t, in.Add(ctx, "tg", "2", "9", []byte("second"), ""))
		found, err := in.Next(ctx, "tg", func(p messaging.Pending) ([]messaging.Outgoing, string, error) {
			return []messaging.Outgoing{{ChatID: "9", Ack: "x"}}, "", errors.New("database hiccup")
		})
		require.True(t, found)
		require.Error(t, err)
		found, err = in.Next(ctx, "tg", func(p messaging.Pending) ([]messaging.Outgoing, string, error) {
			t.Fatalf("the chat's next update must wait behind the failed one, got %s", p.Payload)
			return nil, "", nil
		})
		require.NoError(t, err)
		require.False(t, found)
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE salon_id = $1`, salonID).Scan(&n))
		require.Zero(t, n)
	})

	t.Run("RecentAndPrevious", func(t *testing.T) {
		t.Parallel()
		_, salonID := pgtest.Salon(t)
		in := postgres.NewInbox(pgtest.Pool(t), salonID)
		for i := range 4 {
			require.NoError(t, in.Add(ctx, "tg", fmt.Sprint(i), "5", []byte(fmt.Sprint("u", i)), ""))
		}
		var recents []int
		var prevs []string
		for {
			found, err := in.Next(ctx, "tg", func(p messaging.Pending) ([]messaging.Outgoing, string, error) {
				recents = append(recents, p.Recent)
				if p.Previous != nil {
					prevs = append(prevs, string(p.Previous.Payload))
				}
				return nil, "", nil
			})
			require.NoError(t, err)
			if !found {
				break
			}
		}
		require.Equal(t, []int{0, 1, 2, 3}, recents)
		require.Equal(t, []string{"u0", "u1", "u2"}, prevs)
	})
}

func TestOutbox(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	in, out := postgres.NewInbox(pool, salonID), postgres.NewOutbox(pool, salonID)
	require.NoError(t, in.Add(ctx, "tg", "1", "A", []byte("x"), ""))
	require.NoError(t, in.Add(ctx, "tg", "2", "B", []byte("x"), ""))
	for range 2 {
		_, err := in.Next(ctx, "tg", func(p messaging.Pending) ([]messaging.Outgoing, string, error) {
			return []messaging.Outgoing{
				{ChatID: p.ChatID, Reply: &dialog.Reply{Text: "first " + p.ChatID}},
				{ChatID: p.ChatID, Reply: &dialog.Reply{Text: "second " + p.ChatID}},
				{ChatID: p.ChatID, Ack: "cb" + p.ChatID},
			}, "", nil
		})
		require.NoError(t, err)
	}
	due, err := out.Due(ctx, "tg", 10)
	require.NoError(t, err)
	var texts []string
	for _, q := range due {
		if q.Outgoing.Reply != nil {
			texts = append(texts, q.Outgoing.Reply.Text)
		} else {
			texts = append(texts, q.Outgoing.Ack)
		}
	}
	require.Equal(t, []string{"first A", "cbA", "first B", "cbB"}, texts,
		"per chat: the oldest message, and the oldest callback answer in a lane of its own")
	again, err := out.Due(ctx, "tg", 10)
	require.NoError(t, err)
	require.Empty(t, again, "leased messages are not handed out twice")

	require.NoError(t, out.Done(ctx, due[0], ""))
	require.NoError(t, out.Later(ctx, due[2], time.Now().Add(time.Hour), true))
	stale := due[1]
	stale.Lease = "someone-else"
	require.NoError(t, out.Done(ctx, stale, ""), "a late answer from an expired lease is ignored")
	next, err := out.Due(ctx, "tg", 10)
	require.NoError(t, err)
	require.Len(t, next, 1, "chat B's messages wait an hour; cbA is still leased; A's second message is next")
	require.Equal(t, "second A", next[0].Outgoing.Reply.Text)
	var attempts int
	require.NoError(t, pool.QueryRow(ctx, `SELECT attempts FROM outbox WHERE id = $1`, due[2].ID).Scan(&attempts))
	require.Equal(t, 1, attempts, "only failed sends count")

	require.NoError(t, out.Block(ctx, "tg", "A"))
	gone, err := out.Due(ctx, "tg", 10)
	require.NoError(t, err)
	require.Empty(t, gone, "nothing more goes to a chat that blocked the bot")
}

func TestPoisonUpdateBecomesADeadLetter(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	in := postgres.NewInbox(pool, salonID)
	require.NoError(t, in.Add(ctx, "tg", "1", "P", []byte("poison"), ""))
	require.NoError(t, in.Add(ctx, "tg", "2", "P", []byte("fine"), ""))
	for i := range postgres.MaxUpdateAttempts {
		_, err := in.Next(ctx, "tg", func(p messaging.Pending) ([]messaging.Outgoing, string, error) {
			require.Equal(t, i, p.Attempts)
			return nil, "", errors.New("corrupt state")
		})
		require.Error(t, err)
		_, err = pool.Exec(ctx, `UPDATE inbox SET retry_at = NULL WHERE salon_id = $1`, salonID) // skip the backoff
		require.NoError(t, err)
	}
	var handled []string
	for {
		found, err := in.Next(ctx, "tg", func(p messaging.Pending) ([]messaging.Outgoing, string, error) {
			handled = append(handled, string(p.Payload))
			return nil, "", nil
		})
		require.NoError(t, err)
		if !found {
			break
		}
	}
	require.Equal(t, []string{"fine"}, handled, "the chat goes on after the poison update is given up")
	var dead string
	require.NoError(t, pool.QueryRow(ctx, `SELECT dead FROM inbox WHERE salon_id = $1 AND update_id = '1'`, salonID).Scan(&dead))
	require.Contains(t, dead, "gave up")
}
