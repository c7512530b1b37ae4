package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/statussync/statussync/config"
)

// term is the writer of one Run: the single owner of everything learned
// from the page during it and of every write in flight. Only Run's
// goroutine touches it, so it needs no lock.
type term struct {
	r    *Reconciler
	cfg  ReconcilerConfig // of the pass in progress
	page StatusPage

	ids      map[string]int // component name -> page id
	observed map[int]PageComponent
	listed   time.Time // last successful listing of the components
	// agreed is the page status statussync last wrote or found in
	// agreement with its desired state, and the desired version it was for.
	agreed map[int]agreement
	// recorded names the components whose page keeps statussync's record
	// of its last write; moved those whose desired state differed from
	// that record since (see manual).
	recorded, moved map[int]bool
	// overrides is when this term first saw each manual status it
	// respects, for pages that say nothing of when a component changed;
	// overrideEnds is the earliest end of a bounded one this pass.
	overrides    map[int]time.Time
	overrideEnds time.Time

	maint maintenance

	// incidents is what this term did about each outage episode, by key.
	incidents map[string]*incident
	// abandoned holds, by episode key, the level of an incident create
	// that failed or was given up (the outage moved on while it ran):
	// Cachet may have stored it all the same, and if a later pass finds it,
	// it reports that level, which may no longer be the current one.
	abandoned map[string]ComponentState
	// leftovers are statussync's open incidents by component id, from one
	// listing at the start (nil while unknown); checked names the
	// components whose leftovers were dealt with.
	leftovers map[int][]PageIncident
	checked   map[int]bool
	// seen names the components this term has looked at; carried maps the
	// key of an outage in progress at that first look to the episode the
	// page records for it, when the page says statussync was already
	// showing that outage (a restart or handover mid-outage).
	seen    map[int]bool
	carried map[string]string

	metrics metricState

	// retry holds the backoff of each failing thing ("page", "component
	// NAME", "metric MONITOR"); nothing else waits for it.
	retry map[string]*backoff
	// logged avoids repeating the same "leaving it alone" line every pass.
	logged map[string]string
}

type agreement struct {
	raw     int
	version uint64
}

type backoff struct {
	delay time.Duration
	next  time.Time
}

func newTerm(r *Reconciler) *term {
	return &term{
		r:         r,
		ids:       map[string]int{},
		observed:  map[int]PageComponent{},
		agreed:    map[int]agreement{},
		recorded:  map[int]bool{},
		moved:     map[int]bool{},
		overrides: map[int]time.Time{},
		maint:     maintenance{seenIn: map[int]time.Time{}, seenOut: map[int]time.Time{}},
		incidents: map[string]*incident{},
		abandoned: map[string]ComponentState{},
		checked:   map[int]bool{},
		seen:      map[int]bool{},
		carried:   map[string]string{},
		metrics:   newMetricState(),
		retry:     map[string]*backoff{},
		logged:    map[string]string{},
	}
}

// errPassed reports a write abandoned because the desire it was for has
// passed: no failure, no backoff, but the pass did not converge.
var errPassed = errors.New("the desired state changed during the write")

// isFailure reports whether err holds anything but errPassed.
func isFailure(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if isFailure(e) {
				return true
			}
		}
		return false
	}
	return err != nil && !errors.Is(err, errPassed)
}

// due reports whether key may be tried now (it is not backing off).
func (t *term) due(key string) bool {
	b, ok := t.retry[key]
	return !ok || !t.r.now().Before(b.next)
}

// done records the outcome of trying key: a failure backs key off alone.
func (t *term) done(key string, err error) {
	if err == nil {
		delete(t.retry, key)
		return
	}
	b, ok := t.retry[key]
	if !ok {
		b = &backoff{}
		t.retry[key] = b
	}
	b.delay = min(max(b.delay*2, t.cfg.MinBackoff), t.cfg.MaxBackoff)
	b.next = t.r.now().Add(b.delay)
	t.r.metrics.reconcileErrors.Inc()
	t.r.logger.Warn("reconcile failed, keeping the desired state and retrying", "what", key, "retry_in", b.delay, "err", err)
}

// pass moves every component and metric one step towards its desired
// state and returns when the next pass is due.
func (t *term) pass(ctx context.Context) time.Time {
	cfg, wants, samples, reread := t.r.snapshot()
	t.cfg, t.page = cfg, cfg.Page
	t.maint.holding = false
	t.overrideEnds = time.Time{}
	t.metrics.take(samples, cfg.Metrics, t.r)
	if t.page == nil {
		return time.Time{} // nothing to write to yet: wait for Configure
	}
	now := t.r.now()
	next := t.listed.Add(cfg.ResyncInterval)
	if reread || !now.Before(next) {
		if !t.due("page") {
			return t.retry["page"].next
		}
		err := t.refresh(ctx, wants)
		t.done("page", err)
		if err != nil {
			return t.retry["page"].next
		}
		next = t.listed.Add(cfg.ResyncInterval)
	}
	failed := false
	for _, w := range wants {
		key := "component " + w.spec.Name
		if w.state == ComponentUnknown || !t.due(key) {
			continue // nothing decided yet, or backing off
		}
		err := t.component(ctx, w)
		if ctx.Err() != nil {
			return time.Time{}
		}
		if errors.Is(err, errPassed) && !isFailure(err) {
			// Not a failure, but not converged either: the next pass
			// (the desire's change woke it) writes the new state.
			failed, err = true, nil
		}
		t.done(key, err)
		failed = failed || err != nil
	}
	failed = !t.flushMetrics(ctx) || failed
	if !failed && len(t.retry) == 0 && t.r.current(wants) {
		// Nothing failed, nothing waits out a backoff, and no desire
		// moved while the pass ran: the page is where statussync wants
		// it. (A pass held up by the client's retries finishes with the
		// snapshot it took before; what changed since is the next
		// pass's work, not a success of this one.)
		t.r.metrics.reconcileLastSuccess.Set(float64(t.r.now().UnixNano()) / 1e9)
	}
	for _, b := range t.retry {
		next = earliest(next, b.next)
	}
	if t.maint.holding {
		// Something is held back by maintenance: look again soon, to
		// notice the window's end.
		next = earliest(next, t.maint.readAt.Add(5*cfg.MaintenanceMaxAge))
	}
	next = earliest(next, t.overrideEnds) // write the desired status when a manual one's bound ends
	if f := t.metrics.nextFlush(); !f.IsZero() {
		next = earliest(next, f.Add(time.Second)) // a second past the window's end, so it is complete
	}
	return next
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// refresh re-reads every component; the optional reads that follow
// (maintenance windows, leftover incidents) never fail it.
func (t *term) refresh(ctx context.Context, wants []wantSnap) error {
	comps, err := t.page.ListComponents(ctx)
	if err != nil {
		return fmt.Errorf("list components: %w", err)
	}
	t.listed = t.r.now()
	clear(t.ids)
	clear(t.observed)
	for _, c := range comps {
		t.observed[c.ID] = c
		if _, dup := t.ids[c.Name]; !dup {
			t.ids[c.Name] = c.ID
		}
	}
	t.maint.readAt = time.Time{} // read again before the next write
	t.metrics.forget()           // metrics are resolved again: ids, names and thresholds may have changed
	t.leftoverIncidents(ctx, wants)
	return nil
}

// component moves one component towards its desired state.
func (t *term) component(ctx context.Context, w wantSnap) error {
	id, err := t.resolve(ctx, w.spec)
	if err != nil {
		return err
	}
	var errs []error
	if err := t.status(ctx, w, id); err != nil {
		if isFailure(err) {
			// The component could not be read or written: its incidents
			// wait for the same backoff.
			return fmt.Errorf("component %q: %w", w.spec.Name, err)
		}
		errs = append(errs, fmt.Errorf("component %q: %w", w.spec.Name, err))
	}
	if w.spec.Incidents.Enabled {
		if err := t.componentIncidents(ctx, w, id); err != nil {
			errs = append(errs, fmt.Errorf("component %q incidents: %w", w.spec.Name, err))
		}
	}
	return errors.Join(errs...)
}

// resolve finds the page id of a component: cachet_id, else by name.
func (t *term) resolve(ctx context.Context, spec config.ComponentSpec) (int, error) {
	if spec.CachetID != 0 {
		if _, ok := t.observed[spec.CachetID]; !ok {
			c, err := t.page.GetComponent(ctx, spec.CachetID)
			if err != nil {
				return 0, fmt.Errorf("component %q: cachet_id %d: %w", spec.Name, spec.CachetID, err)
			}
			t.observed[c.ID] = c
		}
		return spec.CachetID, nil
	}
	if id, ok := t.ids[spec.Name]; ok {
		return id, nil
	}
	return 0, fmt.Errorf("component %q: no Cachet component with that name (set cachet_id, or create it in Cachet)", spec.Name)
}

func (t *term) status(ctx context.Context, w wantSnap, id int) error {
	name := w.spec.Name
	t.carry(t.observed[id], w)
	t.notice(t.observed[id], w)
	if cur, ok := t.observed[id]; ok && cur.State == w.state && !cur.Maintenance && !t.maint.known(id) {
		t.agreed[id] = agreement{raw: cur.Raw, version: w.version}
		delete(t.overrides, id) // any override is over
		t.r.metrics.observedStatus.WithLabelValues(name).Set(float64(cur.Raw))
		return nil
	}
	hold := func() error {
		t.maint.holding = true
		t.logOnce(name, "maintenance", "component under maintenance, leaving it alone", "component", name, "cachet_id", id)
		return nil
	}
	// Read just before writing: the page may have changed since the last
	// refresh, by a person or by the page's own recovery.
	fresh, err := t.page.GetComponent(ctx, id)
	if err != nil {
		return fmt.Errorf("read before write: %w", err)
	}
	t.observed[id] = fresh
	t.notice(fresh, w)
	t.r.metrics.observedStatus.WithLabelValues(name).Set(float64(fresh.Raw))
	if fresh.State == w.state && !fresh.Maintenance {
		t.agreed[id] = agreement{raw: fresh.Raw, version: w.version}
		delete(t.overrides, id)
		return nil
	}
	if t.underMaintenance(ctx, id) {
		return hold()
	}
	if t.cfg.RespectManualChanges && t.manual(fresh, w) {
		if respected, over := t.overrideAge(fresh); over {
			t.logOnce(name, "override-expired", "manual component status respected for cachet.manual_override_max, writing the desired status again",
				"component", name, "cachet_id", id, "respected_for", respected.Round(time.Second).String(),
				"page_status", fresh.Raw, "desired", w.state.String())
		} else {
			t.logOnce(name, "manual", "component status changed by hand, respecting it until statussync's own state changes or cachet.manual_override_max passes",
				"component", name, "cachet_id", id, "page_status", fresh.Raw, "desired", w.state.String())
			return nil
		}
	}
	delete(t.overrides, id)
	wctx, cancel := t.r.watch(ctx, name, w.version)
	defer cancel()
	if wctx.Err() != nil {
		return errPassed // the desire changed while reading; the next pass writes the new one
	}
	fresh.Episode = ""
	if w.outage != nil {
		fresh.Episode = t.episode(*w.outage)
	}
	if err := t.page.SetComponentState(wctx, fresh, w.state); err != nil {
		if wctx.Err() != nil && ctx.Err() == nil {
			return errPassed // the desire changed during the write; the next pass writes the new one
		}
		return fmt.Errorf("set status %s: %w", w.state, err)
	}
	t.r.metrics.writes.WithLabelValues("component_status").Inc()
	fresh.State, fresh.Raw, fresh.Written = w.state, int(w.state), w.state
	t.observed[id] = fresh
	delete(t.moved, id)
	t.agreed[id] = agreement{raw: fresh.Raw, version: w.version}
	t.r.metrics.observedStatus.WithLabelValues(name).Set(float64(fresh.Raw))
	t.r.logger.Info("component status written", "component", name, "cachet_id", id, "status", w.state.String())
	delete(t.logged, name)
	return nil
}

// notice records what a read of component c says about people's changes:
// whether the page keeps statussync's record at all, and whether the
// desired state has moved away from what statussync last wrote.
func (t *term) notice(c PageComponent, w wantSnap) {
	if c.Written == ComponentUnknown {
		return
	}
	t.recorded[c.ID] = true
	if c.Written != w.state {
		t.moved[c.ID] = true
	}
}

// carry takes, at the term's first look at component c, the outage
// episode the page records as statussync's for an outage still in
// progress: the episode began before this term, and what was done about
// it (an incident a person resolved) is on the page under that key.
func (t *term) carry(c PageComponent, w wantSnap) {
	if t.seen[c.ID] || c.ID == 0 {
		return
	}
	t.seen[c.ID] = true
	if w.outage != nil && c.Written >= ComponentPartialOutage && c.Episode != "" {
		t.carried[w.outage.Key] = c.Episode
	}
}

// episode returns the key the page knows outage ep by.
func (t *term) episode(ep Episode) string {
	if k, ok := t.carried[ep.Key]; ok {
		return k
	}
	return ep.Key
}

// manual reports whether the status the page shows was set by a person
// since statussync last wrote, while statussync's own desired state did
// not change: the page's record of statussync's last write says so, so
// this holds across restarts and leadership changes. On a page that keeps
// no record, this term's memory decides. A record that vanished (Cachet
// restored or reinstalled) is a reset, not a person: it is overwritten.
func (t *term) manual(c PageComponent, w wantSnap) bool {
	switch {
	case c.Written != ComponentUnknown:
		return c.Written == w.state && c.State != w.state && !t.moved[c.ID]
	case t.recorded[c.ID]:
		return false
	}
	a, ok := t.agreed[c.ID]
	return ok && a.version == w.version && a.raw != c.Raw
}

// overrideAge returns how long the manual status of c has stood, and
// whether that is past ManualOverrideMax. The age counts from when the
// page says c last changed, so it survives restarts and leadership
// changes; a page that does not say falls back to when this term first
// saw the override.
func (t *term) overrideAge(c PageComponent) (time.Duration, bool) {
	now := t.r.now()
	since := c.UpdatedAt
	if since.IsZero() {
		if _, ok := t.overrides[c.ID]; !ok {
			t.overrides[c.ID] = now
		}
		since = t.overrides[c.ID]
	}
	age := now.Sub(since)
	if t.cfg.ManualOverrideMax <= 0 {
		return age, false
	}
	if age >= t.cfg.ManualOverrideMax {
		return age, true
	}
	t.overrideEnds = earliest(t.overrideEnds, since.Add(t.cfg.ManualOverrideMax))
	return age, false
}

// logOnce logs a "leaving it alone" decision once per reason, not every
// pass.
func (t *term) logOnce(key, reason, msg string, args ...any) {
	if t.logged[key] == reason {
		return
	}
	t.logged[key] = reason
	t.r.logger.Info(msg, args...)
}
