package main

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/adapters/metrics"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/core"
	"salonbook/src/core/dialog"
	"salonbook/src/core/i18n"
	"salonbook/src/core/messaging"
)

// channelSpec is what makes a chat platform a channel of the shared pipeline;
// startChannel does the rest. A channel takes updates either by a webhook
// (Webhook) or by polling (Poll).
type channelSpec struct {
	Name    string // the channel in the inbox and the outbox, and the sender's lock
	Workers int    // dialog steps at once
	Decoder messaging.Decoder
	Limits  messaging.Limits // the sender's
	// Ads notes the ad clicks updates carry (messaging.Worker.Ads); nil:
	// none are kept (reporting to Meta is off for the channel).
	Ads     messaging.Ads
	IsGroup func(chatID string) bool // nil: the platform has no group chats
	// ReplyKeyboard: the contact button stays until a message removes it
	// (messaging.Worker.ReplyKeyboard; Telegram).
	ReplyKeyboard bool
	// SendsReadPool: the Transport's sends read the channel's pool (WhatsApp's
	// 24-hour window): then no more sends are in flight than the pool keeps for
	// them (senderConns), not senderParallel.
	SendsReadPool bool
	// Webhook is the handler mounted at /<Name>/webhook: it stores updates
	// through gc, which commits the rows of concurrent requests together and
	// answers each once its own row is durable. pool is the channel's own, for
	// what else the webhook records.
	Webhook func(pool *pgxpool.Pool, gc *pipeline.GroupCommit) http.Handler
	// Poll, set instead of Webhook, returns what takes updates into inbox
	// until its context ends.
	Poll func(pool *pgxpool.Pool, inbox *pipeline.Inbox) func(context.Context) error
	// Transport is what the sender sends the outbox's messages with.
	Transport func(pool *pgxpool.Pool) messaging.Transport
	// Started, when set, runs once the channel is wired, before anything of it
	// runs (such as registering the webhook with the platform); its error stops
	// the start.
	Started func(ctx context.Context) error
}

// startChannel runs a channel on the shared pipeline: its webhook or poller
// (stores updates in the inbox), workers (one dialog step per update, replies
// to the outbox) and the sender (within spec.Limits; one process at a time
// sends for the channel). They use a pool of their own (see runServe). The
// returned func closes the group commit, then the pool: call it after the
// HTTP server has finished its requests and bg has ended.
func startChannel(ctx, bg context.Context, wg *sync.WaitGroup, mux *http.ServeMux, dbURL, salonID string,
	chat *dialog.Service, catalog *i18n.Catalog, log *slog.Logger, spec channelSpec, m *metrics.Metrics) (func(), error) {
	// The pool counts a connection for each worker, the sends in flight
	// (senderConns: their Done calls are written together, their other writes
	// wait for one of senderConns slots, Outbox.SetConns), the sender's leader lock (held while this process sends), the
	// webhook's group-commit flushers and two to spare, so a burst of steps never
	// starves the acks.
	gcOpts := pipeline.GroupCommitOptions{Flushers: webhookFlushers}
	pool, err := pipeline.Open(ctx, dbURL, int32(spec.Workers+senderConns+1+2+gcOpts.Flushers))
	if err != nil {
		return nil, err
	}
	closePool := pool.Close
	m.AddPool(spec.Name, pool)
	inbox, outbox := pipeline.NewInbox(pool, salonID), pipeline.NewOutbox(pool, salonID)
	outbox.SetConns(senderConns)        // the sends' unbatched writes (a provider id, a postponement, a block)
	var awaitAcks func(context.Context) // webhook deliveries waiting for their commit go first
	var poll func(context.Context) error
	if spec.Poll != nil {
		poll = spec.Poll(pool, inbox)
	} else {
		// Closed after the HTTP server has finished its requests (closers run
		// then), before the pool.
		gc := pipeline.NewGroupCommit(pool, salonID, gcOpts)
		mux.Handle("/"+spec.Name+"/webhook", spec.Webhook(pool, gc))
		awaitAcks = func(ctx context.Context) { gc.AwaitAnswered(ctx, webhookAckWait) }
		closePool = func() { gc.Close(); pool.Close() }
	}
	wake := make(chan struct{}, 1) // a step committed replies: the sender looks
	worker := &messaging.Worker{
		SalonID: salonID, Channel: spec.Name, Inbox: inbox, Decoder: spec.Decoder, Chat: chat, Log: log, AwaitAcks: awaitAcks, Ads: spec.Ads, ReplyKeyboard: spec.ReplyKeyboard,
		Clock: core.MonotonicClock{}, // it paces: durations, never stored
		Batch: workerBatch,
		Queued: func() {
			select { // the sender looks at once (it may be in another process: then it polls)
			case wake <- struct{}{}:
			default:
			}
		},
		FloodNotice: func(hint string) string {
			return catalog.Printer(catalog.Match(hint, catalog.Languages()), time.UTC).T("flood.notice")
		},
	}
	parallel := senderParallel
	if spec.SendsReadPool {
		parallel = senderConns
	}
	sender := &messaging.Sender{Parallel: parallel, Clock: core.MonotonicClock{}, // its buckets measure durations
		Channel: spec.Name, Outbox: outbox, Transport: spec.Transport(pool), Log: log, Limits: spec.Limits, IsGroup: spec.IsGroup,
		Observer: m, // sends by outcome, 429 waits
		Wake:     wake,
	}
	// The sender's limits live in memory: one process at a time sends for the
	// channel, the others' senders wait for the lock (see pipeline.Leader).
	leader := pipeline.NewLeader(pool, salonID, spec.Name, log)
	if spec.Started != nil {
		// Before the poller, the workers and the sender start: closing the pool
		// on this error waits for every connection they hold (the leader holds
		// one until bg ends), which would hang serve.
		if err := spec.Started(ctx); err != nil {
			closePool()
			return nil, err
		}
	}
	if poll != nil {
		wg.Go(func() {
			if err := poll(bg); err != nil {
				log.Error(spec.Name+" polling stopped", slog.String("error", err.Error()))
			}
		})
	}
	wg.Go(func() { worker.Run(bg, spec.Workers) })
	wg.Go(func() { leader.Run(bg, sender.Run) })
	return closePool, nil
}
