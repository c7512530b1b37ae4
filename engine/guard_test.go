package engine

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/internal/testkit"
	"github.com/statussync/statussync/monitors"
)

// runFor applies cfg to a new engine for d and returns what it published.
func runFor(tb testing.TB, cfg *config.Config, d time.Duration) []ComponentUpdate {
	tb.Helper()
	sink := &recordingSink{samples: map[string]int{}}
	reg := prometheus.NewRegistry()
	e := New(Options{Metrics: NewMetrics(reg), MonitorMetrics: monitors.NewMetrics(reg), Sink: sink})
	if err := e.Apply(context.Background(), cfg, nil); err != nil {
		tb.Fatal(err)
	}
	time.Sleep(d)
	_ = e.Stop(time.Second)
	_, updates := sink.counts()
	return updates
}

// TestDefaultGuardWithoutConnectivityMonitors is the regression test for
// issue #13 point 11: without connectivity.monitors, a local network
// failure was reported as down. When every monitor of every kind fails at
// the same moment (here: three services of two kinds, all unreachable), it
// is no information; one service failing while the others answer is still
// an outage; a configuration with a single target has no guard to ask.
func TestDefaultGuardWithoutConnectivityMonitors(t *testing.T) {
	tcp := func(name, addr string) config.MonitorSpec {
		return config.MonitorSpec{Name: name, Interval: 40 * time.Millisecond, Timeout: 30 * time.Millisecond, FailuresBeforeDown: 1, TCP: &config.TCPProbe{Address: addr}}
	}
	httpm := func(name, addr string) config.MonitorSpec {
		return config.MonitorSpec{Name: name, Interval: 40 * time.Millisecond, Timeout: 30 * time.Millisecond, FailuresBeforeDown: 1, HTTP: &config.HTTPProbe{URL: "http://" + addr + "/"}}
	}
	mk := func(specs ...config.MonitorSpec) *config.Config {
		cfg := &config.Config{Monitors: specs}
		for _, s := range specs {
			cfg.Components = append(cfg.Components, config.ComponentSpec{Name: "C-" + s.Name, Monitors: []string{s.Name}})
		}
		return validated(t, cfg)
	}
	states := func(updates []ComponentUpdate) map[string]ComponentState {
		out := map[string]ComponentState{}
		for _, u := range updates {
			out[u.Component.Name] = u.To
		}
		return out
	}

	t.Run("everything unreachable is no information", func(t *testing.T) {
		cfg := mk(tcp("a", testkit.ClosedAddr(t)), tcp("b", testkit.ClosedAddr(t)), httpm("c", testkit.ClosedAddr(t)))
		if updates := runFor(t, cfg, 500*time.Millisecond); len(updates) != 0 {
			t.Errorf("with every monitor failing at once, components changed: %v", states(updates))
		}
	})
	t.Run("one service down is an outage", func(t *testing.T) {
		web := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		t.Cleanup(web.Close)
		cfg := mk(tcp("a", testkit.ClosedAddr(t)), tcp("b", testkit.Listener(t)), httpm("c", web.Listener.Addr().String()))
		got := states(runFor(t, cfg, 500*time.Millisecond))
		want := map[string]ComponentState{"C-a": ComponentMajorOutage, "C-b": ComponentOperational, "C-c": ComponentOperational}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("states %v, want %v", got, want)
		}
	})
	t.Run("two monitors of one target have no guard", func(t *testing.T) {
		addr := testkit.ClosedAddr(t)
		cfg := mk(tcp("a", addr), tcp("b", addr))
		got := states(runFor(t, cfg, 400*time.Millisecond))
		if got["C-a"] != ComponentMajorOutage || got["C-b"] != ComponentMajorOutage {
			t.Errorf("states %v, want both down: a single target cannot tell the network from the service", got)
		}
	})
}

func TestDefaultGuardSample(t *testing.T) {
	var specs []config.MonitorSpec
	entries := map[string]*monitorEntry{}
	add := func(spec config.MonitorSpec, kind string) {
		spec.Kind = kind
		specs = append(specs, spec)
		entries[spec.Name] = &monitorEntry{spec: &spec}
	}
	for i := range 12 {
		add(config.MonitorSpec{Name: fmt.Sprintf("h%d", i), HTTP: &config.HTTPProbe{URL: fmt.Sprintf("https://host%d.example.org/x", i%10)}}, "http")
	}
	add(config.MonitorSpec{Name: "dns", DNS: &config.DNSProbe{Server: "9.9.9.9:53"}}, "dns")
	add(config.MonitorSpec{Name: "ns", CloudNS: &config.CloudNSProbe{CheckID: 1}}, "cloudns")
	g := newGuard(&config.Config{Monitors: specs}, entries, time.Now)
	var names []string
	for _, m := range g.members {
		names = append(names, m.name)
	}
	// One of each kind first (cloudns excepted), then distinct hosts.
	if want := "[h0 dns h1 h2 h3 h4 h5 h6]"; fmt.Sprint(names) != want {
		t.Errorf("sample %v, want %s", names, want)
	}
	if g.guards(*entries["ns"].spec) || !g.guards(*entries["h11"].spec) {
		t.Error("cloudns monitors must not be guarded, every other monitor must")
	}
}

// countingMonitor answers a fixed status and counts its checks.
type countingMonitor struct {
	status monitors.Status
	checks atomic.Int32
}

func (m *countingMonitor) Check(context.Context) monitors.Result {
	m.checks.Add(1)
	return monitors.Result{Status: m.status}
}

// TestDefaultGuardChecksOnlyJudges: when a monitor fails, the default guard
// checks only the members with another target. Checking the failing
// target's own member (which hangs for its whole timeout when the target
// does) held every run of the failing monitor past its interval, so an
// outage took many intervals to reach the page at start
// (TestOutageOnPageSoonAfterStart).
func TestDefaultGuardChecksOnlyJudges(t *testing.T) {
	down, up := &countingMonitor{status: monitors.StatusDown}, &countingMonitor{status: monitors.StatusUp}
	g := &guard{fallback: true, now: time.Now, members: []guardMember{
		{name: "a", target: "a:80", mon: down, timeout: time.Second},
		{name: "b", target: "b:80", mon: up, timeout: time.Second},
	}}
	if g.isolated(context.Background(), "a:80", time.Now()) {
		t.Error("a failing while b answers: isolated")
	}
	if n := down.checks.Load(); n != 0 {
		t.Errorf("the failing target's own member was checked %d times", n)
	}
	// b's verdict is fresh: judging a's failure again checks nothing.
	if g.isolated(context.Background(), "a:80", time.Now()); up.checks.Load() != 1 {
		t.Errorf("b checked %d times, want 1 (its verdict is fresh)", up.checks.Load())
	}
	// b failing is judged by a alone, which fails too: isolated.
	if !g.isolated(context.Background(), "b:80", time.Now()) || down.checks.Load() != 1 {
		t.Errorf("b failing, judged by a (down, checked %d times): not isolated", down.checks.Load())
	}
}

// TestDefaultGuardTakesSuccessesSinceTheCheckBegan: a scheduled check of
// another target that succeeded while the failing check ran shows the
// network worked; the failure stands without asking the members, whose
// own checks can miss their timeout on a busy machine (a real outage then
// read as "our network is down" for minutes: TestOutageOnPageSoonAfterStart).
// A success from before the failing check began proves nothing.
func TestDefaultGuardTakesSuccessesSinceTheCheckBegan(t *testing.T) {
	slow := &countingMonitor{status: monitors.StatusDown} // b, timing out under load
	g := &guard{fallback: true, now: time.Now, members: []guardMember{
		{name: "a", target: "a:80", mon: &countingMonitor{status: monitors.StatusDown}, timeout: time.Second},
		{name: "b", target: "b:80", mon: slow, timeout: time.Second},
	}}
	began := time.Now()
	g.succeeded("c:80", began.Add(-time.Millisecond)) // before: no proof
	g.succeeded("a:80", began.Add(time.Millisecond))  // the failing target itself: no proof
	if !g.isolated(context.Background(), "a:80", began) || slow.checks.Load() != 1 {
		t.Fatalf("no other target answered since the check began: want isolated after asking b (asked %d times)", slow.checks.Load())
	}
	g.reach = nil
	g.succeeded("c:80", began.Add(time.Millisecond))
	if g.isolated(context.Background(), "a:80", began) {
		t.Error("c answered while a's check ran: isolated")
	}
	if n := slow.checks.Load(); n != 1 {
		t.Errorf("b asked %d times, want 1: a success since the check began is proof enough", n)
	}
	var nilGuard *guard
	nilGuard.succeeded("c:80", began) // monitors without a guard record nothing
}
