package staff_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/core"
	"salonbook/src/core/staff"
)

func TestRoles(t *testing.T) {
	t.Parallel()
	owner := staff.Account{Login: "olga", Role: staff.Owner}
	anna := staff.Account{Login: "anna", Role: staff.Master, MasterID: "anna"}
	broken := staff.Account{Login: "x", Role: staff.Master} // no master: sees nothing of anyone's
	require.True(t, owner.SeesPhones())
	require.False(t, anna.SeesPhones())
	require.True(t, owner.SeesClientsOf("boris"))
	require.True(t, anna.SeesClientsOf("anna"))
	require.False(t, anna.SeesClientsOf("boris"))
	require.False(t, broken.SeesClientsOf(""))
	require.True(t, owner.SeesWeekOf(""))
	require.False(t, anna.SeesWeekOf(""))
	require.False(t, anna.SeesWeekOf("boris"))
	require.False(t, broken.SeesWeekOf(""))
	require.True(t, anna.MayChange("anna"))
	require.False(t, anna.MayChange("boris"))
	require.False(t, staff.Role("admin").Valid())
}

func TestEntryStatusAndChannel(t *testing.T) {
	t.Parallel()
	now := time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)
	e := staff.Entry{Booking: core.Booking{Status: core.StatusConfirmed, Source: "telegram:123"}}
	require.Equal(t, "confirmed", e.Status(now))
	require.Equal(t, "telegram", e.Channel())
	e.Booking.ComingAt = now
	require.Equal(t, "coming", e.Status(now))
	e = staff.Entry{Booking: core.Booking{Status: core.StatusHeld, HoldExpiresAt: now.Add(time.Minute)}}
	require.Equal(t, "held", e.Status(now))
	require.Equal(t, "expired", e.Status(now.Add(time.Minute)))
	require.Equal(t, "api", e.Channel())
}
