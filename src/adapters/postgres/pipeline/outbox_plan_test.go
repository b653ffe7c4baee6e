package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/adapters/postgres/pipeline"
)

// TestOutboxPlansAfterABurst: the sender's statements (Due, Done) read a
// bounded number of outbox rows, by index, after the outbox filled in a burst
// that no ANALYZE saw, on a connection that ran them while the outbox was
// small. pgx prepares a statement once per connection and PostgreSQL keeps the
// generic plan it made then: Done's `id = ANY($1)` and Due's final join to the
// rows it picked were Seq Scans of the outbox for the rest of the load run (80
// of 83 Done executions; the rows filtered out grew with the history, which is
// never deleted).
//
// The run goes through the real Outbox on a pool of one connection that plans
// generically: a few sends while the outbox holds 200 sent messages (never
// analyzed, or analyzed then), then a burst of 30,000 sent and 300 waiting,
// then a round of sends whose statements are explained (EXPLAIN ANALYZE,
// rolled back) on that same connection: through the prepared statement the
// code's next run would use when there is one (its cached plan), else prepared
// afresh.
func TestOutboxPlansAfterABurst(t *testing.T) {
	t.Parallel()
	for _, analyzedSmall := range []bool{false, true} {
		name := "NeverAnalyzed"
		if analyzedSmall {
			name = "AnalyzedWhileSmall"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			const history, waiting = 30_000, 300
			salonID := "o" + pgtest.RandomID()
			admin := pgtest.Pool(t)
			schema := "outbox_plans_" + pgtest.RandomID()
			for _, q := range []string{
				`CREATE SCHEMA ` + schema,
				`CREATE TABLE ` + schema + `.outbox (LIKE public.outbox INCLUDING ALL) WITH (autovacuum_enabled = false)`,
			} {
				_, err := admin.Exec(ctx, q)
				require.NoError(t, err, q)
			}
			t.Cleanup(func() { _, _ = admin.Exec(context.Background(), `DROP SCHEMA `+schema+` CASCADE`) })
			fill := func(sent, unsent int) {
				t.Helper()
				_, err := admin.Exec(ctx, `
					INSERT INTO `+schema+`.outbox (salon_id, channel, chat_id, body, sent_at)
					SELECT $1, 'tg', 'c' || (g % 1000), '{"text": "a reply sent earlier"}', now() FROM generate_series(1, $2) g`, salonID, sent)
				require.NoError(t, err)
				_, err = admin.Exec(ctx, `
					INSERT INTO `+schema+`.outbox (salon_id, channel, chat_id, body)
					SELECT $1, 'tg', 'w' || g, '{"text": "a reply"}' FROM generate_series(1, $2) g`, salonID, unsent)
				require.NoError(t, err)
			}
			fill(200, 20)
			if analyzedSmall {
				_, err := admin.Exec(ctx, `ANALYZE `+schema+`.outbox`)
				require.NoError(t, err)
			}

			cfg, err := pgxpool.ParseConfig(pgtest.URL(t))
			require.NoError(t, err)
			cfg.MaxConns = 1 // one connection: its prepared statements and their plans carry over
			cfg.ConnConfig.RuntimeParams["search_path"] = schema + ", public"
			cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
			cfg.ConnConfig.RuntimeParams["statement_timeout"] = "60s"
			rec := &recorder{}
			cfg.ConnConfig.Tracer = rec
			pool, err := pgxpool.NewWithConfig(ctx, cfg)
			require.NoError(t, err)
			t.Cleanup(pool.Close)
			o := pipeline.NewOutbox(pool, salonID)
			send := func(answers, messages int) {
				t.Helper()
				qs, err := o.Due(ctx, "tg", answers, messages)
				require.NoError(t, err)
				require.NotEmpty(t, qs)
				var wg sync.WaitGroup
				errs := make(chan error, len(qs))
				for i, q := range qs {
					failure := ""
					if i%5 == 4 {
						failure = "refused"
					}
					wg.Go(func() { errs <- o.Done(ctx, q, failure) }) // together: written in batches
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					require.NoError(t, err)
				}
			}
			send(2, 5)
			send(2, 5)

			fill(history, waiting)
			rec.mu.Lock()
			rec.stmts = nil
			rec.phase = "burst"
			rec.mu.Unlock()
			const answers, messages, skipped = 10, 50, 5
			send(answers, messages)
			rec.phase = ""

			conn, err := pool.Acquire(ctx)
			require.NoError(t, err)
			defer conn.Release()
			// Each statement's last run: Done's batches grow as the sends
			// finish together.
			last := map[string]recorded{}
			var order []string
			for _, st := range rec.stmts {
				if st.phase != "burst" || !strings.Contains(st.sql, "outbox") {
					continue
				}
				if _, ok := last[st.sql]; !ok {
					order = append(order, st.sql)
				}
				last[st.sql] = st
			}
			for _, sql := range order {
				st := last[sql]
				name := "Done"
				if strings.Contains(sql, "DISTINCT ON") {
					name = "Due"
				}
				t.Run(name, func(t *testing.T) {
					var release func()
					if name == "Due" {
						// Another transaction holds the first heads Due
						// would take: it skips them (SKIP LOCKED).
						release = lockHeads(t, admin, schema, salonID, skipped)
					}
					plan := explainOnConn(t, conn.Conn(), st)
					if release != nil {
						release()
						checkLocks(t, st, plan, answers+messages, skipped)
					}
					var work float64
					checkProbes(t, st, plan, &work)
					// The waiting messages (by the partial index on unsent
					// ones) a few times over, and a probe per message taken
					// or sent; never the history.
					require.LessOrEqualf(t, work, 5.0*waiting, "%s reads %.0f rows:\n%s", st.sql, work, plan.Plan.tree(""))
					t.Logf("%.0f rows read, %d arguments: %s", work, len(st.args), strings.Join(strings.Fields(sql), " ")[:80])
				})
			}
			require.Len(t, order, 2, "Due and Done")
		})
	}
}

// explainOnConn runs st under EXPLAIN ANALYZE, rolled back, on conn: through
// the statement conn has prepared for st's text when there is one (pgx's
// statement cache; PostgreSQL reuses the plan it cached for it), else through
// one prepared now.
func explainOnConn(t *testing.T, conn *pgx.Conn, st recorded) explained {
	t.Helper()
	var args []any
	for _, a := range st.args {
		if _, mode := a.(pgx.QueryExecMode); !mode {
			args = append(args, a)
		}
	}
	var name string
	err := conn.QueryRow(ctx, `SELECT name FROM pg_prepared_statements WHERE statement = $1`, st.sql).Scan(&name)
	if err == pgx.ErrNoRows {
		name = "explained"
		_, err = conn.Exec(ctx, `PREPARE explained AS `+st.sql)
		require.NoError(t, err, st.sql)
		defer conn.Exec(context.Background(), `DEALLOCATE explained`) //nolint:errcheck
	}
	require.NoError(t, err)
	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx) //nolint:errcheck
	var types []string
	require.NoError(t, tx.QueryRow(ctx, `SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = $1`, name).Scan(&types))
	require.Len(t, types, len(args), st.sql)
	params := make([]string, len(args))
	for i, typ := range types {
		require.NoError(t, tx.QueryRow(ctx, `SELECT quote_nullable($1::`+typ+`)`, args[i]).Scan(&params[i]))
		params[i] += "::" + typ
	}
	var raw []byte
	err = tx.QueryRow(ctx, `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE `+pgx.Identifier{name}.Sanitize()+paren(params)).Scan(&raw)
	require.NoError(t, err, st.sql)
	var out []explained
	require.NoError(t, json.Unmarshal(raw, &out))
	out[0].raw = raw
	return out[0]
}

// checkProbes is checkPlan where a row lock taken per row (LockRows over a
// probe) counts as part of the probe.
func checkProbes(t *testing.T, st recorded, e explained, work *float64) {
	t.Helper()
	var walk func(n planNode)
	walk = func(n planNode) {
		if n.Loops > 1 {
			require.NotEqualf(t, "SubPlan", n.Parent, "a SubPlan runs per row (%.0f times):\n%s\n%s", n.Loops, st.sql, n.tree(""))
			probe := map[string]bool{"Index Scan": true, "Index Only Scan": true, "LockRows": true, "Limit": true, "Result": true, "Subquery Scan": true}[n.Type]
			require.Truef(t, probe && n.Rows <= 1 && n.Filtered+n.Recheck <= 1,
				"%s runs %.0f times, reading %.0f rows and dropping %.0f each time: not a probe of one row:\n%s\n%s",
				n.Type, n.Loops, n.Rows, n.Filtered+n.Recheck, st.sql, e.Plan.tree(""))
		}
		if strings.HasSuffix(n.Type, "Scan") && n.Type != "CTE Scan" && n.Type != "Subquery Scan" {
			*work += max(n.Loops, 1) * (n.Rows + n.Filtered + n.Recheck)
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(e.Plan)
}

// lockHeads locks, in a transaction of its own, the n unsent heads of the
// outbox in schema with the lowest ids (those a Due takes first), until the
// returned func rolls it back.
func lockHeads(t *testing.T, admin *pgxpool.Pool, schema, salonID string, n int) func() {
	t.Helper()
	tx, err := admin.Begin(ctx)
	require.NoError(t, err)
	var locked int
	require.NoError(t, tx.QueryRow(ctx, `
		WITH l AS (SELECT id FROM `+schema+`.outbox WHERE salon_id = $1 AND sent_at IS NULL AND failed IS NULL
		           AND (leased_until IS NULL OR leased_until < now()) ORDER BY id LIMIT $2 FOR UPDATE)
		SELECT count(*) FROM l`, salonID, n).Scan(&locked))
	require.Equal(t, n, locked)
	return func() { require.NoError(t, tx.Rollback(ctx)) }
}

// checkLocks: Due locks no more rows than it takes (limit, answers and
// messages together), trying no more heads than those and the skipped ones
// (rows another transaction holds). A plan that locked every ready head
// before its LIMIT read few rows per head too, and passed checkProbes.
func checkLocks(t *testing.T, st recorded, e explained, limit, skipped int) {
	t.Helper()
	var tries float64
	var walk func(n planNode)
	walk = func(n planNode) {
		if n.Type == "LockRows" {
			tries += n.Loops
			if n.Loops <= 1 {
				require.LessOrEqualf(t, n.Rows, float64(limit), "a LockRows locks %.0f rows, Due takes %d at most:\n%s\n%s",
					n.Rows, limit, st.sql, e.Plan.tree(""))
			}
		}
		for _, c := range n.Plans {
			walk(c)
		}
	}
	walk(e.Plan)
	require.Positive(t, tries, "no LockRows in Due's plan:\n%s", e.Plan.tree(""))
	require.LessOrEqualf(t, tries, float64(limit+skipped), "Due tries %.0f row locks to take %d rows (%d held elsewhere):\n%s\n%s",
		tries, limit, skipped, st.sql, e.Plan.tree(""))
	t.Logf("%.0f row locks tried to take %d rows, %d held elsewhere", tries, limit, skipped)
}

// tree is n's plan, a node a line.
func (n planNode) tree(indent string) string {
	s := fmt.Sprintf("%s%s %s %s %s rows=%.0f loops=%.0f removed=%.0f\n", indent, n.Parent, n.Type, n.Relation, n.Index, n.Rows, n.Loops, n.Filtered+n.Recheck)
	for _, c := range n.Plans {
		s += c.tree(indent + "  ")
	}
	return s
}
