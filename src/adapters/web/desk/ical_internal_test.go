package desk

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// TestICalFolding: content lines of every length up to a few folds, of 1- to
// 4-octet characters, are folded into lines of at most 75 octets that never
// split a character, and unfolding gives the line back.
func TestICalFolding(t *testing.T) {
	t.Parallel()
	for _, ch := range []string{"a", "é", "美", "😀"} {
		for n := 0; n < 200; n++ {
			value := strings.Repeat(ch, n)
			var c ical
			c.line("SUMMARY", value)
			out := c.String()
			require.True(t, strings.HasSuffix(out, "\r\n"))
			phys := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
			for i, l := range phys {
				require.LessOrEqual(t, len(l), 75, "%q × %d, line %d", ch, n, i)
				require.True(t, utf8.ValidString(l), "%q × %d, line %d", ch, n, i)
				if i > 0 {
					require.True(t, strings.HasPrefix(l, " "))
					require.Greater(t, len(l), 1, "no empty continuation")
				}
			}
			require.Equal(t, "SUMMARY:"+value, strings.ReplaceAll(strings.TrimSuffix(out, "\r\n"), "\r\n ", ""))
		}
	}
}

func TestICalText(t *testing.T) {
	t.Parallel()
	var c ical
	c.text("SUMMARY", "a\\b;c,d\ne\r\nf\rg\x01h\ti")
	require.Equal(t, "SUMMARY:a\\\\b\\;c\\,d\\ne\\nf\\ng"+"h\ti\r\n", c.String())
}
