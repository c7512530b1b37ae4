package cachetpage_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/statussync/statussync/cachet"
	"github.com/statussync/statussync/cachet/cachettest"
	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/engine"
	"github.com/statussync/statussync/internal/cachetpage"
)

const token = "test-token-abc"

// harness runs a reconciler, through the real Cachet adapter and client,
// against the Cachet fake.
type harness struct {
	tb      testing.TB
	srv     *cachettest.Server
	reg     *prometheus.Registry
	rec     *engine.Reconciler
	page    *cachetpage.Page
	cancel  context.CancelFunc
	done    chan struct{}
	compID  int
	spec    config.ComponentSpec
	metrics *engine.Metrics
}

// componentSpec returns a validated component spec (templates compiled).
func componentSpec(tb testing.TB, name string, id int, incidents bool) config.ComponentSpec {
	tb.Helper()
	cfg := &config.Config{
		Monitors:   []config.MonitorSpec{{Name: "m", TCP: &config.TCPProbe{Address: "127.0.0.1:1"}}},
		Components: []config.ComponentSpec{{Name: name, CachetID: id, Monitors: []string{"m"}, Incidents: config.IncidentSpec{Enabled: incidents}}},
	}
	d := config.Default()
	cfg.Cachet, cfg.CloudNS, cfg.Defaults, cfg.HA = d.Cachet, d.CloudNS, d.Defaults, d.HA
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	return cfg.Components[0]
}

func newHarness(tb testing.TB, srv *cachettest.Server, incidents bool) *harness {
	tb.Helper()
	if srv == nil {
		srv = cachettest.New(tb, cachettest.WithToken(token, "*"))
	}
	h := &harness{tb: tb, srv: srv}
	comps := srv.Components()
	if len(comps) == 0 {
		h.compID = srv.AddComponent("GitLab", 1).ID
	} else {
		h.compID = comps[0].ID
	}
	h.spec = componentSpec(tb, "GitLab", h.compID, incidents)
	h.start()
	return h
}

// start runs a fresh reconciler (a new process, as far as Cachet can tell).
func (h *harness) start() {
	h.tb.Helper()
	opts := cachet.DefaultOptions()
	opts.BaseURL, opts.Token, opts.Timeout = h.srv.URL(), token, 300*time.Millisecond
	opts.RetryWaitMin, opts.RetryWaitMax, opts.MaxRetries, opts.RateLimit = 5*time.Millisecond, 20*time.Millisecond, 1, -1
	client, err := cachet.New(opts)
	if err != nil {
		h.tb.Fatal(err)
	}
	h.reg = prometheus.NewRegistry()
	h.metrics = engine.NewMetrics(h.reg)
	h.page = cachetpage.New(client)
	h.rec = engine.NewReconciler(engine.ReconcilerDeps{Metrics: h.metrics})
	h.configure()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan struct{})
	go func() { defer close(h.done); h.rec.Run(ctx) }()
	h.tb.Cleanup(h.stop)
}

// configure (re)configures the reconciler with the harness's component.
func (h *harness) configure() {
	h.rec.Configure(engine.ReconcilerConfig{
		Page: h.page, Components: []config.ComponentSpec{h.spec},
		ResyncInterval: 100 * time.Millisecond, RespectManualChanges: true,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
	})
}

func (h *harness) stop() {
	if h.cancel != nil {
		h.cancel()
		<-h.done
		h.cancel = nil
	}
}

func (h *harness) desire(from, to engine.ComponentState, at time.Time) {
	h.rec.Desire(engine.ComponentUpdate{Component: h.spec, From: from, To: to, At: at, Reasons: map[string]string{"m": "HTTP 503"}})
}

func (h *harness) eventually(what string, cond func() bool) {
	h.tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.tb.Fatalf("timed out waiting for %s\nincidents: %+v\nwrites: %d", what, h.srv.Incidents(), len(h.srv.Writes()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *harness) status() int {
	c, _ := h.srv.Component(h.compID)
	return c.Status
}

func (h *harness) openIncidents() []cachettest.Incident {
	var out []cachettest.Incident
	for _, in := range h.srv.Incidents() {
		if in.Status != 4 {
			out = append(out, in)
		}
	}
	return out
}

func (h *harness) lastSuccess() float64 {
	return testutil.ToFloat64(prometheusGauge(h.reg, "statussync_reconcile_last_success_timestamp_seconds"))
}

// prometheusGauge reads a gauge by name from a registry.
func prometheusGauge(reg *prometheus.Registry, name string) prometheus.Collector {
	return gaugeReader{reg: reg, name: name}
}

type gaugeReader struct {
	reg  *prometheus.Registry
	name string
}

func (g gaugeReader) Describe(chan<- *prometheus.Desc) {}

func (g gaugeReader) Collect(ch chan<- prometheus.Metric) {
	mfs, _ := g.reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == g.name && len(mf.GetMetric()) > 0 {
			m := mf.GetMetric()[0]
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(g.name, "", nil, nil), prometheus.GaugeValue, v)
		}
	}
}

func TestOutageLifecycleAndSteadyState(t *testing.T) {
	h := newHarness(t, nil, true)
	start := time.Now().Add(-90 * time.Second).Truncate(time.Second)
	h.desire(engine.ComponentOperational, engine.ComponentMajorOutage, start)
	h.eventually("major outage and one incident", func() bool { return h.status() == 4 && len(h.openIncidents()) == 1 })

	in := h.openIncidents()[0]
	if in.Status != 1 || in.Visible != 1 || in.OccurredAt == nil || !in.OccurredAt.Equal(start) {
		t.Errorf("incident = status %d visible %d occurred_at %v, want 1, 1, %v", in.Status, in.Visible, in.OccurredAt, start)
	}
	if len(in.Components) != 1 || in.Components[0].ComponentID != h.compID || in.Components[0].Status != 4 {
		t.Errorf("incident impacts = %+v", in.Components)
	}
	if in.Meta["statussync_component"] != "GitLab" {
		t.Errorf("incident is not marked as statussync's: meta %v", in.Meta)
	}
	if strings.Contains(in.Message, "<!-- statussync:") {
		t.Errorf("Cachet stores metadata, yet subscribers read the adoption marker: %q", in.Message)
	}
	if strings.Contains(in.Message, "HTTP 503") || strings.Contains(in.Message, "127.0.0.1") {
		t.Errorf("default template published a reason or address: %q", in.Message)
	}

	h.desire(engine.ComponentMajorOutage, engine.ComponentOperational, time.Now())
	h.eventually("recovery", func() bool { return h.status() == 1 && len(h.openIncidents()) == 0 })
	if n := len(h.srv.Incidents()); n != 1 {
		t.Fatalf("%d incidents, want exactly 1", n)
	}
	ups := h.srv.IncidentUpdates(in.ID)
	if len(ups) != 1 || ups[0].Status != 4 {
		t.Errorf("updates = %+v, want one fixed update", ups)
	}

	// Steady state: many resync cycles (100ms each), no writes.
	writes := len(h.srv.Writes())
	time.Sleep(800 * time.Millisecond)
	if got := len(h.srv.Writes()); got != writes {
		t.Errorf("steady state wrote %d times over ~8 resyncs", got-writes)
	}
}

func TestLevelChangesPostUpdates(t *testing.T) {
	h := newHarness(t, nil, true)
	h.desire(engine.ComponentOperational, engine.ComponentPartialOutage, time.Now())
	h.eventually("partial outage", func() bool { return h.status() == 3 && len(h.openIncidents()) == 1 })
	id := h.openIncidents()[0].ID
	h.desire(engine.ComponentPartialOutage, engine.ComponentMajorOutage, time.Now())
	h.eventually("major outage update", func() bool { return h.status() == 4 && len(h.srv.IncidentUpdates(id)) == 1 })
	h.desire(engine.ComponentMajorOutage, engine.ComponentPerformanceIssues, time.Now())
	h.eventually("resolution", func() bool { return h.status() == 2 && len(h.openIncidents()) == 0 })
	if n := len(h.srv.Incidents()); n != 1 {
		t.Errorf("%d incidents for one outage, want 1", n)
	}
	ups := h.srv.IncidentUpdates(id)
	if len(ups) != 2 || ups[0].Status != 1 || ups[1].Status != 4 {
		t.Errorf("updates = %+v, want investigating then fixed", ups)
	}
}

func TestRestartMidOutageAdoptsTheOpenIncident(t *testing.T) {
	h := newHarness(t, nil, true)
	h.desire(engine.ComponentOperational, engine.ComponentMajorOutage, time.Now().Add(-time.Minute))
	h.eventually("incident", func() bool { return len(h.openIncidents()) == 1 })
	first := h.openIncidents()[0].ID

	for i := range 3 { // three restarts in the same outage
		h.stop()
		h.start()
		// The new process decides the outage afresh, with its own start.
		h.desire(engine.ComponentUnknown, engine.ComponentMajorOutage, time.Now())
		time.Sleep(300 * time.Millisecond)
		if open := h.openIncidents(); len(open) != 1 || open[0].ID != first {
			t.Fatalf("restart %d: open incidents %+v, want only %d", i, open, first)
		}
	}
	h.desire(engine.ComponentMajorOutage, engine.ComponentOperational, time.Now())
	h.eventually("the adopted incident resolved", func() bool {
		in, _ := h.srv.Incident(first)
		return in.Status == 4
	})
	if n := len(h.srv.Incidents()); n != 1 {
		t.Errorf("%d incidents, want 1", n)
	}
}

func TestRestartAfterTheOutageEndedResolvesTheLeftover(t *testing.T) {
	h := newHarness(t, nil, true)
	h.desire(engine.ComponentOperational, engine.ComponentMajorOutage, time.Now())
	h.eventually("incident", func() bool { return len(h.openIncidents()) == 1 })
	h.stop()
	h.start()
	h.desire(engine.ComponentUnknown, engine.ComponentOperational, time.Now())
	h.eventually("leftover resolved and status operational", func() bool { return len(h.openIncidents()) == 0 && h.status() == 1 })
	if n := len(h.srv.Incidents()); n != 1 {
		t.Errorf("%d incidents, want 1", n)
	}
}

func TestCachetFailingThroughoutAnOutage(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fail  func(*cachettest.Server)
		heal  func(*cachettest.Server)
		error string
	}{
		{"503", func(s *cachettest.Server) { s.FailNext(1<<30, 503) }, func(s *cachettest.Server) { s.FailNext(0, 0) }, "503"},
		{"timeouts", func(s *cachettest.Server) { s.SetLatency(time.Second) }, func(s *cachettest.Server) { s.SetLatency(0) }, "deadline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := cachettest.New(t, cachettest.WithToken(token, "*"))
			srv.AddComponent("GitLab", 1)
			tc.fail(srv)
			h := newHarness(t, srv, true)

			// An outage that begins and ends while Cachet fails, then a
			// second outage still going when Cachet returns.
			t0 := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
			t1 := t0.Add(4 * time.Minute)
			t2 := t0.Add(7 * time.Minute)
			h.desire(engine.ComponentOperational, engine.ComponentMajorOutage, t0)
			time.Sleep(150 * time.Millisecond)
			h.desire(engine.ComponentMajorOutage, engine.ComponentOperational, t1)
			time.Sleep(150 * time.Millisecond)
			h.desire(engine.ComponentOperational, engine.ComponentPartialOutage, t2)
			h.eventually("failed passes counted", func() bool {
				return testutil.ToFloat64(prometheusGauge(h.reg, "statussync_reconcile_errors_total")) >= 2
			})
			if h.lastSuccess() != 0 {
				t.Fatal("a pass succeeded while Cachet failed")
			}
			if len(srv.Incidents()) != 0 || h.status() != 1 {
				t.Fatal("something was written while Cachet failed")
			}

			tc.heal(srv)
			h.eventually("a successful pass", func() bool { return h.lastSuccess() > 0 })
			// One successful pass converges everything.
			incs := srv.Incidents()
			if len(incs) != 2 || h.status() != 3 {
				t.Fatalf("after the first successful pass: status %d, incidents %+v", h.status(), incs)
			}
			var missed, open cachettest.Incident
			for _, in := range incs {
				if in.Status == 4 {
					missed = in
				} else {
					open = in
				}
			}
			if missed.OccurredAt == nil || !missed.OccurredAt.Equal(t0) || !strings.Contains(missed.Message, "recorded after the fact") ||
				!strings.Contains(missed.Message, t0.UTC().Format("2006-01-02 15:04")) {
				t.Errorf("missed outage recorded as %+v", missed)
			}
			if open.OccurredAt == nil || !open.OccurredAt.Equal(t2) || open.Components[0].Status != 3 {
				t.Errorf("current outage recorded as %+v", open)
			}
		})
	}
}

func TestMaintenanceIsLeftAlone(t *testing.T) {
	t.Run("component under maintenance", func(t *testing.T) {
		srv := cachettest.New(t, cachettest.WithToken(token, "*"))
		srv.AddComponent("GitLab", 6)
		h := newHarness(t, srv, true)
		h.desire(engine.ComponentOperational, engine.ComponentMajorOutage, time.Now())
		h.eventually("a pass", func() bool { return h.lastSuccess() > 0 })
		time.Sleep(300 * time.Millisecond)
		if h.status() != 6 || len(srv.Incidents()) != 0 || len(srv.Writes()) != 0 {
			t.Errorf("maintenance overridden: status %d, incidents %d, writes %d", h.status(), len(srv.Incidents()), len(srv.Writes()))
		}
	})
	t.Run("running schedule", func(t *testing.T) {
		srv := cachettest.New(t, cachettest.WithToken(token, "*"))
		c := srv.AddComponent("GitLab", 1)
		srv.AddSchedule(cachettest.Schedule{Name: "upgrade", Message: "upgrade", ScheduledAt: time.Now().Add(-time.Minute),
			Components: []cachettest.Impact{{ComponentID: c.ID}}})
		h := newHarness(t, srv, true)
		h.desire(engine.ComponentOperational, engine.ComponentMajorOutage, time.Now())
		h.eventually("a pass", func() bool { return h.lastSuccess() > 0 })
		time.Sleep(300 * time.Millisecond)
		if h.status() != 1 || len(srv.Incidents()) != 0 || len(srv.Writes()) != 0 {
			t.Errorf("scheduled maintenance overridden: status %d, incidents %d, writes %d", h.status(), len(srv.Incidents()), len(srv.Writes()))
		}
	})
}

func TestManualChangeIsRespectedUntilStatussyncChangesItsMind(t *testing.T) {
	h := newHarness(t, nil, false)
	h.desire(engine.ComponentOperational, engine.ComponentMajorOutage, time.Now())
	h.eventually("major", func() bool { return h.status() == 4 })
	h.srv.SetComponentStatus(h.compID, 2) // a person says: only slow
	time.Sleep(400 * time.Millisecond)    // several resyncs
	if h.status() != 2 {
		t.Fatalf("manual status overwritten with %d", h.status())
	}
	h.desire(engine.ComponentMajorOutage, engine.ComponentOperational, time.Now())
	h.eventually("statussync's new decision written", func() bool { return h.status() == 1 })
}

func TestComponentOnlyModeOpensNoIncidents(t *testing.T) {
	h := newHarness(t, nil, false)
	h.desire(engine.ComponentOperational, engine.ComponentMajorOutage, time.Now())
	h.eventually("major", func() bool { return h.status() == 4 })
	h.desire(engine.ComponentMajorOutage, engine.ComponentOperational, time.Now())
	h.eventually("operational", func() bool { return h.status() == 1 })
	if n := len(h.srv.Incidents()); n != 0 {
		t.Errorf("%d incidents in component-only mode", n)
	}
}

func TestComponentFoundByName(t *testing.T) {
	srv := cachettest.New(t, cachettest.WithToken(token, "*"))
	srv.AddComponent("Other", 1)
	c := srv.AddComponent("GitLab", 1)
	h := newHarness(t, srv, false)
	h.compID = c.ID
	h.spec = componentSpec(t, "GitLab", 0, false)
	h.configure()
	h.desire(engine.ComponentOperational, engine.ComponentPartialOutage, time.Now())
	h.eventually("written by name", func() bool { return h.status() == 3 })
	if o, _ := srv.Component(1); o.Status != 1 {
		t.Errorf("the other component was written: %d", o.Status)
	}
}

// #13 point 6 end to end: the record of statussync's last write lives in
// the component's metadata on Cachet, so a new process respects a status
// set by hand; other metadata is kept.
func TestManualChangeSurvivesRestart(t *testing.T) {
	srv := cachettest.New(t, cachettest.WithToken(token, "*"))
	c := srv.AddComponent("GitLab", 1)
	c.Meta = map[string]any{"owner": "infra"}
	srv.PutComponent(c)
	h := newHarness(t, srv, false)
	h.desire(engine.ComponentOperational, engine.ComponentMajorOutage, time.Now())
	h.eventually("major", func() bool { return h.status() == 4 })
	if got, _ := srv.Component(h.compID); got.Meta["owner"] != "infra" || fmt.Sprint(got.Meta["statussync_status"]) != "4" {
		t.Fatalf("component meta after the write = %v", got.Meta)
	}
	h.srv.SetComponentStatus(h.compID, 2) // a person says: only slow
	h.stop()
	h.start() // a new process, which never saw the person's change
	h.desire(engine.ComponentOperational, engine.ComponentMajorOutage, time.Now())
	time.Sleep(400 * time.Millisecond) // several resyncs
	if h.status() != 2 {
		t.Fatalf("a restart overwrote the manual status with %d", h.status())
	}
}

// Without incident metadata (cores before 2026-07-13) the Markdown marker is
// the only way to recognise statussync's incident after a restart, so there
// it stays in the message, and a restarted reconciler adopts the incident
// instead of opening a second one.
func TestMarkerOnlyWhereCachetHasNoMeta(t *testing.T) {
	srv := cachettest.New(t, cachettest.WithToken(token, "*"), cachettest.WithProfile(cachettest.ProfilePreMeta))
	h := newHarness(t, srv, true)
	h.desire(engine.ComponentOperational, engine.ComponentMajorOutage, time.Now().Add(-time.Minute))
	h.eventually("major outage and one incident", func() bool { return h.status() == 4 && len(h.openIncidents()) == 1 })
	if in := h.openIncidents()[0]; !strings.Contains(in.Message, "<!-- statussync:component=GitLab;") {
		t.Fatalf("no marker on a Cachet without metadata: %q", in.Message)
	}
	h.stop()
	h.start()
	h.desire(engine.ComponentOperational, engine.ComponentMajorOutage, time.Now().Add(-time.Minute))
	h.desire(engine.ComponentMajorOutage, engine.ComponentOperational, time.Now())
	h.eventually("recovery", func() bool { return h.status() == 1 && len(h.openIncidents()) == 0 })
	if n := len(h.srv.Incidents()); n != 1 {
		t.Fatalf("%d incidents after a restart, want the one adopted", n)
	}
}

// #13.3 across restarts, through the adapter: the component's metadata
// records the outage statussync showed, so a new process that decides the
// same outage afresh (with its own start) finds the incident a person
// resolved and opens no other one.
func TestIncidentResolvedByHandStaysResolvedAcrossRestart(t *testing.T) {
	h := newHarness(t, nil, true)
	h.desire(engine.ComponentOperational, engine.ComponentMajorOutage, time.Now().Add(-time.Minute))
	h.eventually("incident", func() bool { return len(h.openIncidents()) == 1 })
	first := h.openIncidents()[0].ID
	if _, ok := h.srv.AddIncidentUpdate(first, 4, "Fixed, says a person."); !ok {
		t.Fatal("cannot resolve the incident by hand")
	}
	for i := range 2 {
		h.stop()
		h.start()
		h.desire(engine.ComponentUnknown, engine.ComponentMajorOutage, time.Now())
		time.Sleep(300 * time.Millisecond)
		if n := len(h.srv.Incidents()); n != 1 || len(h.openIncidents()) != 0 {
			t.Fatalf("restart %d: %d incidents (%d open), want only the one resolved by hand", i, n, len(h.openIncidents()))
		}
	}
	// The next outage gets its incident.
	h.desire(engine.ComponentMajorOutage, engine.ComponentOperational, time.Now())
	h.eventually("operational", func() bool { return h.status() == 1 })
	h.desire(engine.ComponentOperational, engine.ComponentMajorOutage, time.Now())
	h.eventually("new outage, new incident", func() bool { return len(h.openIncidents()) == 1 && h.openIncidents()[0].ID != first })
}

// #15 point 4 end to end: the bound on a manual status counts from the
// component's updated_at as Cachet reports it, so it holds for a process
// that never saw the person's change.
func TestManualChangeBoundedByUpdatedAt(t *testing.T) {
	srv := cachettest.New(t, cachettest.WithToken(token, "*"))
	// statussync wrote major outage; a person set "performance issues" an
	// hour ago.
	srv.PutComponent(cachettest.Component{Name: "GitLab", Status: 2, Enabled: true,
		Meta: map[string]any{"statussync_status": "4"}, UpdatedAt: time.Now().Add(-time.Hour)})
	h := newHarness(t, srv, false)
	bounded := func() {
		h.rec.Configure(engine.ReconcilerConfig{
			Page: h.page, Components: []config.ComponentSpec{h.spec},
			ResyncInterval: 100 * time.Millisecond, RespectManualChanges: true, ManualOverrideMax: 4 * time.Hour,
			MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		})
	}
	bounded()
	h.desire(engine.ComponentOperational, engine.ComponentMajorOutage, time.Now())
	time.Sleep(400 * time.Millisecond) // several resyncs
	if h.status() != 2 {
		t.Fatalf("a manual status 1h old (bound 4h) was overwritten with %d", h.status())
	}
	h.stop()
	c, _ := srv.Component(h.compID)
	c.UpdatedAt = time.Now().Add(-5 * time.Hour) // the same change, five hours ago
	srv.PutComponent(c)
	h.start()
	bounded()
	h.desire(engine.ComponentOperational, engine.ComponentMajorOutage, time.Now())
	h.eventually("desired status written after the bound", func() bool { return h.status() == 4 })
}
