package monitors

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// newTLSServer starts an HTTPS server on 127.0.0.1 with cert.
func newTLSServer(tb testing.TB, cert tls.Certificate, h http.Handler) *httptest.Server {
	tb.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // rejected handshakes are the point
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	tb.Cleanup(srv.Close)
	return srv
}

func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
}

func TestHTTPCertificates(t *testing.T) {
	ca := newCA(t)
	now := time.Now()
	tests := []struct {
		name     string
		cert     tls.Certificate
		extra    string // more http keys
		status   Status
		reason   string
		earliest time.Time // expected probe_ssl_earliest_cert_expiry
	}{
		{name: "valid", cert: ca.leaf(t, localhostFor(now.Add(90*24*time.Hour))), status: StatusUp, earliest: now.Add(90 * 24 * time.Hour)},
		{name: "expired", cert: ca.leaf(t, localhostFor(now.Add(-48*time.Hour))), status: StatusDown, reason: "certificate expired", earliest: now.Add(-48 * time.Hour)},
		{name: "expiring in 3 days", cert: ca.leaf(t, localhostFor(now.Add(72*time.Hour))), status: StatusUp, earliest: now.Add(72 * time.Hour)},
		{
			name: "expiring in 3 days under min_cert_validity", cert: ca.leaf(t, localhostFor(now.Add(72*time.Hour))),
			extra: "min_cert_validity: 14d", status: StatusDegraded, reason: "certificate expires in 2d (under 14d)", earliest: now.Add(72 * time.Hour),
		},
		{
			name: "wrong host name", cert: ca.leaf(t, leafOpts{dnsNames: []string{"other.example"}, notAfter: now.Add(90 * 24 * time.Hour)}),
			status: StatusDown, reason: "certificate not valid for host name", earliest: now.Add(90 * 24 * time.Hour),
		},
		{
			name: "wrong host name but server_name matches", cert: ca.leaf(t, leafOpts{dnsNames: []string{"other.example"}, notAfter: now.Add(90 * 24 * time.Hour)}),
			extra: "tls_config: {server_name: other.example}", status: StatusUp, earliest: now.Add(90 * 24 * time.Hour),
		},
		{
			name: "self-signed", cert: selfSigned(t, localhostFor(now.Add(30*24*time.Hour))),
			status: StatusDown, reason: "certificate signed by unknown authority", earliest: now.Add(30 * 24 * time.Hour),
		},
		{
			name: "self-signed with insecure_skip_verify", cert: selfSigned(t, localhostFor(now.Add(30*24*time.Hour))),
			extra: "tls_config: {insecure_skip_verify: true}", status: StatusUp, earliest: now.Add(30 * 24 * time.Hour),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTLSServer(t, tt.cert, okHandler())
			tlsKeys := "tls_config: {ca_file: " + ca.pemFile + "}"
			if strings.HasPrefix(tt.extra, "tls_config:") {
				tlsKeys = strings.Replace(tt.extra, "{", "{ca_file: "+ca.pemFile+", ", 1)
				tt.extra = ""
			}
			spec := loadSpec(t, fmt.Sprintf("http:\n  url: %s/\n  %s\n  %s", srv.URL, tlsKeys, tt.extra))
			r := runCheck(t, spec, 2*time.Second)
			wantResult(t, r, tt.status, tt.reason)

			// The expiry is reported whether or not verification passed.
			if got, want := metric(t, r, "probe_ssl_earliest_cert_expiry", ""), float64(tt.earliest.Truncate(time.Second).Unix()); got != want {
				t.Errorf("probe_ssl_earliest_cert_expiry = %v, want %v", got, want)
			}
			if got := metric(t, r, "probe_tls_version_info", "TLS 1.3"); got != 1 {
				t.Errorf("probe_tls_version_info{version=TLS 1.3} = %v", got)
			}
			if _, ok := detail(r, "cert[0]"); !ok {
				t.Errorf("no cert[0] detail:\n%s", dumpDetails(r))
			}
			if v, _ := detail(r, "earliest cert expiry"); !strings.Contains(v, tt.earliest.UTC().Format("2006-01-02")) {
				t.Errorf("earliest cert expiry detail = %q", v)
			}
			wantSSL := 0.0
			if tt.status != StatusDown {
				wantSSL = 1
			}
			if got := metric(t, r, "probe_http_ssl", ""); got != wantSSL {
				t.Errorf("probe_http_ssl = %v, want %v", got, wantSSL)
			}
			// Only a verified chain has a last chain expiry.
			if verified := tt.status != StatusDown && !strings.Contains(tt.name, "insecure"); hasMetric(r, "probe_ssl_last_chain_expiry_timestamp_seconds", "") != verified {
				t.Errorf("probe_ssl_last_chain_expiry_timestamp_seconds present = %v, want %v", !verified, verified)
			}
		})
	}
}

// testServer serves the paths the assertion tests probe.
func testServer(tb testing.TB) *httptest.Server {
	tb.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Version", "1.2.3")
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
		_, _ = io.WriteString(w, "status: all systems go")
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		var code int
		_, _ = fmt.Sscan(r.PathValue("code"), &code)
		w.WriteHeader(code)
	})
	mux.HandleFunc("/json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok","version":"2.1","healthy":true,"uptime":12.5,
			"data":{"items":[{"state":"running"},{"state":"stopped"}]},"tags":["a","b"],"none":null}`)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || string(b) != "ping" || r.Header.Get("X-Test") != "yes" || r.Host != "virtual.example" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("/basic", func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	mux.HandleFunc("/bearer", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t0ken" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, strings.Repeat("x", 4096))
	})
	mux.HandleFunc("/redirect/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		_, _ = fmt.Sscan(r.PathValue("n"), &n)
		if n == 0 {
			_, _ = io.WriteString(w, "landed")
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/redirect/%d", n-1), http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return srv
}

func TestHTTPAssertions(t *testing.T) {
	srv := testServer(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bodyFile := write("body", "ping")
	passFile := write("pass", "s3cret\n")
	tokenFile := write("token", "t0ken\n")

	tests := []struct {
		name   string
		path   string
		keys   string
		status Status
		reason string
		regex  float64 // probe_failed_due_to_regex
	}{
		{name: "2xx by default", path: "/ok", status: StatusUp},
		{name: "503 fails by default", path: "/status/503", status: StatusDown, reason: "HTTP 503"},
		{name: "valid_status_codes accepts 503", path: "/status/503", keys: "valid_status_codes: [503]", status: StatusUp},
		{name: "valid_status_codes rejects 200", path: "/ok", keys: "valid_status_codes: [204]", status: StatusDown, reason: "HTTP 200"},
		{name: "body matches forbidden", path: "/ok", keys: `fail_if_body_matches_regexp: ["systems go"]`, status: StatusDown, reason: "body matched forbidden pattern", regex: 1},
		{name: "body lacks forbidden", path: "/ok", keys: `fail_if_body_matches_regexp: ["outage"]`, status: StatusUp},
		{name: "body has required", path: "/ok", keys: `fail_if_body_not_matches_regexp: ["^status: all"]`, status: StatusUp},
		{name: "body lacks required", path: "/ok", keys: `fail_if_body_not_matches_regexp: ["degraded"]`, status: StatusDown, reason: "body did not match required pattern", regex: 1},
		{name: "header matches forbidden", path: "/ok", keys: `fail_if_header_matches: [{header: X-Version, regexp: "^1\\."}]`, status: StatusDown, reason: "header X-Version matched forbidden pattern", regex: 1},
		{name: "header lacks forbidden", path: "/ok", keys: `fail_if_header_matches: [{header: X-Version, regexp: "^2\\."}]`, status: StatusUp},
		{name: "header forbidden any of several values", path: "/ok", keys: `fail_if_header_matches: [{header: X-Multi, regexp: "^b$"}]`, status: StatusDown, reason: "header X-Multi matched forbidden pattern", regex: 1},
		{name: "header required one of several values", path: "/ok", keys: `fail_if_header_not_matches: [{header: x-multi, regexp: "^b$"}]`, status: StatusUp},
		{name: "header required missing", path: "/ok", keys: `fail_if_header_not_matches: [{header: X-Missing, regexp: "."}]`, status: StatusDown, reason: "header X-Missing missing", regex: 1},
		{name: "header required missing allowed", path: "/ok", keys: `fail_if_header_not_matches: [{header: X-Missing, regexp: ".", allow_missing: true}]`, status: StatusUp},
		{name: "header required mismatch", path: "/ok", keys: `fail_if_header_not_matches: [{header: X-Version, regexp: "^2"}]`, status: StatusDown, reason: "header X-Version did not match required pattern", regex: 1},
		{name: "json eq holds", path: "/json", keys: `fail_if_body_json_not_matches: [{path: status, op: eq, value: ok}]`, status: StatusUp},
		{name: "json eq fails", path: "/json", keys: `fail_if_body_json_not_matches: [{path: status, op: eq, value: down}]`, status: StatusDown, reason: "body JSON assertion failed"},
		{name: "json nested index", path: "/json", keys: `fail_if_body_json_not_matches: [{path: "data.items[1].state", op: eq, value: stopped}]`, status: StatusUp},
		{name: "json missing path", path: "/json", keys: `fail_if_body_json_not_matches: [{path: "data.items[5].state", op: exists}]`, status: StatusDown, reason: "body JSON assertion failed"},
		{name: "json bool", path: "/json", keys: `fail_if_body_json_not_matches: [{path: healthy, op: eq, value: true}]`, status: StatusUp},
		{name: "json numeric gt holds", path: "/json", keys: `fail_if_body_json_not_matches: [{path: uptime, op: gt, value: 10}]`, status: StatusUp},
		{name: "json numeric lt fails", path: "/json", keys: `fail_if_body_json_not_matches: [{path: uptime, op: lt, value: 10}]`, status: StatusDown, reason: "body JSON assertion failed"},
		{name: "json numeric eq across forms", path: "/json", keys: `fail_if_body_json_not_matches: [{path: uptime, op: eq, value: "12.50"}]`, status: StatusUp},
		{name: "json ne", path: "/json", keys: `fail_if_body_json_not_matches: [{path: status, op: ne, value: down}]`, status: StatusUp},
		{name: "json contains in array", path: "/json", keys: `fail_if_body_json_not_matches: [{path: tags, op: contains, value: b}]`, status: StatusUp},
		{name: "json matches", path: "/json", keys: `fail_if_body_json_not_matches: [{path: version, op: matches, value: "^2\\."}]`, status: StatusUp},
		{name: "json null", path: "/json", keys: `fail_if_body_json_not_matches: [{path: none, op: eq, value: "null"}]`, status: StatusUp},
		{name: "json forbidden holds", path: "/json", keys: `fail_if_body_json_matches: [{path: "data.items[0].state", op: eq, value: running}]`, status: StatusDown, reason: "body JSON assertion failed"},
		{name: "json forbidden missing path passes", path: "/json", keys: `fail_if_body_json_matches: [{path: error, op: exists}]`, status: StatusUp},
		{name: "json on non-JSON body", path: "/ok", keys: `fail_if_body_json_matches: [{path: error, op: exists}]`, status: StatusDown, reason: "body is not JSON"},
		{name: "fail_if_not_ssl on http", path: "/ok", keys: "fail_if_not_ssl: true", status: StatusDown, reason: "TLS not used (fail_if_not_ssl)"},
		{name: "fail_if_ssl on http", path: "/ok", keys: "fail_if_ssl: true", status: StatusUp},
		{name: "valid_http_versions accepts", path: "/ok", keys: `valid_http_versions: ["HTTP/1.1"]`, status: StatusUp},
		{name: "valid_http_versions rejects", path: "/ok", keys: `valid_http_versions: ["HTTP/2.0"]`, status: StatusDown, reason: "HTTP version HTTP/1.1 not accepted"},
		{name: "body_size_limit under", path: "/big", keys: "body_size_limit: 4KB", status: StatusUp},
		{name: "body_size_limit over", path: "/big", keys: "body_size_limit: 1KB", status: StatusDown, reason: "body exceeds size limit"},
		{
			name: "method, inline body, headers and Host", path: "/echo", status: StatusUp,
			keys: "method: post\nbody: ping\nvalid_status_codes: [201]\nheaders: {X-Test: \"yes\", Host: virtual.example}",
		},
		{
			name: "body_file", path: "/echo", status: StatusUp,
			keys: "method: POST\nbody_file: " + bodyFile + "\nvalid_status_codes: [201]\nheaders: {X-Test: \"yes\", Host: virtual.example}",
		},
		{name: "echo rejects wrong body", path: "/echo", keys: "method: POST\nbody: pong\nheaders: {X-Test: \"yes\", Host: virtual.example}", status: StatusDown, reason: "HTTP 400"},
		{name: "basic auth", path: "/basic", keys: "basic_auth: {username: alice, password: s3cret}", status: StatusUp},
		{name: "basic auth password_file", path: "/basic", keys: "basic_auth: {username: alice, password_file: " + passFile + "}", status: StatusUp},
		{name: "basic auth wrong password", path: "/basic", keys: "basic_auth: {username: alice, password: nope}", status: StatusDown, reason: "HTTP 401"},
		{name: "bearer token", path: "/bearer", keys: "bearer_token: t0ken", status: StatusUp},
		{name: "bearer token file", path: "/bearer", keys: "bearer_token_file: " + tokenFile, status: StatusUp},
		{name: "no credentials", path: "/bearer", status: StatusDown, reason: "HTTP 401"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := ""
			for _, l := range strings.Split(tt.keys, "\n") {
				keys += "\n  " + l
			}
			spec := loadSpec(t, "http:\n  url: "+srv.URL+tt.path+keys)
			r := runCheck(t, spec, 2*time.Second)
			wantResult(t, r, tt.status, tt.reason)
			if got := metric(t, r, "probe_failed_due_to_regex", ""); got != tt.regex {
				t.Errorf("probe_failed_due_to_regex = %v, want %v", got, tt.regex)
			}
			if tt.status == StatusDown {
				if v, ok := detail(r, "assertion failed"); !ok || v == "" {
					t.Errorf("no assertion detail:\n%s", dumpDetails(r))
				}
			}
			if strings.Contains(r.Reason, "all systems") || strings.Contains(r.Reason, "running") {
				t.Errorf("reason %q leaks the response body", r.Reason)
			}
		})
	}
}

func TestHTTPResponseMetrics(t *testing.T) {
	srv := testServer(t)
	r := runCheck(t, loadSpec(t, "http: {url: "+srv.URL+"/ok}"), 2*time.Second)
	wantResult(t, r, StatusUp, "")
	for _, c := range []struct {
		family, extra string
		want          float64
	}{
		{"probe_http_status_code", "", 200},
		{"probe_http_content_length", "", float64(len("status: all systems go"))},
		{"probe_http_uncompressed_body_length", "", float64(len("status: all systems go"))},
		{"probe_http_redirects", "", 0},
		{"probe_http_ssl", "", 0},
		{"probe_http_version", "", 1.1},
		{"probe_ip_protocol", "", 4},
		{"probe_http_last_modified_timestamp_seconds", "", float64(time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC).Unix())},
	} {
		if got := metric(t, r, c.family, c.extra); got != c.want {
			t.Errorf("%s = %v, want %v", c.family, got, c.want)
		}
	}
	for _, phase := range []string{"resolve", "connect", "processing", "transfer"} {
		if metric(t, r, "probe_http_duration_seconds", phase) <= 0 {
			t.Errorf("phase %s not measured", phase)
		}
	}
	if got := metric(t, r, "probe_http_duration_seconds", "tls"); got != 0 {
		t.Errorf("tls phase %v on plain http", got)
	}
	if hasMetric(r, "probe_ssl_earliest_cert_expiry", "") {
		t.Error("TLS metrics on plain http")
	}
	// Details read in order: what, timings, what came back.
	var keys []string
	for _, d := range r.Details {
		keys = append(keys, d.Key)
	}
	want := "url ip phase resolve phase connect phase tls phase processing phase transfer redirects status code http version content length body bytes"
	if got := strings.Join(keys, " "); got != want {
		t.Errorf("detail keys:\n got %s\nwant %s", got, want)
	}
}

func TestHTTPHTTP2AndTLSPhase(t *testing.T) {
	ca := newCA(t)
	srv := httptest.NewUnstartedServer(okHandler())
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.leaf(t, localhostFor(time.Now().Add(time.Hour*24*30)))}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	tests := []struct {
		name    string
		keys    string
		version float64
	}{
		{name: "http2 by default", version: 2},
		{name: "enable_http2 false", keys: "\n  enable_http2: false", version: 1.1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCheck(t, loadSpec(t, "http:\n  url: "+srv.URL+"/\n  tls_config: {ca_file: "+ca.pemFile+"}"+tt.keys), 2*time.Second)
			wantResult(t, r, StatusUp, "")
			if got := metric(t, r, "probe_http_version", ""); got != tt.version {
				t.Errorf("probe_http_version = %v, want %v", got, tt.version)
			}
			if metric(t, r, "probe_http_duration_seconds", "tls") <= 0 {
				t.Error("tls phase not measured")
			}
		})
	}
}

func TestHTTPRedirects(t *testing.T) {
	srv := testServer(t)
	tests := []struct {
		name      string
		path      string
		keys      string
		status    Status
		reason    string
		redirects float64
	}{
		{name: "followed by default", path: "/redirect/2", status: StatusUp, redirects: 2},
		{name: "follow_redirects false", path: "/redirect/2", keys: "follow_redirects: false", status: StatusDown, reason: "HTTP 302", redirects: 1},
		{name: "302 accepted without following", path: "/redirect/1", keys: "follow_redirects: false\n  valid_status_codes: [302]", status: StatusUp, redirects: 1},
		{name: "within max_redirects", path: "/redirect/3", keys: "max_redirects: 3", status: StatusUp, redirects: 3},
		{name: "over max_redirects", path: "/redirect/4", keys: "max_redirects: 3", status: StatusDown, reason: "HTTP 302", redirects: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCheck(t, loadSpec(t, "http:\n  url: "+srv.URL+tt.path+"\n  "+tt.keys), 2*time.Second)
			wantResult(t, r, tt.status, tt.reason)
			if got := metric(t, r, "probe_http_redirects", ""); got != tt.redirects {
				t.Errorf("probe_http_redirects = %v, want %v", got, tt.redirects)
			}
		})
	}
}

func TestHTTPFailures(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // until the probe gives up
	}))
	t.Cleanup(slow.Close)
	tests := []struct {
		name   string
		keys   string
		reason string
	}{
		{name: "timeout", keys: "url: " + slow.URL + "/", reason: "timeout"},
		{name: "connection refused", keys: "url: http://" + closedPort(t) + "/", reason: "connection refused"},
		{name: "ip6 only on an ip4 address", keys: "url: " + slow.URL + "/\n  preferred_ip_protocol: ip6\n  ip_protocol_fallback: false", reason: "name resolution failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			r := runCheck(t, loadSpec(t, "http:\n  "+tt.keys), 200*time.Millisecond)
			wantResult(t, r, StatusDown, tt.reason)
			if took := time.Since(start); took > time.Second {
				t.Errorf("check took %v, past its 200ms timeout", took)
			}
			if r.Err == nil {
				t.Error("no Err")
			}
			if got := metric(t, r, "probe_http_status_code", ""); got != 0 {
				t.Errorf("probe_http_status_code = %v on failure", got)
			}
		})
	}
}

func TestHTTPIPProtocol(t *testing.T) {
	srv := testServer(t)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	r := runCheck(t, loadSpec(t, "http:\n  url: http://localhost:"+port+"/ok\n  preferred_ip_protocol: ip4\n  ip_protocol_fallback: false"), 2*time.Second)
	wantResult(t, r, StatusUp, "")
	if got := metric(t, r, "probe_ip_protocol", ""); got != 4 {
		t.Errorf("probe_ip_protocol = %v", got)
	}
	if v, _ := detail(r, "ip"); v != "127.0.0.1 (ip4)" {
		t.Errorf("ip detail = %q", v)
	}
}

// TestHTTPFreshConnection checks that every check opens its own
// connection, so a stale keep-alive connection can never hide an outage.
func TestHTTPFreshConnection(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(okHandler())
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	m, err := New(loadSpec(t, "http: {url: "+srv.URL+"/}"), Deps{})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if r := m.Check(t.Context()); r.Status != StatusUp {
			t.Fatalf("check: %s", dumpDetails(r))
		}
	}
	if got := conns.Load(); got != 3 {
		t.Errorf("3 checks used %d connections, want 3", got)
	}
}

// TestHTTPProxy probes through a forward proxy: plain HTTP as an absolute
// URL request, HTTPS through CONNECT, where the transport does the
// handshake and its trace hooks must still capture the certificate.
func TestHTTPProxy(t *testing.T) {
	ca := newCA(t)
	target := testServer(t)
	tlsTarget := newTLSServer(t, ca.leaf(t, localhostFor(time.Now().Add(60*24*time.Hour))), okHandler())
	var proxied atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		if r.Method == http.MethodConnect {
			upstream, err := net.Dial("tcp", r.Host)
			if err != nil {
				w.WriteHeader(http.StatusBadGateway)
				return
			}
			w.WriteHeader(http.StatusOK)
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				_ = upstream.Close()
				return
			}
			go func() { _, _ = io.Copy(upstream, buf); _ = upstream.Close() }()
			_, _ = io.Copy(conn, upstream)
			_ = conn.Close()
			return
		}
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer func() { _ = resp.Body.Close() }()
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(proxy.Close)

	tests := []struct {
		name string
		url  string
		ssl  bool
	}{
		{name: "http", url: target.URL + "/ok"},
		{name: "https via CONNECT", url: tlsTarget.URL + "/", ssl: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := proxied.Load()
			r := runCheck(t, loadSpec(t, "http:\n  url: "+tt.url+"\n  proxy_url: "+proxy.URL+"\n  tls_config: {ca_file: "+ca.pemFile+"}"), 2*time.Second)
			wantResult(t, r, StatusUp, "")
			if proxied.Load() == before {
				t.Error("request did not go through the proxy")
			}
			if got := hasMetric(r, "probe_ssl_earliest_cert_expiry", ""); got != tt.ssl {
				t.Errorf("certificate expiry reported = %v, want %v\n%s", got, tt.ssl, dumpDetails(r))
			}
		})
	}
}

func TestHTTPDegradedLatency(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(30 * time.Millisecond)
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name   string
		limit  string
		status Status
	}{
		{name: "slower than degraded_latency", limit: "10ms", status: StatusDegraded},
		{name: "faster than degraded_latency", limit: "1s", status: StatusUp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCheck(t, loadSpec(t, "degraded_latency: "+tt.limit+"\nhttp: {url: "+srv.URL+"/}"), 2*time.Second)
			if r.Status != tt.status {
				t.Fatalf("status %s, want %s\n%s", r.Status, tt.status, dumpDetails(r))
			}
			if tt.status == StatusDegraded && !strings.HasPrefix(r.Reason, "slow: ") {
				t.Errorf("reason %q", r.Reason)
			}
		})
	}
}

// TestHTTPCredentialsEchoedBackAreRedacted: a target that echoes the
// request's headers into its body must not get the monitor's credentials
// into details (probe output) through a failing assertion's quoted value.
func TestHTTPCredentialsEchoedBackAreRedacted(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"auth": %q, "key": %q}`, r.Header.Get("Authorization"), r.Header.Get("X-Api-Key"))
	}))
	t.Cleanup(echo.Close)
	for _, tt := range []struct{ name, keys, path string }{
		{"basic auth", "basic_auth: {username: leakuser, password: CANARYbasicPASS}", "auth"},
		{"bearer token", "bearer_token: CANARYbearerTOKEN", "auth"},
		{"api key header", "headers: {X-Api-Key: CANARYheaderKEY}", "key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			spec := loadSpec(t, "http:\n  url: "+echo.URL+"\n  "+tt.keys+"\n  fail_if_body_json_not_matches: [{path: "+tt.path+", op: eq, value: nope}]")
			r := runCheck(t, spec, 2*time.Second)
			wantResult(t, r, StatusDown, "body JSON assertion failed")
			all := dumpDetails(r) + r.Reason + fmt.Sprint(r.Err)
			for _, canary := range []string{"CANARY", base64.StdEncoding.EncodeToString([]byte("leakuser:CANARYbasicPASS"))} {
				if strings.Contains(all, canary) {
					t.Errorf("credential %q reported:\n%s", canary, all)
				}
			}
			if !strings.Contains(all, "<secret>") {
				t.Errorf("the assertion no longer quotes the value it saw (redacted):\n%s", all)
			}
		})
	}
}

// TestHTTPSecretHeadersStayOnTheFirstHost: a redirect to another host
// carries none of the headers the monitor classes as secret (issue #13
// point 12: X-Api-Key and Private-Token reached a different host; Go's
// client strips only Authorization and Cookie), while a redirect on the
// same host keeps them and harmless headers always travel.
func TestHTTPSecretHeadersStayOnTheFirstHost(t *testing.T) {
	type seen struct{ apiKey, privateToken, auth, trace string }
	got := make(chan seen, 4)
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Header.Get("X-Api-Key"), r.Header.Get("Private-Token"), r.Header.Get("Authorization"), r.Header.Get("X-Trace")}
	})
	other := httptest.NewServer(record)
	t.Cleanup(other.Close)
	_, otherPort, _ := net.SplitHostPort(other.Listener.Addr().String())
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away": // another host name for the loopback address
			http.Redirect(w, r, "http://localhost:"+otherPort+"/", http.StatusFound)
		case "/here":
			http.Redirect(w, r, "/end", http.StatusFound)
		default:
			record(w, r)
		}
	}))
	t.Cleanup(first.Close)
	keys := "\n  preferred_ip_protocol: ip4\n  bearer_token: CANARYbearer\n  headers: {X-Api-Key: CANARYkey, Private-Token: CANARYtoken, X-Trace: abc}"

	r := runCheck(t, loadSpec(t, "http:\n  url: "+first.URL+"/away"+keys), 2*time.Second)
	wantResult(t, r, StatusUp, "")
	if s := <-got; s.apiKey != "" || s.privateToken != "" || s.auth != "" || s.trace != "abc" {
		t.Errorf("cross-host redirect: other host saw %+v, want no secret headers and X-Trace", s)
	}
	r = runCheck(t, loadSpec(t, "http:\n  url: "+first.URL+"/here"+keys), 2*time.Second)
	wantResult(t, r, StatusUp, "")
	if s := <-got; s.apiKey != "CANARYkey" || s.privateToken != "CANARYtoken" || s.auth != "Bearer CANARYbearer" {
		t.Errorf("same-host redirect: saw %+v, want every header kept", s)
	}
}

// slowFirstWrite delays each accepted connection's first write, which is
// the server's TLS handshake flight under a TLS listener.
type slowFirstWrite struct {
	net.Listener
	delay time.Duration
}

func (l slowFirstWrite) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &slowConn{Conn: c, delay: l.delay}, nil
}

type slowConn struct {
	net.Conn
	delay time.Duration
	once  sync.Once
}

func (c *slowConn) Write(p []byte) (int, error) {
	c.once.Do(func() { time.Sleep(c.delay) })
	return c.Conn.Write(p)
}

// TestHTTPTLSPhaseIsTheHandshake: the tls phase is the time the handshake
// took, as blackbox's TLSHandshakeStart/Done hooks measure it, also when
// the monitor's own dialer does the handshake (the transport's trace hooks
// then fire around a handshake that is already done).
func TestHTTPTLSPhaseIsTheHandshake(t *testing.T) {
	const delay = 150 * time.Millisecond
	ca := newCA(t)
	srv := httptest.NewUnstartedServer(okHandler())
	srv.Listener = slowFirstWrite{Listener: srv.Listener, delay: delay}
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.leaf(t, localhostFor(time.Now().Add(30*24*time.Hour)))}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	for _, keys := range []string{"", "\n  enable_http2: false"} {
		r := runCheck(t, loadSpec(t, "http:\n  url: "+srv.URL+"/\n  tls_config: {ca_file: "+ca.pemFile+"}"+keys), 5*time.Second)
		wantResult(t, r, StatusUp, "")
		if got := metric(t, r, "probe_http_duration_seconds", "tls"); got < delay.Seconds() {
			t.Errorf("%q: tls phase %vs, want at least the handshake's %v\n%s", keys, got, delay, dumpDetails(r))
		}
		if got := metric(t, r, "probe_http_duration_seconds", "processing"); got >= delay.Seconds() {
			t.Errorf("%q: processing phase %vs includes the handshake\n%s", keys, got, dumpDetails(r))
		}
	}
}

// TestHTTPConcurrentChecksShareNothingWritable: checks of one monitor may
// overlap, and they share the monitor's request headers and template. Run
// under -race, overlapping checks that follow a cross-host redirect (which
// strips secret headers) and a cookie-setting one must neither race nor
// see each other's changes: every request leaves with the credentials and
// headers configured, every cross-host one without the secrets.
func TestHTTPConcurrentChecksShareNothingWritable(t *testing.T) {
	var bad atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "" || r.Header.Get("Authorization") != "" || r.Header.Get("X-Trace") != "abc" {
			bad.Add(1)
		}
	}))
	t.Cleanup(other.Close)
	_, otherPort, _ := net.SplitHostPort(other.Listener.Addr().String())
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "s3cret" || r.Header.Get("X-Api-Key") != "CANARYkey" ||
			r.Header.Get("User-Agent") != userAgent || r.Host != "virtual.example" {
			bad.Add(1)
		}
		switch r.URL.Path {
		case "/start":
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "1"})
			http.Redirect(w, r, "/away", http.StatusFound)
		case "/away":
			if c, err := r.Cookie("session"); err != nil || c.Value != "1" {
				bad.Add(1)
			}
			http.Redirect(w, r, "http://localhost:"+otherPort+"/", http.StatusFound)
		}
	}))
	t.Cleanup(first.Close)
	spec := loadSpec(t, "http:\n  url: "+first.URL+"/start\n  preferred_ip_protocol: ip4\n"+
		"  basic_auth: {username: alice, password: s3cret}\n  headers: {X-Api-Key: CANARYkey, X-Trace: abc, Host: virtual.example}")
	m, err := New(spec, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				if r := m.Check(t.Context()); r.Status != StatusUp {
					t.Errorf("check: %s", dumpDetails(r))
				}
			}
		})
	}
	wg.Wait()
	if n := bad.Load(); n > 0 {
		t.Errorf("%d requests left with the wrong headers", n)
	}
}

// rawRequests accepts connections, reads one HTTP/1.1 request from each
// and sends its size (request line to the end of the body) on sizes before
// answering 200.
func rawRequests(tb testing.TB) (addr string, sizes <-chan int) {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = l.Close() })
	ch := make(chan int, 16)
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer func() { _ = conn.Close() }()
				var cr countingReader
				cr.r = conn
				req, err := http.ReadRequest(bufio.NewReaderSize(&cr, 1))
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, req.Body)
				ch <- cr.n
				_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
			}()
		}
	}()
	return l.Addr().String(), ch
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestHTTPWriteBufferHoldsTheRequest: the direct transport's write buffer,
// sized for the monitor's request, holds all of the first request as the
// transport writes it (so it leaves in one write, as with net/http's
// default buffer), with credentials, long headers, a body, or through a
// proxy (absolute URL).
func TestHTTPWriteBufferHoldsTheRequest(t *testing.T) {
	addr, sizes := rawRequests(t)
	long := strings.Repeat("v", 900)
	tests := []struct{ name, keys string }{
		{"get", ""},
		{"credentials and headers", "\n  bearer_token: " + long + "\n  headers: {X-One: " + long + ", X-Two: abc}"},
		{"body", "\n  method: POST\n  body: '" + strings.Repeat("b", 700) + "'"},
		{"proxy", "\n  proxy_url: http://" + addr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := loadSpec(t, "http:\n  url: http://"+addr+"/some/path?q=1"+tt.keys)
			mon, err := newHTTPMonitor(spec, Deps{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			m := mon.(*httpMonitor)
			if r := m.Check(t.Context()); r.Status != StatusUp {
				t.Fatalf("check: %s", dumpDetails(r))
			}
			size := m.direct.WriteBufferSize
			if size <= 0 || size >= 4096 {
				t.Fatalf("write buffer %d, want one sized for the request", size)
			}
			if got := <-sizes; got > size {
				t.Errorf("request of %d bytes, write buffer %d", got, size)
			}
		})
	}
}

// TestHTTPTargetAddressForms: the dialler reaches the target however the
// URL names it: an IPv4 literal (dialled as written), an IPv4-mapped IPv6
// literal (dialled as IPv4), an IPv6 literal and a name.
func TestHTTPTargetAddressForms(t *testing.T) {
	srv4 := testServer(t)
	_, port4, _ := net.SplitHostPort(srv4.Listener.Addr().String())
	tests := []struct{ name, url, ip string }{
		{"ipv4 literal", "http://127.0.0.1:" + port4 + "/ok", "127.0.0.1 (ip4)"},
		{"ipv4-mapped literal", "http://[::ffff:127.0.0.1]:" + port4 + "/ok", "127.0.0.1 (ip4)"},
		{"name", "http://localhost:" + port4 + "/ok\n  preferred_ip_protocol: ip4", "127.0.0.1 (ip4)"},
	}
	if l, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		srv6 := httptest.NewUnstartedServer(okHandler())
		srv6.Listener = l
		srv6.Start()
		t.Cleanup(srv6.Close)
		tests = append(tests, struct{ name, url, ip string }{"ipv6 literal", srv6.URL + "/", "::1 (ip6)"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCheck(t, loadSpec(t, "http:\n  url: "+tt.url), 2*time.Second)
			wantResult(t, r, StatusUp, "")
			if got, _ := detail(r, "ip"); got != tt.ip {
				t.Errorf("ip detail %q, want %q", got, tt.ip)
			}
		})
	}
}

// TestHTTPResponseLargerThanTheReadBuffer: headers and a chunked body
// larger than the direct transport's read buffer are read whole, and the
// header assertions see the long header.
func TestHTTPResponseLargerThanTheReadBuffer(t *testing.T) {
	long := strings.Repeat("x", 3*readBufferSize)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Long", long+"end")
		for i := range 5 {
			_, _ = io.WriteString(w, strings.Repeat("b", readBufferSize+i))
			w.(http.Flusher).Flush() // one chunk each
		}
	}))
	t.Cleanup(srv.Close)
	r := runCheck(t, loadSpec(t, "http:\n  url: "+srv.URL+"/\n  fail_if_header_not_matches: [{header: X-Long, regexp: 'x+end$'}]\n  fail_if_body_not_matches_regexp: ['^b+$']"), 2*time.Second)
	wantResult(t, r, StatusUp, "")
	if got, want := metric(t, r, "probe_http_uncompressed_body_length", ""), float64(5*readBufferSize+10); got != want {
		t.Errorf("body length %v, want %v", got, want)
	}
}

// TestPlainMonitorsShareATransport: plain-HTTP monitors share their direct
// transport (a transport per monitor kept ~1.2 KB alive each, #18), TLS
// ones keep their own, and concurrent checks through the shared one each
// see their own target and record their own phases.
func TestPlainMonitorsShareATransport(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer ok.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	defer bad.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer tlsSrv.Close()
	build := func(url string) *httpMonitor {
		t.Helper()
		spec := loadSpec(t, "http:\n  url: "+url+"\n  valid_status_codes: [200]")
		mon, err := newHTTPMonitor(spec, Deps{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		return mon.(*httpMonitor)
	}
	a, b, s := build(ok.URL+"/x"), build(bad.URL+"/x"), build(tlsSrv.URL+"/x")
	if a.direct != b.direct {
		t.Error("two plain-HTTP monitors with same-sized requests have transports of their own")
	}
	if s.direct == a.direct {
		t.Error("an https monitor shares the plain transport")
	}
	var wg sync.WaitGroup
	for range 20 {
		for _, m := range []*httpMonitor{a, b} {
			wg.Go(func() {
				r := m.Check(t.Context())
				want, code := StatusUp, 200.0
				if m == b {
					want, code = StatusDown, 503
				}
				if r.Status != want || metric(t, r, "probe_http_status_code", "") != code {
					t.Errorf("%s: %s, status code %v", m.cfg.URL, r.Status, metric(t, r, "probe_http_status_code", ""))
				}
				if !hasMetric(r, "probe_http_duration_seconds", "connect") {
					t.Errorf("%s: no connect phase", m.cfg.URL)
				}
			})
		}
	}
	wg.Wait()
}
