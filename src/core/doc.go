// Package core holds salonbook's domain types: the salon and its rules, services,
// masters, clients and bookings, the one error type, and the clock.
//
// It imports only the standard library. Nothing here (or below it) may know about a
// chat channel, SQL, HTTP or any provider; a test in this package enforces that.
// Every instant is UTC; wall-clock rules are interpreted in the salon's zone.
package core
