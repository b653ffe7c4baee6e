package core_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/core"
)

func TestCurrencyDecimals(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]int{"EUR": 2, "USD": 2, "RUB": 2, "CHF": 2, "XYZ": 2,
		"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3, "TND": 3} {
		require.Equal(t, want, core.CurrencyDecimals(code), code)
	}
}
