package engine

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/monitors"
)

// ComponentUpdate is a change of a component's desired state.
type ComponentUpdate struct {
	Component config.ComponentSpec
	From, To  ComponentState
	// At is when the change was decided; for outages, when they began.
	At time.Time
	// Reasons are the publishable reasons of the component's monitors
	// that are not up, by monitor name.
	Reasons map[string]string
}

// Sink receives the engine's decisions. Neither method may block: they
// record and return; moving Cachet is the sink's own business.
type Sink interface {
	// Configure is called on every Apply with the new configuration.
	Configure(cfg *config.Config)
	// Desire is called when a component's desired state changes.
	Desire(u ComponentUpdate)
	// Sample is called with each successful check's latency, in
	// milliseconds, of a monitor that pushes a metric.
	Sample(monitor string, spec config.MetricSpec, value float64, at time.Time)
}

// Options configure an Engine.
type Options struct {
	Logger         *slog.Logger
	Metrics        *Metrics
	MonitorMetrics *monitors.Metrics
	Sink           Sink
	// Page, if set, is read when components first appear (at start, or
	// added by a reload): what it shows is their starting point (see
	// Apply). Nil (dry run) starts every component from nothing.
	Page PageReader
	// Now is the clock; tests may replace it.
	Now func() time.Time
}

// PageReader is the part of the status page port (StatusPage) that the
// engine reads itself: what the page shows when statussync starts.
type PageReader interface {
	ListComponents(ctx context.Context) ([]PageComponent, error)
}

// Engine turns monitor results into desired component states. It lives as
// long as the process; Apply swaps in a new configuration, keeping the state
// of monitors whose configuration did not change.
type Engine struct {
	opts   Options
	logger *slog.Logger

	applyMu sync.Mutex // serialises Apply and Stop
	sched   *Scheduler

	// unsubscribe ends the current configuration's subscription to its
	// ClouDNS poller, and gates are the timers that open start-up gates;
	// both guarded by applyMu.
	unsubscribe func()
	gates       []*time.Timer

	mu         sync.Mutex
	gen        uint64 // bumped by every Apply; results of older runs are dropped
	cfg        *config.Config
	monitors   map[string]*monitorEntry
	components []*componentEntry

	ready atomic.Bool
}

type monitorEntry struct {
	spec       *config.MonitorSpec // into the applied Config
	mon        monitors.Monitor
	state      monitorState
	components []*componentEntry
	// transitions counts changes of the decided state by the state
	// changed to (statussync_monitor_transitions_total), by Status.
	transitions [monitors.StatusCount]atomic.Uint64
}

type componentEntry struct {
	spec  config.ComponentSpec
	state ComponentState
	// told is set once the sink has heard of the component since it
	// appeared: its first decision is passed on even when it equals the
	// page's starting point, so that the sink adopts what the page shows
	// (an open incident) rather than knowing nothing.
	told bool
	// gateUntil is when the component's start-up grace ends: until then
	// it is decided only once every monitor has decided, or when the
	// monitors that have cannot be outvoted. Zero once the gate is open.
	gateUntil time.Time
}

// New returns an engine with no configuration; call Apply to start it.
func New(opts Options) *Engine {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sink == nil {
		opts.Sink = LogSink{Logger: opts.Logger}
	}
	return &Engine{opts: opts, logger: opts.Logger.With("subsystem", "engine")}
}

// Apply builds the monitors and schedule of cfg (already validated) and
// swaps them in: the new schedule is complete before the old one stops, so
// a failing build leaves the old configuration running. Checks run with
// contexts derived from ctx.
//
// cloudns is the poller that cloudns monitors share (nil without them); the
// caller runs it (CloudNSPoller.Start). Every monitor is built anew; the
// state of monitors whose configuration did not change is kept.
func (e *Engine) Apply(ctx context.Context, cfg *config.Config, cloudns *monitors.CloudNSPoller) error {
	e.applyMu.Lock()
	defer e.applyMu.Unlock()

	deps := monitors.Deps{Logger: e.opts.Logger, Metrics: e.opts.MonitorMetrics, CloudNS: cloudns}
	entries := make(map[string]*monitorEntry, len(cfg.Monitors))
	// Entries and jobs point into cfg, which no one changes after
	// loading: a copy of a MonitorSpec each was ~9 MB at 10,000 monitors.
	for i := range cfg.Monitors {
		spec := &cfg.Monitors[i]
		m, err := monitors.New(*spec, deps)
		if err != nil {
			return err
		}
		entries[spec.Name] = &monitorEntry{spec: spec, mon: m}
	}

	e.mu.Lock()
	gen := e.gen + 1
	e.mu.Unlock()
	g := newGuard(cfg, entries, e.opts.Now)
	jobs := make([]Job, 0, len(cfg.Monitors))
	var polled []Job // cloudns monitors, also run after every poll
	for i := range cfg.Monitors {
		spec := &cfg.Monitors[i]
		entry := entries[spec.Name]
		target := guardTarget(*spec)
		job := Job{
			Name:     spec.Name,
			Interval: spec.Interval,
			Cron:     spec.Cron,
			Timeout:  spec.Timeout,
			Run: func(ctx context.Context) {
				began := e.opts.Now()
				r := entry.mon.Check(ctx)
				if r.Status == monitors.StatusUp || r.Status == monitors.StatusDegraded {
					g.succeeded(target, e.opts.Now())
				}
				if r.Status == monitors.StatusDown && g.guards(*spec) && g.isolated(ctx, target, began) {
					r.Status = monitors.StatusUnknown
					r.Reason = "statussync's own connectivity is down"
				}
				e.observe(gen, spec.Name, r)
			},
		}
		jobs = append(jobs, job)
		if spec.CloudNS != nil {
			polled = append(polled, job)
		}
	}
	sched, err := NewScheduler(ctx, e.logger, e.opts.Metrics, jobs)
	if err != nil {
		return err
	}

	if e.unsubscribe != nil {
		e.unsubscribe()
		e.unsubscribe = nil
	}
	if e.sched != nil {
		if err := waitStopped(e.sched.Stop(), stopTimeout); err != nil {
			e.logger.Warn("previous schedule still running checks after reload", "err", err)
		}
	}

	for _, t := range e.gates {
		t.Stop()
	}
	e.gates = nil

	e.mu.Lock()
	old := map[string]*componentEntry{}
	for _, c := range e.components {
		old[c.spec.Name] = c
	}
	e.mu.Unlock()
	// What the page shows is the starting point of components that
	// appear now; read it before any of their monitors reports.
	shown := e.readPage(ctx, cfg, old)

	e.mu.Lock()
	kept := 0
	for name, entry := range entries {
		if old, ok := e.monitors[name]; ok && old.spec.Fingerprint == entry.spec.Fingerprint {
			entry.state = old.state
			kept++
		}
	}
	now := e.opts.Now()
	components := make([]*componentEntry, 0, len(cfg.Components))
	for _, cs := range cfg.Components {
		c := &componentEntry{spec: cs}
		if prev, ok := old[cs.Name]; ok {
			c.state, c.told, c.gateUntil = prev.state, prev.told, prev.gateUntil
		} else {
			c.state = shown[cs.Name]
			c.gateUntil = now.Add(startGrace(cfg, cs, entries, now))
		}
		components = append(components, c)
		for _, name := range cs.Monitors {
			entries[name].components = append(entries[name].components, c)
		}
	}
	seedMonitors(entries)
	for _, c := range components {
		if wait := c.gateUntil.Sub(now); wait > 0 {
			e.gates = append(e.gates, time.AfterFunc(wait, func() { e.openGate(gen, c) }))
		}
	}
	e.gen = gen
	e.cfg = cfg
	e.monitors = entries
	e.components = components
	e.opts.MonitorMetrics.Init(cfg.Monitors)
	e.opts.Metrics.init(cfg)
	shownEntries := make([]*monitorEntry, len(cfg.Monitors))
	for i := range cfg.Monitors {
		shownEntries[i] = entries[cfg.Monitors[i].Name]
	}
	e.opts.Metrics.transitions.show(shownEntries)
	e.opts.Sink.Configure(cfg)
	// Monitors may have moved between components: re-decide every
	// component from the kept monitor states.
	for _, c := range components {
		if c.state != ComponentUnknown && c.told {
			e.opts.Metrics.desiredStatus.WithLabelValues(c.spec.Name).Set(float64(c.state))
		}
		e.decide(c, e.opts.Now())
	}
	e.countStates()
	e.mu.Unlock()

	e.sched = sched
	sched.Start()
	if cloudns != nil && len(polled) > 0 {
		e.unsubscribe = cloudns.Subscribe(func() { go runPolled(ctx, polled) })
	}
	e.ready.Store(true)
	e.logger.Info("schedule started", "monitors", sched.Len(), "components", len(components), "state_kept", kept)
	return nil
}

// runPolled runs the cloudns monitors' checks right after a poll, so that
// every monitor observes every poll once, whatever the phase of its own
// schedule relative to the poller's ticker; their scheduled checks then
// re-read the same poll, which the engine ignores as a repeated
// observation. The checks only read the poll's snapshot.
func runPolled(ctx context.Context, jobs []Job) {
	for _, j := range jobs {
		func() {
			cctx, cancel := context.WithTimeout(ctx, j.Timeout)
			defer cancel()
			j.Run(cctx)
		}()
	}
}

// stopTimeout bounds how long a reload or shutdown waits for running checks;
// checks have their own deadline below every interval, so this is a backstop.
const stopTimeout = 30 * time.Second

func waitStopped(done context.Context, limit time.Duration) error {
	select {
	case <-done.Done():
		return nil
	case <-time.After(limit):
		return fmt.Errorf("checks still running after %s", limit)
	}
}

// Stop stops scheduling and waits, up to limit, for running checks.
func (e *Engine) Stop(limit time.Duration) error {
	e.applyMu.Lock()
	defer e.applyMu.Unlock()
	e.ready.Store(false)
	if e.unsubscribe != nil {
		e.unsubscribe()
		e.unsubscribe = nil
	}
	for _, t := range e.gates {
		t.Stop()
	}
	e.gates = nil
	if e.sched == nil {
		return nil
	}
	err := waitStopped(e.sched.Stop(), limit)
	e.sched = nil
	return err
}

// Ready reports whether a configuration is applied and scheduling.
func (e *Engine) Ready() bool { return e.ready.Load() }

// observe handles one check result: the monitor's state machine, then the
// states of the components it belongs to.
func (e *Engine) observe(gen uint64, name string, r monitors.Result) {
	now := e.opts.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if gen != e.gen {
		return // a run of a schedule that a reload replaced
	}
	m := e.monitors[name]
	if m.spec.Metric != nil && (r.Status == monitors.StatusUp || r.Status == monitors.StatusDegraded) {
		e.opts.Sink.Sample(name, *m.spec.Metric, float64(r.Latency)/float64(time.Millisecond), now)
	}
	from := m.state.state
	e.logger.Debug("check result", "monitor", name, "status", r.Status.String(), "latency", r.Latency, "reason", r.Reason)
	if !m.state.observe(r, m.spec.FailuresBeforeDown, m.spec.SuccessesBeforeUp, now) {
		return
	}
	attrs := []any{"monitor", name, "from", from.String(), "to", m.state.state.String(), "latency", r.Latency.Round(time.Millisecond)}
	if r.Reason != "" {
		attrs = append(attrs, "reason", r.Reason)
	}
	if r.Err != nil {
		attrs = append(attrs, "err", r.Err)
	}
	e.logger.Info("monitor state changed", attrs...)
	if st := int(m.state.state); st >= 0 && st < len(m.transitions) {
		m.transitions[st].Add(1)
	}
	e.countStates()
	for _, c := range m.components {
		e.decide(c, m.state.since)
	}
}

// decide recomputes a component's desired state from its monitors and
// tells the sink when it changed. at is when the change began.
//
// Until its start-up gate opens, a component is decided only when every
// one of its monitors has decided, or when those that have cannot be
// outvoted by the others (a worst component with a monitor in major
// outage, say): right after a start, the first monitor to report must not
// speak for the component.
func (e *Engine) decide(c *componentEntry, at time.Time) {
	members := make([]memberState, 0, len(c.spec.Monitors))
	reasons := map[string]string{}
	pending := 0
	for _, mn := range c.spec.Monitors {
		mm := e.monitors[mn]
		members = append(members, memberState{status: mm.state.state, outage: mm.spec.Outage})
		if mm.state.state == monitors.StatusUnknown {
			pending++
		}
		if mm.state.state == monitors.StatusDown || mm.state.state == monitors.StatusDegraded {
			reasons[mn] = mm.state.reason
		}
	}
	decided := aggregate(c.spec.Rule, c.spec.Quorum, members)
	if !c.gateUntil.IsZero() {
		switch {
		case pending == 0 || !e.opts.Now().Before(c.gateUntil):
			c.gateUntil = time.Time{}
		case !settled(c.spec.Rule, c.spec.Quorum, members):
			return // wait for the other monitors, or for the grace to end
		}
	}
	next := mapStatus(c.spec.StatusMap, decided)
	if next == ComponentUnknown || (next == c.state && c.told) {
		return
	}
	u := ComponentUpdate{Component: c.spec, From: c.state, To: next, At: at, Reasons: reasons}
	c.state, c.told = next, true
	e.opts.Metrics.desiredStatus.WithLabelValues(c.spec.Name).Set(float64(next))
	if u.From == u.To {
		// The page's starting point, confirmed: no change, but the sink
		// learns what it now stands for.
		e.logger.Info("component state confirmed", "component", c.spec.Name, "state", next.String())
		e.opts.Sink.Desire(u)
		return
	}
	e.opts.Metrics.componentTransitions.WithLabelValues(c.spec.Name, next.String()).Inc()
	e.logger.Info("component state changed", "component", c.spec.Name, "from", u.From.String(), "to", next.String())
	e.opts.Sink.Desire(u)
}

// openGate ends a component's start-up grace: it is decided from the
// monitors that have decided, and those that have not are left out.
func (e *Engine) openGate(gen uint64, c *componentEntry) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if gen != e.gen || c.gateUntil.IsZero() {
		return
	}
	e.decide(c, e.opts.Now())
}

// pageReadTimeout bounds the start-up read of the page: a page that does
// not answer delays the first checks by at most this, and its components
// then start from nothing.
const pageReadTimeout = 5 * time.Second

// readPage returns what the page shows for the components of cfg that are
// not in old (all of them at start), by name; components the page does
// not have, or shows under maintenance, are missing. Without a page, or
// if reading it fails, it returns nothing: those components then start
// from nothing, still behind their start-up gate.
func (e *Engine) readPage(ctx context.Context, cfg *config.Config, old map[string]*componentEntry) map[string]ComponentState {
	fresh := false
	for _, cs := range cfg.Components {
		if _, ok := old[cs.Name]; !ok {
			fresh = true
			break
		}
	}
	if e.opts.Page == nil || !fresh {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, pageReadTimeout)
	defer cancel()
	list, err := e.opts.Page.ListComponents(rctx)
	if err != nil {
		e.logger.Warn("could not read the status page at start; components start from nothing", "err", err)
		return nil
	}
	byID, byName := map[int]PageComponent{}, map[string]PageComponent{}
	for _, pc := range list {
		byID[pc.ID] = pc
		if _, dup := byName[pc.Name]; !dup {
			byName[pc.Name] = pc
		}
	}
	shown := map[string]ComponentState{}
	for _, cs := range cfg.Components {
		if _, ok := old[cs.Name]; ok {
			continue
		}
		pc, ok := byID[cs.CachetID]
		if cs.CachetID == 0 {
			pc, ok = byName[cs.Name]
		}
		if ok && !pc.Maintenance && pc.State != ComponentUnknown {
			shown[cs.Name] = pc.State
		}
	}
	return shown
}

// seedMonitors gives every monitor that has not decided yet the status
// the page's starting point implies for it: the state its components
// showed, when they all agree (a monitor shared by components the page
// shows differently gets none).
func seedMonitors(entries map[string]*monitorEntry) {
	for _, m := range entries {
		if m.state.state != monitors.StatusUnknown {
			continue
		}
		seed, first := monitors.StatusUnknown, true
		for _, c := range m.components {
			st := seedStatus(c.state)
			if !c.gateUntil.IsZero() && (first || st == seed) {
				seed, first = st, false
				continue
			}
			seed = monitors.StatusUnknown
			break
		}
		m.state.seed = seed
	}
}

// seedStatus is the monitor status a component state on the page implies.
func seedStatus(s ComponentState) monitors.Status {
	switch s {
	case ComponentOperational:
		return monitors.StatusUp
	case ComponentPerformanceIssues:
		return monitors.StatusDegraded
	case ComponentPartialOutage, ComponentMajorOutage:
		return monitors.StatusDown
	}
	return monitors.StatusUnknown
}

// maxStartGrace caps a component's start-up grace: a monitor with a long
// interval or a rare cron schedule must not keep the others' findings off
// the page for hours.
const maxStartGrace = 5 * time.Minute

// startGrace is how long a new component waits for all its monitors' first
// decisions: for each monitor, the time its threshold's worth of results
// takes (the larger of failures_before_down and successes_before_up, plus
// one interval for the schedule's phase, plus its timeout; ClouDNS
// monitors count polls), the longest of them, capped at maxStartGrace.
func startGrace(cfg *config.Config, cs config.ComponentSpec, entries map[string]*monitorEntry, now time.Time) time.Duration {
	grace := time.Duration(0)
	for _, name := range cs.Monitors {
		spec := entries[name].spec
		n := max(spec.FailuresBeforeDown, spec.SuccessesBeforeUp, 1)
		var d time.Duration
		if spec.Cron != nil {
			t := now
			for range n {
				t = spec.Cron.Next(t)
			}
			d = t.Sub(now) + t.Sub(now)/10 // the scheduler's spread of cron runs
		} else {
			every := spec.Interval
			if spec.CloudNS != nil {
				every = max(every, cfg.CloudNS.PollInterval)
			}
			d = time.Duration(n+1) * every
		}
		grace = max(grace, d+spec.Timeout)
	}
	return min(grace, maxStartGrace)
}

// countStates refreshes the monitors-by-state gauge.
func (e *Engine) countStates() {
	counts := map[monitors.Status]int{}
	for _, m := range e.monitors {
		counts[m.state.state]++
	}
	for _, st := range []monitors.Status{monitors.StatusUnknown, monitors.StatusUp, monitors.StatusDegraded, monitors.StatusDown} {
		e.opts.Metrics.monitorsByState.WithLabelValues(st.String()).Set(float64(counts[st]))
	}
}

// LogSink is the dry-run sink: it logs every change it would write.
type LogSink struct{ Logger *slog.Logger }

// Configure does nothing: the dry run keeps no state.
func (LogSink) Configure(*config.Config) {}

// Sample does nothing: the dry run posts no metric points.
func (LogSink) Sample(string, config.MetricSpec, float64, time.Time) {}

// Desire logs the change; a confirmed starting point is no change.
func (s LogSink) Desire(u ComponentUpdate) {
	if u.From == u.To {
		return
	}
	attrs := []any{"component", u.Component.Name}
	if u.Component.CachetID != 0 { // 0 means "matched by name", not an id
		attrs = append(attrs, "cachet_id", u.Component.CachetID)
	}
	s.Logger.Info("dry run: would update component", append(attrs, "from", u.From.String(), "to", u.To.String())...)
	if !u.Component.Incidents.Enabled {
		return
	}
	switch outage := u.To >= ComponentPartialOutage; {
	case outage && u.From < ComponentPartialOutage:
		s.Logger.Info("dry run: would open incident", "component", u.Component.Name, "status", u.To.String(), "occurred_at", u.At)
	case outage:
		s.Logger.Info("dry run: would update incident", "component", u.Component.Name, "status", u.To.String())
	case u.From >= ComponentPartialOutage:
		s.Logger.Info("dry run: would resolve incident", "component", u.Component.Name)
	}
}
