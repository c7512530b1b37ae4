package importer

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Result is an imported statussync configuration.
type Result struct {
	// YAML is the statussync configuration, with a "# WARNING:" comment at
	// the spot of each warning.
	YAML []byte
	// Warnings lists every input item that was not imported as it was
	// (unsupported, changed in meaning, or guessed), each once, in the
	// order the importer came upon them.
	Warnings []Warning

	// consumed holds the input key paths read as whole values; the tests
	// check that every input key is consumed or covered by a warning.
	consumed map[string]bool
}

// Warning is one input item that was not imported as it was.
type Warning struct {
	// Path is the item's key path in the input, e.g.
	// "monitors[2].threshold" or "modules.http_2xx.http.compression"; empty
	// for the input as a whole.
	Path string
	// Msg says what happened to it and, where it helps, what to do.
	Msg string
}

// String formats the warning as "path: message".
func (w Warning) String() string {
	if w.Path == "" {
		return w.Msg
	}
	return w.Path + ": " + w.Msg
}

// collector gathers the warnings and consumed keys of one import.
type collector struct {
	warnings []Warning
	seen     map[Warning]bool
	consumed map[string]bool
	// foldCase matches keys regardless of case, as cachet-monitor does;
	// blackbox's keys (and module names) are case-sensitive.
	foldCase bool
}

func newCollector() *collector {
	return &collector{seen: map[Warning]bool{}, consumed: map[string]bool{}}
}

// warn records a warning and writes it as a comment above anchor (when not
// nil). The same warning is listed once even when several outputs repeat it
// (a blackbox module used by several targets).
func (c *collector) warn(anchor *yaml.Node, path, format string, args ...any) {
	w := Warning{Path: path, Msg: fmt.Sprintf(format, args...)}
	if anchor != nil {
		comment(anchor, "WARNING: "+w.String())
	}
	if !c.seen[w] {
		c.seen[w] = true
		c.warnings = append(c.warnings, w)
	}
}

func (c *collector) result(doc *yaml.Node) (*Result, error) {
	out, err := render(doc)
	if err != nil {
		return nil, err
	}
	return &Result{YAML: out, Warnings: c.warnings, consumed: c.consumed}, nil
}

// joinPath appends key to a key path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// indexPath appends a list index to a key path.
func indexPath(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}

// quote renders user-supplied text for messages and comments: quoted, with
// control characters escaped, so that it can never break a YAML comment.
func quote(s string) string {
	const limit = 120
	if len(s) > limit {
		s = strings.ToValidUTF8(s[:limit], "") + "…"
	}
	return fmt.Sprintf("%q", s)
}
