package telegramtest

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
)

// maxText is sendMessage's limit: 4096 characters after entities parsing.
// Telegram counts text in UTF-16 code units (entity offsets use them), which is
// never fewer than characters, so the fake counts those: stricter when in doubt.
const maxText = 4096

// storedText applies parse_mode to text and checks what remains, returning the
// text as Telegram stores it (formatting removed, surrounding white space
// trimmed) or a Bad Request description.
func storedText(text, parseMode string) (string, string) {
	plain := text
	desc := ""
	switch strings.ToLower(parseMode) {
	case "":
	case "html":
		plain, desc = stripHTML(text)
	case "markdownv2":
		plain, desc = stripMarkdownV2(text)
	case "markdown":
		// Legacy Markdown is lenient and deprecated; the fake keeps the text.
	default:
		return "", "Bad Request: unsupported parse_mode"
	}
	if desc != "" {
		return "", desc
	}
	plain = strings.TrimSpace(plain)
	if plain == "" {
		return "", "Bad Request: message text is empty"
	}
	if utf16Len(plain) > maxText {
		return "", "Bad Request: message is too long"
	}
	return plain, ""
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// htmlTags are the tags Telegram's HTML parse mode supports.
var htmlTags = map[string]bool{
	"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true,
	"s": true, "strike": true, "del": true, "span": true, "tg-spoiler": true,
	"a": true, "code": true, "pre": true, "blockquote": true, "tg-emoji": true,
}

// stripHTML removes Telegram HTML markup. Every '<' starts a tag, so an unescaped
// '<' in user-supplied text (a name like "<3") fails here as it does in Telegram.
func stripHTML(s string) (string, string) {
	var out strings.Builder
	var open []string
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return "", fmt.Sprintf("Bad Request: can't parse entities: Unclosed start tag at byte offset %d", i)
			}
			tag := s[i+1 : i+end]
			closing := strings.HasPrefix(tag, "/")
			fields := strings.Fields(strings.TrimPrefix(tag, "/"))
			name := ""
			if len(fields) > 0 {
				name = strings.ToLower(fields[0])
			}
			switch {
			case closing && (len(open) == 0 || open[len(open)-1] != name):
				expected := ""
				if len(open) > 0 {
					expected = open[len(open)-1]
				}
				return "", fmt.Sprintf(`Bad Request: can't parse entities: Unmatched end tag at byte offset %d, expected "</%s>", found "</%s>"`, i, expected, name)
			case closing:
				open = open[:len(open)-1]
			case !htmlTags[name]:
				return "", fmt.Sprintf(`Bad Request: can't parse entities: Unsupported start tag "%s" at byte offset %d`, name, i)
			default:
				open = append(open, name)
			}
			i += end + 1
		case '&':
			if semi := strings.IndexByte(s[i:], ';'); semi > 1 && semi <= 10 {
				if r, ok := htmlEntity(s[i+1 : i+semi]); ok {
					out.WriteString(r)
					i += semi + 1
					continue
				}
			}
			out.WriteByte('&')
			i++
		default:
			out.WriteByte(s[i])
			i++
		}
	}
	if len(open) > 0 {
		return "", fmt.Sprintf(`Bad Request: can't parse entities: Can't find end tag corresponding to start tag "%s"`, open[len(open)-1])
	}
	return out.String(), ""
}

// htmlEntity decodes the entities Telegram supports: the four named ones and
// numeric ones.
func htmlEntity(name string) (string, bool) {
	switch name {
	case "lt":
		return "<", true
	case "gt":
		return ">", true
	case "amp":
		return "&", true
	case "quot":
		return `"`, true
	}
	num, ok := strings.CutPrefix(name, "#")
	if !ok {
		return "", false
	}
	base := 10
	if hex, ok := strings.CutPrefix(strings.ToLower(num), "x"); ok {
		num, base = hex, 16
	}
	n, err := strconv.ParseUint(num, base, 32)
	if err != nil {
		return "", false
	}
	return string(rune(n)), true
}

// stripMarkdownV2 removes MarkdownV2 markup and enforces its best-known trap:
// the characters "#+-={}.!()" and a '>' that does not open a line must be escaped
// with '\' outside code and link URLs. Unbalanced markers are not checked.
func stripMarkdownV2(s string) (string, string) {
	var out strings.Builder
	rs := []rune(s)
	inCode, inPre, inURL := false, false, false
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		if c == '\\' && i+1 < len(rs) {
			if !inURL {
				out.WriteRune(rs[i+1])
			}
			i++
			continue
		}
		switch {
		case inPre:
			if c == '`' && i+2 < len(rs) && rs[i+1] == '`' && rs[i+2] == '`' {
				inPre = false
				i += 2
				continue
			}
			out.WriteRune(c)
			continue
		case inCode:
			if c == '`' {
				inCode = false
				continue
			}
			out.WriteRune(c)
			continue
		case inURL:
			if c == ')' {
				inURL = false
			}
			continue
		}
		switch c {
		case '`':
			if i+2 < len(rs) && rs[i+1] == '`' && rs[i+2] == '`' {
				inPre = true
				i += 2
				// The optional language name runs to the end of the first line.
				for i+1 < len(rs) && rs[i+1] != '\n' && rs[i+1] != '`' {
					i++
				}
				if i+1 < len(rs) && rs[i+1] == '\n' {
					i++
				}
				continue
			}
			inCode = true
		case '*', '_', '~', '|', '[':
		case ']':
			if i+1 < len(rs) && rs[i+1] == '(' {
				inURL = true
				i++
			}
		case '>':
			if i > 0 && rs[i-1] != '\n' {
				return "", reservedChar(c)
			}
		case '#', '+', '-', '=', '{', '}', '.', '!', '(', ')':
			return "", reservedChar(c)
		default:
			out.WriteRune(c)
		}
	}
	return out.String(), ""
}

func reservedChar(c rune) string {
	return fmt.Sprintf(`Bad Request: can't parse entities: Character '%c' is reserved and must be escaped with the preceding '\'`, c)
}
