package monitors

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/statussync/statussync/config"
)

// loadSpecs loads several monitors (a YAML list under monitors:).
func loadSpecs(tb testing.TB, monitorsYAML string) []config.MonitorSpec {
	tb.Helper()
	file := tb.TempDir() + "/config.yml"
	if err := writeFile(file, "monitors:\n"+monitorsYAML); err != nil {
		tb.Fatal(err)
	}
	cfg, err := config.Load(file, nil)
	if err != nil {
		tb.Fatalf("load config: %v", err)
	}
	return cfg.Monitors
}

// TestMetricsExposition pins the names, labels and values a known pair of
// checks exposes: an HTTPS probe against a certificate with a fixed expiry
// and a DNS probe, each monitor with its static labels.
func TestMetricsExposition(t *testing.T) {
	ca := newCA(t)
	expiry := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC) // before the CA's, so the earliest
	srv := newTLSServer(t, ca.leaf(t, localhostFor(expiry)), okHandler())
	udp, _ := dnsServers(t)
	specs := loadSpecs(t, `
  - name: web
    labels: {team: web, env: prod}
    http: {url: "`+srv.URL+`/", tls_config: {ca_file: "`+ca.pemFile+`"}}
  - name: resolver
    labels: {team: dns}
    dns: {server: "`+udp+`", query_name: example.test, query_type: A}
`)
	reg := prometheus.NewRegistry()
	metrics := NewMetrics(reg)
	metrics.Init(specs)
	for _, spec := range specs {
		m, err := New(spec, Deps{Metrics: metrics})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if r := m.Check(ctx); r.Status != StatusUp {
			t.Fatalf("%s: %s", spec.Name, dumpDetails(r))
		}
		cancel()
	}

	want := `
# HELP probe_success Displays whether or not the probe was a success
# TYPE probe_success gauge
probe_success{env="",monitor="resolver",team="dns"} 1
probe_success{env="prod",monitor="web",team="web"} 1
# HELP probe_http_status_code Response HTTP status code
# TYPE probe_http_status_code gauge
probe_http_status_code{env="prod",monitor="web",team="web"} 200
# HELP probe_http_content_length Length of http content response
# TYPE probe_http_content_length gauge
probe_http_content_length{env="prod",monitor="web",team="web"} 2
# HELP probe_http_redirects The number of redirects
# TYPE probe_http_redirects gauge
probe_http_redirects{env="prod",monitor="web",team="web"} 0
# HELP probe_http_ssl Indicates if SSL was used for the final redirect
# TYPE probe_http_ssl gauge
probe_http_ssl{env="prod",monitor="web",team="web"} 1
# HELP probe_http_version Returns the version of HTTP of the probe response
# TYPE probe_http_version gauge
probe_http_version{env="prod",monitor="web",team="web"} 1.1
# HELP probe_ssl_earliest_cert_expiry Returns earliest SSL cert expiry in unixtime
# TYPE probe_ssl_earliest_cert_expiry gauge
probe_ssl_earliest_cert_expiry{env="prod",monitor="web",team="web"} 1.8934560e+09
# HELP probe_tls_version_info Returns the TLS version used or NaN when unknown
# TYPE probe_tls_version_info gauge
probe_tls_version_info{env="prod",monitor="web",team="web",version="TLS 1.3"} 1
# HELP probe_failed_due_to_regex Indicates if probe failed due to regex
# TYPE probe_failed_due_to_regex gauge
probe_failed_due_to_regex{env="prod",monitor="web",team="web"} 0
# HELP probe_ip_protocol Specifies whether probe ip protocol is IP4 or IP6
# TYPE probe_ip_protocol gauge
probe_ip_protocol{env="",monitor="resolver",team="dns"} 4
probe_ip_protocol{env="prod",monitor="web",team="web"} 4
# HELP probe_dns_answer_rrs Returns number of entries in the answer resource record list
# TYPE probe_dns_answer_rrs gauge
probe_dns_answer_rrs{env="",monitor="resolver",team="dns"} 2
# HELP probe_dns_authority_rrs Returns number of entries in the authority resource record list
# TYPE probe_dns_authority_rrs gauge
probe_dns_authority_rrs{env="",monitor="resolver",team="dns"} 1
# HELP probe_dns_additional_rrs Returns number of entries in the additional resource record list
# TYPE probe_dns_additional_rrs gauge
probe_dns_additional_rrs{env="",monitor="resolver",team="dns"} 1
# HELP probe_dns_query_succeeded Displays whether or not the query was executed successfully
# TYPE probe_dns_query_succeeded gauge
probe_dns_query_succeeded{env="",monitor="resolver",team="dns"} 1
# HELP statussync_monitor_checks_total Checks run, by monitor and result (up, degraded, down, unknown).
# TYPE statussync_monitor_checks_total counter
statussync_monitor_checks_total{env="",monitor="resolver",result="degraded",team="dns"} 0
statussync_monitor_checks_total{env="",monitor="resolver",result="down",team="dns"} 0
statussync_monitor_checks_total{env="",monitor="resolver",result="unknown",team="dns"} 0
statussync_monitor_checks_total{env="",monitor="resolver",result="up",team="dns"} 1
statussync_monitor_checks_total{env="prod",monitor="web",result="degraded",team="web"} 0
statussync_monitor_checks_total{env="prod",monitor="web",result="down",team="web"} 0
statussync_monitor_checks_total{env="prod",monitor="web",result="unknown",team="web"} 0
statussync_monitor_checks_total{env="prod",monitor="web",result="up",team="web"} 1
`
	names := []string{
		"probe_success", "probe_http_status_code", "probe_http_content_length", "probe_http_redirects",
		"probe_http_ssl", "probe_http_version", "probe_ssl_earliest_cert_expiry", "probe_tls_version_info",
		"probe_failed_due_to_regex", "probe_ip_protocol", "probe_dns_answer_rrs", "probe_dns_authority_rrs",
		"probe_dns_additional_rrs", "probe_dns_query_succeeded", "statussync_monitor_checks_total",
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	// The time-varying series exist with the right labels.
	for name, n := range map[string]int{
		"probe_duration_seconds":                    2,
		"probe_http_duration_seconds":               5, // resolve, connect, tls, processing, transfer
		"probe_dns_duration_seconds":                3, // resolve, connect, request
		"probe_dns_lookup_time_seconds":             2,
		"statussync_monitor_check_duration_seconds": 2,
	} {
		if got := testutil.CollectAndCount(reg, name); got != n {
			t.Errorf("%s has %d series, want %d", name, got, n)
		}
	}

	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

func observed(spec config.MonitorSpec, status Status, points ...point) Result {
	return Result{Status: status, sample: &sample{points: points}}
}

func TestMetricsLifecycle(t *testing.T) {
	a := config.MonitorSpec{Name: "a"}
	b := config.MonitorSpec{Name: "b"}
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.Init([]config.MonitorSpec{a, b})
	tlsPoints := []point{
		{family: "probe_ssl_earliest_cert_expiry", value: 1e9},
		{family: "probe_tls_version_info", extra: "TLS 1.2", value: 1},
	}
	m.observe(a, observed(a, StatusUp, tlsPoints...), time.Second)
	m.observe(b, observed(b, StatusUp, tlsPoints...), time.Second)

	t.Run("series a check no longer sets disappear", func(t *testing.T) {
		m.observe(a, observed(a, StatusDown, point{family: "probe_http_status_code", value: 0}), time.Second)
		if got := testutil.CollectAndCount(reg, "probe_ssl_earliest_cert_expiry"); got != 1 {
			t.Errorf("probe_ssl_earliest_cert_expiry has %d series, want b's only", got)
		}
		if got := testutil.CollectAndCount(reg, "probe_tls_version_info"); got != 1 {
			t.Errorf("probe_tls_version_info has %d series, want b's only", got)
		}
	})
	t.Run("a new TLS version replaces the old series", func(t *testing.T) {
		m.observe(b, observed(b, StatusUp, point{family: "probe_tls_version_info", extra: "TLS 1.3", value: 1}), time.Second)
		want := `
# HELP probe_tls_version_info Returns the TLS version used or NaN when unknown
# TYPE probe_tls_version_info gauge
probe_tls_version_info{monitor="b",version="TLS 1.3"} 1
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "probe_tls_version_info"); err != nil {
			t.Error(err)
		}
	})
	t.Run("reload drops removed monitors", func(t *testing.T) {
		m.Init([]config.MonitorSpec{a})
		for _, name := range []string{"probe_success", "probe_tls_version_info", "probe_http_status_code"} {
			if got := testutil.CollectAndCount(reg, name); got != 0 {
				t.Errorf("%s has %d series after reload, want none before a check", name, got)
			}
		}
		if got := testutil.CollectAndCount(reg, "statussync_monitor_checks_total"); got != 4 {
			t.Errorf("checks_total has %d series, want a's 4 pre-created", got)
		}
	})
	t.Run("reload with new static labels re-creates collectors", func(t *testing.T) {
		labelled := config.MonitorSpec{Name: "a", Labels: map[string]string{"team": "ops", "version": "v1"}}
		m.Init([]config.MonitorSpec{labelled})
		// version clashes with probe_tls_version_info's own label: that
		// family keeps its label and drops the static one.
		m.observe(labelled, observed(labelled, StatusUp, point{family: "probe_tls_version_info", extra: "TLS 1.3", value: 1}), time.Second)
		want := `
# HELP probe_success Displays whether or not the probe was a success
# TYPE probe_success gauge
probe_success{monitor="a",team="ops",version="v1"} 1
# HELP probe_tls_version_info Returns the TLS version used or NaN when unknown
# TYPE probe_tls_version_info gauge
probe_tls_version_info{monitor="a",team="ops",version="TLS 1.3"} 1
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "probe_success", "probe_tls_version_info"); err != nil {
			t.Error(err)
		}
		m.Init([]config.MonitorSpec{a})
		m.observe(a, observed(a, StatusDown), time.Second)
		want = `
# HELP probe_success Displays whether or not the probe was a success
# TYPE probe_success gauge
probe_success{monitor="a"} 0
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "probe_success"); err != nil {
			t.Error(err)
		}
	})
	t.Run("nil metrics are a no-op", func(t *testing.T) {
		var none *Metrics
		none.Init([]config.MonitorSpec{a})
		none.observe(a, observed(a, StatusUp), time.Second)
	})
}

func TestNewUnknownKind(t *testing.T) {
	if _, err := New(config.MonitorSpec{Name: "x", Kind: "gopher"}, Deps{}); err == nil {
		t.Fatal("no error for an unknown kind")
	}
}

// TestResolveFallback covers chooseProtocol's rules on literal addresses,
// which need no resolver.
func TestResolveFallback(t *testing.T) {
	tests := []struct {
		name      string
		host      string
		preferred string
		fallback  bool
		want      string
		wantErr   bool
	}{
		{name: "ip4 preferred", host: "127.0.0.1", preferred: config.IPv4, want: "127.0.0.1"},
		{name: "ip6 preferred falls back to ip4", host: "127.0.0.1", preferred: config.IPv6, fallback: true, want: "127.0.0.1"},
		{name: "ip6 only on an ip4 address", host: "127.0.0.1", preferred: config.IPv6, wantErr: true},
		{name: "ip4 preferred falls back to ip6", host: "::1", preferred: config.IPv4, fallback: true, want: "::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := resolve(t.Context(), tt.host, tt.preferred, tt.fallback)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && !r.ip.Equal(net.ParseIP(tt.want)) {
				t.Errorf("ip = %s, want %s", r.ip, tt.want)
			}
		})
	}
}

// TestMetricsKeptAcrossReload: a reload that keeps a monitor's
// configuration (same fingerprint) keeps its probe_* series and counters,
// so alerts on probe_success keep their `for:` timers (issue #15 point 7);
// a changed monitor starts afresh.
func TestMetricsKeptAcrossReload(t *testing.T) {
	kept := config.MonitorSpec{Name: "kept", Kind: "http", Fingerprint: "f1"}
	changed := config.MonitorSpec{Name: "changed", Kind: "http", Fingerprint: "f1"}
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.Init([]config.MonitorSpec{kept, changed})
	for _, s := range []config.MonitorSpec{kept, changed} {
		m.observe(s, observed(s, StatusDown, point{family: "probe_http_status_code", value: 503}), time.Second)
	}
	changed2 := changed
	changed2.Fingerprint = "f2"
	m.Init([]config.MonitorSpec{kept, changed2})
	want := `
# HELP probe_success Displays whether or not the probe was a success
# TYPE probe_success gauge
probe_success{monitor="kept"} 0
# HELP probe_http_status_code Response HTTP status code
# TYPE probe_http_status_code gauge
probe_http_status_code{monitor="kept"} 503
# HELP statussync_monitor_checks_total Checks run, by monitor and result (up, degraded, down, unknown).
# TYPE statussync_monitor_checks_total counter
statussync_monitor_checks_total{monitor="changed",result="degraded"} 0
statussync_monitor_checks_total{monitor="changed",result="down"} 0
statussync_monitor_checks_total{monitor="changed",result="unknown"} 0
statussync_monitor_checks_total{monitor="changed",result="up"} 0
statussync_monitor_checks_total{monitor="kept",result="degraded"} 0
statussync_monitor_checks_total{monitor="kept",result="down"} 1
statussync_monitor_checks_total{monitor="kept",result="unknown"} 0
statussync_monitor_checks_total{monitor="kept",result="up"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "probe_success", "probe_http_status_code", "statussync_monitor_checks_total"); err != nil {
		t.Error(err)
	}
}

// TestProbeCollector renders one monitor's last result as blackbox's /probe
// does: no monitor or static labels.
func TestProbeCollector(t *testing.T) {
	a := config.MonitorSpec{Name: "a", Kind: "http", Labels: map[string]string{"team": "web"}}
	m := NewMetrics(nil)
	m.Init([]config.MonitorSpec{a})
	if _, err := m.ProbeCollector("a"); !errors.Is(err, ErrNoResult) {
		t.Errorf("before a check: err %v, want ErrNoResult", err)
	}
	if _, err := m.ProbeCollector("nope"); !errors.Is(err, ErrUnknownMonitor) {
		t.Errorf("unknown monitor: err %v, want ErrUnknownMonitor", err)
	}
	m.observe(a, observed(a, StatusUp,
		point{family: "probe_http_status_code", value: 200},
		point{family: "probe_tls_version_info", extra: "TLS 1.3", value: 1}), 250*time.Millisecond)
	c, err := m.ProbeCollector("a")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	want := `
# HELP probe_duration_seconds Returns how long the probe took to complete in seconds
# TYPE probe_duration_seconds gauge
probe_duration_seconds 0.25
# HELP probe_http_status_code Response HTTP status code
# TYPE probe_http_status_code gauge
probe_http_status_code 200
# HELP probe_success Displays whether or not the probe was a success
# TYPE probe_success gauge
probe_success 1
# HELP probe_tls_version_info Returns the TLS version used or NaN when unknown
# TYPE probe_tls_version_info gauge
probe_tls_version_info{version="TLS 1.3"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// BenchmarkScrape10k gathers the series of 10,000 http monitors.
func BenchmarkScrape10k(b *testing.B) {
	specs := make([]config.MonitorSpec, 10000)
	for i := range specs {
		specs[i] = config.MonitorSpec{Name: fmt.Sprintf("m%05d", i), Kind: "http"}
	}
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.Init(specs)
	var pts []point
	for _, f := range probeFamilies[:16] {
		pts = append(pts, point{family: f.name, value: 1})
	}
	for _, s := range specs {
		m.observe(s, observed(s, StatusUp, pts...), time.Millisecond)
	}
	b.Run("registry", func(b *testing.B) {
		for b.Loop() {
			if _, err := reg.Gather(); err != nil {
				b.Fatal(err)
			}
		}
	})
	fast := NewScrapeMetrics(prometheus.NewRegistry())
	fast.Init(specs)
	for _, s := range specs {
		fast.observe(s, observed(s, StatusUp, pts...), time.Millisecond)
	}
	h := fast.Handler(prometheus.NewRegistry(), nil)
	b.Run("handler", func(b *testing.B) {
		for b.Loop() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
			if rec.Code != http.StatusOK {
				b.Fatal(rec.Code)
			}
		}
	})
}

// TestScrapeGathererMatchesRegistry: the /metrics path (NewScrapeMetrics and
// Gatherer) exposes exactly what the registered collector does.
func TestScrapeGathererMatchesRegistry(t *testing.T) {
	specs := []config.MonitorSpec{
		{Name: "a", Kind: "http", Labels: map[string]string{"team": "web", "version": "v1"}},
		{Name: "b", Kind: "dns", Labels: map[string]string{"env": "prod"}},
		{Name: "c", Kind: "tcp"},
	}
	regA, regB := prometheus.NewRegistry(), prometheus.NewRegistry()
	viaRegistry, viaScrape := NewMetrics(regA), NewScrapeMetrics(regB)
	for _, m := range []*Metrics{viaRegistry, viaScrape} {
		m.Init(specs)
		m.observe(specs[0], observed(specs[0], StatusUp,
			point{family: "probe_http_status_code", value: 200},
			point{family: "probe_http_duration_seconds", extra: "connect", value: 0.01},
			point{family: "probe_tls_version_info", extra: "TLS 1.3", value: 1}), time.Second)
		m.observe(specs[1], observed(specs[1], StatusDown, point{family: "probe_dns_answer_rrs", value: 0}), time.Second)
	}
	want, err := regA.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got, done, err := viaScrape.Gatherer(regB).Gather()
	defer done()
	if err != nil {
		t.Fatal(err)
	}
	text := func(mfs []*dto.MetricFamily) string {
		var b strings.Builder
		for _, mf := range mfs {
			slices.SortFunc(mf.Metric, func(x, y *dto.Metric) int { return strings.Compare(x.String(), y.String()) })
			if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
				t.Fatal(err)
			}
		}
		return b.String()
	}
	if w, g := text(want), text(got); w != g {
		t.Errorf("scrape path differs from the registry:\n--- registry\n%s\n--- scrape\n%s", w, g)
	}

	// Handler serves the same series as promhttp over the registry (in
	// another order within a family), in Prometheus text and OpenMetrics,
	// plain and gzipped.
	other := prometheus.NewGauge(prometheus.GaugeOpts{Name: "statussync_other", Help: "Another collector's metric."})
	regA.MustRegister(other)
	regB.MustRegister(other)
	for _, accept := range []string{"", "application/openmetrics-text;version=1.0.0"} {
		for _, gz := range []bool{false, true} {
			fetch := func(h http.Handler) string {
				req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
				if accept != "" {
					req.Header.Set("Accept", accept)
				}
				if gz {
					req.Header.Set("Accept-Encoding", "gzip")
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				var body io.Reader = rec.Body
				if rec.Header().Get("Content-Encoding") == "gzip" {
					zr, err := gzip.NewReader(rec.Body)
					if err != nil {
						t.Fatal(err)
					}
					body = zr
				}
				b, err := io.ReadAll(body)
				if err != nil {
					t.Fatal(err)
				}
				// Series order within a family is free; compare the lines.
				lines := strings.Split(string(b), "\n")
				slices.Sort(lines)
				return rec.Header().Get("Content-Type") + "\n" + strings.Join(lines, "\n")
			}
			want := fetch(promhttp.HandlerFor(regA, promhttp.HandlerOpts{EnableOpenMetrics: true, DisableCompression: true}))
			got := fetch(viaScrape.Handler(regB, nil))
			if want != got {
				t.Errorf("Accept %q, gzip %v: Handler differs from promhttp:\n--- promhttp\n%s\n--- Handler\n%s", accept, gz, want, got)
			}
		}
	}
}
