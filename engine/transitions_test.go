package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/internal/testkit"
	"github.com/statussync/statussync/monitors"
)

// TestMonitorTransitionsCounter: statussync_monitor_transitions_total,
// rendered at scrape time, counts each monitor's changes by the state
// changed to, has no series for a state never reached, and starts again
// from nothing after a reload (as documented in docs/metrics.md).
func TestMonitorTransitionsCounter(t *testing.T) {
	addr := testkit.Listener(t)
	cfg := &config.Config{
		Monitors: []config.MonitorSpec{
			// Checks that never run during the test: results are fed by hand.
			{Name: "a", Interval: time.Hour, Timeout: time.Second, FailuresBeforeDown: 1, SuccessesBeforeUp: 1, TCP: &config.TCPProbe{Address: addr}},
			{Name: "b", Interval: time.Hour, Timeout: time.Second, FailuresBeforeDown: 1, SuccessesBeforeUp: 1, TCP: &config.TCPProbe{Address: addr}},
		},
		Components: []config.ComponentSpec{{Name: "C", Monitors: []string{"a", "b"}}},
	}
	d := config.Default()
	cfg.Cachet, cfg.CloudNS, cfg.Defaults, cfg.HA = d.Cachet, d.CloudNS, d.Defaults, d.HA
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	e := New(Options{Metrics: NewMetrics(reg), MonitorMetrics: monitors.NewMetrics(nil), Sink: &recordingSink{samples: map[string]int{}}})
	if err := e.Apply(context.Background(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = e.Stop(time.Second) }()
	feed := func(name string, st monitors.Status) {
		e.mu.Lock()
		gen := e.gen
		e.mu.Unlock()
		e.observe(gen, name, monitors.Result{Status: st, Latency: time.Millisecond})
	}
	want := func(expected string) {
		t.Helper()
		const head = "# HELP statussync_monitor_transitions_total Changes of a monitor's decided state, by the state it changed to.\n# TYPE statussync_monitor_transitions_total counter\n"
		if expected != "" {
			expected = head + expected
		}
		if err := testutil.GatherAndCompare(reg, strings.NewReader(expected), "statussync_monitor_transitions_total"); err != nil {
			t.Error(err)
		}
	}
	want("")
	feed("a", monitors.StatusUp)
	feed("a", monitors.StatusDown)
	feed("a", monitors.StatusDown) // no change
	feed("a", monitors.StatusUp)
	feed("b", monitors.StatusDegraded)
	want(`statussync_monitor_transitions_total{monitor="a",to="down"} 1
statussync_monitor_transitions_total{monitor="a",to="up"} 2
statussync_monitor_transitions_total{monitor="b",to="degraded"} 1
`)
	if err := e.Apply(context.Background(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	want("")
	feed("b", monitors.StatusDown)
	want(`statussync_monitor_transitions_total{monitor="b",to="down"} 1
`)
}
