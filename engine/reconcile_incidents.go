package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/statussync/statussync/config"
)

// incident is what one term did about one outage episode's incident.
type incident struct {
	id     int
	posted ComponentState // the level the incident was last told of
	// unsure is set when posting an update failed: it may have been
	// applied all the same (a lost response), so the next attempt looks at
	// the incident's newest update first.
	unsure bool
	// handedBack is set when a person resolved or deleted the incident: it
	// is theirs for the rest of the outage, never reopened or updated.
	handedBack bool
}

// handBackMessage closes an incident of a component statussync no longer
// manages.
const handBackMessage = "statussync no longer monitors this component, so it closes the incident it opened. " +
	"The component's status is left as it is, for a person to set."

// componentIncidents keeps one component's incidents in step with its
// outage episodes.
func (t *term) componentIncidents(ctx context.Context, w wantSnap, id int) error {
	if w.outage == nil && len(w.ended) == 0 && t.checked[id] {
		return nil
	}
	if t.underMaintenance(ctx, id) {
		t.maint.holding = true // the window's end is noticed within MaintenanceMaxAge
		return nil
	}
	key := IncidentKey{Component: w.spec.Name, ComponentID: id}
	if w.outage != nil || len(w.ended) > 0 {
		// This term handles the component's incidents through its
		// episodes (adopting any left open): the start-up listing of
		// leftovers is stale for it from now on.
		t.checked[id] = true
	}
	for _, ep := range w.ended {
		if err := t.closeEpisode(ctx, w, key, ep); err != nil {
			return err
		}
		t.r.written(w.spec.Name, ep.Key)
		delete(t.incidents, ep.Key)
	}
	if w.outage != nil {
		return t.openEpisode(ctx, w, key, *w.outage)
	}
	if t.checked[id] {
		return nil
	}
	// Incidents left open by an earlier term whose outage ended while no
	// statussync was writing: resolve them now. The start-up listing says
	// which components have leftovers; only those are read again, fresh,
	// before anything is resolved.
	var open []PageIncident
	if left, listed := t.leftovers[id]; t.leftovers == nil || (listed && len(left) > 0) {
		var err error
		if open, err = t.page.OpenIncidents(ctx, id); err != nil {
			return fmt.Errorf("look for open incidents: %w", err)
		}
	}
	now := t.r.now()
	for _, in := range open {
		msg, err := w.spec.Incidents.Render("resolved", t.incidentData(w, Episode{Start: now, End: now, Level: ComponentMajorOutage}))
		if err != nil {
			return err
		}
		if err := t.page.UpdateIncident(ctx, in.ID, IncidentFixed, msg); err != nil {
			return fmt.Errorf("resolve left-over incident %d: %w", in.ID, err)
		}
		t.r.metrics.writes.WithLabelValues("incident_update").Inc()
		t.r.logger.Info("resolved an incident left open before this run", "component", w.spec.Name, "incident_id", in.ID)
	}
	t.checked[id] = true
	return nil
}

// leftoverIncidents lists statussync's open incidents of every component
// in one call: the first listing of a term says which components have
// leftovers, and every listing closes the incidents of components no
// longer managed. A failure is logged and costs nothing else: components
// then look for their own.
func (t *term) leftoverIncidents(ctx context.Context, wants []wantSnap) {
	open, err := t.page.OpenIncidents(ctx, 0)
	if err != nil {
		t.r.metrics.reconcileErrors.Inc() // visible, though it blocks nothing
		t.logOnce("", "listing", "cannot list open incidents of every component, looking per component instead", "err", err)
		return
	}
	if t.leftovers == nil {
		t.leftovers = map[int][]PageIncident{}
		for _, in := range open {
			for _, id := range t.componentIDs(in) {
				t.leftovers[id] = append(t.leftovers[id], in)
			}
		}
	}
	managedID, managedName := map[int]bool{}, map[string]bool{}
	for _, s := range t.cfg.Components {
		managedName[s.Name] = true
		if s.CachetID != 0 {
			managedID[s.CachetID] = true
		} else if id, ok := t.ids[s.Name]; ok {
			managedID[id] = true
		}
	}
	for _, w := range wants {
		managedName[w.spec.Name] = true // desired before Configure named it
	}
	for _, in := range open {
		ids := t.componentIDs(in)
		if len(ids) == 0 || managedName[in.Component] || slices.ContainsFunc(ids, func(id int) bool { return managedID[id] }) {
			continue
		}
		if err := t.page.UpdateIncident(ctx, in.ID, IncidentFixed, handBackMessage); err != nil {
			t.r.logger.Warn("cannot close the incident of a component no longer managed; trying again at the next resync",
				"incident_id", in.ID, "component", in.Component, "err", err)
			continue
		}
		t.r.metrics.writes.WithLabelValues("incident_update").Inc()
		t.r.logger.Info("closed the incident of a component no longer managed", "incident_id", in.ID, "component", in.Component, "cachet_ids", ids)
	}
}

// componentIDs returns the page ids an incident is about, the component
// its marker names included.
func (t *term) componentIDs(in PageIncident) []int {
	ids := slices.Clone(in.Components)
	if id, ok := t.ids[in.Component]; ok && in.Component != "" && !slices.Contains(ids, id) {
		ids = append(ids, id)
	}
	return ids
}

// openEpisode makes sure the outage in progress has its incident, and that
// the incident has been told of the outage's current level.
func (t *term) openEpisode(ctx context.Context, w wantSnap, key IncidentKey, ep Episode) error {
	name := w.spec.Name
	inc := t.incidents[ep.Key]
	if inc == nil {
		open, err := t.page.OpenIncidents(ctx, key.ComponentID)
		if err != nil {
			return fmt.Errorf("look for open incidents: %w", err)
		}
		if len(open) > 0 {
			if len(open) > 1 {
				t.r.logger.Warn("several open statussync incidents for one component, adopting the newest", "component", name, "incidents", len(open))
			}
			posted := ep.Level // a restart's incident was told of the outage as it stands
			if lvl, ok := t.abandoned[ep.Key]; ok && open[0].Episode == t.episode(ep) {
				posted = lvl // our own create, whose answer was given up: it reports its level
			}
			delete(t.abandoned, ep.Key)
			inc = &incident{id: open[0].ID, posted: posted}
			t.incidents[ep.Key] = inc
			t.r.logger.Info("adopted open incident", "component", name, "incident_id", open[0].ID)
			if inc.posted == ep.Level {
				return nil
			}
		}
		if inc == nil {
			// An incident of this outage that is no longer open was resolved
			// (or deleted) by a person before this term began: it stays so,
			// and the outage gets no other one.
			recorded, err := t.page.EpisodeRecorded(ctx, key, t.episode(ep))
			if err != nil {
				return fmt.Errorf("look for this outage's incident: %w", err)
			}
			if recorded {
				t.incidents[ep.Key] = &incident{posted: ep.Level, handedBack: true}
				t.r.logger.Info("this outage's incident was resolved by hand before this term, leaving it resolved for the rest of the outage",
					"component", name, "episode", t.episode(ep))
				return nil
			}
			wctx, cancel := t.r.watch(ctx, name, w.version)
			defer cancel()
			if wctx.Err() != nil {
				return errPassed // the outage changed while we looked: the next pass looks again
			}
			start := t.maint.outageStart(key.ComponentID, ep)
			id, err := t.createIncident(wctx, w, key, ep, start, false)
			if err != nil {
				t.abandoned[ep.Key] = ep.Level // Cachet may have stored it all the same: see abandoned
				if wctx.Err() != nil && ctx.Err() == nil {
					return errPassed // the outage changed during the create; the next pass looks again
				}
				return fmt.Errorf("open incident: %w", err)
			}
			t.incidents[ep.Key] = &incident{id: id, posted: ep.Level}
			t.r.logger.Info("incident opened", "component", name, "incident_id", id, "status", ep.Level.String(), "occurred_at", start)
			return nil
		}
	}
	if inc.handedBack || inc.posted == ep.Level {
		return nil
	}
	// Read the incident first: a person may have moved it on (identified,
	// watching) or closed it, and statussync never moves it back.
	cur, gone, err := t.readIncident(ctx, name, inc)
	if err != nil || gone {
		return err
	}
	if cur.Status == IncidentFixed {
		t.handBack(name, inc, "incident resolved by hand, leaving it resolved for the rest of this outage")
		return nil
	}
	msg, err := w.spec.Incidents.Render("update", t.incidentData(w, ep))
	if err != nil {
		return err
	}
	applied := false
	if inc.unsure {
		latest, err := t.page.LatestIncidentUpdate(ctx, inc.id)
		if err != nil {
			return fmt.Errorf("read incident %d updates: %w", inc.id, err)
		}
		applied = latest == msg
	}
	if !applied {
		if err := t.page.UpdateIncident(ctx, inc.id, max(cur.Status, IncidentInvestigating), msg); err != nil {
			inc.unsure = true
			return fmt.Errorf("update incident %d: %w", inc.id, err)
		}
	}
	t.r.metrics.writes.WithLabelValues("incident_update").Inc()
	inc.posted, inc.unsure = ep.Level, false
	t.r.logger.Info("incident updated", "component", name, "incident_id", inc.id, "status", ep.Level.String())
	return nil
}

// readIncident reads one of the term's incidents; gone reports that a
// person deleted it, which hands it back.
func (t *term) readIncident(ctx context.Context, component string, inc *incident) (PageIncident, bool, error) {
	cur, err := t.page.GetIncident(ctx, inc.id)
	if errors.Is(err, ErrNotFound) {
		t.handBack(component, inc, "incident deleted by hand, not reopening it for this outage")
		return PageIncident{}, true, nil
	}
	if err != nil {
		return PageIncident{}, false, fmt.Errorf("read incident %d: %w", inc.id, err)
	}
	return cur, false, nil
}

func (t *term) handBack(component string, inc *incident, msg string) {
	inc.handedBack = true
	t.r.logger.Info(msg, "component", component, "incident_id", inc.id)
}

// closeEpisode resolves an ended outage's incident or, if it never had one
// (the page was unreachable throughout), records it as already fixed with
// its true start and end, unless it was planned downtime.
func (t *term) closeEpisode(ctx context.Context, w wantSnap, key IncidentKey, ep Episode) error {
	name := w.spec.Name
	incID := 0
	if inc := t.incidents[ep.Key]; inc != nil {
		if inc.handedBack {
			return nil
		}
		// A resolve whose response was lost, or a person, may have closed
		// it already: resolving twice would post a second "fixed" update.
		cur, gone, err := t.readIncident(ctx, name, inc)
		if err != nil || gone {
			return err
		}
		if cur.Status == IncidentFixed {
			t.r.logger.Info("incident already resolved", "component", name, "incident_id", inc.id)
			return nil
		}
		incID = inc.id
	} else {
		// A create whose response was lost, or an earlier term's incident.
		open, err := t.page.OpenIncidents(ctx, key.ComponentID)
		if err != nil {
			return fmt.Errorf("look for open incidents: %w", err)
		}
		if len(open) > 0 {
			incID = open[0].ID
		}
	}
	if incID != 0 {
		msg, err := w.spec.Incidents.Render("resolved", t.incidentData(w, ep))
		if err != nil {
			return err
		}
		if err := t.page.UpdateIncident(ctx, incID, IncidentFixed, msg); err != nil {
			return fmt.Errorf("resolve incident %d: %w", incID, err)
		}
		t.r.metrics.writes.WithLabelValues("incident_update").Inc()
		t.r.logger.Info("incident resolved", "component", name, "incident_id", incID)
		return nil
	}
	if t.maint.planned(key.ComponentID, ep) {
		t.r.logger.Info("outage ended inside a maintenance window: planned downtime, not recorded as an incident",
			"component", name, "start", ep.Start, "end", ep.End)
		return nil
	}
	recorded, err := t.page.EpisodeRecorded(ctx, key, t.episode(ep))
	if err != nil {
		return fmt.Errorf("look for a recorded outage: %w", err)
	}
	if recorded {
		return nil
	}
	start := t.maint.outageStart(key.ComponentID, ep)
	id, err := t.createIncident(ctx, w, key, ep, start, true)
	if err != nil {
		return fmt.Errorf("record missed outage: %w", err)
	}
	t.r.logger.Info("recorded an outage missed while the status page was unreachable",
		"component", name, "incident_id", id, "start", start, "end", ep.End)
	return nil
}

// createIncident opens the incident of an outage episode or, with
// resolved, records an ended one the page never showed (with the missed
// template). Subscribers are never notified of an outage recorded after
// the fact: it is history, not news.
func (t *term) createIncident(ctx context.Context, w wantSnap, key IncidentKey, ep Episode, start time.Time, resolved bool) (int, error) {
	ep.Start = start
	data := t.incidentData(w, ep)
	name, err := w.spec.Incidents.Render("name", data)
	if err != nil {
		return 0, err
	}
	tmpl := "investigating"
	if resolved {
		tmpl = "missed"
	}
	msg, err := w.spec.Incidents.Render(tmpl, data)
	if err != nil {
		return 0, err
	}
	id, err := t.page.CreateIncident(ctx, NewIncident{
		Key: key, Episode: t.episode(ep), Name: name, Message: msg, Impact: ep.Level, Resolved: resolved,
		Visible: w.spec.Incidents.IsVisible(), Notify: w.spec.Incidents.Notify && !resolved, OccurredAt: start,
	})
	if err != nil {
		return 0, err
	}
	t.r.metrics.writes.WithLabelValues("incident_create").Inc()
	return id, nil
}

var stateText = map[ComponentState]string{
	ComponentOperational:       "normal operation",
	ComponentPerformanceIssues: "performance issue",
	ComponentPartialOutage:     "partial outage",
	ComponentMajorOutage:       "major outage",
}

func (t *term) incidentData(w wantSnap, ep Episode) config.IncidentData {
	until := ep.End
	if until.IsZero() {
		until = t.r.now()
	}
	return config.IncidentData{
		Component: w.spec.Name,
		Status:    stateText[ep.Level],
		Start:     ep.Start,
		End:       ep.End,
		Duration:  until.Sub(ep.Start).Round(time.Minute),
		Monitors:  slices.Sorted(maps.Keys(ep.Reasons)),
		Reasons:   maps.Clone(ep.Reasons),
	}
}
