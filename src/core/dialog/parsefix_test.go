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

// TestTypedMoveTimeAsksFirst: at a move's times, only a clock alone ("11")
// is the press of that time; a sentence with a time ("what about 11am?",
// "только не в 11") moves nothing: at most its button is offered.
func TestTypedMoveTimeAsksFirst(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	pool := pgtest.Pool(t)
	sentences := []string{"what about 11am?", "только не в 11", "at 11 maybe?", "давайте в 11", "11 or 12?", "not 11"}
	toMoveTimes := func(c *conv, i int) {
		b.run(t, []*conv{c}, []string{fmt.Sprintf("text: haircut with Anna on %d.03 at 10", []int{2, 3, 4, 5, 6, 9, 10, 11}[i]), "text: Olga",
			fmt.Sprintf("text: +49 151 3345%04d", i), "text: yes", "pick: My bookings", "pick: #1", "pick: Reschedule", "pick: Yes, move", "pick: #1"})
		require.Equal(t, "move_time", b.state(t, pool, c.name).Step)
	}
	for i, text := range sentences {
		c := &conv{name: fmt.Sprintf("c%d", i), hint: "en"}
		toMoveTimes(c, i)
		before := b.masterStarts(t)
		b.run(t, []*conv{c}, []string{"text: " + text})
		require.Equal(t, before, b.masterStarts(t), "%q moved the booking", text)
	}
	c := &conv{name: "bare", hint: "en"}
	toMoveTimes(c, len(sentences))
	before := b.masterStarts(t)
	b.run(t, []*conv{c}, []string{"text: 11"})
	require.NotEqual(t, before, b.masterStarts(t), "a clock alone is the press of that time")
}

// TestTypedWordsFollowTheCatalog: the parser kept between steps is built
// again when the catalog changes: a master renamed is found by the new name,
// and hours changed read an hour anew.
func TestTypedWordsFollowTheCatalog(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	pool := pgtest.Pool(t)
	c := &conv{name: "c", hint: "en"}
	b.run(t, []*conv{c}, []string{"text: haircut with Boris tomorrow"})
	require.Equal(t, "boris", b.state(t, pool, "c").Master)
	setup := salonSetup(b.salonID)
	setup.Masters[1].Name = "Bob"
	_, err := b.store.Apply(ctx, setup)
	require.NoError(t, err)
	b.run(t, []*conv{c}, []string{"cmd: start", "text: haircut with Anna tomorrow", "text: haircut with Bob tomorrow"})
	require.Equal(t, "boris", b.state(t, pool, "c").Master, "the new name is read")
}
