package salonfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The file is decoded into yaml.Node rather than into structs: nodes keep the line
// of every key and value, so each problem can say where it is, and walking them
// lets unknown and repeated fields be reported instead of silently dropped.

// parser walks the node tree and collects problems; it never stops at the first.
type parser struct {
	problems []*Error
	walked   int    // values walked so far, counting each use of an alias
	tooLarge *Error // set once walked passes maxValues; then the only problem worth reading
}

// maxValues bounds the values walked. yaml.v3 limits alias expansion when it
// decodes into Go values but not into nodes, and a few aliases of aliases can make
// a small file expand enormously; no real salon comes near this bound.
const maxValues = 100_000

// spend counts n more values walked and reports whether the walk may go on.
func (p *parser) spend(n int, line int) bool {
	p.walked += n
	if p.walked <= maxValues {
		return true
	}
	if p.tooLarge == nil {
		p.tooLarge = &Error{Line: line, Msg: fmt.Sprintf("file is too large: more than %d values, counting each use of an alias", maxValues)}
	}
	return false
}

func (p *parser) add(line int, field, format string, args ...any) {
	p.problems = append(p.problems, &Error{Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// yamlLine matches the line yaml.v3 puts in its syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// decode returns the root node of the file's only document, or nil after
// recording why there is none.
func (p *parser) decode(data []byte) *yaml.Node {
	if len(data) > maxSize {
		p.add(0, "", "file is larger than %d bytes", maxSize)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.add(0, "", "file is empty")
		} else {
			p.yamlError(err)
		}
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		p.add(next.Line, "", "file holds more than one YAML document")
		return nil
	case !errors.Is(err, io.EOF):
		p.yamlError(err)
		return nil
	}
	root := &doc
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		root = resolve(doc.Content[0])
	}
	if isNull(root) || root.Kind == yaml.DocumentNode {
		p.add(0, "", "file is empty")
		return nil
	}
	return root
}

// yamlError records a YAML syntax error with the line yaml.v3 names in its text.
func (p *parser) yamlError(err error) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if line, convErr := strconv.Atoi(m[1]); convErr == nil {
			p.add(line, "", "%s", m[2])
			return
		}
	}
	p.add(0, "", "%s", strings.TrimPrefix(msg, "yaml: "))
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// join builds a field path: join("masters[0]", "hours") is "masters[0].hours".
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// mapping is a YAML mapping whose keys have been checked.
type mapping struct {
	path   string
	line   int                   // where a missing field is reported: the line of the mapping's key
	order  []string              // keys in file order
	keys   map[string]*yaml.Node // key nodes
	values map[string]*yaml.Node // value nodes, aliases resolved
}

// mapping checks that n is a mapping and that its keys are plain, not repeated
// and, unless known is empty, among known. Unknown keys are recorded and left out.
// line is where missing fields will be reported.
func (p *parser) mapping(n *yaml.Node, path string, line int, known ...string) *mapping {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		if len(known) == 0 {
			p.add(n.Line, path, "must be a mapping, not a %s", kindName(n))
		} else {
			p.add(n.Line, path, "must be a mapping of the fields %s, not a %s", strings.Join(known, ", "), kindName(n))
		}
		return nil
	}
	if !p.spend(len(n.Content)/2, n.Line) {
		return nil
	}
	m := &mapping{path: path, line: line, keys: map[string]*yaml.Node{}, values: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.add(k.Line, path, "a key must be a plain name")
			continue
		}
		name := k.Value
		switch {
		case name == "<<" && k.Tag == "!!merge":
			p.add(k.Line, path, "merge keys (<<) are not supported; repeat the fields or use an alias for the whole value")
		case len(known) > 0 && !contains(known, name):
			p.add(k.Line, join(path, name), "unknown field; known fields are %s", strings.Join(known, ", "))
		case m.keys[name] != nil:
			p.add(k.Line, join(path, name), "field repeated (first on line %d)", m.keys[name].Line)
		default:
			m.order = append(m.order, name)
			m.keys[name] = k
			m.values[name] = v
		}
	}
	return m
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// get returns the value of key, or nil when it is absent or null. A missing
// required field is recorded.
func (p *parser) get(m *mapping, key string, required bool) *yaml.Node {
	v := m.values[key]
	if isNull(v) {
		if required {
			line := m.line
			if k := m.keys[key]; k != nil {
				line = k.Line
			}
			p.add(line, join(m.path, key), "is required")
		}
		return nil
	}
	return v
}

// sub returns the mapping under key, with its keys checked against known.
func (p *parser) sub(m *mapping, key string, required bool, known ...string) *mapping {
	v := p.get(m, key, required)
	if v == nil {
		return nil
	}
	return p.mapping(v, join(m.path, key), m.keys[key].Line, known...)
}

// scalar returns the text of a scalar value as written (so "35.00" stays
// "35.00") and its node, or "" and nil when the field is absent or null.
func (p *parser) scalar(m *mapping, key string, required bool) (string, *yaml.Node) {
	v := p.get(m, key, required)
	if v == nil {
		return "", nil
	}
	if v.Kind != yaml.ScalarNode {
		p.add(v.Line, join(m.path, key), "must be a single value, not a %s", kindName(v))
		return "", nil
	}
	return v.Value, v
}

// text returns a string field; a required one must not be blank.
func (p *parser) text(m *mapping, key string, required bool) string {
	s, n := p.scalar(m, key, required)
	if n != nil && required && strings.TrimSpace(s) == "" {
		p.add(n.Line, join(m.path, key), "must not be empty")
	}
	return s
}

// list returns the items of the list under key, aliases resolved, or nil when it
// is absent or not a list. A required list must not be empty.
func (p *parser) list(m *mapping, key string, required bool) []*yaml.Node {
	v := p.get(m, key, required)
	if v == nil {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		p.add(v.Line, join(m.path, key), "must be a list, not a %s", kindName(v))
		return nil
	}
	if !p.spend(len(v.Content), v.Line) {
		return nil
	}
	if required && len(v.Content) == 0 {
		p.add(v.Line, join(m.path, key), "must not be empty")
		return nil
	}
	items := make([]*yaml.Node, len(v.Content))
	for i, item := range v.Content {
		items[i] = resolve(item)
	}
	return items
}

// item returns the text of one scalar list item.
func (p *parser) item(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		p.add(n.Line, path, "must be a single value, not a %s", kindName(n))
		return "", false
	}
	return n.Value, true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "null"
		}
		return "value"
	}
	return "YAML node"
}
