package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/statussync/statussync/config"
)

// ReconcilerOptions configure a Reconciler.
type ReconcilerOptions struct {
	Page    StatusPage
	Logger  *slog.Logger
	Metrics *Metrics
	// ResyncInterval is how often Cachet's state is re-read when nothing
	// changed (default 5m).
	ResyncInterval time.Duration
	// RespectManualChanges leaves a status set by hand since statussync's
	// last write alone until statussync's desired state changes.
	RespectManualChanges bool
	// MinBackoff and MaxBackoff bound the retry delay while the page fails
	// (defaults 1s and 1m).
	MinBackoff, MaxBackoff time.Duration
	Now                    func() time.Time
}

// Reconciler keeps the desired state of every component and moves the
// status page towards it. It is the engine's Sink: Desire records and
// returns at once; Run does the writing, so a slow or failing page never
// holds up the checks.
//
// Invariants:
//   - It writes only where the page differs from the desired state, and
//     reads the component just before every status write; steady state
//     costs no writes.
//   - It never overrides people: a component under maintenance (on the
//     component or through a running schedule) is left alone, and with
//     RespectManualChanges a status changed by hand since statussync's last
//     write stands until statussync's own desired state changes.
//   - Nothing desired is lost while the page fails: the desired state is
//     kept and retried with backoff, and one successful pass converges
//     every component. Outages that began and ended while the page was
//     unreachable are recorded afterwards as already fixed incidents.
//   - Incidents are never duplicated: before opening one, it looks for its
//     own open incident for the component (after a restart, a leadership
//     handover, or a create whose response was lost) and adopts it.
type Reconciler struct {
	opts   ReconcilerOptions
	logger *slog.Logger

	mu     sync.Mutex // guards wants, series, and opts' Page and tunables
	wants  map[string]*want
	series map[string]*series // metric points by monitor
	wake   chan struct{}
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
	outage *episode
	// ended are outages whose end has not been written yet.
	ended []*episode
}

// episode is one outage of one component.
type episode struct {
	key        string
	start, end time.Time
	level      ComponentState // current impact
	reasons    map[string]string
	// Written by Run under Reconciler.mu.
	incidentID  int
	postedLevel ComponentState
	// updateUnsure is set when posting an update failed: it may have been
	// applied all the same (a lost response), so the next attempt looks
	// at the incident's newest update first.
	updateUnsure bool
}

// NewReconciler returns a reconciler; call Run to start writing.
func NewReconciler(opts ReconcilerOptions) *Reconciler {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ResyncInterval <= 0 {
		opts.ResyncInterval = 5 * time.Minute
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = time.Minute
	}
	return &Reconciler{
		opts:   opts,
		logger: opts.Logger.With("subsystem", "reconciler"),
		wants:  map[string]*want{},
		series: map[string]*series{},
		wake:   make(chan struct{}, 1),
	}
}

// SetPage sets the status page to write to.
func (r *Reconciler) SetPage(p StatusPage) {
	r.mu.Lock()
	r.opts.Page = p
	r.mu.Unlock()
}

// SetOptions changes the tunables a reload may change; they apply from the
// next pass.
func (r *Reconciler) SetOptions(resync time.Duration, respectManual bool, minBackoff, maxBackoff time.Duration) {
	r.mu.Lock()
	if resync > 0 {
		r.opts.ResyncInterval = resync
	}
	if minBackoff > 0 && maxBackoff >= minBackoff {
		r.opts.MinBackoff, r.opts.MaxBackoff = minBackoff, maxBackoff
	}
	r.opts.RespectManualChanges = respectManual
	r.mu.Unlock()
}

// Configure takes a new configuration: removed components and metrics are
// forgotten, changed specs (incident settings, ids) apply from the next
// pass.
func (r *Reconciler) Configure(cfg *config.Config) {
	r.mu.Lock()
	r.metricSpecs(cfg.Monitors)
	r.mu.Unlock()
	r.Components(cfg.Components)
}

// Components replaces the set of components: removed ones are forgotten,
// changed specs (incident settings, ids) apply from the next pass.
func (r *Reconciler) Components(specs []config.ComponentSpec) {
	r.mu.Lock()
	keep := map[string]bool{}
	for _, s := range specs {
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
	r.mu.Unlock()
	r.poke()
}

// Desire records a component's new desired state. It never blocks.
func (r *Reconciler) Desire(u ComponentUpdate) {
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
		w.outage = &episode{
			key:     fmt.Sprintf("%s@%d", u.Component.Name, u.At.Unix()),
			start:   u.At,
			level:   u.To,
			reasons: u.Reasons,
		}
	case outage:
		w.outage.level = u.To
		w.outage.reasons = u.Reasons
	case w.outage != nil:
		w.outage.end = u.At
		w.ended = append(w.ended, w.outage)
		w.outage = nil
	}
	r.mu.Unlock()
	r.poke()
}

func (r *Reconciler) page() StatusPage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.opts.Page
}

func (r *Reconciler) respectManual() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.opts.RespectManualChanges
}

func (r *Reconciler) backoffBounds() (lo, hi time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.opts.MinBackoff, r.opts.MaxBackoff
}

func (r *Reconciler) resync() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.opts.ResyncInterval
}

func (r *Reconciler) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// tracking is what one Run knows of the page. It starts empty on every
// Run, so a new leader, like a restarted process, starts from the page's
// actual state.
type tracking struct {
	ids         map[string]int // component name -> page id
	observed    map[int]PageComponent
	maintenance map[int]bool
	// agreed is the page status statussync last wrote or found in
	// agreement with its desired state, and the desired version it was for.
	agreed map[int]agreement
	// orphansChecked names the components whose leftover open incidents
	// (from before this Run) have been looked for; leftovers holds one
	// listing of them all, taken at the first refresh, so that start-up
	// costs one call however many components there are.
	orphansChecked map[string]bool
	leftovers      map[string][]int
	// logged avoids repeating the same "leaving it alone" line every pass.
	logged map[string]string
	// metrics is the page's metric list (nil until needed); metricIDs and
	// thresholds are the resolved metric of each monitor.
	metrics    []PageMetric
	metricIDs  map[string]int
	thresholds map[string]int
}

type agreement struct {
	raw     int
	version uint64
}

// Run reconciles until ctx is done: at once, whenever a desired state
// changes, every ResyncInterval, and with backoff after a failure. Cancel
// ctx to stop writing at once (in-flight requests are cancelled).
func (r *Reconciler) Run(ctx context.Context) {
	t := &tracking{
		ids:            map[string]int{},
		observed:       map[int]PageComponent{},
		agreed:         map[int]agreement{},
		orphansChecked: map[string]bool{},
		logged:         map[string]string{},
		metricIDs:      map[string]int{},
		thresholds:     map[string]int{},
	}
	r.forgetIncidentIDs()
	r.resetSeries(r.opts.Now())
	r.logger.Info("reconciler started")
	defer r.logger.Info("reconciler stopped")

	refresh := true
	backoff := time.Duration(0)
	lastRefresh := time.Time{}
	for {
		if refresh {
			lastRefresh = r.opts.Now()
		}
		err := r.pass(ctx, t, refresh)
		if ctx.Err() != nil {
			return
		}
		var wait time.Duration
		if err != nil {
			r.opts.Metrics.reconcileErrors.Inc()
			lo, hi := r.backoffBounds()
			backoff = min(max(backoff*2, lo), hi)
			wait = backoff
			r.logger.Warn("reconcile failed, keeping the desired state and retrying", "retry_in", wait, "err", err)
			refresh = true // the page may have changed while it failed
		} else {
			backoff = 0
			r.opts.Metrics.reconcileLastSuccess.Set(float64(r.opts.Now().UnixNano()) / 1e9)
			wait = max(time.Until(lastRefresh.Add(r.resync())), 0)
			if next := r.nextMetricFlush(t); !next.IsZero() {
				// A second past the window's end, so it is complete.
				wait = min(wait, max(time.Until(next.Add(time.Second)), 0))
			}
			refresh = false
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
			refresh = refresh || (err == nil && !time.Now().Before(lastRefresh.Add(r.resync())))
		case <-r.wake:
			timer.Stop()
			if err != nil {
				// A new desire while the page fails still waits out the
				// backoff, so a flapping target cannot hammer a sick page.
				select {
				case <-ctx.Done():
					return
				case <-time.After(backoff):
				}
			}
		}
	}
}

// forgetIncidentIDs drops what an earlier Run knew of incidents: another
// leader may have resolved or opened some since, so they are looked up
// again. Ended episodes belong to whoever was running when they ended.
func (r *Reconciler) forgetIncidentIDs() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range r.wants {
		if w.outage != nil {
			w.outage.incidentID, w.outage.postedLevel = 0, ComponentUnknown
		}
		w.ended = nil
	}
}

// snapshot is a consistent copy of one component's want for one pass.
type snapshot struct {
	spec    config.ComponentSpec
	state   ComponentState
	version uint64
	reasons map[string]string
	outage  *episode
	ended   []*episode
}

func (r *Reconciler) snapshot() []snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]snapshot, 0, len(r.wants))
	for _, name := range slices.Sorted(maps.Keys(r.wants)) {
		w := r.wants[name]
		out = append(out, snapshot{
			spec: w.spec, state: w.state, version: w.version, reasons: w.reasons,
			outage: w.outage, ended: slices.Clone(w.ended),
		})
	}
	return out
}

// pass moves every component one step towards its desired state and
// returns every error it met; one component's failure does not stop the
// others.
func (r *Reconciler) pass(ctx context.Context, t *tracking, refresh bool) error {
	if refresh {
		if err := r.refresh(ctx, t); err != nil {
			return err
		}
	}
	var errs []error
	for _, s := range r.snapshot() {
		if s.state == ComponentUnknown {
			continue // nothing decided yet: nothing to write
		}
		id, err := r.resolve(ctx, t, s.spec)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := r.reconcileStatus(ctx, t, s, id); err != nil {
			errs = append(errs, fmt.Errorf("component %q: %w", s.spec.Name, err))
		}
		if s.spec.Incidents.Enabled && !t.underMaintenance(id) {
			if err := r.reconcileIncidents(ctx, t, s, id); err != nil {
				errs = append(errs, fmt.Errorf("component %q incidents: %w", s.spec.Name, err))
			}
		}
	}
	if err := r.flushMetrics(ctx, t); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// refresh re-reads every component and the running maintenance windows.
func (r *Reconciler) refresh(ctx context.Context, t *tracking) error {
	comps, err := r.page().ListComponents(ctx)
	if err != nil {
		return fmt.Errorf("list components: %w", err)
	}
	maint, err := r.page().Maintenance(ctx)
	if err != nil {
		return fmt.Errorf("list maintenance: %w", err)
	}
	clear(t.ids)
	clear(t.observed)
	t.metrics = nil // re-read when next needed
	for _, c := range comps {
		t.observed[c.ID] = c
		if _, dup := t.ids[c.Name]; !dup {
			t.ids[c.Name] = c.ID
		}
	}
	t.maintenance = maint
	if t.leftovers == nil && r.anyIncidents() {
		open, err := r.page().AllOpenIncidents(ctx)
		if err != nil {
			return fmt.Errorf("list open incidents: %w", err)
		}
		t.leftovers = open
	}
	return nil
}

func (r *Reconciler) anyIncidents() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range r.wants {
		if w.spec.Incidents.Enabled {
			return true
		}
	}
	return false
}

func (t *tracking) underMaintenance(id int) bool {
	return t.maintenance[id] || t.observed[id].Maintenance
}

// resolve finds the page id of a component: cachet_id, else by name.
func (r *Reconciler) resolve(ctx context.Context, t *tracking, spec config.ComponentSpec) (int, error) {
	if spec.CachetID != 0 {
		if _, ok := t.observed[spec.CachetID]; !ok {
			c, err := r.page().GetComponent(ctx, spec.CachetID)
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

func (r *Reconciler) reconcileStatus(ctx context.Context, t *tracking, s snapshot, id int) error {
	name := s.spec.Name
	if cur, ok := t.observed[id]; ok && cur.State == s.state && !t.underMaintenance(id) {
		r.agree(t, id, cur.Raw, s.version)
		return nil
	}
	// Read just before writing: the page may have changed since the last
	// refresh, by a person or by the page's own recovery.
	fresh, err := r.page().GetComponent(ctx, id)
	if err != nil {
		return fmt.Errorf("read before write: %w", err)
	}
	t.observed[id] = fresh
	r.opts.Metrics.observedStatus.WithLabelValues(name).Set(float64(fresh.Raw))
	switch {
	case t.underMaintenance(id):
		r.logOnce(t, name, "maintenance", "component under maintenance, leaving it alone", "component", name, "cachet_id", id)
		return nil
	case fresh.State == s.state:
		r.agree(t, id, fresh.Raw, s.version)
		return nil
	}
	if !r.stillWanted(s.spec.Name, s.version) {
		return nil // the desire changed while reading; the next pass writes the new one
	}
	if a, ok := t.agreed[id]; ok && r.respectManual() && a.version == s.version && a.raw != fresh.Raw {
		r.logOnce(t, name, "manual", "component status changed by hand, respecting it until statussync's own state changes",
			"component", name, "cachet_id", id, "page_status", fresh.Raw, "desired", s.state.String())
		return nil
	}
	wctx, cancel := r.forVersion(ctx, name, s.version)
	err = r.page().SetComponentState(wctx, id, s.state)
	cancel()
	if err != nil {
		if wctx.Err() != nil && ctx.Err() == nil {
			return nil // the desire changed during the write; the next pass writes the new one
		}
		return fmt.Errorf("set status %s: %w", s.state, err)
	}
	r.opts.Metrics.writes.WithLabelValues("component_status").Inc()
	fresh.State = s.state
	fresh.Raw = int(s.state)
	t.observed[id] = fresh
	r.agree(t, id, fresh.Raw, s.version)
	r.opts.Metrics.observedStatus.WithLabelValues(name).Set(float64(fresh.Raw))
	r.logger.Info("component status written", "component", name, "cachet_id", id, "status", s.state.String())
	delete(t.logged, name)
	return nil
}

// stillWanted reports whether version is still the component's desired
// state. A pass works from a snapshot, and a read that retried for a while
// can outlive it: writing the snapshot then would publish a state that has
// already passed.
func (r *Reconciler) stillWanted(name string, version uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.wants[name]
	return ok && w.version == version
}

// forVersion returns a context that is cancelled when the component's
// desire moves past version: a write for a desire that has passed must not
// land, even from inside the Cachet client's own retry of it (waiting out a
// Retry-After, say).
func (r *Reconciler) forVersion(ctx context.Context, name string, version uint64) (context.Context, context.CancelFunc) {
	wctx, cancel := context.WithCancel(ctx)
	r.mu.Lock()
	w, ok := r.wants[name]
	if !ok || w.version != version {
		r.mu.Unlock()
		cancel()
		return wctx, cancel
	}
	changed := w.changed
	r.mu.Unlock()
	go func() {
		select {
		case <-changed:
			cancel()
		case <-wctx.Done():
		}
	}()
	return wctx, cancel
}

// stillOpen reports whether ep is still the component's outage in progress.
func (r *Reconciler) stillOpen(name string, ep *episode) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.wants[name]
	return ok && w.outage == ep
}

func (r *Reconciler) agree(t *tracking, id, raw int, version uint64) {
	t.agreed[id] = agreement{raw: raw, version: version}
}

// logOnce logs a "leaving it alone" decision once per reason, not every
// pass.
func (r *Reconciler) logOnce(t *tracking, component, reason, msg string, args ...any) {
	if t.logged[component] == reason {
		return
	}
	t.logged[component] = reason
	r.logger.Info(msg, args...)
}

func (r *Reconciler) reconcileIncidents(ctx context.Context, t *tracking, s snapshot, id int) error {
	key := IncidentKey{Component: s.spec.Name, ComponentID: id}
	if s.outage != nil || len(s.ended) > 0 {
		// This run handles the component's incidents through its episodes
		// (adopting any left open): the start-up listing of leftovers is
		// stale for it from now on.
		t.orphansChecked[s.spec.Name] = true
	}
	for _, ep := range s.ended {
		if err := r.closeEpisode(ctx, s, key, ep); err != nil {
			return err
		}
		r.mu.Lock()
		if w, ok := r.wants[s.spec.Name]; ok {
			w.ended = slices.DeleteFunc(w.ended, func(e *episode) bool { return e == ep })
		}
		r.mu.Unlock()
	}
	if s.outage != nil {
		return r.openEpisode(ctx, s, key, s.outage)
	}
	if !t.orphansChecked[s.spec.Name] {
		// An incident left open by an earlier run whose outage ended while
		// no statussync was writing: resolve it now.
		// The start-up listing says which components have leftovers; only
		// those are read again, fresh, before anything is resolved.
		var ids []int
		if left, listed := t.leftovers[s.spec.Name]; t.leftovers == nil || (listed && len(left) > 0) {
			var err error
			if ids, err = r.page().OpenIncidents(ctx, key); err != nil {
				return fmt.Errorf("look for open incidents: %w", err)
			}
		}
		now := r.opts.Now()
		for _, inc := range ids {
			msg, err := s.spec.Incidents.Render("resolved", r.incidentData(s, &episode{start: now, end: now, level: ComponentMajorOutage}))
			if err != nil {
				return err
			}
			if err := r.page().UpdateIncident(ctx, inc, true, msg); err != nil {
				return fmt.Errorf("resolve left-over incident %d: %w", inc, err)
			}
			r.opts.Metrics.writes.WithLabelValues("incident_update").Inc()
			r.logger.Info("resolved an incident left open before this run", "component", s.spec.Name, "incident_id", inc)
		}
		t.orphansChecked[s.spec.Name] = true
	}
	return nil
}

// openEpisode makes sure the outage in progress has its incident, and that
// the incident has been told of the outage's current level.
func (r *Reconciler) openEpisode(ctx context.Context, s snapshot, key IncidentKey, ep *episode) error {
	r.mu.Lock()
	incID, posted, level := ep.incidentID, ep.postedLevel, ep.level
	r.mu.Unlock()

	if incID == 0 {
		ids, err := r.page().OpenIncidents(ctx, key)
		if err != nil {
			return fmt.Errorf("look for open incidents: %w", err)
		}
		if len(ids) > 0 {
			if len(ids) > 1 {
				r.logger.Warn("several open statussync incidents for one component, adopting the newest", "component", s.spec.Name, "incident_ids", ids)
			}
			r.mu.Lock()
			ep.incidentID, ep.postedLevel = ids[0], level
			r.mu.Unlock()
			r.logger.Info("adopted open incident", "component", s.spec.Name, "incident_id", ids[0])
			return nil
		}
		if !r.stillOpen(s.spec.Name, ep) {
			// The outage ended while we looked: the next pass records it
			// as a fixed incident, with its true end, instead.
			return nil
		}
		wctx, cancel := r.forVersion(ctx, s.spec.Name, s.version)
		id, err := r.createIncident(wctx, s, key, ep, false)
		cancel()
		if err != nil {
			if wctx.Err() != nil && ctx.Err() == nil {
				return nil // the outage changed during the create; the next pass looks again
			}
			return fmt.Errorf("open incident: %w", err)
		}
		r.mu.Lock()
		ep.incidentID, ep.postedLevel = id, level
		r.mu.Unlock()
		r.logger.Info("incident opened", "component", s.spec.Name, "incident_id", id, "status", level.String(), "occurred_at", ep.start)
		return nil
	}
	if posted == level {
		return nil
	}
	msg, err := s.spec.Incidents.Render("update", r.incidentData(s, ep))
	if err != nil {
		return err
	}
	r.mu.Lock()
	unsure := ep.updateUnsure
	r.mu.Unlock()
	applied := false
	if unsure {
		latest, err := r.page().LatestIncidentUpdate(ctx, incID)
		if err != nil {
			return fmt.Errorf("read incident %d updates: %w", incID, err)
		}
		applied = latest == msg
	}
	if !applied {
		if err := r.page().UpdateIncident(ctx, incID, false, msg); err != nil {
			r.mu.Lock()
			ep.updateUnsure = true
			r.mu.Unlock()
			return fmt.Errorf("update incident %d: %w", incID, err)
		}
	}
	r.opts.Metrics.writes.WithLabelValues("incident_update").Inc()
	r.mu.Lock()
	ep.postedLevel, ep.updateUnsure = level, false
	r.mu.Unlock()
	r.logger.Info("incident updated", "component", s.spec.Name, "incident_id", incID, "status", level.String())
	return nil
}

// closeEpisode resolves an ended outage's incident or, if it never had one
// (the page was unreachable throughout), records it as already fixed with
// its true start and end.
func (r *Reconciler) closeEpisode(ctx context.Context, s snapshot, key IncidentKey, ep *episode) error {
	r.mu.Lock()
	incID := ep.incidentID
	r.mu.Unlock()
	known := incID != 0 // opened (or adopted) by this run, possibly resolved since
	if incID == 0 {
		// A create whose response was lost, or an earlier run's incident.
		ids, err := r.page().OpenIncidents(ctx, key)
		if err != nil {
			return fmt.Errorf("look for open incidents: %w", err)
		}
		if len(ids) > 0 {
			incID = ids[0]
		}
	}
	data := r.incidentData(s, ep)
	if known {
		// A resolve whose response was lost, or a person, may have closed
		// it already: resolving twice would post a second "fixed" update.
		open, err := r.page().OpenIncidents(ctx, key)
		if err != nil {
			return fmt.Errorf("look for open incidents: %w", err)
		}
		if !slices.Contains(open, incID) {
			r.logger.Info("incident already resolved", "component", s.spec.Name, "incident_id", incID)
			return nil
		}
	}
	if incID != 0 {
		msg, err := s.spec.Incidents.Render("resolved", data)
		if err != nil {
			return err
		}
		if err := r.page().UpdateIncident(ctx, incID, true, msg); err != nil {
			return fmt.Errorf("resolve incident %d: %w", incID, err)
		}
		r.opts.Metrics.writes.WithLabelValues("incident_update").Inc()
		r.logger.Info("incident resolved", "component", s.spec.Name, "incident_id", incID)
		return nil
	}
	recorded, err := r.page().EpisodeRecorded(ctx, key, ep.key)
	if err != nil {
		return fmt.Errorf("look for a recorded outage: %w", err)
	}
	if recorded {
		return nil
	}
	id, err := r.createIncident(ctx, s, key, ep, true)
	if err != nil {
		return fmt.Errorf("record missed outage: %w", err)
	}
	r.logger.Info("recorded an outage missed while the status page was unreachable",
		"component", s.spec.Name, "incident_id", id, "start", ep.start, "end", ep.end)
	return nil
}

// createIncident opens the incident of an outage episode or, with
// resolved, records an ended one the page never showed (with the missed
// template). Subscribers are never notified of an outage recorded after
// the fact: it is history, not news.
func (r *Reconciler) createIncident(ctx context.Context, s snapshot, key IncidentKey, ep *episode, resolved bool) (int, error) {
	data := r.incidentData(s, ep)
	name, err := s.spec.Incidents.Render("name", data)
	if err != nil {
		return 0, err
	}
	tmpl := "investigating"
	if resolved {
		tmpl = "missed"
	}
	msg, err := s.spec.Incidents.Render(tmpl, data)
	if err != nil {
		return 0, err
	}
	r.mu.Lock()
	impact := ep.level
	r.mu.Unlock()
	id, err := r.page().CreateIncident(ctx, NewIncident{
		Key: key, Episode: ep.key, Name: name, Message: msg, Impact: impact, Resolved: resolved,
		Visible: s.spec.Incidents.IsVisible(), Notify: s.spec.Incidents.Notify && !resolved, OccurredAt: ep.start,
	})
	if err != nil {
		return 0, err
	}
	r.opts.Metrics.writes.WithLabelValues("incident_create").Inc()
	return id, nil
}

var stateText = map[ComponentState]string{
	ComponentOperational:       "normal operation",
	ComponentPerformanceIssues: "performance issue",
	ComponentPartialOutage:     "partial outage",
	ComponentMajorOutage:       "major outage",
}

func (r *Reconciler) incidentData(s snapshot, ep *episode) config.IncidentData {
	r.mu.Lock()
	level, reasons, start, end := ep.level, ep.reasons, ep.start, ep.end
	r.mu.Unlock()
	until := end
	if until.IsZero() {
		until = r.opts.Now()
	}
	monitors := slices.Sorted(maps.Keys(reasons))
	return config.IncidentData{
		Component: s.spec.Name,
		Status:    stateText[level],
		Start:     start,
		End:       end,
		Duration:  until.Sub(start).Round(time.Minute),
		Monitors:  monitors,
		Reasons:   maps.Clone(reasons),
	}
}
