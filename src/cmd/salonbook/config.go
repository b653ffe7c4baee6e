package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"salonbook/src/adapters/whatsapp"
)

// Config is everything the binary reads from its environment, read here and only
// here, and checked before anything starts.
type Config struct {
	DatabaseURL string     // DATABASE_URL or DATABASE_URL_FILE
	HTTPAddr    string     // HTTP_ADDR, default 127.0.0.1:8080
	APIToken    string     // SALONBOOK_API_TOKEN or SALONBOOK_API_TOKEN_FILE
	SalonID     string     // SALONBOOK_SALON; empty means the only salon applied
	PublicURL   string     // PUBLIC_URL: where people reach the server; https makes the desk's cookies Secure
	LogLevel    slog.Level // LOG_LEVEL: debug, info, warn, error
	Telegram    TelegramConfig
	WhatsApp    WhatsAppConfig
	Google      GoogleConfig
	Stripe      StripeConfig
	Meta        MetaConfig

	// WEB_CHAT_NEW_PER_MINUTE: new web-chat sessions admitted per minute from
	// all addresses together; 0 (unset) is web.DefaultNewChatsPerMinute.
	WebChatNewPerMinute int
	// WEB_CHAT_NEW_PER_ADDR: new web-chat sessions one address may start per 10
	// minutes (default 10); 0 turns the limit off (a reverse proxy in front is
	// one address).
	WebChatNewPerAddr int

	// Metrics: /metrics needs MetricsToken as a bearer token (METRICS_TOKEN or
	// _FILE, at least 16 characters) or is served only on MetricsAddr
	// (METRICS_ADDR, host:port: a listener of its own, the main one has no
	// /metrics then), or both; with neither, /metrics is off.
	MetricsToken, MetricsAddr string

	// HTTP_MAX_CONNS, HTTP_MAX_CONNS_PER_ADDR: connections open at once, in all
	// (default 2048) and from one IP address (default 256; a reverse proxy in
	// front is one address).
	MaxConns, MaxConnsPerAddr int

	// TrustedProxies (TRUSTED_PROXIES, comma-separated CIDRs or addresses):
	// reverse proxies whose X-Forwarded-For the desk's login throttle believes.
	TrustedProxies []netip.Prefix
	// Clock moves serve's clock, for load tests only (LOADTEST_CLOCK_*).
	Clock ClockConfig
}

// ClockConfig moves serve's clock for a load run, and is never for production:
// the clock reads Start (LOADTEST_CLOCK_START, RFC 3339) at the real instant At
// (LOADTEST_CLOCK_AT, RFC 3339; default: when serve starts) and runs Rate
// (LOADTEST_CLOCK_RATE, 1..100000; default 1) times faster than real time.
// Every "now" of bookings, dialogs and reminders follows it; the message
// pipeline's pacing stays in real time. Off when none is set.
type ClockConfig struct {
	Start, At time.Time
	Rate      int
}

// On reports whether the clock is moved.
func (c ClockConfig) On() bool { return !c.Start.IsZero() || !c.At.IsZero() || c.Rate > 1 }

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
	// BotUsername (TELEGRAM_BOT_USERNAME, without '@'): where GET
	// /go/telegram sends an ad's clicks (https://t.me/<BotUsername>); empty:
	// no such route, and Telegram bookings are never reported to Meta.
	BotUsername string
	// PaymentToken (TELEGRAM_PAYMENT_PROVIDER_TOKEN or _FILE): the payment
	// provider token from BotFather that deposit invoices are sent with;
	// empty: Telegram takes no deposits.
	PaymentToken string
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
	c.MaxConns, c.MaxConnsPerAddr = 2048, 256
	for _, knob := range []struct {
		name string
		v    *int
	}{{"HTTP_MAX_CONNS", &c.MaxConns}, {"HTTP_MAX_CONNS_PER_ADDR", &c.MaxConnsPerAddr}} {
		if s := getenv(knob.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 1_000_000 {
				return c, fmt.Errorf("config: %s must be a whole number of connections, 1..1000000", knob.name)
			}
			*knob.v = n
		}
	}
	if getenv("HTTP_MAX_CONNS_PER_ADDR") == "" {
		c.MaxConnsPerAddr = min(c.MaxConnsPerAddr, c.MaxConns) // default: min(256, total)
	}
	if c.MaxConnsPerAddr > c.MaxConns {
		return c, fmt.Errorf("config: HTTP_MAX_CONNS_PER_ADDR (%d) must not exceed HTTP_MAX_CONNS (%d)", c.MaxConnsPerAddr, c.MaxConns)
	}
	token, err := secret(getenv, "SALONBOOK_API_TOKEN")
	if err != nil {
		return c, err
	}
	c.APIToken = token
	if n.api && len(c.APIToken) < 16 {
		return c, fmt.Errorf("config: SALONBOOK_API_TOKEN (or SALONBOOK_API_TOKEN_FILE) must be set to at least 16 characters")
	}
	if c.MetricsToken, err = secret(getenv, "METRICS_TOKEN"); err != nil {
		return c, err
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < 16 {
		return c, fmt.Errorf("config: METRICS_TOKEN (or METRICS_TOKEN_FILE) must be at least 16 characters")
	}
	if c.MetricsAddr = getenv("METRICS_ADDR"); c.MetricsAddr != "" {
		_, port, err := net.SplitHostPort(c.MetricsAddr)
		if err != nil {
			return c, fmt.Errorf("config: METRICS_ADDR %q is not host:port", c.MetricsAddr)
		}
		if c.MetricsAddr == c.HTTPAddr && port != "0" {
			return c, fmt.Errorf("config: METRICS_ADDR must differ from HTTP_ADDR (unset it to serve /metrics there with METRICS_TOKEN)")
		}
	}
	if c.Telegram, err = loadTelegram(getenv); err != nil {
		return c, err
	}
	if c.WhatsApp, err = loadWhatsApp(getenv); err != nil {
		return c, err
	}
	if c.Google, err = loadGoogle(getenv); err != nil {
		return c, err
	}
	if c.Stripe, err = loadStripe(getenv); err != nil {
		return c, err
	}
	if c.Meta, err = loadMeta(getenv, c.WhatsApp.Token != ""); err != nil {
		return c, err
	}
	if s := getenv("WEB_CHAT_NEW_PER_MINUTE"); s != "" {
		if c.WebChatNewPerMinute, err = strconv.Atoi(s); err != nil || c.WebChatNewPerMinute < 1 || c.WebChatNewPerMinute > 100_000 {
			return c, fmt.Errorf("config: WEB_CHAT_NEW_PER_MINUTE must be 1..100000")
		}
	}
	c.WebChatNewPerAddr = 10
	if s := getenv("WEB_CHAT_NEW_PER_ADDR"); s != "" {
		if c.WebChatNewPerAddr, err = strconv.Atoi(s); err != nil || c.WebChatNewPerAddr < 0 || c.WebChatNewPerAddr > 100_000 {
			return c, fmt.Errorf("config: WEB_CHAT_NEW_PER_ADDR must be 0..100000 (0: no limit per address)")
		}
	}
	if c.Clock, err = loadClock(getenv); err != nil {
		return c, err
	}
	if c.PublicURL = getenv("PUBLIC_URL"); c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return c, fmt.Errorf("config: PUBLIC_URL %q is not an http(s) URL like https://salon.example.com", c.PublicURL)
		}
	}
	if c.Stripe.On() && c.PublicURL == "" {
		return c, fmt.Errorf("config: STRIPE_SECRET_KEY needs PUBLIC_URL: Stripe's payment page sends clients back there")
	}
	for _, f := range strings.FieldsFunc(getenv("TRUSTED_PROXIES"), func(r rune) bool { return r == ',' || r == ' ' }) {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil || a.Zone() != "" {
				return c, fmt.Errorf("config: TRUSTED_PROXIES: %q is not a CIDR (like 10.0.0.0/8) or an address", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		c.TrustedProxies = append(c.TrustedProxies, p.Masked())
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

func loadClock(getenv func(string) string) (ClockConfig, error) {
	var c ClockConfig
	for _, knob := range []struct {
		name string
		v    *time.Time
	}{{"LOADTEST_CLOCK_START", &c.Start}, {"LOADTEST_CLOCK_AT", &c.At}} {
		if s := getenv(knob.name); s != "" {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return c, fmt.Errorf("config: %s must be an RFC 3339 instant (e.g. 2027-03-01T09:00:00Z)", knob.name)
			}
			*knob.v = t.UTC()
		}
	}
	if !c.At.IsZero() && c.Start.IsZero() {
		return c, fmt.Errorf("config: LOADTEST_CLOCK_AT needs LOADTEST_CLOCK_START")
	}
	if s := getenv("LOADTEST_CLOCK_RATE"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100_000 {
			return c, fmt.Errorf("config: LOADTEST_CLOCK_RATE must be a whole number 1..100000 (times faster than real time)")
		}
		c.Rate = n
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
	if t.PaymentToken, err = secret(getenv, "TELEGRAM_PAYMENT_PROVIDER_TOKEN"); err != nil {
		return t, err
	}
	if t.PaymentToken != "" && !paymentToken.MatchString(t.PaymentToken) {
		return t, fmt.Errorf("config: TELEGRAM_PAYMENT_PROVIDER_TOKEN (or _FILE) is not a payment provider token from BotFather (like 123456789:TEST:…, no spaces)")
	}
	if t.BotUsername = strings.TrimPrefix(getenv("TELEGRAM_BOT_USERNAME"), "@"); t.BotUsername != "" && !botUsername.MatchString(t.BotUsername) {
		return t, fmt.Errorf("config: TELEGRAM_BOT_USERNAME must be the bot's username (5 to 32 of A-Z a-z 0-9 _, ending in bot)")
	}
	t.Workers = 4
	if w := getenv("TELEGRAM_WORKERS"); w != "" {
		if t.Workers, err = strconv.Atoi(w); err != nil || t.Workers < 1 || t.Workers > 64 {
			return t, fmt.Errorf("config: TELEGRAM_WORKERS must be 1..64")
		}
	}
	return t, nil
}

// paymentToken is the shape of BotFather's payment provider tokens:
// "<provider id>:<TEST or LIVE>:<key>".
var paymentToken = regexp.MustCompile(`^[0-9]{1,20}:[A-Z]{2,10}:[!-~]{1,512}$`)

// botUsername is a Telegram bot's username.
var botUsername = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{2,29}[Bb][Oo][Tt]$`)

// MetaConfig is the reporting of bookings to Meta's Conversions API; it is
// off when PixelID is empty.
type MetaConfig struct {
	PixelID       string // META_PIXEL_ID: the dataset (pixel) id, digits
	Token         string // META_CAPI_TOKEN or _FILE: the Conversions API access token; required with a pixel id
	TestEventCode string // META_TEST_EVENT_CODE: events go to Events Manager's test tab
	APIURL        string // META_API_URL, default https://graph.facebook.com
	APIVersion    string // META_API_VERSION, default v24.0
	// WABAID (WHATSAPP_BUSINESS_ACCOUNT_ID): the WhatsApp Business account
	// the dataset is tied to; required with a pixel id when WhatsApp is on.
	WABAID string
	// ClicksPerAddr (META_CLICKS_PER_ADDR): ad clicks GET /go/telegram
	// stores per client address per 10 minutes (default 10; 0: no limit per
	// address). Behind a reverse proxy set TRUSTED_PROXIES, or every
	// visitor is the proxy's address.
	ClicksPerAddr int
}

// On reports whether bookings are reported to Meta.
func (m MetaConfig) On() bool { return m.PixelID != "" }

var (
	metaID      = regexp.MustCompile(`^[0-9]{5,20}$`)
	metaVersion = regexp.MustCompile(`^v[0-9]{1,3}\.[0-9]{1,2}$`)
	testCode    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

func loadMeta(getenv func(string) string, whatsapp bool) (MetaConfig, error) {
	var m MetaConfig
	var err error
	if m.Token, err = secret(getenv, "META_CAPI_TOKEN"); err != nil {
		return m, err
	}
	m.PixelID, m.TestEventCode = getenv("META_PIXEL_ID"), getenv("META_TEST_EVENT_CODE")
	m.ClicksPerAddr = 10
	if s := getenv("META_CLICKS_PER_ADDR"); s != "" {
		if m.ClicksPerAddr, err = strconv.Atoi(s); err != nil || m.ClicksPerAddr < 0 || m.ClicksPerAddr > 100_000 {
			return m, fmt.Errorf("config: META_CLICKS_PER_ADDR must be 0..100000 (0: no limit per address)")
		}
	}
	m.APIURL, m.APIVersion, m.WABAID = getenv("META_API_URL"), getenv("META_API_VERSION"), getenv("WHATSAPP_BUSINESS_ACCOUNT_ID")
	if m.PixelID == "" {
		if m.Token != "" {
			return m, fmt.Errorf("config: META_CAPI_TOKEN (or _FILE) is set but META_PIXEL_ID is not: set both to report bookings to Meta, or neither")
		}
		return m, nil
	}
	if !metaID.MatchString(m.PixelID) {
		return m, fmt.Errorf("config: META_PIXEL_ID must be the dataset id from Events Manager (digits)")
	}
	if m.Token == "" {
		return m, fmt.Errorf("config: META_PIXEL_ID needs META_CAPI_TOKEN (or META_CAPI_TOKEN_FILE): the Conversions API access token")
	}
	if strings.ContainsAny(m.Token, " \t\r\n") {
		return m, fmt.Errorf("config: META_CAPI_TOKEN (or _FILE) must not contain spaces")
	}
	if m.TestEventCode != "" && !testCode.MatchString(m.TestEventCode) {
		return m, fmt.Errorf("config: META_TEST_EVENT_CODE must be the code from Events Manager's Test events tab (like TEST12345)")
	}
	if m.APIURL == "" {
		m.APIURL = "https://graph.facebook.com"
	}
	if u, err := url.Parse(m.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return m, fmt.Errorf("config: META_API_URL %q is not an http(s) URL", m.APIURL)
	}
	if m.APIVersion == "" {
		m.APIVersion = "v24.0"
	}
	if !metaVersion.MatchString(m.APIVersion) {
		return m, fmt.Errorf("config: META_API_VERSION must look like v24.0")
	}
	if m.WABAID != "" && !metaID.MatchString(m.WABAID) {
		return m, fmt.Errorf("config: WHATSAPP_BUSINESS_ACCOUNT_ID must be the account's id (digits)")
	}
	if whatsapp && m.WABAID == "" {
		return m, fmt.Errorf("config: META_PIXEL_ID with WhatsApp on needs WHATSAPP_BUSINESS_ACCOUNT_ID (Meta takes WhatsApp events only with the account's id)")
	}
	return m, nil
}

// webhookSecret is Telegram's secret_token alphabet, with a floor of 16 for strength.
var webhookSecret = regexp.MustCompile(`^[A-Za-z0-9_-]{16,256}$`)

// WhatsAppConfig is the WhatsApp channel's; it is off when Token is empty.
type WhatsAppConfig struct {
	Token         string // WHATSAPP_TOKEN or _FILE: the Cloud API access token
	AppSecret     string // WHATSAPP_APP_SECRET or _FILE: checks X-Hub-Signature-256; required
	VerifyToken   string // WHATSAPP_VERIFY_TOKEN or _FILE: Meta's webhook verification; required
	PhoneNumberID string // WHATSAPP_PHONE_NUMBER_ID: the business number's id; required
	APIURL        string // WHATSAPP_API_URL, default https://graph.facebook.com
	APIVersion    string // WHATSAPP_API_VERSION, default v24.0
	Rate          int    // WHATSAPP_RATE: messages per second for the number, default 80 (Meta's)
	ChatRate      int    // WHATSAPP_CHAT_RATE: messages per minute to one client, default 10 (Meta's pair limit)
	Workers       int    // WHATSAPP_WORKERS, default 4
	// Templates: WHATSAPP_TEMPLATES, "lang=name[:code],…": the approved template
	// sent outside the 24-hour window, per conversation language (code: the
	// language it was approved under, default lang). The first is the default.
	Templates   map[string]whatsapp.TemplateName
	DefaultLang string
	// ReminderTemplates: WHATSAPP_REMINDER_TEMPLATES, the same form: the
	// approved utility template a booking reminder goes as outside the
	// window (none: the Templates). DefaultLang is WHATSAPP_TEMPLATES' first,
	// else this list's.
	ReminderTemplates map[string]whatsapp.TemplateName
}

var (
	graphVersion   = regexp.MustCompile(`^v[0-9]{1,3}\.[0-9]{1,2}$`)
	digits         = regexp.MustCompile(`^[0-9]{1,32}$`)
	templateEntry  = regexp.MustCompile(`^([a-z]{2,3})=([a-z0-9_]{1,512})(?::([a-z]{2,3}(?:_[A-Z]{2})?))?$`)
	verifyTokenSet = regexp.MustCompile(`^[\x21-\x7e]{16,256}$`)
)

func loadWhatsApp(getenv func(string) string) (WhatsAppConfig, error) {
	var w WhatsAppConfig
	var err error
	if w.Token, err = secret(getenv, "WHATSAPP_TOKEN"); err != nil || w.Token == "" {
		return w, err
	}
	if w.AppSecret, err = secret(getenv, "WHATSAPP_APP_SECRET"); err != nil {
		return w, err
	}
	if len(w.AppSecret) < 16 {
		return w, fmt.Errorf("config: WHATSAPP_APP_SECRET (or _FILE) must be set, at least 16 characters, with WHATSAPP_TOKEN: the app secret from Meta's app dashboard")
	}
	if w.VerifyToken, err = secret(getenv, "WHATSAPP_VERIFY_TOKEN"); err != nil {
		return w, err
	}
	if !verifyTokenSet.MatchString(w.VerifyToken) {
		return w, fmt.Errorf("config: WHATSAPP_VERIFY_TOKEN (or _FILE) must be 16 to 256 printable characters without spaces when WHATSAPP_TOKEN is set")
	}
	if w.PhoneNumberID = getenv("WHATSAPP_PHONE_NUMBER_ID"); !digits.MatchString(w.PhoneNumberID) {
		return w, fmt.Errorf("config: WHATSAPP_PHONE_NUMBER_ID must be the business number's id (digits) when WHATSAPP_TOKEN is set")
	}
	if w.APIURL = getenv("WHATSAPP_API_URL"); w.APIURL == "" {
		w.APIURL = "https://graph.facebook.com"
	}
	// Not quoted in the error: a mistaken URL may carry user:secret@.
	if u, err := url.Parse(w.APIURL); err != nil || u.Host == "" || u.User != nil ||
		(u.Scheme != "https" && (u.Scheme != "http" || !loopbackHost(u.Hostname()))) {
		return w, fmt.Errorf("config: WHATSAPP_API_URL must be an https URL without credentials (http only to a loopback host, for a fake)")
	}
	if w.APIVersion = getenv("WHATSAPP_API_VERSION"); w.APIVersion == "" {
		w.APIVersion = "v24.0"
	}
	if !graphVersion.MatchString(w.APIVersion) {
		return w, fmt.Errorf("config: WHATSAPP_API_VERSION must look like v24.0")
	}
	w.Rate, w.ChatRate, w.Workers = 80, 10, 4
	for _, knob := range []struct {
		name     string
		v        *int
		min, max int
		unit     string
	}{
		{"WHATSAPP_RATE", &w.Rate, 1, 100_000, "messages per second"},
		{"WHATSAPP_CHAT_RATE", &w.ChatRate, 1, 1_000_000, "messages per minute to one client"},
		{"WHATSAPP_WORKERS", &w.Workers, 1, 64, "workers"},
	} {
		if s := getenv(knob.name); s != "" {
			if *knob.v, err = strconv.Atoi(s); err != nil || *knob.v < knob.min || *knob.v > knob.max {
				return w, fmt.Errorf("config: %s must be a whole number of %s, %d..%d", knob.name, knob.unit, knob.min, knob.max)
			}
		}
	}
	if w.Templates, w.DefaultLang, err = templates(getenv, "WHATSAPP_TEMPLATES", "en=salon_message,ru=salon_message_ru"); err != nil {
		return w, err
	}
	var def string
	if w.ReminderTemplates, def, err = templates(getenv, "WHATSAPP_REMINDER_TEMPLATES", "en=salon_reminder,ru=salon_reminder_ru"); err != nil {
		return w, err
	}
	if w.DefaultLang == "" {
		w.DefaultLang = def
	}
	return w, nil
}

// templates reads the template list in the environment variable name,
// "lang=name[:code],…", and returns them by language with the first language.
func templates(getenv func(string) string, name, example string) (map[string]whatsapp.TemplateName, string, error) {
	out, first := map[string]whatsapp.TemplateName{}, ""
	list := strings.TrimSpace(getenv(name))
	if list == "" {
		return out, "", nil
	}
	for _, entry := range strings.Split(list, ",") {
		m := templateEntry.FindStringSubmatch(strings.TrimSpace(entry))
		if m == nil {
			return nil, "", fmt.Errorf("config: %s must be lang=name[:code],… (e.g. %s); %q is not", name, example, strings.TrimSpace(entry))
		}
		if _, dup := out[m[1]]; dup {
			return nil, "", fmt.Errorf("config: %s names language %q twice", name, m[1])
		}
		code := m[3]
		if code == "" {
			code = m[1]
		}
		out[m[1]] = whatsapp.TemplateName{Name: m[2], Code: code}
		if first == "" {
			first = m[1]
		}
	}
	return out, first, nil
}

// startWarnings logs what in cfg is allowed but likely wrong.
func startWarnings(cfg Config, log *slog.Logger) {
	host, _, err := net.SplitHostPort(cfg.HTTPAddr)
	public := err != nil || !loopbackHost(host)
	if cfg.PublicURL == "" && public {
		// Behind a proxy that ends TLS every request arrives as plain HTTP, so
		// the desk's cookies would go without Secure.
		log.Warn("PUBLIC_URL is empty and HTTP_ADDR is not a loopback address: behind a TLS proxy the desk's " +
			"session cookies are not marked Secure; set PUBLIC_URL=https://… to the address people use")
	}
	if !strings.HasPrefix(strings.ToLower(cfg.PublicURL), "https://") && public {
		// The web chat's session cookie is then the plain "chat" (Lax, not
		// Secure, not __Host-): a site on a sibling host can plant one (session
		// fixation: it would read the conversation it planted), and embeds on
		// other sites get no cookie (the page falls back to a session per tab).
		log.Warn("the web chat is served without an https PUBLIC_URL on a non-loopback address: its session cookie is " +
			"the plain \"chat\" (not Secure, not __Host-, SameSite=Lax), open to session fixation from sibling hosts and " +
			"not kept in embeds; set PUBLIC_URL=https://… to the address people use")
	}
	if cfg.Meta.On() && cfg.Telegram.Token != "" && cfg.Telegram.BotUsername == "" {
		// No /go/telegram link: no Telegram chat ever comes from a click.
		log.Warn("META_PIXEL_ID is set and Telegram is on, but TELEGRAM_BOT_USERNAME is not: there is no ad link " +
			"(GET /go/telegram), so Telegram bookings are never reported to Meta; set TELEGRAM_BOT_USERNAME to the bot's username")
	}
}

// loopbackHost reports whether host (no port) is localhost or a loopback address.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// GoogleConfig is calendar sync's; it is off when neither a credentials file nor
// an endpoint is given.
type GoogleConfig struct {
	Credentials []byte        // the file named by GOOGLE_CREDENTIALS_FILE: a service account key
	Impersonate string        // GOOGLE_IMPERSONATE: the user the service account acts for (optional)
	Endpoint    string        // GOOGLE_CALENDAR_ENDPOINT: another server (a fake), without auth when no key is given
	Refresh     time.Duration // GOOGLE_REFRESH: how often busy time is read, default 5m
}

// On reports whether calendar sync runs.
func (g GoogleConfig) On() bool { return g.Credentials != nil || g.Endpoint != "" }

func loadGoogle(getenv func(string) string) (GoogleConfig, error) {
	g := GoogleConfig{Impersonate: getenv("GOOGLE_IMPERSONATE"), Endpoint: getenv("GOOGLE_CALENDAR_ENDPOINT"), Refresh: 5 * time.Minute}
	if f := getenv("GOOGLE_CREDENTIALS_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return g, fmt.Errorf("config: GOOGLE_CREDENTIALS_FILE: cannot read the file")
		}
		var key struct {
			Type       string `json:"type"`
			ClientMail string `json:"client_email"`
			PrivateKey string `json:"private_key"`
		}
		if json.Unmarshal(b, &key) != nil || key.Type != "service_account" || key.ClientMail == "" || key.PrivateKey == "" {
			return g, fmt.Errorf("config: GOOGLE_CREDENTIALS_FILE must be a service account key (JSON with type service_account)")
		}
		g.Credentials = b
	}
	if g.Endpoint != "" {
		if u, err := url.Parse(g.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return g, fmt.Errorf("config: GOOGLE_CALENDAR_ENDPOINT %q is not an http(s) URL", g.Endpoint)
		}
	}
	if g.Impersonate != "" && g.Credentials == nil {
		return g, fmt.Errorf("config: GOOGLE_IMPERSONATE needs GOOGLE_CREDENTIALS_FILE")
	}
	if s := getenv("GOOGLE_REFRESH"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 10*time.Second || d > 24*time.Hour {
			return g, fmt.Errorf("config: GOOGLE_REFRESH must be a duration from 10s to 24h (e.g. 5m)")
		}
		g.Refresh = d
	}
	return g, nil
}

// StripeConfig is Stripe Checkout's, which takes the deposits of the web chat
// and WhatsApp; off when SecretKey is empty.
type StripeConfig struct {
	SecretKey string // STRIPE_SECRET_KEY or _FILE: sk_live_…, sk_test_… or a restricted rk_…
	// WebhookSecret (STRIPE_WEBHOOK_SECRET or _FILE): the /stripe/webhook
	// endpoint's signing secret (whsec_…); required with a key.
	WebhookSecret string
	APIURL        string // STRIPE_API_URL, default https://api.stripe.com (a fake's in tests and demos)
}

// On reports whether Stripe takes deposits.
func (s StripeConfig) On() bool { return s.SecretKey != "" }

var (
	stripeKey           = regexp.MustCompile(`^(sk|rk)_(test|live)_[A-Za-z0-9]{8,255}$`)
	stripeWebhookSecret = regexp.MustCompile(`^whsec_[A-Za-z0-9+/=]{8,255}$`)
)

func loadStripe(getenv func(string) string) (StripeConfig, error) {
	var s StripeConfig
	var err error
	if s.SecretKey, err = secret(getenv, "STRIPE_SECRET_KEY"); err != nil || s.SecretKey == "" {
		if err == nil && getenv("STRIPE_WEBHOOK_SECRET")+getenv("STRIPE_WEBHOOK_SECRET_FILE") != "" {
			err = fmt.Errorf("config: STRIPE_WEBHOOK_SECRET is set without STRIPE_SECRET_KEY (or _FILE)")
		}
		return s, err
	}
	if !stripeKey.MatchString(s.SecretKey) {
		return s, fmt.Errorf("config: STRIPE_SECRET_KEY (or _FILE) is not a Stripe secret key (sk_live_…, sk_test_… or rk_…)")
	}
	if s.WebhookSecret, err = secret(getenv, "STRIPE_WEBHOOK_SECRET"); err != nil {
		return s, err
	}
	if !stripeWebhookSecret.MatchString(s.WebhookSecret) {
		return s, fmt.Errorf("config: STRIPE_WEBHOOK_SECRET (or _FILE) must be the webhook endpoint's signing secret (whsec_…) when STRIPE_SECRET_KEY is set")
	}
	if s.APIURL = getenv("STRIPE_API_URL"); s.APIURL == "" {
		s.APIURL = "https://api.stripe.com"
	}
	// Not quoted in the error: a mistaken URL may carry user:secret@.
	if u, err := url.Parse(s.APIURL); err != nil || u.Host == "" || u.User != nil ||
		(u.Scheme != "https" && (u.Scheme != "http" || !loopbackHost(u.Hostname()))) {
		return s, fmt.Errorf("config: STRIPE_API_URL must be an https URL without credentials (http only to a loopback host, for a fake)")
	}
	return s, nil
}
