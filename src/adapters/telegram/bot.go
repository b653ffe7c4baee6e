package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// DefaultAPIURL is Telegram's Bot API server.
const DefaultAPIURL = "https://api.telegram.org"

// pollTimeout is go-telegram's long-poll length (it asks Telegram for one second
// less); the HTTP client's timeout must exceed it.
const pollTimeout = time.Minute

// NewBot builds the go-telegram client for the bot with token, talking to apiURL
// (DefaultAPIURL when empty; the fake's URL in tests and demos) through
// httpClient (when nil, a client whose 70 s timeout outlasts a long poll). It
// makes no request: getMe is skipped.
//
// go-telegram's default update handler logs whole updates and its default error
// handler prints raw errors, so both are replaced: updates are not handled here
// (the webhook stores them, the pipeline handles them), and client errors are
// logged as their class only. Debug logging, which prints request payloads, is
// never turned on.
func NewBot(token, apiURL string, httpClient *http.Client, log *slog.Logger) (*bot.Bot, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: pollTimeout + 10*time.Second}
	}
	if strings.TrimSpace(token) == "" {
		return nil, errors.New("telegram: new bot: the bot token is empty")
	}
	b, err := bot.New(token,
		bot.WithServerURL(strings.TrimRight(apiURL, "/")),
		bot.WithSkipGetMe(),
		bot.WithHTTPClient(pollTimeout, httpClient),
		bot.WithDefaultHandler(func(context.Context, *bot.Bot, *models.Update) {}),
		bot.WithErrorsHandler(func(err error) {
			class, _ := classify(err)
			log.Warn("telegram client", slog.String("error", class))
		}),
		bot.WithDebugHandler(func(string, ...any) {}),
	)
	if err != nil {
		// bot.New fails only for an empty token when getMe is skipped.
		return nil, errors.New("telegram: new bot: rejected by the client")
	}
	return b, nil
}

// RegisterWebhook points Telegram at url, which must serve NewWebhook with the
// same secret, for messages, callback queries and pre-checkout queries only. secret must be 1 to 256
// characters of A-Z, a-z, 0-9, '_' and '-', as Telegram requires; it is sent
// back on every delivery. Telegram's own explanation of a refusal (such as
// "bad webhook: An HTTPS URL must be provided for webhook") is kept in the
// error, with the token masked; other failures give their class only.
func RegisterWebhook(ctx context.Context, b *bot.Bot, url, secret string) error {
	if !validSecret(secret) {
		return errors.New("telegram: set webhook: the secret must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
	}
	_, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: url, SecretToken: secret, AllowedUpdates: []string{
		// The Decoder reads the first two kinds; the webhook answers
		// pre-checkout queries itself (AnswerPreCheckout).
		models.AllowedUpdateMessage, models.AllowedUpdateCallbackQuery, models.AllowedUpdatePreCheckoutQuery,
	}})
	if err == nil {
		return nil
	}
	if errors.Is(err, bot.ErrorBadRequest) {
		// go-telegram formats these as "bad request, <Telegram's description>".
		_, desc, _ := strings.Cut(err.Error(), ", ")
		if token := b.Token(); token != "" {
			desc = strings.ReplaceAll(desc, token, "***")
		}
		return fmt.Errorf("telegram: set webhook: %q: %w", desc, bot.ErrorBadRequest)
	}
	return failed("setWebhook", err)
}

// validSecret reports whether s is a valid secret_token.
func validSecret(s string) bool {
	if len(s) < 1 || len(s) > 256 {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
