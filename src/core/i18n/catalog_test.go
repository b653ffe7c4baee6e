package i18n_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"salonbook/src/core"
	"salonbook/src/core/i18n"
)

// pluralForms are the CLDR forms each language's plural messages must have
// (a missing one is a blank in a chat for some count: "few" is 2–4, 22–24… in
// Russian).
var pluralForms = map[string][]string{
	"en": {"one", "other"},
	"ru": {"one", "few", "many", "other"},
}

// onlyOne lists the languages whose "one" form is used for the count 1 alone,
// so it may leave the number out ("Your upcoming booking"); Russian "one" is
// also 21, 31…, so every Russian form says {{.N}}.
var onlyOne = map[string]bool{"en": true}

// channelLimits are the longest labels each channel shows whole, in
// characters: a WhatsApp reply button title, a WhatsApp list row title, and a
// Telegram button (the API allows more; 20 is this product's rule, so a label
// reads the same everywhere).
var channelLimits = []struct {
	name string
	max  int
}{
	{"whatsapp reply button", 20},
	{"whatsapp list row", 24},
	{"telegram button", 20},
}

// fitsEveryChannel returns an error naming the first channel label does not fit.
func fitsEveryChannel(label string) error {
	n := utf8.RuneCountInString(label)
	for _, c := range channelLimits {
		if n > c.max {
			return fmt.Errorf("%q is %d characters, over the %s's %d", label, n, c.name, c.max)
		}
	}
	if strings.TrimSpace(label) == "" {
		return fmt.Errorf("an empty label")
	}
	return nil
}

// rawCatalogs reads each language's file as written: key -> text, or
// key -> plural form -> text.
func rawCatalogs(t *testing.T, langs []string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, lang := range langs {
		raw, err := os.ReadFile("locales/" + lang + ".yaml")
		require.NoError(t, err)
		var msgs map[string]any
		require.NoError(t, yaml.Unmarshal(raw, &msgs))
		out[lang] = msgs
	}
	return out
}

// call is one p.T / p.N of a catalog key in the code, with the names of the
// data it passes; names is nil when one of them is not a literal (then the
// call cannot be checked by reading the code).
type call struct {
	at    string
	names []string
}

// keyCalls finds every T("key", "Name", v, …) and N("key", n, "Name", v, …)
// with a literal key in the non-test Go files under dirs.
func keyCalls(t *testing.T, dirs ...string) map[string][]call {
	t.Helper()
	calls := map[string][]call{}
	fset := token.NewFileSet()
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				ce, ok := n.(*ast.CallExpr)
				if !ok || len(ce.Args) == 0 {
					return true
				}
				sel, ok := ce.Fun.(*ast.SelectorExpr)
				if !ok || (sel.Sel.Name != "T" && sel.Sel.Name != "N") {
					return true
				}
				lit, ok := ce.Args[0].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					// A key the code computes: recorded under "" by where
					// it is and what computes it, for the allow-list.
					var arg strings.Builder
					_ = printer.Fprint(&arg, fset, ce.Args[0])
					calls[""] = append(calls[""], call{at: filepath.Base(path) + ": " + arg.String()})
					return true
				}
				key, _ := strconv.Unquote(lit.Value)
				first := 1
				names := []string{}
				if sel.Sel.Name == "N" {
					first, names = 2, []string{"N"}
				}
				for i := first; i < len(ce.Args); i += 2 {
					nl, ok := ce.Args[i].(*ast.BasicLit)
					if !ok || nl.Kind != token.STRING {
						names = nil
						break
					}
					name, _ := strconv.Unquote(nl.Value)
					names = append(names, name)
				}
				calls[key] = append(calls[key], call{at: fset.Position(ce.Pos()).String(), names: names})
				return true
			})
			return nil
		})
		require.NoError(t, err)
	}
	return calls
}

// computedKeys are the T/N calls (file: key expression) whose key the code
// computes other than as a numbered family, each reviewed: the keys it can
// make are in the goldens.
var computedKeys = map[string]bool{
	"book.go: key":                          true, // ask.service / ask.service_with
	"nothing.go: key":                       true, // why.too_short / why.too_short_master
	"info.go: key":                          true, // hours.range / hours.range_list; phoneMsg/phoneN's key with the phone
	"info.go: key + \"_no_phone\"":          true, // phoneMsg/phoneN without one: each form in nophone_test.go
	"summary.go: key":                       true, // staff.summary.* by status
	"staff.go: \"staff.\" + string(n.Kind)": true, // staff.booked, staff.moved, …
	"staff.go: \"staff.deposit.\" + string(n.DepositTo)": true,
	"typed.go: button": true, // cancel.how / move.how's button
	"typed.go: how":    true,
	"typed.go: key":    true,
	"typed.go: which":  true,
	"main.go: key":     true, // label(p, "btn.share_contact"): TestConfigTelegramLabels checks it in every language
	// Not the catalog's T: a calendar's or a provider's method.
	"gcal.go: d/2 + 1": true, "jobs.go: d/2 + 1": true, "meta.go: d/2 + 1": true,
}

// notShown are keys called with data the scan cannot read that no golden
// shows yet, each with why (the data names were checked by hand).
var notShown = map[string]string{
	"why.finished_master": "nothing.go's args() passes When, WhenEnd, Master, Service; no transcript asks for today after a master's hours",
	"why.finished":        "as why.finished_master, any master",
	"why.full":            "as why.finished_master: a day full for every master",
	"why.no_service":      "as why.finished_master: a master who does not do the service that day",
}

// longestLiteral is the longest run of a template's text outside {{…}}.
func longestLiteral(text string) string {
	best := ""
	for _, part := range regexp.MustCompile(`\{\{[^}]*\}\}`).Split(text, -1) {
		if part = strings.TrimSpace(part); len(part) > len(best) {
			best = part
		}
	}
	return best
}

// texts lists a message's texts: one, or one per plural form.
func texts(v any) []string {
	switch m := v.(type) {
	case string:
		return []string{m}
	case map[string]any:
		var out []string
		for _, f := range slices.Sorted(func(yield func(string) bool) {
			for k := range m {
				if !yield(k) {
					return
				}
			}
		}) {
			out = append(out, fmt.Sprint(m[f]))
		}
		return out
	}
	return nil
}

func TestEveryCatalog(t *testing.T) {
	t.Parallel()
	c, err := i18n.Load()
	require.NoError(t, err)
	langs := c.Languages()
	cats := rawCatalogs(t, langs)

	t.Run("EveryKeyInEveryLanguage", func(t *testing.T) {
		t.Parallel()
		for _, a := range langs {
			for _, b := range langs {
				for k := range cats[a] {
					require.Contains(t, cats[b], k, "%s.yaml has %q, %s.yaml lacks it", a, k, b)
				}
			}
		}
	})

	t.Run("PluralFormsComplete", func(t *testing.T) {
		t.Parallel()
		for _, lang := range langs {
			want, ok := pluralForms[lang]
			require.True(t, ok, "say which plural forms %s needs in pluralForms", lang)
			for k, v := range cats[lang] {
				forms, plural := v.(map[string]any)
				_, enPlural := cats["en"][k].(map[string]any)
				require.Equal(t, enPlural, plural, "%s %s: plural in one language, not in the other", lang, k)
				if !plural {
					continue
				}
				for _, f := range want {
					require.NotEmpty(t, forms[f], "%s %s lacks the plural form %q", lang, k, f)
				}
			}
		}
	})

	t.Run("PluralFormsSayTheNumber", func(t *testing.T) {
		t.Parallel()
		for _, lang := range langs {
			for k, v := range cats[lang] {
				forms, plural := v.(map[string]any)
				if !plural {
					continue
				}
				for f, text := range forms {
					if f == "one" && onlyOne[lang] {
						continue
					}
					require.Contains(t, fmt.Sprint(text), "{{.N}}", "%s %s.%s: the form covers more than one count, so it must say {{.N}}", lang, k, f)
				}
			}
		}
	})

	t.Run("CallsTheScanCannotReadAreCovered", func(t *testing.T) {
		t.Parallel()
		calls := keyCalls(t, "..", "../../adapters", "../../cmd")
		// A key the code computes: a family by number must be whole in
		// every language; any other computed key is reviewed once and
		// named in computedKeys (its keys are shown by the goldens).
		family := regexp.MustCompile(`^fmt\.Sprintf\("([a-z_.]+)%d"`)
		for _, cl := range calls[""] {
			_, expr, _ := strings.Cut(cl.at, ": ")
			if m := family.FindStringSubmatch(expr); m != nil {
				lo, hi := 0, 6 // weekdays
				if strings.HasPrefix(m[1], "month") {
					lo, hi = 1, 12
				}
				for _, lang := range langs {
					for i := lo; i <= hi; i++ {
						require.Contains(t, cats[lang], fmt.Sprintf("%s%d", m[1], i), "%s: %s.yaml lacks a key of the family", cl.at, lang)
					}
				}
				continue
			}
			require.True(t, computedKeys[cl.at], "%s: a T/N call with a key the code computes; check each key it can make is in a golden, then add it to computedKeys", cl.at)
		}
		// A call whose data names are not literals (passed on from args):
		// its key must show in some golden, where it ran with the real data.
		var goldens strings.Builder
		for _, dir := range []string{"../dialog/testdata", "../../cmd/salonbook/testdata/render"} {
			files, err := filepath.Glob(filepath.Join(dir, "*.golden"))
			require.NoError(t, err)
			require.NotEmpty(t, files, dir)
			for _, f := range files {
				raw, err := os.ReadFile(f)
				require.NoError(t, err)
				goldens.Write(raw)
			}
		}
		shown := goldens.String()
		require.NotContains(t, shown, "<no value>", "a golden shows a template run without its data")
		skipped, missing := 0, []string(nil)
		for key, cs := range calls {
			if key == "" || !slices.ContainsFunc(cs, func(c call) bool { return c.names == nil }) {
				continue
			}
			skipped++
			covered := false
			for _, lang := range langs {
				for _, text := range texts(cats[lang][key]) {
					if frag := longestLiteral(text); len(frag) >= 8 && strings.Contains(shown, frag) {
						covered = true
					}
				}
			}
			if _, ok := notShown[key]; ok {
				require.False(t, covered, "%q is shown by a golden now: take it off notShown", key)
				continue
			}
			if !covered {
				missing = append(missing, cs[0].at+": "+key)
			}
		}
		slices.Sort(missing)
		require.Empty(t, missing, "keys given data the scan cannot read that no golden shows: add a transcript, or pass literal names")
		require.Positive(t, skipped, "the scan finds the calls it cannot read")
	})

	t.Run("TemplatesRunWithTheDataTheCodePasses", func(t *testing.T) {
		t.Parallel()
		calls := keyCalls(t, "..", "../../adapters", "../../cmd")
		require.Contains(t, calls, "confirm.text", "the scan finds the dialog's calls")
		checked := 0
		for key, cs := range calls {
			for _, cl := range cs {
				for _, lang := range langs {
					v, ok := cats[lang][key]
					if !ok {
						if strings.Contains(key, ".") && !strings.Contains(key, " ") {
							require.Fail(t, "missing key", "%s: key %q is not in %s.yaml", cl.at, key, lang)
						}
						continue
					}
					if cl.names == nil {
						continue
					}
					data := map[string]any{}
					for _, n := range cl.names {
						data[n] = "x"
					}
					for _, text := range texts(v) {
						tmpl, err := template.New(key).Option("missingkey=error").Parse(text)
						require.NoError(t, err, "%s %s", lang, key)
						var out strings.Builder
						require.NoError(t, tmpl.Execute(&out, data), "%s %s: %s passes %v", lang, key, cl.at, cl.names)
						checked++
					}
				}
			}
		}
		require.Greater(t, checked, 300)

		// Every template parses and runs with every name it uses.
		for _, lang := range langs {
			for key, v := range cats[lang] {
				for _, text := range texts(v) {
					_, err := template.New(key).Parse(text)
					require.NoError(t, err, "%s %s", lang, key)
				}
			}
		}
	})

	t.Run("LabelsFitEveryChannel", func(t *testing.T) {
		t.Parallel()
		require.Error(t, fitsEveryChannel("Notify me when a time"), "21 characters must not fit")
		require.NoError(t, fitsEveryChannel("Notify me when a tim"))
		zone, err := time.LoadLocation("Europe/Berlin")
		require.NoError(t, err)
		for _, lang := range langs {
			p := c.Printer(lang, zone)
			for k := range cats[lang] {
				if strings.HasPrefix(k, "btn.") || k == "language.name" {
					require.NoError(t, fitsEveryChannel(p.T(k, "Day", p.Date(core.Date{Year: 2027, Month: 9, Day: 29}), "N", 99)), "%s %s", lang, k)
				}
			}
			// Day buttons, full days, times with their day, a wait-list's Leave: every day of a year.
			for d := (core.Date{Year: 2027, Month: 1, Day: 1}); d.Year == 2027; d = d.AddDays(1) {
				for _, l := range []string{p.Date(d), p.T("day.full", "Day", p.Date(d)), p.T("btn.leave", "Day", p.Date(d))} {
					require.NoError(t, fitsEveryChannel(l), "%s %s", lang, d)
				}
				at := time.Date(d.Year, d.Month, d.Day, 23, 45, 0, 0, zone)
				require.NoError(t, fitsEveryChannel(p.Short(at)), "%s %s", lang, d)
				require.NoError(t, fitsEveryChannel(p.Time(at)), "%s %s", lang, d)
			}
			require.NoError(t, fitsEveryChannel(p.T("btn.leave_n", "N", "99")), lang)
		}
	})
}
