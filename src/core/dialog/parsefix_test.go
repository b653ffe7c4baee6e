package dialog_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres/pgtest"
)

// TestTypedConfirmNeedsAPureYes: at the confirmation of a real hold, a
// negated or hedged answer confirms nothing ("I'm not sure", "не
// подтверждаю", "ok but can we do 6 instead?"); a plain "yes" does.
func TestTypedConfirmNeedsAPureYes(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	pool := pgtest.Pool(t)
	answers := []string{"I'm not sure", "not sure", "не подтверждаю", "не устраивает", "не годится", "не записывайте",
		"да нет, не надо", "ok but can we do 6 instead?", "no, yes", "yes, no", "don't confirm", "хорошо, но не сейчас",
		"sure? not really"}
	for i, answer := range answers {
		c := &conv{name: fmt.Sprintf("c%d", i), hint: "en"}
		day, hour := 2+i/3, 10+i%3 // Tue 2 to Sat 6 March, 10:00, 11:00, 12:00
		b.run(t, []*conv{c}, []string{fmt.Sprintf("text: haircut with Anna on %d.03 at %d", day, hour), "text: Olga",
			fmt.Sprintf("text: +49 151 2345%04d", i)})
		require.Equal(t, "confirm", b.state(t, pool, c.name).Step, "%s: a real hold waits", answer)
		require.NotEmpty(t, b.state(t, pool, c.name).Hold)
		b.run(t, []*conv{c}, []string{"text: " + answer})
		require.Zero(t, b.confirmed(t), "%q confirmed the booking", answer)
	}
	c := &conv{name: "yes", hint: "en"}
	b.run(t, []*conv{c}, []string{"text: haircut with Anna on 9.03 at 10", "text: Olga", "text: +49 151 23459999", "text: Yes, please"})
	require.Equal(t, 1, b.confirmed(t), "a plain yes confirms")
}
