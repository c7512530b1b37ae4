package cachetpage_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/statussync/statussync/cachet"
	"github.com/statussync/statussync/cachet/cachettest"
	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/engine"
	"github.com/statussync/statussync/internal/cachetpage"
)

// fakeClock is a settable clock for windows that are minutes long.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) Now() time.Time  { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Set(t time.Time) { c.ns.Store(t.UnixNano()) }
func at(hhmmss string) time.Time {
	t, _ := time.Parse("15:04:05", hhmmss)
	return t.AddDate(2026, 0, 0)
}
func waitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func runMetricReconciler(tb testing.TB, srv *cachettest.Server, clock *fakeClock) *engine.Reconciler {
	tb.Helper()
	opts := cachet.DefaultOptions()
	opts.BaseURL, opts.Token, opts.RateLimit, opts.MaxRetries = srv.URL(), token, -1, 0
	client, err := cachet.New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	rec := engine.NewReconciler(engine.ReconcilerDeps{Metrics: engine.NewMetrics(prometheus.NewRegistry()), Now: clock.Now})
	rec.Configure(engine.ReconcilerConfig{
		Page:           cachetpage.New(client),
		Metrics:        map[string]config.MetricSpec{"gitlab-web": {}, "api": {}},
		ResyncInterval: 50 * time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); rec.Run(ctx) }()
	tb.Cleanup(func() { cancel(); <-done })
	time.Sleep(50 * time.Millisecond) // let Run start (it drops samples older than its start)
	return rec
}

func TestMetricPointsAveragedPerThresholdWindow(t *testing.T) {
	srv := cachettest.New(t, cachettest.WithToken(token, "*"))
	clock := &fakeClock{}
	clock.Set(at("10:00:00"))
	rec := runMetricReconciler(t, srv, clock)
	spec := config.MetricSpec{Name: "GitLab latency", Suffix: "ms", Threshold: 5}

	for i, v := range []float64{100, 200, 300} {
		rec.Sample("gitlab-web", spec, v, at("10:00:10").Add(time.Duration(i)*time.Minute))
	}
	rec.Sample("gitlab-web", spec, 999, at("10:05:10")) // next window, still open
	clock.Set(at("10:05:30"))

	waitFor(t, func() bool { return len(srv.Metrics()) == 1 && len(srv.MetricPoints(srv.Metrics()[0].ID)) == 1 })
	m := srv.Metrics()[0]
	if m.Name != "GitLab latency" || m.Threshold != 5 || m.CalcType != 1 {
		t.Errorf("metric created as %+v, want average with threshold 5", m)
	}
	p := srv.MetricPoints(m.ID)[0]
	if p.Value != 200 || p.Counter != 1 || !p.CreatedAt.Equal(at("10:00:00")) {
		t.Errorf("point = value %v counter %d at %v, want the window's average 200 once, at 10:00", p.Value, p.Counter, p.CreatedAt)
	}

	time.Sleep(300 * time.Millisecond) // several passes: the open window stays unposted
	if n := len(srv.MetricPoints(m.ID)); n != 1 {
		t.Fatalf("%d points before the second window closed", n)
	}
	clock.Set(at("10:10:01"))
	waitFor(t, func() bool { return len(srv.MetricPoints(m.ID)) == 2 })
	if p := srv.MetricPoints(m.ID)[1]; p.Value != 999 || p.Counter != 1 {
		t.Errorf("second point = %+v", p)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(srv.MetricPoints(m.ID)); n != 2 || len(srv.Metrics()) != 1 {
		t.Errorf("without samples: %d points, %d metrics; want no more writes", n, len(srv.Metrics()))
	}
}

func TestMetricPointsUseTheThresholdCachetHas(t *testing.T) {
	srv := cachettest.New(t, cachettest.WithToken(token, "*"))
	existing := srv.AddMetric("API latency", "ms", 1) // one point a minute
	clock := &fakeClock{}
	clock.Set(at("09:00:00"))
	rec := runMetricReconciler(t, srv, clock)
	spec := config.MetricSpec{ID: existing.ID, Threshold: 5} // config's threshold only applies to creation
	rec.Sample("api", spec, 10, at("09:00:05"))
	rec.Sample("api", spec, 30, at("09:00:40"))
	rec.Sample("api", spec, 50, at("09:01:20"))
	clock.Set(at("09:02:05"))
	waitFor(t, func() bool { return len(srv.MetricPoints(existing.ID)) == 2 })
	ps := srv.MetricPoints(existing.ID)
	if ps[0].Value != 20 || ps[1].Value != 50 || len(srv.Metrics()) != 1 {
		t.Errorf("points = %v, %v; metrics %d", ps[0].Value, ps[1].Value, len(srv.Metrics()))
	}
}
