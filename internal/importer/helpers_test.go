package importer

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/statussync/statussync/config"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with the file at path, or rewrites it with -update.
func golden(tb testing.TB, path string, got []byte) {
	tb.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("%s differs (run go test -update and review the diff):\n--- got\n%s", path, got)
	}
}

// readFile reads a fixture.
func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// load validates an imported configuration the way a user deploys it: the
// YAML unchanged, the Cachet token in a file that the environment points
// to (the YAML names /run/secrets/cachet/token, which the test cannot
// create).
func load(tb testing.TB, out []byte) *config.Config {
	tb.Helper()
	dir := tb.TempDir()
	path := filepath.Join(dir, "statussync.yml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		tb.Fatal(err)
	}
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("cachet-3-token\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	cfg, err := config.Load(path, []string{config.EnvPrefix + "CACHET__TOKEN_FILE=" + token})
	if err != nil {
		tb.Fatalf("imported configuration does not load: %v\n%s", err, out)
	}
	return cfg
}

// warningsText is the warnings one per line, as the CLI prints them.
func warningsText(ws []Warning) []byte {
	var b strings.Builder
	for _, w := range ws {
		b.WriteString(w.String())
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// leafPaths lists the key paths of every scalar in v, in the importer's
// notation: a.b[2].c.
func leafPaths(path string, v any) []string {
	switch t := v.(type) {
	case map[string]any:
		var out []string
		for k, e := range t {
			out = append(out, leafPaths(joinPath(path, k), e)...)
		}
		if len(t) == 0 {
			out = append(out, path)
		}
		return out
	case []any:
		var out []string
		for i, e := range t {
			out = append(out, leafPaths(indexPath(path, i), e)...)
		}
		if len(t) == 0 {
			out = append(out, path)
		}
		return out
	}
	return []string{path}
}

// assertEveryKeyAccounted checks that every input key was imported
// (consumed) or reported: that nothing was dropped silently.
func assertEveryKeyAccounted(tb testing.TB, input any, res *Result) {
	tb.Helper()
	for _, p := range leafPaths("", input) {
		if accounted(p, res) {
			continue
		}
		tb.Errorf("input key %s was neither imported nor reported", p)
	}
}

func accounted(path string, res *Result) bool {
	for p := path; ; {
		if res.consumed[p] {
			return true
		}
		for _, w := range res.Warnings {
			if w.Path == p {
				return true
			}
		}
		i := max(strings.LastIndexByte(p, '.'), strings.LastIndexByte(p, '['))
		if i <= 0 {
			return false
		}
		p = p[:i]
	}
}

// hasWarning reports whether some warning is at path and contains text.
func hasWarning(ws []Warning, path, text string) bool {
	return slices.ContainsFunc(ws, func(w Warning) bool {
		return w.Path == path && strings.Contains(w.Msg, text)
	})
}
