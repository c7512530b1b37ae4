// Package cachetpage adapts the Cachet client to the engine's StatusPage.
// It is the one place that maps the engine's component states to Cachet's
// status integers, and that decides how statussync marks its own incidents.
package cachetpage

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/statussync/statussync/cachet"
	"github.com/statussync/statussync/engine"
)

// Incident metadata keys. Cachet 3 has no external id for incidents, so
// statussync marks its own twice: in metadata (filterable on current
// Cachet) and in an HTML comment at the end of the Markdown message, which
// the page does not show and which every 3.x version keeps.
const (
	metaComponent = "statussync_component"
	metaEpisode   = "statussync_episode"
)

// Page implements engine.StatusPage on a Cachet client. The client can be
// swapped (on a reload that changes Cachet settings) while the page is in
// use.
type Page struct {
	client atomic.Pointer[cachet.Client]
}

var _ engine.StatusPage = (*Page)(nil)

// New returns a page backed by c.
func New(c *cachet.Client) *Page {
	p := &Page{}
	p.client.Store(c)
	return p
}

// SetClient swaps the client used for later calls and closes the idle
// connections of the one it replaces (requests in flight finish).
func (p *Page) SetClient(c *cachet.Client) {
	if old := p.client.Swap(c); old != nil && old != c {
		old.CloseIdleConnections()
	}
}

func (p *Page) c() *cachet.Client { return p.client.Load() }

// Close closes the client's idle connections; call it once nothing will
// use the page any more.
func (p *Page) Close() {
	if c := p.client.Load(); c != nil {
		c.CloseIdleConnections()
	}
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
	pc := engine.PageComponent{ID: c.ID, Name: c.Name, Raw: int(c.Status)}
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
	return pc
}

// ListComponents returns every enabled component. The baseline status is
// used, not the effective one: the baseline is what statussync writes.
func (p *Page) ListComponents(ctx context.Context) ([]engine.PageComponent, error) {
	cs, err := p.c().ListComponents(ctx, cachet.ComponentFilter{})
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
		return engine.PageComponent{}, err
	}
	return fromCachet(c), nil
}

// SetComponentState writes a component's baseline status.
func (p *Page) SetComponentState(ctx context.Context, id int, s engine.ComponentState) error {
	st, err := ToCachet(s)
	if err != nil {
		return err
	}
	_, err = p.c().UpdateComponentStatus(ctx, id, st)
	return err
}

// Maintenance returns the components of every maintenance window in
// progress.
func (p *Page) Maintenance(ctx context.Context) (map[int]bool, error) {
	scheds, err := p.c().ListSchedules(ctx, cachet.ScheduleFilter{Statuses: []cachet.ScheduleStatus{cachet.ScheduleInProgress}})
	if err != nil {
		return nil, err
	}
	out := map[int]bool{}
	for _, s := range scheds {
		if !s.InProgress() {
			continue
		}
		for _, c := range s.Components {
			out[c.ID] = true
		}
	}
	return out, nil
}

// marker is the Markdown comment that marks statussync's incidents.
func marker(component, episode string) string {
	return fmt.Sprintf("<!-- statussync:component=%s;episode=%s -->", url.QueryEscape(component), url.QueryEscape(episode))
}

func markerPrefix(component string) string {
	return "<!-- statussync:component=" + url.QueryEscape(component) + ";"
}

// ours reports whether an incident is statussync's, for the component.
func ours(in cachet.Incident, component string) bool {
	return in.Meta[metaComponent] == component || strings.Contains(in.Message, markerPrefix(component))
}

// OpenIncidents returns statussync's unresolved incidents for the
// component, newest first.
func (p *Page) OpenIncidents(ctx context.Context, k engine.IncidentKey) ([]int, error) {
	ins, err := p.c().ListIncidents(ctx, cachet.IncidentFilter{
		Statuses:    cachet.UnresolvedIncidentStatuses(),
		ComponentID: k.ComponentID,
		IncludeMeta: true,
	})
	if err != nil {
		return nil, err
	}
	var ids []int
	for _, in := range ins {
		if !in.Status.Resolved() && ours(in, k.Component) {
			ids = append(ids, in.ID)
		}
	}
	return ids, nil
}

// AllOpenIncidents returns statussync's unresolved incidents by component,
// newest first, from one listing: metadata names the component, or on a
// Cachet without metadata, the Markdown marker does.
func (p *Page) AllOpenIncidents(ctx context.Context) (map[string][]int, error) {
	ins, err := p.c().ListIncidents(ctx, cachet.IncidentFilter{Statuses: cachet.UnresolvedIncidentStatuses(), IncludeMeta: true})
	if err != nil {
		return nil, err
	}
	out := map[string][]int{}
	for _, in := range ins {
		if in.Status.Resolved() {
			continue
		}
		name := in.Meta[metaComponent]
		if name == "" {
			name = componentFromMarker(in.Message)
		}
		if name != "" {
			out[name] = append(out[name], in.ID)
		}
	}
	return out, nil
}

// componentFromMarker reads the component name from statussync's Markdown
// marker, "" if there is none.
func componentFromMarker(msg string) string {
	const prefix = "<!-- statussync:component="
	i := strings.LastIndex(msg, prefix)
	if i < 0 {
		return ""
	}
	rest := msg[i+len(prefix):]
	end := strings.IndexByte(rest, ';')
	if end < 0 {
		return ""
	}
	name, err := url.QueryUnescape(rest[:end])
	if err != nil {
		return ""
	}
	return name
}

// EpisodeRecorded looks for an incident of the outage episode, through the
// metadata filter, or on a Cachet too old for it (400) through the marker
// in the messages of the component's incidents.
func (p *Page) EpisodeRecorded(ctx context.Context, k engine.IncidentKey, episode string) (bool, error) {
	ins, err := p.c().ListIncidents(ctx, cachet.IncidentFilter{Meta: map[string]string{metaEpisode: episode}})
	if err == nil {
		for _, in := range ins {
			if in.Meta[metaEpisode] == episode {
				return true, nil
			}
		}
		return false, nil
	}
	if !cachet.IsStatus(err, http.StatusBadRequest) && !errors.Is(err, cachet.ErrUnsupported) {
		return false, err
	}
	ins, err = p.c().ListIncidents(ctx, cachet.IncidentFilter{ComponentID: k.ComponentID})
	if err != nil {
		return false, err
	}
	want := marker(k.Component, episode)
	for _, in := range ins {
		if strings.Contains(in.Message, want) {
			return true, nil
		}
	}
	return false, nil
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
		Message:       in.Message + "\n\n" + marker(in.Key.Component, in.Episode),
		Status:        status,
		Visible:       vis,
		Notifications: in.Notify,
		OccurredAt:    in.OccurredAt,
		Components:    []cachet.AffectedComponent{{ID: in.Key.ComponentID, Status: impact}},
		Meta:          map[string]string{metaComponent: in.Key.Component, metaEpisode: in.Episode},
	})
	if err != nil {
		return 0, err
	}
	if created.ID == 0 {
		return 0, errors.New("cachet answered the incident create without an id")
	}
	return created.ID, nil
}

// UpdateIncident posts an update; resolved closes the incident (Cachet
// syncs the incident's status to its newest update).
func (p *Page) UpdateIncident(ctx context.Context, id int, resolved bool, message string) error {
	status := cachet.IncidentInvestigating
	if resolved {
		status = cachet.IncidentFixed
	}
	_, err := p.c().CreateIncidentUpdate(ctx, id, status, message)
	return err
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
	return err
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
