package cachettest

import (
	"cmp"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// caller is who sent a request: a guest or a token with abilities.
type caller struct {
	authed    bool
	token     string
	abilities []string
}

func (c caller) can(ability string) bool {
	return slices.Contains(c.abilities, "*") || slices.Contains(c.abilities, ability)
}

// call is one request being handled. Handlers run with s.mu held.
type call struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	body   []byte
	who    caller
	params []string
	now    time.Time
}

type handlerFunc func(c *call)

type route struct {
	pattern []string // literal segments, ":x" for parameters
	methods map[string]handlerFunc
}

func (s *Server) routes() []route {
	return []route{
		{[]string{"ping"}, map[string]handlerFunc{"GET": handlePing}},
		{[]string{"version"}, map[string]handlerFunc{"GET": handleVersion}},
		{[]string{"status"}, map[string]handlerFunc{"GET": handleStatus}},
		{[]string{"components"}, map[string]handlerFunc{"GET": components.list, "POST": createComponent}},
		{[]string{"components", ":id"}, map[string]handlerFunc{"GET": components.show, "PUT": updateComponent, "PATCH": updateComponent, "DELETE": deleteComponent}},
		{[]string{"component-groups"}, map[string]handlerFunc{"GET": groups.list, "POST": createGroup}},
		{[]string{"component-groups", ":id"}, map[string]handlerFunc{"GET": groups.show, "PUT": updateGroup, "PATCH": updateGroup, "DELETE": deleteGroup}},
		{[]string{"incidents"}, map[string]handlerFunc{"GET": incidents.list, "POST": createIncident}},
		{[]string{"incidents", ":id"}, map[string]handlerFunc{"GET": incidents.show, "PUT": updateIncident, "PATCH": updateIncident, "DELETE": deleteIncident}},
		{[]string{"incidents", ":id", "updates"}, map[string]handlerFunc{"GET": incidentUpdates.list, "POST": createUpdate}},
		{[]string{"incidents", ":id", "updates", ":uid"}, map[string]handlerFunc{"GET": incidentUpdates.show, "PUT": editUpdate, "PATCH": editUpdate, "DELETE": deleteUpdate}},
		{[]string{"metrics"}, map[string]handlerFunc{"GET": metrics.list, "POST": createMetric}},
		{[]string{"metrics", ":id"}, map[string]handlerFunc{"GET": metrics.show, "PUT": updateMetric, "PATCH": updateMetric, "DELETE": deleteMetric}},
		{[]string{"metrics", ":id", "points"}, map[string]handlerFunc{"GET": metricPoints.list, "POST": createPoint}},
		{[]string{"metrics", ":id", "points", ":pid"}, map[string]handlerFunc{"GET": metricPoints.show, "DELETE": deletePoint}},
		{[]string{"schedules"}, map[string]handlerFunc{"GET": schedules.list, "POST": notImplemented}},
		{[]string{"schedules", ":id"}, map[string]handlerFunc{"GET": schedules.show, "PUT": notImplemented, "PATCH": notImplemented, "DELETE": notImplemented}},
	}
}

func matchRoute(routes []route, segs []string) (route, []string, bool) {
	for _, rt := range routes {
		if len(rt.pattern) != len(segs) {
			continue
		}
		var params []string
		ok := true
		for i, p := range rt.pattern {
			if strings.HasPrefix(p, ":") {
				params = append(params, segs[i])
			} else if p != segs[i] {
				ok = false
				break
			}
		}
		if ok {
			return rt, params, true
		}
	}
	return route{}, nil, false
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request, body []byte) {
	rest, ok := strings.CutPrefix(r.URL.Path, s.prefix+"/")
	if !ok {
		writeMessage(w, http.StatusNotFound, fmt.Sprintf("The route %s could not be found.", strings.TrimPrefix(r.URL.Path, "/")))
		return
	}
	rt, params, ok := matchRoute(s.routes(), strings.Split(strings.Trim(rest, "/"), "/"))
	if !ok {
		writeMessage(w, http.StatusNotFound, fmt.Sprintf("The route %s could not be found.", strings.TrimPrefix(r.URL.Path, "/")))
		return
	}
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	h, ok := rt.methods[method]
	if !ok {
		var allowedMethods []string
		for m := range rt.methods {
			allowedMethods = append(allowedMethods, m)
		}
		slices.Sort(allowedMethods)
		w.Header().Set("Allow", strings.Join(allowedMethods, ", "))
		writeMessage(w, http.StatusMethodNotAllowed, fmt.Sprintf("The %s method is not supported for route %s. Supported methods: %s.",
			r.Method, strings.TrimPrefix(r.URL.Path, "/"), strings.Join(allowedMethods, ", ")))
		return
	}

	s.mu.Lock()
	disabled, protected := s.disable, s.protect
	who := s.callerLocked(r)
	s.mu.Unlock()

	// Group middleware (reference §1.2), then auth:sanctum on writes, then
	// the throttle; route-model binding and the controller come after.
	if disabled {
		writeMessage(w, http.StatusNotFound, "Not Found")
		return
	}
	write := method != http.MethodGet
	if !s.feat.auth {
		// The 2024-10 core has no auth middleware on the API: anyone
		// writes, and a token changes nothing.
		who = caller{authed: true, abilities: []string{"*"}}
	}
	if (write || protected) && !who.authed {
		if !s.feat.forceJSON && !wantsJSON(r) {
			// Without ForceJsonResponse Laravel redirects a guest to the
			// "login" route, which the API app does not define (observed on
			// the real 2025-08 core).
			writeServerError(w, false)
			return
		}
		writeMessage(w, http.StatusUnauthorized, "Unauthenticated.")
		return
	}
	key := "ip:" + clientIP(r)
	if write && s.feat.auth {
		key = "token:" + who.token
	}
	if !s.throttle(w, key) {
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	h(&call{s: s, w: w, r: r, body: body, who: who, params: params, now: s.now()})
}

// callerLocked resolves the bearer token. An unknown token is a guest;
// only routes that require authentication turn that into a 401.
func (s *Server) callerLocked(r *http.Request) caller {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return caller{}
	}
	tok = strings.TrimSpace(tok)
	ab, ok := s.tokens[tok]
	if !ok || tok == "" {
		return caller{}
	}
	return caller{authed: true, token: tok, abilities: ab}
}

// ---- helpers shared by handlers ----

func (c *call) notFound(model string, raw string) {
	writeMessage(c.w, http.StatusNotFound, fmt.Sprintf("No query results for model [Cachet\\Models\\%s] %s", model, raw))
}

// param resolves a route parameter like route-model binding: a
// non-numeric or unknown id is a 404.
func param[T any](c *call, i int, table map[int]*T, model string) (*T, bool) {
	id, err := strconv.Atoi(c.params[i])
	if err != nil {
		c.notFound(model, c.params[i])
		return nil, false
	}
	v, ok := table[id]
	if !ok {
		c.notFound(model, c.params[i])
		return nil, false
	}
	return v, true
}

// authorize is the ability check, which Cachet runs after validation.
func (c *call) authorize(ability string) bool {
	if c.who.can(ability) {
		return true
	}
	writeMessage(c.w, http.StatusForbidden, "Invalid ability provided.")
	return false
}

func (c *call) query(a allowed, list bool) (listQuery, bool) {
	lq, msg := parseQuery(c.r.URL.Query(), a, list)
	if msg != "" {
		writeMessage(c.w, http.StatusBadRequest, msg)
		return lq, false
	}
	return lq, true
}

func (c *call) validate(v *validator) bool {
	if v.ok() {
		return true
	}
	if !c.s.feat.forceJSON && !wantsJSON(c.r) {
		// Without ForceJsonResponse a validation error redirects back
		// (observed on the real 2025-08 core).
		back := c.r.Header.Get("Referer")
		if back == "" {
			back = "http://" + c.r.Host + "/"
		}
		c.w.Header().Set("Location", back)
		c.w.WriteHeader(http.StatusFound)
		return false
	}
	writeValidation(c.w, v)
	return false
}

// wantsJSON is Laravel's Request::expectsJson for an API call.
func wantsJSON(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "/json") || strings.Contains(a, "+json")
}

// writeServerError answers Laravel's production 500: JSON when the client
// asked for it, an HTML page otherwise.
func writeServerError(w http.ResponseWriter, json bool) {
	if json {
		writeMessage(w, http.StatusInternalServerError, "Server Error")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte("<!DOCTYPE html><html><head><title>Server Error</title></head><body>500 | Server Error</body></html>"))
}

// serverError answers a 500 the way the request would see it.
func (c *call) serverError() { writeServerError(c.w, c.s.feat.forceJSON || wantsJSON(c.r)) }

// collection is what the generic list and show handlers know of one
// top-level resource, so that a new resource is a table, its filters,
// sorts and renderer.
type collection[T any] struct {
	model   string // for 404 messages: "Component"
	table   func(*state) map[int]*T
	query   func(features) allowed
	visible func(*call, *T) bool            // who may see it; nil: everyone
	refuse  func(*call, listQuery) bool     // answers and reports true to stop a listing
	keep    func(*call, listQuery, *T) bool // the list filters; nil: all
	sorts   map[string]func(a, b *T) int
	defSort []string
	id      func(*T) int
	render  func(*call, *docBuilder, *T, listQuery) res
}

func (col collection[T]) list(c *call) {
	lq, ok := c.query(col.query(c.s.feat), true)
	if !ok || col.refuse != nil && col.refuse(c, lq) {
		return
	}
	var items []*T
	for _, x := range sortedValues(col.table(&c.s.st)) {
		if (col.visible == nil || col.visible(c, x)) && (col.keep == nil || col.keep(c, lq, x)) {
			items = append(items, x)
		}
	}
	sortBy(items, lq.sorts, col.defSort, col.sorts, col.id)
	writeList(c, items, func(d *docBuilder, x *T) res { return col.render(c, d, x, lq) })
}

// show binds the id like route-model binding: unknown or invisible is a
// 404 before the query is looked at.
func (col collection[T]) show(c *call) {
	x, ok := param(c, 0, col.table(&c.s.st), col.model)
	if !ok {
		return
	}
	if col.visible != nil && !col.visible(c, x) {
		c.notFound(col.model, c.params[0])
		return
	}
	lq, ok := c.query(col.query(c.s.feat), false)
	if !ok {
		return
	}
	writeOne(c, http.StatusOK, func(d *docBuilder) res { return col.render(c, d, x, lq) })
}

// bindParent binds {parent} (route parameter 0) of a nested route: an
// unknown id, or for reads one the caller cannot see, is a 404.
func (col collection[T]) bindParent(c *call, read bool) (*T, bool) {
	x, ok := param(c, 0, col.table(&c.s.st), col.model)
	if !ok {
		return nil, false
	}
	if read && col.visible != nil && !col.visible(c, x) {
		c.notFound(col.model, c.params[0])
		return nil, false
	}
	return x, true
}

// nested is a resource under a parent (/incidents/{id}/updates,
// /metrics/{id}/points), with scoped binding: a child of another parent
// is a 404.
type nested[P, T any] struct {
	parent        collection[P]
	model         string
	table         func(*state) map[int]*T
	parentOf      func(*T) int
	query         allowed
	keep          func(listQuery, *T) bool
	sorts         map[string]func(a, b *T) int
	id            func(*T) int
	render        func(*call, *T) res
	parentInclude string // the include that embeds the parent
}

// bind binds the child (route parameter 1) scoped to parent.
func (n nested[P, T]) bind(c *call, parent *P) (*T, bool) {
	x, ok := param(c, 1, n.table(&c.s.st), n.model)
	if !ok {
		return nil, false
	}
	if n.parentOf(x) != n.parent.id(parent) {
		c.notFound(n.model, c.params[1])
		return nil, false
	}
	return x, true
}

func (n nested[P, T]) list(c *call) {
	parent, ok := n.parent.bindParent(c, true)
	if !ok {
		return
	}
	lq, ok := c.query(n.query, true)
	if !ok {
		return
	}
	pid := n.parent.id(parent)
	var items []*T
	for _, x := range sortedValues(n.table(&c.s.st)) {
		if n.parentOf(x) == pid && (n.keep == nil || n.keep(lq, x)) {
			items = append(items, x)
		}
	}
	sortBy(items, lq.sorts, nil, n.sorts, n.id)
	writeList(c, items, func(d *docBuilder, x *T) res {
		r := n.render(c, x)
		if lq.includes[n.parentInclude] {
			pr := n.parent.render(c, d, parent, listQuery{})
			r.rels = map[string]rel{n.parentInclude: {one: &resKey{pr.typ, pid}}}
			d.include(pr)
		}
		return r
	})
}

func (n nested[P, T]) show(c *call) {
	parent, ok := n.parent.bindParent(c, true)
	if !ok {
		return
	}
	x, ok := n.bind(c, parent)
	if !ok {
		return
	}
	if _, ok := c.query(n.query, false); !ok {
		return
	}
	writeOne(c, http.StatusOK, func(*docBuilder) res { return n.render(c, x) })
}

// page slices items and writes the list document.
func writeList[T any](c *call, items []T, render func(*docBuilder, T) res) {
	lo, hi, links, meta := paginate(c.r, len(items), c.s.feat.perPageUnbounded)
	d := &docBuilder{links: links, meta: meta, data: []res{}}
	for _, it := range items[lo:hi] {
		d.data = append(d.data, render(d, it))
	}
	c.s.writeDoc(c.w, http.StatusOK, d)
}

func writeOne(c *call, status int, render func(*docBuilder) res) {
	d := &docBuilder{single: true}
	d.data = []res{render(d)}
	c.s.writeDoc(c.w, status, d)
}

// ---- general (reference §3.1) ----

func handlePing(c *call) {
	writeJSON(c.w, http.StatusOK, "application/json", map[string]any{"data": "Pong!"})
}

func handleVersion(c *call) {
	writeJSON(c.w, http.StatusOK, "application/json", map[string]any{"data": map[string]any{"version": c.s.cfg.Version}})
}

// handleStatus implements Cachet's system status (reference §3.1) with the
// default major_outage_threshold of 25.
func handleStatus(c *call) {
	st := &c.s.st
	total, major, maint, allOK := 0, 0, false, true
	for _, comp := range st.components {
		if !comp.Enabled {
			continue
		}
		total++
		switch st.effectiveStatus(comp, c.now) {
		case StatusMajorOutage:
			major++
			allOK = false
		case StatusUnderMaintenance:
			maint = true
			allOK = false
		case StatusOperational:
		default:
			allOK = false
		}
	}
	for _, in := range st.incidents {
		if in.Status != IncidentFixed && in.Visible == VisibleGuest && in.published(c.now) {
			allOK = false
		}
	}
	status, msg := "partial_outage", "Some systems are experiencing issues."
	switch {
	case total > 0 && major*100/total >= 25:
		status, msg = "major_outage", "Some systems are experiencing a major outage."
	case maint:
		status, msg = "under_maintenance", "Systems are under maintenance."
	case allOK:
		status, msg = "operational", "All systems are operational."
	}
	writeJSON(c.w, http.StatusOK, "application/json", map[string]any{"data": map[string]any{"status": status, "message": msg}})
}

func notImplemented(c *call) {
	writeMessage(c.w, http.StatusNotImplemented, "cachettest: this write route is not implemented by the fake")
}

// ---- components (reference §3.2) ----

var componentQuery = allowed{
	filters:  []string{"name", "status", "enabled", "meta"},
	sorts:    []string{"name", "order", "id"},
	includes: []string{"group", "incidents", "meta"},
}

// componentVisible applies the visibility rules of ComponentController:
// guests never see disabled components, and grouped components inherit
// their group's visibility.
func (c *call) componentVisible(comp *Component) bool {
	if !c.s.feat.groupVisibility {
		return true // older cores bind any id and list every component
	}
	if !comp.Enabled && !c.who.authed {
		return false
	}
	if comp.GroupID == 0 {
		return true
	}
	g, ok := c.s.st.groups[comp.GroupID]
	if !ok {
		return true
	}
	switch g.Visible {
	case VisibleGuest:
		return true
	case VisibleAuthenticated:
		return c.who.authed
	default:
		return false
	}
}

func (c *call) renderComponent(d *docBuilder, comp *Component, lq listQuery, pivot *int) res {
	s := c.s
	a := map[string]any{
		"id":          comp.ID,
		"name":        comp.Name,
		"description": nullIfEmpty(comp.Description),
		"link":        nullIfEmpty(comp.Link),
		"order":       comp.Order,
		"status":      s.componentStatus(comp.Status),
		"enabled":     comp.Enabled,
	}
	if s.feat.latestStatus {
		a["latest_status"] = s.enum(s.st.effectiveStatus(comp, c.now), componentStatusLabels)
	}
	s.setTime(a, "created", &comp.CreatedAt)
	s.setTime(a, "updated", &comp.UpdatedAt)
	switch {
	case !s.feat.meta:
		a["meta"] = comp.Meta // the old JSON column, rendered always (null)
	case lq.includes["meta"]:
		a["meta"] = metaOut(comp.Meta)
	}
	if pivot != nil && s.feat.pivot {
		a["pivot"] = map[string]any{"component_status": s.enum(*pivot, componentStatusLabels)}
	}
	r := res{typ: "components", id: comp.ID, attrs: a, rels: map[string]rel{}}
	if lq.includes["group"] {
		g, ok := s.st.groups[comp.GroupID]
		if ok {
			r.rels["group"] = rel{one: &resKey{"componentGroups", g.ID}}
			d.include(c.renderGroup(d, g, listQuery{}))
		} else {
			r.rels["group"] = rel{}
		}
	}
	if lq.includes["incidents"] {
		rl := rel{toMany: true, many: []resKey{}}
		for _, in := range sortedValues(s.st.incidents) {
			if !c.incidentVisible(in) || !slices.ContainsFunc(in.Components, func(im Impact) bool { return im.ComponentID == comp.ID }) {
				continue
			}
			rl.many = append(rl.many, resKey{"incidents", in.ID})
			d.include(c.renderIncident(d, in, listQuery{}, false))
		}
		r.rels["incidents"] = rl
	}
	return r
}

func metaOut(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// components is the component collection (reference §3.2).
var components = collection[Component]{
	model:   "Component",
	table:   func(st *state) map[int]*Component { return st.components },
	query:   func(f features) allowed { return f.componentQuery },
	visible: (*call).componentVisible,
	keep: func(c *call, lq listQuery, comp *Component) bool {
		enabled, filterEnabled := true, c.s.feat.enabledDefault
		if v, ok := lq.filters["enabled"]; ok {
			enabled, filterEnabled = v == "true" || v == "1", true
		}
		if filterEnabled && comp.Enabled != enabled {
			return false
		}
		if v, ok := lq.filters["name"]; ok && !partial(comp.Name, v) {
			return false
		}
		if v, ok := lq.filters["status"]; ok && !slices.Contains(exactInts(v), comp.Status) {
			return false
		}
		return len(lq.meta) == 0 || metaMatches(comp.Meta, lq.meta)
	},
	sorts: map[string]func(a, b *Component) int{
		"name":  func(a, b *Component) int { return strings.Compare(a.Name, b.Name) },
		"order": func(a, b *Component) int { return a.Order - b.Order },
		"id":    func(a, b *Component) int { return a.ID - b.ID },
	},
	id: func(x *Component) int { return x.ID },
	render: func(c *call, d *docBuilder, comp *Component, lq listQuery) res {
		return c.renderComponent(d, comp, lq, nil)
	},
}

func (c *call) validateComponent(v *validator, create bool) {
	v.check("name", create, false, ruleString(255))
	v.check("description", false, false, ruleString(0))
	v.check("status", false, false, ruleEnum(1, 2, 3, 4, 5, 6))
	v.check("link", false, false, ruleString(0), ruleURL)
	v.check("order", false, false, ruleInt(0, math.MaxInt))
	v.check("enabled", false, false, ruleBool)
	v.check("component_group_id", false, false, ruleInt(0, math.MaxInt), func(f string, x any) string {
		id, _ := asInt(x)
		if _, ok := c.s.st.groups[id]; !ok {
			return fmt.Sprintf("The selected %s is invalid.", attr(f))
		}
		return ""
	})
	if c.s.feat.meta {
		v.check("meta", false, true, ruleObject)
	}
}

// applyComponent copies validated fields; absent and null fields are left
// alone because Cachet drops nulls before saving (reference §2.4).
func (c *call) applyComponent(comp *Component, in input) {
	if s, ok := in.str("name"); ok {
		comp.Name = s
	}
	if s, ok := in.str("description"); ok {
		comp.Description = s
	}
	if s, ok := in.str("link"); ok {
		comp.Link = s
	}
	if i, ok := in.integer("status"); ok {
		comp.Status = i
	}
	if i, ok := in.integer("order"); ok {
		comp.Order = i
	}
	if b, ok := in.boolean("enabled"); ok {
		comp.Enabled = b
	}
	if i, ok := in.integer("component_group_id"); ok {
		comp.GroupID = i
	}
	if m, ok := in.meta("meta"); ok && c.s.feat.meta {
		comp.Meta = m
	}
}

func createComponent(c *call) {
	in := parseInput(c.body)
	v := newValidator(in)
	c.validateComponent(v, true)
	if !c.validate(v) || !c.authorize("components.manage") {
		return
	}
	st := &c.s.st
	comp := &Component{ID: st.id("components", 0), Status: StatusUnknown, Enabled: true, CreatedAt: c.now, UpdatedAt: c.now}
	if !c.s.feat.latestStatus {
		comp.Status = 0 // older cores store null when status is omitted
	}
	c.applyComponent(comp, in)
	st.components[comp.ID] = comp
	writeOne(c, http.StatusCreated, func(d *docBuilder) res { return c.renderComponent(d, comp, listQuery{}, nil) })
}

func updateComponent(c *call) {
	comp, ok := param(c, 0, c.s.st.components, "Component")
	if !ok {
		return
	}
	in := parseInput(c.body)
	v := newValidator(in)
	c.validateComponent(v, false)
	if !c.validate(v) || !c.authorize("components.manage") {
		return
	}
	if _, ok := in.integer("status"); ok && comp.Status == 0 {
		// Older cores compare the old status enum with ->value on null
		// (observed on the real 2024-10 and 2025-08 cores).
		c.serverError()
		return
	}
	c.applyComponent(comp, in)
	comp.UpdatedAt = c.now
	writeOne(c, http.StatusOK, func(d *docBuilder) res { return c.renderComponent(d, comp, listQuery{}, nil) })
}

func deleteComponent(c *call) {
	comp, ok := param(c, 0, c.s.st.components, "Component")
	if !ok || !c.authorize("components.delete") {
		return
	}
	delete(c.s.st.components, comp.ID)
	c.w.WriteHeader(http.StatusNoContent)
}

// ---- component groups (reference §3.3) ----

var groupQuery = allowed{
	filters:  []string{"meta"},
	sorts:    []string{"name", "id"},
	includes: []string{"components", "meta"},
}

func (c *call) groupVisible(g *ComponentGroup) bool {
	switch g.Visible {
	case VisibleGuest:
		return true
	case VisibleAuthenticated:
		return c.who.authed
	default:
		return false
	}
}

func (c *call) renderGroup(d *docBuilder, g *ComponentGroup, lq listQuery) res {
	s := c.s
	a := map[string]any{
		"id":              g.ID,
		"name":            g.Name,
		"order":           g.Order,
		"order_column":    nullIfEmpty(g.OrderColumn),
		"order_direction": nullIfEmpty(g.OrderDirection),
		"collapsed":       g.Collapsed,
		"visible":         g.Visible,
	}
	s.setTime(a, "created", &g.CreatedAt)
	s.setTime(a, "updated", &g.UpdatedAt)
	if lq.includes["meta"] {
		a["meta"] = metaOut(g.Meta)
	}
	r := res{typ: "componentGroups", id: g.ID, attrs: a, rels: map[string]rel{}}
	if lq.includes["components"] {
		rl := rel{toMany: true, many: []resKey{}}
		for _, comp := range sortedValues(s.st.components) {
			if comp.GroupID != g.ID || (!comp.Enabled && !c.who.authed) {
				continue
			}
			rl.many = append(rl.many, resKey{"components", comp.ID})
			d.include(c.renderComponent(d, comp, listQuery{}, nil))
		}
		r.rels["components"] = rl
	}
	return r
}

// groups is the component group collection (reference §3.3).
var groups = collection[ComponentGroup]{
	model:   "ComponentGroup",
	table:   func(st *state) map[int]*ComponentGroup { return st.groups },
	query:   func(f features) allowed { return f.groupQuery },
	visible: (*call).groupVisible,
	keep: func(_ *call, lq listQuery, g *ComponentGroup) bool {
		return len(lq.meta) == 0 || metaMatches(g.Meta, lq.meta)
	},
	sorts: map[string]func(a, b *ComponentGroup) int{
		"name": func(a, b *ComponentGroup) int { return strings.Compare(a.Name, b.Name) },
		"id":   func(a, b *ComponentGroup) int { return a.ID - b.ID },
	},
	id:     func(x *ComponentGroup) int { return x.ID },
	render: (*call).renderGroup,
}

func (c *call) validateGroup(v *validator, in input, create bool) {
	v.check("name", create, false, ruleString(255))
	v.check("order", false, false, ruleInt(0, math.MaxInt))
	v.check("visible", false, false, ruleBool)
	v.check("collapsed", false, false, ruleEnum(0, 1, 2))
	v.check("order_column", false, false, ruleIn("id", "last_updated", "name", "manual", "status"))
	col, hasCol := in.str("order_column")
	needDir := hasCol && col != "manual" && !v.failed("order_column")
	v.check("order_direction", needDir, true, ruleIn("asc", "desc"))
	v.check("components", false, false, ruleArray)
	if list, ok := in["components"].([]any); ok {
		for i, x := range list {
			f := "components." + strconv.Itoa(i)
			id, isInt := asInt(x)
			switch {
			case !isInt:
				v.fail(f, fmt.Sprintf("The %s field must be an integer.", f))
			case c.s.st.components[id] == nil:
				v.fail(f, fmt.Sprintf("The selected %s is invalid.", f))
			}
		}
	}
	v.check("meta", false, true, ruleObject)
}

func (c *call) applyGroup(g *ComponentGroup, in input) {
	if s, ok := in.str("name"); ok {
		g.Name = s
	}
	if i, ok := in.integer("order"); ok {
		g.Order = i
	}
	if b, ok := in.boolean("visible"); ok {
		g.Visible = VisibleAuthenticated
		if b {
			g.Visible = VisibleGuest
		}
	}
	if i, ok := in.integer("collapsed"); ok {
		g.Collapsed = i
	}
	if s, ok := in.str("order_column"); ok {
		g.OrderColumn = s
	}
	if s, ok := in.str("order_direction"); ok {
		g.OrderDirection = s
	}
	if m, ok := in.meta("meta"); ok {
		g.Meta = m
	}
	if list, ok := in["components"].([]any); ok {
		for _, x := range list {
			id, _ := asInt(x)
			if comp := c.s.st.components[id]; comp != nil {
				comp.GroupID = g.ID
			}
		}
	}
}

func createGroup(c *call) {
	in := parseInput(c.body)
	v := newValidator(in)
	c.validateGroup(v, in, true)
	if !c.validate(v) || !c.authorize("component-groups.manage") {
		return
	}
	st := &c.s.st
	// The database default of visible is 0, authenticated only (§3.3).
	g := &ComponentGroup{ID: st.id("component_groups", 0), Visible: VisibleAuthenticated, CreatedAt: c.now, UpdatedAt: c.now}
	st.groups[g.ID] = g
	c.applyGroup(g, in)
	writeOne(c, http.StatusCreated, func(d *docBuilder) res { return c.renderGroup(d, g, listQuery{}) })
}

func updateGroup(c *call) {
	g, ok := param(c, 0, c.s.st.groups, "ComponentGroup")
	if !ok {
		return
	}
	in := parseInput(c.body)
	v := newValidator(in)
	c.validateGroup(v, in, false)
	if !c.validate(v) || !c.authorize("component-groups.manage") {
		return
	}
	c.applyGroup(g, in)
	g.UpdatedAt = c.now
	writeOne(c, http.StatusOK, func(d *docBuilder) res { return c.renderGroup(d, g, listQuery{}) })
}

func deleteGroup(c *call) {
	g, ok := param(c, 0, c.s.st.groups, "ComponentGroup")
	if !ok || !c.authorize("component-groups.delete") {
		return
	}
	delete(c.s.st.groups, g.ID)
	for _, comp := range c.s.st.components {
		if comp.GroupID == g.ID {
			comp.GroupID = 0
		}
	}
	c.w.WriteHeader(http.StatusNoContent)
}

// ---- incidents (reference §3.4) ----

var incidentQuery = allowed{
	filters:  []string{"name", "status", "occurs_after", "occurs_before", "occurs_on", "meta"},
	sorts:    []string{"name", "status", "id", "created_at"},
	includes: []string{"components", "components.group", "updates", "user", "meta"},
}

// incidentVisible: guests see public published incidents, tokens also
// authenticated-only ones, incidents.manage also unpublished ones, nobody
// hidden ones.
func (c *call) incidentVisible(in *Incident) bool {
	if !c.s.feat.published {
		// Older cores filter nothing in index and bind any id in show.
		return true
	}
	switch in.Visible {
	case VisibleGuest:
	case VisibleAuthenticated:
		if !c.who.authed {
			return false
		}
	default:
		return false
	}
	return in.published(c.now) || c.who.can("incidents.manage")
}

// renderIncident renders an incident. notificationsBool reproduces that
// the create response carries a bool while later reads carry the database
// integer [INF, reference §3.4].
func (c *call) renderIncident(d *docBuilder, in *Incident, lq listQuery, notificationsBool bool) res {
	s := c.s
	var notifications any = 0
	if in.Notifications {
		notifications = 1
	}
	if notificationsBool {
		notifications = in.Notifications
	}
	a := map[string]any{
		"id":            in.ID,
		"guid":          in.GUID,
		"name":          in.Name,
		"message":       in.Message,
		"visible":       in.Visible,
		"stickied":      in.Stickied,
		"notifications": notifications,
		"status":        s.enum(s.st.shownStatus(in, s.feat), incidentStatusLabels),
	}
	s.setTime(a, "occurred", in.OccurredAt)
	if s.feat.published {
		s.setTime(a, "published", in.PublishedAt)
	} else {
		// The incident's own component column, the only link between an
		// incident and a component these cores store from the API.
		a["component_id"] = nil
		if in.ComponentID != 0 {
			a["component_id"] = in.ComponentID
		}
	}
	s.setTime(a, "created", &in.CreatedAt)
	s.setTime(a, "updated", &in.UpdatedAt)
	if lq.includes["meta"] {
		a["meta"] = metaOut(in.Meta)
	}
	r := res{typ: "incidents", id: in.ID, attrs: a, rels: map[string]rel{}}
	if lq.includes["components"] {
		rl := rel{toMany: true, many: []resKey{}}
		sub := listQuery{includes: map[string]bool{"group": lq.includes["components.group"]}}
		for _, im := range in.Components {
			comp, ok := s.st.components[im.ComponentID]
			if !ok {
				continue
			}
			rl.many = append(rl.many, resKey{"components", comp.ID})
			status := im.Status
			d.include(c.renderComponent(d, comp, sub, &status))
		}
		r.rels["components"] = rl
	}
	if lq.includes["updates"] {
		rl := rel{toMany: true, many: []resKey{}}
		for _, u := range sortedValues(s.st.updates) {
			if u.IncidentID == in.ID {
				rl.many = append(rl.many, resKey{"updates", u.ID})
				d.include(c.renderUpdate(u))
			}
		}
		r.rels["updates"] = rl
	}
	if lq.includes["user"] {
		r.rels["user"] = rel{}
	}
	return r
}

// incidents is the incident collection (reference §3.4). The default
// order is newest first; equal created_at, newest id first, as the
// database would most likely return them.
var incidents = collection[Incident]{
	model:   "Incident",
	table:   func(st *state) map[int]*Incident { return st.incidents },
	query:   func(f features) allowed { return f.incidentQuery },
	visible: (*call).incidentVisible,
	keep: func(c *call, lq listQuery, in *Incident) bool {
		loc := c.s.cfg.Location
		if v, ok := lq.filters["name"]; ok && !partial(in.Name, v) {
			return false
		}
		// Filters compare the status column, which older cores do not sync
		// with the newest update.
		if v, ok := lq.filters["status"]; ok && !slices.Contains(exactInts(v), in.Status) {
			return false
		}
		if v, ok := lq.filters["occurred_at"]; ok && (in.OccurredAt == nil || !partial(in.OccurredAt.In(loc).Format(time.DateTime), v)) {
			return false
		}
		return occursMatch(in.OccurredAt, lq.filters, loc) && (len(lq.meta) == 0 || metaMatches(in.Meta, lq.meta))
	},
	sorts: map[string]func(a, b *Incident) int{
		"name":       func(a, b *Incident) int { return strings.Compare(a.Name, b.Name) },
		"status":     func(a, b *Incident) int { return a.Status - b.Status },
		"id":         func(a, b *Incident) int { return a.ID - b.ID },
		"created_at": func(a, b *Incident) int { return a.CreatedAt.Compare(b.CreatedAt) },
	},
	defSort: []string{"-created_at", "-id"},
	id:      func(x *Incident) int { return x.ID },
	render: func(c *call, d *docBuilder, in *Incident, lq listQuery) res {
		return c.renderIncident(d, in, lq, false)
	},
}

// occursMatch applies occurs_after, occurs_before and occurs_on to
// occurred_at; an incident without occurred_at matches none of them.
func occursMatch(occurred *time.Time, filters map[string]string, loc *time.Location) bool {
	for _, name := range []string{"occurs_after", "occurs_before", "occurs_on"} {
		v, ok := filters[name]
		if !ok {
			continue
		}
		t, ok := parseDate(v, loc)
		if occurred == nil || !ok {
			return false
		}
		o := occurred.In(loc)
		switch name {
		case "occurs_after":
			if o.Before(t) {
				return false
			}
		case "occurs_before":
			if o.After(t) {
				return false
			}
		case "occurs_on":
			if o.Format(time.DateOnly) != t.In(loc).Format(time.DateOnly) {
				return false
			}
		}
	}
	return true
}

func (c *call) validateIncident(v *validator, in input, create bool) {
	loc := c.s.cfg.Location
	v.check("name", create, false, ruleString(255))
	v.check("status", create, false, ruleEnum(0, 1, 2, 3, 4))
	if create {
		_, hasMsg := in["message"]
		_, hasTpl := in["template"]
		hasMsg = hasMsg && in["message"] != nil
		hasTpl = hasTpl && in["template"] != nil
		if !hasMsg && !hasTpl {
			v.fail("message", "The message field is required when template is not present.")
			v.fail("template", "The template field is required when message is not present.")
		}
		v.check("message", false, false, ruleString(0))
		// The fake has no incident templates, so any slug is unknown.
		v.check("template", false, false, ruleString(0), func(f string, _ any) string {
			return fmt.Sprintf("The selected %s is invalid.", attr(f))
		})
		v.check("template_vars", false, false, ruleArray)
	} else {
		v.check("message", false, false, ruleString(0))
	}
	v.check("visible", false, false, ruleBool)
	v.check("stickied", false, false, ruleBool)
	v.check("notifications", false, false, ruleBool)
	v.check("occurred_at", false, true, ruleDate(loc))
	if c.s.feat.published {
		v.check("published_at", false, true, ruleDate(loc))
	}
	if create && c.s.feat.componentsArray {
		c.validateImpacts(v, in)
	}
	if create {
		v.check("component_id", false, false, ruleInt(0, math.MaxInt), c.ruleComponentExists)
		if x, ok := in["component_id"]; ok && x != nil && in["component_status"] == nil {
			v.fail("component_status", "The component status field is required when component id is present.")
		}
		v.check("component_status", false, true, ruleEnum(1, 2, 3, 4, 5, 6))
	}
	if c.s.feat.meta {
		v.check("meta", false, true, ruleObject)
	}
}

func (c *call) ruleComponentExists(f string, x any) string {
	id, _ := asInt(x)
	if _, ok := c.s.st.components[id]; !ok {
		return fmt.Sprintf("The selected %s is invalid.", attr(f))
	}
	return ""
}

// validateImpacts checks components: [{id, status}] (reference §3.4).
func (c *call) validateImpacts(v *validator, in input) {
	v.check("components", false, false, ruleArray)
	list, ok := in["components"].([]any)
	if !ok {
		return
	}
	counts := map[int]int{}
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			if id, ok := asInt(m["id"]); ok {
				counts[id]++
			}
		}
	}
	for i, x := range list {
		m, _ := x.(map[string]any)
		idField := fmt.Sprintf("components.%d.id", i)
		stField := fmt.Sprintf("components.%d.status", i)
		idVal, hasID := m["id"]
		switch id, isInt := asInt(idVal); {
		case !hasID || idVal == nil:
			v.fail(idField, fmt.Sprintf("The %s field is required.", idField))
		case !isInt:
			v.fail(idField, fmt.Sprintf("The %s field must be an integer.", idField))
		case counts[id] > 1:
			v.fail(idField, fmt.Sprintf("The %s field has a duplicate value.", idField))
		case c.s.st.components[id] == nil:
			v.fail(idField, fmt.Sprintf("The selected %s is invalid.", idField))
		}
		stVal, hasSt := m["status"]
		switch _, isInt := asInt(stVal); {
		case !hasSt || stVal == nil:
			v.fail(stField, fmt.Sprintf("The %s field is required.", stField))
		case !isInt:
			v.fail(stField, fmt.Sprintf("The %s field must be an integer.", stField))
		default:
			if msg := ruleEnum(1, 2, 3, 4, 5, 6)(stField, stVal); msg != "" {
				v.fail(stField, msg)
			}
		}
	}
}

func (c *call) applyIncident(in *Incident, data input) {
	if s, ok := data.str("name"); ok {
		in.Name = s
	}
	if s, ok := data.str("message"); ok {
		in.Message = s
	}
	if i, ok := data.integer("status"); ok {
		in.Status = i
	}
	if b, ok := data.boolean("visible"); ok {
		in.Visible = VisibleAuthenticated
		if b {
			in.Visible = VisibleGuest
		}
	}
	if b, ok := data.boolean("stickied"); ok {
		in.Stickied = b
	}
	if b, ok := data.boolean("notifications"); ok {
		in.Notifications = b
	}
	if t, ok := c.date(data, "occurred_at"); ok {
		in.OccurredAt = t
	}
	if t, ok := c.date(data, "published_at"); ok && c.s.feat.published {
		in.PublishedAt = t
	}
	// Older cores store only validated fields: meta is dropped.
	if m, ok := data.meta("meta"); ok && c.s.feat.meta {
		in.Meta = m
	}
}

// date reads a validated date field. Before 27d3490e (2026-08-21) Cachet
// did not convert incoming dates to its time zone: the wall clock of the
// value is stored as is, whatever offset it carries.
func (c *call) date(data input, f string) (*time.Time, bool) {
	loc := c.s.cfg.Location
	t, ok := data.date(f, loc)
	if !ok || c.s.feat.convertDates {
		return t, ok
	}
	wall := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
	return &wall, true
}

func createIncident(c *call) {
	data := parseInput(c.body)
	v := newValidator(data)
	c.validateIncident(v, data, true)
	if !c.validate(v) || !c.authorize("incidents.manage") {
		return
	}
	st := &c.s.st
	in := &Incident{ID: st.id("incidents", 0), GUID: newGUID(), Visible: VisibleAuthenticated, CreatedAt: c.now, UpdatedAt: c.now}
	c.applyIncident(in, data)
	if in.PublishedAt == nil {
		now := c.now
		in.PublishedAt = &now
	}
	if !c.s.feat.componentsArray {
		// Older cores ignore a components array (201, nothing attached)
		// and store component_id on the incident without filling the
		// pivot or touching the component (observed on the real 2024-10
		// and 2025-08 cores).
		if id, ok := data.integer("component_id"); ok {
			in.ComponentID = id
		}
	} else {
		if list, ok := data["components"].([]any); ok {
			for _, x := range list {
				m := x.(map[string]any)
				id, _ := asInt(m["id"])
				status, _ := asInt(m["status"])
				in.Components = append(in.Components, Impact{ComponentID: id, Status: status})
			}
		}
		if id, ok := data.integer("component_id"); ok {
			status, _ := data.integer("component_status")
			if i := slices.IndexFunc(in.Components, func(im Impact) bool { return im.ComponentID == id }); i >= 0 {
				in.Components[i].Status = status // the pivot is keyed by component
			} else {
				in.Components = append(in.Components, Impact{ComponentID: id, Status: status})
			}
		}
	}
	st.incidents[in.ID] = in
	writeOne(c, http.StatusCreated, func(d *docBuilder) res { return c.renderIncident(d, in, listQuery{}, true) })
}

func updateIncident(c *call) {
	in, ok := param(c, 0, c.s.st.incidents, "Incident")
	if !ok {
		return
	}
	data := parseInput(c.body)
	v := newValidator(data)
	c.validateIncident(v, data, false)
	if !c.validate(v) || !c.authorize("incidents.manage") {
		return
	}
	c.applyIncident(in, data)
	in.UpdatedAt = c.now
	writeOne(c, http.StatusOK, func(d *docBuilder) res { return c.renderIncident(d, in, listQuery{}, false) })
}

func deleteIncident(c *call) {
	in, ok := param(c, 0, c.s.st.incidents, "Incident")
	if !ok || !c.authorize("incidents.delete") {
		return
	}
	delete(c.s.st.incidents, in.ID)
	c.w.WriteHeader(http.StatusNoContent)
}

// ---- incident updates (reference §3.5) ----

var updateQuery = allowed{
	filters:  []string{"status"},
	sorts:    []string{"status", "created_at"},
	includes: []string{"incident"},
}

func (c *call) renderUpdate(u *IncidentUpdate) res {
	s := c.s
	a := map[string]any{
		"id":              u.ID,
		"updateable_id":   u.IncidentID,
		"updateable_type": "incident",
		"message":         u.Message,
		"status":          s.enum(u.Status, incidentStatusLabels),
	}
	s.setTime(a, "created", &u.CreatedAt)
	s.setTime(a, "updated", &u.UpdatedAt)
	return res{typ: "updates", id: u.ID, attrs: a}
}

// incidentUpdates are the updates nested under an incident (reference
// §3.5).
var incidentUpdates = nested[Incident, IncidentUpdate]{
	parent:   incidents,
	model:    "Update",
	table:    func(st *state) map[int]*IncidentUpdate { return st.updates },
	parentOf: func(u *IncidentUpdate) int { return u.IncidentID },
	query:    updateQuery,
	keep: func(lq listQuery, u *IncidentUpdate) bool {
		v, ok := lq.filters["status"]
		return !ok || slices.Contains(exactInts(v), u.Status)
	},
	sorts: map[string]func(a, b *IncidentUpdate) int{
		"status":     func(a, b *IncidentUpdate) int { return a.Status - b.Status },
		"created_at": func(a, b *IncidentUpdate) int { return a.CreatedAt.Compare(b.CreatedAt) },
	},
	id:            func(x *IncidentUpdate) int { return x.ID },
	render:        (*call).renderUpdate,
	parentInclude: "incident",
}

func createUpdate(c *call) {
	in, ok := incidents.bindParent(c, false)
	if !ok {
		return
	}
	data := parseInput(c.body)
	v := newValidator(data)
	v.check("status", true, false, ruleEnum(0, 1, 2, 3, 4))
	v.check("message", true, false, ruleString(0))
	if !c.validate(v) || !c.authorize("incident-updates.manage") {
		return
	}
	st := &c.s.st
	status, _ := data.integer("status")
	msg, _ := data.str("message")
	u := &IncidentUpdate{ID: st.id("updates", 0), IncidentID: in.ID, Status: status, Message: msg, CreatedAt: c.now, UpdatedAt: c.now}
	st.updates[u.ID] = u
	st.syncIncidentStatus(in.ID, c.s.feat)
	in.UpdatedAt = c.now
	writeOne(c, http.StatusCreated, func(*docBuilder) res { return c.renderUpdate(u) })
}

func editUpdate(c *call) {
	in, ok := incidents.bindParent(c, false)
	if !ok {
		return
	}
	u, ok := incidentUpdates.bind(c, in)
	if !ok {
		return
	}
	data := parseInput(c.body)
	v := newValidator(data)
	v.check("status", false, false, ruleEnum(0, 1, 2, 3, 4))
	v.check("message", false, false, ruleString(0))
	if !c.validate(v) || !c.authorize("incident-updates.manage") {
		return
	}
	if i, ok := data.integer("status"); ok {
		u.Status = i
	}
	if s, ok := data.str("message"); ok {
		u.Message = s
	}
	u.UpdatedAt = c.now
	c.s.st.syncIncidentStatus(in.ID, c.s.feat)
	writeOne(c, http.StatusOK, func(*docBuilder) res { return c.renderUpdate(u) })
}

func deleteUpdate(c *call) {
	in, ok := incidents.bindParent(c, false)
	if !ok {
		return
	}
	u, ok := incidentUpdates.bind(c, in)
	if !ok || !c.authorize("incident-updates.delete") {
		return
	}
	delete(c.s.st.updates, u.ID)
	c.s.st.syncIncidentStatus(in.ID, c.s.feat)
	c.w.WriteHeader(http.StatusNoContent)
}

// ---- metrics (reference §3.6) ----

var metricQuery = allowed{
	filters:  []string{"name", "calc_type"},
	sorts:    []string{"name", "order", "id"},
	includes: []string{"points"},
}

func (c *call) metricVisible(m *Metric) bool {
	switch m.Visible {
	case VisibleGuest:
		return true
	case VisibleAuthenticated:
		return c.who.authed
	default:
		return false
	}
}

// renderMetric renders a metric. sent, when non-nil, reproduces the
// unrefreshed create response: attributes the request did not set are
// null there.
func (c *call) renderMetric(d *docBuilder, m *Metric, lq listQuery, sent input) res {
	s := c.s
	a := map[string]any{
		"id":            m.ID,
		"name":          m.Name,
		"suffix":        m.Suffix,
		"description":   nullIfEmpty(m.Description),
		"default_value": strconv.FormatFloat(m.DefaultValue, 'f', 3, 64),
		"calc_type":     m.CalcType,
		"display_chart": m.DisplayChart,
		"places":        m.Places,
		"default_view":  m.DefaultView,
		"threshold":     m.Threshold,
		"order":         m.Order,
		"visible":       m.Visible,
	}
	if sent != nil {
		for _, k := range []string{"default_value", "calc_type", "display_chart", "places", "threshold"} {
			if x, ok := sent[k]; !ok || x == nil {
				a[k] = nil
			} else if k == "default_value" {
				a[k] = x
			}
		}
		a["default_view"], a["order"], a["visible"] = nil, nil, nil
	}
	s.setTime(a, "created", &m.CreatedAt)
	s.setTime(a, "updated", &m.UpdatedAt)
	r := res{typ: "metrics", id: m.ID, attrs: a}
	if lq.includes["points"] {
		rl := rel{toMany: true, many: []resKey{}}
		for _, p := range sortedValues(s.st.points) {
			if p.MetricID == m.ID {
				rl.many = append(rl.many, resKey{"metricPoints", p.ID})
				d.include(c.renderPoint(p))
			}
		}
		r.rels = map[string]rel{"points": rl}
	}
	return r
}

// metrics is the metric collection (reference §3.6), newest first unless
// a sort is given.
var metrics = collection[Metric]{
	model:   "Metric",
	table:   func(st *state) map[int]*Metric { return st.metrics },
	query:   func(features) allowed { return metricQuery },
	visible: (*call).metricVisible,
	keep: func(_ *call, lq listQuery, m *Metric) bool {
		if v, ok := lq.filters["name"]; ok && !partial(m.Name, v) {
			return false
		}
		v, ok := lq.filters["calc_type"]
		return !ok || partial(strconv.Itoa(m.CalcType), v)
	},
	sorts: map[string]func(a, b *Metric) int{
		"name":       func(a, b *Metric) int { return strings.Compare(a.Name, b.Name) },
		"order":      func(a, b *Metric) int { return a.Order - b.Order },
		"id":         func(a, b *Metric) int { return a.ID - b.ID },
		"created_at": func(a, b *Metric) int { return a.CreatedAt.Compare(b.CreatedAt) },
	},
	defSort: []string{"-created_at", "-id"},
	id:      func(x *Metric) int { return x.ID },
	render:  func(c *call, d *docBuilder, m *Metric, lq listQuery) res { return c.renderMetric(d, m, lq, nil) },
}

func validateMetric(v *validator, create bool) {
	v.check("name", create, false, ruleString(255))
	v.check("suffix", create, false, ruleString(255))
	v.check("description", false, false, ruleString(0))
	v.check("default_value", false, false, ruleDecimal(1, 2))
	v.check("threshold", false, false, ruleInt(1, 60), ruleFactorOfSixty)
	if create {
		v.check("calc_type", false, true, ruleEnum(0, 1))
		v.check("display_chart", false, true, ruleBool)
		v.check("places", false, false, ruleInt(0, 4))
	}
}

func applyMetric(m *Metric, in input, create bool) {
	if s, ok := in.str("name"); ok {
		m.Name = s
	}
	if s, ok := in.str("suffix"); ok {
		m.Suffix = s
	}
	if s, ok := in.str("description"); ok {
		m.Description = s
	}
	if x, ok := in["default_value"]; ok && x != nil {
		m.DefaultValue, _ = asNumber(x)
	}
	if i, ok := in.integer("threshold"); ok {
		m.Threshold = i
	}
	if !create {
		return
	}
	if i, ok := in.integer("calc_type"); ok {
		m.CalcType = i
	}
	if b, ok := in.boolean("display_chart"); ok {
		m.DisplayChart = b
	}
	if i, ok := in.integer("places"); ok {
		m.Places = i
	}
}

func createMetric(c *call) {
	in := parseInput(c.body)
	v := newValidator(in)
	validateMetric(v, true)
	if !c.validate(v) || !c.authorize("metrics.manage") {
		return
	}
	st := &c.s.st
	// Database defaults (reference §3.6).
	m := &Metric{ID: st.id("metrics", 0), DisplayChart: true, Threshold: 5, Places: 2, DefaultView: 1, Visible: VisibleGuest,
		CreatedAt: c.now, UpdatedAt: c.now}
	applyMetric(m, in, true)
	st.metrics[m.ID] = m
	writeOne(c, http.StatusCreated, func(d *docBuilder) res { return c.renderMetric(d, m, listQuery{}, in) })
}

func updateMetric(c *call) {
	m, ok := param(c, 0, c.s.st.metrics, "Metric")
	if !ok {
		return
	}
	in := parseInput(c.body)
	v := newValidator(in)
	validateMetric(v, false)
	if !c.validate(v) || !c.authorize("metrics.manage") {
		return
	}
	applyMetric(m, in, false)
	m.UpdatedAt = c.now
	writeOne(c, http.StatusOK, func(d *docBuilder) res { return c.renderMetric(d, m, listQuery{}, nil) })
}

func deleteMetric(c *call) {
	m, ok := param(c, 0, c.s.st.metrics, "Metric")
	if !ok || !c.authorize("metrics.delete") {
		return
	}
	delete(c.s.st.metrics, m.ID)
	for id, p := range c.s.st.points {
		if p.MetricID == m.ID {
			delete(c.s.st.points, id)
		}
	}
	c.w.WriteHeader(http.StatusNoContent)
}

// ---- metric points (reference §3.7) ----

var pointQuery = allowed{
	sorts:    []string{"id", "value", "created_at"},
	includes: []string{"metric"},
}

func (c *call) renderPoint(p *MetricPoint) res {
	s := c.s
	a := map[string]any{
		"id":               p.ID,
		"metric_id":        p.MetricID,
		"calculated_value": p.CalculatedValue(),
		"value":            p.Value,
		"counter":          p.Counter,
	}
	s.setTime(a, "created", &p.CreatedAt)
	s.setTime(a, "updated", &p.UpdatedAt)
	return res{typ: "metricPoints", id: p.ID, attrs: a}
}

// metricPoints are the points nested under a metric (reference §3.7).
var metricPoints = nested[Metric, MetricPoint]{
	parent:   metrics,
	model:    "MetricPoint",
	table:    func(st *state) map[int]*MetricPoint { return st.points },
	parentOf: func(p *MetricPoint) int { return p.MetricID },
	query:    pointQuery,
	sorts: map[string]func(a, b *MetricPoint) int{
		"id":         func(a, b *MetricPoint) int { return a.ID - b.ID },
		"value":      func(a, b *MetricPoint) int { return cmp.Compare(a.Value, b.Value) },
		"created_at": func(a, b *MetricPoint) int { return a.CreatedAt.Compare(b.CreatedAt) },
	},
	id:            func(x *MetricPoint) int { return x.ID },
	render:        (*call).renderPoint,
	parentInclude: "metric",
}

func createPoint(c *call) {
	m, ok := metrics.bindParent(c, false)
	if !ok {
		return
	}
	loc := c.s.cfg.Location
	in := parseInput(c.body)
	v := newValidator(in)
	v.check("value", true, false, ruleNumeric)
	v.check("timestamp", false, true, ruleTimestamp(loc))
	if !c.validate(v) || !c.authorize("metric-points.manage") {
		return
	}
	value, _ := asNumber(in["value"])
	at := c.now
	if x, ok := in["timestamp"]; ok && x != nil {
		at, _ = pointTime(x, loc)
	}
	p := c.s.st.addPoint(m, value, at, c.now)
	// 201 also when only the counter of an existing point was bumped.
	writeOne(c, http.StatusCreated, func(*docBuilder) res { return c.renderPoint(p) })
}

func deletePoint(c *call) {
	m, ok := metrics.bindParent(c, false)
	if !ok {
		return
	}
	p, ok := metricPoints.bind(c, m)
	if !ok || !c.authorize("metric-points.delete") {
		return
	}
	delete(c.s.st.points, p.ID)
	c.w.WriteHeader(http.StatusNoContent)
}

// ---- schedules (reference §3.8) ----

var scheduleQuery = allowed{
	filters:  []string{"name", "status", "meta"},
	sorts:    []string{"name", "id", "scheduled_at", "completed_at"},
	includes: []string{"components", "components.group", "updates", "user", "meta"},
}

func (c *call) scheduleVisible(sc *Schedule) bool {
	return !c.s.feat.published || sc.published(c.now) || c.who.can("schedules.manage")
}

// scheduleStatus is the status a schedule renders and filters on: the
// stored column on the 2024-10 core, computed from the dates after.
func (c *call) scheduleStatus(sc *Schedule) int {
	if c.s.feat.scheduleStatus == scheduleStatusColumn {
		if sc.Status == nil {
			return ScheduleUpcoming
		}
		return *sc.Status
	}
	return sc.StatusAt(c.now)
}

func (c *call) renderSchedule(d *docBuilder, sc *Schedule, lq listQuery) res {
	s := c.s
	a := map[string]any{
		"id":      sc.ID,
		"name":    sc.Name,
		"message": sc.Message,
		"status":  s.enum(c.scheduleStatus(sc), scheduleStatusLabels),
	}
	s.setTime(a, "scheduled", &sc.ScheduledAt)
	if s.feat.completedAttr {
		s.setTime(a, "completed", sc.CompletedAt)
	}
	if s.feat.published {
		s.setTime(a, "published", sc.PublishedAt)
	}
	s.setTime(a, "created", &sc.CreatedAt)
	s.setTime(a, "updated", &sc.UpdatedAt)
	if lq.includes["meta"] {
		a["meta"] = metaOut(sc.Meta)
	}
	r := res{typ: "schedules", id: sc.ID, attrs: a, rels: map[string]rel{}}
	if lq.includes["components"] {
		rl := rel{toMany: true, many: []resKey{}}
		sub := listQuery{includes: map[string]bool{"group": lq.includes["components.group"]}}
		for _, im := range sc.Components {
			comp, ok := s.st.components[im.ComponentID]
			if !ok {
				continue
			}
			// A component attached without a status has no pivot
			// attribute at all (reference §9.1); the page shows it under
			// maintenance.
			var pivot *int
			if im.Status != 0 {
				pivot = &im.Status
			}
			rl.many = append(rl.many, resKey{"components", comp.ID})
			d.include(c.renderComponent(d, comp, sub, pivot))
		}
		r.rels["components"] = rl
	}
	if lq.includes["updates"] {
		r.rels["updates"] = rel{toMany: true, many: []resKey{}}
	}
	if lq.includes["user"] {
		r.rels["user"] = rel{}
	}
	return r
}

// schedules is the schedule collection (reference §3.8).
var schedules = collection[Schedule]{
	model:   "Schedule",
	table:   func(st *state) map[int]*Schedule { return st.schedules },
	query:   func(f features) allowed { return f.scheduleQuery },
	visible: (*call).scheduleVisible,
	refuse: func(c *call, lq listQuery) bool {
		if _, ok := lq.filters["status"]; ok && c.s.feat.scheduleStatus == scheduleStatusSQLError {
			// "no such column: status": the column was dropped while the
			// filter still used it (53964c53 to 858e6a0c).
			c.serverError()
			return true
		}
		return false
	},
	keep: func(c *call, lq listQuery, sc *Schedule) bool {
		if v, ok := lq.filters["name"]; ok && !partial(sc.Name, v) {
			return false
		}
		if v, ok := lq.filters["status"]; ok && !slices.Contains(exactInts(v), c.scheduleStatus(sc)) {
			return false
		}
		return len(lq.meta) == 0 || metaMatches(sc.Meta, lq.meta)
	},
	sorts: map[string]func(a, b *Schedule) int{
		"name":         func(a, b *Schedule) int { return strings.Compare(a.Name, b.Name) },
		"id":           func(a, b *Schedule) int { return a.ID - b.ID },
		"scheduled_at": func(a, b *Schedule) int { return a.ScheduledAt.Compare(b.ScheduledAt) },
		"completed_at": func(a, b *Schedule) int { return compareOptTime(a.CompletedAt, b.CompletedAt) },
	},
	id:     func(x *Schedule) int { return x.ID },
	render: (*call).renderSchedule,
}

func compareOptTime(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	default:
		return a.Compare(*b)
	}
}
