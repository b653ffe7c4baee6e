package metrics

import "github.com/prometheus/client_golang/prometheus"

// BookingRequests is the counter of booking use cases.
func (m *Metrics) BookingRequests() *prometheus.CounterVec { return m.bookingRequests }
