package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

func TestInbox(t *testing.T) {
	t.Parallel()

	t.Run("RedeliveryIsANoOpAndDeadLettersAreKept", func(t *testing.T) {
		t.Parallel()
		_, salonID := pgtest.Salon(t)
		pool := pgtest.Pool(t)
		in := pipeline.NewInbox(pool, salonID)
		require.NoError(t, in.Add(ctx, "tg", "1", "42", []byte(`{"a":1}`), ""))
		require.NoError(t, in.Add(ctx, "tg", "1", "42", []byte(`{"a":1}`), ""))
		require.NoError(t, in.Add(ctx, "tg", "dead:x", "", []byte(`garbage`), "undecodable"))
		var n, dead int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*), count(dead) FROM inbox WHERE salon_id = $1`, salonID).Scan(&n, &dead))
		require.Equal(t, 2, n)
		require.Equal(t, 1, dead)
		calls := 0
		for {
			found, err := in.Next(ctx, "tg", func(p messaging.Pending) (messaging.Handled, error) {
				calls++
				return messaging.Handled{}, nil
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
		in := pipeline.NewInbox(pgtest.Pool(t), salonID)
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
					found, err := in.Next(ctx, "tg", func(p messaging.Pending) (messaging.Handled, error) {
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
						return messaging.Handled{Out: []messaging.Outgoing{{ChatID: p.ChatID, Reply: &dialog.Reply{Text: "ok"}}}}, nil
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
		in := pipeline.NewInbox(pool, salonID)
		require.NoError(t, in.Add(ctx, "tg", "1", "9", []byte("first"), ""))
		require.NoError(t, in.Add(ctx, "tg", "2", "9", []byte("second"), ""))
		found, err := in.Next(ctx, "tg", func(p messaging.Pending) (messaging.Handled, error) {
			return messaging.Handled{Out: []messaging.Outgoing{{ChatID: "9", Ack: "x"}}}, errors.New("database hiccup")
		})
		require.True(t, found)
		require.Error(t, err)
		found, err = in.Next(ctx, "tg", func(p messaging.Pending) (messaging.Handled, error) {
			t.Fatalf("the chat's next update must wait behind the failed one, got %s", p.Payload)
			return messaging.Handled{}, nil
		})
		require.NoError(t, err)
		require.False(t, found)
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE salon_id = $1`, salonID).Scan(&n))
		require.Zero(t, n)
	})

	t.Run("EarlierAndPrevious", func(t *testing.T) {
		t.Parallel()
		_, salonID := pgtest.Salon(t)
		in := pipeline.NewInbox(pgtest.Pool(t), salonID)
		for i := range 4 {
			require.NoError(t, in.Add(ctx, "tg", fmt.Sprint(i), "5", []byte(fmt.Sprint("u", i)), ""))
		}
		// Updates 0 and 2 carry the provider's time; 1 has none (a press).
		sent := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
		var earlier [][]time.Time
		var received []time.Time
		var prevs []string
		for i := 0; ; i++ {
			found, err := in.Next(ctx, "tg", func(p messaging.Pending) (messaging.Handled, error) {
				earlier = append(earlier, p.Earlier)
				received = append(received, p.Received)
				if p.Previous != nil {
					prevs = append(prevs, string(p.Previous.Payload))
				}
				if i%2 == 0 {
					return messaging.Handled{Sent: sent.Add(time.Duration(i) * time.Minute)}, nil
				}
				return messaging.Handled{}, nil
			})
			require.NoError(t, err)
			if !found {
				break
			}
		}
		require.Len(t, earlier, 4)
		require.Empty(t, earlier[0])
		require.Len(t, earlier[3], 3)
		require.True(t, earlier[3][0].Equal(sent.Add(2*time.Minute)), "newest first, by the provider's time")
		require.True(t, earlier[3][1].Equal(received[1]), "no provider's time: the time received")
		require.True(t, earlier[3][2].Equal(sent))
		require.Equal(t, []string{"u0", "u1", "u2"}, prevs)
	})
}

// TestInboxChats: the per-chat queue (inbox_chats) that Next serves chats from.
func TestInboxChats(t *testing.T) {
	t.Parallel()
	ok := func(messaging.Pending) (messaging.Handled, error) { return messaging.Handled{}, nil }

	t.Run("ABackingOffChatDoesNotHoldUpOthers", func(t *testing.T) {
		t.Parallel()
		_, salonID := pgtest.Salon(t)
		pool := pgtest.Pool(t)
		in := pipeline.NewInbox(pool, salonID)
		require.NoError(t, in.Add(ctx, "tg", "x0", "X", []byte("x0"), ""))
		found, err := in.Next(ctx, "tg", func(messaging.Pending) (messaging.Handled, error) {
			return messaging.Handled{}, errors.New("state unreadable")
		})
		require.True(t, found)
		require.Error(t, err)
		// Its backoff (1 s) held longer: on a loaded machine the rest of the
		// test can take more than a second.
		_, err = pool.Exec(ctx, `UPDATE inbox_chats SET retry_at = now() + interval '1 hour' WHERE salon_id = $1 AND chat_id = 'X'`, salonID)
		require.NoError(t, err)
		// A long backlog behind X's head, then other chats' updates.
		_, err = pool.Exec(ctx, `INSERT INTO inbox (salon_id, channel, update_id, chat_id, payload)
			SELECT $1, 'tg', 'x' || g, 'X', '\x00' FROM generate_series(1, 3000) g`, salonID)
		require.NoError(t, err)
		for i := range 20 {
			require.NoError(t, in.Add(ctx, "tg", fmt.Sprint("o", i), fmt.Sprint("O", i%5), []byte("o"), ""))
		}
		require.NoError(t, in.Repair(ctx, "tg")) // the backlog went in by SQL: give X its row back
		served := chatsOf(drain(t, in))
		require.Len(t, served, 20, "every other chat's update, none of X's while it backs off")
		require.NotContains(t, served, "X")
		var waiting int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM inbox_chats WHERE salon_id = $1`, salonID).Scan(&waiting))
		require.Equal(t, 1, waiting, "only X's row is left: a chat's row goes with its last update")
	})

	t.Run("UpdatesStoredWhileWorkersRunAreNeverStranded", func(t *testing.T) {
		t.Parallel()
		_, salonID := pgtest.Salon(t)
		pool := pgtest.Pool(t)
		in := pipeline.NewInbox(pool, salonID)
		gc := pipeline.NewGroupCommit(pool, salonID, pipeline.GroupCommitOptions{})
		_, err := in.Next(ctx, "tg", ok) // the start-up repair runs now, not during the race below
		require.NoError(t, err)
		// Writers store updates for many chats while workers keep handling
		// them: a chat's row is deleted and upserted again and again. A chat's
		// next update heals a stranded one, so it is each chat's last update
		// that a lost row would leave unhandled: Repair is not due for 30 s.
		const chats, perChat = 40, 4
		stop := make(chan struct{})
		var mu sync.Mutex
		handled := map[string][]int{}
		var workers sync.WaitGroup
		for range 4 {
			workers.Go(func() {
				for {
					found, err := in.Next(ctx, "tg", func(p messaging.Pending) (messaging.Handled, error) {
						var n int
						fmt.Sscan(string(p.Payload), &n)
						mu.Lock()
						handled[p.ChatID] = append(handled[p.ChatID], n)
						mu.Unlock()
						return messaging.Handled{}, nil
					})
					if err != nil {
						t.Error(err)
						return
					}
					if !found {
						select {
						case <-stop:
							return
						case <-time.After(time.Millisecond):
						}
					}
				}
			})
		}
		var writers sync.WaitGroup
		for c := range chats {
			writers.Go(func() {
				for i := range perChat {
					add := in.Add
					if i%2 == 1 {
						add = gc.Add
					}
					if err := add(ctx, "tg", fmt.Sprint(c, "-", i), fmt.Sprint("c", c), []byte(fmt.Sprint(i)), ""); err != nil {
						t.Error(err)
					}
				}
			})
		}
		writers.Wait()
		gc.Close()
		require.Eventually(t, func() bool {
			var left int
			require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM inbox WHERE salon_id = $1 AND handled_at IS NULL`, salonID).Scan(&left))
			return left == 0
		}, 15*time.Second, 20*time.Millisecond, "every update is handled without Repair")
		close(stop)
		workers.Wait()
		for c := range chats {
			got := handled[fmt.Sprint("c", c)]
			require.Len(t, got, perChat)
			for i := range got {
				require.Equal(t, i, got[i], "chat c%d in order", c)
			}
		}
		var rows int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM inbox_chats WHERE salon_id = $1`, salonID).Scan(&rows))
		require.Zero(t, rows, "no chat row outlives its updates")
	})

	t.Run("AnUpdateCommittedAsItsChatEmptiesKeepsTheChat", func(t *testing.T) {
		t.Parallel()
		// The interleaving a worker's delete of its chat's row must survive: a
		// writer upserts the row (storing the chat's next update) while the
		// worker handles the chat's last visible update, and commits only
		// after the worker's delete has begun, which waits for it.
		_, salonID := pgtest.Salon(t)
		pool := pgtest.Pool(t)
		in := pipeline.NewInbox(pool, salonID)
		require.NoError(t, in.Add(ctx, "tg", "1", "C", []byte("first"), ""))
		handling, release := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			_, err := in.Next(ctx, "tg", func(p messaging.Pending) (messaging.Handled, error) {
				close(handling)
				<-release
				return messaging.Handled{}, nil
			})
			done <- err
		}()
		<-handling
		tx, err := pool.Begin(ctx)
		require.NoError(t, err)
		defer tx.Rollback(ctx) //nolint:errcheck // a failed wait must not leave the writer holding its locks
		_, err = tx.Exec(ctx, pipeline.InsertInbox, salonID, []string{"tg"}, []string{"2"}, []string{"C"}, [][]byte{[]byte("second")}, []string{""}, nil)
		require.NoError(t, err)
		close(release)
		waitForLock(t, pool, "WITH gone AS (") // the worker's delete waits for the writer's row lock
		require.NoError(t, tx.Commit(ctx))
		require.NoError(t, <-done)
		require.Equal(t, []string{"second"}, payloadsOf(drain(t, in)), "the chat's row survived the worker's delete")
	})

	t.Run("AnUpdateWithALowerIdCommittedLaterKeepsTheChat", func(t *testing.T) {
		t.Parallel()
		// Two replicas store updates of chat C: A's batch takes the lower id but
		// commits after B's, while a worker handles B's. A's upsert of C's row
		// changes nothing a delete could test by id (last_id stays B's), so the
		// worker must see that a store came since it read the row (version).
		_, salonID := pgtest.Salon(t)
		pool := pgtest.Pool(t)
		in := pipeline.NewInbox(pool, salonID)
		_, err := in.Next(ctx, "tg", ok) // the start-up repair, out of the way
		require.NoError(t, err)
		// Hold A between taking its ids and upserting its chats: an uncommitted
		// row of chat "B" (A upserts chats in order, B before C).
		hold, err := pool.Begin(ctx)
		require.NoError(t, err)
		defer hold.Rollback(ctx) //nolint:errcheck
		_, err = hold.Exec(ctx, `INSERT INTO inbox_chats (salon_id, channel, chat_id, head_id, last_id) VALUES ($1, 'tg', 'B', 0, 0)`, salonID)
		require.NoError(t, err)
		aDone := make(chan error, 1)
		go func() {
			_, err := pool.Exec(ctx, pipeline.InsertInbox, salonID, []string{"tg", "tg"}, []string{"b1", "c1"}, []string{"B", "C"},
				[][]byte{[]byte("b1"), []byte("c1")}, []string{"", ""}, nil)
			aDone <- err
		}()
		waitForLock(t, pool, "WITH stored AS")
		require.NoError(t, in.Add(ctx, "tg", "c2", "C", []byte("c2"), "")) // replica B: a higher id, committed first
		handling, release := make(chan string, 1), make(chan struct{})
		stepDone := make(chan error, 1)
		go func() {
			_, err := in.Next(ctx, "tg", func(p messaging.Pending) (messaging.Handled, error) {
				handling <- string(p.Payload)
				<-release
				return messaging.Handled{}, nil
			})
			stepDone <- err
		}()
		require.Equal(t, "c2", <-handling, "c1 is not committed yet")
		require.NoError(t, hold.Rollback(ctx))
		require.NoError(t, <-aDone)
		close(release)
		require.NoError(t, <-stepDone)
		require.ElementsMatch(t, []string{"b1", "c1"}, payloadsOf(drain(t, in)), "c1 is handed out, not stranded until Repair")
	})

	t.Run("NextLooksPastAFullPageOfChats", func(t *testing.T) {
		t.Parallel()
		// More chats held by other workers than Next looks at a time, and
		// rows of chats with nothing waiting ahead of the rest: the next chat
		// that can be taken is still found.
		_, salonID := pgtest.Salon(t)
		pool := pgtest.Pool(t)
		in := pipeline.NewInbox(pool, salonID)
		_, err := in.Next(ctx, "tg", ok) // the start-up repair, out of the way
		require.NoError(t, err)
		_, err = pool.Exec(ctx, `INSERT INTO inbox_chats (salon_id, channel, chat_id, head_id, last_id)
			SELECT $1, 'tg', 'idle' || g, g, g FROM generate_series(1, 20) g`, salonID) // ahead of every real id
		require.NoError(t, err)
		for i := range 40 {
			require.NoError(t, in.Add(ctx, "tg", fmt.Sprint(i), fmt.Sprint("C", i), []byte(fmt.Sprint(i)), ""))
		}
		held, err := pool.Begin(ctx) // another worker's steps, holding the 36 oldest chats
		require.NoError(t, err)
		defer held.Rollback(ctx) //nolint:errcheck
		_, err = held.Exec(ctx, `SELECT id FROM inbox WHERE salon_id = $1 AND update_id::int < 36 FOR UPDATE`, salonID)
		require.NoError(t, err)
		require.Equal(t, []string{"36", "37", "38", "39"}, payloadsOf(drain(t, in)), "the chats no one holds, oldest first; the rest are held")
	})

	t.Run("RepairKeepsAChatWhoseUpdateCommitsWhileItDeletes", func(t *testing.T) {
		t.Parallel()
		// Repair's delete meets a chat row whose last_id names a handled
		// update while a writer, holding the row, stores an update with a
		// lower id (another replica's, committed late): last_id stays the
		// same, so only the version tells the delete that a store came.
		_, salonID := pgtest.Salon(t)
		pool := pgtest.Pool(t)
		in := pipeline.NewInbox(pool, salonID)
		_, err := in.Next(ctx, "tg", ok) // the start-up repair, out of the way
		require.NoError(t, err)
		require.NoError(t, in.Add(ctx, "tg", "a", "C", []byte("a"), ""))
		found, err := in.Next(ctx, "tg", ok)
		require.NoError(t, err)
		require.True(t, found)
		var handled int64
		require.NoError(t, pool.QueryRow(ctx, `SELECT id FROM inbox WHERE salon_id = $1 AND update_id = 'a'`, salonID).Scan(&handled))
		_, err = pool.Exec(ctx, `INSERT INTO inbox_chats (salon_id, channel, chat_id, head_id, last_id) VALUES ($1, 'tg', 'C', $2, $2)`, salonID, handled)
		require.NoError(t, err)
		w, err := pool.Begin(ctx)
		require.NoError(t, err)
		defer w.Rollback(ctx) //nolint:errcheck
		_, err = w.Exec(ctx, `INSERT INTO inbox (id, salon_id, channel, update_id, chat_id, payload) OVERRIDING SYSTEM VALUE
			VALUES ($2, $1, 'tg', 'b', 'C', 'b')`, salonID, -handled) // a lower id, as one taken earlier elsewhere
		require.NoError(t, err)
		_, err = w.Exec(ctx, `UPDATE inbox_chats SET last_id = greatest(last_id, $2), version = version + 1
			WHERE salon_id = $1 AND channel = 'tg' AND chat_id = 'C'`, salonID, -handled) // as insertInbox's upsert
		require.NoError(t, err)
		repaired := make(chan error, 1)
		go func() { repaired <- in.Repair(ctx, "tg") }()
		waitForLock(t, pool, "DELETE FROM inbox_chats WHERE salon_id = $1 AND channel = $2 AND chat_id = $3 AND version")
		require.NoError(t, w.Commit(ctx))
		require.NoError(t, <-repaired)
		require.Equal(t, []string{"b"}, payloadsOf(drain(t, in)), "the chat's row survived Repair")
	})

	t.Run("RepairAdoptsUpdatesWithoutAChatRow", func(t *testing.T) {
		t.Parallel()
		_, salonID := pgtest.Salon(t)
		pool := pgtest.Pool(t)
		// As a binary from before inbox_chats stored them, plus a row left over
		// for a chat with nothing waiting.
		_, err := pool.Exec(ctx, `INSERT INTO inbox (salon_id, channel, update_id, chat_id, payload) VALUES ($1, 'tg', '1', 'old', 'x')`, salonID)
		require.NoError(t, err)
		_, err = pool.Exec(ctx, `INSERT INTO inbox (salon_id, channel, update_id, chat_id, payload, handled_at) VALUES ($1, 'tg', '2', 'idle', 'x', now())`, salonID)
		require.NoError(t, err)
		_, err = pool.Exec(ctx, `INSERT INTO inbox_chats (salon_id, channel, chat_id, head_id, last_id)
			SELECT salon_id, channel, chat_id, id, id FROM inbox WHERE salon_id = $1 AND chat_id = 'idle'`, salonID)
		require.NoError(t, err)
		in := pipeline.NewInbox(pool, salonID)
		require.Equal(t, []string{"old"}, chatsOf(drain(t, in)))
		var rows int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM inbox_chats WHERE salon_id = $1`, salonID).Scan(&rows))
		require.Zero(t, rows)
	})
}

// drain has Next hand out every update of channel "tg" it can, handling each
// with no reply, and returns them in the order handed out.
func drain(t *testing.T, in *pipeline.Inbox) []messaging.Pending {
	t.Helper()
	var got []messaging.Pending
	for {
		found, err := in.Next(ctx, "tg", func(p messaging.Pending) (messaging.Handled, error) {
			got = append(got, p)
			return messaging.Handled{}, nil
		})
		require.NoError(t, err)
		if !found {
			return got
		}
	}
}

func payloadsOf(ps []messaging.Pending) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p.Payload)
	}
	return out
}

func chatsOf(ps []messaging.Pending) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ChatID
	}
	return out
}

// waitForLock waits until a statement of this database starting with query
// waits for a lock.
func waitForLock(t *testing.T, pool *pgxpool.Pool, query string) {
	t.Helper()
	require.Eventually(t, func() bool {
		var waiting int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'
			  AND ltrim(query, E' \t\n') LIKE $1 || '%'`, query).Scan(&waiting))
		return waiting > 0
	}, 5*time.Second, 5*time.Millisecond, "a statement %q waiting for a lock", query)
}

// BenchmarkInboxNextBehindBacklog: one step of a chat while another chat
// backs off with a backlog of n updates behind its head. Before inbox_chats a
// step walked the whole backlog (16,000: 0.4 s a step); now it stays flat.
func BenchmarkInboxNextBehindBacklog(b *testing.B) {
	for _, n := range []int{1000, 16000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			_, salonID := pgtest.Salon(b)
			pool := pgtest.Pool(b)
			in := pipeline.NewInbox(pool, salonID)
			require.NoError(b, in.Add(ctx, "tg", "x0", "X", []byte("x0"), ""))
			_, _ = in.Next(ctx, "tg", func(messaging.Pending) (messaging.Handled, error) {
				return messaging.Handled{}, errors.New("backing off")
			})
			_, err := pool.Exec(ctx, `INSERT INTO inbox (salon_id, channel, update_id, chat_id, payload)
				SELECT $1, 'tg', 'x' || g, 'X', '\x00' FROM generate_series(1, $2::int) g`, salonID, n)
			require.NoError(b, err)
			_, err = pool.Exec(ctx, `INSERT INTO inbox (salon_id, channel, update_id, chat_id, payload)
				SELECT $1, 'tg', 'o' || g, 'O' || (g % 100), '\x00' FROM generate_series(1, $2::int) g`, salonID, b.N)
			require.NoError(b, err)
			require.NoError(b, in.Repair(ctx, "tg"))
			b.ResetTimer()
			for range b.N {
				found, err := in.Next(ctx, "tg", func(messaging.Pending) (messaging.Handled, error) { return messaging.Handled{}, nil })
				if err != nil || !found {
					b.Fatal(found, err)
				}
			}
		})
	}
}

func TestOutbox(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	in, out := pipeline.NewInbox(pool, salonID), pipeline.NewOutbox(pool, salonID)
	require.NoError(t, in.Add(ctx, "tg", "1", "A", []byte("x"), ""))
	require.NoError(t, in.Add(ctx, "tg", "2", "B", []byte("x"), ""))
	for range 2 {
		_, err := in.Next(ctx, "tg", func(p messaging.Pending) (messaging.Handled, error) {
			return messaging.Handled{Out: []messaging.Outgoing{
				{ChatID: p.ChatID, Reply: &dialog.Reply{Text: "first " + p.ChatID}},
				{ChatID: p.ChatID, Reply: &dialog.Reply{Text: "second " + p.ChatID}},
				{ChatID: p.ChatID, Ack: "cb" + p.ChatID},
			}}, nil
		})
		require.NoError(t, err)
	}
	due, err := out.Due(ctx, "tg", 10, 10)
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
	again, err := out.Due(ctx, "tg", 10, 10)
	require.NoError(t, err)
	require.Empty(t, again, "leased messages are not handed out twice")

	require.NoError(t, out.Done(ctx, due[0], ""))
	require.NoError(t, out.Later(ctx, due[2], time.Now().Add(time.Hour), true))
	stale := due[1]
	stale.Lease = "someone-else"
	require.NoError(t, out.Done(ctx, stale, ""), "a late answer from an expired lease is ignored")
	next, err := out.Due(ctx, "tg", 10, 10)
	require.NoError(t, err)
	require.Len(t, next, 1, "chat B's messages wait an hour; cbA is still leased; A's second message is next")
	require.Equal(t, "second A", next[0].Outgoing.Reply.Text)
	var attempts int
	require.NoError(t, pool.QueryRow(ctx, `SELECT attempts FROM outbox WHERE id = $1`, due[2].ID).Scan(&attempts))
	require.Equal(t, 1, attempts, "only failed sends count")

	require.NoError(t, out.Block(ctx, next[0]))
	gone, err := out.Due(ctx, "tg", 10, 10)
	require.NoError(t, err)
	require.Empty(t, gone, "nothing more goes to a chat that blocked the bot")
}

// TestLateBlockSparesTheAnswerToANewerMessage: a 403 for a send started
// before the client unblocked the bot is recorded after the step answering
// their new message committed. It gives up only what was queued up to the
// message that met it, and marks the chat blocked only if no answer to a newer
// message of the chat was queued since: before, it failed that answer and
// marked the chat again, so nothing reached the client who had just written.
func TestLateBlockSparesTheAnswerToANewerMessage(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	in, out := pipeline.NewInbox(pool, salonID), pipeline.NewOutbox(pool, salonID)
	answer := func(update string) {
		require.NoError(t, in.Add(ctx, "tg", update, "U", []byte("x"), ""))
		found, err := in.Next(ctx, "tg", func(p messaging.Pending) (messaging.Handled, error) {
			return messaging.Handled{Out: []messaging.Outgoing{
				{ChatID: p.ChatID, Reply: &dialog.Reply{Text: "reply " + update}},
				{ChatID: p.ChatID, Reply: &dialog.Reply{Text: "more " + update}},
			}}, nil
		})
		require.NoError(t, err)
		require.True(t, found)
	}
	answer("1")
	inFlight, err := out.Due(ctx, "tg", 10, 10)
	require.NoError(t, err)
	require.Len(t, inFlight, 1)
	answer("2") // they unblocked the bot and wrote again
	require.NoError(t, out.Block(ctx, inFlight[0]), "the late 403 of the first reply")

	var texts []string
	require.NoError(t, pool.QueryRow(ctx, `SELECT coalesce(array_agg(body->'reply'->>'text' ORDER BY id), '{}') FROM outbox
		WHERE salon_id = $1 AND failed IS NULL AND sent_at IS NULL`, salonID).Scan(&texts))
	require.Equal(t, []string{"more 1", "reply 2", "more 2"}, texts, "only the message that met the 403 is given up")
	var marked bool
	require.NoError(t, pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM channel_chats WHERE salon_id = $1 AND chat_id = 'U' AND blocked_at IS NOT NULL)`,
		salonID).Scan(&marked))
	require.False(t, marked, "the chat that wrote since is not marked blocked")

	// A 403 with no newer message answered since: the chat is blocked.
	next, err := out.Due(ctx, "tg", 10, 10)
	require.NoError(t, err)
	require.Len(t, next, 1)
	require.Equal(t, "more 1", next[0].Outgoing.Reply.Text)
	require.NoError(t, out.Block(ctx, next[0]))
	require.NoError(t, pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM channel_chats WHERE salon_id = $1 AND chat_id = 'U' AND blocked_at IS NOT NULL)`,
		salonID).Scan(&marked))
	require.False(t, marked, "the answers to message 2 were queued after it: they meet the 403 themselves")
	last, err := out.Due(ctx, "tg", 10, 10)
	require.NoError(t, err)
	require.Len(t, last, 1)
	require.Equal(t, "reply 2", last[0].Outgoing.Reply.Text)
	require.NoError(t, out.Block(ctx, last[0]))
	require.NoError(t, pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM channel_chats WHERE salon_id = $1 AND chat_id = 'U' AND blocked_at IS NOT NULL)`,
		salonID).Scan(&marked))
	require.True(t, marked, "a 403 with no newer message answered marks the chat")
}

func TestPoisonUpdateBecomesADeadLetter(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	in := pipeline.NewInbox(pool, salonID)
	require.NoError(t, in.Add(ctx, "tg", "1", "P", []byte("poison"), ""))
	require.NoError(t, in.Add(ctx, "tg", "2", "P", []byte("fine"), ""))
	for i := range pipeline.MaxUpdateAttempts {
		_, err := in.Next(ctx, "tg", func(p messaging.Pending) (messaging.Handled, error) {
			require.Equal(t, i, p.Attempts)
			return messaging.Handled{}, errors.New("corrupt state")
		})
		require.Error(t, err)
		_, err = pool.Exec(ctx, `UPDATE inbox_chats SET retry_at = NULL WHERE salon_id = $1`, salonID) // skip the backoff
		require.NoError(t, err)
	}
	require.Equal(t, []string{"fine"}, payloadsOf(drain(t, in)), "the chat goes on after the poison update is given up")
	var dead string
	require.NoError(t, pool.QueryRow(ctx, `SELECT dead FROM inbox WHERE salon_id = $1 AND update_id = '1'`, salonID).Scan(&dead))
	require.Contains(t, dead, "gave up")
}

// TestOutboxAnswersHaveALimitOfTheirOwn: callback answers are taken while the
// sender can take no message (its overall limit has no room), whatever the
// messages queued before them.
func TestOutboxAnswersHaveALimitOfTheirOwn(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	in, out := pipeline.NewInbox(pool, salonID), pipeline.NewOutbox(pool, salonID)
	for i := range 5 {
		require.NoError(t, in.Add(ctx, "tg", fmt.Sprint(i), fmt.Sprint("chat", i), []byte("x"), ""))
	}
	for range 5 {
		_, err := in.Next(ctx, "tg", func(p messaging.Pending) (messaging.Handled, error) {
			out := []messaging.Outgoing{{ChatID: p.ChatID, Reply: &dialog.Reply{Text: "reply " + p.ChatID}}}
			if p.ChatID == "chat4" {
				out = append(out, messaging.Outgoing{ChatID: p.ChatID, Ack: "cb4"})
			}
			return messaging.Handled{Out: out}, nil
		})
		require.NoError(t, err)
	}
	due, err := out.Due(ctx, "tg", 8, 0)
	require.NoError(t, err)
	require.Len(t, due, 1, "no message, only the answer")
	require.Equal(t, "cb4", due[0].Outgoing.Ack)
	due, err = out.Due(ctx, "tg", 8, 2)
	require.NoError(t, err)
	require.Len(t, due, 2, "two messages, the oldest")
	require.Equal(t, "reply chat0", due[0].Outgoing.Reply.Text)
	require.Equal(t, "reply chat1", due[1].Outgoing.Reply.Text)
}

// TestOutboxUnbatchedWritesShareTheirSlots: the sends' own writes (Later,
// Block, a Done with a provider id) take one of SetConns slots, so 32 sends in
// flight never take more of the channel's pool than it keeps for them.
func TestOutboxUnbatchedWritesShareTheirSlots(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	in, out := pipeline.NewInbox(pool, salonID), pipeline.NewOutbox(pool, salonID)
	out.SetConns(1)
	require.NoError(t, in.Add(ctx, "tg", "1", "slots", []byte("x"), ""))
	_, err := in.Next(ctx, "tg", func(p messaging.Pending) (messaging.Handled, error) {
		return messaging.Handled{Out: []messaging.Outgoing{{ChatID: p.ChatID, Reply: &dialog.Reply{Text: "hi"}}}}, nil
	})
	require.NoError(t, err)
	due, err := out.Due(ctx, "tg", 10, 10)
	require.NoError(t, err)
	require.Len(t, due, 1)

	release, err := pipeline.TakeOutboxSlot(ctx, out)
	require.NoError(t, err)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, out.Later(short, due[0], time.Now().Add(time.Hour), false), context.DeadlineExceeded,
		"the only slot is taken: Later waits for it")
	withID := due[0]
	withID.ProviderID = "wamid.slots"
	short2, cancel2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel2()
	require.ErrorIs(t, out.Done(short2, withID, ""), context.DeadlineExceeded, "so does a Done with a provider id")
	release()
	require.NoError(t, out.Later(ctx, due[0], time.Now().Add(time.Hour), false), "the slot given back, Later goes on")
}
