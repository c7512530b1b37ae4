package engine

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/statussync/statussync/cloudns"
	"github.com/statussync/statussync/cloudns/cloudnstest"
	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/monitors"
)

// pollLog records the polls of a poller (by the time each was taken) and
// the component decisions, under one lock.
type pollLog struct {
	mu       sync.Mutex
	polls    []time.Time
	flipAt   time.Time
	flip     func() // run once right after the next poll, then cleared
	detected map[string]int
	slowest  time.Duration // longest time from the flip to a decision
	latest   func() time.Time
}

func (l *pollLog) Configure(*config.Config)                             {}
func (l *pollLog) Sample(string, config.MetricSpec, float64, time.Time) {}

// Desire records, for an outage, how many polls taken after the flip the
// decision could have seen.
func (l *pollLog) Desire(u ComponentUpdate) {
	latest := l.latest()
	l.mu.Lock()
	defer l.mu.Unlock()
	if u.To != ComponentMajorOutage || l.flipAt.IsZero() {
		return
	}
	seen := map[time.Time]bool{}
	for _, p := range append(l.polls, latest) {
		if p.After(l.flipAt) && !p.After(latest) {
			seen[p] = true
		}
	}
	l.detected[u.Component.Name] = len(seen)
	l.slowest = max(l.slowest, time.Since(l.flipAt))
}

// TestCloudNSDetectionTakesTwoPolls is the regression test for ClouDNS
// monitors missing polls at the defaults (issue #13 point 10): with
// interval == poll_interval, the phase of each monitor's schedule against
// the poller decided whether a check found a new poll, so some checks said
// "no new data" and detection took 2 to 4 intervals. Every monitor must
// now observe every poll once, and an outage that ClouDNS reports is
// decided at exactly the second poll that sees it (failures_before_down 2),
// for all 30 monitors, whatever their phase and however long each poll
// takes.
func TestCloudNSDetectionTakesTwoPolls(t *testing.T) {
	const n = 30
	const interval = 500 * time.Millisecond
	srv := cloudnstest.New(t, cloudnstest.WithRateLimit(0))
	srv.AddIdentity(cloudnstest.Identity{AuthID: 7, Password: "pw"})
	ids := srv.Seed(n)

	cfg := &config.Config{CloudNS: config.Default().CloudNS}
	cfg.CloudNS.URL, cfg.CloudNS.AuthID, cfg.CloudNS.Password = srv.URL(), 7, "pw"
	cfg.CloudNS.PollInterval, cfg.CloudNS.Timeout, cfg.CloudNS.RateLimit = interval, time.Second, cloudns.MaxRateLimit
	for i, id := range ids {
		name := fmt.Sprintf("check-%d", i)
		cfg.Monitors = append(cfg.Monitors, config.MonitorSpec{
			Name: name, Kind: "cloudns", Interval: interval, Timeout: interval / 2,
			FailuresBeforeDown: 2, SuccessesBeforeUp: 2, Outage: config.OutageMajor,
			CloudNS: &config.CloudNSProbe{CheckID: id},
		})
		cfg.Components = append(cfg.Components, config.ComponentSpec{Name: name, Monitors: []string{name}})
	}

	poller, err := monitors.NewCloudNSPoller(cfg.CloudNS, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	log := &pollLog{detected: map[string]int{}}
	log.latest = func() time.Time {
		v, _ := poller.Latest()
		if v.Snapshot == nil {
			return time.Time{}
		}
		return v.Snapshot.TakenAt
	}
	poller.Subscribe(func() {
		taken := log.latest()
		log.mu.Lock()
		defer log.mu.Unlock()
		log.polls = append(log.polls, taken)
		// Polls alternately fast and slow (3 calls answered at once or
		// after 80ms each), as a real API's answer times vary: a check
		// scheduled between the two completion times finds a new poll or
		// not depending on the poll, unless polls drive the checks.
		srv.SetLatency(time.Duration(len(log.polls)%2) * 80 * time.Millisecond)
		if log.flip != nil {
			// Right after a poll and before the next one starts (this
			// runs on the poller's goroutine): every later poll sees
			// the outage whole.
			log.flip()
			log.flip = nil
			log.flipAt = time.Now()
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	poller.Start(ctx)
	t.Cleanup(poller.Close)
	reg := prometheus.NewRegistry()
	e := New(Options{Metrics: NewMetrics(reg), MonitorMetrics: monitors.NewMetrics(reg), Sink: log})
	if err := e.Apply(ctx, cfg, poller); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = e.Stop(time.Second) }()
	// Let every monitor settle on up and run at its own phase for a while.
	time.Sleep(3 * interval)

	log.mu.Lock()
	log.flip = func() {
		for _, id := range ids {
			srv.SetCheckStatus(id, cloudnstest.StatusDown)
		}
	}
	log.mu.Unlock()
	deadline := time.Now().Add(20 * interval)
	for {
		log.mu.Lock()
		done := len(log.detected) == n
		log.mu.Unlock()
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}

	log.mu.Lock()
	defer log.mu.Unlock()
	hist := map[int]int{}
	for i := range n {
		name := fmt.Sprintf("check-%d", i)
		polls, ok := log.detected[name]
		if !ok {
			t.Errorf("%s: outage not detected within %v", name, 20*interval)
			continue
		}
		hist[polls]++
		if polls != 2 {
			t.Errorf("%s: decided down after %d polls that saw the outage, want exactly 2", name, polls)
		}
	}
	t.Logf("monitors by polls needed to detect: %v; slowest detection %.2f poll intervals", hist, float64(log.slowest)/float64(interval))
}
