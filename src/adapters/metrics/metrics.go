// Package metrics is the operator's view of a running server: Prometheus
// metrics in the text format at /metrics (client_golang), counted where things
// happen (HTTP requests, booking use cases through booking.Observer, sends
// through messaging.SendObserver) and read at scrape time where they are
// stored (the chat queues, river jobs, the database pools).
//
// Every label value comes from a set the code fixes (route patterns, use
// cases, outcomes, channels, pools, job states): never a chat id, a phone
// number, a path as requested or a token.
package metrics

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"salonbook/src/core"
	"salonbook/src/core/booking"
	"salonbook/src/core/messaging"
)

var (
	_ booking.Observer       = (*Metrics)(nil)
	_ messaging.SendObserver = (*Metrics)(nil)
)

// DefaultReadTimeout bounds the database reads of one scrape when
// Config.ReadTimeout is 0.
const DefaultReadTimeout = 2 * time.Second

// Backlog is what waits in one chat channel's queues.
type Backlog struct {
	Channel       string
	InboxWaiting  int64         // updates stored and not yet handled
	InboxOldest   time.Duration // how long the oldest of them has waited; 0 when none
	OutboxWaiting int64         // messages neither sent nor given up
}

// Config says where the values read at scrape time come from.
type Config struct {
	// Backlog reads the chat channels' queues; nil: not shown.
	Backlog func(ctx context.Context) ([]Backlog, error)
	// Jobs reads the number of river jobs in each state; nil: not shown.
	Jobs func(ctx context.Context) (map[string]int64, error)
	// ReadTimeout bounds Backlog and Jobs together at each scrape (0:
	// DefaultReadTimeout); what is not read in time is left out of that
	// scrape and salonbook_metrics_read_ok says so.
	ReadTimeout time.Duration
}

// Metrics holds the server's metrics in a registry of its own.
type Metrics struct {
	reg             *prometheus.Registry
	httpRequests    *prometheus.CounterVec
	httpDuration    *prometheus.HistogramVec
	bookingRequests *prometheus.CounterVec
	bookingDuration *prometheus.HistogramVec
	sends           *prometheus.CounterVec
	pauses          *prometheus.HistogramVec
	pools           *poolCollector
}

// New returns the metrics, with the Go runtime's and the process's.
func New(cfg Config) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "salonbook_http_requests_total",
			Help: "HTTP requests answered, by route pattern (\"unmatched\" for none) and status code.",
		}, []string{"route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "salonbook_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		bookingRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "salonbook_booking_requests_total",
			Help: "Booking use cases answered (web, API, chats), by use case (slots, book, confirm, cancel, reschedule, release) " +
				"and result (ok; taken: the time was taken, answered with alternatives; or the error code).",
		}, []string{"op", "result"}),
		bookingDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "salonbook_booking_request_duration_seconds",
			Help:    "Time a booking use case took, by use case (op=\"slots\" is the slot search).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"op"}),
		sends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "salonbook_sends_total",
			Help: "Sends to a chat provider, by channel and outcome (sent, rate_limited, unauthorized, chat_limited, blocked, retry, given_up).",
		}, []string{"channel", "outcome"}),
		pauses: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "salonbook_send_rate_limit_wait_seconds",
			Help:    "Waits the provider asked for with a 429 (the channel's sends pause that long), by channel.",
			Buckets: []float64{.5, 1, 2, 5, 10, 30, 60, 300},
		}, []string{"channel"}),
		pools: &poolCollector{pools: map[string]*pgxpool.Pool{}},
	}
	timeout := cfg.ReadTimeout
	if timeout <= 0 {
		timeout = DefaultReadTimeout
	}
	m.reg.MustRegister(m.httpRequests, m.httpDuration, m.bookingRequests, m.bookingDuration, m.sends, m.pauses, m.pools,
		&storedCollector{cfg: cfg, timeout: timeout},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where the metrics are registered (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus' text format. With a token, a
// request must carry "Authorization: Bearer <token>" (compared in constant
// time) or is answered 401; "" serves anyone (a listener of its own).
func (m *Metrics) Handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Timeout: 10 * time.Second})
	if token == "" {
		return h
	}
	want := sha256.Sum256([]byte("Bearer " + token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Hashes of equal length: the comparison says nothing of the token's length either.
		got := sha256.Sum256([]byte(r.Header.Get("Authorization")))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="salonbook metrics"`)
			http.Error(w, "missing or wrong metrics token", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Instrument counts and times the requests next answers, by the route pattern
// the standard library's ServeMux matched (a nested mux's, when the request
// reached one: it sets the pattern on the same request) and status. A path no
// route matched counts as "unmatched", so requested paths never make series.
func (m *Metrics) Instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			code := "other"
			if rec.status >= 100 && rec.status <= 599 {
				code = strconv.Itoa(rec.status)
			}
			m.httpRequests.WithLabelValues(route, code).Inc()
			m.httpDuration.WithLabelValues(route).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(rec, r)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote && code >= 200 { // 1xx are interim: the final status follows
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Start implements booking.Observer.
func (m *Metrics) Start(op string) func(error) {
	start := time.Now()
	return func(err error) {
		m.bookingRequests.WithLabelValues(op, result(err)).Inc()
		m.bookingDuration.WithLabelValues(op).Observe(time.Since(start).Seconds())
	}
}

// result names a use case's outcome: ok, taken (a *booking.ConflictError: the
// time was taken), or the error's code.
func result(err error) string {
	if err == nil {
		return "ok"
	}
	if _, ok := errors.AsType[*booking.ConflictError](err); ok {
		return "taken"
	}
	switch c := core.ErrorCode(err); c {
	case core.EInvalid, core.ENotFound, core.EConflict, core.EForbidden, core.EUnavailable:
		return string(c)
	}
	return string(core.EInternal)
}

// Sent implements messaging.SendObserver.
func (m *Metrics) Sent(channel, outcome string) { m.sends.WithLabelValues(channel, outcome).Inc() }

// Paused implements messaging.SendObserver.
func (m *Metrics) Paused(channel string, wait time.Duration) {
	m.pauses.WithLabelValues(channel).Observe(wait.Seconds())
}

// AddPool shows pool's use under name (a fixed name: "main", "telegram"…).
func (m *Metrics) AddPool(name string, pool *pgxpool.Pool) {
	m.pools.mu.Lock()
	defer m.pools.mu.Unlock()
	m.pools.pools[name] = pool
}

var (
	poolConns = prometheus.NewDesc("salonbook_db_pool_connections",
		"Connections of a database pool, by state (acquired: in use; idle; constructing).", []string{"pool", "state"}, nil)
	poolMax = prometheus.NewDesc("salonbook_db_pool_max_connections",
		"The most connections a pool opens.", []string{"pool"}, nil)
	poolAcquires = prometheus.NewDesc("salonbook_db_pool_acquires_total",
		"Connections taken from a pool.", []string{"pool"}, nil)
	poolWaits = prometheus.NewDesc("salonbook_db_pool_acquire_waits_total",
		"Takes from a pool that found no idle connection and waited for one.", []string{"pool"}, nil)
	poolWaitTime = prometheus.NewDesc("salonbook_db_pool_acquire_wait_seconds_total",
		"Time spent waiting for a connection when the pool had none idle.", []string{"pool"}, nil)
	poolCanceled = prometheus.NewDesc("salonbook_db_pool_canceled_acquires_total",
		"Takes from a pool given up because their context ended first.", []string{"pool"}, nil)
)

// poolCollector reads each pool's statistics at scrape time (pgxpool.Stat: no
// round trip).
type poolCollector struct {
	mu    sync.Mutex
	pools map[string]*pgxpool.Pool
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolConns, poolMax, poolAcquires, poolWaits, poolWaitTime, poolCanceled} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name, p := range c.pools {
		s := p.Stat()
		ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.AcquiredConns()), name, "acquired")
		ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.IdleConns()), name, "idle")
		ch <- prometheus.MustNewConstMetric(poolConns, prometheus.GaugeValue, float64(s.ConstructingConns()), name, "constructing")
		ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.MaxConns()), name)
		ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(s.AcquireCount()), name)
		ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.EmptyAcquireCount()), name)
		ch <- prometheus.MustNewConstMetric(poolWaitTime, prometheus.CounterValue, s.EmptyAcquireWaitTime().Seconds(), name)
		ch <- prometheus.MustNewConstMetric(poolCanceled, prometheus.CounterValue, float64(s.CanceledAcquireCount()), name)
	}
}

var (
	inboxWaiting = prometheus.NewDesc("salonbook_inbox_waiting",
		"Updates stored and not yet handled, by channel.", []string{"channel"}, nil)
	inboxOldest = prometheus.NewDesc("salonbook_inbox_oldest_age_seconds",
		"How long the oldest update not yet handled has waited, by channel (0 when none waits).", []string{"channel"}, nil)
	outboxWaiting = prometheus.NewDesc("salonbook_outbox_waiting",
		"Messages neither sent nor given up (due or scheduled later), by channel.", []string{"channel"}, nil)
	riverJobs = prometheus.NewDesc("salonbook_river_jobs",
		"River jobs (calendar pushes and refreshes, …) by state.", []string{"state"}, nil)
	readOK = prometheus.NewDesc("salonbook_metrics_read_ok",
		"1 when this scrape read the values stored in the database (read: backlog, jobs) in time, else 0 (they are left out).",
		[]string{"read"}, nil)
)

// storedCollector reads what the database holds at scrape time, within a
// timeout.
type storedCollector struct {
	cfg     Config
	timeout time.Duration
}

func (c *storedCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{inboxWaiting, inboxOldest, outboxWaiting, riverJobs, readOK} {
		ch <- d
	}
}

func (c *storedCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	ok := func(read string, err error) {
		v := 1.0
		if err != nil {
			v = 0
		}
		ch <- prometheus.MustNewConstMetric(readOK, prometheus.GaugeValue, v, read)
	}
	if c.cfg.Backlog != nil {
		rows, err := c.cfg.Backlog(ctx)
		if err != nil {
			rows = nil // a partial read is not shown
		}
		for _, b := range rows {
			ch <- prometheus.MustNewConstMetric(inboxWaiting, prometheus.GaugeValue, float64(b.InboxWaiting), b.Channel)
			ch <- prometheus.MustNewConstMetric(inboxOldest, prometheus.GaugeValue, b.InboxOldest.Seconds(), b.Channel)
			ch <- prometheus.MustNewConstMetric(outboxWaiting, prometheus.GaugeValue, float64(b.OutboxWaiting), b.Channel)
		}
		ok("backlog", err)
	}
	if c.cfg.Jobs != nil {
		states, err := c.cfg.Jobs(ctx)
		if err != nil {
			states = nil
		}
		for state, n := range states {
			ch <- prometheus.MustNewConstMetric(riverJobs, prometheus.GaugeValue, float64(n), state)
		}
		ok("jobs", err)
	}
}
