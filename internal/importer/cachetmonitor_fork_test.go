package importer

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/statussync/statussync/config"
)

// forkInput is the part of a deployed fork configuration the semantic
// tests compare with the output, read with encoding/json as the fork does.
type forkInput struct {
	API struct {
		URL   string `json:"url"`
		Token string `json:"token"`
	} `json:"api"`
	AdditionalConfig struct {
		IncidentCreation *bool `json:"incident_creation"`
	} `json:"additional_config"`
	Monitors []struct {
		Name                string `json:"name"`
		Type                string `json:"type"`
		Target              string `json:"target"`
		Port                string `json:"port"`
		ComponentID         string `json:"component_id"`
		ExpectedStatusCode  string `json:"expected_status_code"`
		ExpectedBody        string `json:"expected_body"`
		Interval, Timeout   string
		Threshold           *float64 `json:"threshold"`
		AdditionalConfigMon *struct {
			IncidentCreation *bool `json:"incident_creation"`
		} `json:"additional_config"`
	} `json:"monitors"`
}

func readFork(t *testing.T, path string) ([]byte, forkInput) {
	t.Helper()
	data := readFile(t, path)
	var in forkInput
	if err := json.Unmarshal(data, &in); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return data, in
}

// TestCachetMonitorDeployedFork imports the fork configuration as deployed
// behind a status page (rendered from its Ansible template) and checks what
// it means, not only that it loads.
func TestCachetMonitorDeployedFork(t *testing.T) {
	data, in := readFork(t, "testdata/cachet-monitor/fork-deployed.json")
	if in.AdditionalConfig.IncidentCreation == nil || *in.AdditionalConfig.IncidentCreation {
		t.Fatal("fixture: expected a top-level additional_config.incident_creation: false")
	}
	res, err := CachetMonitor(data, CachetMonitorOptions{Source: "fork-deployed.json"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := load(t, res.YAML)

	if cfg.Cachet.URL != in.API.URL {
		t.Errorf("cachet.url = %q, want the api.url as given, %q (Cachet 3's API base)", cfg.Cachet.URL, in.API.URL)
	}
	if strings.Contains(string(res.YAML), in.API.Token) || strings.Contains(string(warningsText(res.Warnings)), in.API.Token) {
		t.Error("the api token leaked into the output or the warnings")
	}
	for _, w := range res.Warnings {
		if strings.HasPrefix(w.Path, "additional_config") {
			t.Errorf("top-level additional_config reported instead of imported: %s", w)
		}
	}

	// Incidents off everywhere: the top-level flag says so and no monitor
	// overrides it.
	for _, c := range cfg.Components {
		if c.Incidents.Enabled || c.Incidents.Notify {
			t.Errorf("component %q: incidents enabled=%t notify=%t, want both off (additional_config.incident_creation: false)", c.Name, c.Incidents.Enabled, c.Incidents.Notify)
		}
	}

	// One component per component_id, with all of its monitors.
	want := map[int][]string{}
	var ids []int
	for _, m := range in.Monitors {
		var id int
		fmt.Sscan(m.ComponentID, &id)
		if _, ok := want[id]; !ok {
			ids = append(ids, id)
		}
		want[id] = append(want[id], m.Name)
	}
	if len(cfg.Components) != len(ids) || len(ids) != 16 {
		t.Fatalf("%d components, want one per component_id (%d; the fixture has 16)", len(cfg.Components), len(ids))
	}
	for _, c := range cfg.Components {
		if !slices.Equal(c.Monitors, want[c.CachetID]) {
			t.Errorf("component cachet_id %d has monitors %q, want %q", c.CachetID, c.Monitors, want[c.CachetID])
		}
	}
	if smtp := want[8]; len(smtp) != 3 {
		t.Fatalf("fixture: component 8 should be fed by SMTP on 25, 587 and 995, has %q", smtp)
	}

	// Every target and port kept, with its checks.
	byName := map[string]config.MonitorSpec{}
	for _, m := range cfg.Monitors {
		byName[m.Name] = m
	}
	for i, m := range in.Monitors {
		got, ok := byName[m.Name]
		if !ok {
			t.Errorf("monitors[%d] %q not imported", i, m.Name)
			continue
		}
		switch m.Type {
		case "tcp":
			if got.TCP == nil || got.TCP.Address != net.JoinHostPort(m.Target, m.Port) {
				t.Errorf("monitors[%d] %q: tcp %+v, want address %s:%s", i, m.Name, got.TCP, m.Target, m.Port)
			}
		case "https":
			if got.HTTP == nil {
				t.Errorf("monitors[%d] %q: not an http monitor", i, m.Name)
				continue
			}
			u, err := url.Parse(got.HTTP.URL)
			if err != nil || u.Scheme != "https" || u.Host+u.Path != strings.TrimSuffix(m.Target, "/")+suffixSlash(m.Target) {
				t.Errorf("monitors[%d] %q: url %q, want https://%s", i, m.Name, got.HTTP.URL, m.Target)
			}
			if code := fmt.Sprint(got.HTTP.ValidStatusCodes); code != "["+m.ExpectedStatusCode+"]" {
				t.Errorf("monitors[%d] %q: valid_status_codes %s, want [%s]", i, m.Name, code, m.ExpectedStatusCode)
			}
			if m.ExpectedBody != "" {
				if len(got.HTTP.FailIfBodyNotMatchesRegexp) != 1 || got.HTTP.FailIfBodyNotMatchesRegexp[0].String() != m.ExpectedBody {
					t.Errorf("monitors[%d] %q: body regexps %v, want [%s]", i, m.Name, got.HTTP.FailIfBodyNotMatchesRegexp, m.ExpectedBody)
				}
			}
			if got.HTTP.TLSConfig.InsecureSkipVerify {
				t.Errorf("monitors[%d] %q: strict \"true\" imported as insecure", i, m.Name)
			}
		default:
			t.Fatalf("fixture: monitors[%d] has type %q", i, m.Type)
		}
		var interval int
		fmt.Sscan(m.Interval, &interval)
		if got.Interval.Seconds() != float64(interval) {
			t.Errorf("monitors[%d] %q: interval %s, want %ss", i, m.Name, got.Interval, m.Interval)
		}
		// No threshold: statussync's defaults, not ten failures in a row.
		d := config.Default().Defaults
		if m.Threshold == nil && (got.FailuresBeforeDown != d.FailuresBeforeDown || got.SuccessesBeforeUp != d.SuccessesBeforeUp) {
			t.Errorf("monitors[%d] %q: failures_before_down %d, successes_before_up %d; without a threshold want statussync's defaults %d, %d",
				i, m.Name, got.FailuresBeforeDown, got.SuccessesBeforeUp, d.FailuresBeforeDown, d.SuccessesBeforeUp)
		}
	}
	if !hasWarning(res.Warnings, "monitors[*].threshold", "statussync's defaults apply") {
		t.Errorf("no warning that the missing thresholds map to statussync's defaults:\n%s", warningsText(res.Warnings))
	}
}

// suffixSlash keeps a target's trailing slash, which the URL keeps too.
func suffixSlash(target string) string {
	if strings.HasSuffix(target, "/") {
		return "/"
	}
	return ""
}

// TestCachetMonitorTemplateForm imports the Ansible template the deployed
// file is rendered from: its Jinja placeholders must never become the
// Cachet URL, the token or a target, and the output must say what to set.
func TestCachetMonitorTemplateForm(t *testing.T) {
	data, in := readFork(t, "testdata/cachet-monitor/fork-template.json")
	res, err := CachetMonitor(data, CachetMonitorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := load(t, res.YAML)
	if cfg.Cachet.URL != "" {
		t.Errorf("cachet.url = %q: a placeholder was taken as the URL", cfg.Cachet.URL)
	}
	if cfg.Cachet.TokenFile == "" {
		t.Error("no token_file: the output must say where the token goes")
	}
	for _, want := range []struct{ path, text string }{
		{"api.url", "Set cachet.url"},
		{"api.url", "cachet_url"},
		{"api.token", "Jinja placeholder, not a token"},
		{"api.token", DefaultTokenFile},
		{"api.insecure", "Jinja placeholder"},
		{"monitors[4].target", "smtp_host"},
	} {
		if !hasWarning(res.Warnings, want.path, want.text) {
			t.Errorf("no warning at %s saying %q:\n%s", want.path, want.text, warningsText(res.Warnings))
		}
	}
	for _, m := range cfg.Monitors {
		if strings.Contains(fmt.Sprint(m.HTTP, m.TCP), "{{") {
			t.Errorf("monitor %q carries a placeholder: %+v %+v", m.Name, m.HTTP, m.TCP)
		}
	}
	for _, c := range cfg.Components {
		if c.Incidents.Enabled {
			t.Errorf("component %q: incidents enabled despite the top-level incident_creation: false", c.Name)
		}
	}
	if in.API.Token == "" || !strings.Contains(in.API.Token, "{{") {
		t.Fatal("fixture: expected a placeholder token")
	}
	// Everything in the input accounted for.
	raw, err := decode(data)
	if err != nil {
		t.Fatal(err)
	}
	assertEveryKeyAccounted(t, raw, res)
}

// TestCachetMonitorMonitorOverridesTopLevelIncidents: a monitor's own
// incident_creation wins over the top-level one.
func TestCachetMonitorMonitorOverridesTopLevelIncidents(t *testing.T) {
	_, cfg := importCM(t, `{
		"api": {"url": "https://status.example.org/api", "token": "x"},
		"additional_config": {"incident_creation": false},
		"monitors": [
			{"name": "a", "type": "https", "target": "a.example.org", "expected_status_code": "200", "component_id": "1"},
			{"name": "b", "type": "https", "target": "b.example.org", "expected_status_code": "200", "component_id": "2",
			 "additional_config": {"incident_creation": "true"}}
		]}`)
	got := map[int]bool{}
	for _, c := range cfg.Components {
		got[c.CachetID] = c.Incidents.Enabled
	}
	if got[1] || !got[2] {
		t.Errorf("incidents enabled by component id: %v, want 1 off (top level), 2 on (its own)", got)
	}
}
