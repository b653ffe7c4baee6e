// Command loadtest is salonbook's load harness and its fake chat platforms,
// kept out of the production binary (salonbook links no fake and no test
// server):
//
//	loadtest run -db URL [flags]     drive salonbook serve with simulated clients through a fake
//	loadtest reminders -db URL       10,000 bookings' reminders through a fake, the clock moved forward
//	loadtest waitlist -db URL        freed times offered to a wait-list (issue 13's load run)
//	loadtest fake-telegram [-addr]   serve the fake Telegram Bot API, for demos
//	loadtest fake-whatsapp [-addr]   serve the fake WhatsApp Graph API, for demos
//	loadtest fake-meta [-addr]       serve the fake Meta Conversions API, for demos
//
// run needs the salonbook binary (-server; by default bin/salonbook, found from
// the working directory up, or salonbook beside this program): it migrates the
// database and applies the demo salon under a fresh id with it, then runs its
// serve as a process of its own against the fake. scripts/loadtest.sh builds
// both and runs the usual modes. Configuration is by flags only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

const usage = `usage:
  loadtest run -db URL [-channel telegram|whatsapp] [-limits raised|telegram|whatsapp] [-kill] [flags]
  loadtest reminders -db URL [-bookings 10000] [-window 48h] [-speed 200] [-kill] [flags]
  loadtest waitlist -db URL [-freed 1000] [-per-time 3] [-offer 1m] [flags]
  loadtest fake-telegram [-addr 127.0.0.1:8081] [-limits telegram|off]
  loadtest fake-whatsapp [-addr 127.0.0.1:8082] [-limits whatsapp|off] [-webhook http://127.0.0.1:8080/whatsapp/webhook]
  loadtest fake-meta [-addr 127.0.0.1:8083]
  loadtest <command> -h   lists a command's flags
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(strings.TrimSpace(usage))
	}
	fs := flag.NewFlagSet("loadtest "+args[0], flag.ContinueOnError)
	fs.SetOutput(out)
	switch args[0] {
	case "run":
		return runLoadtest(ctx, fs, args[1:], out)
	case "reminders":
		return runReminders(ctx, fs, args[1:], out)
	case "waitlist":
		return runWaitlistLoad(ctx, fs, args[1:], out)
	case "fake-telegram":
		addr := fs.String("addr", "127.0.0.1:8081", "listen on this address")
		limits := fs.String("limits", "telegram", "telegram (Telegram's flood limits) or off")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return runFakeTelegram(ctx, *addr, *limits, out)
	case "fake-whatsapp":
		addr := fs.String("addr", "127.0.0.1:8082", "listen on this address")
		limits := fs.String("limits", "whatsapp", "whatsapp (Meta's throughput and pair limits) or off")
		webhook := fs.String("webhook", "http://127.0.0.1:8080/whatsapp/webhook", "salonbook's webhook, where a person's messages go")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return runFakeWhatsApp(ctx, *addr, *limits, *webhook, out)
	case "fake-meta":
		addr := fs.String("addr", "127.0.0.1:8083", "listen on this address")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return runFakeMeta(ctx, *addr, out)
	case "help", "-h", "--help":
		fmt.Fprint(out, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], strings.TrimSpace(usage))
}

// runLoadtest is `loadtest run`: one run of the harness, its figures printed,
// and an error (exit status 1) when the verdict fails.
func runLoadtest(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	o := ltOptions{Log: out}
	var seed uint64
	fs.StringVar(&o.DatabaseURL, "db", "", "PostgreSQL URL (required; scripts/db.sh url prints the private cluster's)")
	fs.StringVar(&o.ServerBin, "server", "", "the salonbook binary (default bin/salonbook here or above, or salonbook beside this program)")
	fs.StringVar(&o.Channel, "channel", "telegram", "telegram or whatsapp")
	fs.StringVar(&o.Limits, "limits", "raised", "raised (the fake's limits off, the sender's raised) or the platform's: telegram, whatsapp")
	fs.StringVar(&o.SalonFile, "salon", "", "the salon file, applied under a fresh id (default scripts/demo-salon.yaml here or above)")
	fs.IntVar(&o.Clients, "clients", 1000, "simulated clients")
	fs.IntVar(&o.Parallel, "parallel", 200, "clients in flight at once")
	fs.IntVar(&o.Workers, "workers", 4, "the server's workers (TELEGRAM_WORKERS, WHATSAPP_WORKERS; the default is serve's)")
	fs.Uint64Var(&seed, "seed", 1, "the clients' random choices")
	fs.DurationVar(&o.Timeout, "timeout", 0, "the whole conversation phase (default 4m; the platform's limits 8m; -kill 10m)")
	fs.DurationVar(&o.ReplyTimeout, "reply-timeout", 0, "a client waiting longer for a reply is stuck (default 90s; -kill 6m)")
	fs.BoolVar(&o.Kill, "kill", false, "SIGKILL the server mid-run and start it again; counts after the outbox lease (minutes)")
	fs.IntVar(&o.KillAt, "kill-at", 0, "with -kill: SIGKILL after this many acknowledgements (default 5 per client)")
	fs.BoolVar(&o.Converse, "converse", false, "the conversational burst: every client at once, thinking -think between a reply and its next step, no paced phase")
	fs.DurationVar(&o.Think, "think", 0, "with -converse: a client's think time after each reply (0.5 to 1.5 of it; 0: act at once, the ceiling)")
	fs.Float64Var(&o.MinStepsPerSec, "min-steps", 0, "fail below this many dialog steps (replies) per second (0: not checked)")
	fs.DurationVar(&o.MaxAckP99, "max-ack-p99", 0, "fail when the acknowledgements' p99 is above this (0: not checked)")
	fs.IntVar(&o.MaxServerMB, "max-server-mb", 0, "fail when the server's peak memory is this many MB or more (0: not checked)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("run: unexpected arguments %q", fs.Args())
	}
	if o.DatabaseURL == "" {
		return errors.New("run: -db is required (a PostgreSQL URL; e.g. -db \"$(scripts/db.sh url)\")")
	}
	if o.Clients < 1 || o.Parallel < 1 || o.Workers < 1 || seed < 1 || o.KillAt < 0 {
		return errors.New("run: -clients, -parallel, -workers and -seed must be positive")
	}
	o.Seed = seed
	replyTimeout, timeout := 90*time.Second, 4*time.Minute
	if o.Limits != "raised" {
		// About 8,700 replies at Telegram's 30/s take about five minutes.
		timeout = 8 * time.Minute
	}
	if o.Kill {
		// Messages a killed sender had leased wait out the outbox lease (outboxLease).
		replyTimeout, timeout = 6*time.Minute, 10*time.Minute
		if o.KillAt == 0 {
			o.KillAt = 5 * o.Clients
		}
	}
	if o.Timeout == 0 {
		o.Timeout = timeout
	}
	if o.ReplyTimeout == 0 {
		o.ReplyTimeout = replyTimeout
	}
	var err error
	if o.SalonFile == "" {
		if o.SalonFile, err = findUp(filepath.Join("scripts", "demo-salon.yaml")); err != nil {
			return fmt.Errorf("%w (or pass -salon)", err)
		}
	}
	if o.ServerBin == "" {
		if o.ServerBin, err = serverBinary(); err != nil {
			return err
		}
	}
	r, err := loadtest(ctx, o)
	if err != nil {
		return err
	}
	r.print(out)
	return r.verdict()
}

// runReminders is `loadtest reminders`: one reminder load run, its figures
// printed, and an error (exit status 1) when the verdict fails.
func runReminders(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	o := rmOptions{Log: out}
	fs.StringVar(&o.DatabaseURL, "db", "", "PostgreSQL URL (required; scripts/db.sh url prints the private cluster's)")
	fs.StringVar(&o.ServerBin, "server", "", "the salonbook binary (default bin/salonbook here or above, or salonbook beside this program)")
	fs.IntVar(&o.Bookings, "bookings", 10_000, "confirmed bookings, each from a Telegram chat of its own")
	fs.DurationVar(&o.Window, "window", 48*time.Hour, "the bookings start within this much after the run's start, evenly")
	fs.IntVar(&o.Speed, "speed", 200, "the server's clock runs this many times faster than real time (200: two days in 14.4 min; the reminders of the first day fall due at 23/s)")
	fs.IntVar(&o.Parallel, "parallel", 8, "writers seeding the bookings")
	fs.BoolVar(&o.Kill, "kill", false, "SIGKILL the server mid-run and start it again; counts after the outbox lease")
	fs.Float64Var(&o.KillAt, "kill-at", 0.5, "with -kill: when, as a share of the time to the last due reminder")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("reminders: unexpected arguments %q", fs.Args())
	}
	if o.DatabaseURL == "" {
		return errors.New("reminders: -db is required (a PostgreSQL URL; e.g. -db \"$(scripts/db.sh url)\")")
	}
	if o.Bookings < 1 || o.Parallel < 1 || o.Speed < 1 || o.Speed > 100_000 || o.Window < time.Hour || o.KillAt <= 0 || o.KillAt >= 1 {
		return errors.New("reminders: -bookings and -parallel must be positive, -speed 1..100000, -window at least 1h, -kill-at between 0 and 1")
	}
	if o.ServerBin == "" {
		var err error
		if o.ServerBin, err = serverBinary(); err != nil {
			return err
		}
	}
	r, err := reminderLoad(ctx, o)
	if err != nil {
		return err
	}
	r.print(out)
	return r.verdict()
}

// serverBinary finds the salonbook binary: bin/salonbook in the working
// directory or above (make build), or salonbook beside this program.
func serverBinary() (string, error) {
	if p, err := findUp(filepath.Join("bin", "salonbook")); err == nil {
		return p, nil
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), "salonbook")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("run: no salonbook binary: build it (make build, or go build -o bin/salonbook ./src/cmd/salonbook) or pass -server")
}

// runWaitlistLoad is `loadtest waitlist`: one wait-list run, its figures
// printed, and an error (exit status 1) when the verdict fails.
func runWaitlistLoad(ctx context.Context, fs *flag.FlagSet, args []string, out io.Writer) error {
	o := wlOptions{Log: out}
	fs.StringVar(&o.DatabaseURL, "db", "", "PostgreSQL URL (required)")
	fs.StringVar(&o.ServerBin, "server", "", "the salonbook binary (default bin/salonbook here or above, or salonbook beside this program)")
	fs.IntVar(&o.Freed, "freed", 1000, "bookings cancelled: the freed times, one per master and day")
	fs.IntVar(&o.PerTime, "per-time", 3, "wait-list entries (chats) that fit each freed time")
	fs.IntVar(&o.Masters, "masters", 20, "masters")
	fs.DurationVar(&o.Offer, "offer", time.Minute, "policy.waitlist_offer: how long an offer holds its time (whole minutes)")
	fs.IntVar(&o.BookPct, "book", 10, "percent of offers answered \"Book it\"")
	fs.IntVar(&o.DeclinePct, "decline", 10, "percent of offers answered \"No, thanks\"")
	fs.IntVar(&o.Parallel, "parallel", 16, "fill and cancel requests in flight")
	fs.StringVar(&o.Limits, "limits", "raised", "raised (the fake's limits off, the sender's raised) or telegram")
	fs.Uint64Var(&o.Seed, "seed", 1, "who presses what")
	fs.DurationVar(&o.Timeout, "timeout", 0, "the offers phase (default per-time offers plus 2m)")
	fs.BoolVar(&o.Lapse, "lapse", false, "end unanswered offers at once (their expiry set to now) instead of waiting -offer; timings then mean nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("waitlist: unexpected arguments %q", fs.Args())
	}
	if o.DatabaseURL == "" {
		return errors.New("waitlist: -db is required (a PostgreSQL URL)")
	}
	if o.Freed < 1 || o.PerTime < 1 || o.Masters < 1 || o.Parallel < 1 || o.Seed < 1 || o.BookPct < 0 || o.DeclinePct < 0 ||
		o.BookPct+o.DeclinePct > 100 || o.Offer < time.Minute || o.Offer%time.Minute != 0 {
		return errors.New("waitlist: -freed, -per-time, -masters, -parallel and -seed must be positive, -book + -decline at most 100, -offer whole minutes")
	}
	if o.ServerBin == "" {
		var err error
		if o.ServerBin, err = serverBinary(); err != nil {
			return err
		}
	}
	r, err := loadtestWaitlist(ctx, o)
	if err != nil {
		return err
	}
	r.print(out)
	return r.verdict()
}
