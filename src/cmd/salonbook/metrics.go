package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"salonbook/src/adapters/jobs"
	"salonbook/src/adapters/metrics"
	"salonbook/src/adapters/postgres/pipeline"
	"salonbook/src/adapters/telegram"
	"salonbook/src/adapters/whatsapp"
)

// newMetrics makes the server's metrics: the chat channels' queues and the
// river jobs read on pool at each scrape (bounded by metrics.DefaultReadTimeout),
// the main pool's use. runServe adds the other pools, has the booking service
// and the senders tell it what happens, and counts the HTTP requests.
func newMetrics(cfg Config, pool *pgxpool.Pool, salonID string) *metrics.Metrics {
	var channels []string
	if cfg.Telegram.Token != "" {
		channels = append(channels, telegram.Channel)
	}
	if cfg.WhatsApp.Token != "" {
		channels = append(channels, whatsapp.Channel)
	}
	mc := metrics.Config{Jobs: func(ctx context.Context) (map[string]int64, error) { return jobs.Counts(ctx, pool) }}
	if len(channels) > 0 {
		mc.Backlog = func(ctx context.Context) ([]metrics.Backlog, error) {
			rows, err := pipeline.Backlogs(ctx, pool, salonID, channels)
			out := make([]metrics.Backlog, len(rows))
			for i, b := range rows {
				out[i] = metrics.Backlog(b)
			}
			return out, err
		}
	}
	m := metrics.New(mc)
	m.AddPool("main", pool)
	return m
}

// serveMetrics serves /metrics as configured: on METRICS_ADDR, a listener of
// its own (which closes when ctx ends; its error is returned by the func it
// gives back, after the main server's shutdown), else on mux when
// METRICS_TOKEN is set, else nowhere.
func serveMetrics(ctx context.Context, cfg Config, m *metrics.Metrics, mux *http.ServeMux, log *slog.Logger) (func() error, error) {
	if cfg.MetricsAddr == "" {
		if cfg.MetricsToken == "" {
			log.Info("metrics are off: set METRICS_TOKEN or METRICS_ADDR to serve /metrics")
		} else {
			mux.Handle("GET /metrics", m.Handler(cfg.MetricsToken))
		}
		return func() error { return nil }, nil
	}
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR %s: %w", cfg.MetricsAddr, err)
	}
	own := http.NewServeMux()
	own.Handle("GET /metrics", m.Handler(cfg.MetricsToken))
	srv := &http.Server{Handler: own, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: maxHeaderBytes}
	log.Info("serving metrics", slog.String("addr", ln.Addr().String()), slog.Bool("token", cfg.MetricsToken != ""))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	return func() error {
		shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shut); err != nil {
			return err
		}
		if err := <-errc; err != http.ErrServerClosed {
			return err
		}
		return nil
	}, nil
}
