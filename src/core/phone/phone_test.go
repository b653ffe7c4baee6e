package phone_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/core/phone"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in, region string
		check      phone.Check
		want       string // "" is refused
	}{
		{"+49 30 1234567", "DE", phone.Valid, "+49301234567"},
		{"030 1234567", "DE", phone.Valid, "+49301234567"},
		{"030/123 4567", "DE", phone.Valid, "+49301234567"},
		{"0151 23456789", "DE", phone.Valid, "+4915123456789"},
		{"0049 151 23456789", "", phone.Valid, "+4915123456789"},
		{"8 912 345-67-89", "RU", phone.Valid, "+79123456789"},
		{"+7 (912) 345-67-89", "DE", phone.Valid, "+79123456789"},
		{"+1 202 555 0100", "DE", phone.Valid, "+12025550100"},
		{"030 1234567", "", phone.Valid, ""},       // no country code and no region
		{"+49 151 2345678", "DE", phone.Valid, ""}, // a digit short of a German mobile number
		{"+49 151 2345678", "DE", phone.Possible, "+491512345678"},
		{"12345", "DE", phone.Possible, ""},             // too short
		{"+49 30 1234567 ext 5", "DE", phone.Valid, ""}, // letters
		{"https://example.com/1234567", "DE", phone.Valid, ""},
		{"Anna", "DE", phone.Valid, ""},
		{"+1234567890123456789", "", phone.Possible, ""},
		{"", "DE", phone.Possible, ""},
	} {
		got, ok := phone.Parse(c.in, c.region, c.check)
		require.Equal(t, c.want, got, c.in)
		require.Equal(t, c.want != "", ok, c.in)
	}
}

func TestRegionAndExample(t *testing.T) {
	t.Parallel()
	require.True(t, phone.Region("DE"))
	require.True(t, phone.Region("RU"))
	require.False(t, phone.Region("de"))
	require.False(t, phone.Region("XX"))
	require.False(t, phone.Region("DEU"))
	require.NotEmpty(t, phone.Example("DE"))
	require.Empty(t, phone.Example(""))
}

func TestLooks(t *testing.T) {
	t.Parallel()
	require.True(t, phone.Looks("+49 151 23456789"))
	require.True(t, phone.Looks("0151-2345678"))
	require.False(t, phone.Looks("Anna Maria"))
	require.False(t, phone.Looks("Anna 2"))
}
