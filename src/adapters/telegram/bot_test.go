package telegram_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/go-telegram/bot"
	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/telegram"
	"salonbook/src/adapters/telegram/telegramtest"
)

func TestNewBot(t *testing.T) {
	t.Parallel()

	t.Run("EmptyToken", func(t *testing.T) {
		t.Parallel()
		_, err := telegram.NewBot(" ", "", nil, nil)
		require.Error(t, err)
	})

	t.Run("SendsThroughTheGivenServer", func(t *testing.T) {
		t.Parallel()
		srv, u := telegramtest.Start(t, telegramtest.Options{})
		var logs bytes.Buffer
		b, err := telegram.NewBot(srv.Token(), u+"/", nil, slog.New(slog.NewTextHandler(&logs, nil)))
		require.NoError(t, err)
		me, err := b.GetMe(t.Context())
		require.NoError(t, err)
		require.Equal(t, "salonbook_bot", me.Username)
		require.Empty(t, logs.String())
	})
}

func TestRegisterWebhook(t *testing.T) {
	t.Parallel()

	t.Run("InvalidSecret", func(t *testing.T) {
		t.Parallel()
		srv, u := telegramtest.Start(t, telegramtest.Options{})
		b, err := telegram.NewBot(srv.Token(), u, nil, nil)
		require.NoError(t, err)
		for _, s := range []string{"", "has space", "ümlaut", strings.Repeat("s", 257)} {
			require.Error(t, telegram.RegisterWebhook(t.Context(), b, "https://salon.example/telegram/webhook", s))
		}
		info, err := b.GetWebhookInfo(t.Context())
		require.NoError(t, err)
		require.Empty(t, info.URL, "nothing was registered")
	})

	t.Run("RefusalKeepsTelegramsReasonNotTheToken", func(t *testing.T) {
		t.Parallel()
		srv, u := telegramtest.Start(t, telegramtest.Options{RequireHTTPSWebhook: true})
		b, err := telegram.NewBot(srv.Token(), u, nil, nil)
		require.NoError(t, err)
		err = telegram.RegisterWebhook(t.Context(), b, "http://salon.example/telegram/webhook", secret)
		require.ErrorIs(t, err, bot.ErrorBadRequest)
		require.Contains(t, err.Error(), "HTTPS URL must be provided")
		require.NotContains(t, err.Error(), srv.Token())
	})

	t.Run("Unauthorized", func(t *testing.T) {
		t.Parallel()
		_, u := telegramtest.Start(t, telegramtest.Options{})
		b, err := telegram.NewBot("7000000001:NotTheTokenAtAll", u, nil, nil)
		require.NoError(t, err)
		err = telegram.RegisterWebhook(t.Context(), b, "https://salon.example/telegram/webhook", secret)
		require.ErrorIs(t, err, bot.ErrorUnauthorized)
		require.NotContains(t, err.Error(), "NotTheToken")
	})
}
