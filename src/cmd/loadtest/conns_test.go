package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestChannelsReuseWebhookConnections: the WhatsApp fake's deliveries to the
// webhook, as many at once as a converse run has clients (1,000), go over the
// connections the first round opened, round after round. Each round's
// deliveries are all answered only once all have arrived, so a round holds
// one connection per delivery; whatsapptest's own client kept 256 of them.
// (Telegram delivers at most max_connections at once, 40, and telegramtest's
// client keeps 100.)
func TestChannelsReuseWebhookConnections(t *testing.T) {
	t.Parallel()
	const inFlight, rounds = 1000, 3
	for _, name := range []string{"whatsapp"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ch, err := newChannel(name, "raised", inFlight)
			require.NoError(t, err)
			defer ch.close()
			var opened atomic.Int64
			var mu sync.Mutex
			arrived, all := 0, make(chan struct{})
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				arrived++
				round := all
				if arrived == inFlight {
					arrived, all = 0, make(chan struct{})
					close(round)
				}
				mu.Unlock()
				select {
				case <-round: // every delivery of the round is in flight
				case <-r.Context().Done():
					return
				}
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					opened.Add(1)
				}
			}
			srv.Start()
			defer srv.Close()
			require.NoError(t, ch.hook(strings.TrimPrefix(srv.URL, "http://")))
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for r := range rounds {
				var wg sync.WaitGroup
				statuses := make(chan int, inFlight)
				for i := range inFlight {
					wg.Go(func() {
						status, err := ch.deliver(ctx, ch.text(r*inFlight+i, "hi").body)
						if err != nil {
							status = -1
						}
						statuses <- status
					})
				}
				wg.Wait()
				close(statuses)
				for s := range statuses {
					require.Equal(t, http.StatusOK, s)
				}
			}
			require.LessOrEqual(t, opened.Load(), int64(inFlight+inFlight/2),
				"%d rounds of %d deliveries at once opened %d connections", rounds, inFlight, opened.Load())
			t.Logf("%d rounds of %d deliveries at once: %d connections opened", rounds, inFlight, opened.Load())
		})
	}
}
