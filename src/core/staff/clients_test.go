package staff_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/core/staff"
)

func TestParseClientSearch(t *testing.T) {
	t.Parallel()
	owner := staff.Account{Login: "olga", Role: staff.Owner}
	anna := staff.Account{Login: "anna", Role: staff.Master, MasterID: "anna"}
	for text, want := range map[string]staff.ClientQuery{
		"":                  {},
		"  Alice ":          {Name: "Alice"},
		"Ann-Marie O'Neil":  {Name: "Ann-Marie O'Neil"},
		"+49 151 234-56 78": {Phone: "491512345678"},
		"0049 151 2345678":  {Phone: "491512345678"},
		"0151/2345678":      {Phone: "1512345678"},
		"(030) 123":         {Phone: "30123"},
		"+0151":             {Phone: "0151"}, // a + keeps what follows
		"2345":              {Phone: "2345"},
		"R2D2":              {Name: "R2D2"},
		"a\x00b\x7f":        {Name: "ab"},
	} {
		q, refusal := staff.ParseClientSearch(text, 0, owner)
		require.Empty(t, refusal, text)
		require.Equal(t, want.Name, q.Name, text)
		require.Equal(t, want.Phone, q.Phone, text)
		require.Empty(t, q.Master, "an owner searches every client")
	}
	q, refusal := staff.ParseClientSearch("alice", 2, owner)
	require.Empty(t, refusal)
	require.Equal(t, staff.ClientsPerPage, q.Limit)
	require.Equal(t, 2*staff.ClientsPerPage, q.Offset)

	_, refusal = staff.ParseClientSearch("0 1", 0, owner)
	require.Equal(t, staff.PhoneSearchTooShort, refusal, "a trunk 0 and one digit")
	_, refusal = staff.ParseClientSearch(strings.Repeat("x", staff.MaxSearch+1), 0, owner)
	require.Equal(t, staff.SearchTooLong, refusal)

	q, refusal = staff.ParseClientSearch("alice", 0, anna)
	require.Empty(t, refusal)
	require.Equal(t, "anna", q.Master, "a master searches her own clients")
	for _, text := range []string{"+49 151", "2345678", "0151"} {
		q, refusal = staff.ParseClientSearch(text, 0, anna)
		require.Equal(t, staff.PhoneSearchOwnersOnly, refusal, text)
		require.Empty(t, q.Phone)
	}
	q, _ = staff.ParseClientSearch("", 0, staff.Account{Login: "x", Role: staff.Master})
	require.NotEmpty(t, q.Master, "a master account with no master finds no one")
}

func TestCleanNote(t *testing.T) {
	t.Parallel()
	note, ok := staff.CleanNote("  line one\r\nline\ttwo\rthree\x00\x1b  ")
	require.True(t, ok)
	require.Equal(t, "line one\nline\ttwo\nthree", note)
	_, ok = staff.CleanNote(strings.Repeat("я", staff.MaxNote))
	require.True(t, ok, "characters, not bytes")
	_, ok = staff.CleanNote(strings.Repeat("я", staff.MaxNote+1))
	require.False(t, ok)
	note, ok = staff.CleanNote("bad \xff utf8")
	require.True(t, ok)
	require.Equal(t, "bad  utf8", note)
}
