package engine

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/statussync/statussync/config"
)

// ReconcilerConfig is everything about a Reconciler that can change while
// it runs. Configure is the only way to change it.
type ReconcilerConfig struct {
	// Page is the status page to write to; nil keeps the current one.
	Page StatusPage
	// Components are the managed components: removed ones are forgotten
	// (their incidents are handed back, see docs/incidents.md), changed
	// specs apply from the next pass.
	Components []config.ComponentSpec
	// Metrics are the Cachet metrics monitors push to, by monitor name:
	// the points of other monitors are dropped.
	Metrics map[string]config.MetricSpec
	// ResyncInterval is how often the page is re-read when nothing changed
	// (default 5m).
	ResyncInterval time.Duration
	// RespectManualChanges leaves a status set by hand since statussync's
	// last write alone until statussync's desired state changes.
	RespectManualChanges bool
	// ManualOverrideMax bounds how long such a status is respected,
	// counted from when the page says the component last changed (from
	// when this term first saw the override if the page does not say);
	// after it, the desired status is written again. 0 respects it until
	// the desired state changes.
	ManualOverrideMax time.Duration
	// MinBackoff and MaxBackoff bound the retry delay of a failing
	// component, metric or page (defaults 1s and 1m).
	MinBackoff, MaxBackoff time.Duration
	// MaintenanceMaxAge bounds the age of the maintenance windows a status
	// or incident write is decided on (default 1s); while something is
	// held back by a window, the page is looked at again every five times
	// that, to notice the window's end.
	MaintenanceMaxAge time.Duration
}

func (c *ReconcilerConfig) defaults() {
	if c.ResyncInterval <= 0 {
		c.ResyncInterval = 5 * time.Minute
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = time.Second
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = max(time.Minute, c.MinBackoff)
	}
	if c.MaintenanceMaxAge <= 0 {
		c.MaintenanceMaxAge = time.Second
	}
}

// Reconciler keeps the desired state of every component and moves the
// status page towards it. It is the engine's Sink: Desire records and
// returns at once; Run does the writing, so a slow or failing page never
// holds up the checks.
//
// It is two parts. The desired state (a small locked store, this file) is
// written by the engine and read as snapshots. The writer (a term, see
// reconcile_term.go) is the single owner of everything learned from the
// page and of every write in flight; a new one starts with every Run, that
// is with every leadership term, so a new leader, like a restarted
// process, starts from the page's actual state.
//
// Invariants:
//   - It writes only where the page differs from the desired state, and
//     reads the component just before every status write; steady state
//     costs no writes.
//   - It never overrides people: a component under maintenance (on the
//     component or through a running schedule) is left alone, and with
//     RespectManualChanges a status changed by hand since statussync's last
//     write stands until statussync's own desired state changes, or at
//     most ManualOverrideMax. An
//     incident's status is never moved backwards, and an incident a person
//     resolved or deleted stays so for the rest of its outage.
//   - Each component, incident and metric is reconciled on its own: one
//     failing read or write backs off that one alone.
//   - Nothing desired is lost while the page fails: the desired state is
//     kept and retried with backoff. Outages that began and ended while the
//     page was unreachable are recorded afterwards as already fixed
//     incidents, unless they fell inside a maintenance window.
//   - Incidents are never duplicated: before opening one, it looks for its
//     own open incident for the component id (after a restart, a
//     leadership handover, a rename, or a create whose response was lost)
//     and adopts it.
type Reconciler struct {
	logger  *slog.Logger
	metrics *Metrics
	now     func() time.Time

	// mu guards the desired state: every field below it. It is held only
	// to copy in or out, never across a call to the page.
	mu      sync.Mutex
	cfg     ReconcilerConfig
	wants   map[string]*want
	samples map[string]*series // metric points not yet taken by the writer
	// reread asks the writer to re-read the page (a Configure happened).
	reread bool

	wake chan struct{}
}

// want is one component's desired state and its outage episodes.
type want struct {
	spec    config.ComponentSpec
	state   ComponentState
	version uint64 // bumped on every change of state
	// changed is closed (and replaced) on every change of state, so that
	// writes made for the old state can be abandoned mid-flight.
	changed chan struct{}
	reasons map[string]string
	// outage is the outage in progress, nil when there is none.
	outage *Episode
	// ended are outages whose end has not been written yet.
	ended []Episode
}

// Episode is one outage of one component. Episodes are values: the writer
// keeps what it did about one (its incident) by Key, in its own memory.
type Episode struct {
	Key        string
	Start, End time.Time
	Level      ComponentState // current impact
	Reasons    map[string]string
}

// ReconcilerDeps are what a Reconciler is built with; they never change.
type ReconcilerDeps struct {
	Logger  *slog.Logger
	Metrics *Metrics
	Now     func() time.Time // default time.Now
}

// NewReconciler returns a reconciler; Configure it, then call Run to start
// writing.
func NewReconciler(d ReconcilerDeps) *Reconciler {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Metrics == nil {
		d.Metrics = NewMetrics(nil)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	r := &Reconciler{
		logger:  d.Logger.With("subsystem", "reconciler"),
		metrics: d.Metrics,
		now:     d.Now,
		wants:   map[string]*want{},
		samples: map[string]*series{},
		wake:    make(chan struct{}, 1),
	}
	r.cfg.defaults()
	return r
}

// Configure replaces the reconciler's configuration; it applies from the
// next pass. Components and metrics no longer configured are forgotten.
func (r *Reconciler) Configure(c ReconcilerConfig) {
	c.defaults()
	// Lock: replaces the configuration and prunes the wants and samples.
	r.mu.Lock()
	if c.Page == nil {
		c.Page = r.cfg.Page
	}
	keep := map[string]bool{}
	for _, s := range c.Components {
		keep[s.Name] = true
		if w, ok := r.wants[s.Name]; ok {
			w.spec = s
		}
	}
	for name := range r.wants {
		if !keep[name] {
			delete(r.wants, name)
		}
	}
	for name := range r.samples {
		if _, ok := c.Metrics[name]; !ok {
			delete(r.samples, name)
		}
	}
	r.cfg = c
	r.reread = true
	r.mu.Unlock()
	r.poke()
}

// Desire records a component's new desired state. It never blocks.
func (r *Reconciler) Desire(u ComponentUpdate) {
	// Lock: records the new state and its outage episode.
	r.mu.Lock()
	w, ok := r.wants[u.Component.Name]
	if !ok {
		w = &want{changed: make(chan struct{})}
		r.wants[u.Component.Name] = w
	}
	w.spec = u.Component
	if w.state == u.To {
		r.mu.Unlock()
		return
	}
	w.state = u.To
	w.version++
	close(w.changed)
	w.changed = make(chan struct{})
	w.reasons = u.Reasons
	switch outage := u.To >= ComponentPartialOutage; {
	case outage && w.outage == nil:
		// Nanoseconds: two outages of one component never start at the same
		// instant, but may within one second, and the page tells episodes
		// apart by this key.
		w.outage = &Episode{Key: fmt.Sprintf("%s@%d", u.Component.Name, u.At.UnixNano()), Start: u.At, Level: u.To, Reasons: u.Reasons}
	case outage:
		ep := *w.outage // a new value: snapshots taken before keep theirs
		ep.Level, ep.Reasons = u.To, u.Reasons
		w.outage = &ep
	case w.outage != nil:
		ep := *w.outage
		ep.End = u.At
		w.ended = append(w.ended, ep)
		w.outage = nil
	}
	r.mu.Unlock()
	r.poke()
}

func (r *Reconciler) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// wantSnap is a consistent copy of one component's want for one pass.
type wantSnap struct {
	spec    config.ComponentSpec
	state   ComponentState
	version uint64
	reasons map[string]string
	outage  *Episode
	ended   []Episode
}

// snapshot copies the configuration and every want for one pass, takes the
// samples recorded since the last one, and reports whether the page must be
// re-read.
func (r *Reconciler) snapshot() (ReconcilerConfig, []wantSnap, map[string]*series, bool) {
	// Lock: copies out; the copies share nothing mutable with the store.
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]wantSnap, 0, len(r.wants))
	for _, name := range slices.Sorted(maps.Keys(r.wants)) {
		w := r.wants[name]
		s := wantSnap{spec: w.spec, state: w.state, version: w.version, reasons: w.reasons, ended: slices.Clone(w.ended)}
		if w.outage != nil {
			ep := *w.outage
			s.outage = &ep
		}
		out = append(out, s)
	}
	samples := r.samples
	r.samples = map[string]*series{}
	reread := r.reread
	r.reread = false
	return r.cfg, out, samples, reread
}

// current reports whether every desire is still the one in wants: none
// changed, and none appeared, since the snapshot.
func (r *Reconciler) current(wants []wantSnap) bool {
	// Lock: reads the versions.
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.wants) != len(wants) {
		return false
	}
	for _, s := range wants {
		if w, ok := r.wants[s.spec.Name]; !ok || w.version != s.version {
			return false
		}
	}
	return true
}

// watch returns a context that is cancelled when the component's desire
// moves past version: a write for a desire that has passed must not land,
// even from inside the page client's own retry of it (waiting out a
// Retry-After, say). It is cancelled at once if the desire already moved.
func (r *Reconciler) watch(ctx context.Context, name string, version uint64) (context.Context, context.CancelFunc) {
	wctx, cancel := context.WithCancel(ctx)
	// Lock: reads the version and its change signal.
	r.mu.Lock()
	w, ok := r.wants[name]
	var changed chan struct{}
	if ok && w.version == version {
		changed = w.changed
	}
	r.mu.Unlock()
	if changed == nil {
		cancel()
		return wctx, cancel
	}
	go func() {
		select {
		case <-changed:
			cancel()
		case <-wctx.Done():
		}
	}()
	return wctx, cancel
}

// written forgets an ended episode whose end the writer has recorded.
func (r *Reconciler) written(name, key string) {
	// Lock: removes the episode from the want.
	r.mu.Lock()
	defer r.mu.Unlock()
	if w, ok := r.wants[name]; ok {
		w.ended = slices.DeleteFunc(w.ended, func(e Episode) bool { return e.Key == key })
	}
}

// newTerm drops what belongs to an earlier term: ended episodes (whoever
// was writing when they ended recorded them, or the new term resolves
// their incidents as leftovers) and samples of minutes another leader may
// have posted already (posting them twice would make Cachet count them
// twice).
func (r *Reconciler) newTerm(now time.Time) {
	cut := now.Unix() / 60
	// Lock: prunes the wants and samples.
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range r.wants {
		w.ended = nil
	}
	for _, s := range r.samples {
		maps.DeleteFunc(s.buckets, func(m int64, _ bucket) bool { return m < cut })
	}
}

// Run reconciles until ctx is done: at once, whenever a desired state
// changes, every ResyncInterval, and with backoff after a failure. Cancel
// ctx to stop writing at once (in-flight requests are cancelled). Each Run
// is one term: it starts knowing nothing of the page.
func (r *Reconciler) Run(ctx context.Context) {
	r.newTerm(r.now())
	t := newTerm(r)
	r.logger.Info("reconciler started")
	defer r.logger.Info("reconciler stopped")
	for {
		next := t.pass(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = max(next.Sub(r.now()), 0)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		case <-r.wake:
			timer.Stop()
		}
	}
}
