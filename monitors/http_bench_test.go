package monitors

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/statussync/statussync/config"
)

// probeTarget is where BenchmarkHTTPCheckVsNetHTTP sends its requests: the
// JSON `go run ./bench serve-target` prints, or an in-process httptest pair.
type probeTarget struct {
	HTTP, HTTPS string
	CertPEM     string
}

// benchTarget returns the target named by STATUSSYNC_PROBE_TARGET (a file
// holding serve-target's first line), so that the target's CPU is another
// process's and an instruction count (callgrind) sees only the client; else
// it starts one in this process.
func benchTarget(b *testing.B) probeTarget {
	b.Helper()
	if file := os.Getenv("STATUSSYNC_PROBE_TARGET"); file != "" {
		raw, err := os.ReadFile(file)
		if err != nil {
			b.Fatal(err)
		}
		var t probeTarget
		if err := json.Unmarshal(raw, &t); err != nil {
			b.Fatalf("STATUSSYNC_PROBE_TARGET %s: %v", file, err)
		}
		return t
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	plain, secure := httptest.NewServer(h), httptest.NewTLSServer(h)
	b.Cleanup(plain.Close)
	b.Cleanup(secure.Close)
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: secure.Certificate().Raw})
	return probeTarget{HTTP: plain.URL, HTTPS: secure.URL, CertPEM: string(cert)}
}

// BenchmarkHTTPCheckVsNetHTTP compares one scheduled check (no details,
// metrics recorded) with the bare net/http loop bench/probe.go measures
// against: one client with keep-alive off, the body read, the status
// checked. Compare allocs/op; for CPU, run it against an out-of-process
// target under callgrind, as the in-process target's work is counted too.
func BenchmarkHTTPCheckVsNetHTTP(b *testing.B) {
	target := benchTarget(b)
	caFile := filepath.Join(b.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, []byte(target.CertPEM), 0o600); err != nil {
		b.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(target.CertPEM)) {
		b.Fatal("target certificate unreadable")
	}
	for _, tc := range []struct {
		name, url, extra string
	}{
		{"http", target.HTTP + "/health", ""},
		{"https", target.HTTPS + "/health", ", tls_config: {ca_file: " + caFile + "}"},
	} {
		spec := loadSpec(b, fmt.Sprintf("http: {url: %q, valid_status_codes: [200]%s}", tc.url, tc.extra))
		metrics := NewMetrics(prometheus.NewRegistry())
		metrics.Init([]config.MonitorSpec{spec})
		mon, err := New(spec, Deps{Metrics: metrics})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name+"/statussync", func(b *testing.B) {
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), spec.Timeout)
				r := mon.Check(WithoutDetails(ctx))
				cancel()
				if r.Status != StatusUp {
					b.Fatalf("check: %s %v", r.Reason, r.Err)
				}
			}
		})
		client := &http.Client{
			Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{RootCAs: pool}},
			Timeout:   10 * time.Second,
		}
		b.Run(tc.name+"/net-http", func(b *testing.B) {
			for b.Loop() {
				req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, tc.url, nil)
				if err != nil {
					b.Fatal(err)
				}
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, err = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d, err %v", resp.StatusCode, err)
				}
			}
		})
	}
}
