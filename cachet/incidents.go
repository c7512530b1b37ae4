package cachet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Incident is a Cachet incident (reference §3.4).
type Incident struct {
	ID      int
	GUID    string
	Name    string
	Message string
	// Status is the incident's canonical status, which Cachet keeps equal to
	// the status of its newest update.
	Status  IncidentStatus
	Visible Visibility
	// Stickied pins the incident to the top of the page.
	Stickied bool
	// Notifications reports whether subscribers were e-mailed.
	Notifications bool
	// OccurredAt is zero when the incident was created without occurred_at.
	OccurredAt time.Time
	// PublishedAt is when the incident became (or becomes) public.
	PublishedAt time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// Components are the impacted components, filled by ListIncidents and
	// GetIncident (which ask for them).
	Components []AffectedComponent
	// Meta is the incident's metadata, present when it was requested and
	// the server keeps metadata.
	Meta map[string]string
	// Verified is set by CreateIncident when Components and Meta are what
	// the server reported it stored.
	Verified bool
}

// AffectedComponent is a component impacted by an incident or a
// maintenance window, with the status it shows while the incident is open
// or the window runs.
type AffectedComponent struct {
	ID int
	// Status is 0 when the server did not report it. In listings Cachet
	// includes each component once per page, so when two incidents on the
	// same page impact one component, Status may show the other incident's
	// impact [INF: JSON:API deduplication of "included"]; GetIncident is
	// exact.
	Status ComponentStatus
}

// Affects reports whether the incident impacts component id.
func (in Incident) Affects(id int) bool {
	return slices.ContainsFunc(in.Components, func(a AffectedComponent) bool { return a.ID == id })
}

type incidentAttributes struct {
	GUID          string          `json:"guid"`
	Name          string          `json:"name"`
	Message       string          `json:"message"`
	Status        IncidentStatus  `json:"status"`
	Visible       Visibility      `json:"visible"`
	Stickied      flexBool        `json:"stickied"`
	Notifications flexBool        `json:"notifications"`
	Occurred      wireTime        `json:"occurred"`
	OccurredAt    wireTime        `json:"occurred_at"`
	Published     wireTime        `json:"published"`
	PublishedAt   wireTime        `json:"published_at"`
	Created       wireTime        `json:"created"`
	CreatedAt     wireTime        `json:"created_at"`
	Updated       wireTime        `json:"updated"`
	UpdatedAt     wireTime        `json:"updated_at"`
	Meta          metaMap         `json:"meta"`
	Components    json.RawMessage `json:"components"`
	// ComponentID is the incident's own component column, the only link
	// cores before the current one keep from the API (observed on the
	// real 2024-10 and 2025-08 cores).
	ComponentID flexInt `json:"component_id"`
}

// pivotAttributes reads the impact Cachet attaches to a component embedded
// under an incident or a schedule.
type pivotAttributes struct {
	ID    flexInt `json:"id"`
	Pivot struct {
		ComponentStatus ComponentStatus `json:"component_status"`
	} `json:"pivot"`
	ComponentStatus ComponentStatus `json:"component_status"`
}

// affectedComponents resolves the "components" relationship of r against
// the included resources, or, for flat shapes, reads an embedded array.
func affectedComponents(r resource, included map[resourceKey]resource, embedded json.RawMessage) []AffectedComponent {
	var out []AffectedComponent
	if ids, ok := r.relatedIDs("components"); ok {
		for _, id := range ids {
			a := AffectedComponent{ID: id}
			if inc, ok := included[resourceKey{"components", id}]; ok {
				var p pivotAttributes
				if json.Unmarshal(inc.Attributes, &p) == nil {
					a.Status = p.Pivot.ComponentStatus
				}
			}
			out = append(out, a)
		}
		return out
	}
	var rows []pivotAttributes
	if len(embedded) > 0 && json.Unmarshal(embedded, &rows) == nil {
		for _, p := range rows {
			st := p.Pivot.ComponentStatus
			if st == 0 {
				st = p.ComponentStatus
			}
			out = append(out, AffectedComponent{ID: int(p.ID), Status: st})
		}
	}
	return out
}

func (c *Client) decodeIncident(r resource, included map[resourceKey]resource) (Incident, error) {
	var a incidentAttributes
	if err := json.Unmarshal(r.Attributes, &a); err != nil {
		return Incident{}, fmt.Errorf("decode incident %d: %w", r.ID, err)
	}
	return Incident{
		ID:            r.ID,
		GUID:          a.GUID,
		Name:          a.Name,
		Message:       a.Message,
		Status:        a.Status,
		Visible:       a.Visible,
		Stickied:      bool(a.Stickied),
		Notifications: bool(a.Notifications),
		OccurredAt:    c.time(a.Occurred.orTime(a.OccurredAt)),
		PublishedAt:   c.time(a.Published.orTime(a.PublishedAt)),
		CreatedAt:     c.time(a.Created.orTime(a.CreatedAt)),
		UpdatedAt:     c.time(a.Updated.orTime(a.UpdatedAt)),
		Components:    withComponentID(affectedComponents(r, included, a.Components), int(a.ComponentID)),
		Meta:          a.Meta,
	}, nil
}

// withComponentID adds the component an incident names in its
// component_id attribute when no impact lists it.
func withComponentID(list []AffectedComponent, id int) []AffectedComponent {
	if id <= 0 || slices.ContainsFunc(list, func(a AffectedComponent) bool { return a.ID == id }) {
		return list
	}
	return append(list, AffectedComponent{ID: id})
}

// IncidentFilter narrows ListIncidents. The zero value lists every
// incident the token can see.
type IncidentFilter struct {
	// Statuses keeps incidents with one of these statuses
	// (filter[status]=0,1,2,3). UnresolvedIncidentStatuses lists the open ones.
	Statuses []IncidentStatus
	// ComponentID keeps incidents that impact this component. Cachet has no
	// such filter, so the client asks for the components of every incident
	// and filters itself.
	ComponentID int
	// Meta keeps incidents whose metadata has every key with the value
	// (filter[meta][key]=value). Use non-numeric, non-boolean values
	// without commas (see MetaValue). On a Cachet without metadata
	// (Capabilities.Meta false) ListIncidents returns an error wrapping
	// ErrUnsupported instead of listing.
	Meta map[string]string
	// Name is a partial match on the name (filter[name]).
	Name string
	// IncludeMeta asks for metadata so that Incident.Meta is set; implied by
	// a non-empty Meta.
	IncludeMeta bool
}

// query renders the filter for a server with caps: includes it refuses
// are left out (Incident.Meta then stays nil, and Components comes from
// the component_id attribute).
func (f IncidentFilter) query(caps Capabilities) url.Values {
	q := url.Values{}
	if len(f.Statuses) > 0 {
		q.Set("filter[status]", joinInts(f.Statuses))
	}
	if f.Name != "" {
		q.Set("filter[name]", f.Name)
	}
	var include []string
	if caps.IncidentComponents {
		include = append(include, "components")
	}
	if caps.Meta {
		setMetaFilter(q, f.Meta)
		if f.IncludeMeta || len(f.Meta) > 0 {
			include = append(include, "meta")
		}
	}
	if len(include) > 0 {
		q.Set("include", strings.Join(include, ","))
	}
	return q
}

// match re-checks on the client what the server was asked to filter, so
// that a server that ignores a filter cannot hand back the wrong incident,
// and applies the component filter Cachet lacks.
func (f IncidentFilter) match(in Incident) bool {
	if len(f.Statuses) > 0 && !slices.Contains(f.Statuses, in.Status) {
		return false
	}
	if f.ComponentID != 0 && !in.Affects(f.ComponentID) {
		return false
	}
	if in.Meta != nil {
		for k, v := range f.Meta {
			if in.Meta[k] != v {
				return false
			}
		}
	}
	return true
}

// ListIncidents returns the incidents matching f, newest first (Cachet's
// default order), following every page.
//
// It asks only for what the server supports (see Capabilities) and, when
// an answer shows the server refuses an include or a filter it was
// thought to accept (a 400), records that and lists again without it.
// Statuses are checked again on the client, because cores before the
// current one filter on a status column that incident updates do not
// change.
func (c *Client) ListIncidents(ctx context.Context, f IncidentFilter) ([]Incident, error) {
	if err := checkMetaValues(f.Meta); err != nil {
		return nil, fmt.Errorf("cachet: %s: %w", opListIncidents.name, err)
	}
	for {
		caps, _ := c.Capabilities(ctx) // on failure: the assumed ones
		if len(f.Meta) > 0 && !caps.Meta {
			return nil, fmt.Errorf("cachet: %s: filter by meta: %w", opListIncidents.name, ErrUnsupported)
		}
		out, err := collect(ctx, c, opListIncidents, "/incidents", f.query(caps), c.decodeIncident, f.match)
		if err != nil && c.refused(err, caps) {
			continue
		}
		return out, err
	}
}

// refused reports whether err is a 400 for an include or filter that caps
// allowed, and if so records the refusal so that the caller retries
// without it. A plain 400 is not a refusal when caps already allow
// nothing optional.
func (c *Client) refused(err error, caps Capabilities) bool {
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusBadRequest {
		return false
	}
	msg := apiErr.Message
	switch {
	case caps.Meta && strings.Contains(msg, "meta"):
		c.lose(func(c *Capabilities) { c.Meta = false })
	case caps.IncidentComponents && strings.Contains(msg, "include") && strings.Contains(msg, "components"):
		c.lose(func(c *Capabilities) { c.IncidentComponents = false })
	case caps.Meta:
		c.lose(func(c *Capabilities) { c.Meta = false })
	case caps.IncidentComponents:
		c.lose(func(c *Capabilities) { c.IncidentComponents = false })
	default:
		return false
	}
	return true
}

// GetIncident returns one incident with its impacted components and,
// where the server keeps it, its metadata.
func (c *Client) GetIncident(ctx context.Context, id int) (Incident, error) {
	return c.getIncident(ctx, id, false)
}

// getIncident reads one incident; once makes a single attempt, for the
// read-back after a create, which must not hold its caller through a
// Cachet outage.
func (c *Client) getIncident(ctx context.Context, id int, once bool) (Incident, error) {
	path := "/incidents/" + strconv.Itoa(id)
	for {
		caps, _ := c.Capabilities(ctx)
		q := IncidentFilter{IncludeMeta: true}.query(caps)
		q.Del("filter[status]")
		body, err := c.do(ctx, apiRequest{op: opGetIncident, method: http.MethodGet, path: path, query: q, once: once})
		var doc document
		if err == nil {
			doc, err = c.decodeSingle(opGetIncident, body)
		}
		if err != nil && c.refused(err, caps) {
			continue
		}
		if err != nil {
			return Incident{}, err
		}
		return c.singleIncident(opGetIncident, doc)
	}
}

func (c *Client) singleIncident(op operation, doc document) (Incident, error) {
	in, err := c.decodeIncident(doc.Data[0], doc.Included)
	if err != nil {
		return Incident{}, fmt.Errorf("cachet: %s: %w", op.name, err)
	}
	return in, nil
}

// IncidentCreate is the body of CreateIncident.
type IncidentCreate struct {
	// Name (at most 255 characters) and Message (Markdown) are required.
	Name    string
	Message string
	Status  IncidentStatus
	// Visible is always sent. Only a VisibilityGuest incident is public and
	// raises its components' effective status; the zero value,
	// VisibilityAuthenticated, is seen by logged-in users only.
	Visible       Visibility
	Stickied      bool
	Notifications bool
	// OccurredAt is sent when set. Cachet stores null when it is omitted.
	OccurredAt time.Time
	// PublishedAt, when set in the future, embargoes the incident until then.
	PublishedAt time.Time
	// Components are the impacts; they can only be set at creation. Cachet
	// never changes a component's baseline status because of an incident.
	// With exactly one, it also goes out as component_id +
	// component_status, the only form cores before the current one store.
	Components []AffectedComponent
	// Meta marks the incident, for example so that statussync can find its
	// own open incident again after a restart.
	Meta map[string]string
}

type componentImpact struct {
	ID     int             `json:"id"`
	Status ComponentStatus `json:"status"`
}

type incidentBody struct {
	Name          string            `json:"name,omitempty"`
	Status        *IncidentStatus   `json:"status,omitempty"`
	Message       string            `json:"message,omitempty"`
	Visible       *bool             `json:"visible,omitempty"`
	Stickied      *bool             `json:"stickied,omitempty"`
	Notifications *bool             `json:"notifications,omitempty"`
	OccurredAt    string            `json:"occurred_at,omitempty"`
	PublishedAt   string            `json:"published_at,omitempty"`
	Components    []componentImpact `json:"components,omitempty"`
	ComponentID   int               `json:"component_id,omitempty"`
	ComponentStat ComponentStatus   `json:"component_status,omitempty"`
	Meta          map[string]string `json:"meta,omitempty"`
}

// formatTime renders a time the way every Cachet 3 build reads it right:
// wall clock in Cachet's own time zone (loc, its APP_TIMEZONE) without an
// offset, "2006-01-02 15:04:05". Cores before 27d3490e (2026-08-21) keep
// the wall clock of a date and ignore its offset, so an RFC 3339 time in
// another zone would land hours off there; later cores read an
// offset-less date in the app zone too; and schedules on the 2025-08 core
// accept nothing else (an RFC 3339 date is a 500). Zero is "".
func formatTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(time.DateTime)
}

func visibleBool(v Visibility) (bool, error) {
	switch v {
	case VisibilityGuest:
		return true, nil
	case VisibilityAuthenticated:
		return false, nil
	default:
		return false, fmt.Errorf("visibility %s cannot be set on an incident through the api", v)
	}
}

// buildIncidentCreate renders the JSON body of POST /incidents, with dates
// in loc, Cachet's time zone.
func buildIncidentCreate(in IncidentCreate, loc *time.Location) ([]byte, error) {
	if strings.TrimSpace(in.Name) == "" {
		return nil, errors.New("name is required")
	}
	if strings.TrimSpace(in.Message) == "" {
		return nil, errors.New("message is required")
	}
	if !in.Status.Valid() {
		return nil, fmt.Errorf("invalid incident status %d", int(in.Status))
	}
	visible, err := visibleBool(in.Visible)
	if err != nil {
		return nil, err
	}
	b := incidentBody{
		Name:          in.Name,
		Status:        &in.Status,
		Message:       in.Message,
		Visible:       &visible,
		Stickied:      &in.Stickied,
		Notifications: &in.Notifications,
		OccurredAt:    formatTime(in.OccurredAt, loc),
		PublishedAt:   formatTime(in.PublishedAt, loc),
		Meta:          in.Meta,
	}
	seen := map[int]bool{}
	for _, a := range in.Components {
		if a.ID <= 0 {
			return nil, fmt.Errorf("invalid component id %d", a.ID)
		}
		if seen[a.ID] {
			return nil, fmt.Errorf("component %d listed twice", a.ID)
		}
		seen[a.ID] = true
		if !a.Status.Valid() {
			return nil, fmt.Errorf("component %d: invalid component status %d", a.ID, int(a.Status))
		}
		b.Components = append(b.Components, componentImpact(a))
	}
	if len(in.Components) == 1 {
		// Current cores merge this into the same impact (the pivot is keyed
		// by component); older ones store only this form.
		b.ComponentID, b.ComponentStat = in.Components[0].ID, in.Components[0].Status
	}
	return json.Marshal(b)
}

// CreateIncident creates an incident (ability incidents.manage). See
// package documentation for why a failed create is retried only when
// Cachet cannot have processed it.
//
// The result is what the server stored, not what was sent: when the
// create response does not show the impacts or the metadata, the incident
// is read back once. Metadata the server dropped (a core without meta)
// is absent from the result and the client stops sending meta filters.
// The read-back is one attempt: if it fails, the result is the create
// response with the requested impacts and metadata filled in, and
// Verified is false.
func (c *Client) CreateIncident(ctx context.Context, in IncidentCreate) (Incident, error) {
	body, err := buildIncidentCreate(in, c.loc)
	if err != nil {
		return Incident{}, fmt.Errorf("cachet: %s: %w", opCreateIncident.name, err)
	}
	doc, err := c.write(ctx, opCreateIncident, http.MethodPost, "/incidents", body)
	if err != nil {
		return Incident{}, err
	}
	inc, err := c.singleIncident(opCreateIncident, doc)
	if err != nil {
		return Incident{}, err
	}
	inc.Verified = true
	needComponents := slices.ContainsFunc(in.Components, func(a AffectedComponent) bool { return !inc.Affects(a.ID) })
	needMeta := len(in.Meta) > 0 && inc.Meta == nil && c.KnownCapabilities().Meta
	if !needComponents && !needMeta {
		return inc, nil
	}
	stored, err := c.getIncident(ctx, inc.ID, true)
	if err != nil {
		c.log.Debug("could not read back a created incident", "incident_id", inc.ID, "err", err)
		if len(inc.Components) == 0 {
			inc.Components = slices.Clone(in.Components)
		}
		if inc.Meta == nil {
			inc.Meta = in.Meta
		}
		inc.Verified = false
		return inc, nil
	}
	stored.Verified = true
	if len(in.Meta) > 0 && c.KnownCapabilities().Meta {
		for k, v := range in.Meta {
			if stored.Meta[k] != v {
				// The server accepted include=meta but did not keep what was
				// sent: treat it as a server without meta.
				c.lose(func(c *Capabilities) { c.Meta = false })
				break
			}
		}
	}
	return stored, nil
}

// IncidentPatch is a partial update of an incident; nil fields are left
// alone. Impacted components cannot be changed after creation. Prefer
// CreateIncidentUpdate to change the status: Cachet re-syncs the status to
// the newest update, and an update leaves a visible trace on the page.
type IncidentPatch struct {
	Name          *string
	Message       *string
	Status        *IncidentStatus
	Visible       *Visibility
	Stickied      *bool
	Notifications *bool
	OccurredAt    *time.Time
	PublishedAt   *time.Time
	// Meta, when non-nil, replaces the incident's whole metadata set.
	Meta map[string]string
}

// buildIncidentUpdate renders the JSON body of PUT /incidents/{id}, with
// dates in loc.
func buildIncidentUpdate(p IncidentPatch, loc *time.Location) ([]byte, error) {
	var b incidentBody
	if p.Name != nil {
		b.Name = *p.Name
	}
	if p.Message != nil {
		b.Message = *p.Message
	}
	if p.Status != nil {
		if !p.Status.Valid() {
			return nil, fmt.Errorf("invalid incident status %d", int(*p.Status))
		}
		b.Status = p.Status
	}
	if p.Visible != nil {
		v, err := visibleBool(*p.Visible)
		if err != nil {
			return nil, err
		}
		b.Visible = &v
	}
	b.Stickied = p.Stickied
	b.Notifications = p.Notifications
	if p.OccurredAt != nil {
		b.OccurredAt = formatTime(*p.OccurredAt, loc)
	}
	if p.PublishedAt != nil {
		b.PublishedAt = formatTime(*p.PublishedAt, loc)
	}
	b.Meta = p.Meta
	out, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	if string(out) == "{}" {
		return nil, errors.New("nothing to update")
	}
	return out, nil
}

// UpdateIncident applies p to incident id (ability incidents.manage).
func (c *Client) UpdateIncident(ctx context.Context, id int, p IncidentPatch) (Incident, error) {
	body, err := buildIncidentUpdate(p, c.loc)
	if err != nil {
		return Incident{}, fmt.Errorf("cachet: %s %d: %w", opUpdateIncident.name, id, err)
	}
	doc, err := c.write(ctx, opUpdateIncident, http.MethodPut, "/incidents/"+strconv.Itoa(id), body)
	if err != nil {
		return Incident{}, err
	}
	return c.singleIncident(opUpdateIncident, doc)
}
