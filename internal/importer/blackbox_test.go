package importer

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/statussync/statussync/config"
)

func TestBlackboxGolden(t *testing.T) {
	modules := readFile(t, "testdata/blackbox/blackbox.yml")
	rawModules, err := decode(modules)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		targets string
		opts    BlackboxOptions
	}{
		{"targets.txt", BlackboxOptions{Module: "http_2xx"}},
		{"file_sd.json", BlackboxOptions{Interval: 30e9}},
	} {
		t.Run(tc.targets, func(t *testing.T) {
			path := filepath.Join("testdata/blackbox", tc.targets)
			targets := readFile(t, path)
			tc.opts.Source = "blackbox.yml and " + tc.targets
			res, err := Blackbox(modules, targets, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, path+".golden.yml", res.YAML)
			golden(t, path+".warnings.txt", warningsText(res.Warnings))
			load(t, res.YAML)
			assertEveryKeyAccounted(t, rawModules, res)
		})
	}
}

// importBB imports modules and targets and loads the result.
func importBB(tb testing.TB, modules, targets string, opts BlackboxOptions) (*Result, *config.Config) {
	tb.Helper()
	res, err := Blackbox([]byte(modules), []byte(targets), opts)
	if err != nil {
		tb.Fatalf("import: %v", err)
	}
	return res, load(tb, res.YAML)
}

func TestBlackboxMapping(t *testing.T) {
	for _, tc := range []struct {
		name    string
		modules string
		targets string
		opts    BlackboxOptions
		check   func(t *testing.T, cfg *config.Config)
		warn    [][2]string
	}{
		{
			name:    "the only module needs no name; http gets a scheme",
			modules: "modules:\n  web:\n    prober: http\n    timeout: 3s\n    http:\n      valid_status_codes: [200, '204']\n      no_follow_redirects: true\n",
			targets: "example.org\nhttps://example.org/a/\n",
			check: func(t *testing.T, cfg *config.Config) {
				a, b := cfg.Monitors[0], cfg.Monitors[1]
				if a.Name != "example.org" || a.HTTP.URL != "http://example.org" || b.Name != "example.org/a" || b.HTTP.URL != "https://example.org/a/" {
					t.Errorf("monitors %q %q %q %q", a.Name, a.HTTP.URL, b.Name, b.HTTP.URL)
				}
				if a.Timeout != 3*time.Second || a.HTTP.Redirects() != 0 || fmt.Sprint(a.HTTP.ValidStatusCodes) != "[200 204]" {
					t.Errorf("http = %+v", a.HTTP)
				}
				if len(cfg.Components) != 2 || cfg.Components[0].Name != "example.org" || cfg.Components[0].Monitors[0] != "example.org" {
					t.Errorf("components = %+v", cfg.Components)
				}
			},
		},
		{
			name:    "authorization, proxy and TLS settings",
			modules: "modules:\n  a:\n    prober: http\n    http:\n      authorization: {type: Bearer, credentials: tok}\n      proxy_url: http://proxy.example:3128\n      tls_config: {server_name: internal.example, insecure_skip_verify: true, min_version: TLS13, ca: inline-pem}\n      enable_http2: false\n",
			targets: "https://a.example\n",
			check: func(t *testing.T, cfg *config.Config) {
				h := cfg.Monitors[0].HTTP
				if h.Token().Reveal() != "tok" || h.ProxyURL != "http://proxy.example:3128" || h.HTTP2() ||
					h.TLSConfig.ServerName != "internal.example" || !h.TLSConfig.InsecureSkipVerify || h.TLSConfig.MinVersion != "TLS13" {
					t.Errorf("http = %+v", h)
				}
			},
			warn: [][2]string{{"modules.a.http.tls_config.ca", "inline PEM"}, {"modules.a.http.authorization.credentials", "consider bearer_token_file"}},
		},
		{
			name:    "an authorization other than Bearer is reported whole",
			modules: "modules:\n  a:\n    prober: http\n    http:\n      authorization: {type: Digest, credentials: x}\n",
			targets: "https://a.example\n",
			check: func(t *testing.T, cfg *config.Config) {
				if h := cfg.Monitors[0].HTTP; h.BearerToken != "" {
					t.Errorf("http = %+v", h)
				}
			},
			warn: [][2]string{{"modules.a.http.authorization.type", "Digest"}, {"modules.a.http.authorization.credentials", "not imported"}},
		},
		{
			name:    "tcp and dns",
			modules: "modules:\n  tls:\n    prober: tcp\n    tcp: {tls: true, preferred_ip_protocol: ip4, ip_protocol_fallback: false}\n  soa:\n    prober: dns\n    dns: {query_name: example.org, query_type: SOA, valid_rcodes: [NOERROR, NXDOMAIN], recursion_desired: false, dns_over_tls: true}\n",
			targets: "tls mail.example:993\nsoa 192.0.2.53:5353\n",
			check: func(t *testing.T, cfg *config.Config) {
				tcp, d := cfg.Monitors[0].TCP, cfg.Monitors[1].DNS
				if tcp.Address != "mail.example:993" || !tcp.TLS || tcp.PreferredIPProtocol != "ip4" || tcp.Fallback() {
					t.Errorf("tcp = %+v", tcp)
				}
				if d.Server != "192.0.2.53:5353" || d.QueryName != "example.org" || d.QueryType != "SOA" || d.Recursion() || fmt.Sprint(d.ValidRcodes) != "[NOERROR NXDOMAIN]" {
					t.Errorf("dns = %+v", d)
				}
				if cfg.Monitors[1].Name != "example.org @192.0.2.53:5353" {
					t.Errorf("dns name = %q", cfg.Monitors[1].Name)
				}
			},
			warn: [][2]string{{"modules.soa.dns.dns_over_tls", "not supported"}},
		},
		{
			name:    "one target, two modules; interval and timeout",
			modules: "modules:\n  a:\n    prober: http\n    timeout: 20s\n  b:\n    prober: http\n",
			targets: "a https://x.example\nb https://x.example\nb https://x.example\n",
			opts:    BlackboxOptions{Interval: 15 * time.Second, NoComponents: true},
			check: func(t *testing.T, cfg *config.Config) {
				var names []string
				for _, m := range cfg.Monitors {
					names = append(names, m.Name)
				}
				if strings.Join(names, "|") != "x.example|x.example (b)|x.example (b) #2" || len(cfg.Components) != 0 {
					t.Errorf("names %v, components %v", names, cfg.Components)
				}
				if cfg.Defaults.Interval != 15*time.Second || cfg.Monitors[0].Timeout != 13500*time.Millisecond {
					t.Errorf("interval %v timeout %v", cfg.Defaults.Interval, cfg.Monitors[0].Timeout)
				}
			},
			warn: [][2]string{{"modules.a.timeout", "set to 13500ms"}},
		},
		{
			name:    "targets and modules that cannot be imported",
			modules: "modules:\n  web: {prober: http}\n  ping: {prober: icmp, icmp: {ttl: 5}}\n  tcp: {prober: tcp}\n  nodns: {prober: dns, dns: {query_type: A}}\n  other: {prober: http, tcp: {tls: true}, surprise: 1}\n",
			targets: "https://ok.example\nping 192.0.2.1\ntcp no-port\nnodns 192.0.2.53\nmissing x\nother https://other.example\nWEB https://case.example\n",
			opts:    BlackboxOptions{Module: "web"},
			check: func(t *testing.T, cfg *config.Config) {
				if len(cfg.Monitors) != 2 {
					t.Errorf("monitors = %v", cfg.Monitors)
				}
			},
			warn: [][2]string{
				{"modules.ping.prober", `"icmp" probes`}, {"modules.ping.icmp", "skipped"}, {"targets:3", "not host:port"},
				{"modules.nodns.dns.query_name", "missing"}, {"modules.nodns.dns.query_type", "skipped"},
				{"targets:5", `module "missing"`}, {"modules.other.tcp", "prober is http"}, {"modules.other.surprise", "unknown key"},
				{"targets:7", `module "WEB" is not in blackbox.yml`},
			},
		},
		{
			name:    "file_sd in YAML with labels",
			modules: "modules:\n  web: {prober: http}\n",
			targets: "- targets: [https://a.example]\n  labels: {team: web, __address__: x, instance: y, 'bad-name': z}\n- targets: []\n",
			check: func(t *testing.T, cfg *config.Config) {
				if l := cfg.Monitors[0].Labels; len(l) != 2 || l["team"] != "web" || l["module"] != "web" {
					t.Errorf("labels = %v", l)
				}
			},
			warn: [][2]string{{"targets[0].labels.__address__", "Prometheus-internal"}, {"targets[0].labels.instance", "sets this label"}, {"targets[0].labels.bad-name", "not a valid label name"}, {"targets[1]", "no targets"}},
		},
		{
			name:    "no targets at all",
			modules: "modules:\n  web: {prober: http}\n",
			targets: "# nothing yet\n",
			check: func(t *testing.T, cfg *config.Config) {
				if len(cfg.Monitors) != 0 {
					t.Errorf("monitors = %v", cfg.Monitors)
				}
			},
			warn: [][2]string{{"", "no target could be imported"}, {"modules.web", "no target uses this module"}},
		},
		{
			name:    "several modules and a target without one",
			modules: "modules:\n  a: {prober: http}\n  b: {prober: http}\n",
			targets: "https://x.example\nb https://y.example\n",
			check: func(t *testing.T, cfg *config.Config) {
				if len(cfg.Monitors) != 1 || cfg.Monitors[0].Name != "y.example" {
					t.Errorf("monitors = %v", cfg.Monitors)
				}
			},
			warn: [][2]string{{"targets:1", "names no module"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, cfg := importBB(t, tc.modules, tc.targets, tc.opts)
			tc.check(t, cfg)
			for _, w := range tc.warn {
				if !hasWarning(res.Warnings, w[0], w[1]) {
					t.Errorf("no warning at %q containing %q; got:\n%s", w[0], w[1], warningsText(res.Warnings))
				}
			}
			raw, _ := decode([]byte(tc.modules))
			assertEveryKeyAccounted(t, raw, res)
		})
	}
}

// TestBlackboxFilesAreCopied checks the keys that name files, which the
// other tests cannot load since the files do not exist here.
func TestBlackboxFilesAreCopied(t *testing.T) {
	modules := "modules:\n  a:\n    prober: http\n    http:\n      body_file: /etc/probe/body.json\n      basic_auth: {username: u, password_file: /run/secrets/pw}\n      tls_config: {ca_file: /etc/ca.pem, cert_file: /etc/c.pem, key_file: /etc/k.pem}\n  b:\n    prober: http\n    http: {authorization: {credentials_file: /run/secrets/token}}\n"
	res, err := Blackbox([]byte(modules), []byte("a https://a.example\nb https://b.example\n"), BlackboxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"bearer_token_file: /run/secrets/token", "body_file: /etc/probe/body.json", "password_file: /run/secrets/pw", "ca_file: /etc/ca.pem", "cert_file: /etc/c.pem", "key_file: /etc/k.pem"} {
		if !strings.Contains(string(res.YAML), want) {
			t.Errorf("output lacks %q:\n%s", want, res.YAML)
		}
	}
	if len(res.Warnings) != 0 {
		t.Errorf("warnings: %v", res.Warnings)
	}
}

func TestBlackboxErrors(t *testing.T) {
	for _, tc := range []struct{ modules, targets, err string }{
		{"modules: [", "x", "blackbox modules: parse as YAML"},
		{"- a", "x", "top level must be a mapping"},
		{"other: 1", "x", "no modules"},
		{"modules: [a]", "x", "modules must be a mapping"},
		{"modules: {a: {prober: http}}", "[{\"targets\": ", "targets file (file_sd)"},
		{"modules: {a: {prober: http}}", "[1, 2]\n", ""}, // groups that are not mappings are reported, not fatal
		{"modules: {a: {prober: http}}", "- {targets: x}\n", ""},
	} {
		_, err := Blackbox([]byte(tc.modules), []byte(tc.targets), BlackboxOptions{})
		if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Blackbox(%q, %q) error = %v, want %q", tc.modules, tc.targets, err, tc.err)
		}
	}
}
