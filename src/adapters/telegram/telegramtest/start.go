package telegramtest

import (
	"net/http/httptest"
	"testing"
)

// Start runs a Server on a local httptest server for the length of the test and
// returns it with its base URL, for bot.WithServerURL.
func Start(t testing.TB, opts Options) (s *Server, url string) {
	t.Helper()
	s = New(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		s.Close() // first: ends long polls, which ts.Close would wait for
		ts.Close()
	})
	return s, ts.URL
}
