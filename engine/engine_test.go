package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/internal/testkit"
	"github.com/statussync/statussync/monitors"
)

// recordingSink records what the engine publishes.
type recordingSink struct {
	mu      sync.Mutex
	updates []ComponentUpdate
	samples map[string]int
}

func (s *recordingSink) Configure(*config.Config) {}
func (s *recordingSink) Desire(u ComponentUpdate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates = append(s.updates, u)
}

func (s *recordingSink) Sample(monitor string, _ config.MetricSpec, v float64, _ time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v <= 0 {
		panic("non-positive latency sampled")
	}
	s.samples[monitor]++
}

func (s *recordingSink) counts() (map[string]int, []ComponentUpdate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.samples {
		out[k] = v
	}
	return out, append([]ComponentUpdate(nil), s.updates...)
}

func TestEngineFeedsSamplesOfSuccessfulChecksOnly(t *testing.T) {
	upAddr := testkit.Listener(t)
	closedAddr := testkit.ClosedAddr(t)

	cfg := &config.Config{
		Monitors: []config.MonitorSpec{
			{Name: "up", Interval: 50 * time.Millisecond, Timeout: 40 * time.Millisecond, TCP: &config.TCPProbe{Address: upAddr}, Metric: &config.MetricSpec{Name: "Up latency"}},
			{Name: "down", Interval: 50 * time.Millisecond, Timeout: 40 * time.Millisecond, TCP: &config.TCPProbe{Address: closedAddr}, Metric: &config.MetricSpec{Name: "Down latency"}},
		},
		Components: []config.ComponentSpec{{Name: "C", Monitors: []string{"up", "down"}, StatusMap: map[string]string{"major_outage": "partial_outage"}}},
	}
	d := config.Default()
	cfg.Cachet, cfg.CloudNS, cfg.Defaults, cfg.HA = d.Cachet, d.CloudNS, d.Defaults, d.HA
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	sink := &recordingSink{samples: map[string]int{}}
	reg := prometheus.NewRegistry()
	e := New(Options{Metrics: NewMetrics(reg), MonitorMetrics: monitors.NewMetrics(reg), Sink: sink})
	if err := e.Apply(context.Background(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	if err := e.Stop(time.Second); err != nil {
		t.Fatal(err)
	}
	samples, updates := sink.counts()
	if samples["up"] < 3 || samples["down"] != 0 {
		t.Errorf("samples = %v, want several for the up monitor and none for the down one", samples)
	}
	// worst of up and down is major, which the status_map turns into partial.
	if len(updates) == 0 || updates[len(updates)-1].To != ComponentPartialOutage {
		t.Errorf("updates = %+v, want the last one partial_outage", updates)
	}
}

func validated(tb testing.TB, cfg *config.Config) *config.Config {
	tb.Helper()
	d := config.Default()
	cfg.Cachet, cfg.CloudNS, cfg.Defaults, cfg.HA = d.Cachet, d.CloudNS, d.Defaults, d.HA
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	return cfg
}

func TestConnectivityGuardTurnsDownIntoUnknown(t *testing.T) {
	fast := func(name, addr string) config.MonitorSpec {
		return config.MonitorSpec{Name: name, Interval: 40 * time.Millisecond, Timeout: 30 * time.Millisecond, FailuresBeforeDown: 1, TCP: &config.TCPProbe{Address: addr}}
	}
	// The uplink is down too: statussync's own network looks broken.
	cfg := validated(t, &config.Config{
		Monitors:     []config.MonitorSpec{fast("uplink", testkit.ClosedAddr(t)), fast("target", testkit.ClosedAddr(t))},
		Components:   []config.ComponentSpec{{Name: "C", Monitors: []string{"target"}}},
		Connectivity: config.ConnectivityConfig{Monitors: []string{"uplink"}},
	})
	sink := &recordingSink{samples: map[string]int{}}
	reg := prometheus.NewRegistry()
	e := New(Options{Metrics: NewMetrics(reg), MonitorMetrics: monitors.NewMetrics(reg), Sink: sink})
	if err := e.Apply(context.Background(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	_ = e.Stop(time.Second)
	if _, updates := sink.counts(); len(updates) != 0 {
		t.Errorf("with the uplink down too, the component changed: %+v", updates)
	}

	// Same target, uplink up: the target's failures count.
	upAddr := testkit.Listener(t)
	cfg.Monitors[0].TCP.Address = upAddr
	sink2 := &recordingSink{samples: map[string]int{}}
	reg2 := prometheus.NewRegistry()
	e2 := New(Options{Metrics: NewMetrics(reg2), MonitorMetrics: monitors.NewMetrics(reg2), Sink: sink2})
	if err := e2.Apply(context.Background(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	_ = e2.Stop(time.Second)
	if _, updates := sink2.counts(); len(updates) == 0 || updates[0].To != ComponentMajorOutage {
		t.Errorf("with the uplink up, updates = %+v, want major outage", updates)
	}
}

func TestReloadKeepsStateOfUnchangedMonitors(t *testing.T) {
	upAddr := testkit.Listener(t)
	mk := func(otherAddr string) *config.Config {
		return validated(t, &config.Config{
			Monitors: []config.MonitorSpec{
				{Name: "kept", Interval: 40 * time.Millisecond, Timeout: 30 * time.Millisecond, TCP: &config.TCPProbe{Address: upAddr}},
				{Name: "changed", Interval: 40 * time.Millisecond, Timeout: 30 * time.Millisecond, TCP: &config.TCPProbe{Address: otherAddr}},
			},
			Components: []config.ComponentSpec{{Name: "K", Monitors: []string{"kept"}}, {Name: "X", Monitors: []string{"changed"}}},
		})
	}
	first := mk(upAddr)
	// Fingerprints come from Load; give the hand-built configs distinct ones.
	first.Monitors[0].Fingerprint, first.Monitors[1].Fingerprint = "k", "c1"
	sink := &recordingSink{samples: map[string]int{}}
	reg := prometheus.NewRegistry()
	e := New(Options{Metrics: NewMetrics(reg), MonitorMetrics: monitors.NewMetrics(reg), Sink: sink})
	ctx := context.Background()
	if err := e.Apply(ctx, first, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	second := mk(testkit.ClosedAddr(t))
	second.Monitors[0].Fingerprint, second.Monitors[1].Fingerprint = "k", "c2"
	if err := e.Apply(ctx, second, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	_ = e.Stop(time.Second)

	_, updates := sink.counts()
	var k []ComponentState
	for _, u := range updates {
		if u.Component.Name == "K" {
			k = append(k, u.To)
		}
	}
	if len(k) != 1 || k[0] != ComponentOperational {
		t.Errorf("component K, whose monitor did not change, went through %v; want one decision kept across the reload", k)
	}
	e.mu.Lock()
	changed := e.monitors["changed"].state.state
	e.mu.Unlock()
	if changed != monitors.StatusDown {
		t.Errorf("the changed monitor is %v, want down from its new target", changed)
	}
}
