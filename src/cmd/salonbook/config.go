package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Config is everything the binary reads from its environment, read here and only
// here, and checked before anything starts.
type Config struct {
	DatabaseURL string     // DATABASE_URL or DATABASE_URL_FILE
	HTTPAddr    string     // HTTP_ADDR, default 127.0.0.1:8080
	APIToken    string     // SALONBOOK_API_TOKEN or SALONBOOK_API_TOKEN_FILE
	SalonID     string     // SALONBOOK_SALON; empty means the only salon applied
	LogLevel    slog.Level // LOG_LEVEL: debug, info, warn, error
	Telegram    TelegramConfig
}

// TelegramConfig is the Telegram channel's; it is off when Token is empty.
type TelegramConfig struct {
	Token         string // TELEGRAM_BOT_TOKEN or _FILE
	Mode          string // TELEGRAM_MODE: "webhook" (default) or "polling" (development)
	WebhookSecret string // TELEGRAM_WEBHOOK_SECRET or _FILE: required in webhook mode
	APIURL        string // TELEGRAM_API_URL, default https://api.telegram.org
	WebhookURL    string // TELEGRAM_WEBHOOK_URL: when set, the webhook is registered at start
	Workers       int    // TELEGRAM_WORKERS, default 4
	Rate          int    // TELEGRAM_RATE: messages per second for the whole bot, default 30 (Telegram's)
	ChatRate      int    // TELEGRAM_CHAT_RATE: messages per second to one chat, default 1 (Telegram's)
}

// need says which settings a subcommand requires.
type need struct{ database, api bool }

// loadConfig reads the environment through getenv. Errors name the variable and
// never echo a secret's value.
func loadConfig(getenv func(string) string, n need) (Config, error) {
	c := Config{
		HTTPAddr: getenv("HTTP_ADDR"),
		SalonID:  getenv("SALONBOOK_SALON"),
	}
	dbURL, err := secret(getenv, "DATABASE_URL") // it may carry a password
	if err != nil {
		return c, err
	}
	c.DatabaseURL = dbURL
	if n.database && c.DatabaseURL == "" {
		return c, fmt.Errorf("config: DATABASE_URL (or DATABASE_URL_FILE) is required (e.g. postgres://user@127.0.0.1:5432/salonbook)")
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = "127.0.0.1:8080"
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		return c, fmt.Errorf("config: HTTP_ADDR %q is not host:port", c.HTTPAddr)
	}
	token, err := secret(getenv, "SALONBOOK_API_TOKEN")
	if err != nil {
		return c, err
	}
	c.APIToken = token
	if n.api && len(c.APIToken) < 16 {
		return c, fmt.Errorf("config: SALONBOOK_API_TOKEN (or SALONBOOK_API_TOKEN_FILE) must be set to at least 16 characters")
	}
	if c.Telegram, err = loadTelegram(getenv); err != nil {
		return c, err
	}
	switch strings.ToLower(getenv("LOG_LEVEL")) {
	case "", "info":
		c.LogLevel = slog.LevelInfo
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "warn":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		return c, fmt.Errorf("config: LOG_LEVEL must be debug, info, warn or error")
	}
	return c, nil
}

// secret reads NAME, or the file named by NAME_FILE (trailing newline trimmed).
// Setting both is an error, so that a stale value cannot silently win.
func secret(getenv func(string) string, name string) (string, error) {
	v, file := getenv(name), getenv(name+"_FILE")
	if v != "" && file != "" {
		return "", fmt.Errorf("config: set %s or %s_FILE, not both", name, name)
	}
	if file == "" {
		return v, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("config: %s_FILE: cannot read the file", name)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func loadTelegram(getenv func(string) string) (TelegramConfig, error) {
	var t TelegramConfig
	var err error
	if t.Token, err = secret(getenv, "TELEGRAM_BOT_TOKEN"); err != nil || t.Token == "" {
		return t, err
	}
	switch t.Mode = getenv("TELEGRAM_MODE"); t.Mode {
	case "":
		t.Mode = "webhook"
	case "webhook", "polling":
	default:
		return t, fmt.Errorf("config: TELEGRAM_MODE must be webhook or polling")
	}
	if t.WebhookSecret, err = secret(getenv, "TELEGRAM_WEBHOOK_SECRET"); err != nil {
		return t, err
	}
	if t.Mode == "webhook" && !webhookSecret.MatchString(t.WebhookSecret) {
		return t, fmt.Errorf("config: TELEGRAM_WEBHOOK_SECRET (or _FILE) must be 16 to 256 of A-Z a-z 0-9 _ - when TELEGRAM_BOT_TOKEN is set (or set TELEGRAM_MODE=polling)")
	}
	t.APIURL = getenv("TELEGRAM_API_URL")
	if t.APIURL == "" {
		t.APIURL = "https://api.telegram.org"
	}
	if u, err := url.Parse(t.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return t, fmt.Errorf("config: TELEGRAM_API_URL %q is not an http(s) URL", t.APIURL)
	}
	t.WebhookURL = getenv("TELEGRAM_WEBHOOK_URL")
	if t.WebhookURL != "" {
		if u, err := url.Parse(t.WebhookURL); err != nil || u.Scheme != "https" || u.Host == "" {
			return t, fmt.Errorf("config: TELEGRAM_WEBHOOK_URL must be an https URL (Telegram's rule)")
		}
	}
	t.Rate, t.ChatRate = 30, 1
	for _, knob := range []struct {
		name string
		v    *int
	}{{"TELEGRAM_RATE", &t.Rate}, {"TELEGRAM_CHAT_RATE", &t.ChatRate}} {
		if s := getenv(knob.name); s != "" {
			if *knob.v, err = strconv.Atoi(s); err != nil || *knob.v < 1 || *knob.v > 100_000 {
				return t, fmt.Errorf("config: %s must be a whole number of messages per second, 1..100000", knob.name)
			}
		}
	}
	t.Workers = 4
	if w := getenv("TELEGRAM_WORKERS"); w != "" {
		if t.Workers, err = strconv.Atoi(w); err != nil || t.Workers < 1 || t.Workers > 64 {
			return t, fmt.Errorf("config: TELEGRAM_WORKERS must be 1..64")
		}
	}
	return t, nil
}

// webhookSecret is Telegram's secret_token alphabet, with a floor of 16 for strength.
var webhookSecret = regexp.MustCompile(`^[A-Za-z0-9_-]{16,256}$`)
