package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/whatsapp"
	"salonbook/src/core/adreport"
)

// TestProviderClientsReuseConnections: the sends a sender has in flight at
// once, round after round, go over the connections the first round opened.
// Each round's requests are all answered only once all have arrived, so a
// round holds one connection per send; the default transport then kept 2 of
// them and every later round opened the others again (Telegram, 32 in flight:
// 32 + 30 per round). The clients are serve's (telegramBot, cloudAPIClient),
// as many sends in flight as the channel's sender has (sendsInFlight).
func TestProviderClientsReuseConnections(t *testing.T) {
	t.Parallel()
	const rounds = 8
	for _, tc := range []struct {
		name     string
		inFlight int
		answer   string
		client   func(t *testing.T, url string) func(context.Context) error // one send
	}{
		{
			name: "telegram", inFlight: telegramSpec(TelegramConfig{}).sendsInFlight(),
			answer: `{"ok":true,"result":{"message_id":1,"date":1,"chat":{"id":1,"type":"private"},"text":"hi"}}`,
			client: func(t *testing.T, url string) func(context.Context) error {
				b, err := telegramBot(TelegramConfig{Token: "123:token", APIURL: url}, nil)
				require.NoError(t, err)
				return func(ctx context.Context) error {
					_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: 1, Text: "hi"})
					return err
				}
			},
		},
		{
			name: "whatsapp", inFlight: whatsAppSpec(WhatsAppConfig{}).sendsInFlight(),
			answer: `{"messaging_product":"whatsapp","messages":[{"id":"wamid.x"}]}`,
			client: func(_ *testing.T, url string) func(context.Context) error {
				c := cloudAPIClient(WhatsAppConfig{APIURL: url, APIVersion: "v21.0", PhoneNumberID: "1", Token: "t"})
				return func(ctx context.Context) error {
					_, err := c.Send(ctx, whatsapp.Message{})
					return err
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var opened atomic.Int64
			var mu sync.Mutex
			arrived, all := 0, make(chan struct{})
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				arrived++
				round := all
				if arrived == tc.inFlight {
					arrived, all = 0, make(chan struct{})
					close(round)
				}
				mu.Unlock()
				select {
				case <-round: // every send of the round is in flight
				case <-r.Context().Done():
					return
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = fmt.Fprint(w, tc.answer)
			}))
			srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
				if s == http.StateNew {
					opened.Add(1)
				}
			}
			srv.Start()
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			send := tc.client(t, srv.URL)
			for range rounds {
				var wg sync.WaitGroup
				errs := make(chan error, tc.inFlight)
				for range tc.inFlight {
					wg.Go(func() { errs <- send(ctx) })
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					require.NoError(t, err)
				}
			}
			// A connection may be dialled anew when a send starts in the
			// instant between the previous answer's read and its connection
			// going back to the idle pool: allow that, not a round's worth.
			require.LessOrEqual(t, opened.Load(), int64(tc.inFlight+tc.inFlight/2),
				"%d rounds of %d sends in flight opened %d connections", rounds, tc.inFlight, opened.Load())
			t.Logf("%d rounds of %d sends in flight: %d connections opened", rounds, tc.inFlight, opened.Load())
		})
	}
}

// TestMetaClientKeepsItsConnections: the Conversions API client sends on a
// transport of its own keeping a connection per report sent at once. Its
// reuse cannot be told apart by connections opened: adsWorkers is 2, as many
// as the default transport keeps.
func TestMetaClientKeepsItsConnections(t *testing.T) {
	t.Parallel()
	c := metaOptions(MetaConfig{}).HTTPClient
	require.NotNil(t, c)
	tr, ok := c.Transport.(*http.Transport)
	require.True(t, ok, "a transport of its own, not http.DefaultTransport shared with every other client: %T", c.Transport)
	require.NotSame(t, http.DefaultTransport, tr)
	require.Equal(t, adsWorkers, tr.MaxIdleConnsPerHost)
	require.Equal(t, adreport.DefaultSendLimit, c.Timeout)
}
