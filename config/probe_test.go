package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// loadProbeYAML loads a configuration whose only monitor is block (a kind
// block in YAML flow or block style, indented for the monitor).
func loadProbeYAML(tb testing.TB, block string) (*Config, error) {
	tb.Helper()
	file := filepath.Join(tb.TempDir(), "config.yml")
	content := "monitors:\n  - name: m\n" + block + "\n"
	if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
		tb.Fatal(err)
	}
	return Load(file, nil)
}

// TestProbeBlocksInvalid checks that each rule of the http, tcp and dns
// blocks is reported once, with its key path.
func TestProbeBlocksInvalid(t *testing.T) {
	tests := []struct {
		name  string
		block string
		want  string
	}{
		{"http bad regexp", `    http: {url: "http://x/", fail_if_body_matches_regexp: ["a(b"]}`, `monitors[0].http.fail_if_body_matches_regexp[0] (monitor "m"): error parsing regexp`},
		{"http bad header regexp", `    http: {url: "http://x/", fail_if_header_matches: [{header: Server, regexp: "[z"}]}`, `monitors[0].http.fail_if_header_matches[0].regexp`},
		{"http header regexp required", `    http: {url: "http://x/", fail_if_header_not_matches: [{header: Server}]}`, `monitors[0].http.fail_if_header_not_matches[0].regexp (monitor "m"): is required`},
		{"http header name", `    http: {url: "http://x/", fail_if_header_matches: [{header: "a b", regexp: x}]}`, `fail_if_header_matches[0].header (monitor "m"): "a b" is not a valid header name`},
		{"http body and body_file", `    http: {url: "http://x/", body: a, body_file: /nonexistent}`, `monitors[0].http.body_file (monitor "m"): set body or body_file, not both`},
		{"http missing body_file", `    http: {url: "http://x/", body_file: /nonexistent/body}`, `monitors[0].http.body_file (monitor "m"): /nonexistent/body: no such file`},
		{"http status code", `    http: {url: "http://x/", valid_status_codes: [200, 99]}`, `valid_status_codes (monitor "m"): entry 1: 99 is not an HTTP status code`},
		{"http version", `    http: {url: "http://x/", valid_http_versions: ["HTTP/3"]}`, `valid_http_versions[0] (monitor "m"): "HTTP/3" must be`},
		{"http ssl both", `    http: {url: "http://x/", fail_if_ssl: true, fail_if_not_ssl: true}`, `fail_if_ssl (monitor "m"): fail_if_ssl and fail_if_not_ssl together`},
		{"http ip protocol", `    http: {url: "http://x/", preferred_ip_protocol: ip5}`, `preferred_ip_protocol (monitor "m"): "ip5" must be ip4 or ip6`},
		{"http size", `    http: {url: "http://x/", body_size_limit: lots}`, `body_size_limit (monitor "m"): must be a size`},
		{"http proxy scheme", `    http: {url: "http://x/", proxy_url: "ftp://p"}`, `proxy_url (monitor "m"): scheme "ftp"`},
		{"http two passwords", `    http: {url: "http://x/", basic_auth: {username: u, password: p, password_file: /f}}`, `basic_auth.password_file (monitor "m"): set password or password_file, not both`},
		{"http basic and bearer", `    http: {url: "http://x/", basic_auth: {username: u, password: p}, bearer_token: t}`, `bearer_token (monitor "m"): set basic_auth or a bearer token, not both`},
		{"http authorization header clash", `    http: {url: "http://x/", bearer_token: t, headers: {authorization: x}}`, `headers (monitor "m"): an Authorization header conflicts`},
		{"http min_cert_validity without unit", `    http: {url: "https://x/", min_cert_validity: 14}`, `min_cert_validity (monitor "m"): 14ns is under a second`},
		{"http min_cert_validity on plain http", `    http: {url: "http://x/", follow_redirects: false, min_cert_validity: 14d}`, `min_cert_validity (monitor "m"): needs TLS`},
		{"http tls max below min", `    http: {url: "https://x/", tls_config: {max_version: TLS11}}`, `tls_config (monitor "m"): max_version TLS11 is below min_version`},
		{"http tls missing ca", `    http: {url: "https://x/", tls_config: {ca_file: /nonexistent/ca.pem}}`, `tls_config (monitor "m"): ca_file`},
		{"json op", `    http: {url: "http://x/", fail_if_body_json_not_matches: [{path: a, op: like, value: b}]}`, `fail_if_body_json_not_matches[0].op (monitor "m"): "like" must be one of`},
		{"json path", `    http: {url: "http://x/", fail_if_body_json_not_matches: [{path: "a[x]", op: exists}]}`, `fail_if_body_json_not_matches[0].path (monitor "m"): "a[x]": bad index`},
		{"json value required", `    http: {url: "http://x/", fail_if_body_json_matches: [{path: a, op: eq}]}`, `fail_if_body_json_matches[0].value (monitor "m"): is required with op eq`},
		{"json numeric op", `    http: {url: "http://x/", fail_if_body_json_matches: [{path: a, op: gt, value: high}]}`, `value (monitor "m"): op gt needs a number`},
		{"json matches regexp", `    http: {url: "http://x/", fail_if_body_json_matches: [{path: a, op: matches, value: "("}]}`, `fail_if_body_json_matches[0].value (monitor "m"): error parsing regexp`},
		{"json exists with value", `    http: {url: "http://x/", fail_if_body_json_matches: [{path: a, op: exists, value: 1}]}`, `op exists takes no value`},
		{"tcp protocol", `    tcp: {address: "x:25", protocol: ftp}`, `monitors[0].tcp.protocol (monitor "m"): "ftp" must be one of`},
		{"tcp protocol and steps", `    tcp: {address: "x:25", protocol: smtp, query_response: [{send: x}]}`, `query_response (monitor "m"): set protocol or query_response, not both`},
		{"tcp starttls preset with tls", `    tcp: {address: "x:587", protocol: smtp_starttls, tls: true}`, `tcp.tls (monitor "m"): protocol smtp_starttls starts TLS itself`},
		{"tcp empty step", `    tcp: {address: "x:25", query_response: [{}]}`, `query_response[0] (monitor "m"): needs expect, send or starttls`},
		{"tcp bad expect", `    tcp: {address: "x:25", query_response: [{expect: "(("}]}`, `query_response[0].expect (monitor "m"): error parsing regexp`},
		{"tcp starttls on tls", `    tcp: {address: "x:25", tls: true, query_response: [{starttls: true}]}`, `query_response[0].starttls (monitor "m"): the connection is already TLS`},
		{"tcp min_cert_validity without tls", `    tcp: {address: "x:25", min_cert_validity: 14d}`, `min_cert_validity (monitor "m"): needs TLS`},
		{"dns query type", `    dns: {server: "x", query_name: example.org, query_type: AAAAA}`, `query_type (monitor "m"): "AAAAA" is not a DNS type`},
		{"dns query class", `    dns: {server: "x", query_name: example.org, query_class: XX}`, `query_class (monitor "m"): "XX" is not a DNS class`},
		{"dns transport", `    dns: {server: "x", query_name: example.org, transport_protocol: quic}`, `transport_protocol (monitor "m"): "quic" must be udp or tcp`},
		{"dns rcode", `    dns: {server: "x", query_name: example.org, valid_rcodes: [NOERROR, OOPS]}`, `valid_rcodes[1] (monitor "m"): "OOPS" is not a DNS response code`},
		{"dns regexp", `    dns: {server: "x", query_name: example.org, validate_authority_rrs: {fail_if_none_matches_regexp: ["a", "("]}}`, `validate_authority_rrs.fail_if_none_matches_regexp[1] (monitor "m"): error parsing regexp`},
		{"dns query name", `    dns: {server: "x", query_name: "a..b"}`, `query_name (monitor "m"): "a..b" is not a domain name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadProbeYAML(t, tt.block)
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			probs := Problems(err)
			if len(probs) != 1 || !strings.Contains(probs[0].Error(), tt.want) {
				t.Fatalf("want exactly one problem containing\n  %s\ngot %d:\n  %v", tt.want, len(probs), err)
			}
		})
	}
}

func TestProbeBlocksDefaults(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("t0ken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadProbeYAML(t, fmt.Sprintf(`    http: {url: "https://example.org/", bearer_token_file: %q, body_size_limit: 1MB, min_cert_validity: 14d,
      fail_if_body_json_not_matches: [{path: "data.items[2].ok", op: eq, value: true}]}
  - name: t
    tcp: {address: "mail.example.org:587", protocol: smtp_starttls}
  - name: d
    dns: {server: "192.0.2.53", query_name: example.org}`, tokenFile))
	if err != nil {
		t.Fatal(err)
	}
	h, tc, d := cfg.Monitors[0].HTTP, cfg.Monitors[1].TCP, cfg.Monitors[2].DNS

	t.Run("http", func(t *testing.T) {
		switch {
		case h.Method != "GET":
			t.Errorf("method %q", h.Method)
		case h.Redirects() != 10:
			t.Errorf("redirects %d, want blackbox's 10", h.Redirects())
		case h.PreferredIPProtocol != IPv6 || !h.Fallback():
			t.Errorf("ip protocol %q fallback %v, want blackbox's ip6 with fallback", h.PreferredIPProtocol, h.Fallback())
		case !h.HTTP2():
			t.Error("http2 off by default")
		case h.Token().Reveal() != "t0ken":
			t.Error("bearer_token_file not read and trimmed")
		case h.BodySizeLimit != 1<<20:
			t.Errorf("body_size_limit %d", h.BodySizeLimit)
		case time.Duration(h.MinCertValidity) != 14*24*time.Hour:
			t.Errorf("min_cert_validity %v", h.MinCertValidity)
		}
		a := h.FailIfBodyJSONNotMatches[0]
		if got := fmt.Sprint(a.Steps()); got != "[{data 0 false} {items 0 false} { 2 true} {ok 0 false}]" {
			t.Errorf("steps %s", got)
		}
		if a.Text() != "true" {
			t.Errorf("value text %q: a YAML boolean must stay true, not 1", a.Text())
		}
		if s := fmt.Sprintf("%v %+v %#v", h, *h, *h); strings.Contains(s, "t0ken") {
			t.Errorf("the bearer token prints: %s", s)
		}
	})
	t.Run("tcp", func(t *testing.T) {
		if tc.Host() != "mail.example.org" || !tc.UsesTLS() {
			t.Errorf("host %q uses TLS %v", tc.Host(), tc.UsesTLS())
		}
	})
	t.Run("dns", func(t *testing.T) {
		host, port := d.Target()
		switch {
		case host != "192.0.2.53" || port != "53":
			t.Errorf("target %s %s", host, port)
		case d.QueryType != "ANY" || d.QueryClass != "IN" || d.TransportProtocol != "udp":
			t.Errorf("defaults %s %s %s, want blackbox's ANY IN udp", d.QueryType, d.QueryClass, d.TransportProtocol)
		case !d.Recursion():
			t.Error("recursion_desired off by default")
		case len(d.Rcodes()) != 1 || d.Rcodes()[0] != 0:
			t.Errorf("rcodes %v, want NOERROR", d.Rcodes())
		}
	})
}

// TestPasswordFileNeverPrints covers the basic_auth password read from a
// file, which must not print either.
func TestPasswordFileNeverPrints(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(file, []byte("hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadProbeYAML(t, fmt.Sprintf(`    http: {url: "http://x/", basic_auth: {username: u, password_file: %q}}`, file))
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.Monitors[0].HTTP
	if h.BasicAuth.Secret().Reveal() != "hunter2" {
		t.Errorf("password %q", h.BasicAuth.Secret().Reveal())
	}
	if s := fmt.Sprintf("%+v %#v %+v", *h, *h.BasicAuth, cfg); strings.Contains(s, "hunter2") {
		t.Errorf("the password prints: %s", s)
	}
	// Validating again (as Config.Validate does) is not "both set".
	if err := cfg.Validate(); err != nil {
		t.Errorf("revalidate: %v", err)
	}
}

func TestByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want ByteSize
	}{
		{"512", 512}, {"10KB", 10 << 10}, {"10 KiB", 10 << 10}, {"1.5MB", 3 << 19}, {"2G", 2 << 30}, {"lots", -1}, {"5XB", -1},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var b ByteSize
			if err := b.UnmarshalText([]byte(tt.in)); err != nil || b != tt.want {
				t.Errorf("got %d, %v; want %d", b, err, tt.want)
			}
		})
	}
}
