package salonfile_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/salonfile"
)

// policy.ads_phone_consent: false unless the salon says true; anything else
// is an error naming the field.
func TestParseAdsPhoneConsent(t *testing.T) {
	t.Parallel()
	f, err := salonfile.Parse([]byte(depositFile("", "", "")))
	require.NoError(t, err)
	require.False(t, f.Salon.Policy.AdsPhoneConsent, "default")
	f, err = salonfile.Parse([]byte(depositFile("policy: {ads_phone_consent: true}\n", "", "")))
	require.NoError(t, err)
	require.True(t, f.Salon.Policy.AdsPhoneConsent)
	_, err = salonfile.Parse([]byte(depositFile("policy: {ads_phone_consent: yes please}\n", "", "")))
	require.ErrorContains(t, err, "policy.ads_phone_consent")
}
