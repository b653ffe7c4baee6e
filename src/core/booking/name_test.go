package booking_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/core/booking"
)

// TestNameOKReadsWords: a name is refused for a link or an address among its
// words, not for letters that happen to spell a domain inside a word:
// initials joined to a surname ("M.Delgado", "A.Ruiz") are names.
func TestNameOKReadsWords(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"M.Delgado", "A.Ruiz", "J.R.R. Tolkien", "Anna-Maria O'Neil", "Olga", "Ольга Петрова",
		"Dr. Comfort", "St.Petersburg Anna", "Netta", "Ruslan", "Orgil", "Dennis"} {
		require.True(t, booking.NameOK(name), name)
	}
	for _, name := range []string{"anna.de", "Olga example.com", "www.anna", "https://x", "olga@mail", "@olga", "t.me/olga",
		"Olga (olga.ru)", "ivan.petrov.рф", "", "12345", "+49 151 23456789"} {
		require.False(t, booking.NameOK(name), name)
	}
}
