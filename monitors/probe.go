package monitors

// Helpers shared by the http, tcp and dns kinds: address resolution as
// blackbox_exporter's chooseProtocol, TLS handshakes that keep the
// certificates even when verification fails, and turning errors into short
// publishable reasons.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/statussync/statussync/config"
)

// userAgent is sent by the http kind unless the configuration sets one.
const userAgent = "statussync"

// resolved is the outcome of resolving a target name.
type resolved struct {
	ip       net.IP
	protocol int // 4 or 6
	took     time.Duration
	// literal says the name was the address itself, not looked up.
	literal bool
}

// resolve picks the address to probe as blackbox's chooseProtocol does:
// without fallback it asks only for the preferred family; with fallback it
// takes the first address of the preferred family, else the first of the
// other.
func resolve(ctx context.Context, host, preferred string, fallback bool) (resolved, error) {
	return resolveSince(ctx, time.Now(), host, preferred, fallback)
}

// resolveSince is resolve for a caller that read the clock just before:
// took counts from start.
func resolveSince(ctx context.Context, start time.Time, host, preferred string, fallback bool) (resolved, error) {
	if ip, ok := literalIP(host, preferred, fallback); ok {
		return resolved{ip: ip, protocol: ipFamily(ip), took: time.Since(start), literal: true}, nil
	}
	return lookup(ctx, host, preferred, fallback, start)
}

// literalIP is what lookup finds for an IP literal that it resolves without
// error: the address itself, 16 bytes long as the resolver returns it. It
// leaves everything else to lookup, whose allocations it saves on every
// check of a monitor that names its target by address.
func literalIP(host, preferred string, fallback bool) (net.IP, bool) {
	a, err := netip.ParseAddr(host)
	if err != nil || a.Zone() != "" {
		return nil, false
	}
	// Without fallback the resolver keeps only the preferred family, and
	// it adds 0.0.0.0 to "::".
	if !fallback {
		v4 := a.Unmap().Is4()
		switch {
		case a.IsUnspecified():
			return nil, false
		case preferred == config.IPv4 && !v4, preferred == config.IPv6 && v4:
			return nil, false
		case preferred != config.IPv4 && preferred != config.IPv6:
			return nil, false
		}
	}
	b := a.As16()
	return net.IP(b[:]), true
}

// lookup is resolve through the resolver.
func lookup(ctx context.Context, host, preferred string, fallback bool, start time.Time) (resolved, error) {
	r := net.DefaultResolver
	if !fallback {
		ips, err := r.LookupIP(ctx, preferred, host)
		if err != nil {
			return resolved{took: time.Since(start)}, &resolveError{fmt.Errorf("resolve %s (%s only): %w", host, preferred, err)}
		}
		return resolved{ip: ips[0], protocol: ipFamily(ips[0]), took: time.Since(start)}, nil
	}
	addrs, err := r.LookupIPAddr(ctx, host)
	took := time.Since(start)
	if err != nil {
		return resolved{took: took}, &resolveError{fmt.Errorf("resolve %s: %w", host, err)}
	}
	var other net.IP
	for _, a := range addrs {
		if (ipFamily(a.IP) == 6) == (preferred == config.IPv6) {
			return resolved{ip: a.IP, protocol: ipFamily(a.IP), took: took}, nil
		}
		if other == nil {
			other = a.IP
		}
	}
	if other == nil {
		return resolved{took: took}, &resolveError{fmt.Errorf("resolve %s: no address", host)}
	}
	return resolved{ip: other, protocol: ipFamily(other), took: took}, nil
}

// resolveError marks a failure to find the target's address, so that its
// reason says so whatever the resolver's error was.
type resolveError struct{ err error }

func (e *resolveError) Error() string { return e.err.Error() }
func (e *resolveError) Unwrap() error { return e.err }

func ipFamily(ip net.IP) int {
	if ip.To4() != nil {
		return 4
	}
	return 6
}

// ipHash is blackbox's probe_ip_addr_hash: FNV-32a of the address, so a
// change of address shows as a change of value.
func ipHash(ip net.IP) float64 {
	h := fnv.New32a()
	if v4 := ip.To4(); v4 != nil {
		ip = v4
	}
	_, _ = h.Write(ip)
	return float64(h.Sum32())
}

// recordResolve sets blackbox's resolution metrics and the address detail.
func recordResolve(s *sample, d *details, r resolved, err error) {
	s.set("probe_dns_lookup_time_seconds", r.took.Seconds())
	if err != nil {
		return
	}
	s.set("probe_ip_protocol", float64(r.protocol))
	s.set("probe_ip_addr_hash", ipHash(r.ip))
	if d != nil {
		d.add("ip", fmt.Sprintf("%s (ip%d)", r.ip, r.protocol))
	}
}

// hostPort is net.JoinHostPort(ip.String(), port) in one allocation
// rather than two.
func hostPort(ip net.IP, port string) string {
	n, err := strconv.ParseUint(port, 10, 16)
	a, ok := netip.AddrFromSlice(ip)
	// A port with leading zeros would not print back as it was.
	if err != nil || !ok || (len(port) > 1 && port[0] == '0') {
		return net.JoinHostPort(ip.String(), port)
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(n)).String()
}

// probeDialer connects the http and tcp probes. A probe's connection
// carries one exchange and lives at most the check's timeout, so TCP
// keep-alive probes (which start after 15 s idle) could never tell it
// anything: they are off, which spares the four setsockopt calls per dial
// that enabling them costs (#18: a check's CPU, measured against the bare
// net/http loop, which pays them). The check's context bounds the dial.
var probeDialer = net.Dialer{KeepAlive: -1}

// dialNetwork returns "tcp4" or "tcp6" (or udp) for ip, so that a chosen
// family is really the one used.
func dialNetwork(base string, ip net.IP) string {
	v4 := ipFamily(ip) == 4
	switch {
	case base == "tcp" && v4:
		return "tcp4"
	case base == "tcp":
		return "tcp6"
	case base == "udp" && v4:
		return "udp4"
	case base == "udp":
		return "udp6"
	}
	return fmt.Sprintf("%s%d", base, ipFamily(ip))
}

// tlsInfo is what a TLS handshake showed, whether or not it succeeded.
type tlsInfo struct {
	version uint16
	cipher  uint16
	// certs are the peer's certificates, leaf first, even when they failed
	// verification.
	certs  []*x509.Certificate
	chains [][]*x509.Certificate
}

// handshake runs a TLS client handshake on conn bounded by ctx. It returns
// what it saw of the peer even when the handshake fails, so that an
// expired certificate still reports its date.
func handshake(ctx context.Context, conn net.Conn, cfg *tls.Config) (*tls.Conn, *tlsInfo, error) {
	tc := tls.Client(conn, cfg)
	err := tc.HandshakeContext(ctx)
	st := tc.ConnectionState()
	info := &tlsInfo{version: st.Version, cipher: st.CipherSuite, certs: st.PeerCertificates, chains: st.VerifiedChains}
	if err != nil {
		var cv *tls.CertificateVerificationError
		if errors.As(err, &cv) {
			info.certs = cv.UnverifiedCertificates
		}
		if len(info.certs) == 0 && info.version == 0 {
			info = nil
		}
		return nil, info, fmt.Errorf("tls handshake: %w", err)
	}
	return tc, info, nil
}

// tlsClientConfig returns the configured TLS settings with the server name
// defaulted to host, as blackbox does.
func tlsClientConfig(c *config.TLSConfig, host string) *tls.Config {
	cfg := c.Build()
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	return cfg
}

// earliestExpiry is blackbox's probe_ssl_earliest_cert_expiry: the earliest
// NotAfter over the peer's certificates.
func (t *tlsInfo) earliestExpiry() time.Time {
	var earliest time.Time
	for _, c := range t.certs {
		if !c.NotAfter.IsZero() && (earliest.IsZero() || c.NotAfter.Before(earliest)) {
			earliest = c.NotAfter
		}
	}
	return earliest
}

// lastChainExpiry is blackbox's probe_ssl_last_chain_expiry_timestamp_seconds:
// over the verified chains, the latest of each chain's earliest NotAfter.
func (t *tlsInfo) lastChainExpiry() time.Time {
	var last time.Time
	for _, chain := range t.chains {
		var earliest time.Time
		for _, c := range chain {
			if !c.NotAfter.IsZero() && (earliest.IsZero() || c.NotAfter.Before(earliest)) {
				earliest = c.NotAfter
			}
		}
		if last.IsZero() || last.Before(earliest) {
			last = earliest
		}
	}
	return last
}

// tlsVersionName spells versions as blackbox's probe_tls_version_info.
func tlsVersionName(v uint16) string {
	switch v {
	case tls.VersionTLS10:
		return "TLS 1.0"
	case tls.VersionTLS11:
		return "TLS 1.1"
	case tls.VersionTLS12:
		return "TLS 1.2"
	case tls.VersionTLS13:
		return "TLS 1.3"
	default:
		return "unknown"
	}
}

// recordTLS sets the TLS metrics and details of a handshake.
func recordTLS(s *sample, d *details, t *tlsInfo, now time.Time) {
	if t == nil {
		return
	}
	// d.add's argument would be boxed even for a nil d.
	if t.version != 0 {
		s.setLabel("probe_tls_version_info", tlsVersionName(t.version), 1)
		if d != nil {
			d.add("tls version", tlsVersionName(t.version))
		}
	}
	if t.cipher != 0 {
		s.setLabel("probe_tls_cipher_info", tls.CipherSuiteName(t.cipher), 1)
		if d != nil {
			d.add("tls cipher", tls.CipherSuiteName(t.cipher))
		}
	}
	if d != nil {
		for i, c := range t.certs {
			d.add(fmt.Sprintf("cert[%d]", i), describeCert(c, now))
		}
	}
	if e := t.earliestExpiry(); !e.IsZero() {
		s.set("probe_ssl_earliest_cert_expiry", float64(e.Unix()))
		if d != nil {
			d.add("earliest cert expiry", fmt.Sprintf("%s (%s)", e.UTC().Format(time.RFC3339), untilText(e.Sub(now))))
		}
	}
	// Without a verified chain blackbox would report the zero time; an
	// absent series is more honest than year 1.
	if e := t.lastChainExpiry(); !e.IsZero() {
		s.set("probe_ssl_last_chain_expiry_timestamp_seconds", float64(e.Unix()))
	}
}

func describeCert(c *x509.Certificate, now time.Time) string {
	names := ""
	if len(c.DNSNames) > 0 {
		names = " dns=" + strings.Join(c.DNSNames, ",")
	}
	return fmt.Sprintf("subject=%q issuer=%q%s not_after=%s (%s)",
		c.Subject.String(), c.Issuer.String(), names, c.NotAfter.UTC().Format(time.RFC3339), untilText(c.NotAfter.Sub(now)))
}

// untilText says how far away an expiry is, in days when it is days.
func untilText(d time.Duration) string {
	abs := d
	if abs < 0 {
		abs = -abs
	}
	var s string
	if abs >= 48*time.Hour {
		s = fmt.Sprintf("%dd", int(abs.Hours()/24))
	} else {
		s = abs.Round(time.Minute).String()
	}
	if d < 0 {
		return "expired " + s + " ago"
	}
	return "expires in " + s
}

// certValidity applies min_cert_validity: it returns a reason when the
// earliest certificate expires sooner than min.
func certValidity(t *tlsInfo, min time.Duration, now time.Time) string {
	if t == nil || min <= 0 {
		return ""
	}
	e := t.earliestExpiry()
	if e.IsZero() {
		return ""
	}
	left := e.Sub(now)
	switch {
	case left <= 0:
		return "certificate expired"
	case left < min:
		return fmt.Sprintf("certificate %s (under %s)", untilText(left), shortDuration(min))
	}
	return ""
}

func shortDuration(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// reasonFor turns a probe error into a short reason that is safe to publish:
// it names the kind of failure, never an address or a server's words.
func reasonFor(err error, now time.Time) string {
	var (
		invalid x509.CertificateInvalidError
		host    x509.HostnameError
		unknown x509.UnknownAuthorityError
		verify  *tls.CertificateVerificationError
		alert   tls.AlertError
		resErr  *resolveError
		dnsErr  *net.DNSError
		netErr  net.Error
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired && invalid.Cert != nil && invalid.Cert.NotBefore.After(now) {
			return "certificate not yet valid"
		}
		if invalid.Reason == x509.Expired {
			return "certificate expired"
		}
		return "certificate invalid"
	case errors.As(err, &host):
		return "certificate not valid for host name"
	case errors.As(err, &unknown):
		return "certificate signed by unknown authority"
	case errors.As(err, &verify):
		return "certificate verification failed"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return "host not found"
	case errors.As(err, &resErr), errors.As(err, &dnsErr):
		return "name resolution failed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "host unreachable"
	case errors.Is(err, syscall.ENETUNREACH):
		return "network unreachable"
	case errors.As(err, &alert), strings.Contains(err.Error(), "tls:"):
		return "TLS handshake failed"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	}
	return "connection failed"
}

// details collects Result.Details in the order they are added. A nil
// *details collects nothing: scheduled checks skip the strings (see
// WithoutDetails).
type details []Detail

func (d *details) add(key string, value any) {
	if d == nil {
		return
	}
	var s string
	switch v := value.(type) {
	case string:
		s = v
	case time.Duration:
		s = v.Round(time.Microsecond).String()
	default:
		s = fmt.Sprint(v)
	}
	*d = append(*d, Detail{Key: key, Value: s})
}

type noDetailsKey struct{}

// WithoutDetails marks checks run with ctx as not wanting Result.Details:
// the scheduler's checks, whose details nobody reads, skip building them.
// `statussync probe` and tests get them by default.
func WithoutDetails(ctx context.Context) context.Context {
	return context.WithValue(ctx, noDetailsKey{}, true)
}

func wantDetails(ctx context.Context) bool {
	quiet, _ := ctx.Value(noDetailsKey{}).(bool)
	return !quiet
}

// failure is the first failed check of a probe: its publishable reason and
// the detail saying which assertion failed.
type failure struct {
	reason string
	what   string
}

func (f *failure) fail(reason, what string) {
	if f.reason == "" {
		f.reason, f.what = reason, what
	}
}

func (f *failure) failed() bool { return f.reason != "" }
