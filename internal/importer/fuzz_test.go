package importer

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/rawbytes"
	"github.com/knadh/koanf/v2"

	"github.com/statussync/statussync/config"
)

// The seed corpora under testdata/fuzz are the fixtures, written in Go's
// corpus format by TestFuzzSeedCorpus -update.

func FuzzImportCachetMonitor(f *testing.F) {
	// Small inputs fuzz faster than the fixtures.
	f.Add([]byte(`{"api": {"url": "https://s.example/api/v1", "token": "t"}, "monitors": [{"name": "a", "target": "a.example", "type": "https", "component_id": "1", "threshold": "30"}]}`))
	f.Add([]byte("monitors:\n  - {name: d, type: dns, target: example.org, answers: [{exact: 1.2.3.4}], template: {investigating: {subject: '{{ .Monitor.Name }} {{ .now }}'}}, component_id: 2}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := CachetMonitor(data, CachetMonitorOptions{})
		if err != nil {
			return
		}
		checkFuzzOutput(t, res)
	})
}

func FuzzImportBlackbox(f *testing.F) {
	f.Add([]byte("modules:\n  a: {prober: http, timeout: 5s, http: {valid_status_codes: [200], headers: {X: y}}}\n"), []byte("https://a.example\n"))
	f.Add([]byte("modules:\n  d: {prober: dns, dns: {query_name: example.org}}\n  t: {prober: tcp}\n"), []byte(`[{"targets": ["192.0.2.1"], "labels": {"module": "d", "team": "x"}}, {"targets": ["h:1"], "labels": {"module": "t"}}]`))
	f.Fuzz(func(t *testing.T, modules, targets []byte) {
		res, err := Blackbox(modules, targets, BlackboxOptions{})
		if err != nil {
			return
		}
		checkFuzzOutput(t, res)
	})
}

// readsFiles matches the keys that make config.Load read a file: a fuzzed
// path may name /dev/zero, which never ends.
var readsFiles = regexp.MustCompile(`(body|password|bearer_token|ca|cert|key)_file:`)

// checkFuzzOutput: an import that succeeds yields YAML that statussync's
// loader parses. It need not validate (fuzzed input is nonsense), but
// loading must not panic.
func checkFuzzOutput(t *testing.T, res *Result) {
	t.Helper()
	k := koanf.New(".")
	if err := k.Load(rawbytes.Provider(res.YAML), yaml.Parser()); err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, res.YAML)
	}
	if !strings.Contains(string(res.YAML), "\nmonitors:") {
		t.Fatalf("output has no monitors key:\n%s", res.YAML)
	}
	if readsFiles.Match(res.YAML) {
		return
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yml")
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(path, res.YAML, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(token, []byte("t"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := config.Load(path, []string{config.EnvPrefix + "CACHET__TOKEN_FILE=" + token})
	if err != nil && strings.Contains(err.Error(), "parse config file") {
		t.Fatalf("config.Load cannot parse the output: %v\n%s", err, res.YAML)
	}
}

// TestFuzzSeedCorpus keeps the fuzzers' seed corpora in step with the
// fixtures.
func TestFuzzSeedCorpus(t *testing.T) {
	corpus := func(args ...[]byte) []byte {
		var b strings.Builder
		b.WriteString("go test fuzz v1\n")
		for _, a := range args {
			fmt.Fprintf(&b, "[]byte(%q)\n", a)
		}
		return []byte(b.String())
	}
	fixtures, _ := filepath.Glob("testdata/cachet-monitor/*")
	for _, f := range fixtures {
		if strings.Contains(f, ".golden.") || strings.HasSuffix(f, ".warnings.txt") {
			continue
		}
		golden(t, filepath.Join("testdata/fuzz/FuzzImportCachetMonitor", filepath.Base(f)), corpus(readFile(t, f)))
	}
	modules := readFile(t, "testdata/blackbox/blackbox.yml")
	for _, targets := range []string{"targets.txt", "file_sd.json"} {
		golden(t, filepath.Join("testdata/fuzz/FuzzImportBlackbox", targets), corpus(modules, readFile(t, filepath.Join("testdata/blackbox", targets))))
	}
}
