package cachet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Component is a Cachet component (reference §3.2).
type Component struct {
	ID          int
	Name        string
	Description string
	Link        string
	Order       int
	// Status is the baseline status, the one set through the API or the
	// dashboard.
	Status ComponentStatus
	// LatestStatus is the effective status the page shows: the most severe
	// of the baseline (or a running maintenance window's status) and the
	// impacts of unresolved, public, published incidents. Cachet versions
	// without it report Status here.
	LatestStatus ComponentStatus
	Enabled      bool
	// GroupID is the component group, 0 when ungrouped. Cachet 3 reports it
	// only through the "group" relationship, so it is filled in when the
	// listing asked for it (ComponentFilter.IncludeGroup) or when an older
	// flat shape carries component_group_id.
	GroupID int
	// Meta is the component's metadata, present when it was requested.
	Meta      map[string]string
	CreatedAt time.Time
	UpdatedAt time.Time
}

type componentAttributes struct {
	ID            flexInt          `json:"id"`
	Name          string           `json:"name"`
	Description   string           `json:"description"`
	Link          string           `json:"link"`
	Order         flexInt          `json:"order"`
	Status        ComponentStatus  `json:"status"`
	LatestStatus  *ComponentStatus `json:"latest_status"`
	Enabled       *flexBool        `json:"enabled"`
	GroupID       flexInt          `json:"component_group_id"`
	LegacyGroupID flexInt          `json:"group_id"`
	Meta          metaMap          `json:"meta"`
	Created       wireTime         `json:"created"`
	CreatedAt     wireTime         `json:"created_at"`
	Updated       wireTime         `json:"updated"`
	UpdatedAt     wireTime         `json:"updated_at"`
}

func (c *Client) decodeComponent(r resource) (Component, error) {
	var a componentAttributes
	if err := json.Unmarshal(r.Attributes, &a); err != nil {
		return Component{}, fmt.Errorf("decode component %d: %w", r.ID, err)
	}
	comp := Component{
		ID:           r.ID,
		Name:         a.Name,
		Description:  a.Description,
		Link:         a.Link,
		Order:        int(a.Order),
		Status:       a.Status,
		LatestStatus: a.Status,
		Enabled:      a.Enabled == nil || bool(*a.Enabled),
		GroupID:      int(a.GroupID),
		Meta:         a.Meta,
		CreatedAt:    c.time(a.Created.orTime(a.CreatedAt)),
		UpdatedAt:    c.time(a.Updated.orTime(a.UpdatedAt)),
	}
	if a.LatestStatus != nil && a.LatestStatus.Valid() {
		comp.LatestStatus = *a.LatestStatus
	}
	if comp.GroupID == 0 {
		comp.GroupID = int(a.LegacyGroupID)
	}
	if ids, ok := r.relatedIDs("group"); ok && len(ids) == 1 {
		comp.GroupID = ids[0]
	}
	return comp, nil
}

// time converts a wire timestamp in the application's time zone. An
// unreadable timestamp becomes the zero time: losing one date is better
// than failing a whole listing, and statussync does not act on these.
func (c *Client) time(w wireTime) time.Time {
	t, err := parseTime(string(w), c.loc)
	if err != nil {
		c.log.Debug("unreadable cachet timestamp", "err", err)
	}
	return t
}

// ComponentFilter narrows ListComponents. The zero value lists every
// enabled component the token can see.
type ComponentFilter struct {
	// Name is a partial, case-insensitive match (filter[name]).
	Name string
	// Statuses keeps components whose baseline status is one of these
	// (filter[status], exact).
	Statuses []ComponentStatus
	// Enabled selects enabled (nil or true) or disabled (false) components.
	// Cachet defaults to enabled only, and shows disabled components only to
	// authenticated callers.
	Enabled *bool
	// Meta keeps components whose metadata has every key with the value
	// (filter[meta][key]=value). Use non-numeric, non-boolean values: Cachet
	// compares numbers and booleans by JSON type.
	Meta map[string]string
	// IncludeGroup asks for the group relationship so that GroupID is set.
	IncludeGroup bool
	// IncludeMeta asks for metadata so that Component.Meta is set.
	IncludeMeta bool
}

func (f ComponentFilter) query() url.Values {
	q := url.Values{}
	if f.Name != "" {
		q.Set("filter[name]", f.Name)
	}
	if len(f.Statuses) > 0 {
		q.Set("filter[status]", joinInts(f.Statuses))
	}
	if f.Enabled != nil {
		q.Set("filter[enabled]", strconv.FormatBool(*f.Enabled))
	}
	setMetaFilter(q, f.Meta)
	var include []string
	if f.IncludeGroup {
		include = append(include, "group")
	}
	if f.IncludeMeta || len(f.Meta) > 0 {
		include = append(include, "meta")
	}
	if len(include) > 0 {
		q.Set("include", strings.Join(include, ","))
	}
	return q
}

// ListComponents returns every component matching f, following every page.
//
// Metadata (IncludeMeta, Meta) needs Capabilities.Meta; without it a Meta
// filter returns an error wrapping ErrUnsupported and IncludeMeta is left
// out.
func (c *Client) ListComponents(ctx context.Context, f ComponentFilter) ([]Component, error) {
	if err := checkMetaValues(f.Meta); err != nil {
		return nil, fmt.Errorf("cachet: %s: %w", opListComponents.name, err)
	}
	for {
		var caps Capabilities
		if f.IncludeMeta || len(f.Meta) > 0 {
			caps, _ = c.Capabilities(ctx)
			if len(f.Meta) > 0 && !caps.Meta {
				return nil, fmt.Errorf("cachet: %s: filter by meta: %w", opListComponents.name, ErrUnsupported)
			}
		}
		q := f.query()
		if !caps.Meta {
			q.Del("include")
			if f.IncludeGroup {
				q.Set("include", "group")
			}
		}
		out, err := collect(ctx, c, opListComponents, "/components", q, ignoreIncluded(c.decodeComponent), nil)
		if err != nil && caps.Meta && c.refused(err, Capabilities{Meta: true}) {
			continue
		}
		return out, err
	}
}

// GetComponent returns one component. A component the caller cannot see
// (disabled, or in a group hidden from it) is a 404 like an unknown id.
//
// Its metadata is included where the server has it (Capabilities.Meta).
func (c *Client) GetComponent(ctx context.Context, id int) (Component, error) {
	var q url.Values
	if c.KnownCapabilities().Meta {
		q = url.Values{"include": {"meta"}}
	}
	doc, err := c.get(ctx, opGetComponent, "/components/"+strconv.Itoa(id), q)
	if q != nil && IsStatus(err, http.StatusBadRequest) {
		doc, err = c.get(ctx, opGetComponent, "/components/"+strconv.Itoa(id), nil)
	}
	if err != nil {
		return Component{}, err
	}
	return c.singleComponent(opGetComponent, doc)
}

func (c *Client) singleComponent(op operation, doc document) (Component, error) {
	comp, err := c.decodeComponent(doc.Data[0])
	if err != nil {
		return Component{}, fmt.Errorf("cachet: %s: %w", op.name, err)
	}
	return comp, nil
}

// ComponentCreate is the body of CreateComponent. Zero-valued optional
// fields are omitted, because Cachet rejects null for them (reference §2.4).
type ComponentCreate struct {
	// Name is required, at most 255 characters.
	Name        string
	Description string
	// Status is the initial baseline status. When 0 it is omitted and Cachet
	// uses ComponentUnknown, which turns the page's summary to "partial
	// outage", so set it.
	Status ComponentStatus
	// Link must be an http or https URL.
	Link  string
	Order *int
	// Enabled defaults to true in Cachet when nil.
	Enabled *bool
	// GroupID puts the component in an existing group; 0 means ungrouped.
	GroupID int
	Meta    map[string]string
}

type componentBody struct {
	Name        string            `json:"name,omitempty"`
	Description string            `json:"description,omitempty"`
	Status      ComponentStatus   `json:"status,omitempty"`
	Link        string            `json:"link,omitempty"`
	Order       *int              `json:"order,omitempty"`
	Enabled     *bool             `json:"enabled,omitempty"`
	GroupID     int               `json:"component_group_id,omitempty"`
	Meta        map[string]string `json:"meta,omitempty"`
}

// buildComponentCreate renders the JSON body of POST /components.
func buildComponentCreate(in ComponentCreate) ([]byte, error) {
	if strings.TrimSpace(in.Name) == "" {
		return nil, errors.New("name is required")
	}
	if in.Status != 0 && !in.Status.Valid() {
		return nil, fmt.Errorf("invalid component status %d", int(in.Status))
	}
	// componentBody mirrors ComponentCreate field for field, adding the
	// JSON names and omitempty.
	return json.Marshal(componentBody(in))
}

// CreateComponent creates a component (ability components.manage).
func (c *Client) CreateComponent(ctx context.Context, in ComponentCreate) (Component, error) {
	body, err := buildComponentCreate(in)
	if err != nil {
		return Component{}, fmt.Errorf("cachet: %s: %w", opCreateComponent.name, err)
	}
	doc, err := c.write(ctx, opCreateComponent, http.MethodPost, "/components", body)
	if err != nil {
		return Component{}, err
	}
	return c.singleComponent(opCreateComponent, doc)
}

// ComponentPatch is a partial update: nil fields are left alone. Cachet
// cannot clear a field through the API (nulls are dropped before saving),
// so empty strings are not sent either.
type ComponentPatch struct {
	Name        *string
	Description *string
	Status      *ComponentStatus
	Link        *string
	Order       *int
	Enabled     *bool
	GroupID     *int
	// Meta, when non-nil, replaces the component's whole metadata set.
	Meta map[string]string
}

// buildComponentUpdate renders the JSON body of PUT /components/{id}.
func buildComponentUpdate(p ComponentPatch) ([]byte, error) {
	var b componentBody
	if p.Name != nil {
		b.Name = *p.Name
	}
	if p.Description != nil {
		b.Description = *p.Description
	}
	if p.Status != nil {
		if !p.Status.Valid() {
			return nil, fmt.Errorf("invalid component status %d", int(*p.Status))
		}
		b.Status = *p.Status
	}
	if p.Link != nil {
		b.Link = *p.Link
	}
	b.Order = p.Order
	b.Enabled = p.Enabled
	if p.GroupID != nil {
		b.GroupID = *p.GroupID
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

// UpdateComponent applies p to component id (ability components.manage)
// and returns the component as Cachet stored it. A changed status is
// recorded by Cachet as a manual status change and fires its
// component_status_changed webhook.
func (c *Client) UpdateComponent(ctx context.Context, id int, p ComponentPatch) (Component, error) {
	body, err := buildComponentUpdate(p)
	if err != nil {
		return Component{}, fmt.Errorf("cachet: %s %d: %w", opUpdateComponent.name, id, err)
	}
	doc, err := c.write(ctx, opUpdateComponent, http.MethodPut, "/components/"+strconv.Itoa(id), body)
	if err != nil {
		return Component{}, err
	}
	return c.singleComponent(opUpdateComponent, doc)
}

// UpdateComponentStatus sets the baseline status of component id.
func (c *Client) UpdateComponentStatus(ctx context.Context, id int, status ComponentStatus) (Component, error) {
	return c.UpdateComponent(ctx, id, ComponentPatch{Status: &status})
}

func joinInts[T ~int](vs []T) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = strconv.Itoa(int(v))
	}
	return strings.Join(parts, ",")
}

func setMetaFilter(q url.Values, meta map[string]string) {
	for k, v := range meta {
		q.Set("filter[meta]["+k+"]", v)
	}
}

// MetaValue turns any text (a component name, say) into a metadata value
// that Cachet can filter on: 16 lowercase hex digits of its SHA-256. Every
// Cachet build splits filter values on commas and then ignores the meta
// filter, returning everything (reference §9.1); a hash has no comma, is
// not read as a number or a boolean, and stays short.
func MetaValue(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "h" + hex.EncodeToString(sum[:8])
}

// checkMetaValues refuses metadata values Cachet cannot filter on.
func checkMetaValues(meta map[string]string) error {
	for k, v := range meta {
		if strings.Contains(v, ",") {
			return fmt.Errorf("meta %q: value contains a comma, which makes cachet ignore the filter; use MetaValue", k)
		}
	}
	return nil
}
