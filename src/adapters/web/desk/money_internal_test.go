package desk

import (
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/core"
)

// TestDepositLineMoney: the desk writes amounts as the chat does (i18n
// Printer.Price in the desk's language), never Money.String's "18.50 EUR".
func TestDepositLineMoney(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		deposit core.Money
		want    string
	}{
		{core.Money{Minor: 1000, Currency: "EUR"}, "€10: to be refunded"},
		{core.Money{Minor: 1850, Currency: "EUR"}, "€18.50: to be refunded"},
		{core.Money{Minor: 125000, Currency: "EUR"}, "€1,250: to be refunded"},
		{core.Money{Minor: 3500, Currency: "CHF"}, "35\u00a0CHF: to be refunded"},
	} {
		b := core.Booking{Deposit: c.deposit, DepositState: core.DepositRefundDue}
		require.Equal(t, c.want, depositLine(b))
	}
}
