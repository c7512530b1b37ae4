package cachettest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// English labels of the enums (reference §4). Clients must use "value".
var (
	componentStatusLabels = map[int]string{1: "Operational", 2: "Performance issues", 3: "Partial outage", 4: "Major outage", 5: "Unknown", 6: "Under maintenance"}
	incidentStatusLabels  = map[int]string{0: "Reported", 1: "Investigating", 2: "Identified", 3: "Watching", 4: "Fixed"}
	scheduleStatusLabels  = map[int]string{0: "Upcoming", 1: "In progress", 2: "Complete"}
)

// res is one JSON:API resource object before rendering.
type res struct {
	typ   string
	id    int
	attrs map[string]any
	rels  map[string]rel
}

// rel is a relationship: a to-one (one may be nil) or a to-many.
type rel struct {
	toMany bool
	one    *resKey
	many   []resKey
}

type resKey struct {
	typ string
	id  int
}

// docBuilder accumulates a document's primary data and included members,
// deduplicated by type and id as timacdonald/json-api does.
type docBuilder struct {
	data     []res
	single   bool
	included []res
	seen     map[resKey]bool
	links    map[string]any
	meta     map[string]any
}

func (d *docBuilder) include(r res) {
	if d.seen == nil {
		d.seen = map[resKey]bool{}
	}
	k := resKey{r.typ, r.id}
	if d.seen[k] {
		return
	}
	d.seen[k] = true
	d.included = append(d.included, r)
}

func (s *Server) enum(value int, labels map[int]string) any {
	if s.cfg.LegacyShapes {
		return value
	}
	return map[string]any{"human": labels[value], "value": value}
}

// componentStatus renders a component's baseline status: an enum object,
// a bare integer on the 2024-10 core, null (or null members) when a core
// stored none.
func (s *Server) componentStatus(value int) any {
	switch {
	case s.feat.bareStatus && value == 0:
		return nil
	case s.feat.bareStatus:
		return value
	case value == 0:
		return map[string]any{"human": nil, "value": nil}
	}
	return s.enum(value, componentStatusLabels)
}

// setTime sets a timestamp attribute: {"human","string"} named name, or in
// legacy shapes a plain string named name+"_at". nil renders as null.
func (s *Server) setTime(attrs map[string]any, name string, t *time.Time) {
	key := name
	if s.cfg.LegacyShapes {
		key = name + "_at"
	}
	if t == nil || t.IsZero() {
		attrs[key] = nil
		return
	}
	str := t.In(s.cfg.Location).Format(time.DateTime)
	if s.cfg.LegacyShapes {
		attrs[key] = str
		return
	}
	attrs[key] = map[string]any{"human": human(t.Sub(s.now())), "string": str}
}

// human imitates Carbon's diffForHumans closely enough to look real; it is
// localized text that clients must not parse.
func human(d time.Duration) string {
	suffix := "from now"
	if d < 0 {
		d, suffix = -d, "ago"
	}
	unit, n := "second", int(d/time.Second)
	switch {
	case d >= 24*time.Hour:
		unit, n = "day", int(d/(24*time.Hour))
	case d >= time.Hour:
		unit, n = "hour", int(d/time.Hour)
	case d >= time.Minute:
		unit, n = "minute", int(d/time.Minute)
	}
	if n != 1 {
		unit += "s"
	}
	return fmt.Sprintf("%d %s %s", n, unit, suffix)
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// render turns the builder into the response body.
func (s *Server) render(d *docBuilder) map[string]any {
	out := map[string]any{}
	if s.cfg.LegacyShapes {
		idx := map[resKey]res{}
		for _, r := range d.included {
			idx[resKey{r.typ, r.id}] = r
		}
		flat := make([]any, 0, len(d.data))
		for _, r := range d.data {
			flat = append(flat, s.flatten(r, idx))
		}
		if d.single {
			out["data"] = flat[0]
		} else {
			out["data"] = flat
		}
	} else {
		objs := make([]any, 0, len(d.data))
		for _, r := range d.data {
			objs = append(objs, s.object(r))
		}
		if d.single {
			out["data"] = objs[0]
		} else {
			out["data"] = objs
		}
		if len(d.included) > 0 {
			inc := make([]any, 0, len(d.included))
			for _, r := range d.included {
				inc = append(inc, s.object(r))
			}
			out["included"] = inc
		}
	}
	if d.links != nil {
		out["links"] = d.links
	}
	if d.meta != nil {
		out["meta"] = d.meta
	}
	return out
}

func (s *Server) object(r res) map[string]any {
	o := map[string]any{"id": strconv.Itoa(r.id), "type": r.typ, "attributes": r.attrs}
	if len(r.rels) > 0 {
		rels := map[string]any{}
		for name, rl := range r.rels {
			rels[name] = map[string]any{"data": relData(rl)}
		}
		o["relationships"] = rels
	}
	return o
}

func relData(rl rel) any {
	if !rl.toMany {
		if rl.one == nil {
			return nil
		}
		return map[string]any{"type": rl.one.typ, "id": strconv.Itoa(rl.one.id)}
	}
	out := make([]any, 0, len(rl.many))
	for _, k := range rl.many {
		out = append(out, map[string]any{"type": k.typ, "id": strconv.Itoa(k.id)})
	}
	return out
}

// flatten renders the legacy shape: attributes with an integer id, to-one
// relationships as <name>_id, to-many ones embedded.
func (s *Server) flatten(r res, idx map[resKey]res) map[string]any {
	o := map[string]any{}
	for k, v := range r.attrs {
		o[k] = v
	}
	o["id"] = r.id
	for name, rl := range r.rels {
		if !rl.toMany {
			if name == "group" {
				name = "component_group"
			}
			if rl.one == nil {
				o[name+"_id"] = nil
			} else {
				o[name+"_id"] = rl.one.id
			}
			continue
		}
		var embedded []any
		for _, k := range rl.many {
			if inc, ok := idx[k]; ok {
				e := map[string]any{}
				for ak, av := range inc.attrs {
					e[ak] = av
				}
				e["id"] = k.id
				embedded = append(embedded, e)
			}
		}
		o[name] = embedded
	}
	return o
}

// ---- writing responses ----

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "cachettest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, "application/json", map[string]any{"message": msg})
}

func (s *Server) writeDoc(w http.ResponseWriter, status int, d *docBuilder) {
	writeJSON(w, status, "application/vnd.api+json", s.render(d))
}

func writeValidation(w http.ResponseWriter, v *validator) {
	writeJSON(w, http.StatusUnprocessableEntity, "application/json", map[string]any{
		"message": v.message(),
		"errors":  v.errs,
	})
}

// ---- query parameters (spatie/laravel-query-builder, reference §5) ----

type listQuery struct {
	filters  map[string]string
	meta     map[string]string
	sorts    []string
	includes map[string]bool
}

type allowed struct {
	filters  []string
	sorts    []string
	includes []string
}

// parseQuery reads filter[...], sort and include and returns the 400
// message for a name that is not allowed, as spatie's exceptions word it.
func parseQuery(q url.Values, a allowed, checkFilters bool) (listQuery, string) {
	lq := listQuery{filters: map[string]string{}, meta: map[string]string{}, includes: map[string]bool{}}
	var badFilters []string
	for key, vals := range q {
		if !strings.HasPrefix(key, "filter[") {
			continue
		}
		name, rest, ok := strings.Cut(strings.TrimPrefix(key, "filter["), "]")
		if !ok {
			continue
		}
		if !slices.Contains(a.filters, name) {
			if !slices.Contains(badFilters, name) {
				badFilters = append(badFilters, name)
			}
			continue
		}
		val := ""
		if len(vals) > 0 {
			val = vals[len(vals)-1]
		}
		if name == "meta" && strings.HasPrefix(rest, "[") && strings.HasSuffix(rest, "]") {
			// spatie splits every filter value on commas; Cachet's
			// MetaFilter then skips a pair whose value became an array, so
			// a comma silently disables that part of the filter
			// (reference §9.1).
			if !strings.Contains(val, ",") {
				lq.meta[rest[1:len(rest)-1]] = val
			}
			continue
		}
		lq.filters[name] = val
	}
	if checkFilters && len(badFilters) > 0 {
		slices.Sort(badFilters)
		return lq, fmt.Sprintf("Requested filter(s) `%s` are not allowed. Allowed filter(s) are `%s`.",
			strings.Join(badFilters, ", "), strings.Join(a.filters, ", "))
	}
	if v := q.Get("sort"); v != "" {
		var bad []string
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if !slices.Contains(a.sorts, strings.TrimPrefix(s, "-")) {
				bad = append(bad, s)
				continue
			}
			lq.sorts = append(lq.sorts, s)
		}
		if len(bad) > 0 {
			return lq, fmt.Sprintf("Requested sort(s) `%s` is not allowed. Allowed sort(s) are `%s`.",
				strings.Join(bad, ", "), strings.Join(a.sorts, ", "))
		}
	}
	if v := q.Get("include"); v != "" {
		var bad []string
		for _, inc := range strings.Split(v, ",") {
			inc = strings.TrimSpace(inc)
			if !slices.Contains(a.includes, inc) {
				bad = append(bad, inc)
				continue
			}
			lq.includes[inc] = true
			if parent, _, nested := strings.Cut(inc, "."); nested {
				lq.includes[parent] = true
			}
		}
		if len(bad) > 0 {
			return lq, fmt.Sprintf("Requested include(s) `%s` are not allowed. Allowed include(s) are `%s`.",
				strings.Join(bad, ", "), includeNames(a.includes))
		}
	}
	return lq, ""
}

// exactInts parses an exact filter's comma list; values that are not
// integers match nothing, as in SQL.
func exactInts(v string) []int {
	var out []int
	for _, p := range strings.Split(v, ",") {
		if i, err := strconv.Atoi(strings.TrimSpace(p)); err == nil {
			out = append(out, i)
		}
	}
	return out
}

// partial is a spatie partial filter: the value is split on commas and
// any part may match (SQL LIKE %part%).
func partial(haystack, needle string) bool {
	for _, part := range strings.Split(needle, ",") {
		if strings.Contains(strings.ToLower(haystack), strings.ToLower(part)) {
			return true
		}
	}
	return false
}

// metaMatches implements Cachet's MetaFilter: every pair must match, and a
// value matches both its string and its typed form: filter[meta][k]=3
// matches a stored "3" and a stored 3, "true" matches "true" and true
// (reference §9.1).
func metaMatches(stored map[string]any, want map[string]string) bool {
	for k, v := range want {
		got, ok := stored[k]
		if !ok {
			return false
		}
		if str, ok := got.(string); ok && str == v {
			continue
		}
		switch {
		case v == "true" || v == "false":
			if b, ok := got.(bool); !ok || b != (v == "true") {
				return false
			}
		case isNumber(v):
			f, _ := strconv.ParseFloat(v, 64)
			if !numberEquals(got, f) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func isNumber(s string) bool {
	f, err := strconv.ParseFloat(s, 64)
	return err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
}

func numberEquals(v any, f float64) bool {
	switch t := v.(type) {
	case int64:
		return float64(t) == f
	case int:
		return float64(t) == f
	case float64:
		return t == f
	default:
		return false
	}
}

// sortBy orders items by the requested sorts (each "name" or "-name"),
// falling back to def, with id as the final tie-breaker.
func sortBy[T any](items []T, sorts []string, def []string, keys map[string]func(a, b T) int, id func(T) int) {
	if len(sorts) == 0 {
		sorts = def
	}
	slices.SortStableFunc(items, func(a, b T) int {
		for _, s := range sorts {
			desc := strings.HasPrefix(s, "-")
			cmp := keys[strings.TrimPrefix(s, "-")]
			if cmp == nil {
				continue
			}
			c := cmp(a, b)
			if desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return id(a) - id(b)
	})
}

// paginate applies per_page and page (reference §5): per_page defaults to
// 15 and is clamped to 1-100, a non-numeric value counting as 0; page is
// 1-based. It returns the slice bounds and the links and meta members.
func paginate(r *http.Request, total int, unbounded bool) (lo, hi int, links, meta map[string]any) {
	q := r.URL.Query()
	perPage := 15
	if v, ok := q["per_page"]; ok && len(v) > 0 {
		n, err := strconv.Atoi(strings.TrimSpace(v[0]))
		if err != nil {
			n = 0
		}
		perPage = max(n, 1)
		if !unbounded {
			perPage = min(perPage, 100)
		}
	}
	page, err := strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 {
		page = 1
	}
	lo = min((page-1)*perPage, total)
	hi = min(lo+perPage, total)

	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	path := scheme + "://" + r.Host + r.URL.Path
	links = map[string]any{"first": path + "?page=1"}
	if page > 1 {
		links["prev"] = path + "?page=" + strconv.Itoa(page-1)
	}
	if hi < total {
		links["next"] = path + "?page=" + strconv.Itoa(page+1)
	}
	meta = map[string]any{"current_page": page, "path": path, "per_page": perPage, "from": nil, "to": nil}
	if hi > lo {
		meta["from"] = lo + 1
		meta["to"] = hi
	}
	return lo, hi, links, meta
}
