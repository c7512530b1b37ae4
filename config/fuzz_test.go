package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzLoad loads arbitrary bytes as the configuration file, with an
// arbitrary STATUSSYNC_CACHET__TOKEN. Load must never panic, must give the
// same outcome twice, must return a configuration that validates again,
// and its errors must never quote a secret (the token, a password, a
// bearer token). Seeds: every file under testdata/ plus the regressions
// in testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.yml"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "")
	}
	f.Add([]byte("cachet: {url: 'http://127.0.0.1:1/api', token: 'tok en-with-a-space'}\n"), "")
	f.Add([]byte("cachet: {url: 'http://127.0.0.1:1/api'}\n"), "7|envTokenSecretValue")
	f.Add([]byte("cachet: {url: 'http://127.0.0.1:1/api', token: [inlineSecretValue9]}\n"), "")
	f.Add([]byte("monitors:\n  - name: x\n    http: {url: 'http://a', basic_auth: {username: u, password: {p: basicSecretValue7}}}\n"), "")
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, envToken string) {
		// Files the configuration names are read in full: keep the
		// fuzzer away from the ones that never end.
		for _, bad := range []string{"/dev/", "/proc/", "/sys/"} {
			if bytes.Contains(data, []byte(bad)) {
				t.Skip()
			}
		}
		load := func(data []byte, envToken string) (*Config, string) {
			path, err := os.CreateTemp(dir, "fuzz-*.yml")
			if err != nil {
				t.Fatal(err)
			}
			defer os.Remove(path.Name())
			if _, err := path.Write(data); err != nil {
				t.Fatal(err)
			}
			_ = path.Close()
			var environ []string
			if envToken != "" {
				environ = []string{"STATUSSYNC_CACHET__TOKEN=" + envToken}
			}
			cfg, err := Load(path.Name(), environ)
			if err != nil {
				// The path is random; take it out so two loads compare.
				return nil, strings.ReplaceAll(err.Error(), path.Name(), "CONFIG")
			}
			return cfg, ""
		}
		cfg, errText := load(data, envToken)
		cfg2, errText2 := load(data, envToken)
		switch {
		case errText != errText2:
			t.Fatalf("two loads of the same input disagree:\n%s\n---\n%s", errText, errText2)
		case cfg != nil && cfg2 != nil && cfg.Checksum != cfg2.Checksum:
			t.Fatalf("two loads of the same input give checksums %s and %s", cfg.Checksum, cfg2.Checksum)
		case cfg != nil:
			if err := cfg.Validate(); err != nil {
				t.Fatalf("a loaded configuration does not validate again: %v", err)
			}
			return
		}

		// A secret in the error text is a leak only if it comes from the
		// secret: the same input with the secret replaced must not show
		// it.
		for _, s := range secretValues(data) {
			if strings.Contains(errText, s) {
				_, alt := load(bytes.Replace(data, []byte(s), bytes.Repeat([]byte("Q"), len(s)), 1), envToken)
				if !strings.Contains(alt, s) {
					t.Fatalf("the error quotes the secret %q:\n%s", s, errText)
				}
			}
		}
		if len(envToken) >= 8 && !bytes.Contains(data, []byte(envToken)) && strings.Contains(errText, envToken) {
			_, alt := load(data, strings.Repeat("Q", len(envToken)))
			if !strings.Contains(alt, envToken) {
				t.Fatalf("the error quotes STATUSSYNC_CACHET__TOKEN %q:\n%s", envToken, errText)
			}
		}
	})
}

// secretKeys are the keys whose values are secrets.
var secretKeys = map[string]bool{"token": true, "password": true, "bearer_token": true}

// secretValues returns the scalar values under secret keys, anywhere in a
// YAML document, that are long enough to be told apart from ordinary text
// and appear exactly once in its bytes (so replacing them is exact).
func secretValues(data []byte) []string {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return nil
	}
	var out []string
	var walk func(n *yaml.Node, depth int)
	walk = func(n *yaml.Node, depth int) {
		if n == nil || depth > 64 {
			return
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if secretKeys[k.Value] {
					var scalars []*yaml.Node
					collectScalars(v, &scalars, depth)
					for _, s := range scalars {
						if len(s.Value) >= 8 && bytes.Count(data, []byte(s.Value)) == 1 {
							out = append(out, s.Value)
						}
					}
				}
			}
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(&root, 0)
	return out
}

func collectScalars(n *yaml.Node, out *[]*yaml.Node, depth int) {
	if n == nil || depth > 64 {
		return
	}
	if n.Kind == yaml.ScalarNode {
		*out = append(*out, n)
	}
	for _, c := range n.Content {
		collectScalars(c, out, depth+1)
	}
}
