package faults

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/statussync/statussync/internal/testkit"
)

// TestGCPercentDefault: the binary collects at GOGC=50 unless GOGC is set
// (docs/deploy.md, #18's memory target), as its own metrics show.
func TestGCPercentDefault(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "statussync.yml")
	if err := os.WriteFile(cfg, []byte("monitors:\n  - {name: a, interval: 60s, tcp: {address: \"127.0.0.1:1\"}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gogc := regexp.MustCompile(`(?m)^go_gc_gogc_percent (\S+)$`)
	for _, tc := range []struct {
		environ []string
		want    string
	}{
		{nil, "50"},
		{[]string{"GOGC=100"}, "100"},
		{[]string{"GOGC=off"}, "1.8446744073709552e+19"}, // off reads as the largest uint64
	} {
		p := testkit.StartDaemon(t, tc.environ, cfg)
		_, body := httpGet(t, fmt.Sprintf("http://%s/metrics", p.ListenAddr(t, 0)))
		m := gogc.FindStringSubmatch(body)
		if m == nil || m[1] != tc.want {
			t.Errorf("environment %q: go_gc_gogc_percent %v, want %s", tc.environ, m, tc.want)
		}
		p.Kill()
	}
}
