package monitors

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/statussync/statussync/config"
)

// testCA is a certificate authority made for one test, with its
// certificate in a PEM file for tls_config.ca_file.
type testCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	pemFile string
}

var serial atomic.Int64

func nextSerial() *big.Int { return big.NewInt(serial.Add(1)) }

func newCA(tb testing.TB) *testCA {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: "statussync test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(10 * 365 * 24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	file := filepath.Join(tb.TempDir(), "ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pemFile: file}
}

// leafOpts says what a test certificate is valid for.
type leafOpts struct {
	dnsNames  []string
	ips       []net.IP
	notBefore time.Time
	notAfter  time.Time
}

// localhostFor returns leafOpts for 127.0.0.1 and localhost valid until
// notAfter.
func localhostFor(notAfter time.Time) leafOpts {
	return leafOpts{dnsNames: []string{"localhost"}, ips: []net.IP{net.IPv4(127, 0, 0, 1)}, notAfter: notAfter}
}

// leaf issues a server certificate; the chain sent includes the CA, so
// probe_ssl_earliest_cert_expiry sees both.
func (ca *testCA) leaf(tb testing.TB, o leafOpts) tls.Certificate {
	tb.Helper()
	return issue(tb, o, ca.cert, ca.key)
}

// selfSigned issues a certificate signed by its own key.
func selfSigned(tb testing.TB, o leafOpts) tls.Certificate {
	tb.Helper()
	return issue(tb, o, nil, nil)
}

func issue(tb testing.TB, o leafOpts, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) tls.Certificate {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	if o.notBefore.IsZero() {
		o.notBefore = time.Now().Add(-24 * time.Hour)
		if o.notAfter.Before(o.notBefore) {
			o.notBefore = o.notAfter.Add(-24 * time.Hour)
		}
	}
	cn := "test"
	if len(o.dnsNames) > 0 {
		cn = o.dnsNames[0]
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(),
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     o.dnsNames,
		IPAddresses:  o.ips,
		NotBefore:    o.notBefore,
		// Whole seconds, so the expiry metric compares exactly.
		NotAfter:    o.notAfter.Truncate(time.Second),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		tb.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	chain := [][]byte{der}
	if parent != nil {
		chain = append(chain, parent.Raw)
	}
	return tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}
}

// loadSpec loads a configuration with one monitor given as YAML (the
// monitor's keys, indented under "- ") through config.Load, as production
// does, and returns its validated spec.
func loadSpec(tb testing.TB, monitorYAML string) config.MonitorSpec {
	tb.Helper()
	var b strings.Builder
	b.WriteString("monitors:\n  - name: probe\n    interval: 10s\n    timeout: 2s\n")
	for _, line := range strings.Split(strings.TrimSpace(monitorYAML), "\n") {
		b.WriteString("    " + line + "\n")
	}
	file := filepath.Join(tb.TempDir(), "config.yml")
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	cfg, err := config.Load(file, nil)
	if err != nil {
		tb.Fatalf("load config:\n%s\n%v", b.String(), err)
	}
	return cfg.Monitors[0]
}

// runCheck builds the monitor of spec and runs one check with timeout.
func runCheck(tb testing.TB, spec config.MonitorSpec, timeout time.Duration) Result {
	tb.Helper()
	m, err := New(spec, Deps{})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return m.Check(ctx)
}

// detail returns the first value of key in r's details.
func detail(r Result, key string) (string, bool) {
	for _, d := range r.Details {
		if d.Key == key {
			return d.Value, true
		}
	}
	return "", false
}

// metric returns a probe gauge of r's sample.
func metric(tb testing.TB, r Result, family, extra string) float64 {
	tb.Helper()
	if r.sample == nil {
		tb.Fatalf("result has no metrics sample")
	}
	v, ok := r.sample.value(family, extra)
	if !ok {
		tb.Fatalf("metric %s{%q} not set; details:\n%s", family, extra, dumpDetails(r))
	}
	return v
}

func hasMetric(r Result, family, extra string) bool {
	if r.sample == nil {
		return false
	}
	_, ok := r.sample.value(family, extra)
	return ok
}

func dumpDetails(r Result) string {
	var b strings.Builder
	b.WriteString("status: " + r.Status.String() + "\nreason: " + r.Reason + "\n")
	for _, d := range r.Details {
		b.WriteString(d.Key + ": " + d.Value + "\n")
	}
	return b.String()
}

// wantResult fails unless r has the status and reason given.
func wantResult(tb testing.TB, r Result, status Status, reason string) {
	tb.Helper()
	if r.Status != status || r.Reason != reason {
		tb.Fatalf("got %s %q, want %s %q\n%s", r.Status, r.Reason, status, reason, dumpDetails(r))
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func writeFile(path, content string) error { return os.WriteFile(path, []byte(content), 0o600) }
