package importer

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/statussync/statussync/config"
)

// importCM imports a cachet-monitor configuration and loads the result.
func importCM(tb testing.TB, in string) (*Result, *config.Config) {
	tb.Helper()
	res, err := CachetMonitor([]byte(in), CachetMonitorOptions{})
	if err != nil {
		tb.Fatalf("import: %v", err)
	}
	return res, load(tb, res.YAML)
}

// cmSimulate runs cachet-monitor's AnalyseData (monitor.go) over results
// and returns, per check, whether it had an open incident.
func cmSimulate(threshold float32, countMode bool, results []bool) []bool {
	histSize := 10
	if countMode {
		histSize = int(threshold)
	}
	var history []bool
	open := false
	states := make([]bool, len(results))
	for i, up := range results {
		if len(history) >= histSize {
			history = history[len(history)-(histSize-1):]
		}
		history = append(history, up)
		numDown := 0
		for _, wasUp := range history {
			if !wasUp {
				numDown++
			}
		}
		t := (float32(numDown) / float32(len(history))) * 100
		if len(history) == histSize {
			triggered := (countMode && numDown == int(threshold)) || (!countMode && t > threshold)
			switch {
			case triggered && !open:
				open = true
			case !triggered && open:
				open = false
			}
		}
		states[i] = open
	}
	return states
}

// consecutive is statussync's state machine for up/down results: down
// after failures failures in a row, up after successes successes in a row.
func consecutive(failures, successes int, results []bool) []bool {
	down, bad, good := false, 0, 0
	states := make([]bool, len(results))
	for i, up := range results {
		if up {
			good, bad = good+1, 0
		} else {
			bad, good = bad+1, 0
		}
		switch {
		case !down && bad >= failures:
			down = true
		case down && good >= successes:
			down = false
		}
		states[i] = down
	}
	return states
}

// TestThresholdMatchesCachetMonitor checks the claim made to users: for an
// outage that starts and ends cleanly, the imported failures_before_down and
// successes_before_up flip the state on the same check as cachet-monitor
// opened and resolved its incident.
func TestThresholdMatchesCachetMonitor(t *testing.T) {
	type mode struct {
		threshold string // as written in the config
		count     bool
	}
	var modes []mode
	for _, th := range []string{"0.5", "1", "10", "12.5", "25", "30", "50", "60", "79.9", "80", "85", "90", "95"} {
		modes = append(modes, mode{th, false})
	}
	for n := 1; n <= 12; n++ {
		modes = append(modes, mode{fmt.Sprint(n), true})
	}
	for _, m := range modes {
		t.Run(fmt.Sprintf("threshold=%s,count=%t", m.threshold, m.count), func(t *testing.T) {
			in := fmt.Sprintf(`{"monitors": [{"name": "a", "target": "https://a.example", "expected_status_code": 200, "strict": true, "component_id": 1, "threshold": %q, "threshold_count": %t}]}`, m.threshold, m.count)
			_, cfg := importCM(t, in)
			mon := cfg.Monitors[0]
			var th float32
			_, _ = fmt.Sscan(m.threshold, &th)
			for down := 1; down <= 25; down++ {
				for up := 1; up <= 25; up++ {
					var results []bool
					for range 30 {
						results = append(results, true)
					}
					for range down {
						results = append(results, false)
					}
					for range up {
						results = append(results, true)
					}
					want := cmSimulate(th, m.count, results)
					got := consecutive(mon.FailuresBeforeDown, mon.SuccessesBeforeUp, results)
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Fatalf("%d failures then %d successes: failures_before_down %d, successes_before_up %d disagree with cachet-monitor\n got %v\nwant %v",
							down, up, mon.FailuresBeforeDown, mon.SuccessesBeforeUp, got, want)
					}
				}
			}
		})
	}
}

func TestCachetMonitorMapping(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    string
		check func(t *testing.T, cfg *config.Config)
		warn  [][2]string // path, text
		yaml  string      // in the output, if set
		not   string      // not in the output, if set
	}{
		{
			name: "strings are read as their values",
			in: `{"monitors": [{"name": "w", "target": "https://w.example", "strict": "false", "interval": "30", "timeout": "2.5",
				"component_id": "3", "metric_id": "8", "expected_status_code": "204", "threshold": "2", "threshold_count": "true"}]}`,
			check: func(t *testing.T, cfg *config.Config) {
				m := cfg.Monitors[0]
				if m.Interval != 30*time.Second || m.Timeout != 2500*time.Millisecond || m.FailuresBeforeDown != 2 || m.SuccessesBeforeUp != 1 {
					t.Errorf("monitor = %+v", m)
				}
				if !m.HTTP.TLSConfig.InsecureSkipVerify || fmt.Sprint(m.HTTP.ValidStatusCodes) != "[204]" || m.Metric == nil || m.Metric.ID != 8 {
					t.Errorf("http = %+v metric = %+v", m.HTTP, m.Metric)
				}
				if c := cfg.Components[0]; c.CachetID != 3 || c.Name != "w" || m.Outage != config.OutagePartial {
					t.Errorf("component = %+v, outage %s", c, m.Outage)
				}
			},
		},
		{
			name: "Go durations from YAML forks",
			in:   "monitors:\n  - {name: d, target: 'https://d.example', expected_body: ok, strict: true, interval: 1m30s, timeout: 5s, component_id: 1}\n",
			check: func(t *testing.T, cfg *config.Config) {
				if m := cfg.Monitors[0]; m.Interval != 90*time.Second || m.Timeout != 5*time.Second {
					t.Errorf("interval %v timeout %v", m.Interval, m.Timeout)
				}
			},
			warn: [][2]string{{"monitors[0].expected_body", "accepted any status"}},
		},
		{
			name: "scheme-less targets, type https and port",
			in: `{"monitors": [
				{"name": "s", "type": "https", "target": "s.example/health", "port": "8443", "expected_status_code": 200, "strict": true},
				{"name": "p", "type": "http", "target": "p.example", "expected_status_code": 200}]}`,
			check: func(t *testing.T, cfg *config.Config) {
				if u := cfg.Monitors[0].HTTP.URL; u != "https://s.example:8443/health" {
					t.Errorf("https target = %s", u)
				}
				if u := cfg.Monitors[1].HTTP.URL; u != "http://p.example" {
					t.Errorf("http target = %s", u)
				}
			},
			warn: [][2]string{{"monitors[1].target", "http:// assumed"}},
		},
		{
			name: "tcp with port, as a number or string, and host:port targets",
			in: `{"monitors": [
				{"name": "a", "type": "tcp", "target": "db.example", "port": 5432},
				{"name": "b", "type": "TCP", "target": "2001:db8::1", "port": "25"},
				{"name": "c", "type": "tcp", "target": "cache.example:6379"},
				{"name": "d", "type": "tcp", "target": "noport.example"}]}`,
			check: func(t *testing.T, cfg *config.Config) {
				var got []string
				for _, m := range cfg.Monitors {
					got = append(got, m.TCP.Address)
				}
				if strings.Join(got, " ") != "db.example:5432 [2001:db8::1]:25 cache.example:6379" {
					t.Errorf("addresses = %v", got)
				}
			},
			warn: [][2]string{{"monitors[3].port", "monitor skipped"}},
		},
		{
			name: "monitors sharing a component_id become one component with quorum 2",
			in: `{"monitors": [
				{"name": "GitLab web", "target": "https://gitlab.example", "expected_status_code": 200, "strict": true, "component_id": 14},
				{"NAME": "GitLab ssh", "Type": "tcp", "target": "gitlab.example", "port": 22, "component_id": "14"},
				{"name": "Wiki", "target": "https://wiki.example", "expected_status_code": 200, "strict": true, "component_id": 15}]}`,
			check: func(t *testing.T, cfg *config.Config) {
				if len(cfg.Components) != 2 {
					t.Fatalf("components = %+v", cfg.Components)
				}
				c := cfg.Components[0]
				if c.Name != "GitLab" || c.CachetID != 14 || strings.Join(c.Monitors, ",") != "GitLab web,GitLab ssh" || c.Rule != config.RuleQuorum || c.Quorum != 2 {
					t.Errorf("shared component = %+v", c)
				}
				if !c.Incidents.Enabled || !c.Incidents.Notify {
					t.Errorf("incidents = %+v", c.Incidents)
				}
				if cfg.Monitors[0].Outage != config.OutageMajor || cfg.Monitors[2].Outage != config.OutagePartial {
					t.Errorf("outages %s %s", cfg.Monitors[0].Outage, cfg.Monitors[2].Outage)
				}
			},
		},
		{
			name: "incident_creation",
			in: `{"monitors": [
				{"name": "a", "target": "https://a.example", "expected_status_code": 200, "strict": true, "component_id": 1, "additional_config": {"incident_creation": "false"}},
				{"name": "b", "target": "https://b.example", "expected_status_code": 200, "strict": true, "component_id": 2, "additional_config": {"incident_creation": false}},
				{"name": "c", "target": "https://c.example", "expected_status_code": 200, "strict": true, "component_id": 2}]}`,
			check: func(t *testing.T, cfg *config.Config) {
				if cfg.Components[0].Incidents.Enabled || !cfg.Components[1].Incidents.Enabled {
					t.Errorf("incidents = %+v / %+v", cfg.Components[0].Incidents, cfg.Components[1].Incidents)
				}
			},
			warn: [][2]string{{"monitors[1].additional_config.incident_creation", "incidents enabled"}},
		},
		{
			name: "cachet-monitor 1.x keys",
			in: `{"api_url": "https://s.example/api/v1", "api_token": "t0k3n", "insecure_api": true, "interval": 5,
				"monitors": [{"name": "v1", "url": "https://v1.example", "strict_tls": false, "expected_status_code": 200, "component_id": 2,
				"headers": [{"header": "X-A", "value": "1"}]}]}`,
			check: func(t *testing.T, cfg *config.Config) {
				if cfg.Cachet.URL != "https://s.example/api" || !cfg.Cachet.TLS.InsecureSkipVerify || cfg.Defaults.Interval != 5*time.Second || cfg.Defaults.Timeout >= 5*time.Second {
					t.Errorf("cachet = %+v defaults = %+v", cfg.Cachet, cfg.Defaults)
				}
				m := cfg.Monitors[0]
				if m.HTTP.URL != "https://v1.example" || !m.HTTP.TLSConfig.InsecureSkipVerify || m.HTTP.Headers["X-A"] != "1" {
					t.Errorf("http = %+v", m.HTTP)
				}
			},
			warn: [][2]string{{"api_url", "Cachet 2 API"}, {"api_token", "not copied"}},
		},
		{
			name: "a 1.x interval bounds the monitors' timeouts",
			in:   `{"interval": 5, "monitors": [{"name": "t", "type": "tcp", "target": "t.example", "port": 1, "timeout": 10}]}`,
			check: func(t *testing.T, cfg *config.Config) {
				if m := cfg.Monitors[0]; m.Interval != 5*time.Second || m.Timeout != 4500*time.Millisecond {
					t.Errorf("interval %v timeout %v", m.Interval, m.Timeout)
				}
			},
			warn: [][2]string{{"monitors[0].timeout", "not below the interval 5s"}},
		},
		{
			name: "backend block of the v3 branch",
			in:   `{"backend": {"type": "cachet", "url": "https://s.example/api", "token": "t0k3n", "date_format": "15:04"}, "monitors": []}`,
			check: func(t *testing.T, cfg *config.Config) {
				if cfg.Cachet.URL != "https://s.example/api" {
					t.Errorf("cachet = %+v", cfg.Cachet)
				}
			},
			yaml: "token_file: " + DefaultTokenFile + "\n",
			warn: [][2]string{{"backend.token", "not copied"}, {"monitors", "no monitor could be imported"}},
		},
		{
			name: "no api url: a dry run",
			in:   `{"monitors": [{"name": "a", "target": "https://a.example", "expected_status_code": 200, "strict": true}]}`,
			check: func(t *testing.T, cfg *config.Config) {
				if cfg.Cachet.URL != "" {
					t.Errorf("cachet = %+v", cfg.Cachet)
				}
			},
			not:  "token_file",
			warn: [][2]string{{"api.url", "dry run"}, {"monitors[0]", "neither component_id nor metric_id"}},
		},
		{
			name: "timeouts and intervals statussync would refuse",
			in: `{"monitors": [
				{"name": "a", "target": "https://a.example", "expected_status_code": 200, "strict": true, "interval": 0.2, "timeout": 3},
				{"name": "b", "target": "https://b.example", "expected_status_code": 200, "strict": true, "timeout": 90}]}`,
			check: func(t *testing.T, cfg *config.Config) {
				if a := cfg.Monitors[0]; a.Interval != time.Second || a.Timeout != 900*time.Millisecond {
					t.Errorf("a: interval %v timeout %v", a.Interval, a.Timeout)
				}
				if b := cfg.Monitors[1]; b.Timeout != 54*time.Second {
					t.Errorf("b: timeout %v", b.Timeout)
				}
			},
			warn: [][2]string{{"monitors[0].interval", "raised to 1s"}, {"monitors[1].timeout", "set to 54s"}},
		},
		{
			name: "values that cannot be read are reported, not guessed",
			in: `{"monitors": [{"name": "a", "target": "https://a.example", "expected_status_code": "2xx", "strict": "maybe",
				"interval": "soon", "component_id": 1.5, "threshold": {"x": 1}, "method": "GE T"}]}`,
			check: func(t *testing.T, cfg *config.Config) {
				m := cfg.Monitors[0]
				if m.Interval != 60*time.Second || len(m.HTTP.ValidStatusCodes) != 0 || m.HTTP.Method != "GET" || len(cfg.Components) != 0 {
					t.Errorf("monitor = %+v", m)
				}
			},
			warn: [][2]string{
				{"monitors[0].expected_status_code", "whole number"}, {"monitors[0].strict", "true or false"},
				{"monitors[0].interval", "seconds"}, {"monitors[0].component_id", "whole number"},
				{"monitors[0].threshold", "must be a number"}, {"monitors[0].method", "not an HTTP method"},
			},
		},
		{
			name: "unsupported types, duplicate and missing names",
			in: `{"monitors": [
				{"name": "x", "type": "icmp", "target": "10.0.0.1", "component_id": 1},
				{"name": "x", "target": "https://x.example", "expected_status_code": 200, "strict": true},
				{"target": "https://y.example", "expected_status_code": 200, "strict": true},
				"not a monitor"]}`,
			check: func(t *testing.T, cfg *config.Config) {
				if len(cfg.Monitors) != 2 || cfg.Monitors[0].Name != "x" || cfg.Monitors[1].Name != "monitor-3" {
					t.Errorf("monitors = %v", cfg.Monitors)
				}
			},
			warn: [][2]string{{"monitors[0].type", `"icmp"`}, {"monitors[0].component_id", "skipped"}, {"monitors[2].name", "missing"}, {"monitors[3]", "must be a mapping"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, cfg := importCM(t, tc.in)
			tc.check(t, cfg)
			if tc.yaml != "" && !strings.Contains(string(res.YAML), tc.yaml) {
				t.Errorf("output lacks %q:\n%s", tc.yaml, res.YAML)
			}
			if tc.not != "" && strings.Contains(string(res.YAML), tc.not) {
				t.Errorf("output has %q:\n%s", tc.not, res.YAML)
			}
			for _, w := range tc.warn {
				if !hasWarning(res.Warnings, w[0], w[1]) {
					t.Errorf("no warning at %s containing %q; got:\n%s", w[0], w[1], warningsText(res.Warnings))
				}
			}
			raw, _ := decode([]byte(tc.in))
			assertEveryKeyAccounted(t, raw, res)
		})
	}
}

// TestCachetMonitorNeverCopiesTheToken: the Cachet token stays out of the
// output and the warnings, whichever spelling holds it.
func TestCachetMonitorNeverCopiesTheToken(t *testing.T) {
	const token = "S3CR3T-cachet-token-value"
	for _, in := range []string{
		`{"api": {"url": "https://s.example/api/v1", "token": "` + token + `"}, "monitors": []}`,
		`{"api_url": "https://s.example/api/v1", "api_token": "` + token + `", "monitors": []}`,
		`{"backend": {"url": "https://s.example/api", "token": "` + token + `"}}`,
		`{"api": {"url": "https://s.example/api", "token": ["` + token + `"]}}`,
		`{"api": {"url": "https://s.example/api", "Token": "` + token + `", "bogus": "x"}}`,
	} {
		res, err := CachetMonitor([]byte(in), CachetMonitorOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(res.YAML), token) || strings.Contains(string(warningsText(res.Warnings)), token) {
			t.Errorf("token leaked from %s:\n%s\n%s", in, res.YAML, warningsText(res.Warnings))
		}
	}
}

// TestCachetMonitorReportsUnknownKeys: an unknown key at any depth is
// reported with its path.
func TestCachetMonitorReportsUnknownKeys(t *testing.T) {
	in := `{"api": {"url": "https://s.example/api", "bogus1": 1}, "bogus2": true,
		"monitors": [{"name": "d", "type": "dns", "target": "example.org", "dns": "192.0.2.1", "bogus3": "x",
			"answers": [{"exact": "192.0.2.7", "bogus4": 1}],
			"additional_config": {"incident_creation": true, "bogus5": 1},
			"template": {"bogus6": 1, "investigating": {"subject": "down", "bogus7": 1}},
			"headers": {"X": "y"}, "component_id": 1}]}`
	res, _ := importCM(t, in)
	for _, w := range [][2]string{
		{"api.bogus1", "unknown key"}, {"bogus2", "unknown key"}, {"monitors[0].bogus3", "unknown key"},
		{"monitors[0].answers[0].bogus4", "unknown key"}, {"monitors[0].additional_config.bogus5", "unknown key"},
		{"monitors[0].template.bogus6", "unknown key"}, {"monitors[0].template.investigating.bogus7", "unknown key"},
		{"monitors[0].headers", "no effect on a dns monitor"},
	} {
		if !hasWarning(res.Warnings, w[0], w[1]) {
			t.Errorf("no warning at %s containing %q; got:\n%s", w[0], w[1], warningsText(res.Warnings))
		}
	}
	raw, _ := decode([]byte(in))
	assertEveryKeyAccounted(t, raw, res)
}

// TestAnswerRegexp checks translated DNS answer checks against real
// records: the regexp must match a record's text form exactly when
// cachet-monitor's check matched the record's data fields joined by spaces.
func TestAnswerRegexp(t *testing.T) {
	records := []string{
		"matej.me. 300 IN MX 10 aspmx2.googlemail.com.",
		"matej.me. 300 IN MX 1 aspmx.l.google.com.",
		"matej.me. 300 IN MX 5 alt1.aspmx.l.google.com.",
		"matej.me. 300 IN A 192.0.2.7",
		"example.org. 60 IN CNAME 10.example.net.",
	}
	checks := []map[string]any{
		{"exact": "10 aspmx2.googlemail.com."},
		{"exact": "1 aspmx.l.google.com."},
		{"exact": "aspmx.l.google.com."},
		{"regex": "[1-9] alt[1-9].aspmx.l.google.com."},
		{"regex": "^1 "},
		{"regex": "^192\\.0\\.2\\.[0-9]+$"},
		{"regex": "matej"},
		{"regex": "10"},
	}
	for _, rrText := range records {
		rr, err := dns.NewRR(rrText)
		if err != nil {
			t.Fatal(err)
		}
		var fields []string
		for i := 1; i <= dns.NumField(rr); i++ {
			fields = append(fields, dns.Field(rr, i))
		}
		data := strings.Join(fields, " ") // what cachet-monitor compared
		for _, check := range checks {
			var want bool
			if re, ok := check["regex"].(string); ok {
				want = regexp.MustCompile(re).MatchString(data)
			} else {
				want = data == check["exact"]
			}
			o, _ := newObject(newCollector(), "a", check, nil)
			src, _, ok := answerRegexp(o, dns.TypeToString[rr.Header().Rrtype])
			if !ok {
				t.Fatalf("%v not translated", check)
			}
			if got := regexp.MustCompile(src).MatchString(rr.String()); got != want {
				t.Errorf("%v on %q: statussync's %q matches %t, cachet-monitor's check on %q matched %t", check, rr.String(), src, got, data, want)
			}
		}
	}
}

func TestTranslateTemplate(t *testing.T) {
	base := tmplContext{monitor: "web", target: "https://web.example", typ: "http", dateFormat: "15:04"}
	shared := base
	shared.shared = true
	named := base
	named.systemName = "eu-1"
	resolved := base
	resolved.end = true
	for _, tc := range []struct {
		name, src string
		c         tmplContext
		want      string // translation, or the error's text
		notes     int
		fails     bool
	}{
		{"plain text", "Web is down", base, "Web is down", 0, false},
		{"monitor name", "{{ .Monitor.Name }} down", base, "{{.Component}} down", 0, false},
		{"monitor name in a shared component", "{{ .Monitor.Name }}", shared, "{{.Component}}", 1, false},
		{"$-rooted", "{{ $.Monitor.Name }}", base, "{{.Component}}", 0, false},
		{"target and type become text", "{{ .Monitor.Target }} ({{.Monitor.Type}})", base, "https://web.example (http)", 0, false},
		{"now at start", "at {{ .now }}", base, `at {{.Start.Format "15:04"}}`, 0, false},
		{"now at end", "at {{ .now }}", resolved, `at {{.End.Format "15:04"}}`, 0, false},
		{"now as an argument", `{{ printf "%s!" .now }}`, base, `{{printf "%s!" (.Start.Format "15:04")}}`, 0, false},
		{"fail reason", "{{ .FailReason }}", base, `{{index .Reasons "web"}}`, 1, false},
		{"down seconds", "{{ .downSeconds }}s", resolved, `{{printf "%.0f" .Duration.Seconds}}s`, 0, false},
		{"system name set", "{{ .SystemName }}", named, "eu-1", 0, false},
		{"if keeps working", "{{ if .FailReason }}{{ .FailReason }}{{ else }}ok{{ end }}", base, `{{if index .Reasons "web"}}{{index .Reasons "web"}}{{else}}ok{{end}}`, 1, false},
		{"comments survive", "{{/* hi */}}x", base, "{{/* hi */}}x", 0, false},
		{"literal braces stay quoted", `{{ .Monitor.Target }}`, tmplContext{target: "a{{b"}, `{{"a{{b"}}`, 0, false},
		{"system name unset", "{{ .SystemName }}", base, "host name", 0, true},
		{"previous incident", "{{ .incident.Message }}", resolved, "previous incident", 0, true},
		{"api", "{{ .API.Token }}", base, "API settings", 0, true},
		{"other monitor fields", "{{ .Monitor.Threshold }}", base, "no equivalent", 0, true},
		{"range", "{{ range .x }}{{ end }}", base, "range or with", 0, true},
		{"dot", "{{ . }}", base, "whole data", 0, true},
		{"does not parse", "{{ .now ", base, "does not parse", 0, true},
		{"unknown function", "{{ upper .Monitor.Name }}", base, "does not render", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, notes, err := translateTemplate(tc.src, tc.c)
			switch {
			case tc.fails && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("translate %q = %q, %v; want an error about %q", tc.src, got, err, tc.want)
			case !tc.fails && (err != nil || got != tc.want || len(notes) != tc.notes):
				t.Errorf("translate %q = %q, %v, %v; want %q with %d notes", tc.src, got, notes, err, tc.want, tc.notes)
			}
		})
	}
}

func TestCoercions(t *testing.T) {
	for _, tc := range []struct {
		in      any
		b       string // asBool: "true", "false", "guess:true", "-"
		i       string // asInt, or "-"
		seconds string // asSeconds, or "-"
	}{
		{true, "true", "-", "-"},
		{"true", "true", "-", "-"},
		{" FALSE ", "false", "-", "-"},
		{"yes", "guess:true", "-", "-"},
		{"0", "guess:false", "0", "0s"},
		{"25", "-", "25", "25s"},
		{25, "-", "25", "25s"},
		{25.0, "-", "25", "25s"},
		{2.5, "-", "-", "2.5s"},
		{"80%", "-", "-", "-"},
		{"1m30s", "-", "-", "1m30s"},
		{"-3", "-", "-3", "-"},
		{"1e12", "-", "-", "-"},
		{[]any{1}, "-", "-", "-"},
		{nil, "-", "-", "-"},
	} {
		t.Run(fmt.Sprint(tc.in), func(t *testing.T) {
			b, guessed, ok := asBool(tc.in)
			gotB := "-"
			if ok {
				gotB = fmt.Sprint(b)
				if guessed {
					gotB = "guess:" + gotB
				}
			}
			gotI := "-"
			if i, ok := asInt(tc.in); ok {
				gotI = fmt.Sprint(i)
			}
			gotS := "-"
			if d, ok := asSeconds(tc.in); ok {
				gotS = d.String()
			}
			if gotB != tc.b || gotI != tc.i || gotS != tc.seconds {
				t.Errorf("bool %s int %s seconds %s; want %s %s %s", gotB, gotI, gotS, tc.b, tc.i, tc.seconds)
			}
		})
	}
}

func TestCachetMonitorErrors(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{`{"monitors": [`, "parse as JSON"},
		{"monitors: [\n  - regex: [1-9] alt", "parse as YAML"},
		{"- a\n- b\n", "top level must be a mapping"},
		{`"just a string"`, "top level must be a mapping"},
		{`{"a": 1} {"b": 2}`, "parse as JSON"},
	} {
		if _, err := CachetMonitor([]byte(tc.in), CachetMonitorOptions{}); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("CachetMonitor(%q) error = %v, want %q", tc.in, err, tc.err)
		}
	}
}

func TestDecode(t *testing.T) {
	for _, in := range []string{
		"{\n\t\"monitors\": [],\n\t\"api\": {\"url\": \"x\"}\n}",   // tab-indented JSON
		"\uFEFF{\"monitors\": [], \"api\": {\"url\": \"x\"}}",      // with a byte order mark
		"monitors: []\napi:\n  url: x\n",                           // YAML
		"{monitors: [], api: {url: x}}",                            // flow YAML, not JSON
		"# comment\n{\"monitors\": [], \"api\": {\"url\": \"x\"}}", // JSON is YAML too
	} {
		v, err := decode([]byte(in))
		if err != nil {
			t.Errorf("decode(%q): %v", in, err)
			continue
		}
		m, _ := v.(map[string]any)
		api, _ := m["api"].(map[string]any)
		if _, ok := m["monitors"].([]any); !ok || api["url"] != "x" {
			t.Errorf("decode(%q) = %#v", in, v)
		}
	}
}
