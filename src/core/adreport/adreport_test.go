package adreport_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/core/adreport"
)

func TestKeys(t *testing.T) {
	t.Parallel()
	// Meta normalises phones to digits with the country code, then hashes.
	require.Equal(t, adreport.Hash("4915112345678"), adreport.PhoneKey("+49 151 1234-5678"))
	require.Empty(t, adreport.PhoneKey(""))
	require.Regexp(t, `^[0-9a-f]{64}$`, adreport.ClientKey("demo", 42))
	require.NotEqual(t, adreport.ClientKey("demo", 42), adreport.ClientKey("other", 42), "scoped by salon")
	require.NotContains(t, adreport.ClientKey("demo", 42), "42")
	at := time.Date(2027, 3, 1, 9, 0, 0, 123e6, time.UTC)
	require.Equal(t, "fb.1.1803891600123.IwAR2x", adreport.FBC("IwAR2x", at))
	require.Equal(t, "b1-schedule", adreport.EventID("b1", adreport.Schedule))
	require.Equal(t, "b1-purchase", adreport.EventID("b1", adreport.Purchase))
}
