package salonfile_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/salonfile"
	"salonbook/src/core"
)

// depositFile is a salon with two services (35.00 and 12.34 EUR) and the
// policy and deposits given.
func depositFile(policy, cutDeposit, trimDeposit string) string {
	s := "salon: {id: demo, name: Demo, timezone: Europe/Berlin, locales: [en]}\n" + policy +
		"services:\n" +
		"  - id: cut\n" +
		"    name: {en: Cut}\n" +
		"    duration: 30m\n" +
		"    price: \"35.00\"\n" +
		"    currency: EUR\n"
	if cutDeposit != "" {
		s += "    deposit: " + cutDeposit + "\n"
	}
	s += "  - {id: trim, name: {en: Trim}, duration: 15m, price: \"12.34\", currency: EUR"
	if trimDeposit != "" {
		s += ", deposit: " + trimDeposit
	}
	return s + "}\n" +
		"masters:\n" +
		"  - {id: anna, name: Anna, services: [cut, trim], hours: {mon: [\"09:00-18:00\"]}}\n"
}

func TestParseDeposits(t *testing.T) {
	t.Parallel()

	f, err := salonfile.Parse([]byte(depositFile(
		"policy:\n  cancel_cutoff: 12h\n  deposit_when: after_no_show\n  payment_window: 20m\n  deposit_refund: {cutoff: 48h}\n",
		`"10.00"`, "25%")))
	require.NoError(t, err)
	p := f.Salon.Policy
	require.Equal(t, core.DepositAfterNoShow, p.DepositWhen)
	require.Equal(t, 20*time.Minute, p.PaymentHold())
	require.Equal(t, 48*time.Hour, p.RefundCutoff())
	require.Equal(t, core.Deposit{Minor: 1000}, f.Services[0].Deposit)
	require.Equal(t, core.Money{Minor: 1000, Currency: "EUR"}, f.Services[0].DepositAmount())
	require.Equal(t, core.Deposit{Percent: 25}, f.Services[1].Deposit)
	// 25% of 12.34 is 3.085: half a cent rounds up, in integers.
	require.Equal(t, core.Money{Minor: 309, Currency: "EUR"}, f.Services[1].DepositAmount())

	// Unquoted amounts and 100% are as good; absent fields are the defaults.
	f, err = salonfile.Parse([]byte(depositFile("policy: {deposit_when: always}\n", "35", "100%")))
	require.NoError(t, err)
	p = f.Salon.Policy
	require.Equal(t, core.DepositAlways, p.DepositWhen)
	require.True(t, p.AsksDeposits())
	require.Equal(t, 15*time.Minute, p.PaymentHold(), "default window")
	require.Equal(t, 12*time.Hour, p.RefundCutoff(), "default: the cancellation cutoff")
	require.Equal(t, int64(3500), f.Services[0].DepositAmount().Minor)
	require.Equal(t, int64(1234), f.Services[1].DepositAmount().Minor)

	// No policy: nobody is asked, whatever the services say.
	f, err = salonfile.Parse([]byte(depositFile("", `"5.00"`, "")))
	require.NoError(t, err)
	require.False(t, f.Salon.Policy.AsksDeposits())
	require.Equal(t, core.Deposit{}, f.Services[1].Deposit)
	f, err = salonfile.Parse([]byte(depositFile("policy: {deposit_when: never}\n", "", "")))
	require.NoError(t, err)
	require.False(t, f.Salon.Policy.AsksDeposits())
}

func TestParseRejectsDeposits(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct {
		name              string
		policy, cut, trim string
		line              int
		field, msg        string
	}{
		{"When", "policy: {deposit_when: sometimes}\n", "", "", 2, "policy.deposit_when",
			`line 2: policy.deposit_when: "sometimes" must be always, after_no_show (clients with a no-show in the last year) or never`},
		{"WindowTooShort", "policy: {payment_window: 30s}\n", "", "", 2, "policy.payment_window",
			`line 2: policy.payment_window: "30s" must be at least 1m`},
		{"WindowTooLong", "policy: {payment_window: 25h}\n", "", "", 2, "policy.payment_window",
			`line 2: policy.payment_window: "25h" must be at most 23h`},
		{"RefundNotAMapping", "policy: {deposit_refund: 48h}\n", "", "", 2, "policy.deposit_refund",
			`line 2: policy.deposit_refund: must be a mapping of the fields cutoff, not a value`},
		{"RefundUnknownField", "policy:\n  deposit_refund: {no_show: refund}\n", "", "", 3, "policy.deposit_refund.no_show",
			`line 3: policy.deposit_refund.no_show: unknown field; known fields are cutoff`},
		{"RefundBeforeCancelCutoff", "policy:\n  cancel_cutoff: 24h\n  deposit_refund:\n    cutoff: 2h\n", "", "", 5, "policy.deposit_refund.cutoff",
			`line 5: policy.deposit_refund.cutoff: "2h" is shorter than policy.cancel_cutoff (1d): a client who may still cancel gets the deposit back, so the refund cutoff is at least that`},
		{"NotAnAmount", "", `"ten"`, "", 8, "services[0].deposit",
			`line 8: services[0].deposit: deposit "ten" is not an amount like 10.00 (in the service's currency) or a share like 20%`},
		{"ThreeDecimals", "", `"1.005"`, "", 8, "services[0].deposit",
			`line 8: services[0].deposit: deposit "1.005" is not an amount like 10.00 (in the service's currency) or a share like 20%`},
		{"Negative", "", `"-1"`, "", 8, "services[0].deposit",
			`line 8: services[0].deposit: deposit "-1" is not an amount like 10.00 (in the service's currency) or a share like 20%`},
		{"Zero", "", `"0.00"`, "", 8, "services[0].deposit",
			`line 8: services[0].deposit: must be more than 0; leave it out for no deposit`},
		{"MoreThanPrice", "", `"35.01"`, "", 8, "services[0].deposit",
			`line 8: services[0].deposit: "35.01" is more than the price (35.00 EUR)`},
		{"ZeroPercent", "", "", "0%", 8, "services[1].deposit",
			`line 8: services[1].deposit: "0%" must be a share of the price from 1% to 100%, a whole number`},
		{"OverPercent", "", "", "101%", 8, "services[1].deposit",
			`line 8: services[1].deposit: "101%" must be a share of the price from 1% to 100%, a whole number`},
		{"FractionPercent", "", "", "12.5%", 8, "services[1].deposit",
			`line 8: services[1].deposit: "12.5%" must be a share of the price from 1% to 100%, a whole number`},
		{"NotAScalar", "", "[10]", "", 8, "services[0].deposit",
			`line 8: services[0].deposit: must be a single value, not a list`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := salonfile.Parse([]byte(depositFile(tc.policy, tc.cut, tc.trim)))
			require.Equal(t, core.EInvalid, core.ErrorCode(err), "%v", err)
			first, ok := errors.AsType[*salonfile.Error](err)
			require.True(t, ok, "%v", err)
			require.Equal(t, tc.line, first.Line, "%v", err)
			require.Equal(t, tc.field, first.Field, "%v", err)
			require.Equal(t, tc.msg, first.Error())
		})
	}
}

func TestParseRejectsDepositsWithoutCents(t *testing.T) {
	t.Parallel()

	file := "salon: {id: demo, name: Demo, timezone: Asia/Tokyo, locales: [en]}\n" +
		"services:\n" +
		"  - {id: cut, name: {en: Cut}, duration: 30m, price: \"5000\", currency: JPY, deposit: \"1000\"}\n" +
		"masters:\n" +
		"  - {id: anna, name: Anna, services: [cut], hours: {mon: [\"09:00-18:00\"]}}\n"
	_, err := salonfile.Parse([]byte(file))
	require.Equal(t, core.EInvalid, core.ErrorCode(err))
	require.Equal(t, "salonfile: invalid salon file:\n"+
		"line 3: services[0].deposit: deposits are taken in currencies with cents (hundredths); JPY has none", err.Error())
}
