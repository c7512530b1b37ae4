package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/statussync/statussync/config"
)

// recHarness runs a reconciler against an in-memory page: fast, no HTTP.
type recHarness struct {
	t      *testing.T
	page   *memPage
	rec    *Reconciler
	cfg    ReconcilerConfig
	cancel context.CancelFunc
	done   chan struct{}
}

// specs returns validated component specs (templates compiled), one per
// name, with the cachet ids given.
func specs(t *testing.T, incidents bool, names map[string]int) []config.ComponentSpec {
	t.Helper()
	cfg := &config.Config{Monitors: []config.MonitorSpec{{Name: "m", TCP: &config.TCPProbe{Address: "127.0.0.1:1"}}}}
	for name, id := range names {
		cfg.Components = append(cfg.Components, config.ComponentSpec{Name: name, CachetID: id, Monitors: []string{"m"}, Incidents: config.IncidentSpec{Enabled: incidents}})
	}
	d := config.Default()
	cfg.Cachet, cfg.CloudNS, cfg.Defaults, cfg.HA = d.Cachet, d.CloudNS, d.Defaults, d.HA
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg.Components
}

func spec(t *testing.T, name string, id int, incidents bool) config.ComponentSpec {
	return specs(t, incidents, map[string]int{name: id})[0]
}

func newRecHarness(t *testing.T, page *memPage, comps ...config.ComponentSpec) *recHarness {
	h := &recHarness{t: t, page: page, cfg: ReconcilerConfig{
		Page: page, Components: comps, ResyncInterval: time.Hour, RespectManualChanges: true,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond, MaintenanceMaxAge: 20 * time.Millisecond,
	}}
	h.rec = NewReconciler(ReconcilerDeps{})
	h.rec.Configure(h.cfg)
	h.start()
	return h
}

// start begins a term (a new process or leader, as far as the page can
// tell; the desired state carries over).
// gitLab runs a reconciler for one operational component, GitLab (id 1).
func gitLab(t *testing.T, incidents bool) (*memPage, config.ComponentSpec, *recHarness) {
	p := newMemPage()
	p.addComponent(1, "GitLab", ComponentOperational)
	c := spec(t, "GitLab", 1, incidents)
	return p, c, newRecHarness(t, p, c)
}

func (h *recHarness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan struct{})
	listed := h.page.count("list-components")
	go func() { defer close(h.done); h.rec.Run(ctx) }()
	h.t.Cleanup(h.stop)
	// Run drops samples older than its start: let it start first.
	h.eventually("the term's first listing", func() bool { return h.page.count("list-components") > listed })
}

func (h *recHarness) stop() {
	if h.cancel != nil {
		h.cancel()
		<-h.done
		h.cancel = nil
	}
}

func (h *recHarness) configure(f func(*ReconcilerConfig)) {
	f(&h.cfg)
	h.rec.Configure(h.cfg)
}

func (h *recHarness) desire(s config.ComponentSpec, to ComponentState) {
	h.rec.Desire(ComponentUpdate{Component: s, To: to, At: time.Now(), Reasons: map[string]string{"m": "HTTP 503"}})
}

func (h *recHarness) eventually(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s\nwrites: %q", what, h.page.writeLog())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// settle waits a few passes' worth, for asserting that nothing happens.
func (h *recHarness) settle() { time.Sleep(150 * time.Millisecond) }

func (h *recHarness) noNewWrites(before int, why string) {
	h.t.Helper()
	h.settle()
	if w := h.page.writeLog(); len(w) != before {
		h.t.Errorf("%s: new writes %q", why, w[before:])
	}
}

func TestIncidentOpenUpdateResolveAndSteadyState(t *testing.T) {
	p, c, h := gitLab(t, true)
	h.desire(c, ComponentOperational)
	h.noNewWrites(0, "steady state")

	h.desire(c, ComponentPartialOutage)
	h.eventually("incident opened", func() bool { return len(p.open(1)) == 1 && p.status(1) == ComponentPartialOutage })
	h.desire(c, ComponentMajorOutage)
	h.eventually("incident updated", func() bool { return len(p.open(1)[0].updates) == 2 && p.status(1) == ComponentMajorOutage })
	h.desire(c, ComponentOperational)
	h.eventually("incident resolved", func() bool { return len(p.open(1)) == 0 && p.status(1) == ComponentOperational })
	all := p.allIncidents()
	if len(all) != 1 || len(all[0].updates) != 3 || all[0].Status != IncidentFixed {
		t.Fatalf("incidents = %+v, want one, opened, updated once and resolved", all)
	}
	h.noNewWrites(len(p.writeLog()), "after recovery")
}

func TestIncidentAdoptedAfterRestart(t *testing.T) {
	p, c, h := gitLab(t, true)
	h.desire(c, ComponentMajorOutage)
	h.eventually("incident opened", func() bool { return len(p.open(1)) == 1 })
	h.stop()

	// A new process mid-outage: new reconciler, same page.
	h2 := newRecHarness(t, p, c)
	h2.desire(c, ComponentMajorOutage)
	h2.settle()
	if n := len(p.allIncidents()); n != 1 {
		t.Fatalf("%d incidents after the restart, want the first adopted", n)
	}
	h2.desire(c, ComponentOperational)
	h2.eventually("adopted incident resolved", func() bool { return len(p.open(1)) == 0 })

	// A restart after the outage ended while nothing ran resolves the
	// leftover.
	h2.desire(c, ComponentMajorOutage)
	h2.eventually("second incident", func() bool { return len(p.open(1)) == 1 })
	h2.stop()
	h3 := newRecHarness(t, p, c)
	h3.desire(c, ComponentOperational)
	h3.eventually("leftover resolved", func() bool { return len(p.open(1)) == 0 })
	if n := len(p.allIncidents()); n != 2 {
		t.Errorf("%d incidents, want 2", n)
	}
}

func TestIncidentLostResponsesNeverDuplicate(t *testing.T) {
	p := newMemPage()
	p.addComponent(1, "GitLab", ComponentOperational)
	lost := map[string]int{"create-incident": 1, "update-incident": 2}
	p.lose = func(op string, _ int) bool {
		if lost[op] > 0 {
			lost[op]--
			return true
		}
		return false
	}
	c := spec(t, "GitLab", 1, true)
	h := newRecHarness(t, p, c)
	h.desire(c, ComponentPartialOutage)
	h.eventually("incident opened", func() bool { return len(p.open(1)) == 1 })
	h.settle()                        // the create's response was lost: the incident is adopted
	h.desire(c, ComponentMajorOutage) // the update's response is lost
	h.settle()
	h.desire(c, ComponentOperational) // and the resolve's
	h.eventually("resolved", func() bool { return len(p.open(1)) == 0 })
	h.settle()
	all := p.allIncidents()
	if len(all) != 1 {
		t.Fatalf("%d incidents, want 1", len(all))
	}
	if n := len(all[0].updates); n != 3 {
		t.Errorf("%d messages %q, want create, one update and one resolve", n, all[0].updates)
	}
}

// On an older Cachet the listing of every open incident is rejected (it
// asks for metadata), and one component's reads may fail: the others are
// written all the same.
func TestFailingListingOfOneComponentDoesNotBlockOthers(t *testing.T) {
	p := newMemPage()
	p.addComponent(1, "A", ComponentOperational)
	p.addComponent(2, "B", ComponentOperational)
	p.fail = func(op string, id int) error {
		if op == "open-incidents" && (id == 0 || id == 1) {
			return errDown
		}
		return nil
	}
	cs := specs(t, true, map[string]int{"A": 1, "B": 2})
	h := newRecHarness(t, p, cs...)
	for _, c := range cs {
		h.desire(c, ComponentMajorOutage)
	}
	h.eventually("B written with its incident, A's status written", func() bool {
		return p.status(1) == ComponentMajorOutage && p.status(2) == ComponentMajorOutage && len(p.open(2)) == 1
	})
	if len(p.open(1)) != 0 {
		t.Error("A got an incident although its listing fails")
	}
	p.mu.Lock()
	p.fail = nil
	p.mu.Unlock()
	h.eventually("A's incident once its listing works", func() bool { return len(p.open(1)) == 1 })
}

// #13 point 8: a dangling cachet_id backs off alone.
func TestBrokenComponentDoesNotDelayOthers(t *testing.T) {
	p := newMemPage()
	p.addComponent(2, "B", ComponentOperational)
	cs := specs(t, false, map[string]int{"Gone": 99, "B": 2})
	h := newRecHarness(t, p, cs...)
	h.configure(func(c *ReconcilerConfig) { c.MinBackoff, c.MaxBackoff = time.Hour, time.Hour })
	var gone, b config.ComponentSpec
	for _, c := range cs {
		if c.Name == "Gone" {
			gone = c
		} else {
			b = c
		}
	}
	h.desire(gone, ComponentMajorOutage)
	time.Sleep(20 * time.Millisecond) // Gone fails and backs off for an hour
	start := time.Now()
	h.desire(b, ComponentMajorOutage)
	h.eventually("B written while Gone backs off", func() bool { return p.status(2) == ComponentMajorOutage })
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("B written after %s", d)
	}
	if n := p.count("get-component"); n > 2 {
		t.Errorf("Gone read %d times while backing off", n)
	}
}

// #13 point 3: a person's status is never moved backwards, a resolved
// incident stays resolved for the rest of its outage.
func TestIncidentStatusOfAPersonIsNeverMovedBack(t *testing.T) {
	p, c, h := gitLab(t, true)
	h.desire(c, ComponentPartialOutage)
	h.eventually("opened", func() bool { return len(p.open(1)) == 1 })
	id := p.open(1)[0].ID
	p.humanIncidentStatus(id, IncidentIdentified)
	h.desire(c, ComponentMajorOutage)
	h.eventually("updated", func() bool { return len(p.allIncidents()[0].updates) == 3 })
	if st := p.allIncidents()[0].Status; st != IncidentIdentified {
		t.Errorf("status after statussync's update = %d, want identified (2) kept", st)
	}

	p.humanIncidentStatus(id, IncidentFixed)
	before := len(p.writeLog())
	h.desire(c, ComponentPartialOutage)
	h.eventually("status written", func() bool { return p.status(1) == ComponentPartialOutage })
	h.desire(c, ComponentMajorOutage)
	h.desire(c, ComponentOperational)
	h.eventually("recovered", func() bool { return p.status(1) == ComponentOperational })
	h.settle()
	for _, w := range p.writeLog()[before:] {
		if strings.HasPrefix(w, "update") || strings.HasPrefix(w, "create") {
			t.Errorf("incident written after a person resolved it: %q", w)
		}
	}
	// The next outage is a new one: it gets a new incident.
	h.desire(c, ComponentMajorOutage)
	h.eventually("new outage, new incident", func() bool { return len(p.open(1)) == 1 && p.open(1)[0].ID != id })
}

// #14: an incident a person deleted is not retried nor reopened.
func TestDeletedIncidentIsNotReopened(t *testing.T) {
	p, c, h := gitLab(t, true)
	h.desire(c, ComponentPartialOutage)
	h.eventually("opened", func() bool { return len(p.open(1)) == 1 })
	p.humanDeleteIncident(p.open(1)[0].ID)
	before := len(p.writeLog())
	h.desire(c, ComponentMajorOutage)
	h.eventually("status written", func() bool { return p.status(1) == ComponentMajorOutage })
	h.desire(c, ComponentOperational)
	h.eventually("recovered", func() bool { return p.status(1) == ComponentOperational })
	h.settle()
	if w := p.writeLog()[before:]; hasPrefix(w, "create") > 0 || hasPrefix(w, "update") > 0 {
		t.Errorf("incident writes after it was deleted: %q", w)
	}
	if n := p.count("update-incident"); n != 0 {
		t.Errorf("%d update attempts on a deleted incident", n)
	}
}

// #13 point 1: a window that starts between resyncs is respected.
func TestMaintenanceStartedBetweenResyncsIsRespected(t *testing.T) {
	p := newMemPage()
	p.addComponent(1, "GitLab", ComponentOperational)
	c := spec(t, "GitLab", 1, true)
	h := newRecHarness(t, p, c) // resync: an hour
	h.desire(c, ComponentOperational)
	h.settle()
	p.setMaintenance(1, true, time.Time{})
	time.Sleep(30 * time.Millisecond) // older than MaintenanceMaxAge
	h.desire(c, ComponentMajorOutage)
	h.settle()
	if w := p.writeLog(); len(w) != 0 {
		t.Fatalf("writes inside a maintenance window: %q", w)
	}
}

// #13 point 2: downtime inside a window is never an incident; an outage
// outlasting it starts when it ends.
func TestOutageInsideMaintenanceIsNeverAnIncident(t *testing.T) {
	p, c, h := gitLab(t, true)
	h.desire(c, ComponentOperational)
	p.setMaintenance(1, true, time.Time{})
	h.settle()
	h.desire(c, ComponentMajorOutage)
	h.settle()
	h.desire(c, ComponentOperational)
	h.settle()
	p.setMaintenance(1, false, time.Time{})
	h.settle()
	h.settle()
	if all := p.allIncidents(); len(all) != 0 {
		t.Fatalf("planned downtime recorded as %d incidents: %+v", len(all), all)
	}

	// An outage that outlasts the window starts when it ends.
	p.setMaintenance(1, true, time.Time{})
	h.settle()
	h.desire(c, ComponentMajorOutage)
	h.settle()
	windowEnd := time.Now()
	p.setMaintenance(1, false, time.Time{})
	h.eventually("incident after the window", func() bool { return len(p.open(1)) == 1 })
	if at := p.open(1)[0].occurredAt; at.Before(windowEnd) {
		t.Errorf("incident occurred at %s, inside the window that ended at %s", at, windowEnd)
	}
	if p.status(1) != ComponentMajorOutage {
		t.Error("status not written after the window")
	}
}

// #14: schedules that cannot be read do not stop status writes.
func TestUnreadableMaintenanceStillWritesStatuses(t *testing.T) {
	p := newMemPage()
	p.addComponent(1, "A", ComponentOperational)
	p.addComponent(2, "B", ComponentOperational)
	p.maintErr = errors.New("500: column status does not exist")
	p.comps[2].Maintenance, p.comps[2].State, p.comps[2].Raw = true, ComponentUnknown, 6
	cs := specs(t, true, map[string]int{"A": 1, "B": 2})
	h := newRecHarness(t, p, cs...)
	for _, c := range cs {
		h.desire(c, ComponentMajorOutage)
	}
	h.eventually("A written with its incident", func() bool { return p.status(1) == ComponentMajorOutage && len(p.open(1)) == 1 })
	h.settle()
	p.mu.Lock()
	raw := p.comps[2].Raw
	p.mu.Unlock()
	if raw != 6 || len(p.open(2)) != 0 {
		t.Error("B, under maintenance on the component, was written")
	}
	if v := gaugeValue(h.rec.metrics.maintenanceUnknown); v != 1 {
		t.Errorf("maintenance unknown gauge = %v", v)
	}
}

// #13 point 4: the incident of a component no longer managed is closed.
func TestRemovedComponentIncidentIsClosed(t *testing.T) {
	p := newMemPage()
	p.addComponent(1, "A", ComponentOperational)
	p.addComponent(2, "B", ComponentOperational)
	cs := specs(t, true, map[string]int{"A": 1, "B": 2})
	h := newRecHarness(t, p, cs...)
	for _, c := range cs {
		h.desire(c, ComponentMajorOutage)
	}
	h.eventually("both open", func() bool { return len(p.open(1)) == 1 && len(p.open(2)) == 1 })
	var keep config.ComponentSpec
	for _, c := range cs {
		if c.Name == "B" {
			keep = c
		}
	}
	h.configure(func(c *ReconcilerConfig) { c.Components = []config.ComponentSpec{keep} })
	h.eventually("A's incident closed", func() bool { return len(p.open(1)) == 0 })
	if len(p.open(2)) != 1 {
		t.Error("B's incident was closed too")
	}
	// Across a restart too: A's second incident, left by a term that
	// still managed it.
	h.stop()
	p.mu.Lock()
	p.incidents = append(p.incidents, &memIncident{PageIncident: PageIncident{ID: 500, Components: []int{1}, Component: "A", Status: IncidentInvestigating}})
	p.mu.Unlock()
	h.start()
	h.eventually("leftover of a removed component closed at start", func() bool { return len(p.open(1)) == 0 })
}

// #13 point 5: a renamed component (same cachet id) keeps its incident.
func TestRenamedComponentKeepsItsIncident(t *testing.T) {
	p := newMemPage()
	p.addComponent(1, "GitLab", ComponentOperational)
	old := spec(t, "GitLab", 1, true)
	h := newRecHarness(t, p, old)
	h.desire(old, ComponentMajorOutage)
	h.eventually("opened", func() bool { return len(p.open(1)) == 1 })
	h.stop()
	renamed := spec(t, "GitLab.com", 1, true)
	h2 := newRecHarness(t, p, renamed)
	h2.desire(renamed, ComponentMajorOutage)
	h2.settle()
	if n := len(p.allIncidents()); n != 1 {
		t.Fatalf("%d incidents after the rename, want the first adopted", n)
	}
	h2.desire(renamed, ComponentOperational)
	h2.eventually("resolved", func() bool { return len(p.open(1)) == 0 })
}

// #13 point 7: a metric is resolved again when its settings change, and
// recreated when deleted.
func TestMetricResolvedAgain(t *testing.T) {
	p := newMemPage()
	p.addComponent(1, "GitLab", ComponentOperational)
	h := newRecHarness(t, p, spec(t, "GitLab", 1, false))
	a := config.MetricSpec{Name: "A", Threshold: 1}
	h.configure(func(c *ReconcilerConfig) { c.Metrics = map[string]config.MetricSpec{"m": a} })
	old := time.Now().Add(-3 * time.Minute)
	h.rec.Sample("m", a, 10, old)
	h.rec.poke()
	h.eventually("point posted to A", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.metrics) == 1 && len(p.points[p.metrics[0].ID]) == 1
	})
	p.mu.Lock()
	idA := p.metrics[0].ID
	p.mu.Unlock()

	p.humanDeleteMetric(idA)
	h.rec.Sample("m", a, 20, old.Add(time.Minute))
	h.rec.poke()
	h.eventually("A recreated", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.metrics) == 1 && p.metrics[0].ID != idA && len(p.points[p.metrics[0].ID]) == 1
	})

	b := config.MetricSpec{Name: "B", Threshold: 1}
	h.configure(func(c *ReconcilerConfig) { c.Metrics = map[string]config.MetricSpec{"m": b} })
	h.rec.Sample("m", b, 30, old.Add(2*time.Minute))
	h.rec.poke()
	h.eventually("point posted to B", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.metrics) == 2 && p.metrics[1].Name == "B" && len(p.points[p.metrics[1].ID]) == 1
	})
}

// A sample alone gets its point posted: with a steady page nothing else
// wakes the writer before the resync interval (the scale benchmark posted
// a third of the expected points).
func TestSampleWakesTheWriter(t *testing.T) {
	p := newMemPage()
	p.addComponent(1, "GitLab", ComponentOperational)
	h := newRecHarness(t, p, spec(t, "GitLab", 1, false))
	a := config.MetricSpec{Name: "A", Threshold: 1}
	h.configure(func(c *ReconcilerConfig) { c.Metrics = map[string]config.MetricSpec{"m": a} })
	h.settle() // the writer is idle until the resync interval
	h.rec.Sample("m", a, 10, time.Now().Add(-3*time.Minute))
	h.eventually("point posted", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.metrics) == 1 && len(p.points[p.metrics[0].ID]) == 1
	})
}

// #13 point 8 for metrics: a failing metric backs off alone.
func TestFailingMetricDoesNotDelayComponents(t *testing.T) {
	p := newMemPage()
	p.addComponent(1, "GitLab", ComponentOperational)
	p.fail = failOnly("list-metrics", 0)
	c := spec(t, "GitLab", 1, false)
	h := newRecHarness(t, p, c)
	h.configure(func(c *ReconcilerConfig) {
		c.Metrics = map[string]config.MetricSpec{"m": {Name: "A"}}
		c.MinBackoff, c.MaxBackoff = time.Hour, time.Hour
	})
	h.rec.Sample("m", config.MetricSpec{Name: "A"}, 10, time.Now().Add(-3*time.Minute))
	h.rec.poke()
	time.Sleep(20 * time.Millisecond)
	h.desire(c, ComponentMajorOutage)
	h.eventually("status written while the metric backs off", func() bool { return p.status(1) == ComponentMajorOutage })
}

func gaugeValue(g interface{ Write(*dto.Metric) error }) float64 {
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		return -1
	}
	return m.GetGauge().GetValue()
}

// #13 point 6: a status set by hand is respected across restarts, because
// the page records what statussync last wrote; #15 point 4: a reset of the
// page (the record gone) is not taken for a person's change.
func TestManualStatusRespectedAcrossRestarts(t *testing.T) {
	p := newMemPage()
	p.records = true
	p.addComponent(1, "GitLab", ComponentOperational)
	c := spec(t, "GitLab", 1, false)
	h := newRecHarness(t, p, c)
	h.desire(c, ComponentMajorOutage)
	h.eventually("written", func() bool { return p.status(1) == ComponentMajorOutage })
	p.humanStatus(1, ComponentOperational, false)
	h.stop()

	h2 := newRecHarness(t, p, c) // a new process, or a new leader
	h2.desire(c, ComponentMajorOutage)
	h2.settle()
	if s := p.status(1); s != ComponentOperational {
		t.Fatalf("a restart overwrote the status set by hand: %s", s)
	}
	// statussync's own state changes: its new state is written.
	h2.desire(c, ComponentPartialOutage)
	h2.eventually("new state written", func() bool { return p.status(1) == ComponentPartialOutage })

	// Cachet restored from an old backup or reinstalled: the record is
	// gone with the status; statussync writes its state again.
	p.humanStatus(1, ComponentOperational, true)
	h2.stop()
	h3 := newRecHarness(t, p, c)
	h3.desire(c, ComponentPartialOutage)
	h3.eventually("reset overwritten", func() bool { return p.status(1) == ComponentPartialOutage })

	// Within a term: a flip away and back is statussync changing its mind.
	p.humanStatus(1, ComponentOperational, false)
	h3.desire(c, ComponentOperational)
	h3.settle()
	h3.desire(c, ComponentPartialOutage)
	h3.eventually("written again after statussync changed its mind", func() bool { return p.status(1) == ComponentPartialOutage })
}

// #13.3 across restarts: an incident a person resolved mid-outage stays
// resolved when a new process (or leader) takes over the same outage; the
// knowledge comes from the page, not from the old process's memory.
func TestResolvedIncidentStaysResolvedAcrossRestarts(t *testing.T) {
	p := newMemPage()
	p.records = true
	p.addComponent(1, "GitLab", ComponentOperational)
	c := spec(t, "GitLab", 1, true)
	h := newRecHarness(t, p, c)
	h.desire(c, ComponentMajorOutage)
	h.eventually("incident opened", func() bool { return len(p.open(1)) == 1 })
	p.humanIncidentStatus(p.open(1)[0].ID, IncidentFixed)
	h.stop()

	// A new leader in the same process: same outage episode.
	h.start()
	h.settle()
	if n := len(p.allIncidents()); n != 1 {
		t.Fatalf("%d incidents after a leadership change, want the resolved one only", n)
	}
	h.stop()

	// A new process: it sees the outage later, under a key of its own.
	h2 := newRecHarness(t, p, c)
	h2.rec.Desire(ComponentUpdate{Component: c, To: ComponentMajorOutage, At: time.Now().Add(time.Minute), Reasons: map[string]string{"m": "HTTP 503"}})
	h2.settle()
	h2.desire(c, ComponentPartialOutage)
	h2.eventually("level written", func() bool { return p.status(1) == ComponentPartialOutage })
	h2.settle()
	if n := len(p.allIncidents()); n != 1 || len(p.open(1)) != 0 {
		t.Fatalf("%d incidents (%d open) after a restart mid-outage, want the one resolved by hand only", n, len(p.open(1)))
	}
	// The documented rule: the next outage, after the component was
	// operational again, gets a new incident.
	h2.desire(c, ComponentOperational)
	h2.eventually("recovered", func() bool { return p.status(1) == ComponentOperational })
	h2.stop()
	h3 := newRecHarness(t, p, c)
	h3.rec.Desire(ComponentUpdate{Component: c, To: ComponentMajorOutage, At: time.Now().Add(2 * time.Minute), Reasons: map[string]string{"m": "HTTP 503"}})
	h3.eventually("new outage, new incident", func() bool { return len(p.open(1)) == 1 })
}

// A pass may count as a success only while the desires it worked from are
// still the current ones: one held up by the client's retries through an
// outage finishes with its old snapshot, and the page is not yet where
// statussync wants it.
func TestPassSnapshotCurrentOnlyUntilADesireMoves(t *testing.T) {
	cs := specs(t, false, map[string]int{"A": 1, "B": 2})
	r := NewReconciler(ReconcilerDeps{})
	r.Desire(ComponentUpdate{Component: cs[0], To: ComponentOperational, At: time.Now()})
	_, wants, _, _ := r.snapshot()
	if !r.current(wants) {
		t.Fatal("nothing changed since the snapshot, yet it is not current")
	}
	r.Desire(ComponentUpdate{Component: cs[0], To: ComponentOperational, At: time.Now()})
	if !r.current(wants) {
		t.Error("repeating the same desire made the snapshot stale")
	}
	r.Desire(ComponentUpdate{Component: cs[1], To: ComponentOperational, At: time.Now()})
	if r.current(wants) {
		t.Error("a component decided after the snapshot left it current")
	}
	_, wants, _, _ = r.snapshot()
	r.Desire(ComponentUpdate{Component: cs[0], To: ComponentMajorOutage, At: time.Now()})
	if r.current(wants) {
		t.Error("a desire changed after the snapshot left it current")
	}
}

// An incident create that Cachet stored, but whose answer the writer gave
// up on because the outage's level moved on meanwhile, is found again by
// the next pass: it still reports the level it was created with, so the
// new level is posted to it (not taken as already told).
func TestAbandonedCreateIsToldOfTheNewLevel(t *testing.T) {
	p := newMemPage()
	p.addComponent(1, "GitLab", ComponentOperational)
	c := spec(t, "GitLab", 1, true)
	var h *recHarness
	first := true
	p.lose = func(op string, _ int) bool {
		if op != "create-incident" || !first {
			return false
		}
		first = false
		h.desire(c, ComponentMajorOutage) // the level moves while the create is in flight
		return true
	}
	h = newRecHarness(t, p, c)
	h.desire(c, ComponentPartialOutage)
	h.eventually("incident opened and told of the major outage", func() bool {
		all := p.allIncidents()
		return len(all) == 1 && len(all[0].updates) == 2
	})
	h.settle()
	if all := p.allIncidents(); len(all) != 1 || len(all[0].updates) != 2 {
		t.Fatalf("incidents %+v, want one with its create and one update", all)
	}
}
