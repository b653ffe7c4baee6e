package dialog_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"salonbook/src/adapters/postgres"
	"salonbook/src/adapters/postgres/pgtest"
)

// calendarURL is the web adapter's address of a booking's calendar file, as
// serve wires it.
func calendarURL(token string) string { return "https://salon.example/booking/" + token + ".ics" }

var (
	refRe   = regexp.MustCompile(`(reference: |записи: )([` + postgres.RefAlphabet + `]{6})\b`)
	tokenRe = regexp.MustCompile(`/booking/[A-Za-z0-9_-]{22,}\.ics`)
)

// stableRefs names references and calendar tokens (random, as booking ids
// are) by their order of appearance.
func stableRefs(s string) string {
	refs, tokens := map[string]string{}, map[string]string{}
	s = refRe.ReplaceAllStringFunc(s, func(m string) string {
		sub := refRe.FindStringSubmatch(m)
		if _, ok := refs[sub[2]]; !ok {
			refs[sub[2]] = fmt.Sprintf("<ref-%d>", len(refs)+1)
		}
		return sub[1] + refs[sub[2]]
	})
	return tokenRe.ReplaceAllStringFunc(s, func(m string) string {
		if _, ok := tokens[m]; !ok {
			tokens[m] = fmt.Sprintf("/booking/<token-%d>.ics", len(tokens)+1)
		}
		return tokens[m]
	})
}

// TestBookedMessageAnswersEverything: the booked message names the service,
// master, the day in full with start and end, price, address and phone, the
// booking's reference (the one stored for it), the cancellation rule and the
// calendar link with its token; in Russian the month is in the genitive.
func TestBookedMessageAnswersEverything(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	olga, ivan := &conv{name: "olga", hint: "en"}, &conv{name: "ivan", hint: "ru"}
	b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Tue 2 Mar", "pick: 10:00",
		"text: Olga", "text: +49 151 11111119", "pick: Confirm"})
	text := olga.last[0].Text
	for _, want := range []string{"You're booked: Haircut with Anna, Tuesday, 2 March, 10:00–10:45, €35.",
		"Address: Torstraße 1, Berlin", "Salon phone: +49 30 1234567", "until 12 hours before it starts"} {
		require.Contains(t, text, want)
	}
	var ref, token string
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT reference, token FROM booking_refs WHERE salon_id = $1`, b.salonID).Scan(&ref, &token))
	require.Contains(t, text, "Booking reference: "+ref)
	require.Contains(t, text, "Add it to your calendar: https://salon.example/booking/"+token+".ics")

	b.run(t, []*conv{ivan}, []string{"text: привет", "pick: Записаться", "pick: Маникюр", "pick: #3", "pick: 11:00",
		"text: Иван", "text: +7 912 345 67 89", "pick: Подтвердить"})
	require.True(t, strings.HasPrefix(ivan.last[0].Text, "Вы записаны: Маникюр, мастер Анна, среда, 3 марта, 11:00–12:00, 25\u00a0€."), ivan.last[0].Text)
	require.Contains(t, ivan.last[0].Text, "Номер записи: ")
	require.Contains(t, ivan.last[0].Text, "Добавить в календарь: https://salon.example/booking/")
}

// TestLookupByReferenceAndPhone: on another device (another chat), the
// reference and the phone typed show the booking, read-only, with its calendar
// link; a wrong phone shows nothing and says not which part was wrong.
func TestLookupByReferenceAndPhone(t *testing.T) {
	t.Parallel()
	b := newBundle(t)
	olga, other, ivan := &conv{name: "olga", hint: "en"}, &conv{name: "laptop", hint: "en"}, &conv{name: "ivan", hint: "ru"}
	b.run(t, []*conv{olga}, []string{"text: hi", "pick: Book", "pick: Haircut", "pick: Anna", "pick: Tue 2 Mar", "pick: 10:00",
		"text: Olga", "text: +49 151 11111119", "pick: Confirm"})
	var ref string
	require.NoError(t, pgtest.Pool(t).QueryRow(ctx, `SELECT reference FROM booking_refs WHERE salon_id = $1`, b.salonID).Scan(&ref))
	require.Contains(t, olga.last[0].Text, "send the reference and your phone number to this chat")

	b.run(t, []*conv{other}, []string{"text: hi", "text: " + strings.ToLower(ref) + " +49 151 11111110"})
	require.True(t, strings.HasPrefix(other.last[0].Text, "I couldn't find a booking with that reference and phone number."), other.last[0].Text)
	b.run(t, []*conv{other}, []string{"text: " + strings.ToLower(ref) + " +49 151 11111119"})
	text := other.last[0].Text
	require.True(t, strings.HasPrefix(text, "Booking "+ref+": Haircut with Anna, Tuesday, 2 March, 10:00–10:45, €35."), text)
	require.Contains(t, text, "https://salon.example/booking/")
	require.Contains(t, text, "use the chat you booked in, or call the salon: +49 30 1234567")
	for _, c := range other.last[0].Choices {
		require.False(t, strings.HasPrefix(c.ID, "cx:") || strings.HasPrefix(c.ID, "mv:"), "read-only: %v", c)
	}

	b.run(t, []*conv{ivan}, []string{"text: привет", "text: " + ref + ", +4915111111119"})
	require.True(t, strings.HasPrefix(ivan.last[0].Text, "Запись "+ref+": Стрижка, мастер Анна, вторник, 2 марта, 10:00–10:45, 35\u00a0€."), ivan.last[0].Text)
}
