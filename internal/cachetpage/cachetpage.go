// Package cachetpage adapts the Cachet client to the engine's StatusPage.
// It is the one place that maps the engine's component states to Cachet's
// status integers, and that decides how statussync marks its own incidents.
package cachetpage

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/statussync/statussync/cachet"
	"github.com/statussync/statussync/engine"
)

// Incident metadata keys. Cachet 3 has no external id for incidents, so
// statussync marks its own twice: in metadata (filterable on current
// Cachet) and in an HTML comment at the end of the Markdown message, which
// the page does not show and which every 3.x version keeps. Both name the
// component and its Cachet id: incidents are matched by id, so a renamed
// component keeps its incident.
const (
	metaComponent   = "statussync_component"
	metaComponentID = "statussync_component_id"
	metaEpisode     = "statussync_episode"
	// metaStatus, on a component, is the status statussync last wrote: a
	// status that differs from it was set by someone else since.
	metaStatus = "statussync_status"
)

// Page implements engine.StatusPage on a Cachet client. A reload that
// changes the Cachet settings makes a new Page.
type Page struct {
	client *cachet.Client
}

var _ engine.StatusPage = (*Page)(nil)

// New returns a page backed by c.
func New(c *cachet.Client) *Page { return &Page{client: c} }

func (p *Page) c() *cachet.Client { return p.client }

// Close closes the client's idle connections; call it once nothing will
// use the page any more (requests in flight finish).
func (p *Page) Close() {
	if p != nil && p.client != nil {
		p.client.CloseIdleConnections()
	}
}

// notFound marks a 404 as engine.ErrNotFound.
func notFound(err error) error {
	if cachet.IsStatus(err, http.StatusNotFound) {
		return fmt.Errorf("%w: %w", engine.ErrNotFound, err)
	}
	return err
}

// ToCachet maps a desired component state to Cachet's status. This table
// is the whole mapping:
//
//	operational         1 operational
//	performance issues  2 performance issues
//	partial outage      3 partial outage
//	major outage        4 major outage
//
// statussync never writes 5 (unknown) or 6 (under maintenance): unknown is
// "nothing to say", and maintenance belongs to people.
func ToCachet(s engine.ComponentState) (cachet.ComponentStatus, error) {
	switch s {
	case engine.ComponentOperational:
		return cachet.ComponentOperational, nil
	case engine.ComponentPerformanceIssues:
		return cachet.ComponentPerformanceIssues, nil
	case engine.ComponentPartialOutage:
		return cachet.ComponentPartialOutage, nil
	case engine.ComponentMajorOutage:
		return cachet.ComponentMajorOutage, nil
	}
	return 0, fmt.Errorf("no Cachet status for component state %s", s)
}

// fromCachet maps Cachet's status back; unknown (5) and maintenance (6)
// have no desired-state equivalent.
func fromCachet(c cachet.Component) engine.PageComponent {
	pc := engine.PageComponent{ID: c.ID, Name: c.Name, Raw: int(c.Status), UpdatedAt: c.UpdatedAt}
	switch c.Status {
	case cachet.ComponentOperational:
		pc.State = engine.ComponentOperational
	case cachet.ComponentPerformanceIssues:
		pc.State = engine.ComponentPerformanceIssues
	case cachet.ComponentPartialOutage:
		pc.State = engine.ComponentPartialOutage
	case cachet.ComponentMajorOutage:
		pc.State = engine.ComponentMajorOutage
	case cachet.ComponentUnderMaintenance:
		pc.Maintenance = true
	}
	if n, err := strconv.Atoi(c.Meta[metaStatus]); err == nil && n >= 1 && n <= 4 {
		pc.Written = engine.ComponentState(n) // the same numbers, see ToCachet
	}
	if pc.Written >= engine.ComponentPartialOutage {
		pc.Episode = c.Meta[metaEpisode]
	}
	pc.Meta = c.Meta
	return pc
}

// ListComponents returns every enabled component. The baseline status is
// used, not the effective one: the baseline is what statussync writes.
func (p *Page) ListComponents(ctx context.Context) ([]engine.PageComponent, error) {
	cs, err := p.c().ListComponents(ctx, cachet.ComponentFilter{IncludeMeta: true})
	if err != nil {
		return nil, err
	}
	out := make([]engine.PageComponent, 0, len(cs))
	for _, c := range cs {
		out = append(out, fromCachet(c))
	}
	return out, nil
}

// GetComponent reads one component.
func (p *Page) GetComponent(ctx context.Context, id int) (engine.PageComponent, error) {
	c, err := p.c().GetComponent(ctx, id)
	if err != nil {
		return engine.PageComponent{}, notFound(err)
	}
	return fromCachet(c), nil
}

// SetComponentState writes a component's baseline status and, where Cachet
// keeps component metadata, records it as statussync's (the rest of the
// metadata is kept).
func (p *Page) SetComponentState(ctx context.Context, c engine.PageComponent, s engine.ComponentState) error {
	st, err := ToCachet(s)
	if err != nil {
		return err
	}
	patch := cachet.ComponentPatch{Status: &st}
	if p.c().KnownCapabilities().Meta {
		patch.Meta = maps.Clone(c.Meta)
		if patch.Meta == nil {
			patch.Meta = map[string]string{}
		}
		patch.Meta[metaStatus] = strconv.Itoa(int(st))
		// The outage written, so that a later term knows it continues.
		delete(patch.Meta, metaEpisode)
		if c.Episode != "" && s >= engine.ComponentPartialOutage {
			patch.Meta[metaEpisode] = c.Episode
		}
	}
	_, err = p.c().UpdateComponent(ctx, c.ID, patch)
	return notFound(err)
}

// Maintenance returns the components of every maintenance window in
// progress, each with the window's planned end.
func (p *Page) Maintenance(ctx context.Context) (map[int]time.Time, error) {
	scheds, err := p.c().ListSchedules(ctx, cachet.ScheduleFilter{Statuses: []cachet.ScheduleStatus{cachet.ScheduleInProgress}})
	if err != nil {
		return nil, err
	}
	out := map[int]time.Time{}
	for _, s := range scheds {
		if !s.InProgress() {
			continue
		}
		for _, c := range s.Components {
			// The latest end of the windows covering it; zero (no planned
			// end) outlasts them all.
			if end, seen := out[c.ID]; !seen || (!end.IsZero() && (s.CompletedAt.IsZero() || s.CompletedAt.After(end))) {
				out[c.ID] = s.CompletedAt
			}
		}
	}
	return out, nil
}

// marker is the Markdown comment that marks statussync's incidents.
func marker(k engine.IncidentKey, episode string) string {
	return fmt.Sprintf("<!-- statussync:component=%s;episode=%s;cachet_id=%d -->",
		url.QueryEscape(k.Component), url.QueryEscape(episode), k.ComponentID)
}

// markerFields reads statussync's Markdown marker ("<!-- statussync:k=v;…
// -->", the last one in the message); ok is false if there is none.
func markerFields(msg string) (fields map[string]string, ok bool) {
	const prefix = "<!-- statussync:"
	i := strings.LastIndex(msg, prefix)
	if i < 0 {
		return nil, false
	}
	rest := msg[i+len(prefix):]
	end := strings.Index(rest, " -->")
	if end < 0 {
		return nil, false
	}
	fields = map[string]string{}
	for _, kv := range strings.Split(rest[:end], ";") {
		k, v, _ := strings.Cut(kv, "=")
		if v, err := url.QueryUnescape(v); err == nil {
			fields[k] = v
		}
	}
	return fields, true
}

// pageIncident reads statussync's marks off an incident; ok is false if
// it is not statussync's.
func pageIncident(in cachet.Incident) (engine.PageIncident, bool) {
	f, marked := markerFields(in.Message)
	if !marked {
		f = map[string]string{}
	}
	for k, mk := range map[string]string{"component": metaComponent, "cachet_id": metaComponentID, "episode": metaEpisode} {
		if v := in.Meta[mk]; v != "" {
			f[k] = strings.ReplaceAll(v, "%2C", ",")
		}
	}
	if !marked && f["component"] == "" {
		return engine.PageIncident{}, false
	}
	out := engine.PageIncident{ID: in.ID, Component: f["component"], Episode: f["episode"], Status: engine.IncidentStatus(in.Status)}
	for _, c := range in.Components {
		out.Components = append(out.Components, c.ID)
	}
	if id, err := strconv.Atoi(f["cachet_id"]); err == nil && id != 0 && !out.About(id) {
		out.Components = append(out.Components, id)
	}
	return out, true
}

// listIncidents lists incidents with their metadata or, on a Cachet too
// old for it (400 to include=meta), without: the marker then tells
// statussync's own apart.
func (p *Page) listIncidents(ctx context.Context, f cachet.IncidentFilter) ([]cachet.Incident, error) {
	f.IncludeMeta = true
	ins, err := p.c().ListIncidents(ctx, f)
	if cachet.IsStatus(err, http.StatusBadRequest) {
		f.IncludeMeta = false
		ins, err = p.c().ListIncidents(ctx, f)
	}
	return ins, err
}

// OpenIncidents returns statussync's unresolved incidents, newest first:
// of the component with Cachet id componentID (attached to it, or naming
// it in their marks), or with 0 of every component.
func (p *Page) OpenIncidents(ctx context.Context, componentID int) ([]engine.PageIncident, error) {
	ins, err := p.listIncidents(ctx, cachet.IncidentFilter{Statuses: cachet.UnresolvedIncidentStatuses()})
	if err != nil {
		return nil, err
	}
	var out []engine.PageIncident
	for _, in := range ins {
		if pi, ours := pageIncident(in); ours && !in.Status.Resolved() && (componentID == 0 || pi.About(componentID)) {
			out = append(out, pi)
		}
	}
	return out, nil
}

// GetIncident reads one incident; a 404 (a person deleted it) wraps
// engine.ErrNotFound.
func (p *Page) GetIncident(ctx context.Context, id int) (engine.PageIncident, error) {
	in, err := p.c().GetIncident(ctx, id)
	if err != nil {
		return engine.PageIncident{}, notFound(err)
	}
	pi, _ := pageIncident(in)
	pi.ID, pi.Status = in.ID, engine.IncidentStatus(in.Status)
	return pi, nil
}

// EpisodeRecorded looks for an incident of the outage episode, through the
// metadata filter, or on a Cachet too old for it (400) through the marks
// on the component's incidents.
func (p *Page) EpisodeRecorded(ctx context.Context, k engine.IncidentKey, episode string) (bool, error) {
	ins, err := p.c().ListIncidents(ctx, cachet.IncidentFilter{Meta: map[string]string{metaEpisode: metaValue(episode)}})
	if err == nil {
		for _, in := range ins {
			if pi, ours := pageIncident(in); ours && pi.Episode == episode {
				return true, nil
			}
		}
		return false, nil
	}
	if !cachet.IsStatus(err, http.StatusBadRequest) && !errors.Is(err, cachet.ErrUnsupported) {
		return false, err
	}
	ins, err = p.listIncidents(ctx, cachet.IncidentFilter{})
	if err != nil {
		return false, err
	}
	for _, in := range ins {
		if pi, ours := pageIncident(in); ours && pi.Episode == episode && pi.About(k.ComponentID) {
			return true, nil
		}
	}
	return false, nil
}

// metaValue makes a value safe to filter on: Cachet splits filter values
// on commas, and then ignores the filter.
func metaValue(v string) string { return strings.ReplaceAll(v, ",", "%2C") }

// incidentMessage is what subscribers read: the template's text, plus the
// Markdown marker only where statussync needs it to recognise its incident
// later, on a Cachet known to store no metadata (or not yet known to). With
// metadata the marker would only be noise in every notification mail.
func (p *Page) incidentMessage(in engine.NewIncident) string {
	if caps := p.c().KnownCapabilities(); caps.Detected && caps.Meta {
		return in.Message
	}
	return in.Message + "\n\n" + marker(in.Key, in.Episode)
}

// CreateIncident opens an incident (or records a resolved one), marked as
// statussync's.
func (p *Page) CreateIncident(ctx context.Context, in engine.NewIncident) (int, error) {
	impact, err := ToCachet(in.Impact)
	if err != nil {
		return 0, err
	}
	status := cachet.IncidentInvestigating
	if in.Resolved {
		status = cachet.IncidentFixed
	}
	vis := cachet.VisibilityAuthenticated
	if in.Visible {
		vis = cachet.VisibilityGuest
	}
	created, err := p.c().CreateIncident(ctx, cachet.IncidentCreate{
		Name:          in.Name,
		Message:       p.incidentMessage(in),
		Status:        status,
		Visible:       vis,
		Notifications: in.Notify,
		OccurredAt:    in.OccurredAt,
		Components:    []cachet.AffectedComponent{{ID: in.Key.ComponentID, Status: impact}},
		Meta: map[string]string{
			metaComponent: in.Key.Component, metaComponentID: strconv.Itoa(in.Key.ComponentID), metaEpisode: metaValue(in.Episode),
		},
	})
	if err != nil {
		return 0, err
	}
	if created.ID == 0 {
		return 0, errors.New("cachet answered the incident create without an id")
	}
	return created.ID, nil
}

// UpdateIncident posts an update with the status (Cachet syncs the
// incident's status to its newest update). A 404 (a person deleted the
// incident) wraps engine.ErrNotFound.
func (p *Page) UpdateIncident(ctx context.Context, id int, status engine.IncidentStatus, message string) error {
	_, err := p.c().CreateIncidentUpdate(ctx, id, cachet.IncidentStatus(status), message)
	return notFound(err)
}

var _ engine.MetricPage = (*Page)(nil)

// ListMetrics returns every metric the token can see.
func (p *Page) ListMetrics(ctx context.Context) ([]engine.PageMetric, error) {
	ms, err := p.c().ListMetrics(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]engine.PageMetric, 0, len(ms))
	for _, m := range ms {
		out = append(out, engine.PageMetric{ID: m.ID, Name: m.Name, Threshold: m.Threshold})
	}
	return out, nil
}

// CreateMetric creates an averaging metric. Cachet's create response is not
// refreshed, so a threshold it defaulted may read as 0; the one asked for
// is returned then.
func (p *Page) CreateMetric(ctx context.Context, name, suffix string, threshold int) (engine.PageMetric, error) {
	m, err := p.c().CreateMetric(ctx, cachet.MetricCreate{Name: name, Suffix: suffix, CalcType: cachet.MetricAverage, Threshold: threshold})
	if err != nil {
		return engine.PageMetric{}, err
	}
	if m.Threshold == 0 {
		m.Threshold = threshold
	}
	return engine.PageMetric{ID: m.ID, Name: m.Name, Threshold: m.Threshold}, nil
}

// PostMetricPoint posts one point.
func (p *Page) PostMetricPoint(ctx context.Context, id int, value float64, at time.Time) error {
	_, err := p.c().PostMetricPoint(ctx, id, value, at)
	return notFound(err)
}

// LatestIncidentUpdate returns the message of the incident's newest update.
// Cachet lists updates oldest first.
func (p *Page) LatestIncidentUpdate(ctx context.Context, id int) (string, error) {
	ups, err := p.c().ListIncidentUpdates(ctx, id)
	if err != nil || len(ups) == 0 {
		return "", err
	}
	newest := ups[0]
	for _, u := range ups[1:] {
		if u.CreatedAt.After(newest.CreatedAt) || (u.CreatedAt.Equal(newest.CreatedAt) && u.ID > newest.ID) {
			newest = u
		}
	}
	return newest.Message, nil
}
