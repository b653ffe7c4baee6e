package postgres_test

import (
	"os"
	"testing"

	"salonbook/src/adapters/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
