package monitors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/statussync/statussync/cloudns"
	"github.com/statussync/statussync/cloudns/cloudnstest"
	"github.com/statussync/statussync/config"
)

// Credentials of the fake account. The password is distinctive so that a
// leak anywhere is found by a plain substring search.
const (
	cloudnsTestAuthID   = 4242
	cloudnsTestPassword = "Zebra7731-cloudns-SECRET-q8v"
)

// fakeClock is the poller's clock in tests: real time plus an offset that
// tests advance, so that poll intervals pass without waiting.
type fakeClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// syncBuffer is a log sink shared by concurrent checks.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cloudnsKit is a fake ClouDNS account, a configuration loaded through
// config.Load as in production, and the poller built from it.
type cloudnsKit struct {
	srv     *cloudnstest.Server
	cfg     *config.Config
	reg     *prometheus.Registry
	metrics *CloudNSMetrics
	poller  *CloudNSPoller
	clock   *fakeClock
	logs    *syncBuffer
	logger  *slog.Logger
}

// checkTimeout bounds the checks of these tests. It is generous so that a
// loaded machine does not fail them; checks return as soon as their poll
// is done.
const checkTimeout = 30 * time.Second

// observedAt fails unless every result carries the same observation time,
// and returns it.
func observedAt(tb testing.TB, rs []Result) time.Time {
	tb.Helper()
	at := rs[0].ObservedAt
	for i, r := range rs {
		if at.IsZero() || !r.ObservedAt.Equal(at) {
			tb.Fatalf("result %d observed at %v, result 0 at %v", i, r.ObservedAt, at)
		}
	}
	return at
}

// newCloudNSKit starts a fake, lets seed add checks and return the monitors
// YAML (a list under monitors:), then loads the configuration and builds
// the poller. The client retries as in production but with millisecond
// waits, and runs at the highest rate the client allows; tunes adjust its
// options further.
func newCloudNSKit(tb testing.TB, seed func(srv *cloudnstest.Server) string, tunes ...func(*cloudns.Options)) *cloudnsKit {
	tb.Helper()
	srv := cloudnstest.New(tb, cloudnstest.WithRateLimit(0))
	srv.AddIdentity(cloudnstest.Identity{AuthID: cloudnsTestAuthID, Password: cloudnsTestPassword})
	monitorsYAML := seed(srv)
	cfg := loadCloudNSConfig(tb, srv.URL(), monitorsYAML)

	k := &cloudnsKit{srv: srv, cfg: cfg, reg: prometheus.NewRegistry(), clock: &fakeClock{}, logs: &syncBuffer{}}
	k.logger = slog.New(slog.NewJSONHandler(k.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	k.metrics = NewCloudNSMetrics(k.reg)
	p, err := newCloudNSPoller(cfg.CloudNS, k.logger, k.metrics, func(o *cloudns.Options) {
		o.RateLimit = cloudns.MaxRateLimit
		o.RetryWaitMin = time.Millisecond
		o.RetryWaitMax = 5 * time.Millisecond
		for _, tune := range tunes {
			tune(o)
		}
	})
	if err != nil {
		tb.Fatal(err)
	}
	p.now = k.clock.now
	k.poller = p
	tb.Cleanup(p.Close)
	return k
}

// loadCloudNSConfig loads a configuration with a cloudns block pointing at
// url and the given monitors.
func loadCloudNSConfig(tb testing.TB, url, monitorsYAML string) *config.Config {
	tb.Helper()
	yaml := fmt.Sprintf(`cloudns:
  url: %q
  auth_id: %d
  password: %q
  poll_interval: 1m
  timeout: 2s
  rate_limit: 15
monitors:
%s`, url, cloudnsTestAuthID, cloudnsTestPassword, monitorsYAML)
	file := filepath.Join(tb.TempDir(), "config.yml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		tb.Fatal(err)
	}
	cfg, err := config.Load(file, nil)
	if err != nil {
		tb.Fatalf("load config:\n%s\n%v", yaml, err)
	}
	return cfg
}

// monitorYAML is one cloudns monitor entry.
func monitorYAML(name string, sel string, extra ...string) string {
	s := fmt.Sprintf("  - name: %s\n    cloudns: {%s}\n", name, sel)
	for _, e := range extra {
		s += "    " + e + "\n"
	}
	return s
}

func byID(id int64) string      { return fmt.Sprintf("check_id: %d", id) }
func byName(name string) string { return fmt.Sprintf("check_name: %q", name) }

// monitors builds every configured monitor through New, as the engine does.
func (k *cloudnsKit) monitors(tb testing.TB) []Monitor {
	tb.Helper()
	out := make([]Monitor, 0, len(k.cfg.Monitors))
	for _, spec := range k.cfg.Monitors {
		m, err := New(spec, Deps{Logger: k.logger, CloudNS: k.poller})
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// poll runs one poll of the account, as the ticker does.
func (k *cloudnsKit) poll(tb testing.TB) error {
	tb.Helper()
	return k.poller.Poll(context.Background())
}

// checkAll runs every monitor's check at once and returns the results in
// order.
func checkAll(ms []Monitor, timeout time.Duration) []Result {
	out := make([]Result, len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			out[i] = m.Check(ctx)
		})
	}
	wg.Wait()
	return out
}

func (k *cloudnsKit) pollErrors(kind string) float64 {
	return testutil.ToFloat64(k.metrics.pollErrors.WithLabelValues(kind))
}

func (k *cloudnsKit) totalPollErrors() float64 {
	total := 0.0
	for _, kind := range cloudnsErrorKinds {
		total += k.pollErrors(kind.String())
	}
	return total
}

// pollCount is the number of polls observed (the histogram's count).
func (k *cloudnsKit) pollCount(tb testing.TB) uint64 {
	tb.Helper()
	mfs, err := k.reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "statussync_cloudns_poll_duration_seconds" {
			return mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	tb.Fatal("no poll duration histogram")
	return 0
}

// wantStatuses fails unless the results have these statuses and reasons.
func wantStatuses(tb testing.TB, rs []Result, want ...Result) {
	tb.Helper()
	for i, r := range rs {
		if r.Status != want[i].Status || r.Reason != want[i].Reason {
			tb.Errorf("monitor %d: got %s %q, want %s %q\n%s", i, r.Status, r.Reason, want[i].Status, want[i].Reason, dumpDetails(r))
		}
	}
}

func res(st Status, reason string) Result { return Result{Status: st, Reason: reason} }

func TestCloudNSMapping(t *testing.T) {
	var ids []int64
	k := newCloudNSKit(t, func(srv *cloudnstest.Server) string {
		ids = srv.Seed(6)
		srv.SetCheckStatus(ids[1], cloudnstest.StatusDown)
		srv.SetCheckStatus(ids[2], cloudnstest.StatusDown)
		srv.PauseCheck(ids[2]) // paused wins over down
		srv.SetCheckStatus(ids[3], cloudnstest.StatusUnknown)
		srv.SetCheckStatus(ids[4], cloudnstest.StatusDown)
		srv.AddCheck(cloudnstest.Check{Name: "twin", Status: cloudnstest.StatusDown})
		srv.AddCheck(cloudnstest.Check{Name: "twin", Status: cloudnstest.StatusUp})
		return monitorYAML("up-by-id", byID(ids[0])) +
			monitorYAML("up-by-name", byName("check-0001")) +
			monitorYAML("down-major", byID(ids[1])) +
			monitorYAML("down-partial", byID(ids[4]), "outage: partial") +
			monitorYAML("down-by-name", byName("check-0002")) +
			monitorYAML("paused", byID(ids[2])) +
			monitorYAML("status-unknown", byID(ids[3])) +
			monitorYAML("missing-id", byID(987654)) +
			monitorYAML("missing-name", byName("no-such-check")) +
			monitorYAML("ambiguous", byName("twin"))
	})
	ms := k.monitors(t)
	if err := k.poll(t); err != nil {
		t.Fatal(err)
	}
	rs := checkAll(ms, checkTimeout)

	tests := []struct {
		name       string
		status     Status
		reason     string
		cloudns    string // the "cloudns status" detail; "" if none
		errContain string
	}{
		{"up-by-id", StatusUp, reasonCloudNSUp, "up", ""},
		{"up-by-name", StatusUp, reasonCloudNSUp, "up", ""},
		{"down-major", StatusDown, reasonCloudNSDown, "down", ""},
		// outage: partial is the engine's business: the monitor reports
		// down and the spec keeps the outage level for the engine.
		{"down-partial", StatusDown, reasonCloudNSDown, "down", ""},
		{"down-by-name", StatusDown, reasonCloudNSDown, "down", ""},
		{"paused", StatusUnknown, reasonCloudNSPaused, "paused", ""},
		{"status-unknown", StatusUnknown, reasonCloudNSUnknown, "unknown", "status not determined (no_filter)"},
		{"missing-id", StatusUnknown, reasonCloudNSNotFound, "", "no check with id 987654"},
		{"missing-name", StatusUnknown, reasonCloudNSNotFound, "", `no check named "no-such-check"`},
		{"ambiguous", StatusUnknown, reasonCloudNSAmbiguous, "", `2 checks are named "twin"`},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rs[i]
			if k.cfg.Monitors[i].Name != tt.name {
				t.Fatalf("monitor %d is %q", i, k.cfg.Monitors[i].Name)
			}
			wantResult(t, r, tt.status, tt.reason)
			got, ok := detail(r, "cloudns status")
			if got != tt.cloudns || ok != (tt.cloudns != "") {
				t.Errorf("cloudns status detail %q (%v), want %q\n%s", got, ok, tt.cloudns, dumpDetails(r))
			}
			if tt.errContain == "" && r.Err != nil {
				t.Errorf("unexpected error %v", r.Err)
			}
			if tt.errContain != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), tt.errContain)) {
				t.Errorf("error %v, want it to contain %q", r.Err, tt.errContain)
			}
			if _, ok := detail(r, "snapshot age"); !ok {
				t.Errorf("no snapshot age detail\n%s", dumpDetails(r))
			}
		})
	}
	if k.cfg.Monitors[3].Outage != config.OutagePartial || k.cfg.Monitors[2].Outage != config.OutageMajor {
		t.Errorf("outage levels %q %q", k.cfg.Monitors[2].Outage, k.cfg.Monitors[3].Outage)
	}
	if v, _ := detail(rs[0], "check id"); v != fmt.Sprint(ids[0]) {
		t.Errorf("check id detail %q", v)
	}
	if v, _ := detail(rs[0], "check type"); v != "web" {
		t.Errorf("check type detail %q", v)
	}
	// Ten monitors, one poll: 8 checks fit a page in each listing.
	if n := k.srv.CallCount(""); n != 3 {
		t.Errorf("%d calls, want 3", n)
	}
	// A misconfigured selector is logged once, not on every check.
	checkAll(ms, checkTimeout)
	if n := strings.Count(k.logs.String(), "cloudns check not usable"); n != 3 {
		t.Errorf("%d problem logs, want 3 (missing id, missing name, ambiguous)\n%s", n, k.logs.String())
	}
}

// TestCloudNSCallsPerPoll is the acceptance test for sharing: 250 checks
// are 3 pages, and a poll costs 3 (catalogue) + 1 (down set) + 3 (up set) =
// 7 calls, whether 1, 10 or 50 monitors check at once, and nothing more
// until the poll interval has passed.
func TestCloudNSCallsPerPoll(t *testing.T) {
	for _, n := range []int{1, 10, 50} {
		t.Run(fmt.Sprintf("%d monitors", n), func(t *testing.T) {
			t.Parallel()
			var ids []int64
			k := newCloudNSKit(t, func(srv *cloudnstest.Server) string {
				ids = srv.Seed(250)
				for _, i := range []int{0, 100, 200} {
					srv.SetCheckStatus(ids[i], cloudnstest.StatusDown)
				}
				var b strings.Builder
				for i := range n {
					c := (i * 50) % 250 // hits the down checks 0, 100 and 200
					sel := byID(ids[c])
					if i%2 == 1 {
						sel = byName(fmt.Sprintf("check-%04d", c+1))
					}
					b.WriteString(monitorYAML(fmt.Sprintf("m%d", i), sel))
				}
				return b.String()
			})
			ms := k.monitors(t)
			wantAll := func(rs []Result) {
				t.Helper()
				for i, r := range rs {
					want := StatusUp
					if c := (i * 50) % 250; c%100 == 0 {
						want = StatusDown
					}
					if r.Status != want {
						t.Fatalf("monitor %d: %s, want %s\n%s", i, r.Status, want, dumpDetails(r))
					}
				}
			}

			if err := k.poll(t); err != nil {
				t.Fatal(err)
			}
			first := checkAll(ms, checkTimeout)
			wantAll(first)
			if got := k.srv.CallCount(cloudnstest.PathGetRecords); got != 7 || k.srv.CallCount("") != 7 {
				t.Fatalf("%d list calls, %d in all; want 7", got, k.srv.CallCount(""))
			}
			var pages []string
			for _, c := range k.srv.Calls() {
				pages = append(pages, fmt.Sprintf("status=%q page=%s rows=%s", c.Params.Get("status"), c.Params.Get("page"), c.Params.Get("rows-per-page")))
			}
			slices.Sort(pages)
			want := []string{
				`status="" page=1 rows=100`, `status="" page=2 rows=100`, `status="" page=3 rows=100`,
				`status="0" page=1 rows=100`,
				`status="1" page=1 rows=100`, `status="1" page=2 rows=100`, `status="1" page=3 rows=100`,
			}
			if !slices.Equal(pages, want) {
				t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(pages, "\n"), strings.Join(want, "\n"))
			}
			v, err := k.poller.Latest()
			if err != nil || v.Snapshot.Calls != 7 || len(v.Snapshot.Checks) != 250 {
				t.Fatalf("snapshot: %+v, %v", v, err)
			}
			if got := testutil.ToFloat64(k.metrics.pollCalls); got != 7 {
				t.Errorf("poll calls gauge %v", got)
			}

			// Checks only read: no call at all, however often they run,
			// and every re-read carries the poll's time, which the engine
			// counts once towards a monitor's thresholds.
			k.clock.advance(30 * time.Second)
			again := checkAll(ms, checkTimeout)
			wantAll(again)
			if a, b := observedAt(t, first), observedAt(t, again); !a.Equal(b) || !a.Equal(v.Snapshot.TakenAt) {
				t.Fatalf("re-read observed at %v, first read at %v, poll taken at %v", b, a, v.Snapshot.TakenAt)
			}
			if got := k.srv.CallCount(""); got != 7 || k.pollCount(t) != 1 {
				t.Fatalf("%d calls, %d polls after re-reads; want 7 and 1", got, k.pollCount(t))
			}
			// The next poll: exactly one more poll's worth of calls, and a
			// new observation.
			if err := k.poll(t); err != nil {
				t.Fatal(err)
			}
			next := checkAll(ms, checkTimeout)
			wantAll(next)
			if got := k.srv.CallCount(""); got != 14 || k.pollCount(t) != 2 {
				t.Fatalf("%d calls, %d polls after the next poll; want 14 and 2", got, k.pollCount(t))
			}
			if !observedAt(t, next).After(observedAt(t, first)) {
				t.Fatal("the next poll's results are not a later observation")
			}
		})
	}
}

// cloudnsFailure is one way for the ClouDNS API to fail.
type cloudnsFailure struct {
	name   string
	kind   string
	inject func(srv *cloudnstest.Server)
	clear  func(srv *cloudnstest.Server)
	tune   func(*cloudns.Options) // nil for none
}

// shortTimeout makes a slow response a quick failure: a 1s request timeout
// without retries.
func shortTimeout(o *cloudns.Options) {
	o.Timeout = time.Second
	o.MaxRetries = 0
}

const forever = 1_000_000

// tunes lists tune unless it is nil.
func tunes(tune func(*cloudns.Options)) []func(*cloudns.Options) {
	if tune == nil {
		return nil
	}
	return []func(*cloudns.Options){tune}
}

var cloudnsFailures = []cloudnsFailure{
	{
		name:   "auth error",
		kind:   "auth",
		inject: func(s *cloudnstest.Server) { s.FailNext(forever, cloudnstest.TextAuthFailed) },
		clear:  (*cloudnstest.Server).ClearFaults,
	},
	{
		name:   "permission",
		kind:   "permission",
		inject: func(s *cloudnstest.Server) { s.FailNext(forever, cloudnstest.TextPermission) },
		clear:  (*cloudnstest.Server).ClearFaults,
	},
	{
		name:   "rate limit failed body",
		kind:   "rate_limited",
		inject: func(s *cloudnstest.Server) { s.FailNext(forever, cloudnstest.RateLimitText("127.0.0.1", 20)) },
		clear:  (*cloudnstest.Server).ClearFaults,
	},
	{
		name:   "HTTP 503",
		kind:   "http_5xx",
		inject: func(s *cloudnstest.Server) { s.FailNextHTTP(forever, 503) },
		clear:  (*cloudnstest.Server).ClearFaults,
	},
	{
		name:   "timeout",
		kind:   "transport",
		inject: func(s *cloudnstest.Server) { s.SetLatency(10 * time.Second) },
		clear:  func(s *cloudnstest.Server) { s.SetLatency(0) },
		tune:   shortTimeout,
	},
	{
		name:   "dropped connection",
		kind:   "transport",
		inject: func(s *cloudnstest.Server) { s.DropNext(forever) },
		clear:  (*cloudnstest.Server).ClearFaults,
	},
	{
		name: "unreadable body",
		kind: "bad_response",
		inject: func(s *cloudnstest.Server) {
			s.Inject(cloudnstest.Fault{Times: forever, Body: "<html>maintenance</html>"})
		},
		clear: (*cloudnstest.Server).ClearFaults,
	},
}

// TestCloudNSFailingAPI: after a good poll, the API fails for several
// polls. Every monitor is unknown or repeats the last good poll's
// observation, never a new down: first the last good data (1.1 intervals
// old, still usable, with the same observation time, so the engine counts
// nothing new), then stale; each failed poll counts in poll_errors_total
// under its kind, the last-success timestamp stays, and recovery brings
// the real statuses back.
func TestCloudNSFailingAPI(t *testing.T) {
	for _, f := range cloudnsFailures {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			k := newCloudNSKit(t, func(srv *cloudnstest.Server) string {
				ids := srv.Seed(3)
				srv.SetCheckStatus(ids[1], cloudnstest.StatusDown)
				return monitorYAML("up", byID(ids[0])) + monitorYAML("down", byID(ids[1])) + monitorYAML("by-name", byName("check-0003"))
			}, tunes(f.tune)...)
			ms := k.monitors(t)
			interval := k.poller.PollInterval()
			healthy := []Result{res(StatusUp, reasonCloudNSUp), res(StatusDown, reasonCloudNSDown), res(StatusUp, reasonCloudNSUp)}
			if err := k.poll(t); err != nil {
				t.Fatal(err)
			}
			rs := checkAll(ms, checkTimeout)
			wantStatuses(t, rs, healthy...)
			goodAt := observedAt(t, rs)
			good := testutil.ToFloat64(k.metrics.lastSuccess)
			if good == 0 {
				t.Fatal("last success timestamp not set")
			}

			f.inject(k.srv)
			// First failed poll: the data is 1.1 intervals old and still
			// usable; it is the same observation as before, with the
			// failure in the details.
			k.clock.advance(interval * 11 / 10)
			if err := k.poll(t); cloudns.KindOf(err).String() != f.kind {
				t.Fatalf("poll error %v, want kind %s", err, f.kind)
			}
			rs = checkAll(ms, checkTimeout)
			wantStatuses(t, rs, healthy...)
			if at := observedAt(t, rs); !at.Equal(goodAt) {
				t.Errorf("a failed poll made a new observation: %v, was %v", at, goodAt)
			}
			for _, r := range rs {
				if got, _ := detail(r, "poll error kind"); got != f.kind {
					t.Errorf("poll error kind detail %q, want %q\n%s", got, f.kind, dumpDetails(r))
				}
			}
			// Further failed polls: stale, so unknown, never down.
			for poll := 2; poll <= 4; poll++ {
				calls := k.srv.CallCount("")
				k.clock.advance(interval * 11 / 10)
				_ = k.poll(t)
				rs := checkAll(ms, checkTimeout)
				stale := res(StatusUnknown, reasonCloudNSStale)
				wantStatuses(t, rs, stale, stale, stale)
				for _, r := range rs {
					if got := cloudns.KindOf(r.Err).String(); got != f.kind || !errors.Is(r.Err, ErrCloudNSStale) {
						t.Errorf("poll %d: error %v (kind %s), want a stale error of kind %s", poll, r.Err, got, f.kind)
					}
				}
				if got := k.pollErrors(f.kind); got != float64(poll) {
					t.Errorf("poll %d: poll_errors_total{kind=%q} = %v", poll, f.kind, got)
				}
				if got := k.totalPollErrors(); got != float64(poll) {
					t.Errorf("poll %d: %v poll errors in all", poll, got)
				}
				if got := testutil.ToFloat64(k.metrics.lastSuccess); got != good {
					t.Errorf("poll %d: last success moved from %v to %v", poll, good, got)
				}
				if calls == k.srv.CallCount("") {
					t.Errorf("poll %d made no call", poll)
				}
				// Checks never call ClouDNS themselves.
				calls = k.srv.CallCount("")
				checkAll(ms, checkTimeout)
				if got := k.srv.CallCount(""); got != calls {
					t.Errorf("poll %d: %d calls made by checks", poll, got-calls)
				}
			}

			f.clear(k.srv)
			k.clock.advance(interval)
			if err := k.poll(t); err != nil {
				t.Fatal(err)
			}
			wantStatuses(t, checkAll(ms, checkTimeout), healthy...)
			if got := testutil.ToFloat64(k.metrics.lastSuccess); got <= good {
				t.Errorf("last success %v did not move past %v after recovery", got, good)
			}
			if got := k.pollErrors(f.kind); got != 4 {
				t.Errorf("poll_errors_total{kind=%q} = %v after recovery, want 4", f.kind, got)
			}
		})
	}
}

// TestCloudNSFailingFromStart: without any good poll, every monitor is
// unknown with "ClouDNS poll failed", and the last-success timestamp stays 0.
func TestCloudNSFailingFromStart(t *testing.T) {
	k := newCloudNSKit(t, func(srv *cloudnstest.Server) string {
		ids := srv.Seed(2)
		srv.SetCheckStatus(ids[1], cloudnstest.StatusDown)
		srv.FailNextHTTP(forever, 502)
		return monitorYAML("up", byID(ids[0])) + monitorYAML("down", byID(ids[1]))
	})
	ms := k.monitors(t)
	failed := res(StatusUnknown, reasonCloudNSFailed)
	for poll := 1; poll <= 3; poll++ {
		if err := k.poll(t); cloudns.KindOf(err) != cloudns.KindServer {
			t.Fatalf("poll %d: %v", poll, err)
		}
		rs := checkAll(ms, checkTimeout)
		wantStatuses(t, rs, failed, failed)
		if got := cloudns.KindOf(rs[1].Err); got != cloudns.KindServer {
			t.Errorf("kind %v", got)
		}
		if v, _ := detail(rs[1], "snapshot"); v != "none" {
			t.Errorf("snapshot detail %q", v)
		}
		if got := k.pollErrors("http_5xx"); got != float64(poll) {
			t.Errorf("poll %d: %v errors", poll, got)
		}
		k.clock.advance(k.poller.PollInterval())
	}
	if got := testutil.ToFloat64(k.metrics.lastSuccess); got != 0 {
		t.Errorf("last success %v", got)
	}
}

// TestCloudNSStaleness pins the boundary: data up to two poll intervals old
// is used, older data is not.
func TestCloudNSStaleness(t *testing.T) {
	k := newCloudNSKit(t, func(srv *cloudnstest.Server) string {
		ids := srv.Seed(1)
		srv.SetCheckStatus(ids[0], cloudnstest.StatusDown)
		return monitorYAML("down", byID(ids[0]))
	})
	ms := k.monitors(t)
	interval := k.poller.PollInterval()
	if err := k.poll(t); err != nil {
		t.Fatal(err)
	}
	wantStatuses(t, checkAll(ms, checkTimeout), res(StatusDown, reasonCloudNSDown))
	k.srv.FailNextHTTP(forever, 500)

	k.clock.advance(2*interval - 20*time.Second)
	_ = k.poll(t)
	rs := checkAll(ms, checkTimeout)
	wantStatuses(t, rs, res(StatusDown, reasonCloudNSDown))
	if age, _ := detail(rs[0], "snapshot age"); !strings.HasPrefix(age, "1m4") {
		t.Errorf("snapshot age %q", age)
	}
	k.clock.advance(20*time.Second + time.Millisecond)
	wantStatuses(t, checkAll(ms, checkTimeout), res(StatusUnknown, reasonCloudNSStale))
}

// TestCloudNSChecksNeverWait: while a slow poll runs, a check with a tiny
// timeout returns at once with the data it has, and the poll goes on.
func TestCloudNSChecksNeverWait(t *testing.T) {
	k := newCloudNSKit(t, func(srv *cloudnstest.Server) string {
		ids := srv.Seed(1)
		return monitorYAML("short", byID(ids[0]))
	})
	ms := k.monitors(t)
	if err := k.poll(t); err != nil {
		t.Fatal(err)
	}
	k.srv.SetLatency(100 * time.Millisecond) // a poll takes at least 300ms
	polled := make(chan error)
	go func() { polled <- k.poll(t) }()
	for k.srv.CallCount("") == 3 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	r := checkAll(ms, 20*time.Millisecond)[0]
	wantResult(t, r, StatusUp, reasonCloudNSUp)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("check took %v while a poll ran", took)
	}
	if err := <-polled; err != nil {
		t.Errorf("the slow poll failed: %v", err)
	}
	if !checkAll(ms, 20*time.Millisecond)[0].ObservedAt.After(r.ObservedAt) {
		t.Error("the slow poll's data is not a new observation")
	}
}

// TestCloudNSPollerTicks: Start polls at once and then on every tick, calls
// the subscribers after each successful poll, never overlaps polls (a poll
// slower than the interval makes the ticker drop ticks), and stops at
// Close.
func TestCloudNSPollerTicks(t *testing.T) {
	srv := cloudnstest.New(t, cloudnstest.WithRateLimit(0))
	srv.AddIdentity(cloudnstest.Identity{AuthID: cloudnsTestAuthID, Password: cloudnsTestPassword})
	ids := srv.Seed(1)
	cfg := loadCloudNSConfig(t, srv.URL(), monitorYAML("a", byID(ids[0])))
	cfg.CloudNS.PollInterval = 250 * time.Millisecond
	p, err := newCloudNSPoller(cfg.CloudNS, nil, nil, func(o *cloudns.Options) { o.RateLimit = cloudns.MaxRateLimit })
	if err != nil {
		t.Fatal(err)
	}
	var notified atomic.Int32
	unsubscribe := p.Subscribe(func() { notified.Add(1) })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p.Start(ctx)
	p.Start(ctx) // a second Start is ignored
	time.Sleep(1100 * time.Millisecond)
	polls := srv.CallCount("") / 3
	if polls < 3 || polls > 5 {
		t.Errorf("%d polls in 1.1s at a 250ms interval, want 5 (at 0, 250, ... 1000ms)", polls)
	}
	if n := int(notified.Load()); n < polls-1 || n > polls {
		t.Errorf("%d notifications for %d polls", n, polls)
	}
	unsubscribe()
	before := notified.Load()

	// Answers of 150ms make a poll (3 calls) slower than the interval:
	// polls run back to back, never two at once, so 750ms hold at most 6
	// calls; overlapping polls would make more.
	srv.SetLatency(150 * time.Millisecond)
	time.Sleep(300 * time.Millisecond) // let the poll in flight end
	calls := srv.CallCount("")
	time.Sleep(750 * time.Millisecond)
	if got := srv.CallCount("") - calls; got == 0 || got > 6 {
		t.Errorf("%d calls in 750ms with 150ms answers, want 1 to 6 (polls must not overlap)", got)
	}
	if notified.Load() != before {
		t.Error("an unsubscribed function was called")
	}
	p.Close()
	calls = srv.CallCount("")
	time.Sleep(150 * time.Millisecond)
	if got := srv.CallCount(""); got != calls {
		t.Errorf("%d calls after Close", got-calls)
	}
	if _, err := p.Latest(); !errors.Is(err, ErrCloudNSClosed) {
		t.Errorf("Latest after Close: %v", err)
	}
}

// TestCloudNSInactive: a follower makes no call and reports "not the
// leader"; a new leader polls at once; losing leadership cancels a running
// poll without counting it as a ClouDNS failure; a closed poller reports so.
func TestCloudNSInactive(t *testing.T) {
	k := newCloudNSKit(t, func(srv *cloudnstest.Server) string {
		ids := srv.Seed(1)
		srv.SetCheckStatus(ids[0], cloudnstest.StatusDown)
		return monitorYAML("down", byID(ids[0]))
	}, func(o *cloudns.Options) { o.Timeout = 20 * time.Second })
	ms := k.monitors(t)
	if got := testutil.ToFloat64(k.metrics.active); got != 1 {
		t.Errorf("active gauge %v", got)
	}
	k.poller.SetActive(false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k.poller.Start(ctx)
	time.Sleep(50 * time.Millisecond)
	if err := k.poll(t); !errors.Is(err, ErrCloudNSInactive) {
		t.Errorf("poll while inactive: %v", err)
	}
	rs := checkAll(ms, checkTimeout)
	wantStatuses(t, rs, res(StatusUnknown, reasonCloudNSInactive))
	if !errors.Is(rs[0].Err, ErrCloudNSInactive) {
		t.Errorf("error %v", rs[0].Err)
	}
	if got := k.srv.CallCount(""); got != 0 {
		t.Fatalf("%d calls while inactive", got)
	}
	if got := testutil.ToFloat64(k.metrics.active); got != 0 {
		t.Errorf("active gauge %v", got)
	}

	// Becoming the leader polls at once, without waiting for the 1m tick.
	k.poller.SetActive(true)
	waitCalls := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for k.srv.CallCount("") < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d calls, want %d", k.srv.CallCount(""), n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitCalls(3)
	for checkAll(ms, checkTimeout)[0].Status != StatusDown {
		time.Sleep(time.Millisecond)
	}
	// Leadership lost and regained within the interval: poll again at once.
	k.poller.SetActive(false)
	k.poller.SetActive(true)
	waitCalls(6)

	// Leadership lost while a poll runs: the request would hang for 30s
	// (the client's timeout is 20s), but the poll ends at once and does
	// not count as a ClouDNS failure.
	time.Sleep(20 * time.Millisecond)
	k.srv.SetLatency(30 * time.Second)
	polled := make(chan error)
	go func() { polled <- k.poll(t) }()
	for k.srv.CallCount("") == 6 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	k.poller.SetActive(false)
	if err := <-polled; !errors.Is(err, ErrCloudNSInactive) {
		t.Errorf("abandoned poll returned %v", err)
	}
	if waited := time.Since(start); waited > 10*time.Second {
		t.Errorf("poll returned %v after leadership was lost", waited)
	}
	wantResult(t, checkAll(ms, checkTimeout)[0], StatusUnknown, reasonCloudNSInactive)
	if got := k.totalPollErrors(); got != 0 {
		t.Errorf("an abandoned poll counted as %v poll errors", got)
	}

	k.srv.SetLatency(0)
	k.poller.Close()
	k.poller.SetActive(true)
	calls := k.srv.CallCount("")
	time.Sleep(50 * time.Millisecond)
	wantStatuses(t, checkAll(ms, checkTimeout), res(StatusUnknown, reasonCloudNSClosed))
	if got := k.srv.CallCount(""); got != calls {
		t.Errorf("%d calls after Close", got-calls)
	}
}

// TestCloudNSIgnoredFilter: if ClouDNS ignored the status filter, every
// check would be listed as both up and down; the snapshot calls that a
// conflict, and the monitors are unknown, not down.
func TestCloudNSIgnoredFilter(t *testing.T) {
	k := newCloudNSKit(t, func(srv *cloudnstest.Server) string {
		ids := srv.Seed(3)
		srv.IgnoreFilters(true)
		return monitorYAML("a", byID(ids[0])) + monitorYAML("b", byID(ids[1]))
	})
	unknown := res(StatusUnknown, reasonCloudNSUnknown)
	if err := k.poll(t); err != nil {
		t.Fatal(err)
	}
	rs := checkAll(k.monitors(t), checkTimeout)
	wantStatuses(t, rs, unknown, unknown)
	if v, _ := detail(rs[0], "status source"); v != string(cloudns.ReasonBothFilters) {
		t.Errorf("status source %q", v)
	}
	if got := testutil.ToFloat64(k.metrics.conflicts); got != 3 {
		t.Errorf("conflicts gauge %v", got)
	}
}

// TestCloudNSRetriesCount: a 503 healed by the client's retry is a
// successful poll whose calls include the retry.
func TestCloudNSRetriesCount(t *testing.T) {
	k := newCloudNSKit(t, func(srv *cloudnstest.Server) string {
		ids := srv.Seed(1)
		return monitorYAML("a", byID(ids[0]))
	})
	k.srv.FailNextHTTP(1, 503)
	if err := k.poll(t); err != nil {
		t.Fatal(err)
	}
	wantStatuses(t, checkAll(k.monitors(t), checkTimeout), res(StatusUp, reasonCloudNSUp))
	if got := testutil.ToFloat64(k.metrics.pollCalls); got != 4 {
		t.Errorf("poll calls %v, want 3 + 1 retry", got)
	}
	if got := k.totalPollErrors(); got != 0 {
		t.Errorf("%v poll errors", got)
	}
}

func TestCloudNSMetrics(t *testing.T) {
	k := newCloudNSKit(t, func(srv *cloudnstest.Server) string {
		ids := srv.Seed(5)
		srv.SetCheckStatus(ids[0], cloudnstest.StatusDown)
		srv.SetCheckStatus(ids[1], cloudnstest.StatusUnknown)
		srv.PauseCheck(ids[2])
		return monitorYAML("a", byID(ids[0]))
	})
	if err := k.poll(t); err != nil {
		t.Fatal(err)
	}
	checkAll(k.monitors(t), checkTimeout)
	want := `
# HELP statussync_cloudns_checks Checks in the ClouDNS account by determined status (up, down, paused, unknown) at the last successful poll.
# TYPE statussync_cloudns_checks gauge
statussync_cloudns_checks{status="down"} 1
statussync_cloudns_checks{status="paused"} 1
statussync_cloudns_checks{status="unknown"} 1
statussync_cloudns_checks{status="up"} 2
# HELP statussync_cloudns_poll_calls HTTP requests, retries included, made by the last successful ClouDNS poll.
# TYPE statussync_cloudns_poll_calls gauge
statussync_cloudns_poll_calls 3
# HELP statussync_cloudns_poll_errors_total Failed ClouDNS polls by error kind.
# TYPE statussync_cloudns_poll_errors_total counter
statussync_cloudns_poll_errors_total{kind="auth"} 0
statussync_cloudns_poll_errors_total{kind="bad_response"} 0
statussync_cloudns_poll_errors_total{kind="canceled"} 0
statussync_cloudns_poll_errors_total{kind="http_5xx"} 0
statussync_cloudns_poll_errors_total{kind="http_other"} 0
statussync_cloudns_poll_errors_total{kind="not_found"} 0
statussync_cloudns_poll_errors_total{kind="other"} 0
statussync_cloudns_poll_errors_total{kind="permission"} 0
statussync_cloudns_poll_errors_total{kind="rate_limited"} 0
statussync_cloudns_poll_errors_total{kind="transport"} 0
# HELP statussync_cloudns_poller_active 1 if this replica polls ClouDNS (it is the leader), 0 if not.
# TYPE statussync_cloudns_poller_active gauge
statussync_cloudns_poller_active 1
# HELP statussync_cloudns_status_conflicts Checks whose status sources contradicted each other at the last successful ClouDNS poll (they count as unknown).
# TYPE statussync_cloudns_status_conflicts gauge
statussync_cloudns_status_conflicts 0
`
	if err := testutil.GatherAndCompare(k.reg, strings.NewReader(want),
		"statussync_cloudns_checks", "statussync_cloudns_poll_calls", "statussync_cloudns_poll_errors_total",
		"statussync_cloudns_poller_active", "statussync_cloudns_status_conflicts"); err != nil {
		t.Error(err)
	}
	if ts := testutil.ToFloat64(k.metrics.lastSuccess); ts < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last success %v", ts)
	}
	// The client's request metrics land in the same registry.
	if n, err := testutil.GatherAndCount(k.reg, "statussync_cloudns_requests_total"); err != nil || n == 0 {
		t.Errorf("client request metrics: %d series, %v", n, err)
	}

	// A reload calls NewCloudNSMetrics again on the same registry: no panic,
	// and the counters continue.
	k.metrics.pollErrors.WithLabelValues("auth").Inc()
	again := NewCloudNSMetrics(k.reg)
	if got := testutil.ToFloat64(again.pollErrors.WithLabelValues("auth")); got != 1 {
		t.Errorf("counter after re-registration %v", got)
	}
	again.Reset()
	if got := testutil.ToFloat64(again.checks.WithLabelValues("up")); got != 0 {
		t.Errorf("checks after Reset %v", got)
	}
	if got := testutil.ToFloat64(again.pollErrors.WithLabelValues("auth")); got != 1 {
		t.Errorf("Reset cleared a counter: %v", got)
	}
	var none *CloudNSMetrics
	none.Reset()
	none.pollFailed(errors.New("x"), time.Second)
}

// TestCloudNSPasswordLeaksNowhere runs polls that succeed and fail in every
// way, including a failure text that echoes the password, and looks for the
// password in results, errors, details, logs (at debug level) and metrics.
func TestCloudNSPasswordLeaksNowhere(t *testing.T) {
	k := newCloudNSKit(t, func(srv *cloudnstest.Server) string {
		ids := srv.Seed(2)
		return monitorYAML("a", byID(ids[0])) + monitorYAML("b", byName("check-0002"))
	}, shortTimeout)
	ms := k.monitors(t)
	var results []Result
	run := func() {
		_ = k.poll(t)
		results = append(results, checkAll(ms, checkTimeout)...)
		k.clock.advance(3 * k.poller.PollInterval())
	}
	run()
	for _, f := range cloudnsFailures {
		f.inject(k.srv)
		run()
		f.clear(k.srv)
	}
	k.srv.FailNext(forever, "Invalid authentication, wrong auth-password "+cloudnsTestPassword)
	run()
	k.srv.ClearFaults()
	// Wrong password: a poller whose configuration has another one.
	other := cloudnstest.New(t)
	other.AddIdentity(cloudnstest.Identity{AuthID: cloudnsTestAuthID, Password: "something-else"})
	cfg := k.cfg.CloudNS
	cfg.URL = other.URL()
	p, err := NewCloudNSPoller(cfg, k.logger, k.metrics)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	m, err := New(k.cfg.Monitors[0], Deps{Logger: k.logger, CloudNS: p})
	if err != nil {
		t.Fatal(err)
	}
	_ = p.Poll(context.Background())
	r := checkAll([]Monitor{m}, checkTimeout)[0]
	wantResult(t, r, StatusUnknown, reasonCloudNSFailed)
	if cloudns.KindOf(r.Err) != cloudns.KindAuth {
		t.Errorf("wrong password: %v", r.Err)
	}
	results = append(results, r)

	var texts []string
	for _, r := range results {
		texts = append(texts, r.Reason, dumpDetails(r), fmt.Sprintf("%v %+v", r.Err, r))
	}
	texts = append(texts, k.logs.String())
	mfs, err := k.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var exposition bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&exposition, mf); err != nil {
			t.Fatal(err)
		}
	}
	texts = append(texts, exposition.String(), fmt.Sprintf("%+v %#v", k.cfg.CloudNS, k.cfg.CloudNS))
	for _, s := range texts {
		if strings.Contains(s, cloudnsTestPassword) {
			t.Fatalf("password leaked in:\n%s", s)
		}
	}
	if !strings.Contains(k.logs.String(), "cloudns poll failed") {
		t.Error("no failed poll was logged, the log check proves nothing")
	}
}

func TestCheckCloudNSMonitors(t *testing.T) {
	var ids, twins []int64
	k := newCloudNSKit(t, func(srv *cloudnstest.Server) string {
		ids = srv.Seed(3)
		srv.PauseCheck(ids[2])
		twins = append(twins, srv.AddCheck(cloudnstest.Check{Name: "twin"}), srv.AddCheck(cloudnstest.Check{Name: "twin"}))
		return monitorYAML("good-id", byID(ids[0])) +
			monitorYAML("good-name", byName("check-0002")) +
			monitorYAML("missing-id", byID(99)) +
			monitorYAML("mail", byName("mail-smtp")) +
			monitorYAML("twins", byName("twin")) +
			monitorYAML("paused", byID(ids[2]))
	})
	warnings, err := CheckCloudNSMonitors(context.Background(), k.cfg, k.poller)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`monitors[2].cloudns.check_id (monitor "missing-id"): no ClouDNS check with id 99`,
		`monitors[3].cloudns.check_name (monitor "mail"): no ClouDNS check named "mail-smtp"`,
		fmt.Sprintf(`monitors[4].cloudns.check_name (monitor "twins"): 2 ClouDNS checks are named "twin" (ids %d, %d); select one with check_id`, twins[0], twins[1]),
		fmt.Sprintf(`monitors[5].cloudns.check_id (monitor "paused"): ClouDNS check %d is paused, so the monitor stays unknown`, ids[2]),
	}
	if !slices.Equal(warnings, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(warnings, "\n"), strings.Join(want, "\n"))
	}

	t.Run("throwaway poller", func(t *testing.T) {
		calls := k.srv.CallCount("")
		got, err := CheckCloudNSMonitors(context.Background(), k.cfg, nil)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%v, %v", got, err)
		}
		if k.srv.CallCount("") <= calls {
			t.Error("the throwaway poller did not poll")
		}
	})
	t.Run("account unreadable", func(t *testing.T) {
		k.srv.FailNext(forever, cloudnstest.TextAuthFailed)
		t.Cleanup(k.srv.ClearFaults)
		_, err := CheckCloudNSMonitors(context.Background(), k.cfg, nil)
		if cloudns.KindOf(err) != cloudns.KindAuth {
			t.Errorf("error %v, want an auth error", err)
		}
	})
	t.Run("nothing to check", func(t *testing.T) {
		calls := k.srv.CallCount("")
		noCreds := *k.cfg
		noCreds.CloudNS.Password = ""
		noMonitors := *k.cfg
		noMonitors.Monitors = nil
		for _, cfg := range []*config.Config{&noCreds, &noMonitors} {
			if got, err := CheckCloudNSMonitors(context.Background(), cfg, nil); got != nil || err != nil {
				t.Errorf("%v, %v", got, err)
			}
		}
		if k.srv.CallCount("") != calls {
			t.Error("polled without monitors or credentials")
		}
	})
}

func TestCloudNSConstructors(t *testing.T) {
	k := newCloudNSKit(t, func(srv *cloudnstest.Server) string { return monitorYAML("a", byID(1)) })
	if _, err := New(k.cfg.Monitors[0], Deps{}); err == nil || !strings.Contains(err.Error(), "poller") {
		t.Errorf("no poller: %v", err)
	}
	bad := k.cfg.Monitors[0]
	bad.CloudNS = &config.CloudNSProbe{}
	if _, err := New(bad, Deps{CloudNS: k.poller}); err == nil {
		t.Error("accepted an unvalidated selector")
	}
	cfg := k.cfg.CloudNS
	cfg.PollInterval = 0
	if _, err := NewCloudNSPoller(cfg, nil, nil); err == nil {
		t.Error("accepted a zero poll interval")
	}
	cfg = k.cfg.CloudNS
	cfg.AuthID = 0
	if _, err := NewCloudNSPoller(cfg, nil, nil); err == nil {
		t.Error("accepted no identity")
	}
}

// TestCloudNSClientOptionsComeFromTheConfig: every cloudns key reaches the
// client options, the loaded defaults included, and what the configuration
// has no key for is cloudns's documented default.
func TestCloudNSClientOptionsComeFromTheConfig(t *testing.T) {
	loaded := loadCloudNSConfig(t, "https://cloudns.example.test", "").CloudNS
	defaulted := config.Default().CloudNS
	defaulted.SubAuthUser, defaulted.Password = "ops", "pw"
	tests := []struct {
		name    string
		cfg     config.CloudNSConfig
		url     string
		timeout time.Duration
		rate    float64
	}{
		{"set", loaded, "https://cloudns.example.test", 2 * time.Second, 15},
		{"config defaults", defaulted, config.Default().CloudNS.URL, config.Default().CloudNS.Timeout, config.Default().CloudNS.RateLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CloudNSClientOptions(tt.cfg)
			if got.BaseURL != tt.url || got.Timeout != tt.timeout || got.RateLimit != tt.rate {
				t.Errorf("base url %q, timeout %v, rate %v; want %q, %v, %v", got.BaseURL, got.Timeout, got.RateLimit, tt.url, tt.timeout, tt.rate)
			}
			if got.AuthID != tt.cfg.AuthID || got.SubAuthID != tt.cfg.SubAuthID || got.SubAuthUser != tt.cfg.SubAuthUser {
				t.Errorf("identity %d/%d/%q, want %d/%d/%q", got.AuthID, got.SubAuthID, got.SubAuthUser, tt.cfg.AuthID, tt.cfg.SubAuthID, tt.cfg.SubAuthUser)
			}
			if got.Password != tt.cfg.Password.Reveal() {
				t.Error("the password is not the configured one") // not printed
			}
			def := cloudns.DefaultOptions()
			if got.UserAgent != def.UserAgent || got.MaxRetries != def.MaxRetries ||
				got.RetryWaitMin != def.RetryWaitMin || got.RetryWaitMax != def.RetryWaitMax {
				t.Errorf("agent %q, retries %d, waits %v..%v, want cloudns's defaults",
					got.UserAgent, got.MaxRetries, got.RetryWaitMin, got.RetryWaitMax)
			}
			c, err := cloudns.New(got)
			if err != nil {
				t.Fatalf("the client refuses the options of a valid config: %v", err)
			}
			c.CloseIdleConnections()
		})
	}
}

// TestCloudNSPollTimeout: the poll deadline comes from the options the
// client really runs with (not the package defaults), capped at the poll
// interval.
func TestCloudNSPollTimeout(t *testing.T) {
	mk := func(interval time.Duration, tune func(*cloudns.Options)) *CloudNSPoller {
		t.Helper()
		cfg := config.Default().CloudNS
		cfg.AuthID, cfg.Password, cfg.PollInterval = 1, "x", interval
		p, err := newCloudNSPoller(cfg, nil, nil, tune)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name     string
		interval time.Duration
		tune     func(*cloudns.Options)
		calls    int
		want     time.Duration
	}{
		// 2s attempts at 5/s, 2 retries waiting 1s and 2s (+50% jitter):
		// (3+2) x 2.2s + 1.5s + 3s.
		{"defaults", time.Minute, func(o *cloudns.Options) { o.Timeout, o.RateLimit = 2*time.Second, 5 }, 3, 15500 * time.Millisecond},
		// The same with 7 calls: (7+2) x 2.2s + 4.5s.
		{"more calls", time.Minute, func(o *cloudns.Options) { o.Timeout, o.RateLimit = 2*time.Second, 5 }, 7, 24300 * time.Millisecond},
		// No retries: just the calls, (3) x (2s + 100ms).
		{"no retries", time.Minute, func(o *cloudns.Options) { o.Timeout, o.RateLimit, o.MaxRetries = 2*time.Second, 10, 0 }, 3, 6300 * time.Millisecond},
		// Five retries with 4s waits, which the old default-based formula
		// did not budget: (3+5) x 1.2s + 5 x 6s.
		{"long retries", 2 * time.Minute, func(o *cloudns.Options) {
			o.Timeout, o.RateLimit, o.MaxRetries, o.RetryWaitMin, o.RetryWaitMax = time.Second, 5, 5, 4*time.Second, 4*time.Second
		}, 3, 39600 * time.Millisecond},
		// Capped at the interval.
		{"capped", 10 * time.Second, nil, 3, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mk(tt.interval, tt.tune)
			defer p.Close()
			if got := pollTimeout(p.interval, p.client.Budget(tt.calls)); got != tt.want {
				t.Errorf("poll timeout %v, want %v", got, tt.want)
			}
		})
	}
}
