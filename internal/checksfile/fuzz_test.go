package checksfile

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParse: any input either parses into entries that all carry a name, a
// known type and the defaults, or fails with problems that each name a
// place; it never panics.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("testdata/checks-36.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("- {name: a, check_type: 15, ip: a, port: 25, notifications: [{type: mail, value: X, is_env_var: true}]}"))
	f.Add([]byte("- {name: a, check_type: 18, ip: a, path: '/x?y', notifications: {type: webhook-up, value: 'https://h/x'}}"))
	f.Add([]byte("name: a"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data, "fuzz.yaml")
		if err != nil {
			for _, p := range Problems(err) {
				var pr *Problem
				if !errors.As(p, &pr) || pr.Where == "" || !strings.HasPrefix(p.Error(), "fuzz.yaml") {
					t.Fatalf("problem without a place: %v", p)
				}
			}
			return
		}
		seen := map[string]bool{}
		for _, e := range file.Entries {
			if e.Name == "" || TypeNames[e.Type] == "" || seen[e.Name] {
				t.Fatalf("bad entry %+v", e)
			}
			seen[e.Name] = true
			if e.Params["monitoring_region"] == "" || e.Params["check_period"] == "" {
				t.Fatalf("defaults missing: %+v", e)
			}
			if strings.HasPrefix(e.Params["path"], "/") {
				t.Fatalf("path kept its slash: %+v", e)
			}
		}
		_ = file.Resolve(nil, nil)
	})
}
