// Package cachettest is a stateful, in-memory fake of the Cachet 3.x REST
// API, in the spirit of net/http/httptest. It serves the client tests, the
// engine tests and the end-to-end tests, and runs standalone
// (cmd/fakecachet) so that statussync can be tried without a real Cachet.
//
// The fake is written from /work/shared/reference/cachet3-api.md
// ("reference §N"), not from the client, and its own fidelity tests pin
// it to that document. It deliberately behaves like Cachet where Cachet is
// unkind, so that client bugs show up in tests:
//
//   - Routes live under a configurable prefix (default "/api"; Cachet's
//     test suite uses "/status/api") with no version segment (§1.1).
//   - Writes need "Authorization: Bearer <token>": no or an unknown token
//     gets 401 {"message":"Unauthenticated."}; a token without the
//     resource's "<resource>.manage" or ".delete" ability (or "*") gets 403
//     {"message":"Invalid ability provided."}. Reads are public unless the
//     API is protected; a valid token on a read widens visibility (§1.3-1.5).
//   - The order of checks is Cachet's: 401, then 429, then 404 for unknown
//     ids (route-model binding), then 400 for disallowed query parameters,
//     then 422 for the body, and only then 403 for the ability (§1.5).
//   - Creates answer 201 (metric points always 201, also when they only
//     bumped a counter), updates 200, deletes 204 (§2.2).
//   - Bodies are JSON:API documents, application/vnd.api+json: data.id is
//     a string, attributes.id an integer, enums {"human","value"},
//     timestamps {"human","string"} in the app time zone without offset
//     (§2.1). WithLegacyShapes serves the older flat shapes instead (§9).
//   - 422 bodies are {"message","errors"} with Laravel's wording (§2.3).
//     Input first goes through Laravel's TrimStrings and
//     ConvertEmptyStringsToNull, so "" is null [INF: Laravel's default
//     global middleware]; null for a field that is not nullable fails
//     (§2.4). The rules of §3.2-3.7 are implemented for components, groups,
//     incidents, incident updates, metrics and metric points.
//   - Lists paginate with per_page (default 15, clamped to 1-100) and page;
//     links.next is absent on the last page and, as with Laravel's default
//     paginator, carries only "page" (§5). Unknown filter, sort and include
//     names get 400 with spatie/laravel-query-builder's message (§5).
//   - Incidents: creating one never changes a component's baseline status;
//     impacts of unresolved, guest-visible, published incidents raise the
//     component's latest_status; occurred_at stays null when omitted; an
//     omitted visible is 0; the status follows the newest update (§3.4,
//     §3.5). Groups default to visible 0 when omitted (§3.3).
//   - Metric points: a point within the metric's threshold minutes of the
//     newest point only increments that point's counter (the posted value
//     is ignored); created_at is rounded to 30 seconds (§3.7). The metric
//     create response is the unrefreshed model, so database defaults are
//     null there (§3.6).
//   - Maintenance windows make their components "under maintenance" (or
//     the window's per-component status) in latest_status while in
//     progress (§3.2, §3.8). Schedules are seeded with AddSchedule; their
//     write routes answer 501.
//   - With a rate limit set, requests past it within a minute get 429
//     {"message":"Too Many Attempts."} with Retry-After and X-RateLimit-*
//     headers; writes are counted per token, reads per client IP (§1.6).
//
// WithProfile makes it behave like an older core instead (Profile: the
// 2024-10 core the app shell pins, 2024-11 to 2025-02, before 2026-07-13),
// with the 400/500/302 answers real builds gave; meta filter values with a
// comma are ignored on every profile, as spatie splits them (reference
// §9.1, docs/cachet-compatibility.md).
//
// Tests drive faults with FailNext, DropNext and SetLatency, read the state
// with Components, Incidents and friends, and assert on traffic with
// Requests and Writes. All methods are safe for concurrent use.
package cachettest

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultPrefix is the API prefix of a default Cachet install (CACHET_PATH
// "/" plus "/api").
const DefaultPrefix = "/api"

// DefaultVersion is what GET /version reports.
const DefaultVersion = "3.x-dev"

// Config configures a Server built with NewServer.
type Config struct {
	// Prefix is the path under which the API is served, "/api" when empty;
	// use "/status/api" to mimic CACHET_PATH=status.
	Prefix string
	// Tokens maps bearer tokens to their abilities, for example
	// {"secret": {"*"}} or {"ro": {"components.manage"}}.
	Tokens map[string][]string
	// RateLimitPerMinute enables Cachet's throttle; 0 disables it. Real
	// Cachet defaults to 300.
	RateLimitPerMinute int
	// RateLimitWindow is the throttle's window, a minute when zero as in
	// Laravel; tests shorten it to run a minute's traffic in seconds (the
	// limit then counts per window).
	RateLimitWindow time.Duration
	// APIProtected makes reads require a valid token (Cachet's
	// app.api_protected setting).
	APIProtected bool
	// APIDisabled answers 404 to every API request (app.api_enabled off).
	APIDisabled bool
	// Location is the app time zone timestamps are rendered in; nil is UTC.
	Location *time.Location
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Version is what GET /version reports; empty is DefaultVersion.
	Version string
	// LegacyShapes serves the flat, pre-2025 shapes: "data" holds the
	// attributes with an integer id, enums are bare integers and
	// timestamps plain strings named *_at.
	LegacyShapes bool
	// Logger receives one record per request (method, path, status); nil
	// discards. Headers, and so tokens, are never logged.
	Logger *slog.Logger
	// Profile is the Cachet core era the fake behaves like; the zero value
	// is ProfileCurrent. See Profile.
	Profile Profile
}

// Option configures a Server built with New.
type Option func(*Config)

// WithPrefix serves the API under prefix, for example "/status/api".
func WithPrefix(prefix string) Option { return func(c *Config) { c.Prefix = prefix } }

// WithToken adds a bearer token with abilities ("*" for all).
func WithToken(token string, abilities ...string) Option {
	return func(c *Config) {
		if c.Tokens == nil {
			c.Tokens = map[string][]string{}
		}
		c.Tokens[token] = abilities
	}
}

// WithRateLimit enables the throttle at perMinute requests per minute.
func WithRateLimit(perMinute int) Option {
	return func(c *Config) { c.RateLimitPerMinute = perMinute }
}

// WithRateLimitWindow shortens the throttle's one-minute window to d.
func WithRateLimitWindow(d time.Duration) Option {
	return func(c *Config) { c.RateLimitWindow = d }
}

// WithAPIProtected makes reads require a valid token.
func WithAPIProtected() Option { return func(c *Config) { c.APIProtected = true } }

// WithLocation sets the app time zone timestamps are rendered in.
func WithLocation(loc *time.Location) Option { return func(c *Config) { c.Location = loc } }

// WithClock sets the server's clock.
func WithClock(now func() time.Time) Option { return func(c *Config) { c.Now = now } }

// WithLegacyShapes serves the flat pre-2025 response shapes.
func WithLegacyShapes() Option { return func(c *Config) { c.LegacyShapes = true } }

// WithVersion sets what GET /version reports.
func WithVersion(v string) Option { return func(c *Config) { c.Version = v } }

// Request is one request the server received.
type Request struct {
	Method string
	// Path is the URL path as received, prefix included.
	Path  string
	Query url.Values
	Body  []byte
	// Header is a copy of the request headers. It holds the bearer token;
	// it lives only in the test's memory and is never logged.
	Header http.Header
	Time   time.Time
	// StatusCode is the response status, 0 for a dropped connection.
	StatusCode int
}

// Server is the fake Cachet. Create it with New in tests or NewServer
// elsewhere.
type Server struct {
	cfg    Config
	feat   features
	prefix string
	log    *slog.Logger

	mu      sync.Mutex
	st      state
	tokens  map[string][]string
	reqs    []Request
	failN   int
	failSt  int
	dropN   int
	latency time.Duration
	limit   int
	windows map[string]*rateWindow
	protect bool
	disable bool

	hs      *httptest.Server
	baseURL string
}

type rateWindow struct {
	count int
	reset time.Time
}

// New starts a Server on a loopback port for tb and closes it in
// tb.Cleanup.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	var cfg Config
	for _, o := range opts {
		o(&cfg)
	}
	s := NewServer(cfg)
	s.hs = httptest.NewServer(s)
	s.baseURL = s.hs.URL + s.prefix
	tb.Cleanup(s.Close)
	return s
}

// NewServer builds an unstarted Server; it is an http.Handler. Use it with
// an http.Server, or call Start.
func NewServer(cfg Config) *Server {
	prefix := "/" + strings.Trim(cfg.Prefix, "/")
	if cfg.Prefix == "" {
		prefix = DefaultPrefix
	}
	if prefix == "/" {
		prefix = ""
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Version == "" {
		cfg.Version = DefaultVersion
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:     cfg,
		feat:    cfg.Profile.features(),
		prefix:  prefix,
		log:     logger,
		st:      newState(),
		tokens:  map[string][]string{},
		limit:   cfg.RateLimitPerMinute,
		windows: map[string]*rateWindow{},
		protect: cfg.APIProtected,
		disable: cfg.APIDisabled,
	}
	for tok, ab := range cfg.Tokens {
		s.tokens[tok] = slices.Clone(ab)
	}
	return s
}

// Start serves on a loopback port, like httptest.NewServer. Call Close
// when done.
func (s *Server) Start() {
	s.hs = httptest.NewServer(s)
	s.mu.Lock()
	s.baseURL = s.hs.URL + s.prefix
	s.mu.Unlock()
}

// Close stops a server started by New or Start.
func (s *Server) Close() {
	if s.hs != nil {
		s.hs.CloseClientConnections()
		s.hs.Close()
	}
}

// URL returns the API base URL, prefix included, for example
// "http://127.0.0.1:41234/api". It is empty for a server that was not
// started by New or Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL
}

// Prefix returns the API path prefix, for example "/api".
func (s *Server) Prefix() string { return s.prefix }

// AddToken adds or replaces a bearer token with abilities ("*" for all).
func (s *Server) AddToken(token string, abilities ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = slices.Clone(abilities)
}

// RevokeToken removes a token, as deleting an API key in the dashboard does.
func (s *Server) RevokeToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, token)
}

// FailNext makes the next n requests fail with status and a Laravel-style
// {"message"} body before any other processing. 429 and 503 carry
// "Retry-After: 1".
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failSt = n, status
}

// DropNext makes the server close the connection of the next n requests
// without answering, after reading the request.
func (s *Server) DropNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropN = n
}

// SetLatency delays every response by d.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetRateLimit sets the throttle to perMinute requests per minute and
// clears the counters; 0 disables it.
func (s *Server) SetRateLimit(perMinute int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = perMinute
	s.windows = map[string]*rateWindow{}
}

// SetAPIProtected switches Cachet's "protect the API" setting.
func (s *Server) SetAPIProtected(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.protect = on
}

// SetAPIEnabled switches Cachet's "enable the API" setting; disabled, every
// API route answers 404.
func (s *Server) SetAPIEnabled(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disable = !on
}

// Requests returns a copy of every request received, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.reqs))
	for i, r := range s.reqs {
		out[i] = r.clone()
	}
	return out
}

// Writes returns the requests whose method is not GET, HEAD or OPTIONS,
// except the token check's probe (an empty POST /components that Cachet
// refused), which changes nothing.
func (s *Server) Writes() []Request {
	var out []Request
	for _, r := range s.Requests() {
		switch {
		case r.Method == http.MethodGet, r.Method == http.MethodHead, r.Method == http.MethodOptions:
		case IsTokenCheck(r):
		default:
			out = append(out, r)
		}
	}
	return out
}

// IsTokenCheck reports whether r is statussync's token check (cachet
// Client.CheckToken): POST /components with the body {}, which Cachet
// answers 401 or 422 without writing.
func IsTokenCheck(r Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/components") &&
		strings.TrimSpace(string(r.Body)) == "{}" && r.StatusCode >= 400 && r.StatusCode < 500
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = nil
}

func (r Request) clone() Request {
	r.Query = url.Values(http.Header(r.Query).Clone())
	r.Body = bytes.Clone(r.Body)
	r.Header = r.Header.Clone()
	return r
}

func (s *Server) now() time.Time { return s.cfg.Now() }

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	rec := Request{
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.Query(),
		Body:   body,
		Header: r.Header.Clone(),
		Time:   s.now(),
	}

	s.mu.Lock()
	drop := s.dropN > 0
	if drop {
		s.dropN--
	}
	fail := 0
	if !drop && s.failN > 0 {
		s.failN--
		fail = s.failSt
	}
	latency := s.latency
	s.mu.Unlock()

	if drop {
		s.record(rec)
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // closes the connection without a response
	}
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}

	sw := &statusWriter{ResponseWriter: w}
	if fail != 0 {
		s.writeFault(sw, fail)
	} else {
		s.handle(sw, r, body)
	}
	rec.StatusCode = sw.status
	s.record(rec)
	s.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status)
}

func (s *Server) record(rec Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, rec)
}

func (s *Server) writeFault(w http.ResponseWriter, status int) {
	msg := http.StatusText(status)
	switch status {
	case http.StatusTooManyRequests:
		msg = "Too Many Attempts."
		w.Header().Set("Retry-After", "1")
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
	case http.StatusInternalServerError:
		msg = "Server Error" // Laravel's production message
	}
	writeMessage(w, status, msg)
}

// throttle applies the rate limit to one request and reports whether it may
// proceed. It sets the X-RateLimit headers Laravel's ThrottleRequests sets.
func (s *Server) throttle(w http.ResponseWriter, key string) bool {
	s.mu.Lock()
	limit := s.limit
	if limit <= 0 {
		s.mu.Unlock()
		return true
	}
	now := s.now()
	win := s.windows[key]
	if win == nil || !now.Before(win.reset) {
		window := s.cfg.RateLimitWindow
		if window <= 0 {
			window = time.Minute
		}
		win = &rateWindow{reset: now.Add(window)}
		s.windows[key] = win
	}
	allowed := win.count < limit
	if allowed {
		win.count++
	}
	remaining := max(limit-win.count, 0)
	reset := win.reset
	s.mu.Unlock()

	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	if allowed {
		return true
	}
	retry := int((reset.Sub(now) + time.Second - 1) / time.Second)
	h.Set("Retry-After", strconv.Itoa(max(retry, 1)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	writeMessage(w, http.StatusTooManyRequests, "Too Many Attempts.")
	return false
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
