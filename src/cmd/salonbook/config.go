package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
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
