package monitors

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/statussync/statussync/config"
)

// httpMonitor checks an HTTP(S) endpoint as blackbox_exporter's http
// prober does. The monitor's transports have keep-alives off, so every
// check opens a fresh connection: timings include a real connect and
// handshake, and a broken keep-alive connection can never hide an outage.
// The transports are built once per monitor; what one check records travels
// in its request's context.
type httpMonitor struct {
	cfg    *config.HTTPProbe
	logger *slog.Logger
	// firstAddr is the URL's host:port; the TLS server name override
	// (server_name or a Host header) applies only to it, as in blackbox.
	firstAddr            string
	firstHost, firstPort string
	urlHost, urlScheme   string // the configured URL's
	hostHeader           string
	// headers are every check's request headers, credentials included.
	// Checks share them read-only (see newRequest).
	headers http.Header
	// template is the request every check copies, nil with a body.
	template *http.Request
	// points is the number of probe gauges a check usually sets: its
	// sample is allocated once at that size.
	points int
	// redact hides this monitor's own credentials wherever a check reports
	// text that came from the target: a target that echoes request headers
	// would otherwise put them into details, logs and `probe` output.
	redact *strings.Replacer

	// direct carries requests to firstAddr, with the server name
	// override; other, built on first use, carries redirects elsewhere.
	direct    *http.Transport
	otherOnce sync.Once
	other     *http.Transport
	// firstTLS is the TLS configuration for firstAddr, built once.
	firstTLS *tls.Config
}

// secretHeader reports whether a configured header is likely a credential.
func secretHeader(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"authorization", "cookie", "token", "secret", "key", "auth", "session", "password"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// newRedactor replaces every form in which the monitor's credentials can
// travel: the basic-auth password, the encoded user:password, the bearer
// token, and the values of credential-like headers.
func newRedactor(c *config.HTTPProbe) *strings.Replacer {
	var secrets []string
	if a := c.BasicAuth; a != nil && a.Secret() != "" {
		secrets = append(secrets,
			base64.StdEncoding.EncodeToString([]byte(a.Username+":"+a.Secret().Reveal())),
			a.Secret().Reveal())
	}
	if tok := c.Token(); tok != "" {
		secrets = append(secrets, tok.Reveal())
	}
	if u := c.ParsedURL(); u != nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			secrets = append(secrets, pw)
		}
	}
	for k, v := range c.Headers {
		if secretHeader(k) && v != "" {
			secrets = append(secrets, v)
		}
	}
	// Longest first, so an encoded form is replaced whole before any of
	// its parts.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	var pairs []string
	for _, sec := range secrets {
		if len(sec) >= 4 { // shorter ones would garble unrelated text
			pairs = append(pairs, sec, "<secret>")
		}
	}
	return strings.NewReplacer(pairs...)
}

var _ Monitor = (*httpMonitor)(nil)

func newHTTPMonitor(spec config.MonitorSpec, deps Deps) (Monitor, error) {
	c := spec.HTTP
	if c == nil || c.ParsedURL() == nil {
		return nil, errors.New("http: configuration was not validated")
	}
	u := c.ParsedURL()
	port := u.Port()
	if port == "" {
		port = defaultPort(u.Scheme)
	}
	m := &httpMonitor{
		cfg:       c,
		logger:    deps.Logger,
		firstAddr: net.JoinHostPort(u.Hostname(), port),
		firstHost: u.Hostname(),
		firstPort: port,
		urlHost:   u.Host,
		urlScheme: u.Scheme,
		redact:    newRedactor(c),
		// blackbox's probe_failed_due_to_regex, dns_lookup_time_seconds,
		// ip_protocol, ip_addr_hash, five phases, status_code,
		// content_length, uncompressed_body_length, redirects, version
		// and ssl; with TLS also tls_version_info, tls_cipher_info,
		// ssl_earliest_cert_expiry and ssl_last_chain_expiry.
		points: 15,
	}
	if u.Scheme == "https" {
		m.points += 4
	}
	// The headers as the request would have them: the configured ones,
	// the default User-Agent, then basic auth and the bearer token, which
	// replace a configured Authorization in that order.
	req, err := http.NewRequest(c.Method, c.URL, nil)
	if err != nil {
		// Every check fails the same way (see Check).
		req = &http.Request{Header: http.Header{}}
	}
	for k, v := range c.Headers {
		if textproto.CanonicalMIMEHeaderKey(k) == "Host" {
			m.hostHeader = v
			continue
		}
		req.Header.Set(k, v)
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", userAgent)
	}
	if a := c.BasicAuth; a != nil {
		req.SetBasicAuth(a.Username, a.Secret().Reveal())
	}
	if tok := c.Token(); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok.Reveal())
	}
	m.headers = req.Header
	if m.hostHeader != "" {
		req.Host = m.hostHeader
	}
	if err == nil && c.RequestBody() == nil {
		m.template = req
	}
	if u.Scheme == "https" {
		m.firstTLS = m.tlsConfig(u.Hostname(), true)
	}
	writeBuf := requestBufferSize(req, c.URL, len(c.RequestBody()))
	if u.Scheme == "http" && c.Proxy() == nil {
		m.direct = plainTransport(writeBuf)
		return m, nil
	}
	// HTTP/2 is set up only where it can be used: over TLS, on request.
	m.direct = m.transport(true, c.HTTP2() && u.Scheme == "https")
	m.direct.WriteBufferSize = writeBuf
	m.direct.ReadBufferSize = readBufferSize
	return m, nil
}

// plainTransports are the direct transports of plain-HTTP monitors without
// a proxy, shared by every such monitor with the same write buffer size
// (rounded up to 512 bytes, so there are a few). Nothing in them belongs to
// a monitor: keep-alives are off, so no connection is ever reused, and the
// dial functions take the monitor from the check in the request's
// context. One transport per monitor kept ~1.2 KB of maps and the last
// dial's wait record (holding its request context) alive per monitor: ~12
// MB at 10,000 monitors (#18). Monitors with TLS or a proxy keep their own,
// whose TLS settings and HTTP/2 connection pool are theirs.
var plainTransports struct {
	mu     sync.Mutex
	bySize map[int]*http.Transport
}

func plainTransport(writeBuf int) *http.Transport {
	if writeBuf > 0 {
		writeBuf = min((writeBuf+511)/512*512, defaultBufferSize)
	}
	plainTransports.mu.Lock()
	defer plainTransports.mu.Unlock()
	if t, ok := plainTransports.bySize[writeBuf]; ok {
		return t
	}
	if plainTransports.bySize == nil {
		plainTransports.bySize = map[int]*http.Transport{}
	}
	t := &http.Transport{
		DialContext: viaCheck(false),
		// A redirect to https on the first host:port still comes here.
		DialTLSContext:     viaCheck(true),
		DisableKeepAlives:  true,
		DisableCompression: true,
		WriteBufferSize:    writeBuf,
		ReadBufferSize:     readBufferSize,
	}
	plainTransports.bySize[writeBuf] = t
	return t
}

// viaCheck returns a shared transport's dial function (with TLS or
// without): it dials for the check in the request's context.
func viaCheck(tls bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, ok := ctx.Value(httpCheckKey{}).(*httpCheck)
		switch {
		case !ok:
			return nil, errors.New("http: dial without a check") // not reached
		case tls:
			return c.m.dialTLS(true)(ctx, network, addr)
		}
		return c.dial(ctx, network, addr)
	}
}

// defaultBufferSize is net/http's Transport buffer size (4 KiB).
const defaultBufferSize = 4 << 10

// readBufferSize is the direct transport's read buffer, allocated for
// every check like the write buffer: half of net/http's default, which
// holds a probe's status line and headers; longer headers take more than
// one read, and bodies are copied past the buffer in any case. A chunked
// body's chunk-size lines must fit in it (they are a few bytes; net/http
// allows at most 4 KiB).
const readBufferSize = 2 << 10

// requestBufferSize returns a write buffer size that holds the whole of
// the first request as the transport writes it: its request line, headers
// and body, and room for what the transport adds (Connection: close,
// Content-Length, an absolute URL through a proxy). The transport
// allocates the buffer for every connection, that is every check, and a
// probe's request is a few hundred bytes; it is never made larger than
// net/http's default. Redirected requests that outgrow it are written in
// more than one piece, as ones larger than the default always are.
func requestBufferSize(req *http.Request, rawURL string, bodyLen int) int {
	var n byteCounter
	if err := req.Write(&n); err != nil {
		return 0 // the default
	}
	size := int(n) + bodyLen + len(rawURL) + 128
	if size >= defaultBufferSize {
		return 0
	}
	return size
}

// byteCounter is an io.Writer that counts what is written to it.
type byteCounter int

func (n *byteCounter) Write(p []byte) (int, error) {
	*n += byteCounter(len(p))
	return len(p), nil
}

// otherTransport returns the transport for redirects to other hosts.
func (m *httpMonitor) otherTransport() *http.Transport {
	m.otherOnce.Do(func() { m.other = m.transport(false, m.cfg.HTTP2()) })
	return m.other
}

// roundTrip holds the timings of one request of a check (one per redirect).
type roundTrip struct {
	tls                                            bool
	start, dnsDone, connectDone, tlsStart, tlsDone time.Time
	gotConn, responseStart, end                    time.Time
	tlsInfo                                        *tlsInfo
}

// httpCheck is the state of one check: its client, the per-request traces
// and what resolution found. It is the check's RoundTripper and rides in the
// request's context to the monitor's dial functions and CheckRedirect. It
// holds in one allocation what most checks need (one request, no cookie),
// in 512 bytes: up to that size malloc keeps an object's pointer bitmap in
// its span, without a header.
type httpCheck struct {
	m      *httpMonitor
	client http.Client
	jar    lazyJar
	trace  httptrace.ClientTrace
	// redirects is set by CheckRedirect, on the goroutine that runs Do.
	redirects int32

	mu       sync.Mutex
	resolved bool          // first is set
	trips    []*roundTrip  // one per request; the last is the current one
	firstRT  roundTrip     // the first request's trip
	tripsBuf [1]*roundTrip // trips' room for it
	first    resolved      // first resolution, for probe_dns_lookup_time_seconds
	resErr   error
}

type httpCheckKey struct{}

// newCheck returns a check whose client and trace hooks are bound to it.
func (m *httpMonitor) newCheck() *httpCheck {
	c := &httpCheck{m: m}
	c.trips = c.tripsBuf[:0]
	c.client = http.Client{Transport: c, Jar: &c.jar, CheckRedirect: m.checkRedirect}
	c.trace = httptrace.ClientTrace{
		GotConn:              func(httptrace.GotConnInfo) { c.at(func(rt *roundTrip) { rt.gotConn = time.Now() }) },
		GotFirstResponseByte: func() { c.at(func(rt *roundTrip) { rt.responseStart = time.Now() }) },
	}
	if m.cfg.Proxy() == nil {
		// dialTLS did every handshake and timed it. The transport still
		// calls the TLS hooks around the *tls.Conn it got, for a handshake
		// that is already done: they would replace the handshake's time
		// with a few microseconds.
		return c
	}
	// Through a proxy the transport does the target's handshake itself;
	// only these hooks see it.
	c.trace.TLSHandshakeStart = func() { c.at(func(rt *roundTrip) { rt.tlsStart = time.Now() }) }
	c.trace.TLSHandshakeDone = func(cs tls.ConnectionState, err error) {
		c.at(func(rt *roundTrip) {
			rt.tlsDone = time.Now()
			info := &tlsInfo{version: cs.Version, cipher: cs.CipherSuite, certs: cs.PeerCertificates, chains: cs.VerifiedChains}
			var cv *tls.CertificateVerificationError
			if errors.As(err, &cv) {
				info.certs = cv.UnverifiedCertificates
			}
			rt.tlsInfo = info
		})
	}
	return c
}

// checkOf returns the check a dial or redirect belongs to.
func checkOf(ctx context.Context, m *httpMonitor) *httpCheck {
	if c, ok := ctx.Value(httpCheckKey{}).(*httpCheck); ok {
		return c
	}
	return m.newCheck() // not reached: every request carries its check
}

// newTrip starts the trip of a new request. The caller holds mu.
func (c *httpCheck) newTrip(tls bool) *roundTrip {
	rt := &c.firstRT
	if len(c.trips) > 0 {
		rt = &roundTrip{}
	}
	rt.tls = tls
	c.trips = append(c.trips, rt)
	return rt
}

// currentTrip returns the current request's trip, starting one if none
// has. The caller holds mu.
func (c *httpCheck) currentTrip() *roundTrip {
	if len(c.trips) == 0 {
		return c.newTrip(false)
	}
	return c.trips[len(c.trips)-1]
}

func (c *httpCheck) trip() *roundTrip {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.currentTrip()
}

// at applies f to the current trip under mu.
func (c *httpCheck) at(f func(rt *roundTrip)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(c.currentTrip())
}

// RoundTrip starts a new trace for each request, redirects included, and
// sends requests to hosts other than the first without the server name
// override.
func (c *httpCheck) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.newTrip(req.URL.Scheme == "https")
	c.mu.Unlock()
	if c.m.isFirstAddr(req.URL) {
		return c.m.direct.RoundTrip(req)
	}
	return c.m.otherTransport().RoundTrip(req)
}

// isFirstAddr reports whether u's host:port (with the scheme's default
// port) is firstAddr.
func (m *httpMonitor) isFirstAddr(u *url.URL) bool {
	if u.Host == m.urlHost && u.Scheme == m.urlScheme {
		return true // the configured URL's, or a redirect's to the same place
	}
	port := u.Port()
	if port == "" {
		port = defaultPort(u.Scheme)
	}
	return port == m.firstPort && u.Hostname() == m.firstHost
}

func defaultPort(scheme string) string {
	switch scheme {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

// checkRedirect follows at most the configured number of redirects and
// keeps credentials on the first host.
func (m *httpMonitor) checkRedirect(req *http.Request, via []*http.Request) error {
	checkOf(req.Context(), m).redirects = int32(len(via))
	if len(via) > m.cfg.Redirects() {
		return http.ErrUseLastResponse
	}
	stripSecretHeaders(req, via)
	return nil
}

// dial resolves host as blackbox's chooseProtocol and connects, recording
// the resolve and connect phases in the check the context carries.
func (m *httpMonitor) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	return checkOf(ctx, m).dial(ctx, network, addr)
}

func (c *httpCheck) dial(ctx context.Context, _, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	c.mu.Lock()
	rt := c.currentTrip()
	rt.start = start
	c.mu.Unlock()
	r, err := resolveSince(ctx, start, host, c.m.cfg.PreferredIPProtocol, c.m.cfg.Fallback())
	c.mu.Lock()
	rt.dnsDone = start.Add(r.took) // when resolveSince took its time
	if !c.resolved {
		c.first, c.resErr, c.resolved = r, err, true
	}
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	// An IPv4 literal is already written as hostPort would write it.
	dialAddr := addr
	if !r.literal || r.protocol != 4 || strings.Contains(host, ":") {
		dialAddr = hostPort(r.ip, port)
	}
	conn, err := probeDialer.DialContext(ctx, dialNetwork("tcp", r.ip), dialAddr)
	c.mu.Lock()
	rt.connectDone = time.Now()
	c.mu.Unlock()
	return conn, err
}

// dialTLS connects and does the TLS handshake itself, so that the peer's
// certificates are kept even when verification fails.
func (m *httpMonitor) dialTLS(override bool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c := checkOf(ctx, m)
		conn, err := c.dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		host, _, _ := net.SplitHostPort(addr)
		cfg := m.firstTLS
		if cfg == nil || !override || addr != m.firstAddr {
			cfg = m.tlsConfig(host, override)
		}
		rt := c.trip()
		c.mu.Lock()
		rt.tlsStart = time.Now()
		c.mu.Unlock()
		tc, info, err := handshake(ctx, conn, cfg)
		c.mu.Lock()
		rt.tlsDone, rt.tlsInfo = time.Now(), info
		c.mu.Unlock()
		if err != nil {
			_ = conn.Close()
			return nil, err
		}
		return tc, nil
	}
}

// tlsConfig returns the TLS settings for a connection to host; override
// says whether server_name or the Host header apply (first host only).
func (m *httpMonitor) tlsConfig(host string, override bool) *tls.Config {
	cfg := m.cfg.TLSConfig.Build()
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	switch {
	case !override:
		cfg.ServerName = host
	case cfg.ServerName != "":
	case m.hostHeader != "":
		h, _, err := net.SplitHostPort(m.hostHeader)
		if err != nil {
			h = m.hostHeader
		}
		cfg.ServerName = h
	default:
		cfg.ServerName = host
	}
	if m.cfg.HTTP2() {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	} else {
		cfg.NextProtos = []string{"http/1.1"}
	}
	return cfg
}

func (m *httpMonitor) transport(override, http2 bool) *http.Transport {
	t := &http.Transport{
		DialContext:       m.dial,
		DialTLSContext:    m.dialTLS(override),
		DisableKeepAlives: true,
		// As blackbox (via prometheus/common): the body is measured and
		// matched as sent.
		DisableCompression: true,
		ForceAttemptHTTP2:  http2,
	}
	if p := m.cfg.Proxy(); p != nil {
		t.Proxy = http.ProxyURL(p)
		t.ForceAttemptHTTP2 = m.cfg.HTTP2()
		// Through a proxy the transport does the target's handshake (its
		// trace hooks record it); an empty server name means the
		// request's host.
		t.TLSClientConfig = m.tlsConfig("", override)
		t.TLSClientConfig.NextProtos = nil
	}
	return t
}

// newRequest returns the check's request: a copy of the monitor's template
// with ctx, or, for a request body, a request of its own. The header is the
// monitor's, shared by all checks: neither the client nor the transports
// write to a request's header, and a redirect gets a copy.
func (m *httpMonitor) newRequest(ctx context.Context) (*http.Request, error) {
	if m.template != nil {
		return m.template.WithContext(ctx), nil
	}
	var body io.Reader
	if b := m.cfg.RequestBody(); b != nil {
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, m.cfg.Method, m.cfg.URL, body)
	if err != nil {
		return nil, err
	}
	req.Header = m.headers
	if m.hostHeader != "" {
		req.Host = m.hostHeader
	}
	return req, nil
}

func (m *httpMonitor) Check(ctx context.Context) Result {
	start := time.Now()
	cfg := m.cfg
	s := &sample{points: make([]point, 0, m.points)}
	// Details cost strings on every check; scheduled checks ask for none.
	var d *details
	if wantDetails(ctx) {
		d = &details{}
		d.add("url", config.RedactURL(cfg.URL))
	}
	var f failure

	c := m.newCheck()
	reqCtx := httptrace.WithClientTrace(context.WithValue(ctx, httpCheckKey{}, c), &c.trace)
	req, err := m.newRequest(reqCtx)
	if err != nil {
		return Result{Status: StatusDown, Reason: "invalid request", Err: fmt.Errorf("http: build request: %w", err), sample: s}
	}

	s.set("probe_failed_due_to_regex", 0)
	resp, err := c.client.Do(req)
	var bodyBytes int64
	var proto string
	var end time.Time
	if err != nil {
		end = time.Now()
		f.fail(reasonFor(err, end), "request failed")
		m.logger.Debug("http request failed", "err", err)
	} else {
		bodyBytes, proto = m.checkResponse(resp, s, d, &f)
		end = time.Now()
		c.mu.Lock()
		if n := len(c.trips); n > 0 {
			c.trips[n-1].end = end
		}
		c.mu.Unlock()
	}
	latency := end.Sub(start)
	redirects := int(c.redirects)

	// Blackbox reports what it saw even for a failed request: an empty
	// response's zeros, and the timings of the phases that happened. A
	// dial the transport gave up on may still be writing to its trip, so
	// the trips are copied under mu.
	var tripsBuf [2]roundTrip
	c.mu.Lock()
	trips := tripsBuf[:0]
	for _, t := range c.trips {
		trips = append(trips, *t)
	}
	first, resolved, resErr := c.first, c.resolved, c.resErr
	c.mu.Unlock()
	if resolved {
		recordResolve(s, d, first, resErr)
	}
	m.recordPhases(s, d, trips)
	status, contentLength := 0, int64(0)
	if resp != nil {
		status, contentLength = resp.StatusCode, resp.ContentLength
	}
	if resp != nil && d != nil {
		d.add("redirects", redirects)
		d.add("status code", status)
		d.add("http version", proto)
		d.add("content length", contentLength)
		d.add("body bytes", bodyBytes)
	}
	addPoint(s, "probe_http_status_code", "", float64(status))
	addPoint(s, "probe_http_content_length", "", float64(contentLength))
	addPoint(s, "probe_http_uncompressed_body_length", "", float64(bodyBytes))
	addPoint(s, "probe_http_redirects", "", float64(redirects))
	addPoint(s, "probe_http_version", "", httpVersion(proto))

	// TLS: the final request's handshake, also when it failed
	// verification, so an expired certificate still shows its date.
	var info *tlsInfo
	if n := len(trips); n > 0 {
		info = trips[n-1].tlsInfo
	}
	var now time.Time // for certificates only
	if info != nil {
		now = time.Now()
	}
	if resp != nil && resp.TLS != nil {
		addPoint(s, "probe_http_ssl", "", 1)
		if cfg.FailIfSSL {
			f.fail("TLS used (fail_if_ssl)", "fail_if_ssl: final request was over TLS")
		}
	} else {
		addPoint(s, "probe_http_ssl", "", 0)
		if resp != nil && cfg.FailIfNotSSL {
			f.fail("TLS not used (fail_if_not_ssl)", "fail_if_not_ssl: final request was not over TLS")
		}
	}
	recordTLS(s, d, info, now)

	r := Result{Status: StatusUp, Latency: latency, sample: s}
	if f.failed() {
		r.Status, r.Reason = StatusDown, f.reason
		what := m.redact.Replace(f.what)
		if d != nil {
			d.add("assertion failed", what)
		}
		m.logger.Debug("http check failed", "reason", f.reason, "assertion", what)
	} else if why := certValidity(info, time.Duration(cfg.MinCertValidity), now); why != "" {
		r.Status, r.Reason = StatusDegraded, why
		if d != nil {
			d.add("degraded", why+" (min_cert_validity)")
		}
	}
	if err != nil {
		r.Err = fmt.Errorf("http: %w", err)
		if d != nil {
			d.add("error", err.Error())
		}
	}
	if d != nil {
		for i := range *d {
			(*d)[i].Value = m.redact.Replace((*d)[i].Value)
		}
		r.Details = *d
	}
	return r
}

// stripSecretHeaders removes every header secretHeader classes as a
// credential (X-Api-Key, Private-Token, Authorization, Cookie, ...) from a
// redirect once the chain has left the first request's host. Go's client
// strips only Authorization, WWW-Authenticate and Cookie, and keeps them for
// subdomains; a configured API key must not reach another host either.
func stripSecretHeaders(req *http.Request, via []*http.Request) {
	first := via[0].URL.Hostname()
	left := !strings.EqualFold(req.URL.Hostname(), first)
	for _, v := range via[1:] {
		left = left || !strings.EqualFold(v.URL.Hostname(), first)
	}
	if !left {
		return
	}
	for k := range req.Header {
		if secretHeader(k) {
			req.Header.Del(k)
		}
	}
}

// lazyJar is a cookie jar that exists only once a response sets a cookie:
// most checks never see one, and a jar per check is garbage.
type lazyJar struct{ jar *cookiejar.Jar }

func (j *lazyJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	if j.jar == nil {
		j.jar, _ = cookiejar.New(nil)
	}
	j.jar.SetCookies(u, cookies)
}

func (j *lazyJar) Cookies(u *url.URL) []*http.Cookie {
	if j.jar == nil {
		return nil
	}
	return j.jar.Cookies(u)
}

// checkResponse applies blackbox's checks in blackbox's order: status code,
// headers, body regexps, JSON assertions, the body read itself, HTTP
// version. It returns the body bytes read and the protocol.
func (m *httpMonitor) checkResponse(resp *http.Response, s *sample, d *details, f *failure) (int64, string) {
	cfg := m.cfg
	defer func() { _ = resp.Body.Close() }()
	if len(cfg.ValidStatusCodes) > 0 {
		if !slices.Contains(cfg.ValidStatusCodes, resp.StatusCode) {
			f.fail(fmt.Sprintf("HTTP %d", resp.StatusCode), fmt.Sprintf("status %d not in valid_status_codes %v", resp.StatusCode, cfg.ValidStatusCodes))
		}
	} else if resp.StatusCode < 200 || resp.StatusCode > 299 {
		f.fail(fmt.Sprintf("HTTP %d", resp.StatusCode), fmt.Sprintf("status %d is not 2xx", resp.StatusCode))
	}

	if !f.failed() && (len(cfg.FailIfHeaderMatches) > 0 || len(cfg.FailIfHeaderNotMatches) > 0) {
		if reason, what := checkHeaders(resp.Header, cfg); reason != "" {
			f.fail(reason, what)
			s.set("probe_failed_due_to_regex", 1)
		}
	}

	var r io.Reader = resp.Body
	limit := int64(cfg.BodySizeLimit)
	if limit > 0 {
		r = io.LimitReader(resp.Body, limit+1)
	}
	needBody := len(cfg.FailIfBodyMatchesRegexp)+len(cfg.FailIfBodyNotMatchesRegexp)+
		len(cfg.FailIfBodyJSONMatches)+len(cfg.FailIfBodyJSONNotMatches) > 0
	var body []byte
	var n int64
	var readErr error
	if needBody {
		body, readErr = io.ReadAll(r)
		n = int64(len(body))
	} else {
		n, readErr = io.Copy(io.Discard, r)
	}
	tooBig := limit > 0 && n > limit
	if tooBig {
		n, body = limit, body[:min(int64(len(body)), limit)]
	}

	if !f.failed() && readErr == nil && !tooBig && (len(cfg.FailIfBodyMatchesRegexp) > 0 || len(cfg.FailIfBodyNotMatchesRegexp) > 0) {
		if reason, what := checkBody(body, cfg); reason != "" {
			f.fail(reason, what)
			s.set("probe_failed_due_to_regex", 1)
		}
	}
	if !f.failed() && readErr == nil && !tooBig && (len(cfg.FailIfBodyJSONMatches) > 0 || len(cfg.FailIfBodyJSONNotMatches) > 0) {
		if reason, what := checkJSON(body, cfg); reason != "" {
			f.fail(reason, what)
		}
	}
	switch {
	case tooBig:
		f.fail("body exceeds size limit", fmt.Sprintf("body_size_limit: body is over %d bytes", limit))
	case readErr != nil:
		f.fail(reasonFor(readErr, time.Now()), "reading body failed")
		m.logger.Debug("http body read failed", "err", readErr)
	}
	if len(cfg.ValidHTTPVersions) > 0 && !slices.Contains(cfg.ValidHTTPVersions, resp.Proto) {
		f.fail(fmt.Sprintf("HTTP version %s not accepted", resp.Proto), fmt.Sprintf("valid_http_versions %v does not include %s", cfg.ValidHTTPVersions, resp.Proto))
	}
	// Most responses have no Last-Modified, and parsing "" fails three
	// times over with an error each.
	if lm := resp.Header.Get("Last-Modified"); lm != "" {
		if t, err := http.ParseTime(lm); err == nil {
			s.set("probe_http_last_modified_timestamp_seconds", float64(t.Unix()))
		}
	}
	return n, resp.Proto
}

// checkHeaders applies fail_if_header_matches and
// fail_if_header_not_matches with blackbox's rules: a missing header fails
// unless allow_missing; for several values, matches fails if any value
// matches and not_matches fails if none does.
func checkHeaders(h http.Header, cfg *config.HTTPProbe) (reason, what string) {
	for _, hm := range cfg.FailIfHeaderMatches {
		values := h.Values(hm.Header)
		if len(values) == 0 {
			if !hm.AllowMissing {
				return fmt.Sprintf("header %s missing", hm.Header), fmt.Sprintf("fail_if_header_matches: header %s is missing", hm.Header)
			}
			continue
		}
		for _, v := range values {
			if hm.Regexp.MatchString(v) {
				return fmt.Sprintf("header %s matched forbidden pattern", hm.Header),
					fmt.Sprintf("fail_if_header_matches: %s matched %q", hm.Header, hm.Regexp.String())
			}
		}
	}
	for _, hm := range cfg.FailIfHeaderNotMatches {
		values := h.Values(hm.Header)
		if len(values) == 0 {
			if !hm.AllowMissing {
				return fmt.Sprintf("header %s missing", hm.Header), fmt.Sprintf("fail_if_header_not_matches: header %s is missing", hm.Header)
			}
			continue
		}
		if !slices.ContainsFunc(values, hm.Regexp.MatchString) {
			return fmt.Sprintf("header %s did not match required pattern", hm.Header),
				fmt.Sprintf("fail_if_header_not_matches: %s did not match %q", hm.Header, hm.Regexp.String())
		}
	}
	return "", ""
}

func checkBody(body []byte, cfg *config.HTTPProbe) (reason, what string) {
	for _, re := range cfg.FailIfBodyMatchesRegexp {
		if re.Match(body) {
			return "body matched forbidden pattern", fmt.Sprintf("fail_if_body_matches_regexp: body matched %q", re.String())
		}
	}
	for _, re := range cfg.FailIfBodyNotMatchesRegexp {
		if !re.Match(body) {
			return "body did not match required pattern", fmt.Sprintf("fail_if_body_not_matches_regexp: body did not match %q", re.String())
		}
	}
	return "", ""
}

// checkJSON applies the JSON assertions. A body that is not JSON fails
// either list, as blackbox's CEL checks do.
func checkJSON(body []byte, cfg *config.HTTPProbe) (reason, what string) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return "body is not JSON", fmt.Sprintf("body JSON assertions: body is not JSON: %v", err)
	}
	for i := range cfg.FailIfBodyJSONMatches {
		a := &cfg.FailIfBodyJSONMatches[i]
		if evalJSON(doc, a) {
			return "body JSON assertion failed", fmt.Sprintf("fail_if_body_json_matches: %s holds", a)
		}
	}
	for i := range cfg.FailIfBodyJSONNotMatches {
		a := &cfg.FailIfBodyJSONNotMatches[i]
		if !evalJSON(doc, a) {
			return "body JSON assertion failed", fmt.Sprintf("fail_if_body_json_not_matches: %s does not hold (value %s)", a, jsonText(lookupJSON(doc, a.Steps())))
		}
	}
	return "", ""
}

// missing marks a path that does not resolve.
type missing struct{}

func lookupJSON(doc any, steps []config.JSONStep) any {
	cur := doc
	for _, st := range steps {
		switch v := cur.(type) {
		case map[string]any:
			if st.IsIndex {
				return missing{}
			}
			next, ok := v[st.Key]
			if !ok {
				return missing{}
			}
			cur = next
		case []any:
			if !st.IsIndex || st.Index >= len(v) {
				return missing{}
			}
			cur = v[st.Index]
		default:
			return missing{}
		}
	}
	return cur
}

// jsonText is a JSON value's text for comparisons: strings as they are,
// numbers as written, true/false, null; objects and arrays as JSON.
func jsonText(v any) string {
	switch x := v.(type) {
	case missing:
		return "<missing>"
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "null"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// evalJSON reports whether assertion a holds for doc.
func evalJSON(doc any, a *config.JSONAssertion) bool {
	v := lookupJSON(doc, a.Steps())
	if _, ok := v.(missing); ok {
		return false
	}
	want, wantNum := a.Number()
	num := func() (float64, bool) {
		n, ok := v.(json.Number)
		if !ok {
			return 0, false
		}
		f, err := n.Float64()
		return f, err == nil
	}
	switch a.Op {
	case config.JSONOpExists:
		return true
	case config.JSONOpEq, config.JSONOpNe:
		eq := jsonText(v) == a.Text()
		if got, ok := num(); ok && wantNum {
			eq = got == want
		}
		return eq == (a.Op == config.JSONOpEq)
	case config.JSONOpLt, config.JSONOpLe, config.JSONOpGt, config.JSONOpGe:
		got, ok := num()
		if !ok {
			return false
		}
		switch a.Op {
		case config.JSONOpLt:
			return got < want
		case config.JSONOpLe:
			return got <= want
		case config.JSONOpGt:
			return got > want
		default:
			return got >= want
		}
	case config.JSONOpContains:
		if arr, ok := v.([]any); ok {
			return slices.ContainsFunc(arr, func(e any) bool { return jsonText(e) == a.Text() })
		}
		return strings.Contains(jsonText(v), a.Text())
	case config.JSONOpMatches:
		return a.Pattern().MatchString(jsonText(v))
	}
	return false
}

// httpVersion is probe_http_version for a response's protocol, "HTTP/1.1"
// being 1.1; 0 when there was no response.
func httpVersion(proto string) float64 {
	switch proto { // the common ones without parsing
	case "HTTP/1.1":
		return 1.1
	case "HTTP/2.0":
		return 2
	}
	if v, err := strconv.ParseFloat(strings.TrimPrefix(proto, "HTTP/"), 64); err == nil {
		return v
	}
	return 0
}

// addPoint adds a gauge that only one place of a check sets, once: unlike
// sample.set it need not look for an earlier value among the others.
func addPoint(s *sample, family, extra string, v float64) {
	s.points = append(s.points, point{family: family, extra: extra, value: v})
}

// httpPhases are blackbox's phases, in its order.
var httpPhases = [...]string{"resolve", "connect", "tls", "processing", "transfer"}

// recordPhases sums blackbox's five phases over the requests of a check.
func (m *httpMonitor) recordPhases(s *sample, d *details, trips []roundTrip) {
	var sum [5]time.Duration
	const resolveP, connectP, tlsP, processingP, transferP = 0, 1, 2, 3, 4
	for _, t := range trips {
		if !t.dnsDone.IsZero() {
			sum[resolveP] += t.dnsDone.Sub(t.start)
		}
		if t.gotConn.IsZero() {
			continue // no connection: blackbox counts only the resolve
		}
		if t.tls && !t.tlsDone.IsZero() {
			sum[connectP] += t.connectDone.Sub(t.dnsDone)
			sum[tlsP] += t.tlsDone.Sub(t.tlsStart)
		} else {
			sum[connectP] += t.gotConn.Sub(t.dnsDone)
		}
		if t.responseStart.IsZero() {
			continue
		}
		sum[processingP] += t.responseStart.Sub(t.gotConn)
		if t.end.IsZero() {
			continue
		}
		sum[transferP] += t.end.Sub(t.responseStart)
	}
	for i, phase := range httpPhases {
		addPoint(s, "probe_http_duration_seconds", phase, sum[i].Seconds())
	}
	if d != nil {
		for i, phase := range httpPhases {
			d.add("phase "+phase, sum[i])
		}
	}
}
