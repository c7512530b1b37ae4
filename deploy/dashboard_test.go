package deploy

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"testing"
)

const dashboardFile = "grafana/statussync.json"

type dashboardPanel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		Expr       string `json:"expr"`
		RefID      string `json:"refId"`
		Datasource *struct {
			UID string `json:"uid"`
		} `json:"datasource"`
	} `json:"targets"`
	Panels []dashboardPanel `json:"panels"`
}

type dashboard struct {
	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Templating    struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []dashboardPanel `json:"panels"`
}

// grafanaVars stands in for Grafana's variables so that expressions parse
// as PromQL: interval variables become a duration, the others a value.
var (
	grafanaIntervals = regexp.MustCompile(`\$__(rate_interval|interval|range)\b`)
	grafanaVariables = regexp.MustCompile(`\$\{?\w+\}?`)
)

func promQL(expr string) string {
	expr = grafanaIntervals.ReplaceAllString(expr, "5m")
	return grafanaVariables.ReplaceAllString(expr, "x")
}

func TestDashboard(t *testing.T) {
	data, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.UID == "" || d.Title == "" || d.SchemaVersion < 36 {
		t.Errorf("uid %q, title %q, schemaVersion %d: want a uid, a title and schemaVersion >= 36", d.UID, d.Title, d.SchemaVersion)
	}

	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
		if v.Type == "query" {
			if q, ok := v.Query.(map[string]any); !ok || q["query"] == "" {
				t.Errorf("variable %s: no query", v.Name)
			}
		}
	}
	if vars["DS_PROMETHEUS"] != "datasource" {
		t.Error("want a datasource variable DS_PROMETHEUS, so the dashboard imports into any Grafana")
	}

	var all []dashboardPanel
	var walk func([]dashboardPanel)
	walk = func(ps []dashboardPanel) {
		for _, p := range ps {
			all = append(all, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)

	ids := map[int]bool{}
	used := map[string]bool{}
	for _, p := range all {
		if ids[p.ID] || p.ID == 0 {
			t.Errorf("panel %q: id %d is missing or used twice", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.W <= 0 || p.GridPos.X < 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q: gridPos %+v outside Grafana's 24 columns", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${DS_PROMETHEUS}" {
			t.Errorf("panel %q: datasource must be ${DS_PROMETHEUS}", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q: no query", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Datasource == nil || tg.Datasource.UID != "${DS_PROMETHEUS}" {
				t.Errorf("panel %q query %s: datasource must be ${DS_PROMETHEUS}", p.Title, tg.RefID)
			}
			names, err := metricNames(promQL(tg.Expr))
			if err != nil {
				t.Errorf("panel %q query %s: %v\n%s", p.Title, tg.RefID, err, tg.Expr)
				continue
			}
			for _, n := range names {
				used[n] = true
			}
			unknown, _ := unknownMetrics(promQL(tg.Expr))
			if len(unknown) > 0 {
				t.Errorf("panel %q query %s: unknown metrics %v", p.Title, tg.RefID, unknown)
			}
		}
	}
	if overlap := overlapping(all); overlap != "" {
		t.Error(overlap)
	}

	// What issue #7 asks the dashboard to show.
	for what, metric := range map[string]string{
		"component states over time": "statussync_component_desired_status",
		"probe latency by phase":     "probe_http_duration_seconds",
		"Cachet API health":          "statussync_cachet_requests_total",
		"Cachet API latency":         "statussync_cachet_request_duration_seconds_bucket",
		"ClouDNS API health":         "statussync_cloudns_requests_total",
		"ClouDNS poll errors":        "statussync_cloudns_poll_errors_total",
		"certificate expiry":         "probe_ssl_earliest_cert_expiry",
	} {
		if !used[metric] {
			t.Errorf("no panel shows %s (%s)", what, metric)
		}
	}
}

// overlapping reports the first two panels that cover the same grid cell.
func overlapping(ps []dashboardPanel) string {
	type cell struct{ x, y int }
	owner := map[cell]string{}
	for _, p := range ps {
		for x := p.GridPos.X; x < p.GridPos.X+p.GridPos.W; x++ {
			for y := p.GridPos.Y; y < p.GridPos.Y+p.GridPos.H; y++ {
				c := cell{x, y}
				if o, ok := owner[c]; ok {
					return "panels " + o + " and " + p.Title + " overlap"
				}
				owner[c] = p.Title
			}
		}
	}
	return ""
}

func TestPromQLSubstitutesGrafanaVariables(t *testing.T) {
	got := promQL(`rate(m{job=~"$job", i=~"${instance}"}[$__rate_interval])`)
	want := `rate(m{job=~"x", i=~"x"}[5m])`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	names, err := metricNames(got)
	if err != nil || !slices.Equal(names, []string{"m"}) {
		t.Errorf("metricNames: %v, %v", names, err)
	}
}
