package cachettest

import (
	"crypto/rand"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Cachet's integer enums (reference §4), kept as plain ints so that the
// fake does not depend on the client it tests.
const (
	StatusOperational       = 1
	StatusPerformanceIssues = 2
	StatusPartialOutage     = 3
	StatusMajorOutage       = 4
	StatusUnknown           = 5
	StatusUnderMaintenance  = 6

	IncidentReported      = 0
	IncidentInvestigating = 1
	IncidentIdentified    = 2
	IncidentWatching      = 3
	IncidentFixed         = 4

	VisibleAuthenticated = 0
	VisibleGuest         = 1
	VisibleHidden        = 2

	ScheduleUpcoming   = 0
	ScheduleInProgress = 1
	ScheduleComplete   = 2
)

// Component is a component as the fake stores it.
type Component struct {
	ID          int
	Name        string
	Description string
	Link        string
	Order       int
	// Status is the baseline status.
	Status  int
	Enabled bool
	// GroupID is 0 when ungrouped.
	GroupID   int
	Meta      map[string]any
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ComponentGroup is a component group as the fake stores it.
type ComponentGroup struct {
	ID             int
	Name           string
	Order          int
	Visible        int
	Collapsed      int
	OrderColumn    string
	OrderDirection string
	Meta           map[string]any
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Impact is a component's status under an incident or a schedule.
type Impact struct {
	ComponentID int
	Status      int
}

// Incident is an incident as the fake stores it.
type Incident struct {
	ID            int
	GUID          string
	Name          string
	Message       string
	Status        int
	Visible       int
	Stickied      bool
	Notifications bool
	// OccurredAt is nil when the incident was created without it.
	OccurredAt *time.Time
	// PublishedAt is when the incident is public; nil on a seeded incident
	// means published.
	PublishedAt *time.Time
	Components  []Impact
	// ComponentID is the incident's own component_id column, which is all
	// that cores before the current one store from the API
	// (component_id + component_status; a components array is ignored).
	ComponentID int
	Meta        map[string]any
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Affects reports whether the incident is attached to component id, by
// its impacts or by its component_id column.
func (in Incident) Affects(id int) bool {
	return in.ComponentID == id || slices.ContainsFunc(in.Components, func(im Impact) bool { return im.ComponentID == id })
}

// IncidentUpdate is an incident update as the fake stores it.
type IncidentUpdate struct {
	ID         int
	IncidentID int
	Status     int
	Message    string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Metric is a metric as the fake stores it.
type Metric struct {
	ID           int
	Name         string
	Suffix       string
	Description  string
	DefaultValue float64
	CalcType     int
	DisplayChart bool
	Places       int
	DefaultView  int
	Threshold    int
	Order        int
	Visible      int
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// MetricPoint is a metric point as the fake stores it.
type MetricPoint struct {
	ID        int
	MetricID  int
	Value     float64
	Counter   int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// CalculatedValue is Value × Counter, as Cachet computes it.
func (p MetricPoint) CalculatedValue() float64 { return p.Value * float64(p.Counter) }

// Schedule is a maintenance window as the fake stores it.
type Schedule struct {
	ID          int
	Name        string
	Message     string
	ScheduledAt time.Time
	// CompletedAt is nil for an open-ended window.
	CompletedAt *time.Time
	// PublishedAt nil means published.
	PublishedAt *time.Time
	// Components are under maintenance while the window runs; Status 0
	// means under maintenance (6).
	Components []Impact
	Meta       map[string]any
	// Status is the stored status column of the 2024-10 core, set by a
	// person in the dashboard (nil reads as upcoming there); later cores
	// compute the status from the dates and ignore it.
	Status    *int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// StatusAt is the schedule's computed status at now (reference §3.8).
func (s Schedule) StatusAt(now time.Time) int {
	switch {
	case s.ScheduledAt.After(now):
		return ScheduleUpcoming
	case s.CompletedAt == nil || !s.CompletedAt.Before(now):
		return ScheduleInProgress
	default:
		return ScheduleComplete
	}
}

type state struct {
	nextID     map[string]int
	components map[int]*Component
	groups     map[int]*ComponentGroup
	incidents  map[int]*Incident
	updates    map[int]*IncidentUpdate
	metrics    map[int]*Metric
	points     map[int]*MetricPoint
	schedules  map[int]*Schedule
}

func newState() state {
	return state{
		nextID:     map[string]int{},
		components: map[int]*Component{},
		groups:     map[int]*ComponentGroup{},
		incidents:  map[int]*Incident{},
		updates:    map[int]*IncidentUpdate{},
		metrics:    map[int]*Metric{},
		points:     map[int]*MetricPoint{},
		schedules:  map[int]*Schedule{},
	}
}

// id hands out auto-increment ids per table, never reused, like a database.
func (st *state) id(table string, want int) int {
	if want > 0 {
		st.nextID[table] = max(st.nextID[table], want)
		return want
	}
	st.nextID[table]++
	return st.nextID[table]
}

func sortedValues[T any](m map[int]*T) []*T {
	keys := slices.Sorted(maps.Keys(m))
	out := make([]*T, 0, len(keys))
	for _, k := range keys {
		out = append(out, m[k])
	}
	return out
}

func cloneMeta(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return maps.Clone(m)
}

func (c Component) clone() Component { c.Meta = cloneMeta(c.Meta); return c }

func (g ComponentGroup) clone() ComponentGroup { g.Meta = cloneMeta(g.Meta); return g }

func (in Incident) clone() Incident {
	in.Meta = cloneMeta(in.Meta)
	in.Components = slices.Clone(in.Components)
	in.OccurredAt = cloneTime(in.OccurredAt)
	in.PublishedAt = cloneTime(in.PublishedAt)
	return in
}

func (s Schedule) clone() Schedule {
	s.Meta = cloneMeta(s.Meta)
	s.Components = slices.Clone(s.Components)
	s.CompletedAt = cloneTime(s.CompletedAt)
	s.PublishedAt = cloneTime(s.PublishedAt)
	if s.Status != nil {
		v := *s.Status
		s.Status = &v
	}
	return s
}

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := *t
	return &v
}

func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// severity ranks component statuses as Cachet does (reference §3.2).
func severity(status int) int {
	switch status {
	case StatusMajorOutage:
		return 5
	case StatusPartialOutage:
		return 4
	case StatusPerformanceIssues:
		return 3
	case StatusUnderMaintenance:
		return 2
	case StatusUnknown:
		return 1
	case StatusOperational:
		return 0
	default:
		return -1
	}
}

func (in *Incident) published(now time.Time) bool {
	return in.PublishedAt == nil || !in.PublishedAt.After(now)
}

func (s *Schedule) published(now time.Time) bool {
	return s.PublishedAt == nil || !s.PublishedAt.After(now)
}

// effectiveStatus is a component's latest_status (reference §3.2): the
// baseline, or a running published maintenance window's status for it,
// raised to the most severe impact of unresolved, guest-visible, published
// incidents.
func (st *state) effectiveStatus(c *Component, now time.Time) int {
	status := c.Status
	maint := 0
	for _, sc := range st.schedules {
		if !sc.published(now) || sc.StatusAt(now) != ScheduleInProgress {
			continue
		}
		for _, im := range sc.Components {
			if im.ComponentID != c.ID {
				continue
			}
			s := im.Status
			if s == 0 {
				s = StatusUnderMaintenance
			}
			if maint == 0 || severity(s) > severity(maint) {
				maint = s
			}
		}
	}
	if maint != 0 {
		status = maint
	}
	for _, in := range st.incidents {
		if in.Status == IncidentFixed || in.Visible != VisibleGuest || !in.published(now) {
			continue
		}
		for _, im := range in.Components {
			if im.ComponentID == c.ID && severity(im.Status) > severity(status) {
				status = im.Status
			}
		}
	}
	return status
}

// syncIncidentStatus sets the incident's status to its newest update's
// (by created_at, then id), as Cachet's SyncIncidentStatus does.
func (st *state) syncIncidentStatus(incidentID int, f features) {
	in := st.incidents[incidentID]
	if in == nil || !f.syncStatus {
		return
	}
	var newest *IncidentUpdate
	for _, u := range st.updates {
		if u.IncidentID != incidentID {
			continue
		}
		if newest == nil || u.CreatedAt.After(newest.CreatedAt) ||
			u.CreatedAt.Equal(newest.CreatedAt) && u.ID > newest.ID {
			newest = u
		}
	}
	if newest != nil {
		in.Status = newest.Status
	}
}

// shownStatus is the status an incident renders. Cores that do not sync
// the status column render the newest update's status (latestStatus),
// else the column.
func (st *state) shownStatus(in *Incident, f features) int {
	if f.syncStatus {
		return in.Status
	}
	var newest *IncidentUpdate
	for _, u := range st.updates {
		if u.IncidentID == in.ID && (newest == nil || u.CreatedAt.After(newest.CreatedAt) ||
			u.CreatedAt.Equal(newest.CreatedAt) && u.ID > newest.ID) {
			newest = u
		}
	}
	if newest != nil {
		return newest.Status
	}
	return in.Status
}

// addPoint applies Cachet's metric point semantics (reference §3.7) and
// returns the point that was created or bumped.
func (st *state) addPoint(m *Metric, value float64, at, now time.Time) *MetricPoint {
	var newest *MetricPoint
	for _, p := range st.points {
		if p.MetricID != m.ID {
			continue
		}
		if newest == nil || p.CreatedAt.After(newest.CreatedAt) ||
			p.CreatedAt.Equal(newest.CreatedAt) && p.ID > newest.ID {
			newest = p
		}
	}
	threshold := m.Threshold
	if threshold <= 0 {
		threshold = 5
	}
	if newest != nil {
		diff := at.Truncate(time.Minute).Sub(newest.CreatedAt.Truncate(time.Minute))
		if diff < 0 {
			diff = -diff
		}
		if int(diff/time.Minute) < threshold {
			newest.Counter++
			newest.UpdatedAt = now
			return newest
		}
	}
	p := &MetricPoint{
		ID:        st.id("metric_points", 0),
		MetricID:  m.ID,
		Value:     value,
		Counter:   1,
		CreatedAt: at.Round(30 * time.Second),
		UpdatedAt: now,
	}
	st.points[p.ID] = p
	return p
}

// ---- exported state access ----

// Components returns every component, by id.
func (s *Server) Components() []Component {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Component
	for _, c := range sortedValues(s.st.components) {
		out = append(out, c.clone())
	}
	return out
}

// Component returns one component.
func (s *Server) Component(id int) (Component, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.st.components[id]
	if !ok {
		return Component{}, false
	}
	return c.clone(), true
}

// EffectiveStatus returns a component's latest_status, what the status page
// shows, or 0 for an unknown id.
func (s *Server) EffectiveStatus(id int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.st.components[id]
	if !ok {
		return 0
	}
	if !s.feat.latestStatus {
		return c.Status // older cores show the baseline
	}
	return s.st.effectiveStatus(c, s.now())
}

// ComponentGroups returns every component group, by id.
func (s *Server) ComponentGroups() []ComponentGroup {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ComponentGroup
	for _, g := range sortedValues(s.st.groups) {
		out = append(out, g.clone())
	}
	return out
}

// Incidents returns every incident, by id.
func (s *Server) Incidents() []Incident {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Incident
	for _, in := range sortedValues(s.st.incidents) {
		cp := in.clone()
		cp.Status = s.st.shownStatus(in, s.feat)
		out = append(out, cp)
	}
	return out
}

// Incident returns one incident.
func (s *Server) Incident(id int) (Incident, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.st.incidents[id]
	if !ok {
		return Incident{}, false
	}
	cp := in.clone()
	cp.Status = s.st.shownStatus(in, s.feat)
	return cp, true
}

// DeleteIncident removes an incident, as a person deleting it in the
// dashboard does; later updates to it answer 404. It reports false for an
// unknown id.
func (s *Server) DeleteIncident(id int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.incidents[id]; !ok {
		return false
	}
	delete(s.st.incidents, id)
	return true
}

// IncidentUpdates returns the updates of one incident, by id.
func (s *Server) IncidentUpdates(incidentID int) []IncidentUpdate {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []IncidentUpdate
	for _, u := range sortedValues(s.st.updates) {
		if u.IncidentID == incidentID {
			out = append(out, *u)
		}
	}
	return out
}

// Metrics returns every metric, by id.
func (s *Server) Metrics() []Metric {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Metric
	for _, m := range sortedValues(s.st.metrics) {
		out = append(out, *m)
	}
	return out
}

// MetricPoints returns the points of one metric, by id.
func (s *Server) MetricPoints(metricID int) []MetricPoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []MetricPoint
	for _, p := range sortedValues(s.st.points) {
		if p.MetricID == metricID {
			out = append(out, *p)
		}
	}
	return out
}

// Schedules returns every schedule, by id.
func (s *Server) Schedules() []Schedule {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Schedule
	for _, sc := range sortedValues(s.st.schedules) {
		out = append(out, sc.clone())
	}
	return out
}

// ---- seeding, as a human in the dashboard would ----

// AddComponent adds an enabled, ungrouped component and returns it.
func (s *Server) AddComponent(name string, status int) Component {
	return s.PutComponent(Component{Name: name, Status: status, Enabled: true})
}

// PutComponent stores c as given, assigning an id when c.ID is 0 and
// timestamps when zero, and returns the stored copy. A zero Status becomes
// unknown (5), Cachet's default.
func (s *Server) PutComponent(c Component) Component {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	c.ID = s.st.id("components", c.ID)
	if c.Status == 0 {
		c.Status = StatusUnknown
	}
	c.CreatedAt = orNow(c.CreatedAt, now)
	c.UpdatedAt = orNow(c.UpdatedAt, now)
	c.Meta = cloneMeta(c.Meta)
	stored := c
	s.st.components[c.ID] = &stored
	return c.clone()
}

// SetComponentStatus changes a component's baseline status, as someone
// editing it in the dashboard would. It reports false for an unknown id.
func (s *Server) SetComponentStatus(id, status int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.st.components[id]
	if !ok {
		return false
	}
	c.Status = status
	c.UpdatedAt = s.now()
	return true
}

// AddComponentGroup adds a group with the given visibility and returns it.
func (s *Server) AddComponentGroup(name string, visible int, componentIDs ...int) ComponentGroup {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	g := &ComponentGroup{ID: s.st.id("component_groups", 0), Name: name, Visible: visible, CreatedAt: now, UpdatedAt: now}
	s.st.groups[g.ID] = g
	for _, id := range componentIDs {
		if c, ok := s.st.components[id]; ok {
			c.GroupID = g.ID
		}
	}
	return g.clone()
}

// AddIncident stores in as given, assigning an id, a GUID and timestamps
// when missing, and returns the stored copy. It does not touch any
// component's baseline status, like Cachet.
func (s *Server) AddIncident(in Incident) Incident {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	in.ID = s.st.id("incidents", in.ID)
	if in.GUID == "" {
		in.GUID = newGUID()
	}
	in.CreatedAt = orNow(in.CreatedAt, now)
	in.UpdatedAt = orNow(in.UpdatedAt, now)
	stored := in.clone()
	s.st.incidents[in.ID] = &stored
	return stored.clone()
}

// AddIncidentUpdate adds an update to an incident and re-syncs the
// incident's status. It reports false for an unknown incident.
func (s *Server) AddIncidentUpdate(incidentID, status int, message string) (IncidentUpdate, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.incidents[incidentID]; !ok {
		return IncidentUpdate{}, false
	}
	now := s.now()
	u := &IncidentUpdate{ID: s.st.id("updates", 0), IncidentID: incidentID, Status: status, Message: message, CreatedAt: now, UpdatedAt: now}
	s.st.updates[u.ID] = u
	s.st.syncIncidentStatus(incidentID, s.feat)
	return *u, true
}

// AddMetric adds a public metric with Cachet's defaults (sum, chart shown,
// 2 places) and the given threshold (0 means 5), and returns it.
func (s *Server) AddMetric(name, suffix string, threshold int) Metric {
	if threshold == 0 {
		threshold = 5
	}
	return s.PutMetric(Metric{Name: name, Suffix: suffix, Threshold: threshold, Places: 2, DisplayChart: true,
		Visible: VisibleGuest, DefaultView: 1})
}

// PutMetric stores m as given, assigning an id and timestamps when
// missing, and returns it.
func (s *Server) PutMetric(m Metric) Metric {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	m.ID = s.st.id("metrics", m.ID)
	m.CreatedAt = orNow(m.CreatedAt, now)
	m.UpdatedAt = orNow(m.UpdatedAt, now)
	stored := m
	s.st.metrics[m.ID] = &stored
	return m
}

// AddSchedule stores a maintenance window, assigning an id and timestamps
// when missing, and returns it.
func (s *Server) AddSchedule(sc Schedule) Schedule {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	sc.ID = s.st.id("schedules", sc.ID)
	sc.CreatedAt = orNow(sc.CreatedAt, now)
	sc.UpdatedAt = orNow(sc.UpdatedAt, now)
	stored := sc.clone()
	s.st.schedules[sc.ID] = &stored
	return stored.clone()
}

func orNow(t, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t
}
