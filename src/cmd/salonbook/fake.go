package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"salonbook/src/adapters/telegram/telegramtest"
)

// runFakeTelegram serves the fake Bot API (telegramtest) until ctx ends (SIGTERM),
// for demos and load tests: point TELEGRAM_API_URL at the printed URL and
// TELEGRAM_BOT_TOKEN at the printed token. Configured by the environment only:
// FAKE_TELEGRAM_ADDR (default 127.0.0.1:8081) and FAKE_TELEGRAM_LIMITS
// ("telegram", the default: Telegram's flood limits; "off": none).
func runFakeTelegram(ctx context.Context, getenv func(string) string, out io.Writer) error {
	addr := getenv("FAKE_TELEGRAM_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8081"
	}
	var opts telegramtest.Options
	switch getenv("FAKE_TELEGRAM_LIMITS") {
	case "", "telegram":
	case "off":
		opts.Limits = &telegramtest.Limits{}
	default:
		return errors.New("config: FAKE_TELEGRAM_LIMITS must be telegram or off")
	}
	fake := telegramtest.New(opts)
	defer fake.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("FAKE_TELEGRAM_ADDR %s: %w", addr, err)
	}
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	// The fake's token is a fixed test token, not a secret: printing it is the point.
	fmt.Fprintf(out, "fake Telegram Bot API on http://%s (limits: %s)\nTELEGRAM_API_URL=http://%s\nTELEGRAM_BOT_TOKEN=%s\n",
		ln.Addr(), map[bool]string{true: "off", false: "telegram"}[opts.Limits != nil], ln.Addr(), fake.Token())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fake.Close() // ends long polls first
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}
