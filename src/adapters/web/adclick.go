package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"
)

// ClicksPerMinute is how many ad clicks GET /go/telegram stores a minute
// (all visitors together); past it a visitor still reaches the bot, without
// a code: the link is public, and must not fill the table.
const ClicksPerMinute = 600

// ClicksPerAddr is how many ad clicks one client address (an IPv6 /64; the
// client's behind a trusted proxy, ClientAddr) may have stored per 10
// minutes by default (Config.ClicksPerAddr): one script cannot use up the
// minute's budget.
const ClicksPerAddr = 10

const clicksPerAddrWindow = 10 * time.Minute

// clickBudget counts the clicks stored in the current minute.
type clickBudget struct {
	mu    sync.Mutex
	start time.Time
	n     int
}

// refusals counts the clicks a limit kept from being stored, logged at most
// once a minute (a flood must not flood the log), without any address.
type refusals struct {
	mu     sync.Mutex
	logged time.Time
	n      map[string]int // by the limit
}

func (f *refusals) note(log *slog.Logger, why string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == nil {
		f.n = map[string]int{}
	}
	f.n[why]++
	if !f.logged.IsZero() && now.Sub(f.logged) < time.Minute && !now.Before(f.logged) {
		return
	}
	log.Warn("ad clicks not stored: over the limit (the visitors still reach the bot)",
		slog.Int("per_address", f.n["per_address"]), slog.Int("per_minute", f.n["per_minute"]))
	f.logged, f.n = now, nil
}

func (b *clickBudget) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(b.start) >= time.Minute || now.Before(b.start) {
		b.start, b.n = now, 0
	}
	b.n++
	return b.n <= ClicksPerMinute
}

// AdClicks stores ad clicks (postgres.AdReports).
type AdClicks interface {
	// Click stores the click fbclid made at at and returns a code of at most
	// 64 characters of A-Z, a-z, 0-9, _ and - (a deep link's start
	// parameter) that names it.
	Click(ctx context.Context, salonID, fbclid string, at time.Time) (string, error)
}

// fbclidRE is what a click id may be to be kept: Meta's are URL-safe
// base64-like strings; anything else is not passed on.
var fbclidRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,500}$`)

// goTelegram is an ad's destination: GET /go/telegram?fbclid=… stores the
// click under a short code and redirects (302) to the bot's deep link
// https://t.me/<bot>?start=<code>, whose /start ties the click to the chat.
// A whole fbclid may not fit a start parameter (at most 64 characters), so
// only the code travels. Without a usable fbclid, on a HEAD, past
// Config.ClicksPerAddr or ClicksPerMinute (logged, at most once a minute,
// without the address), or when the click cannot be stored, the client
// still reaches the bot (no start parameter): a visit is never lost to the
// measurement.
func (a *api) goTelegram(w http.ResponseWriter, r *http.Request) {
	target := "https://t.me/" + url.PathEscape(a.cfg.TelegramBot)
	now := a.cfg.Clock.Now()
	// A HEAD (a link checker, a preview) stores nothing.
	fbclid := r.URL.Query().Get("fbclid")
	ok := r.Method == http.MethodGet && fbclidRE.MatchString(fbclid)
	if ok && a.clicksBy != nil && !a.clicksBy.allow(ClientAddr(r, a.cfg.TrustedProxies), now) {
		ok = false
		a.clickRefusals.note(a.cfg.Logger, "per_address", now)
	}
	if ok && !a.clicks.allow(now) {
		ok = false
		a.clickRefusals.note(a.cfg.Logger, "per_minute", now)
	}
	if ok {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		code, err := a.cfg.AdClicks.Click(ctx, a.cfg.SalonID, fbclid, now)
		if err != nil {
			a.cfg.Logger.Warn("ad click not stored", slog.String("error", err.Error()))
		} else {
			target += "?start=" + url.QueryEscape(code)
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, target, http.StatusFound)
}
