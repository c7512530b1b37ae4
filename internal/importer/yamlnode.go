package importer

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// Output is built as a yaml.Node tree so that comments sit next to the keys
// they explain and every scalar is quoted exactly as YAML needs.

// commentWidth is where comment lines are wrapped.
const commentWidth = 96

func scalar(tag, value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
}

// strNode is a string scalar. Input text may be invalid UTF-8, which YAML
// cannot hold.
func strNode(s string) *yaml.Node { return scalar("!!str", strings.ToValidUTF8(s, "\uFFFD")) }

func intNode(i int) *yaml.Node { return scalar("!!int", strconv.Itoa(i)) }

func boolNode(b bool) *yaml.Node { return scalar("!!bool", strconv.FormatBool(b)) }

// durationNode writes d the way people do (90s, 5m, 1500ms) rather than
// Go's 1m30s, which statussync would read as well.
func durationNode(d time.Duration) *yaml.Node { return strNode(formatDuration(d)) }

func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return d.String()
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	case d%time.Millisecond == 0:
		return fmt.Sprintf("%dms", d/time.Millisecond)
	}
	return d.String()
}

// mapping is a YAML mapping under construction.
type mapping struct{ node *yaml.Node }

func newMapping() *mapping { return &mapping{node: &yaml.Node{Kind: yaml.MappingNode}} }

// set adds key (or replaces its value) and returns the key node, which
// carries the comments about it.
func (m *mapping) set(key string, v *yaml.Node) *yaml.Node {
	for i := 0; i+1 < len(m.node.Content); i += 2 {
		if m.node.Content[i].Value == key {
			m.node.Content[i+1] = v
			return m.node.Content[i]
		}
	}
	k := strNode(key)
	m.node.Content = append(m.node.Content, k, v)
	return k
}

// get returns the value of key, or nil.
func (m *mapping) get(key string) *yaml.Node {
	for i := 0; i+1 < len(m.node.Content); i += 2 {
		if m.node.Content[i].Value == key {
			return m.node.Content[i+1]
		}
	}
	return nil
}

// child returns the mapping under key, creating it when missing.
func (m *mapping) child(key string) *mapping {
	if v := m.get(key); v != nil && v.Kind == yaml.MappingNode {
		return &mapping{node: v}
	}
	c := newMapping()
	m.set(key, c.node)
	return c
}

func (m *mapping) empty() bool { return len(m.node.Content) == 0 }

func seqNode(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Content: items}
}

// flow renders n on one line: [a, b] or {id: 4}.
func flow(n *yaml.Node) *yaml.Node {
	n.Style = yaml.FlowStyle
	return n
}

func strSeq(ss []string) *yaml.Node {
	n := seqNode()
	for _, s := range ss {
		n.Content = append(n.Content, strNode(s))
	}
	return n
}

// comment adds lines above n, wrapped. Control characters are replaced so
// that no input can end a comment early.
func comment(n *yaml.Node, text string) {
	var lines []string
	for _, para := range strings.Split(text, "\n") {
		lines = append(lines, wrap(sanitizeComment(para), commentWidth)...)
	}
	if n.HeadComment != "" {
		n.HeadComment += "\n"
	}
	n.HeadComment += strings.Join(lines, "\n")
}

func sanitizeComment(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\uFEFF' {
			return '?'
		}
		return r
	}, s)
}

// wrap breaks s at spaces into lines of at most width bytes; continuation
// lines are indented by two spaces. A word longer than width stays whole.
func wrap(s string, width int) []string {
	s = strings.TrimRight(s, " ")
	if s == "" {
		return []string{"#"}
	}
	var lines []string
	indent := ""
	for len(indent)+len(s) > width {
		cut := strings.LastIndexByte(s[:width-len(indent)], ' ')
		if cut <= 0 {
			cut = strings.IndexByte(s, ' ')
			if cut <= 0 {
				break
			}
		}
		lines = append(lines, indent+s[:cut])
		s = strings.TrimLeft(s[cut:], " ")
		indent = "  "
	}
	return append(lines, indent+s)
}

// render writes the document with two-space indentation.
func render(doc *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("render yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("render yaml: %w", err)
	}
	return b.Bytes(), nil
}
