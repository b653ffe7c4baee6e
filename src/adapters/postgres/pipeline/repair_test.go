package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/core/dialog"
	"salonbook/src/core/messaging"
)

// TestInboxChatsPlansWithoutStatistics: every statement Repair and a worker's
// step run stays linear in the waiting chats when inbox and inbox_chats have no
// statistics at all (a fresh database, or a queue table analyzed while empty)
// and plans are generic. On such a database the start-up Repair's delete once
// re-ran its inner query per waiting chat (800 chats: 122 s), and the step's
// own delete of its chat's row walked every waiting chat's row.
//
// The statements are recorded as the code runs them against 10,000 waiting
// chats, then each is explained (EXPLAIN ANALYZE of the generic plan, rolled
// back) on an identical copy: no node runs per chat unless it is an index probe
// of at most one row, no SubPlan runs per row, a Repair statement reads a
// bounded number of rows per chat and a step's a bounded number in all.
func TestInboxChatsPlansWithoutStatistics(t *testing.T) {
	t.Parallel()
	for _, analyzedEmpty := range []bool{false, true} {
		name := "NeverAnalyzed"
		if analyzedEmpty {
			name = "AnalyzedWhileEmpty"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			const chats = 10_000
			_, salonID := pgtest.Salon(t) // a salon of its own: the replies queued refer to it
			rec := &recorder{}
			run := planSchema(t, salonID, chats, analyzedEmpty)
			runPool := planPool(t, run, rec)
			in := pipeline.NewInbox(runPool, salonID)

			rec.phase = "repair"
			began := time.Now()
			require.NoError(t, in.Repair(ctx, "tg"))
			t.Logf("Repair over %d waiting chats without statistics: %v", chats, time.Since(began))
			var rows int
			rec.phase = "" // the test's own
			require.NoError(t, runPool.QueryRow(ctx, `SELECT count(*) FROM inbox_chats`).Scan(&rows))
			require.Equal(t, chats, rows, "every waiting chat has its row, no idle row is left")

			rec.phase = "step"
			require.NoError(t, in.Add(ctx, "tg", "new", chatName(3), []byte("n"), ""))
			// A batch of the 8 chats waiting longest (chats 0 to 7), each
			// answered but chat 1's step, which fails: chats 0 and 3 have
			// another update (their rows move on), chat 1 backs off, the
			// others' rows go.
			n, err := in.NextBatch(ctx, "tg", 8, func(p messaging.Pending) (messaging.Handled, error) {
				h := messaging.Handled{Out: []messaging.Outgoing{{ChatID: p.ChatID, Ack: "a"},
					{ChatID: p.ChatID, Reply: &dialog.Reply{Text: "hi"}}}}
				if p.ChatID == chatName(1) {
					return messaging.Handled{}, errors.New("backing off")
				}
				return h, nil
			})
			require.ErrorContains(t, err, "backing off")
			require.NotContains(t, err.Error(), "postpone update", "the other steps are written")
			require.Equal(t, 8, n)
			ok := func(messaging.Pending) (messaging.Handled, error) { return messaging.Handled{}, nil }
			for _, handle := range []func(messaging.Pending) (messaging.Handled, error){
				ok, // chat 8's only update: its row goes
				func(messaging.Pending) (messaging.Handled, error) {
					return messaging.Handled{}, errors.New("backing off")
				},
				ok, // chat 0's second update
			} {
				found, _ := in.Next(ctx, "tg", handle)
				require.True(t, found)
			}

			explain := planSchema(t, salonID, chats, analyzedEmpty)
			conn := planPool(t, explain, nil)
			for _, st := range rec.distinct() {
				plan := explainGeneric(t, conn, st)
				var work float64
				checkPlan(t, st, plan, &work)
				limit := 200.0 // a step's statement: its chat and a page of candidates, whatever waits
				if st.phase == "repair" {
					work *= float64(st.runs) // a statement run per row reads that much per row
					limit = 12 * chats       // a few rows read per chat
				}
				sql := strings.Join(strings.Fields(st.sql), " ")
				require.LessOrEqualf(t, work, limit, "%s statement run %d times reads %.0f rows:\n%s\n%s", st.phase, st.runs, work, st.sql, plan.text())
				t.Logf("%s, run %d times, %.0f rows read: %s", st.phase, st.runs, work, sql[:min(90, len(sql))])
			}
		})
	}
}

func chatName(i int) string { return fmt.Sprintf("c%05d", i) }

// planSchema makes a schema of its own with empty copies of inbox,
// inbox_chats and outbox (columns, defaults, identity, indexes and constraints) that
// autovacuum leaves alone, optionally analyzes them while empty, and fills
// them with chats waiting chats, always with the same ids: chat 0 has two
// updates waiting, the others one each (and two handled earlier); the last
// tenth of them have no inbox_chats row (as written by a binary from before
// inbox_chats), the others from chat 10 on back off (retry_at in an hour),
// and a thousand rows are left for chats with nothing waiting.
func planSchema(t *testing.T, salonID string, chats int, analyzedEmpty bool) string {
	t.Helper()
	admin := pgtest.Pool(t)
	schema := "plans_" + pgtest.RandomID()
	_, err := admin.Exec(ctx, `CREATE SCHEMA `+schema)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`) })
	for _, table := range []string{"inbox", "inbox_chats", "outbox"} { // outbox: its rows name the copy's updates
		_, err = admin.Exec(ctx, `CREATE TABLE `+schema+`.`+table+` (LIKE public.`+table+` INCLUDING ALL) WITH (autovacuum_enabled = false)`)
		require.NoError(t, err)
	}
	var once string // the copy of inbox_once has a name of its own: give it the one the code names
	require.NoError(t, admin.QueryRow(ctx, `SELECT conname FROM pg_constraint WHERE conrelid = ($1 || '.inbox')::regclass AND contype = 'u'`,
		schema).Scan(&once))
	_, err = admin.Exec(ctx, `ALTER TABLE `+schema+`.inbox RENAME CONSTRAINT `+once+` TO inbox_once`)
	require.NoError(t, err)
	if analyzedEmpty {
		_, err = admin.Exec(ctx, `ANALYZE `+schema+`.inbox, `+schema+`.inbox_chats`)
		require.NoError(t, err)
	}
	_, err = admin.Exec(ctx, `
		INSERT INTO `+schema+`.inbox (id, salon_id, channel, update_id, chat_id, payload, handled_at) OVERRIDING SYSTEM VALUE
		SELECT g, $1, 'tg', 'h' || g, 'c' || lpad((g % $2)::text, 5, '0'), '\x00', now() FROM generate_series(1, 2 * $2) g`, salonID, chats)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, `
		INSERT INTO `+schema+`.inbox (id, salon_id, channel, update_id, chat_id, payload) OVERRIDING SYSTEM VALUE
		SELECT 2 * $2 + 1 + g, $1, 'tg', 'p' || g, 'c' || lpad(g::text, 5, '0'), '\x00'::bytea FROM generate_series(0, $2 - 1) g
		UNION ALL SELECT 3 * $2 + 1, $1, 'tg', 'p-again', 'c00000', '\x00'`, salonID, chats)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, `
		INSERT INTO `+schema+`.inbox (id, salon_id, channel, update_id, chat_id, payload, handled_at) OVERRIDING SYSTEM VALUE
		SELECT 3 * $2 + 2 + g, $1, 'tg', 'i' || g, 'idle' || g, '\x00', now() FROM generate_series(0, 999) g`, salonID, chats)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, `
		INSERT INTO `+schema+`.inbox_chats (salon_id, channel, chat_id, head_id, last_id)
		SELECT salon_id, channel, chat_id, min(id), max(id) FROM `+schema+`.inbox
		WHERE salon_id = $1 AND (handled_at IS NULL AND chat_id < 'c' || lpad(($2 * 9 / 10)::text, 5, '0') OR chat_id LIKE 'idle%')
		GROUP BY salon_id, channel, chat_id`, salonID, chats)
	require.NoError(t, err)
	// Most chats with a row back off, none due: Next must not read them to
	// find that none is (8,990 of them: a step read every one, 3.5 ms).
	_, err = admin.Exec(ctx, `
		UPDATE `+schema+`.inbox_chats SET retry_at = now() + interval '1 hour' + make_interval(secs => head_id % 600)
		WHERE salon_id = $1 AND chat_id >= 'c00010' AND chat_id LIKE 'c%'`, salonID)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1 || '.inbox', 'id'), 4 * $2)`, schema, chats)
	require.NoError(t, err)
	var stats int
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(*) FROM pg_stats WHERE schemaname = $1`, schema).Scan(&stats))
	require.Zero(t, stats, "no statistics on the copies")
	return schema
}

// planPool opens a pool whose connections see schema's copies first and plan
// every statement generically, recording what they run in rec (when not nil).
func planPool(t *testing.T, schema string, rec *recorder) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
	require.NoError(t, err)
	cfg.ConnConfig.RuntimeParams["search_path"] = schema + ", public"
	cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	// A plan that goes quadratic on 10,000 chats would run for hours: fail it.
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = "60s"
	if rec != nil {
		cfg.ConnConfig.Tracer = rec
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return pool
}

// recorder records each statement a pool runs, with its arguments and the
// phase of the test it ran in.
type recorder struct {
	mu    sync.Mutex
	phase string
	stmts []recorded
}

type recorded struct {
	phase, sql string
	args       []any
	runs       int // distinct: how many times it ran in its phase
}

func (r *recorder) add(sql string, args []any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stmts = append(r.stmts, recorded{phase: r.phase, sql: sql, args: args})
}

func (r *recorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.add(d.SQL, d.Args)
	return ctx
}

func (r *recorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *recorder) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (r *recorder) TraceBatchQuery(_ context.Context, _ *pgx.Conn, d pgx.TraceBatchQueryData) {
	r.add(d.SQL, d.Args)
}

func (r *recorder) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// distinct returns the first run of each statement of the code under test
// that reads or writes the inbox tables (or the blocked marks), in the order first run, with how many
// times it ran in that phase.
func (r *recorder) distinct() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]int{}
	var out []recorded
	for _, st := range r.stmts {
		if st.phase == "" || !strings.Contains(st.sql, "inbox") && !strings.Contains(st.sql, "channel_chats") {
			continue
		}
		if i, ok := seen[st.sql]; ok {
			if out[i].phase == st.phase {
				out[i].runs++
			}
			continue
		}
		seen[st.sql] = len(out)
		st.runs = 1
		out = append(out, st)
	}
	return out
}

// planNode is a node of EXPLAIN (ANALYZE, FORMAT JSON); Actual Rows and the
// rows removed are averages per loop, as EXPLAIN gives them.
type planNode struct {
	Type     string     `json:"Node Type"`
	Parent   string     `json:"Parent Relationship"`
	Relation string     `json:"Relation Name"`
	Index    string     `json:"Index Name"`
	Rows     float64    `json:"Actual Rows"`
	Loops    float64    `json:"Actual Loops"`
	Filtered float64    `json:"Rows Removed by Filter"`
	Recheck  float64    `json:"Rows Removed by Index Recheck"`
	Plans    []planNode `json:"Plans"`
}

type explained struct {
	Plan planNode `json:"Plan"`
	raw  []byte
}

func (e explained) text() string { return string(e.raw) }

// explainGeneric runs st's generic plan under EXPLAIN ANALYZE in a transaction
// that is rolled back.
func explainGeneric(t *testing.T, pool *pgxpool.Pool, st recorded) explained {
	t.Helper()
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx) //nolint:errcheck
	_, err = tx.Exec(ctx, `PREPARE explained AS `+st.sql)
	require.NoError(t, err, st.sql)
	defer conn.Exec(context.Background(), `DEALLOCATE explained`) //nolint:errcheck
	// EXECUTE takes no protocol parameters: the arguments go as literals of
	// the statement's parameter types, which the server writes.
	var types []string
	require.NoError(t, tx.QueryRow(ctx, `SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = 'explained'`).Scan(&types))
	require.Len(t, types, len(st.args), st.sql)
	params := make([]string, len(st.args))
	for i, typ := range types {
		require.NoError(t, tx.QueryRow(ctx, `SELECT quote_nullable($1::`+typ+`)`, st.args[i]).Scan(&params[i]))
		params[i] += "::" + typ
	}
	var raw []byte
	err = tx.QueryRow(ctx, `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE explained`+paren(params)).Scan(&raw)
	require.NoError(t, err, st.sql)
	var out []explained
	require.NoError(t, json.Unmarshal(raw, &out))
	out[0].raw = raw
	return out[0]
}

func paren(params []string) string {
	if len(params) == 0 {
		return ""
	}
	return "(" + strings.Join(params, ", ") + ")"
}

// checkPlan fails when a node other than a probe of at most one row runs more
// than once, or a SubPlan runs per row; it adds up the rows the plan's scans
// read (returned and filtered out) in work.
func checkPlan(t *testing.T, st recorded, e explained, work *float64) {
	t.Helper()
	var walk func(n planNode)
	walk = func(n planNode) {
		if n.Loops > 1 {
			require.NotEqualf(t, "SubPlan", n.Parent, "a SubPlan runs per row (%.0f times):\n%s\n%s", n.Loops, st.sql, e.text())
			probe := map[string]bool{"Index Scan": true, "Index Only Scan": true, "Limit": true, "Result": true, "Subquery Scan": true}[n.Type]
			require.Truef(t, probe && n.Rows <= 1 && n.Filtered+n.Recheck <= 1,
				"%s runs %.0f times, reading %.0f rows and dropping %.0f each time: not a probe of one row:\n%s\n%s",
				n.Type, n.Loops, n.Rows, n.Filtered+n.Recheck, st.sql, e.text())
		}
		if strings.HasSuffix(n.Type, "Scan") {
			*work += max(n.Loops, 1) * (n.Rows + n.Filtered + n.Recheck)
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(e.Plan)
}

// TestRepairNeverHoldsTheWorkerOrShutdown: a worker calls Next with a context
// that is never cancelled (its step must finish), and Next runs Repair. A
// Repair that cannot finish (here: a row it must drop is locked for as long
// as the test likes) gives up after its bound, so Next returns and the pool
// closes: before, such a Repair ran on and pgxpool.Close waited for it
// (SIGTERM, then a hang).
func TestRepairNeverHoldsTheWorkerOrShutdown(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	admin := pgtest.Pool(t)
	_, err := admin.Exec(ctx, `
		WITH done AS (
			INSERT INTO inbox (salon_id, channel, update_id, chat_id, payload, handled_at) VALUES ($1, 'tg', 'i', 'idle', 'x', now())
			RETURNING id)
		INSERT INTO inbox_chats (salon_id, channel, chat_id, head_id, last_id) SELECT $1, 'tg', 'idle', id, id FROM done`, salonID)
	require.NoError(t, err)
	held, err := admin.Begin(ctx)
	require.NoError(t, err)
	defer held.Rollback(ctx) //nolint:errcheck
	_, err = held.Exec(ctx, `SELECT 1 FROM inbox_chats WHERE salon_id = $1 AND chat_id = 'idle' FOR UPDATE`, salonID)
	require.NoError(t, err)

	pool := pgtest.Pool(t)
	in := pipeline.NewInbox(pool, salonID)
	pipeline.SetRepairTimeout(in, 300*time.Millisecond)
	stepped := make(chan error, 1)
	go func() {
		_, err := in.Next(context.WithoutCancel(ctx), "tg", func(messaging.Pending) (messaging.Handled, error) {
			return messaging.Handled{}, nil
		})
		stepped <- err
	}()
	select {
	case err := <-stepped:
		require.Error(t, err, "Next reports that Repair gave up")
	case <-time.After(time.Minute):
		t.Fatal("Next still waits on Repair a minute later")
	}
	closed := make(chan struct{})
	go func() { pool.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(time.Minute):
		t.Fatal("the pool still waits for a connection a minute later")
	}
}

// TestRepairKeepsARowRebuiltMeanwhile: between Repair's read of an idle chat
// row and its delete, the row goes (a worker's or another replica's delete)
// and the chat's next update builds it again, at version 0 like the first:
// Repair's delete by version alone took the new row, and the update waited
// without one until the next Repair.
func TestRepairKeepsARowRebuiltMeanwhile(t *testing.T) {
	t.Parallel()
	_, salonID := pgtest.Salon(t)
	pool := pgtest.Pool(t)
	_, err := pool.Exec(ctx, `
		WITH done AS (
			INSERT INTO inbox (salon_id, channel, update_id, chat_id, payload, handled_at) VALUES ($1, 'tg', 'old', 'aba', 'x', now())
			RETURNING id)
		INSERT INTO inbox_chats (salon_id, channel, chat_id, head_id, last_id) SELECT $1, 'tg', 'aba', id, id FROM done`, salonID)
	require.NoError(t, err)
	in := pipeline.NewInbox(pool, salonID)
	pipeline.SetRepairRead(in, func() {
		_, err := pool.Exec(ctx, `DELETE FROM inbox_chats WHERE salon_id = $1 AND chat_id = 'aba'`, salonID)
		require.NoError(t, err)
		require.NoError(t, in.Add(ctx, "tg", "new", "aba", []byte("n"), ""))
	})
	require.NoError(t, in.Repair(ctx, "tg"))
	var version int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT version FROM inbox_chats WHERE salon_id = $1 AND chat_id = 'aba'`, salonID).Scan(&version),
		"the chat with an update waiting keeps its row")
	require.Zero(t, version, "the rebuilt row has the version Repair read")
}

// TestOpenSetsAStatementTimeout: every statement on the pipeline's pools is cut
// by the server after StatementTimeout (before, none was: a Repair ran 5 min 40 s).
func TestOpenSetsAStatementTimeout(t *testing.T) {
	t.Parallel()
	pool, err := pipeline.Open(ctx, pgtest.URL(t), 2)
	require.NoError(t, err)
	defer pool.Close()
	var setting string
	require.NoError(t, pool.QueryRow(ctx, `SHOW statement_timeout`).Scan(&setting))
	require.Equal(t, "15s", setting)
	require.Equal(t, 15*time.Second, pipeline.StatementTimeout)
}
