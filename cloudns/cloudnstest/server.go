// Package cloudnstest is a stateful fake of the ClouDNS monitoring API
// endpoints that statussync uses, for tests and for local trials
// (cmd/fakecloudns). It follows the shapes and failure texts of
// shared/reference/cloudns-api.md; where the reference marks something as
// inferred, the fake serves the inferred form and says so in a comment.
//
// The fake knows nothing of package cloudns: it must stay a model of the
// API, not of the client.
package cloudnstest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
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

// Endpoint paths served by the fake.
const (
	PathLogin           = "/login/login.json"
	PathLoginLegacy     = "/dns/login.json"
	PathGetRecords      = "/monitoring/get-records.json"
	PathGetRecordsPages = "/monitoring/get-records-pages.json"
	PathGetCheck        = "/monitoring/get-monitoring-check.json"
	PathCreate          = "/monitoring/create.json"
	PathUpdate          = "/monitoring/update.json"
	PathDelete          = "/monitoring/delete.json"
	PathListNotif       = "/monitoring/list-notifications.json"
	PathAddNotif        = "/monitoring/add-notification.json"
	PathDeleteNotif     = "/monitoring/delete-notification.json"
)

// Failure texts, exact as documented (reference §1.5, §2.1) unless marked.
const (
	TextAuthFailed    = "Invalid authentication, incorrect auth-id or auth-password."
	TextSubAuthFailed = "Invalid authentication, incorrect sub-auth-id, sub-auth-user or auth-password."
	TextPermission    = "You don't have permission to do that."
	TextRowsPerPage   = "Wrong or missing required parameter 'rows-per-page'."
	TextPage          = "Missing or invalid required parameter 'page'."
	// TextInvalidID is inferred from the history endpoints' documented
	// error; get-monitoring-check has no documented error text.
	TextInvalidID = "Invalid id param."
	// TextLoginOK is the success description seen in a recorded live call.
	TextLoginOK = "Success login."
)

// RateLimitText is the failure text of a rate-limited request. The reference
// only has it from an issue title, so its punctuation is inferred.
func RateLimitText(ip string, perSecond int) string {
	return fmt.Sprintf("Request blocked, %s is sending more than %d requests per second.", ip, perSecond)
}

// DefaultRateLimit is ClouDNS's documented per-IP budget per second.
const DefaultRateLimit = 20

// firstCheckID is where automatic ids start. Seeding crosses from four to
// five digits early, which catches code that orders ids as strings.
const firstCheckID = 9901

// Status is a check's ClouDNS status.
type Status int

// ClouDNS statuses.
const (
	StatusUnknown Status = -1
	StatusDown    Status = 0
	StatusUp      Status = 1
)

// Check is a monitoring check held by the fake.
type Check struct {
	// ID is the check id; zero means the next free id.
	ID int64
	// Name is the check name.
	Name string
	// Type is the check_type number; zero means 18 (web).
	Type int
	// IP is the target.
	IP string
	// Host is the FQDN for web, DNS and TLS checks.
	Host string
	// Port is the target port.
	Port int
	// Path is the HTTP path without its leading slash.
	Path string
	// Region is monitoring_region; empty means "global".
	Region string
	// Period is check_period in seconds; zero means 60.
	Period int
	// StatusChangeChecks is status_change_checks; zero means 1.
	StatusChangeChecks int
	// Paused is state 0.
	Paused bool
	// Status is the current status.
	Status Status

	// The fields below are sent by create and update. The fake echoes the
	// first four in check objects (confirmed keys), the others only
	// WithExtraFields: the reference infers, but has not seen, that the API
	// returns them.
	Content            string
	OpenPort           string
	QueryType          string
	QueryResponse      string
	HTTPStatusCode     string
	Timeout            string
	HTTPRequestType    string
	ContentMatch       string
	IPType             string
	ConnectionSecurity string

	// Notifications are the check's notifications.
	Notifications []Notification
}

// Identity is an API user or sub-user. Exactly one of AuthID, SubAuthID and
// SubAuthUser should be set.
type Identity struct {
	AuthID      int
	SubAuthID   int
	SubAuthUser string
	Password    string
	// NoMonitoring models a sub-user whose monitoring-check limit is 0:
	// monitoring calls fail with TextPermission.
	NoMonitoring bool
}

// Call is one request received by the fake.
type Call struct {
	// Method is the HTTP method.
	Method string
	// Path is the URL path, for example PathGetRecords.
	Path string
	// Params are all parameters (query, form and JSON body) with
	// auth-password replaced by "<redacted>".
	Params url.Values
	// Query holds the URL query parameters alone, redacted the same way.
	Query url.Values
	// ContentType is the request's Content-Type header.
	ContentType string
	// CredentialsInURL reports whether auth-password or an identity
	// parameter arrived in the URL query.
	CredentialsInURL bool
}

// Fault is an injected failure for the next matching requests. Faults are
// consumed in the order they were injected.
type Fault struct {
	// Path limits the fault to one endpoint; empty matches every request.
	Path string
	// Params limits the fault to requests carrying all these parameter
	// values (for example page 2 of the status=1 list).
	Params url.Values
	// Times is how many requests the fault applies to; zero means one.
	Times int
	// Drop closes the connection without a response.
	Drop bool
	// HTTPStatus is the status to answer with; zero means 200.
	HTTPStatus int
	// Body is the response body.
	Body string
	// Header holds extra response headers, for example a Location.
	Header http.Header
}

// NumberStyle selects how numeric check fields are encoded.
type NumberStyle int

// Number styles.
const (
	// NumbersAsStrings encodes numbers as JSON strings ("18"), as observed.
	NumbersAsStrings NumberStyle = iota
	// NumbersAsNumbers encodes them as JSON numbers (18).
	NumbersAsNumbers
)

type config struct {
	extras      bool
	noCreateID  bool
	rateLimit   int
	emptyPage   string
	numbers     NumberStyle
	arrayPages  bool
	statusField bool
}

// Option configures a Server.
type Option func(*config)

// WithRateLimit sets the per-IP budget per second; zero disables it. The
// default is DefaultRateLimit.
func WithRateLimit(perSecond int) Option { return func(c *config) { c.rateLimit = perSecond } }

// WithEmptyPage sets the body of a page past the end; the default is "{}"
// (seen live), the alternative "[]" (handled by public clients).
func WithEmptyPage(body string) Option { return func(c *config) { c.emptyPage = body } }

// WithNumbers sets how numeric check fields are encoded.
func WithNumbers(s NumberStyle) Option { return func(c *config) { c.numbers = s } }

// WithArrayPages serves non-empty pages as JSON arrays instead of objects
// keyed by check id.
func WithArrayPages() Option { return func(c *config) { c.arrayPages = true } }

// WithoutStatusField omits the per-check "status" field, whose presence in
// real responses is not verified.
func WithoutStatusField() Option { return func(c *config) { c.statusField = false } }

// Server is the fake. All methods are safe for concurrent use.
type Server struct {
	cfg    config
	ts     *httptest.Server
	closed chan struct{}
	once   sync.Once

	mu          sync.Mutex
	identities  []Identity
	checks      map[int64]*Check
	statusField map[int64]string // raw JSON overriding the status field
	nextID      int64
	// nextNotification is the last notification id handed out.
	nextNotification int64
	ignoreFilters    bool
	latency          time.Duration
	faults           []Fault
	calls            []Call
	window           map[string][]time.Time // per remote IP, for the rate limit
}

// New starts a fake on a loopback port and closes it when tb's test ends.
func New(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := NewServer(opts...)
	s.ts = httptest.NewServer(s)
	tb.Cleanup(s.Close)
	return s
}

// NewServer returns a fake that is not listening: serve it as an
// http.Handler (cmd/fakecloudns does) and call Close when done.
func NewServer(opts ...Option) *Server {
	cfg := config{rateLimit: DefaultRateLimit, emptyPage: "{}", statusField: true}
	for _, o := range opts {
		o(&cfg)
	}
	return &Server{
		cfg:         cfg,
		closed:      make(chan struct{}),
		checks:      make(map[int64]*Check),
		statusField: make(map[int64]string),
		nextID:      firstCheckID,
		window:      make(map[string][]time.Time),
	}
}

// URL is the base URL of a fake started by New.
func (s *Server) URL() string {
	if s.ts == nil {
		return ""
	}
	return s.ts.URL
}

// Close releases requests held by SetLatency and, for a fake started by New,
// stops the server.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closed) })
	if s.ts != nil {
		s.ts.Close()
	}
}

// AddIdentity adds an API user or sub-user.
func (s *Server) AddIdentity(id Identity) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.identities = append(s.identities, id)
}

// AddCheck adds (or replaces) a check and returns its id.
func (s *Server) AddCheck(c Check) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addCheckLocked(c)
}

func (s *Server) addCheckLocked(c Check) int64 {
	if c.ID == 0 {
		c.ID = s.nextID
	}
	if c.ID >= s.nextID {
		s.nextID = c.ID + 1
	}
	if c.Type == 0 {
		c.Type = 18
	}
	if c.Region == "" {
		c.Region = "global"
	}
	if c.Period == 0 {
		c.Period = 60
	}
	if c.StatusChangeChecks == 0 {
		c.StatusChangeChecks = 1
	}
	s.checks[c.ID] = &c
	return c.ID
}

// Seed adds n active web checks that are up, named "check-0001" and on, and
// returns their ids in order.
func (s *Server) Seed(n int) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]int64, 0, n)
	for i := 1; i <= n; i++ {
		host := fmt.Sprintf("host-%04d.example.com", i)
		ids = append(ids, s.addCheckLocked(Check{
			Name: fmt.Sprintf("check-%04d", i), Type: 18, IP: host, Host: host, Port: 443, Status: StatusUp,
		}))
	}
	return ids
}

// Check returns a copy of the check with id.
func (s *Server) Check(id int64) (Check, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.checks[id]
	if !ok {
		return Check{}, false
	}
	out := *c
	out.Notifications = slices.Clone(c.Notifications)
	return out, true
}

// SetCheckStatus sets a check's status; it reports whether the check exists.
func (s *Server) SetCheckStatus(id int64, st Status) bool {
	return s.update(id, func(c *Check) { c.Status = st })
}

// PauseCheck sets a check's state to paused.
func (s *Server) PauseCheck(id int64) bool { return s.update(id, func(c *Check) { c.Paused = true }) }

// ResumeCheck sets a check's state to active.
func (s *Server) ResumeCheck(id int64) bool { return s.update(id, func(c *Check) { c.Paused = false }) }

func (s *Server) update(id int64, f func(*Check)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.checks[id]
	if ok {
		f(c)
	}
	return ok
}

// RemoveCheck deletes a check.
func (s *Server) RemoveCheck(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.checks[id]
	delete(s.checks, id)
	delete(s.statusField, id)
	return ok
}

// SetStatusField makes the check's "status" field read raw (a JSON literal
// such as `"1"` or `200`) regardless of its real status, which the status
// filter keeps using. An empty raw removes the override. It models the
// unverified field meaning something else than the filter.
func (s *Server) SetStatusField(id int64, raw string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if raw == "" {
		delete(s.statusField, id)
		return
	}
	s.statusField[id] = raw
}

// IgnoreFilters makes the list and page-count calls ignore the status,
// state and check_type filters, as an API change might.
func (s *Server) IgnoreFilters(ignore bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ignoreFilters = ignore
}

// SetLatency delays every response by d.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Inject queues a fault.
func (s *Server) Inject(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// ClearFaults drops the faults not yet consumed.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// FailNext answers the next n requests with HTTP 200 and
// {"status":"Failed","statusDescription":description}.
func (s *Server) FailNext(n int, description string) {
	s.Inject(Fault{Times: n, Body: FailedBody(description)})
}

// FailNextHTTP answers the next n requests with the HTTP status.
func (s *Server) FailNextHTTP(n, status int) {
	s.Inject(Fault{Times: n, HTTPStatus: status, Body: http.StatusText(status) + "\n"})
}

// DropNext closes the connection of the next n requests without answering.
func (s *Server) DropNext(n int) { s.Inject(Fault{Times: n, Drop: true}) }

// FailedBody returns ClouDNS's failure body for description.
func FailedBody(description string) string {
	b, _ := json.Marshal(map[string]string{"status": "Failed", "statusDescription": description})
	return string(b)
}

// Calls returns a copy of the requests received so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// CallCount returns how many requests were made to path, or to any path if
// path is empty.
func (s *Server) CallCount(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if path == "" || c.Path == path {
			n++
		}
	}
	return n
}

// ResetCalls forgets the recorded requests.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	params, err := readParams(r)
	if err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	ip := remoteIP(r)

	s.mu.Lock()
	s.calls = append(s.calls, Call{
		Method:           r.Method,
		Path:             r.URL.Path,
		Params:           redacted(params),
		Query:            redacted(r.URL.Query()),
		ContentType:      r.Header.Get("Content-Type"),
		CredentialsInURL: hasCredentials(r.URL.Query()),
	})
	latency := s.latency
	limited := s.overBudgetLocked(ip, time.Now())
	fault, faulted := s.takeFaultLocked(r.URL.Path, params)
	s.mu.Unlock()

	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.closed:
			t.Stop()
			return
		}
	}
	if limited {
		writeJSON(w, http.StatusOK, FailedBody(RateLimitText(ip, s.cfg.rateLimit)))
		return
	}
	if faulted {
		serveFault(w, fault)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}

	switch r.URL.Path {
	case PathLogin, PathLoginLegacy, PathGetRecords, PathGetRecordsPages, PathGetCheck,
		PathCreate, PathUpdate, PathDelete, PathListNotif, PathAddNotif, PathDeleteNotif:
	default:
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, failure := s.authenticateLocked(params)
	if failure != "" {
		writeJSON(w, http.StatusOK, FailedBody(failure))
		return
	}
	if r.URL.Path == PathLogin || r.URL.Path == PathLoginLegacy {
		writeJSON(w, http.StatusOK, `{"status":"Success","statusDescription":"`+TextLoginOK+`"}`)
		return
	}
	if id.NoMonitoring {
		writeJSON(w, http.StatusOK, FailedBody(TextPermission))
		return
	}
	var body string
	switch r.URL.Path {
	case PathGetRecords:
		body = s.getRecordsLocked(params)
	case PathGetRecordsPages:
		body = s.getRecordsPagesLocked(params)
	case PathGetCheck:
		body = s.getCheckLocked(params)
	default:
		body = s.manageLocked(r.URL.Path, params)
	}
	writeJSON(w, http.StatusOK, body)
}

// overBudgetLocked records a request from ip and reports whether it exceeds
// the per-second budget. Blocked requests count too: a client hammering a
// block stays blocked.
func (s *Server) overBudgetLocked(ip string, now time.Time) bool {
	if s.cfg.rateLimit <= 0 {
		return false
	}
	recent := s.window[ip][:0]
	for _, t := range s.window[ip] {
		if now.Sub(t) < time.Second {
			recent = append(recent, t)
		}
	}
	recent = append(recent, now)
	s.window[ip] = recent
	return len(recent) > s.cfg.rateLimit
}

func (s *Server) takeFaultLocked(path string, params url.Values) (Fault, bool) {
	for i, f := range s.faults {
		if f.Path != "" && f.Path != path {
			continue
		}
		if !hasParams(params, f.Params) {
			continue
		}
		f.Times--
		if f.Times <= 0 {
			s.faults = slices.Delete(s.faults, i, i+1)
		} else {
			s.faults[i] = f
		}
		return f, true
	}
	return Fault{}, false
}

func serveFault(w http.ResponseWriter, f Fault) {
	if f.Drop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // closes the connection without a response
	}
	for k, vs := range f.Header {
		w.Header()[k] = vs
	}
	status := cmp.Or(f.HTTPStatus, http.StatusOK)
	if status != http.StatusOK {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, f.Body)
		return
	}
	writeJSON(w, status, f.Body)
}

// hasParams reports whether have carries every value in want.
func hasParams(have, want url.Values) bool {
	for k, vs := range want {
		for _, v := range vs {
			if !slices.Contains(have[k], v) {
				return false
			}
		}
	}
	return true
}

// authenticateLocked picks the identity parameter the way the official SDK
// sends it (auth-id, else sub-auth-id, else sub-auth-user) and returns the
// documented failure text of that style.
func (s *Server) authenticateLocked(p url.Values) (Identity, string) {
	pw := p.Get("auth-password")
	match := func(f func(Identity) bool, failure string) (Identity, string) {
		for _, id := range s.identities {
			if f(id) && pw != "" && id.Password == pw {
				return id, ""
			}
		}
		return Identity{}, failure
	}
	switch {
	case p.Has("auth-id"):
		n, err := strconv.Atoi(p.Get("auth-id"))
		return match(func(id Identity) bool { return err == nil && id.AuthID != 0 && id.AuthID == n }, TextAuthFailed)
	case p.Has("sub-auth-id"):
		n, err := strconv.Atoi(p.Get("sub-auth-id"))
		return match(func(id Identity) bool { return err == nil && id.SubAuthID != 0 && id.SubAuthID == n }, TextSubAuthFailed)
	case p.Has("sub-auth-user"):
		u := p.Get("sub-auth-user")
		return match(func(id Identity) bool { return id.SubAuthUser != "" && id.SubAuthUser == u }, TextSubAuthFailed)
	}
	return Identity{}, TextAuthFailed
}

// filteredLocked returns the checks matching the documented filters, sorted
// by id, or a failure text.
func (s *Server) filteredLocked(p url.Values) ([]*Check, string) {
	var status, state, ctype *int
	for _, f := range []struct {
		name string
		dst  **int
		ok   func(int) bool
	}{
		{"status", &status, func(n int) bool { return n >= -1 && n <= 1 }},
		{"state", &state, func(n int) bool { return n == 0 || n == 1 }},
		{"check_type", &ctype, func(n int) bool { return n > 0 }},
	} {
		if !p.Has(f.name) {
			continue
		}
		n, err := strconv.Atoi(p.Get(f.name))
		if err != nil || !f.ok(n) {
			// Not documented; the fake refuses rather than guess.
			return nil, fmt.Sprintf("Invalid %s param.", f.name)
		}
		*f.dst = &n
	}
	if s.ignoreFilters {
		status, state, ctype = nil, nil, nil
	}
	var out []*Check
	for _, id := range slices.Sorted(maps.Keys(s.checks)) {
		c := s.checks[id]
		switch {
		case status != nil && int(c.Status) != *status,
			state != nil && boolInt(!c.Paused) != *state,
			ctype != nil && c.Type != *ctype:
			continue
		}
		out = append(out, c)
	}
	return out, ""
}

func rowsPerPage(p url.Values) (int, bool) {
	n, err := strconv.Atoi(p.Get("rows-per-page"))
	switch {
	case err != nil:
		return 0, false
	case n == 10 || n == 20 || n == 30 || n == 50 || n == 100:
		return n, true
	}
	return 0, false
}

// pageParams reads rows-per-page and page, or returns the documented
// failure body.
func pageParams(p url.Values) (rows, page int, failure string) {
	rows, ok := rowsPerPage(p)
	if !ok {
		return 0, 0, FailedBody(TextRowsPerPage)
	}
	page, err := strconv.Atoi(p.Get("page"))
	if err != nil || page < 1 {
		return 0, 0, FailedBody(TextPage)
	}
	return rows, page, ""
}

func (s *Server) getRecordsLocked(p url.Values) string {
	rows, page, failure := pageParams(p)
	if failure != "" {
		return failure
	}
	checks, failure := s.filteredLocked(p)
	if failure != "" {
		return FailedBody(failure)
	}
	from := (page - 1) * rows
	if from >= len(checks) {
		return s.cfg.emptyPage
	}
	checks = checks[from:min(from+rows, len(checks))]

	var b bytes.Buffer
	if s.cfg.arrayPages {
		b.WriteByte('[')
		for i, c := range checks {
			if i > 0 {
				b.WriteByte(',')
			}
			s.writeCheckLocked(&b, c)
		}
		b.WriteByte(']')
		return b.String()
	}
	// Keyed by check id, in id order (Go's map encoding would order the keys
	// as strings, which the real API is not known to do).
	b.WriteByte('{')
	for i, c := range checks {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:", strconv.FormatInt(c.ID, 10))
		s.writeCheckLocked(&b, c)
	}
	b.WriteByte('}')
	return b.String()
}

// getRecordsPagesLocked answers with a bare number. With no checks it
// answers 0; the real answer for that case is not verified.
func (s *Server) getRecordsPagesLocked(p url.Values) string {
	rows, ok := rowsPerPage(p)
	if !ok {
		return FailedBody(TextRowsPerPage)
	}
	checks, failure := s.filteredLocked(p)
	if failure != "" {
		return FailedBody(failure)
	}
	return strconv.Itoa((len(checks) + rows - 1) / rows)
}

func (s *Server) getCheckLocked(p url.Values) string {
	id, err := strconv.ParseInt(p.Get("id"), 10, 64)
	if err != nil {
		return FailedBody(TextInvalidID)
	}
	c, ok := s.checks[id]
	if !ok {
		return FailedBody(TextInvalidID)
	}
	var b bytes.Buffer
	s.writeCheckLocked(&b, c)
	return b.String()
}

// writeCheckLocked encodes a check with the keys ClouDNS's own scripts read,
// plus the inferred "status" field.
func (s *Server) writeCheckLocked(b *bytes.Buffer, c *Check) {
	num := func(n int64) string {
		if s.cfg.numbers == NumbersAsNumbers {
			return strconv.FormatInt(n, 10)
		}
		return strconv.Quote(strconv.FormatInt(n, 10))
	}
	str := func(v string) string {
		out, _ := json.Marshal(v)
		return string(out)
	}
	port := str("") // unset numbers are empty strings in ClouDNS output
	if c.Port != 0 {
		port = num(int64(c.Port))
	}
	fields := []string{
		`"id":` + num(c.ID),
		`"name":` + str(c.Name),
		`"check_type":` + num(int64(c.Type)),
		`"ip":` + str(c.IP),
		`"host":` + str(c.Host),
		`"port":` + port,
		`"path":` + str(c.Path),
		`"content":` + str(c.Content),
		`"open_port":` + str(c.OpenPort),
		`"query_type":` + str(c.QueryType),
		`"query_response":` + str(c.QueryResponse),
		`"monitoring_region":` + str(c.Region),
		`"check_period":` + num(int64(c.Period)),
		`"status_change_checks":` + num(int64(c.StatusChangeChecks)),
		`"state":` + num(int64(boolInt(!c.Paused))),
	}
	if s.cfg.extras {
		numOrEmpty := func(v string) string {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				return num(n)
			}
			return str(v)
		}
		fields = append(fields,
			`"http_status_code":`+numOrEmpty(c.HTTPStatusCode),
			`"timeout":`+numOrEmpty(c.Timeout),
			`"http_request_type":`+str(c.HTTPRequestType),
			`"content_match":`+str(c.ContentMatch),
			`"ip_type":`+numOrEmpty(c.IPType),
			`"connection_security":`+numOrEmpty(c.ConnectionSecurity),
		)
	}
	if raw, ok := s.statusField[c.ID]; ok {
		fields = append(fields, `"status":`+raw)
	} else if s.cfg.statusField {
		fields = append(fields, `"status":`+num(int64(c.Status)))
	}
	b.WriteString("{" + strings.Join(fields, ",") + "}")
}

// readParams merges query, form and JSON-body parameters: ClouDNS accepts
// GET and POST for every endpoint, with form or JSON bodies.
func readParams(r *http.Request) (url.Values, error) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return nil, err
		}
		p := r.URL.Query()
		if len(bytes.TrimSpace(body)) == 0 {
			return p, nil
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, err
		}
		for k, v := range m {
			var s string
			if json.Unmarshal(v, &s) != nil {
				s = string(bytes.TrimSpace(v))
			}
			p.Set(k, s)
		}
		return p, nil
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	return r.Form, nil
}

var credentialParams = []string{"auth-password", "auth-id", "sub-auth-id", "sub-auth-user"}

func hasCredentials(q url.Values) bool {
	return slices.ContainsFunc(credentialParams, q.Has)
}

func redacted(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		if k == "auth-password" {
			out[k] = []string{"<redacted>"}
			continue
		}
		out[k] = slices.Clone(vs)
	}
	return out
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
