package whatsapp_test

import (
	"os"
	"testing"

	"salonbook/src/adapters/postgres/pgtest"
)

// TestMain gives the package a database of its own: the webhook and the
// transport are tested on the real inbox, outbox and window tables.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
