package pipeline_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"testing"
	"time"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
	"salonbook/src/core"
	"salonbook/src/core/booking"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var ctx = context.Background()

// bundle is one test's world: a salon of its own in the package database, a fixed
// clock and the booking service over the real store.
type bundle struct {
	store   *postgres.Store
	svc     *booking.Service
	clock   *core.FixedClock
	salonID string
	zone    *time.Location
}

func newBundle(t *testing.T) *bundle {
	t.Helper()
	store, salonID := pgtest.Salon(t)
	b := &bundle{
		store:   store,
		clock:   &core.FixedClock{T: time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC)}, // Monday 08:00 in Berlin
		salonID: salonID,
		zone:    pgtest.Berlin,
	}
	b.svc = booking.New(store, b.clock)
	return b
}

// at is a Berlin wall-clock time on March 2027.
func (b *bundle) at(day, hour, minute int) time.Time {
	return time.Date(2027, 3, day, hour, minute, 0, 0, b.zone).UTC()
}

func (b *bundle) req(master string, start time.Time, key string) booking.BookRequest {
	return booking.BookRequest{
		SalonID: b.salonID, ServiceID: "haircut", MasterID: master, Start: start,
		Client:         core.Client{Name: "Client " + key, Phone: "+49 151 " + phoneDigits(key)},
		IdempotencyKey: key,
	}
}

// phoneDigits derives a distinct phone number from a key, so that different keys
// are different clients.
func phoneDigits(key string) string {
	h := fnv.New32a()
	h.Write([]byte(key))
	return fmt.Sprintf("%08d", h.Sum32()%100000000)
}
