package blackboxprobe

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/monitors"
)

type fixed map[string][]monitors.LatestSample

func (f fixed) Latest(m string) ([]monitors.LatestSample, bool) { s, ok := f[m]; return s, ok }

func loadConfig(t *testing.T, body string) *config.Config {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func get(t *testing.T, h http.Handler, query string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/probe?"+query, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

const cfgText = `
monitors:
  - {name: www.example.org, labels: {module: http_2xx, team: web}, http: {url: "https://www.example.org"}}
  - {name: example.org/health, labels: {module: http_2xx}, http: {url: "http://example.org/health"}}
  - {name: db.example.org:5432, labels: {module: tcp_connect}, tcp: {address: "db.example.org:5432"}}
  - {name: same-a, labels: {module: dup}, tcp: {address: "dup.example.org:1"}}
  - {name: same-b, labels: {module: dup}, tcp: {address: "dup.example.org:1"}}
  - {name: unlabelled, tcp: {address: "x.example.org:1"}}
`

func TestProbeServesLatestUnlabelled(t *testing.T) {
	h := New(fixed{"www.example.org": {
		{Name: "probe_success", Help: "Displays whether or not the probe was a success", Value: 1},
		{Name: "probe_duration_seconds", Help: "Returns how long the probe took to complete in seconds", Value: 0.25},
		{Name: "probe_http_status_code", Help: "Response HTTP status code", Value: 200},
		{Name: "probe_http_duration_seconds", Help: "Duration of http request by phase, summed over all redirects", Label: "phase", LabelValue: "connect", Value: 0.01},
	}})
	h.Configure(loadConfig(t, cfgText))
	for _, target := range []string{"https://www.example.org", "www.example.org"} {
		code, body := get(t, h, "module=http_2xx&target="+target)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", target, code, body)
		}
		for _, want := range []string{"probe_success 1\n", "probe_duration_seconds 0.25\n", "probe_http_status_code 200\n", `probe_http_duration_seconds{phase="connect"} 0.01` + "\n", "# HELP probe_success Displays whether or not the probe was a success\n"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: body lacks %q:\n%s", target, want, body)
			}
		}
		if strings.Contains(body, "monitor=") || strings.Contains(body, "team=") {
			t.Errorf("labelled like /metrics, want blackbox's unlabelled output:\n%s", body)
		}
	}
	// A scheme-less target, as blackbox's http prober takes it.
	if code, body := get(t, h, "module=http_2xx&target=example.org/health"); code != http.StatusOK || !strings.Contains(body, "probe_success 0") {
		t.Errorf("unchecked monitor: %d %s; want a failed probe", code, body)
	}
}

func TestProbeRefusesWhatIsNotConfigured(t *testing.T) {
	h := New(fixed{})
	h.Configure(loadConfig(t, cfgText))
	for _, tt := range []struct{ query, want string }{
		{"module=http_2xx&target=https://evil.example.net", "no monitor is configured for module \"http_2xx\" and target \"https://evil.example.net\""},
		{"module=tcp_connect&target=https://www.example.org", "never probes on request"},
		{"module=dup&target=dup.example.org:1", `name 2 monitors ("same-a", "same-b")`},
		{"module=http_2xx", "Target parameter is missing"},
		{"target=www.example.org", "Module parameter is missing"},
	} {
		code, body := get(t, h, tt.query)
		if code != http.StatusBadRequest || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d %q, want 400 with %q", tt.query, code, body, tt.want)
		}
	}
	_, body := get(t, h, "module=nope&target=x")
	for _, want := range []string{"http_2xx https://www.example.org", "tcp_connect db.example.org:5432"} {
		if !strings.Contains(body, want) {
			t.Errorf("the 400 does not list %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "unlabelled") {
		t.Error("a monitor without labels.module is listed as reachable")
	}
}

func TestProbeDebug(t *testing.T) {
	h := New(fixed{"db.example.org:5432": {{Name: "probe_success", Help: "h", Value: 0}, {Name: "probe_duration_seconds", Help: "h", Value: 1}}})
	h.Configure(loadConfig(t, cfgText))
	code, body := get(t, h, "module=tcp_connect&target=db.example.org:5432&debug=true")
	if code != http.StatusOK {
		t.Fatal(code, body)
	}
	for _, want := range []string{"Logs for the probe:", `statussync monitor "db.example.org:5432"`, "Metrics that would have been returned:", "probe_success 0", "Module configuration:"} {
		if !strings.Contains(body, want) {
			t.Errorf("debug output lacks %q:\n%s", want, body)
		}
	}
}
