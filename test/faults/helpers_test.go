package faults

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/statussync/statussync/cachet/cachettest"
	"github.com/statussync/statussync/internal/app"
	"github.com/statussync/statussync/internal/testkit"
)

// token is the Cachet API token of the tests that are not about secrets.
const token = "faults-token"

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer = testkit.SyncBuffer

// tail returns the last n lines of s.
func tail(s string, n int) string { return testkit.Tail(s, n) }

// quiet drops the per-check and cron records from JSON logs, which drown
// everything else in a failure message.
func quiet(logs string) string {
	var keep []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `"msg":"cron `) || strings.Contains(l, `"msg":"check result"`) ||
			strings.Contains(l, `"msg":"http check failed"`) || strings.Contains(l, `"msg":"http request failed"`) {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// eventually polls cond every 10ms until it holds, failing tb after limit.
func eventually(tb testing.TB, limit time.Duration, what string, cond func() bool) {
	tb.Helper()
	testkit.Eventually(tb, limit, what, cond)
}

func writeFile(tb testing.TB, path, body string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
}

// service is the whole statussync wired by internal/app, running in this
// process on 127.0.0.1:0.
type service struct {
	tb      testing.TB
	app     *app.App
	cfgPath string
	logs    *syncBuffer
	base    string // http://127.0.0.1:port
	cancel  context.CancelFunc
	done    chan error
	stopped bool
}

// startService writes cfg to a file and runs the service on it with the
// given environment, logging at level into a buffer that is printed if the
// test fails.
func startService(tb testing.TB, cfg string, environ []string, level slog.Level) *service {
	tb.Helper()
	s := &service{tb: tb, cfgPath: filepath.Join(tb.TempDir(), "statussync.yml"), logs: &syncBuffer{}}
	writeFile(tb, s.cfgPath, cfg)
	logger := slog.New(slog.NewJSONHandler(s.logs, &slog.HandlerOptions{Level: level}))
	a, err := app.New(app.Options{ConfigFile: s.cfgPath, ListenAddress: "127.0.0.1:0", Environ: environ, Logger: logger})
	if err != nil {
		tb.Fatal(err)
	}
	s.app = a
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan error, 1)
	go func() { s.done <- a.Run(ctx) }()
	addrCtx, addrCancel := context.WithTimeout(ctx, 10*time.Second)
	defer addrCancel()
	addr, err := a.Addr(addrCtx)
	if err != nil {
		cancel()
		tb.Fatalf("service did not listen: %v", err)
	}
	s.base = "http://" + addr.String()
	tb.Cleanup(func() {
		s.stop()
		if tb.Failed() {
			tb.Logf("service logs (checks and cron omitted):\n%s", tail(quiet(s.logs.String()), 120))
		}
	})
	return s
}

// stop shuts the service down and fails the test unless it stopped
// cleanly within app.ShutdownTimeout.
func (s *service) stop() {
	if s.stopped {
		return
	}
	s.stopped = true
	s.cancel()
	select {
	case err := <-s.done:
		if err != nil {
			s.tb.Errorf("service shutdown: %v", err)
		}
	case <-time.After(app.ShutdownTimeout + 5*time.Second):
		s.tb.Error("service did not shut down within its bound")
	}
}

// reload rewrites the configuration file and reloads, returning the
// reload's error.
func (s *service) reload(cfg string) error {
	writeFile(s.tb, s.cfgPath, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.app.Reload(ctx)
}

// gather returns the service's metric families by name.
func (s *service) gather() map[string]*dto.MetricFamily {
	s.tb.Helper()
	mfs, err := s.app.Registry().Gather()
	if err != nil {
		s.tb.Fatalf("gather: %v", err)
	}
	out := make(map[string]*dto.MetricFamily, len(mfs))
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// metric returns the value of the first series of name whose labels include
// the given name/value pairs; ok is false when there is none.
func (s *service) metric(name string, labels ...string) (float64, bool) {
	return familyValue(s.gather()[name], labels...)
}

// value is metric without ok: a missing series reads as 0.
func (s *service) value(name string, labels ...string) float64 {
	v, _ := s.metric(name, labels...)
	return v
}

func familyValue(mf *dto.MetricFamily, labels ...string) (float64, bool) {
	if mf == nil {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		if !hasLabels(m, labels...) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

func hasLabels(m *dto.Metric, labels ...string) bool {
	for i := 0; i+1 < len(labels); i += 2 {
		found := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// httpGet fetches a URL with a client that keeps no connections, so that
// the test's own keep-alive goroutines never look like the service's.
func httpGet(tb testing.TB, url string) (int, string) {
	tb.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// targetMode is how a target answers.
type targetMode int32

const (
	targetUp   targetMode = iota // 200
	targetDown                   // 503
	targetHang                   // answers nothing until the client gives up
)

// target is a local HTTP service whose health the test controls.
type target struct {
	*httptest.Server
	mode atomic.Int32
}

func newTarget(tb testing.TB) *target {
	tb.Helper()
	t := &target{}
	t.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch targetMode(t.mode.Load()) {
		case targetDown:
			http.Error(w, "down", http.StatusServiceUnavailable)
		case targetHang:
			<-r.Context().Done()
		default:
			_, _ = fmt.Fprintln(w, "ok")
		}
	}))
	tb.Cleanup(t.Close)
	return t
}

func (t *target) set(m targetMode) { t.mode.Store(int32(m)) }

// cachetFront serves the Cachet fake on a loopback port that the test can
// take down and bring back (connection refused), and can make the fake
// process writes but lose their responses.
type cachetFront struct {
	*cachettest.Server
	sw *switchServer

	// loseWrites makes every write be processed by the fake and then the
	// connection closed before the response is sent: the client cannot
	// know whether its write happened.
	loseWrites atomic.Bool
	// failPuts makes that many next PUTs fail with 503 and Retry-After: 1
	// (the client waits a second and retries); putFailed is closed at the
	// first.
	failPuts  atomic.Int32
	putFailed chan struct{}
	putOnce   sync.Once
	// echoAuth makes every request fail with 500 and a message quoting
	// its Authorization header, as a proxy that dumps requests would;
	// echoed counts those answers.
	echoAuth atomic.Bool
	echoed   atomic.Int32
	// afterWrite, when set, runs after the fake processed a write and
	// before its response is sent (the kill tests kill the binary there).
	afterWrite atomic.Pointer[func(method, path string, status int)]
}

func newCachetFront(tb testing.TB) *cachetFront {
	tb.Helper()
	f := &cachetFront{
		Server:    cachettest.NewServer(cachettest.Config{Tokens: map[string][]string{token: {"*"}}}),
		putFailed: make(chan struct{}),
	}
	f.sw = newSwitchServer(tb, f)
	tb.Cleanup(f.Server.Close)
	return f
}

// URL is the API base URL.
func (f *cachetFront) URL() string { return f.sw.url() + cachettest.DefaultPrefix }

// refuse makes connections to the fake's port be refused.
func (f *cachetFront) refuse() { f.sw.refuse() }

// accept listens on the fake's port again.
func (f *cachetFront) accept() { f.sw.accept() }

func (f *cachetFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPut && f.failPuts.Add(-1) >= 0 {
		f.putOnce.Do(func() { close(f.putFailed) })
		w.Header().Set("Retry-After", "1")
		http.Error(w, `{"message":"Service Unavailable"}`, http.StatusServiceUnavailable)
		return
	}
	if f.echoAuth.Load() {
		f.echoed.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = fmt.Fprintf(w, `{"message":"upstream rejected %s","errors":{"Authorization":[%q]}}`, r.Header.Get("Authorization"), r.Header.Get("Authorization"))
		return
	}
	hook := f.afterWrite.Load()
	if r.Method == http.MethodGet || (hook == nil && !f.loseWrites.Load()) {
		f.Server.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	f.Server.ServeHTTP(rec, r)
	if hook != nil {
		(*hook)(r.Method, r.URL.Path, rec.Code)
	}
	if f.loseWrites.Load() {
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			_ = conn.Close()
			return
		}
		panic(http.ErrAbortHandler)
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// status returns a component's baseline status.
func (f *cachetFront) status(id int) int {
	c, _ := f.Component(id)
	return c.Status
}

// incidentsOf returns the incidents that impact component id, by id.
func incidentsOf(srv *cachettest.Server, id int) []cachettest.Incident {
	var out []cachettest.Incident
	for _, in := range srv.Incidents() {
		if in.Affects(id) { // impacts, or component_id on older cores
			out = append(out, in)
		}
	}
	return out
}

// switchServer serves a handler on a fixed loopback port that the test can
// take down (connections refused) and bring back.
type switchServer struct {
	tb      testing.TB
	handler http.Handler
	addr    string

	mu sync.Mutex
	hs *http.Server
}

func newSwitchServer(tb testing.TB, h http.Handler) *switchServer {
	tb.Helper()
	s := &switchServer{tb: tb, handler: h}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	tb.Cleanup(s.refuse)
	return s
}

func (s *switchServer) url() string { return "http://" + s.addr }

func (s *switchServer) serve(ln net.Listener) {
	hs := &http.Server{Handler: s.handler, ReadHeaderTimeout: 5 * time.Second}
	s.mu.Lock()
	s.hs = hs
	s.mu.Unlock()
	go func() { _ = hs.Serve(ln) }()
}

// refuse closes the listener and every open connection: from now on,
// connections to the port are refused.
func (s *switchServer) refuse() {
	s.mu.Lock()
	hs := s.hs
	s.hs = nil
	s.mu.Unlock()
	if hs != nil {
		_ = hs.Close()
	}
}

// accept listens on the same port again.
func (s *switchServer) accept() {
	deadline := time.Now().Add(5 * time.Second)
	for {
		ln, err := net.Listen("tcp", s.addr)
		if err == nil {
			s.serve(ln)
			return
		}
		if !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			s.tb.Errorf("listen again on %s: %v", s.addr, err)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
