package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/web/desk"
	"salonbook/src/core"
)

// runFeed gives a master of the salon served (SALONBOOK_SALON, or the only
// one) a new calendar feed and prints its link, once: only the secret's hash
// is stored. A master who had a feed gets a new secret; the old link answers
// 404 from then on. The link starts with PUBLIC_URL; without it, the path is
// printed, to be put after the server's public address.
func runFeed(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return errors.New("usage: salonbook feed MASTER   (prints a new calendar feed link; the old one stops working)")
	}
	master := strings.TrimSpace(args[0])
	cfg, err := loadConfig(getenv, need{database: true})
	if err != nil {
		return err
	}
	pool, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	salonID, err := pickSalon(ctx, pool, cfg.SalonID)
	if err != nil {
		return err
	}
	secret, hash := desk.NewFeedSecret()
	if err := postgres.NewDesk(pool).SetFeed(ctx, salonID, master, hash, "cli", time.Now()); err != nil {
		if core.ErrorCode(err) == core.ENotFound {
			return fmt.Errorf("feed: %q is not an active master of salon %s (masters are listed in the salon file)", master, salonID)
		}
		return fmt.Errorf("feed: %w", err)
	}
	if cfg.PublicURL == "" {
		fmt.Fprintf(out, "%s\n(PUBLIC_URL is not set: put the server's public address before this path)\n",
			desk.FeedURL("", secret))
	} else {
		fmt.Fprintln(out, desk.FeedURL(cfg.PublicURL, secret))
	}
	fmt.Fprintf(out, "calendar feed of %s in salon %s: subscribe to this link once; any older link of %s no longer works\n",
		master, salonID, master)
	return nil
}
