// Package web serves salonbook over HTTP: the JSON API under /api/v1, and the
// health endpoints /healthz and /readyz.
//
// It decodes and checks requests, calls the booking use cases and maps core error
// codes to HTTP statuses, once. Clients see a code and a plain message; internal
// error text only reaches the logs. Routing is the standard library's ServeMux.
package web
