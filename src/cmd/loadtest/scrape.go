package main

import (
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// scrapeEvery is how often the harness scrapes the server's /metrics during a
// run (as a Prometheus would, only more often).
const scrapeEvery = 250 * time.Millisecond

// scraped is what the scrapes of a run measured.
type scraped struct {
	took             []time.Duration // each whole scrape: request to the body read
	errors           int             // failed scrapes (no answer, not 200)
	inbox, outbox    float64         // the most updates waiting and messages unsent a scrape showed
	bookings, series int             // the last scrape's booking requests counted, lines of samples
}

var (
	inboxLine   = regexp.MustCompile(`(?m)^salonbook_inbox_waiting\{[^}]*\} (\S+)$`)
	outboxLine  = regexp.MustCompile(`(?m)^salonbook_outbox_waiting\{[^}]*\} (\S+)$`)
	bookingLine = regexp.MustCompile(`(?m)^salonbook_booking_requests_total\{op="book"[^}]*\} (\S+)$`)
	sampleLine  = regexp.MustCompile(`(?m)^[a-z_]+(\{[^}]*\})? \S+$`)
)

// scrapeMetrics scrapes http://addr/metrics with the bearer token every
// scrapeEvery until stop is closed, then sends what it measured.
func scrapeMetrics(addr, token string, stop <-chan struct{}) <-chan scraped {
	out := make(chan scraped, 1)
	go func() {
		var s scraped
		client := &http.Client{Timeout: 10 * time.Second}
		tick := time.NewTicker(scrapeEvery)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				out <- s
				return
			case <-tick.C:
			}
			req, _ := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				s.errors++
				continue
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			took := time.Since(t0)
			if err != nil || resp.StatusCode != http.StatusOK {
				s.errors++
				continue
			}
			s.took = append(s.took, took)
			for _, m := range inboxLine.FindAllStringSubmatch(string(body), -1) {
				v, _ := strconv.ParseFloat(m[1], 64)
				s.inbox = max(s.inbox, v)
			}
			for _, m := range outboxLine.FindAllStringSubmatch(string(body), -1) {
				v, _ := strconv.ParseFloat(m[1], 64)
				s.outbox = max(s.outbox, v)
			}
			s.bookings = 0
			for _, m := range bookingLine.FindAllStringSubmatch(string(body), -1) {
				v, _ := strconv.ParseFloat(m[1], 64)
				s.bookings += int(v)
			}
			s.series = len(sampleLine.FindAllString(string(body), -1))
		}
	}()
	return out
}

// percentiles are p50, p99 and the longest of ds (zero when empty).
func percentiles(ds []time.Duration) (p50, p99, longest time.Duration) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	n := len(ds)
	return ds[n/2], ds[min(n-1, n*99/100)], ds[n-1]
}
