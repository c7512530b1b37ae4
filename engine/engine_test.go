package engine

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/statussync/statussync/config"
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedAddr := closed.Addr().String()
	_ = closed.Close()

	cfg := &config.Config{
		Monitors: []config.MonitorSpec{
			{Name: "up", Interval: 50 * time.Millisecond, Timeout: 40 * time.Millisecond, TCP: &config.TCPProbe{Address: ln.Addr().String()}, Metric: &config.MetricSpec{Name: "Up latency"}},
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
	if err := e.Apply(context.Background(), cfg); err != nil {
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
