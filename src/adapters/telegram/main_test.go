package telegram_test

import (
	"os"
	"testing"

	"salonbook/src/adapters/postgres/pgtest"
)

// TestMain gives the package a database of its own: the poller's tests store
// into the real inbox and offset table.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
