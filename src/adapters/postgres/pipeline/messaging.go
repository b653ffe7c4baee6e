package pipeline

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/core/messaging"
)

var (
	_ messaging.Inbox  = (*Inbox)(nil)
	_ messaging.Outbox = (*Outbox)(nil)
)

// MaxUpdateAttempts is how many times an update whose step fails is tried before
// it becomes a dead letter (with backoff: about four minutes in all).
const MaxUpdateAttempts = 8

// Inbox is the inbox of one salon's chat channels.
type Inbox struct {
	pool     *pgxpool.Pool
	salonID  string
	repaired atomic.Int64 // when Repair last ran (Unix ns)
	// repairTimeout bounds one Repair: repairTimeout, shorter in tests.
	repairTimeout time.Duration
	// repairRead, when set (tests), runs between Repair's read of the idle
	// rows and their delete.
	repairRead func()
}

// NewInbox returns the inbox of salonID.
func NewInbox(pool *pgxpool.Pool, salonID string) *Inbox {
	return &Inbox{pool: pool, salonID: salonID, repairTimeout: repairTimeout}
}

// Add implements messaging.Inbox.
func (in *Inbox) Add(ctx context.Context, channel, updateID, chatID string, payload []byte, dead string) error {
	_, err := in.pool.Exec(ctx, insertInbox, in.salonID, []string{channel}, []string{updateID}, []string{chatID},
		[][]byte{payload}, []string{dead}, []*time.Time{nil})
	return mapErr(err, "add to inbox")
}

// AddInbound stores a client's message and its time as the chat's window, in
// one statement; see GroupCommit.AddInbound.
func (in *Inbox) AddInbound(ctx context.Context, channel, updateID, chatID string, payload []byte, at time.Time) error {
	_, err := in.pool.Exec(ctx, insertInbox, in.salonID, []string{channel}, []string{updateID}, []string{chatID},
		[][]byte{payload}, []string{""}, []*time.Time{&at})
	return mapErr(err, "add to inbox")
}

// insertInbox stores updates ($2..$6: arrays of channel, update id, chat id,
// payload, dead reason), in array order (ids order a chat's updates), skips
// redeliveries, and upserts the inbox_chats row of every chat given an update
// to handle, in one statement. The upsert raises last_id, which a worker's
// delete of the row rechecks (moveOnChat), with version, and takes the rows in chat order,
// so that two writers lock them in the same order. $7 holds, per update, the
// client's time to record as its chat's window (chat_windows, latest time
// kept; NULL: none), upserted in the same statement, also in chat order (one
// row per chat: a batch can hold several of a chat's messages).
const insertInbox = `
	WITH stored AS (
		INSERT INTO inbox (salon_id, channel, update_id, chat_id, payload, dead, handled_at)
		SELECT $1, u.channel, u.update_id, u.chat_id, u.payload, NULLIF(u.dead, ''),
		       CASE WHEN u.dead = '' THEN NULL ELSE now() END
		FROM unnest($2::text[], $3::text[], $4::text[], $5::bytea[], $6::text[])
		     WITH ORDINALITY AS u(channel, update_id, chat_id, payload, dead, ord)
		ORDER BY u.ord
		ON CONFLICT ON CONSTRAINT inbox_once DO NOTHING
		RETURNING channel, chat_id, id, handled_at
	), windows AS (
		INSERT INTO chat_windows (salon_id, channel, chat_id, last_inbound_at)
		SELECT $1, w.channel, w.chat_id, max(w.at)
		FROM unnest($2::text[], $4::text[], $7::timestamptz[]) AS w(channel, chat_id, at)
		WHERE w.at IS NOT NULL
		GROUP BY w.channel, w.chat_id ORDER BY w.channel, w.chat_id
		ON CONFLICT (salon_id, channel, chat_id) DO UPDATE
		SET last_inbound_at = GREATEST(chat_windows.last_inbound_at, EXCLUDED.last_inbound_at)
		WHERE chat_windows.last_inbound_at IS NULL OR chat_windows.last_inbound_at < EXCLUDED.last_inbound_at
	)
	INSERT INTO inbox_chats (salon_id, channel, chat_id, head_id, last_id)
	SELECT $1, channel, chat_id, min(id), max(id) FROM stored WHERE handled_at IS NULL
	GROUP BY channel, chat_id ORDER BY channel, chat_id
	ON CONFLICT (salon_id, channel, chat_id)
	DO UPDATE SET last_id = greatest(inbox_chats.last_id, excluded.last_id), version = inbox_chats.version + 1`

// Next is NextBatch for one chat: it reports whether it took an update.
func (in *Inbox) Next(ctx context.Context, channel string, handle func(messaging.Pending) (messaging.Handled, error)) (bool, error) {
	n, err := in.NextBatch(ctx, channel, 1, handle)
	return n > 0, err
}

// taken is an update NextBatch took (its chat's head, locked) and what its
// step made of it.
type taken struct {
	p       messaging.Pending
	version int64 // the chat row's, as read: moveOnChat deletes the row only if no store came since
	poison  bool  // tried MaxUpdateAttempts times: given up, not handled
	skipped bool  // handle did not step it (messaging.ErrSkipped): nothing is written
	h       messaging.Handled
	bodies  []string // h.Out encoded
	err     error    // handle's, or its writes': nothing of the step is written
}

// NextBatch implements messaging.Inbox. In one transaction it takes the heads
// of up to limit chats (at most nextCandidates), only as many as are waiting
// and no other worker holds, reads their flood guard's times and previous
// updates in one round trip, runs their steps one after another in chat
// order, and writes what all of them made in one pipelined round trip,
// committed together: one commit for many steps (each step is ~1 ms; the
// first chat's replies wait for the batch's other steps, so keep limit
// modest). Rows of several chats are locked in chat_id order (the order the
// heads are returned in), as every writer of inbox_chats locks them
// (insertInbox, Repair), so no two of them deadlock. A step whose handle
// fails, or whose writes fail (writeSteps), writes nothing of its own: its
// attempt is counted and its chat backs off, and the batch's other steps are
// written; one skipped (ErrSkipped) writes nothing at all. When the
// transaction fails (nothing is written) NextBatch returns 0 with the error.
func (in *Inbox) NextBatch(ctx context.Context, channel string, limit int, handle func(messaging.Pending) (messaging.Handled, error)) (int, error) {
	limit = min(max(limit, 1), nextCandidates)
	repairErr := in.repairNow(ctx, channel)
	var batch []*taken
	// Everything the batch locks and writes is in a savepoint opened with the
	// transaction (one round trip: BEGIN's), so the heads' locks and their
	// updates share one (sub)transaction: a head locked FOR UPDATE by the
	// transaction and updated under a later savepoint gets a MultiXact for its
	// xmax, one per update handled (pg_multixact growth, anti-wraparound
	// vacuums). writeSteps rolls back to it when a write fails. (Its per-step
	// fallback, after such a failure only, locks and writes in different
	// savepoints: MultiXacts there are accepted, it is rare.)
	err := pgx.BeginTxFunc(ctx, in.pool, pgx.TxOptions{BeginQuery: "BEGIN; SAVEPOINT steps"}, func(tx pgx.Tx) error {
		var err error
		if batch, err = in.takeHeads(ctx, tx, channel, limit); err != nil || len(batch) == 0 {
			return err
		}
		if err := in.readEarlier(ctx, tx, channel, batch); err != nil {
			return err
		}
		for _, t := range batch {
			if !t.poison {
				t.h, t.err = handle(t.p)
				t.skipped = errors.Is(t.err, messaging.ErrSkipped)
			}
		}
		return in.writeSteps(ctx, tx, channel, batch)
	})
	var errs []error
	for _, t := range batch {
		if t.err != nil && !errors.Is(t.err, messaging.ErrSkipped) {
			errs = append(errs, fmt.Errorf("postgres: handle update %d: %w", t.p.ID, t.err))
		}
	}
	what := "next update"
	if len(errs) > 0 {
		what = "postpone update"
	}
	n := len(batch)
	if err != nil {
		// Nothing was written, not even the failed attempts: taking the same
		// chats again at once would fail the same way, so the worker is told
		// it took none and pauses.
		n = 0
	}
	return n, errors.Join(append(errs, passCore(err, what), repairErr)...)
}

// takeHeads locks the heads of up to limit chats (the longest waiting that no
// other worker holds) and returns them in chat_id order. The chat waiting
// longest (inbox_chats, oldest head first) that is not backing off, and its
// oldest unhandled update, are found by one index probe per chat; SKIP
// LOCKED passes over chats other workers hold. Chats are looked at a page of
// nextCandidates at a time, chosen before any probe (a plan made for an empty
// table probed every waiting chat before sorting them: 10 ms a step with 1,000
// chats waiting), and the next page only when none of a page can be taken:
// the cost is the chats visited, whatever the backlog behind them.
func (in *Inbox) takeHeads(ctx context.Context, tx pgx.Tx, channel string, limit int) ([]*taken, error) {
	for after := int64(math.MinInt64); ; {
		var heads, versions []int64
		var attempts []int32
		var rows int
		if err := tx.QueryRow(ctx, chatHeads, in.salonID, channel, after, nextCandidates).
			Scan(&heads, &versions, &attempts, &rows, &after); err != nil {
			return nil, err
		}
		if rows == 0 {
			return nil, nil // nothing (more) waiting
		}
		if len(heads) == 0 {
			continue // rows of chats with nothing waiting (Repair drops them)
		}
		r, err := tx.Query(ctx, lockHeads, heads, attempts, limit)
		if err != nil {
			return nil, err
		}
		batch, err := pgx.CollectRows(r, func(row pgx.CollectableRow) (*taken, error) {
			t := &taken{p: messaging.Pending{Channel: channel}}
			if err := row.Scan(&t.p.ID, &t.p.ChatID, &t.p.UpdateID, &t.p.Payload, &t.p.Received, &t.p.Attempts); err != nil {
				return nil, err
			}
			// A poison update must not hold its chat for ever: it is given up.
			t.version, t.poison = versions[slices.Index(heads, t.p.ID)], t.p.Attempts >= MaxUpdateAttempts
			return t, nil
		})
		if err != nil || len(batch) > 0 {
			return batch, err
		}
	}
}

// lockHeads locks the first $3 of the heads $1 (in that order) no other
// worker holds, by primary key, FOR UPDATE SKIP LOCKED, and returns them in
// chat_id order (the database's, as insertInbox orders its upserts). Not
// handled is tested in a form the partial index inbox_pending cannot serve
// (with statistics from before a burst the planner took that index and
// filtered every pending update for the ids), and attempts as read ($2): a
// step that failed since set the chat's backoff.
const lockHeads = `
	SELECT id, chat_id, update_id, payload, received_at, attempts FROM (
		SELECT id, chat_id, update_id, payload, received_at, attempts FROM inbox
		WHERE id = ANY($1) AND coalesce(handled_at, 'infinity') = 'infinity'
		  AND attempts = ($2::int[])[array_position($1, id)]
		ORDER BY array_position($1, id) LIMIT $3
		FOR UPDATE SKIP LOCKED) h
	ORDER BY chat_id`

// writeSteps writes what the batch's steps made, in one round trip (each
// statement still sees what committed before it ran, as when sent one at a
// time): the chats' blocked marks cleared under their locks, the replies
// queued, the updates marked handled (or given up), and last each chat moved
// on (or, after a failed step, backing off), one statement per chat in chat
// order. When a write fails by the data's fault (a reply the database
// rejects, as jsonb does "\u0000", or a constraint: dataError) the batch is
// rolled back to the savepoint NextBatch opened first, its heads locked again,
// and each step written again on its own, each behind a
// savepoint of its own, one round trip a step: a step whose writes fail
// counts its attempt and backs off (failStep: the poison update is given up
// after MaxUpdateAttempts), the others are written. Without that one bad
// reply rolled back the whole batch, no attempt was counted, and the same
// chats were taken again at once, for ever.
func (in *Inbox) writeSteps(ctx context.Context, tx pgx.Tx, channel string, batch []*taken) error {
	var writing []*taken // steps with writes of their own
	for _, t := range batch {
		if t.err != nil || t.poison {
			continue
		}
		for _, o := range t.h.Out {
			body, err := json.Marshal(o)
			if err != nil {
				t.err = fmt.Errorf("postgres: encode reply: %w", err) // as a failed step
				break
			}
			t.bodies = append(t.bodies, string(body))
		}
	}
	for _, t := range batch {
		if !t.skipped && (t.err == nil || t.poison) {
			writing = append(writing, t)
		}
	}
	b := &pgx.Batch{}
	in.queueWrites(b, channel, batch)
	err := tx.SendBatch(ctx, b).Close()
	if err == nil || len(writing) == 0 || !dataError(err) {
		// Anything but the data's fault (a timeout, a deadlock, a lost
		// connection) fails the transaction: nothing is written, no attempt is
		// counted (eight passing failures would make a client's message a dead
		// letter), and the worker pauses.
		return err
	}
	if _, rerr := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT steps`); rerr != nil {
		return errors.Join(err, rerr)
	}
	// The rollback let the heads go: lock them again (as read: not handled,
	// the same attempts); one another worker took meanwhile is its now (its
	// step replays from the conversation) and is written by neither here.
	ids, attempts := make([]int64, 0, len(batch)), make([]int32, 0, len(batch))
	for _, t := range batch {
		ids, attempts = append(ids, t.p.ID), append(attempts, int32(t.p.Attempts))
	}
	rows, rerr := tx.Query(ctx, `
		SELECT id FROM inbox WHERE id = ANY($1) AND coalesce(handled_at, 'infinity') = 'infinity'
		  AND attempts = ($2::int[])[array_position($1, id)]
		ORDER BY chat_id FOR UPDATE SKIP LOCKED`, ids, attempts)
	if rerr != nil {
		return errors.Join(err, rerr)
	}
	held, rerr := pgx.CollectRows(rows, pgx.RowTo[int64])
	if rerr != nil {
		return errors.Join(err, rerr)
	}
	if len(writing) == 1 {
		writing[0].err = fmt.Errorf("postgres: write step: %w", err) // it is the one whose writes fail
	}
	for _, t := range batch { // in chat order, as every writer of inbox_chats locks them
		if !slices.Contains(held, t.p.ID) {
			t.skipped = true // its own error, if any, is still reported
			if t.err == nil {
				t.err = messaging.ErrSkipped
			}
		}
		if t.skipped {
			continue
		}
		if t.err == nil {
			b := &pgx.Batch{}
			b.Queue(`SAVEPOINT step`)
			in.queueWrites(b, channel, []*taken{t})
			werr := tx.SendBatch(ctx, b).Close()
			if werr == nil {
				continue
			}
			if _, rerr := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT step`); rerr != nil {
				return errors.Join(werr, rerr)
			}
			t.err = fmt.Errorf("postgres: write step: %w", werr)
		}
		if _, err := tx.Exec(ctx, failStep, in.salonID, channel, t.p.ChatID, t.p.ID); err != nil {
			return err
		}
	}
	return nil
}

// dataError reports whether err is the step's fault: an error from the
// database that another try would meet again (a data exception, a
// constraint, anything but the passing classes below), so it is the step's
// failed attempt; a passing one (a deadlock, a timeout, a lost connection)
// fails the transaction and counts no attempt.
func dataError(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false // the connection, the context: the transaction's failure
	}
	for _, passing := range []string{"08", "40", "53", "55P03", "57", "58"} {
		// connection, rollback (deadlock, serialization), resources, lock
		// not available, operator intervention (statement timeout,
		// shutdown), system error: another try may succeed
		if strings.HasPrefix(pe.Code, passing) {
			return false
		}
	}
	return true
}

// queueWrites queues the writes of the steps of batch (see writeSteps);
// their replies' bodies are encoded (taken.bodies).
func (in *Inbox) queueWrites(b *pgx.Batch, channel string, batch []*taken) {
	var answered, chats, bodies []string
	var sources []int64
	var ids []int64
	var dead []string
	var sent []*time.Time
	var forget []bool
	for _, t := range batch {
		switch {
		case t.err != nil:
			continue // nothing of the step (nor of one skipped)
		case t.poison:
			ids, dead = append(ids, t.p.ID), append(dead, fmt.Sprintf("gave up after %d failed attempts", t.p.Attempts))
			sent, forget = append(sent, nil), append(forget, false)
			continue
		}
		if len(t.h.Out) > 0 { // they wrote again: sending to them is allowed again
			answered = append(answered, t.p.ChatID)
		}
		var at *time.Time
		if !t.h.Sent.IsZero() {
			at = &t.h.Sent
		}
		// A step that erased the chat's data ("delete my data") keeps no copy
		// of the update that asked either (its earlier ones were blanked by
		// the erase).
		ids, dead, sent, forget = append(ids, t.p.ID), append(dead, t.h.Dead), append(sent, at), append(forget, t.h.Forget)
	}
	// The replies go in the order their updates arrived (head ids; outbox ids
	// follow the array), not in the chats' lock order: under a rate limit a
	// chat that wrote later but sorts lower would be answered first.
	arrived := slices.SortedFunc(slices.Values(batch), func(a, b *taken) int { return cmp.Compare(a.p.ID, b.p.ID) })
	for _, t := range arrived {
		if t.err != nil || t.poison {
			continue
		}
		for i, o := range t.h.Out {
			chats, sources, bodies = append(chats, o.ChatID), append(sources, t.p.ID), append(bodies, t.bodies[i])
		}
	}
	if len(answered) > 0 {
		// After the chats' locks (blockedLock), so that a Block of a chat
		// either committed before (its mark is seen and cleared) or waits
		// until the answers below are committed (it sees them, marks nothing).
		b.Queue(blockedLocks, in.salonID, channel, answered)
		b.Queue(`DELETE FROM channel_chats WHERE salon_id = $1 AND channel = $2 AND chat_id = ANY($3)`,
			in.salonID, channel, answered)
		b.Queue(insertStepOutbox, in.salonID, channel, chats, sources, bodies)
	}
	if len(ids) > 0 {
		b.Queue(markHandled, ids, dead, sent, forget)
	}
	for _, t := range batch {
		if t.skipped {
			continue // left as it was: its chat's next update still
		}
		if t.err != nil {
			// The failed attempt is counted and the chat's retry time set in
			// this transaction, while the head is still locked: no other
			// worker can take it again before its backoff. The chat's later
			// updates wait behind it.
			b.Queue(failStep, in.salonID, channel, t.p.ChatID, t.p.ID)
			continue
		}
		b.Queue(moveOnChat, in.salonID, channel, t.p.ChatID, t.p.ID, t.version)
	}
}

// blockedLocks takes blockedLock of each chat of $3, in array order.
const blockedLocks = `
	SELECT pg_advisory_xact_lock(hashtextextended('salonbook.blocked/' || $1 || '/' || $2 || '/' || c, 0))
	FROM unnest($3::text[]) AS c`

// markHandled marks the updates $1 handled, with, per update, $2 the dead
// letter's reason (empty: none), $3 the provider's time and $4 whether to blank
// the payload; by primary key, so the plan is one probe per update whatever
// the statistics say.
const markHandled = `
	UPDATE inbox SET handled_at = now(), dead = NULLIF(($2::text[])[array_position($1, id)], ''),
	       sent_at = ($3::timestamptz[])[array_position($1, id)],
	       payload = CASE WHEN ($4::bool[])[array_position($1, id)] THEN ''::bytea ELSE payload END
	WHERE id = ANY($1::bigint[])`

// failStep counts a failed attempt of the update $4 and sets its chat's ($3)
// backoff: 2^(attempts-1) s, at most 60 s.
const failStep = `
	WITH tried AS (UPDATE inbox SET attempts = attempts + 1 WHERE id = $4 RETURNING attempts)
	UPDATE inbox_chats SET retry_at = now() + make_interval(secs => least(60, power(2, (SELECT attempts - 1 FROM tried))))
	WHERE salon_id = $1 AND channel = $2 AND chat_id = $3`

// nextCandidates is how many chats NextBatch looks at a time, oldest first,
// and the most it takes at once: more than the workers of a process, which
// hold up to a batch each (a page all held, the next page is looked at).
const nextCandidates = 16

// chatHeads lists, oldest first, the heads (oldest unhandled update) of the $4
// chats waiting longest after head_id $3 that are not backing off, with their
// rows' versions and the heads' attempts, then how many chat rows it looked at
// and the last one's head_id (the next page starts after it). The chats are
// chosen before any probe, so no plan can probe every waiting chat. Chats
// ready and chats whose backoff is over come from the two partial indexes
// (inbox_chats_ready, inbox_chats_backoff: partial so that a lookup of one
// chat can only take the primary key), the ready in head_id order, the due
// ones by retry time: the backoff index stops at the first chat not yet due,
// so chats backing off cost nothing until they are due (in head_id order a
// step read every one to find none due). A page then holds the $4 due longest
// among those after $3: when more than that are due and the page is held by
// other workers, the next page may pass over some, which a later Next takes.
const chatHeads = `
	WITH c AS (
		(SELECT salon_id, channel, chat_id, head_id, version FROM inbox_chats
		 WHERE salon_id = $1 AND channel = $2 AND head_id > $3 AND retry_at IS NULL
		 ORDER BY head_id LIMIT $4)
		UNION ALL
		(SELECT salon_id, channel, chat_id, head_id, version FROM inbox_chats
		 WHERE salon_id = $1 AND channel = $2 AND head_id > $3 AND retry_at <= now()
		 ORDER BY retry_at LIMIT $4)
		ORDER BY head_id LIMIT $4
	)
	SELECT coalesce(array_agg(h.id ORDER BY c.head_id), '{}'), coalesce(array_agg(c.version ORDER BY c.head_id), '{}'),
	       coalesce(array_agg(h.attempts ORDER BY c.head_id), '{}'),
	       (SELECT count(*) FROM c), (SELECT coalesce(max(head_id), $3) FROM c)
	FROM c CROSS JOIN LATERAL (
	    SELECT j.id, j.attempts FROM inbox j
	    WHERE j.salon_id = c.salon_id AND j.channel = c.channel AND j.chat_id = c.chat_id AND j.handled_at IS NULL
	    ORDER BY j.id LIMIT 1) h`

// moveOnChat moves the chat ($1 salon, $2 channel, $3 chat) on once its
// update $4 is handled (the last statement of its step, so that the row lock,
// which a concurrent store of the chat's next update waits for, is held only
// until the commit). When $4 was the newest update stored for the chat and no
// store came since its row was read ($5, the row's version), the row goes;
// otherwise the chat queues again by its next update (head_id; the row's
// last_id when that update is not visible yet: stored by a transaction that
// committed after this statement began). The delete's test is rechecked
// against a concurrent upsert's new row version (it waits for the upsert's
// row lock), so an update stored meanwhile keeps its chat's row: also one
// with a lower id than $4, which another replica took before and committed
// after. The update runs only when the delete took nothing, on the row's
// newest version, but its head_id subquery reads the statement's snapshot (the
// DELETE's): updates of a store that committed after the statement began are
// not seen, so head_id falls back to last_id, which can lie past the chat's
// true head when that store held several of its updates (a webhook's group
// commit). Only the order chats are taken in and the backlog-age figure are
// off by it: the head taken is still the chat's oldest unhandled update
// (chatHeads probes it). One statement, one row lock: the batch's chats are
// moved on one after another in chat order.
const moveOnChat = `
	WITH gone AS (
		DELETE FROM inbox_chats WHERE salon_id = $1 AND channel = $2 AND chat_id = $3 AND last_id <= $4 AND version = $5
		RETURNING chat_id)
	UPDATE inbox_chats c SET retry_at = NULL,
	       head_id = coalesce((SELECT j.id FROM inbox j
	                  WHERE j.salon_id = c.salon_id AND j.channel = c.channel AND j.chat_id = c.chat_id AND j.handled_at IS NULL
	                  ORDER BY j.id LIMIT 1), c.last_id)
	WHERE c.salon_id = $1 AND c.channel = $2 AND c.chat_id = $3 AND NOT EXISTS (SELECT FROM gone)`

// The flood guard's input: the provider's times of the chat's latest earlier
// updates. Updates queued at the provider for a day arrive together, so look
// back that far, but never at more than FloodLookback of them. Then the
// chat's previous update.
const (
	earlierTimes = `
		SELECT coalesce(sent_at, received_at) FROM inbox
		WHERE salon_id = $1 AND channel = $2 AND chat_id = $3 AND id < $4 AND received_at > $5
		ORDER BY received_at DESC LIMIT $6`
	previousUpdate = `
		SELECT id, update_id, payload, received_at FROM inbox
		WHERE salon_id = $1 AND channel = $2 AND chat_id = $3 AND id < $4 AND dead IS NULL
		ORDER BY id DESC LIMIT 1`
)

// readEarlier reads every taken update's earlier updates' times (Earlier) and
// its chat's previous update (Previous), in one round trip for the batch.
func (in *Inbox) readEarlier(ctx context.Context, tx pgx.Tx, channel string, batch []*taken) error {
	b := &pgx.Batch{}
	var read []*taken
	for _, t := range batch {
		if t.poison {
			continue
		}
		b.Queue(earlierTimes, in.salonID, channel, t.p.ChatID, t.p.ID, t.p.Received.Add(-24*time.Hour), messaging.FloodLookback)
		b.Queue(previousUpdate, in.salonID, channel, t.p.ChatID, t.p.ID)
		read = append(read, t)
	}
	if len(read) == 0 {
		return nil
	}
	br := tx.SendBatch(ctx, b)
	for _, t := range read {
		p := &t.p
		rows, err := br.Query()
		if err == nil {
			p.Earlier, err = pgx.CollectRows(rows, pgx.RowTo[time.Time])
		}
		if err != nil {
			_ = br.Close()
			return err
		}
		var prev messaging.Pending
		err = br.QueryRow().Scan(&prev.ID, &prev.UpdateID, &prev.Payload, &prev.Received)
		switch {
		case err == nil:
			prev.Channel, prev.ChatID = p.Channel, p.ChatID
			p.Previous = &prev
		case !errors.Is(err, pgx.ErrNoRows):
			_ = br.Close()
			return err
		}
	}
	return br.Close()
}

// repairEvery is how often Next checks that every chat with updates waiting
// has its inbox_chats row (a safety net: rows written by a binary from before
// inbox_chats, or an update whose id is below one already handled).
const repairEvery = 30 * time.Second

// repairNow runs Repair when repairEvery has passed since the last run of this
// Inbox; one caller at a time. Its error is Next's to report (Next goes on).
func (in *Inbox) repairNow(ctx context.Context, channel string) error {
	now := time.Now().UnixNano()
	last := in.repaired.Load()
	if now-last < int64(repairEvery) || !in.repaired.CompareAndSwap(last, now) {
		return nil
	}
	return in.Repair(ctx, channel)
}

// Repair gives every chat with updates waiting its inbox_chats row, and drops
// rows of chats with nothing waiting. It scans the waiting updates and the
// chat rows once each, probing one chat at a time by index, so its cost is
// linear in the waiting chats whatever the statistics say (a join left to the
// planner re-ran its inner query per waiting chat on a fresh database: 800
// chats, 122 s). It is safe beside workers and writers: a row is dropped only
// while no store came since it was found idle (version and last_id, since a
// row deleted and built again starts at version 0 again; the delete rechecks
// them after waiting for a store). Each statement commits on its own and locks rows
// in chat order, as writers do, so it cannot deadlock with them; rows are
// dropped repairBatch at a time, so none is held for long. It gives up after
// repairTimeout (its work is done again on the next run), so a caller that
// cannot be cancelled (Next, under a worker's step) is never held longer.
func (in *Inbox) Repair(ctx context.Context, channel string) error {
	ctx, cancel := context.WithTimeout(ctx, in.repairTimeout)
	defer cancel()
	if _, err := in.pool.Exec(ctx, `
		INSERT INTO inbox_chats (salon_id, channel, chat_id, head_id, last_id)
		SELECT salon_id, channel, chat_id, min(id), max(id) FROM inbox
		WHERE salon_id = $1 AND channel = $2 AND handled_at IS NULL
		GROUP BY salon_id, channel, chat_id ORDER BY chat_id
		ON CONFLICT (salon_id, channel, chat_id) DO NOTHING`, in.salonID, channel); err != nil {
		return mapErr(err, "repair inbox chats")
	}
	// The rows whose last update is handled and whose chat has nothing
	// waiting, with their versions and last ids, in chat order. The lateral
	// subqueries (LIMIT 1: never turned into a join) are one index probe per
	// row.
	var idle []string
	var versions, lasts []int64
	if err := in.pool.QueryRow(ctx, `
		SELECT coalesce(array_agg(c.chat_id ORDER BY c.chat_id), '{}'), coalesce(array_agg(c.version ORDER BY c.chat_id), '{}'),
		       coalesce(array_agg(c.last_id ORDER BY c.chat_id), '{}')
		FROM inbox_chats c
		CROSS JOIN LATERAL (SELECT l.handled_at FROM inbox l WHERE l.id = c.last_id LIMIT 1) l
		LEFT JOIN LATERAL (SELECT true AS waiting FROM inbox j
		    WHERE j.salon_id = c.salon_id AND j.channel = c.channel AND j.chat_id = c.chat_id AND j.handled_at IS NULL
		    LIMIT 1) w ON true
		WHERE c.salon_id = $1 AND c.channel = $2 AND l.handled_at IS NOT NULL AND w.waiting IS NULL`,
		in.salonID, channel).Scan(&idle, &versions, &lasts); err != nil {
		return mapErr(err, "repair inbox chats")
	}
	if in.repairRead != nil {
		in.repairRead()
	}
	for len(idle) > 0 {
		// One statement per row, by primary key (a plan cannot go wrong), sent
		// together: one round trip and one short transaction per batch. The
		// version alone does not tell the row read from one deleted and built
		// again since (a new row starts at version 0 too); its last_id does:
		// a rebuilt row's is an update stored since, never the handled one read.
		n := min(len(idle), repairBatch)
		b := &pgx.Batch{}
		for i := range n {
			b.Queue(`DELETE FROM inbox_chats WHERE salon_id = $1 AND channel = $2 AND chat_id = $3 AND version = $4 AND last_id = $5`,
				in.salonID, channel, idle[i], versions[i], lasts[i])
		}
		if err := in.pool.SendBatch(ctx, b).Close(); err != nil {
			return mapErr(err, "repair inbox chats")
		}
		idle, versions, lasts = idle[n:], versions[n:], lasts[n:]
	}
	return nil
}

// insertOutbox queues a message ($1 salon, $2 channel, $3 chat, $4 inbox id or
// NULL, $5 body). To a chat marked blocked (channel_chats: it blocked the bot)
// it is stored given up, never sent: nothing goes to such a chat until it
// writes again (NextBatch clears the mark before it queues the answers). It
// returns whether the message was stored so.
const insertOutbox = `
	INSERT INTO outbox (salon_id, channel, chat_id, inbox_id, body, failed)
	VALUES ($1, $2, $3, $4, $5, (SELECT 'blocked by the user' FROM channel_chats b
	        WHERE b.salon_id = $1 AND b.channel = $2 AND b.chat_id = $3 AND b.blocked_at IS NOT NULL))
	RETURNING failed IS NOT NULL`

// insertStepOutbox is insertOutbox for the messages of a batch of steps ($3
// their chats, $4 the inbox ids they answer, $5 their bodies as JSON text), in
// array order (ids order a chat's messages). The blocked mark is looked up by
// one primary-key probe per message (LATERAL … LIMIT 1: never a join a plan
// could turn into a scan).
const insertStepOutbox = `
	INSERT INTO outbox (salon_id, channel, chat_id, inbox_id, body, failed)
	SELECT $1, $2, m.chat_id, m.inbox_id, m.body::jsonb, b.failed
	FROM unnest($3::text[], $4::bigint[], $5::text[]) WITH ORDINALITY AS m(chat_id, inbox_id, body, ord)
	LEFT JOIN LATERAL (SELECT 'blocked by the user' AS failed FROM channel_chats b
	    WHERE b.salon_id = $1 AND b.channel = $2 AND b.chat_id = m.chat_id AND b.blocked_at IS NOT NULL LIMIT 1) b ON true
	ORDER BY m.ord`

// insertPushed is insertOutbox for a message pushed to the chat outside its
// steps (a reminder, a wait-list offer), with $6 the instant it is queued, by
// the queuer's clock: Pushed reads it back.
const insertPushed = `
	INSERT INTO outbox (salon_id, channel, chat_id, inbox_id, body, failed, pushed_at)
	VALUES ($1, $2, $3, $4, $5, (SELECT 'blocked by the user' FROM channel_chats b
	        WHERE b.salon_id = $1 AND b.channel = $2 AND b.chat_id = $3 AND b.blocked_at IS NOT NULL), $6)
	RETURNING failed IS NOT NULL`

// repairTimeout bounds one Repair (NewInbox's default); repairBatch is how
// many idle rows one of its transactions drops.
const (
	repairTimeout = 10 * time.Second
	repairBatch   = 256
)

// Outbox is the outbox of one salon's chat channels.
type Outbox struct {
	pool    *pgxpool.Pool
	salonID string
	lease   time.Duration

	// Done calls of concurrent sends are written together (doneTogether):
	// dones waits for the batch in flight; flushing says one is.
	doneMu   sync.Mutex
	dones    []*doneReq
	flushing bool

	// log is where a Done that found its lease lost is told (SetLog).
	log *slog.Logger

	// slots bounds the connections the sends' own transactions take at once
	// (doneWithProviderID, Later, Block): the sender may have more sends in
	// flight than the pool keeps for it, and the workers and the webhook's
	// flushers must still find theirs.
	slots chan struct{}
}

// OutboxConns is how many connections an Outbox's unbatched writes use at once
// at most, unless SetConns says otherwise.
const OutboxConns = 8

// SetConns sets how many connections the outbox's unbatched writes use at once
// (at least 1). Call it before the outbox is used.
func (o *Outbox) SetConns(n int) {
	o.slots = make(chan struct{}, max(n, 1))
}

// SetLog sets where the outbox logs what goes wrong without an error (default
// slog.Default()). Call it before the outbox is used.
func (o *Outbox) SetLog(log *slog.Logger) { o.log = log }

// take waits for a connection slot; the returned func gives it back.
func (o *Outbox) take(ctx context.Context) (func(), error) {
	select {
	case o.slots <- struct{}{}:
		return func() { <-o.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// doneReq is one Done waiting for its batch: its result, or lead (closed)
// when it is to write the batch itself.
type doneReq struct {
	q       messaging.Queued
	failure string
	result  chan error    // buffered
	lead    chan struct{} // buffered
}

// NewOutbox returns the outbox of salonID. A message handed to a sender is
// leased for 90 seconds: if that sender dies, another takes it after that (a
// client waits that long for a reply the dead sender held). The sender starts
// what it takes at once or within a token's wait (Sender.Run), and cuts every
// send off at Sender.SendTimeout (30 s, all its calls together), so a live
// sender keeps its lease.
func NewOutbox(pool *pgxpool.Pool, salonID string) *Outbox {
	return &Outbox{pool: pool, salonID: salonID, lease: 90 * time.Second, slots: make(chan struct{}, OutboxConns), log: slog.Default()}
}

// fresh runs a statement on the outbox with a plan made for that run, from the
// outbox's size then: an unnamed statement, parsed and planned with each run
// (one round trip still), never pgx's prepared one. PostgreSQL keeps the plan
// of a prepared statement while no ANALYZE or DDL touches the table, and the
// outbox fills in bursts that no ANALYZE sees and never shrinks: a plan made
// while it held a few hundred rows scans it whole ever after (Done's id =
// ANY($1) and Due's join to the rows it picked were Seq Scans in issue 17's
// load run, 80 of 83 Done runs, 3,687 to 12,901 rows filtered out each). The
// planner reads a table's size in pages at each planning, whatever its
// statistics say, so a plan made now probes the primary key once the outbox
// is large. Planning costs about 0.1-0.5 ms a run, for a statement that runs
// once per batch of sends (TestOutboxPlansAfterABurst).
const fresh = pgx.QueryExecModeExec

// dueAgain is what Due's row locks check again on the row as it is when they
// take it. In READ COMMITTED a locking read that meets a row changed since the
// statement's snapshot (marked sent, given up by a superseded reminder, an
// ended wait-list offer, an erase or a Block, or leased by another Due) locks
// the newest version and re-checks only its own WHERE on it (EvalPlanQual): with
// `id = r.id` alone, Due leased and handed out again a message another
// transaction had just sent or given up (TestDueRechecksRowsChangedSinceItsSnapshot).
const dueAgain = `sent_at IS NULL AND failed IS NULL AND not_before <= now() AND (leased_until IS NULL OR leased_until < now())`

// Due implements messaging.Outbox. Callback answers form a lane of their own per
// chat, so that one never waits behind replies held back by the rate limits,
// and have a limit of their own, so that they are taken while the bot's
// message limit has no room.
func (o *Outbox) Due(ctx context.Context, channel string, answers, messages int) ([]messaging.Queued, error) {
	rows, err := o.pool.Query(ctx, `
		WITH heads AS (
			SELECT DISTINCT ON (chat_id, body ? 'ack') id, body ? 'ack' AND NOT body ? 'reply' AS answer, not_before, leased_until
			FROM outbox
			WHERE salon_id = $1 AND channel = $2 AND sent_at IS NULL AND failed IS NULL
			ORDER BY chat_id, body ? 'ack', id
		), ready AS (
			SELECT id, answer FROM heads WHERE not_before <= now() AND (leased_until IS NULL OR leased_until < now())
		), answers AS (
			SELECT x.id FROM (SELECT id FROM ready WHERE answer ORDER BY id) r
			CROSS JOIN LATERAL (SELECT id FROM outbox WHERE id = r.id AND `+dueAgain+` FOR UPDATE SKIP LOCKED) x
			ORDER BY r.id LIMIT $3
		), messages AS (
			SELECT x.id FROM (SELECT id FROM ready WHERE NOT answer ORDER BY id) r
			CROSS JOIN LATERAL (SELECT id FROM outbox WHERE id = r.id AND `+dueAgain+` FOR UPDATE SKIP LOCKED) x
			ORDER BY r.id LIMIT $5
		)
		UPDATE outbox SET leased_until = now() + make_interval(secs => $4), lease_token = gen_random_uuid()::text
		WHERE id = ANY(ARRAY(SELECT id FROM answers UNION ALL SELECT id FROM messages))
		RETURNING outbox.id, outbox.body, outbox.attempts, outbox.lease_token`, fresh, o.salonID, channel, answers, o.lease.Seconds(), messages)
	if err != nil {
		return nil, mapErr(err, "due messages")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (messaging.Queued, error) {
		q := messaging.Queued{Channel: channel}
		var body []byte
		if err := r.Scan(&q.ID, &body, &q.Attempts, &q.Lease); err != nil {
			return q, err
		}
		return q, json.Unmarshal(body, &q.Outgoing)
	})
	if err != nil {
		return nil, mapErr(err, "due messages")
	}
	slices.SortFunc(out, func(a, b messaging.Queued) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Done implements messaging.Outbox. Concurrent calls (the sender's sends in
// flight finishing together) are written by one statement and one commit:
// the first caller while none is writing writes what is waiting; those that
// come meanwhile wait, and when the write is done the first of them writes
// theirs. Each returns once its own row is committed, as a lone UPDATE would:
// a message is marked sent only after its send, and never before the
// statement that marks it is durable.
func (o *Outbox) Done(ctx context.Context, q messaging.Queued, failure string) error {
	if q.ProviderID != "" && failure == "" {
		return o.doneWithProviderID(ctx, q)
	}
	r := &doneReq{q: q, failure: failure, result: make(chan error, 1), lead: make(chan struct{}, 1)}
	o.doneMu.Lock()
	o.dones = append(o.dones, r)
	lead := !o.flushing
	o.flushing = true
	o.doneMu.Unlock()
	if !lead {
		select {
		case err := <-r.result:
			return err
		case <-r.lead:
		}
	}
	o.doneMu.Lock()
	batch := o.dones
	o.dones = nil
	o.doneMu.Unlock()
	err := mapErr(o.doneAll(ctx, batch), "finish message")
	for _, b := range batch {
		b.result <- err
	}
	o.doneMu.Lock()
	if len(o.dones) > 0 {
		o.dones[0].lead <- struct{}{} // the next batch is its first caller's to write
	} else {
		o.flushing = false
	}
	o.doneMu.Unlock()
	return <-r.result
}

// doneAll marks the batch's messages sent or given up, each under its own
// lease, in one statement. The rows are found by primary key (id = ANY), in a
// plan made for this run (fresh): one cached while the outbox was small scans
// it whole. A message whose lease was lost (it ran out, and another Due took
// the message) is left as it is, and logged: that sender may send it again.
func (o *Outbox) doneAll(ctx context.Context, batch []*doneReq) error {
	ids, leases, failures := make([]int64, len(batch)), make([]string, len(batch)), make([]string, len(batch))
	for i, b := range batch {
		ids[i], leases[i], failures[i] = b.q.ID, b.q.Lease, b.failure
	}
	rows, err := o.pool.Query(ctx, `
		UPDATE outbox SET leased_until = NULL, lease_token = NULL,
		       sent_at = CASE WHEN ($2::text[])[array_position($1, id)] = '' THEN now() END,
		       failed = NULLIF(($2::text[])[array_position($1, id)], ''), provider_id = NULL
		WHERE id = ANY($1) AND salon_id = $3 AND lease_token = ($4::text[])[array_position($1, id)]
		RETURNING id`,
		fresh, ids, failures, o.salonID, leases)
	if err != nil {
		return err
	}
	done, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	if len(done) < len(ids) {
		var lost []int64
		for _, id := range ids {
			if !slices.Contains(done, id) {
				lost = append(lost, id)
			}
		}
		// Row ids only: never a chat id (a phone number on WhatsApp).
		o.log.Warn("outbox: lease lost: another sender may send it again",
			slog.String("salon", o.salonID), slog.Any("outbox_ids", lost))
	}
	return nil
}

// doneWithProviderID marks q sent under the provider's id and, when the
// provider already reported that id failed in a way that calls for a resend (a
// status that arrived before this record: Deliveries.Status with resend), queues
// the copy Deliveries.Resend could not (once: outbox.resent_of). It takes the
// lock Resend takes, so one of the two always sees the other.
func (o *Outbox) doneWithProviderID(ctx context.Context, q messaging.Queued) error {
	release, err := o.take(ctx)
	if err != nil {
		return mapErr(err, "finish message")
	}
	defer release()
	return mapErr(pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, providerLock, o.salonID, q.Channel, q.ProviderID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			WITH done AS (
				UPDATE outbox SET leased_until = NULL, lease_token = NULL, sent_at = now(), failed = NULL, provider_id = $4
				WHERE id = $1 AND salon_id = $2 AND lease_token = $3
				RETURNING id, channel, chat_id, body
			)
			INSERT INTO outbox (salon_id, channel, chat_id, inbox_id, body, resent_of, failed)
			SELECT $2, d.channel, d.chat_id, NULL, d.body, d.id, (SELECT 'blocked by the user' FROM channel_chats b
			        WHERE b.salon_id = $2 AND b.channel = d.channel AND b.chat_id = d.chat_id AND b.blocked_at IS NOT NULL)
			FROM done d
			WHERE NOT d.body ? 'erased' -- blanked on an erase: nothing to send again
			  AND EXISTS (SELECT 1 FROM message_statuses m
			              WHERE m.salon_id = $2 AND m.channel = d.channel AND m.provider_id = $4 AND m.resend)
			ON CONFLICT (resent_of) WHERE resent_of IS NOT NULL DO NOTHING`, q.ID, o.salonID, q.Lease, q.ProviderID)
		return err
	}), "finish message")
}

// Later implements messaging.Outbox.
func (o *Outbox) Later(ctx context.Context, q messaging.Queued, at time.Time, failed bool) error {
	release, err := o.take(ctx)
	if err != nil {
		return mapErr(err, "postpone message")
	}
	defer release()
	_, err = o.pool.Exec(ctx, `
		UPDATE outbox SET leased_until = NULL, lease_token = NULL, not_before = $2,
		       attempts = attempts + CASE WHEN $5 THEN 1 ELSE 0 END
		WHERE id = $1 AND salon_id = $3 AND lease_token = $4`, q.ID, at, o.salonID, q.Lease, failed)
	return mapErr(err, "postpone message")
}

// blockedLock serialises, per chat ($1 salon, $2 channel, $3 chat), Block and
// a step's clearing of the chat's blocked mark, until their commits.
const blockedLock = `SELECT pg_advisory_xact_lock(hashtextextended('salonbook.blocked/' || $1 || '/' || $2 || '/' || $3, 0))`

// Block implements messaging.Outbox. The send that met the refusal may have
// started before the chat unblocked the bot and wrote again: the step that
// answered that (it cleared the mark) queued its answers after q, with the
// inbox id of a message of the chat other than q's. Then nothing is marked, and
// only the messages up to q are given up. Block and that step take the chat's
// lock (blockedLock) first, and Block looks for such answers in a statement of
// its own after it, so it sees those of a step that ran at the same time. When
// it marks the chat, it also gives up the chat's other unsent messages of q's
// inbox message or of none (staff notices, resent copies), which would each
// meet the 403 again.
func (o *Outbox) Block(ctx context.Context, q messaging.Queued) error {
	channel, chatID := q.Channel, q.Outgoing.ChatID
	release, err := o.take(ctx)
	if err != nil {
		return mapErr(err, "block chat")
	}
	defer release()
	return mapErr(pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, blockedLock, o.salonID, channel, chatID); err != nil {
			return err
		}
		var mark bool
		if err := tx.QueryRow(ctx, `
			SELECT NOT EXISTS (
			    SELECT 1 FROM outbox a JOIN inbox i ON i.id = a.inbox_id
			    WHERE a.id > $4 AND a.salon_id = $1 AND a.channel = $2 AND a.chat_id = $3
			      AND i.channel = $2 AND i.chat_id = $3
			      AND a.inbox_id IS DISTINCT FROM (SELECT q.inbox_id FROM outbox q WHERE q.id = $4))`,
			o.salonID, channel, chatID, q.ID).Scan(&mark); err != nil {
			return err
		}
		if mark {
			if _, err := tx.Exec(ctx, `
				INSERT INTO channel_chats (salon_id, channel, chat_id, blocked_at) VALUES ($1, $2, $3, now())
				ON CONFLICT (salon_id, channel, chat_id) DO UPDATE SET blocked_at = now()`, o.salonID, channel, chatID); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `
			UPDATE outbox SET failed = 'blocked by the user', leased_until = NULL, lease_token = NULL
			WHERE salon_id = $1 AND channel = $2 AND chat_id = $3 AND sent_at IS NULL AND failed IS NULL
			  AND (id <= $4 OR $5 AND (inbox_id IS NOT DISTINCT FROM (SELECT q.inbox_id FROM outbox q WHERE q.id = $4) OR inbox_id IS NULL))`,
			o.salonID, channel, chatID, q.ID, mark)
		return err
	}), "block chat")
}
