package cachettest

// These tests pin the fake to the Cachet 3 reference
// (/work/shared/reference/cachet3-api.md) by speaking raw HTTP, without the
// client, so that neither can drift silently. Section numbers refer to the
// reference.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	adminToken = "1|adminSecretToken"
	roToken    = "2|readOnlyToken"
)

// resp is a decoded response.
type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// send sends one request; body may be a string (sent verbatim) or a value
// marshalled as JSON.
func send(tb testing.TB, method, url, token string, body any) resp {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	r := resp{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			tb.Fatalf("%s %s: body is not a JSON object: %s", method, url, raw)
		}
	}
	return r
}

// path walks a decoded JSON value: "data.attributes.status.value",
// "data.0.id", "errors.name.0".
func path(tb testing.TB, v any, p string) any {
	tb.Helper()
	cur := v
	for _, part := range strings.Split(p, ".") {
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[part]
			if !ok {
				return missing{}
			}
			cur = next
		case []any:
			var i int
			if _, err := fmt.Sscanf(part, "%d", &i); err != nil || i >= len(c) {
				return missing{}
			}
			cur = c[i]
		default:
			return missing{}
		}
	}
	return cur
}

type missing struct{}

func (r resp) get(tb testing.TB, p string) any {
	tb.Helper()
	return path(tb, r.body, p)
}

func (r resp) expect(tb testing.TB, status int) resp {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("status = %d, want %d; body %s", r.status, status, r.raw)
	}
	return r
}

func num(tb testing.TB, v any) int {
	tb.Helper()
	f, ok := v.(float64)
	if !ok {
		tb.Fatalf("%v (%T) is not a number", v, v)
	}
	return int(f)
}

func newFake(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	opts = append([]Option{WithToken(adminToken, "*"), WithToken(roToken)}, opts...)
	return New(tb, opts...)
}

func TestFidelityAuth(t *testing.T) {
	srv := newFake(t, WithToken("3|componentsOnly", "components.manage"))
	comp := srv.AddComponent("API", StatusOperational)
	url := srv.URL() + "/components/" + fmt.Sprint(comp.ID)
	body := map[string]any{"status": 4}

	tests := []struct {
		name    string
		method  string
		url     string
		token   string
		header  map[string]string
		body    any
		status  int
		message string
	}{
		{"write without token", "PUT", url, "", nil, body, 401, "Unauthenticated."},
		{"write with unknown token", "PUT", url, "9|nope", nil, body, 401, "Unauthenticated."},
		{"2.x header is ignored", "PUT", url, "", map[string]string{"X-Cachet-Token": adminToken}, body, 401, "Unauthenticated."},
		{"token without ability", "PUT", url, roToken, nil, body, 403, "Invalid ability provided."},
		{"token with other ability", "POST", srv.URL() + "/incidents", "3|componentsOnly", nil,
			map[string]any{"name": "x", "message": "y", "status": 1}, 403, "Invalid ability provided."},
		{"token with ability", "PUT", url, "3|componentsOnly", nil, body, 200, ""},
		{"wildcard token", "PUT", url, adminToken, nil, body, 200, ""},
		{"read without token", "GET", url, "", nil, nil, 200, ""},
		{"read with unknown token is a guest", "GET", url, "9|nope", nil, nil, 200, ""},
		// Validation runs before the ability check (§1.5).
		{"invalid body without ability is 422", "PUT", url, roToken, nil, map[string]any{"status": 0}, 422, "The selected status is invalid."},
		// Route-model binding runs before validation and abilities.
		{"unknown id without ability is 404", "PUT", srv.URL() + "/components/999", roToken, nil, map[string]any{"status": 0}, 404, ""},
		// Authentication runs before binding.
		{"unknown id without token is 401", "PUT", srv.URL() + "/components/999", "", nil, body, 401, "Unauthenticated."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rd io.Reader
			if tt.body != nil {
				b, _ := json.Marshal(tt.body)
				rd = bytes.NewReader(b)
			}
			req, _ := http.NewRequest(tt.method, tt.url, rd)
			req.Header.Set("Content-Type", "application/json")
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			raw, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d: %s", res.StatusCode, tt.status, raw)
			}
			if tt.message != "" {
				var b map[string]any
				_ = json.Unmarshal(raw, &b)
				if b["message"] != tt.message {
					t.Errorf("message = %v, want %q", b["message"], tt.message)
				}
			}
		})
	}

	t.Run("protected api needs a token for reads", func(t *testing.T) {
		srv.SetAPIProtected(true)
		t.Cleanup(func() { srv.SetAPIProtected(false) })
		send(t, "GET", srv.URL()+"/ping", "", nil).expect(t, 401)
		send(t, "GET", srv.URL()+"/ping", roToken, nil).expect(t, 200)
	})
	t.Run("disabled api is 404 even with a token", func(t *testing.T) {
		srv.SetAPIEnabled(false)
		t.Cleanup(func() { srv.SetAPIEnabled(true) })
		send(t, "GET", srv.URL()+"/components", adminToken, nil).expect(t, 404)
	})
	t.Run("revoked token", func(t *testing.T) {
		srv.AddToken("4|temp", "*")
		send(t, "PUT", url, "4|temp", body).expect(t, 200)
		srv.RevokeToken("4|temp")
		send(t, "PUT", url, "4|temp", body).expect(t, 401)
	})
}

func TestFidelityPathsAndGeneral(t *testing.T) {
	srv := newFake(t, WithPrefix("/status/api"), WithVersion("3.x-dev"))
	base := strings.TrimSuffix(srv.URL(), "/status/api")
	tests := []struct {
		name   string
		path   string
		status int
		check  func(t *testing.T, r resp)
	}{
		{"ping", "/status/api/ping", 200, func(t *testing.T, r resp) {
			if r.body["data"] != "Pong!" {
				t.Errorf("data = %v", r.body["data"])
			}
		}},
		{"version", "/status/api/version", 200, func(t *testing.T, r resp) {
			if r.get(t, "data.version") != "3.x-dev" {
				t.Errorf("version = %v", r.get(t, "data.version"))
			}
		}},
		{"status", "/status/api/status", 200, func(t *testing.T, r resp) {
			if r.get(t, "data.status") != "operational" || r.get(t, "data.message") != "All systems are operational." {
				t.Errorf("status body %s", r.raw)
			}
		}},
		{"no prefix", "/api/ping", 404, nil},
		{"2.x path", "/status/api/v1/components", 404, nil},
		{"unknown route", "/status/api/nothing", 404, nil},
		{"2.x group path", "/status/api/components/groups", 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, "GET", base+tt.path, "", nil).expect(t, tt.status)
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
	t.Run("points have no update route", func(t *testing.T) {
		m := srv.AddMetric("Latency", "ms", 1)
		r := send(t, "POST", srv.URL()+fmt.Sprintf("/metrics/%d/points", m.ID), adminToken, map[string]any{"value": 1}).expect(t, 201)
		id := r.get(t, "data.id").(string)
		send(t, "PUT", srv.URL()+fmt.Sprintf("/metrics/%d/points/%s", m.ID, id), adminToken, map[string]any{"value": 2}).expect(t, 405)
	})
}

var laravelTime = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`)

func TestFidelityEnvelope(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no tz database: %v", err)
	}
	fixed := time.Date(2026, 1, 10, 8, 0, 0, 0, time.UTC)
	srv := newFake(t, WithLocation(berlin), WithClock(func() time.Time { return fixed }))
	comp := srv.AddComponent("API", StatusPerformanceIssues)

	r := send(t, "GET", srv.URL()+fmt.Sprintf("/components/%d", comp.ID), "", nil).expect(t, 200)
	if ct := r.header.Get("Content-Type"); ct != "application/vnd.api+json" {
		t.Errorf("content type %q", ct)
	}
	checks := []struct {
		path string
		want any
	}{
		{"data.id", fmt.Sprint(comp.ID)},
		{"data.type", "components"},
		{"data.attributes.id", float64(comp.ID)},
		{"data.attributes.status.value", float64(2)},
		{"data.attributes.status.human", "Performance issues"},
		{"data.attributes.latest_status.value", float64(2)},
		{"data.attributes.enabled", true},
		{"data.attributes.description", nil},
		// App time zone, no offset (§2.1): 08:00 UTC is 09:00 in Berlin.
		{"data.attributes.created.string", "2026-01-10 09:00:00"},
	}
	for _, c := range checks {
		t.Run(c.path, func(t *testing.T) {
			if got := r.get(t, c.path); got != c.want {
				t.Errorf("%s = %#v, want %#v", c.path, got, c.want)
			}
		})
	}
	if _, ok := r.body["jsonapi"]; ok {
		t.Error("cachet sends no top-level jsonapi member")
	}

	t.Run("list members", func(t *testing.T) {
		r := send(t, "GET", srv.URL()+"/components", "", nil).expect(t, 200)
		meta := r.body["meta"].(map[string]any)
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range meta {
				if !yield(k) {
					return
				}
			}
		})
		if !slices.Equal(keys, []string{"current_page", "from", "path", "per_page", "to"}) {
			t.Errorf("meta keys = %v", keys)
		}
		links := r.body["links"].(map[string]any)
		if _, ok := links["first"]; !ok {
			t.Error("links.first missing")
		}
		for _, k := range []string{"next", "prev", "last"} {
			if _, ok := links[k]; ok {
				t.Errorf("links.%s present on a single page", k)
			}
		}
		if s, ok := r.get(t, "data.0.attributes.updated.string").(string); !ok || !laravelTime.MatchString(s) {
			t.Errorf("updated.string = %v", r.get(t, "data.0.attributes.updated"))
		}
	})
	t.Run("errors are plain json", func(t *testing.T) {
		r := send(t, "GET", srv.URL()+"/components/999", "", nil).expect(t, 404)
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("content type %q", ct)
		}
		if _, ok := r.body["message"].(string); !ok {
			t.Errorf("404 body %s", r.raw)
		}
	})
}

func TestFidelityStatusCodes(t *testing.T) {
	srv := newFake(t)
	comp := srv.AddComponent("API", StatusOperational)
	u := srv.URL()
	var incidentID, updateID, metricID, pointID string

	steps := []struct {
		name   string
		method string
		path   func() string
		body   any
		status int
		save   *string
	}{
		{"create component", "POST", func() string { return "/components" }, map[string]any{"name": "Web", "status": 1}, 201, nil},
		{"create group", "POST", func() string { return "/component-groups" }, map[string]any{"name": "Core", "visible": 1}, 201, nil},
		{"create incident", "POST", func() string { return "/incidents" }, map[string]any{"name": "Down", "message": "x", "status": 1}, 201, &incidentID},
		{"create incident update", "POST", func() string { return "/incidents/" + incidentID + "/updates" }, map[string]any{"status": 2, "message": "y"}, 201, &updateID},
		{"create metric", "POST", func() string { return "/metrics" }, map[string]any{"name": "Latency", "suffix": "ms"}, 201, &metricID},
		{"create point", "POST", func() string { return "/metrics/" + metricID + "/points" }, map[string]any{"value": 5}, 201, &pointID},
		{"bumping a point is 201 too", "POST", func() string { return "/metrics/" + metricID + "/points" }, map[string]any{"value": 7}, 201, nil},
		{"update component", "PUT", func() string { return fmt.Sprintf("/components/%d", comp.ID) }, map[string]any{"status": 2}, 200, nil},
		{"patch component", "PATCH", func() string { return fmt.Sprintf("/components/%d", comp.ID) }, map[string]any{"status": 3}, 200, nil},
		{"update incident", "PUT", func() string { return "/incidents/" + incidentID }, map[string]any{"stickied": true}, 200, nil},
		{"delete point", "DELETE", func() string { return "/metrics/" + metricID + "/points/" + pointID }, nil, 204, nil},
		{"delete update", "DELETE", func() string { return "/incidents/" + incidentID + "/updates/" + updateID }, nil, 204, nil},
		{"delete incident", "DELETE", func() string { return "/incidents/" + incidentID }, nil, 204, nil},
		{"deleted incident is gone", "GET", func() string { return "/incidents/" + incidentID }, nil, 404, nil},
		{"non-numeric id", "GET", func() string { return "/components/abc" }, nil, 404, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := send(t, st.method, u+st.path(), adminToken, st.body).expect(t, st.status)
			if st.status == 204 && len(r.raw) != 0 {
				t.Errorf("204 with body %s", r.raw)
			}
			if st.save != nil {
				*st.save = r.get(t, "data.id").(string)
			}
		})
	}
}

func TestFidelityValidation(t *testing.T) {
	srv := newFake(t)
	comp := srv.AddComponent("API", StatusOperational)
	in := srv.AddIncident(Incident{Name: "x", Message: "y", Status: 1, Visible: 1})
	other := srv.AddIncident(Incident{Name: "other", Message: "y", Status: 1, Visible: 1})
	m := srv.AddMetric("Latency", "ms", 5)
	upd, _ := srv.AddIncidentUpdate(in.ID, 2, "identified")
	u := srv.URL()
	compID := fmt.Sprint(comp.ID)

	tests := []struct {
		name    string
		method  string
		path    string
		body    any
		field   string // expected errors key; empty means success
		msg     string // expected first message of that field, when set
		message string // expected top-level message, when set
	}{
		{"component name required", "POST", "/components", map[string]any{"status": 1}, "name", "The name field is required.", ""},
		{"component null name", "POST", "/components", map[string]any{"name": nil}, "name", "The name field is required.", ""},
		{"component name too long", "POST", "/components", map[string]any{"name": strings.Repeat("n", 256)}, "name", "The name field must not be greater than 255 characters.", ""},
		{"component null optional field", "POST", "/components", map[string]any{"name": "x", "description": nil}, "description", "The description field must be a string.", ""},
		{"empty string is null", "POST", "/components", map[string]any{"name": "x", "link": ""}, "link", "The link field must be a string.", ""},
		{"component status 0", "POST", "/components", map[string]any{"name": "x", "status": 0}, "status", "The selected status is invalid.", ""},
		{"component status 7", "PUT", "/components/" + compID, map[string]any{"status": 7}, "status", "The selected status is invalid.", ""},
		{"component status as string", "PUT", "/components/" + compID, map[string]any{"status": "4"}, "", "", ""},
		{"component link scheme", "POST", "/components", map[string]any{"name": "x", "link": "ftp://x"}, "link", "The link field must be a valid URL.", ""},
		{"component negative order", "POST", "/components", map[string]any{"name": "x", "order": -1}, "order", "The order field must be at least 0.", ""},
		{"component enabled not bool", "POST", "/components", map[string]any{"name": "x", "enabled": "yes"}, "enabled", "The enabled field must be true or false.", ""},
		{"component unknown group", "POST", "/components", map[string]any{"name": "x", "component_group_id": 99}, "component_group_id", "The selected component group id is invalid.", ""},
		{"component meta null is allowed", "POST", "/components", map[string]any{"name": "x", "meta": nil}, "", "", ""},
		{"two errors summary", "POST", "/components", map[string]any{"status": 9}, "name", "", "The name field is required. (and 1 more error)"},
		{"not json is empty input", "POST", "/components", "name=x", "name", "The name field is required.", ""},
		{"group visible 2", "POST", "/component-groups", map[string]any{"name": "g", "visible": 2}, "visible", "The visible field must be true or false.", ""},
		{"group order column needs direction", "POST", "/component-groups", map[string]any{"name": "g", "order_column": "name"}, "order_direction", "", ""},
		{"group manual order needs no direction", "POST", "/component-groups", map[string]any{"name": "g", "order_column": "manual", "visible": 1}, "", "", ""},
		{"incident status required", "POST", "/incidents", map[string]any{"name": "x", "message": "y"}, "status", "The status field is required.", ""},
		{"incident message or template", "POST", "/incidents", map[string]any{"name": "x", "status": 1}, "message", "The message field is required when template is not present.", ""},
		{"incident status 5", "POST", "/incidents", map[string]any{"name": "x", "message": "y", "status": 5}, "status", "The selected status is invalid.", ""},
		{"incident null occurred_at is allowed", "POST", "/incidents", map[string]any{"name": "x", "message": "y", "status": 1, "occurred_at": nil}, "", "", ""},
		{"incident bad date", "POST", "/incidents", map[string]any{"name": "x", "message": "y", "status": 1, "occurred_at": "yesterday-ish"}, "occurred_at", "The occurred at field must be a valid date.", ""},
		{"incident visible null", "POST", "/incidents", map[string]any{"name": "x", "message": "y", "status": 1, "visible": nil}, "visible", "The visible field must be true or false.", ""},
		{"incident unknown component", "POST", "/incidents", map[string]any{"name": "x", "message": "y", "status": 1, "components": []any{map[string]any{"id": 99, "status": 4}}},
			"components.0.id", "The selected components.0.id is invalid.", ""},
		{"incident duplicate component", "POST", "/incidents", map[string]any{"name": "x", "message": "y", "status": 1,
			"components": []any{map[string]any{"id": comp.ID, "status": 4}, map[string]any{"id": comp.ID, "status": 3}}},
			"components.1.id", "The components.1.id field has a duplicate value.", ""},
		{"incident component status missing", "POST", "/incidents", map[string]any{"name": "x", "message": "y", "status": 1, "components": []any{map[string]any{"id": comp.ID}}},
			"components.0.status", "The components.0.status field is required.", ""},
		{"incident component status 0", "POST", "/incidents", map[string]any{"name": "x", "message": "y", "status": 1, "components": []any{map[string]any{"id": comp.ID, "status": 0}}},
			"components.0.status", "The selected components.0.status is invalid.", ""},
		{"legacy component_id needs component_status", "POST", "/incidents", map[string]any{"name": "x", "message": "y", "status": 1, "component_id": comp.ID},
			"component_status", "The component status field is required when component id is present.", ""},
		{"incident update ignores components", "PUT", fmt.Sprintf("/incidents/%d", in.ID), map[string]any{"components": "nonsense", "name": "z"}, "", "", ""},
		{"update needs status and message", "POST", fmt.Sprintf("/incidents/%d/updates", in.ID), map[string]any{}, "status", "The status field is required.", "The status field is required. (and 1 more error)"},
		{"update from other incident", "PUT", fmt.Sprintf("/incidents/%d/updates/%d", other.ID, upd.ID), map[string]any{"message": "x"}, "-404", "", ""},
		{"metric suffix required", "POST", "/metrics", map[string]any{"name": "x"}, "suffix", "The suffix field is required.", ""},
		{"metric default value integer", "POST", "/metrics", map[string]any{"name": "x", "suffix": "ms", "default_value": 1}, "default_value", "The default value field must have 1-2 decimal places.", ""},
		{"metric default value 1.0 encodes as 1", "POST", "/metrics", map[string]any{"name": "x", "suffix": "ms", "default_value": json.Number("1.0")}, "default_value", "", ""},
		{"metric default value string", "POST", "/metrics", map[string]any{"name": "x", "suffix": "ms", "default_value": "0.00"}, "", "", ""},
		{"metric default value three places", "POST", "/metrics", map[string]any{"name": "x", "suffix": "ms", "default_value": "0.125"}, "default_value", "", ""},
		{"metric threshold 0", "POST", "/metrics", map[string]any{"name": "x", "suffix": "ms", "threshold": 0}, "threshold", "", ""},
		{"metric threshold 7", "POST", "/metrics", map[string]any{"name": "x", "suffix": "ms", "threshold": 7}, "threshold", "", ""},
		{"metric threshold 15", "POST", "/metrics", map[string]any{"name": "x", "suffix": "ms", "threshold": 15}, "", "", ""},
		{"metric places 5", "POST", "/metrics", map[string]any{"name": "x", "suffix": "ms", "places": 5}, "places", "", ""},
		{"point value required", "POST", fmt.Sprintf("/metrics/%d/points", m.ID), map[string]any{}, "value", "The value field is required.", ""},
		{"point value not numeric", "POST", fmt.Sprintf("/metrics/%d/points", m.ID), map[string]any{"value": "fast"}, "value", "The value field must be a number.", ""},
		{"point bad timestamp", "POST", fmt.Sprintf("/metrics/%d/points", m.ID), map[string]any{"value": 1, "timestamp": "not-a-timestamp"}, "timestamp", "", ""},
		{"point unix timestamp", "POST", fmt.Sprintf("/metrics/%d/points", m.ID), map[string]any{"value": 1, "timestamp": 1767366245}, "", "", ""},
		{"point digit string is not unix time", "POST", fmt.Sprintf("/metrics/%d/points", m.ID), map[string]any{"value": 1, "timestamp": "1767366245"}, "timestamp", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, tt.method, u+tt.path, adminToken, tt.body)
			switch {
			case tt.field == "-404":
				r.expect(t, 404)
				return
			case tt.field == "":
				if r.status/100 != 2 {
					t.Fatalf("status %d: %s", r.status, r.raw)
				}
				return
			}
			r.expect(t, 422)
			if _, ok := r.body["message"].(string); !ok {
				t.Errorf("no message: %s", r.raw)
			}
			errs, _ := r.body["errors"].(map[string]any)
			msgs, ok := errs[tt.field].([]any)
			if !ok {
				t.Fatalf("errors has no %q: %s", tt.field, r.raw)
			}
			if tt.msg != "" && (len(msgs) == 0 || msgs[0] != tt.msg) {
				t.Errorf("errors.%s = %v, want %q", tt.field, msgs, tt.msg)
			}
			if tt.message != "" && r.body["message"] != tt.message {
				t.Errorf("message = %v, want %q", r.body["message"], tt.message)
			}
		})
	}
}

func TestFidelityPagination(t *testing.T) {
	srv := newFake(t)
	for i := range 120 {
		srv.AddComponent(fmt.Sprintf("c%03d", i), StatusOperational)
	}
	tests := []struct {
		query    string
		count    int
		perPage  int
		page     int
		hasNext  bool
		firstID  int
		nextPage string
	}{
		{"", 15, 15, 1, true, 1, "2"},
		{"?per_page=0", 1, 1, 1, true, 1, "2"},
		{"?per_page=abc", 1, 1, 1, true, 1, "2"},
		{"?per_page=-5", 1, 1, 1, true, 1, "2"},
		{"?per_page=500", 100, 100, 1, true, 1, "2"},
		{"?per_page=100&page=2", 20, 100, 2, false, 101, ""},
		{"?per_page=50&page=3", 20, 50, 3, false, 101, ""},
		{"?per_page=50&page=9", 0, 50, 9, false, 0, ""},
		{"?page=0", 15, 15, 1, true, 1, "2"},
	}
	for _, tt := range tests {
		t.Run("components"+tt.query, func(t *testing.T) {
			r := send(t, "GET", srv.URL()+"/components"+tt.query, "", nil).expect(t, 200)
			data := r.body["data"].([]any)
			if len(data) != tt.count {
				t.Errorf("count = %d, want %d", len(data), tt.count)
			}
			if got := num(t, r.get(t, "meta.per_page")); got != tt.perPage {
				t.Errorf("per_page = %d, want %d", got, tt.perPage)
			}
			if got := num(t, r.get(t, "meta.current_page")); got != tt.page {
				t.Errorf("current_page = %d, want %d", got, tt.page)
			}
			next, hasNext := r.get(t, "links.next").(string)
			if hasNext != tt.hasNext {
				t.Fatalf("links.next present = %v, want %v", hasNext, tt.hasNext)
			}
			if hasNext && !strings.HasSuffix(next, "/components?page="+tt.nextPage) {
				// Laravel's paginator does not carry per_page or filters.
				t.Errorf("links.next = %q", next)
			}
			if tt.count > 0 && num(t, r.get(t, "data.0.attributes.id")) != tt.firstID {
				t.Errorf("first id = %v, want %d", r.get(t, "data.0.attributes.id"), tt.firstID)
			}
			if tt.count == 0 && (r.get(t, "meta.from") != nil || r.get(t, "meta.to") != nil) {
				t.Errorf("empty page from/to = %v/%v", r.get(t, "meta.from"), r.get(t, "meta.to"))
			}
		})
	}
}

func TestFidelityQueryParameters(t *testing.T) {
	srv := newFake(t)
	a := srv.AddComponent("API", StatusOperational)
	b := srv.AddComponent("Web", StatusMajorOutage)
	srv.PutComponent(Component{Name: "Old", Status: 1, Enabled: false})
	open := srv.AddIncident(Incident{Name: "Open", Message: "m", Status: IncidentIdentified, Visible: 1,
		Components: []Impact{{ComponentID: a.ID, Status: StatusPartialOutage}}, Meta: map[string]any{"owner": "statussync", "n": int64(5)}})
	srv.AddIncident(Incident{Name: "Closed", Message: "m", Status: IncidentFixed, Visible: 1})
	u := srv.URL()

	tests := []struct {
		name    string
		path    string
		token   string
		status  int
		wantIDs []string
		message string
	}{
		{"unknown filter", "/incidents?filter[component_id]=1", "", 400, nil,
			"Requested filter(s) `component_id` are not allowed. Allowed filter(s) are `name, status, occurs_after, occurs_before, occurs_on, meta`."},
		{"unknown sort", "/components?sort=-status", "", 400, nil,
			"Requested sort(s) `-status` is not allowed. Allowed sort(s) are `name, order, id`."},
		{"unknown include", "/components?include=updates", "", 400, nil,
			"Requested include(s) `updates` are not allowed. Allowed include(s) are `group, groupCount, groupExists, incidents, incidentsCount, incidentsExists, meta, metaCount, metaExists`."},
		{"status list", "/incidents?filter[status]=0,1,2,3", "", 200, []string{fmt.Sprint(open.ID)}, ""},
		{"meta filter", "/incidents?filter[meta][owner]=statussync", "", 200, []string{fmt.Sprint(open.ID)}, ""},
		{"meta filter number", "/incidents?filter[meta][n]=5", "", 200, []string{fmt.Sprint(open.ID)}, ""},
		{"meta filter mismatch", "/incidents?filter[meta][owner]=someone", "", 200, []string{}, ""},
		{"component status filter", "/components?filter[status]=4", "", 200, []string{fmt.Sprint(b.ID)}, ""},
		{"component name partial", "/components?filter[name]=ap", "", 200, []string{fmt.Sprint(a.ID)}, ""},
		{"enabled defaults to true", "/components", "", 200, []string{fmt.Sprint(a.ID), fmt.Sprint(b.ID)}, ""},
		{"guests never see disabled", "/components?filter[enabled]=false", "", 200, []string{}, ""},
		{"tokens can ask for disabled", "/components?filter[enabled]=false", roToken, 200, []string{"3"}, ""},
		{"sort by name desc", "/components?sort=-name", "", 200, []string{fmt.Sprint(b.ID), fmt.Sprint(a.ID)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, "GET", u+tt.path, tt.token, nil).expect(t, tt.status)
			if tt.message != "" && r.body["message"] != tt.message {
				t.Errorf("message = %q, want %q", r.body["message"], tt.message)
			}
			if tt.wantIDs == nil {
				return
			}
			ids := []string{}
			for _, d := range r.body["data"].([]any) {
				ids = append(ids, d.(map[string]any)["id"].(string))
			}
			if !slices.Equal(ids, tt.wantIDs) {
				t.Errorf("ids = %v, want %v", ids, tt.wantIDs)
			}
		})
	}

	t.Run("include components carries the pivot", func(t *testing.T) {
		r := send(t, "GET", u+"/incidents?include=components,meta&filter[status]=2", "", nil).expect(t, 200)
		if got := r.get(t, "data.0.relationships.components.data.0.id"); got != fmt.Sprint(a.ID) {
			t.Errorf("relationship = %v", got)
		}
		if got := r.get(t, "included.0.attributes.pivot.component_status.value"); got != float64(StatusPartialOutage) {
			t.Errorf("pivot = %v", got)
		}
		if got := r.get(t, "data.0.attributes.meta.owner"); got != "statussync" {
			t.Errorf("meta = %v", got)
		}
	})
	t.Run("meta only with include", func(t *testing.T) {
		r := send(t, "GET", u+"/incidents", "", nil).expect(t, 200)
		if _, ok := r.get(t, "data.0.attributes.meta").(missing); !ok {
			t.Error("meta present without include=meta")
		}
	})
}

func TestFidelityIncidentSemantics(t *testing.T) {
	srv := newFake(t)
	comp := srv.AddComponent("API", StatusOperational)
	u := srv.URL()

	t.Run("hidden-from-guests incident does not affect latest_status", func(t *testing.T) {
		r := send(t, "POST", u+"/incidents", adminToken, map[string]any{"name": "quiet", "message": "m", "status": 1,
			"components": []any{map[string]any{"id": comp.ID, "status": 4}}}).expect(t, 201)
		if got := r.get(t, "data.attributes.visible"); got != float64(0) {
			t.Errorf("visible defaults to %v, want 0", got)
		}
		if got := r.get(t, "data.attributes.occurred"); got != nil {
			t.Errorf("occurred = %v, want null when omitted", got)
		}
		if st := srv.EffectiveStatus(comp.ID); st != StatusOperational {
			t.Errorf("latest status = %d", st)
		}
		send(t, "GET", u+"/incidents/"+r.get(t, "data.id").(string), "", nil).expect(t, 404)
		send(t, "GET", u+"/incidents/"+r.get(t, "data.id").(string), roToken, nil).expect(t, 200)
	})

	var incID string
	t.Run("public incident raises latest_status, not the baseline", func(t *testing.T) {
		r := send(t, "POST", u+"/incidents", adminToken, map[string]any{"name": "API down", "message": "m", "status": 1, "visible": true,
			"occurred_at": "2026-02-01T10:00:00+01:00", "notifications": false,
			"components": []any{map[string]any{"id": comp.ID, "status": 4}}}).expect(t, 201)
		incID = r.get(t, "data.id").(string)
		if got := r.get(t, "data.attributes.notifications"); got != false {
			t.Errorf("create response notifications = %#v, want bool", got)
		}
		if got := r.get(t, "data.attributes.occurred.string"); got != "2026-02-01 09:00:00" {
			t.Errorf("occurred = %v", got)
		}
		c := send(t, "GET", u+fmt.Sprintf("/components/%d", comp.ID), "", nil).expect(t, 200)
		if c.get(t, "data.attributes.status.value") != float64(1) || c.get(t, "data.attributes.latest_status.value") != float64(4) {
			t.Errorf("status/latest = %v/%v", c.get(t, "data.attributes.status"), c.get(t, "data.attributes.latest_status"))
		}
		got := send(t, "GET", u+"/incidents/"+incID, "", nil).expect(t, 200)
		if n := got.get(t, "data.attributes.notifications"); n != float64(0) {
			t.Errorf("read notifications = %#v, want the database integer", n)
		}
		s := send(t, "GET", u+"/status", "", nil).expect(t, 200)
		if s.get(t, "data.status") != "major_outage" {
			t.Errorf("system status = %v", s.get(t, "data.status"))
		}
	})

	t.Run("status follows the newest update", func(t *testing.T) {
		send(t, "POST", u+"/incidents/"+incID+"/updates", adminToken, map[string]any{"status": 3, "message": "watching"}).expect(t, 201)
		r := send(t, "GET", u+"/incidents/"+incID, "", nil).expect(t, 200)
		if r.get(t, "data.attributes.status.value") != float64(3) {
			t.Errorf("status = %v", r.get(t, "data.attributes.status"))
		}
		up := send(t, "POST", u+"/incidents/"+incID+"/updates", adminToken, map[string]any{"status": 4, "message": "fixed"}).expect(t, 201)
		if up.get(t, "data.type") != "updates" || up.get(t, "data.attributes.updateable_type") != "incident" {
			t.Errorf("update resource %s", up.raw)
		}
		if st := srv.EffectiveStatus(comp.ID); st != StatusOperational {
			t.Errorf("latest status after fix = %d", st)
		}
		// Editing the newest update re-syncs the incident.
		send(t, "PUT", u+"/incidents/"+incID+"/updates/"+up.get(t, "data.id").(string), adminToken, map[string]any{"status": 2}).expect(t, 200)
		if in, _ := srv.Incident(num(t, up.get(t, "data.attributes.updateable_id"))); in.Status != 2 {
			t.Errorf("incident status after edit = %d", in.Status)
		}
		list := send(t, "GET", u+"/incidents/"+incID+"/updates", "", nil).expect(t, 200)
		if n := len(list.body["data"].([]any)); n != 2 {
			t.Errorf("updates = %d", n)
		}
	})

	t.Run("embargoed incident", func(t *testing.T) {
		future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		r := send(t, "POST", u+"/incidents", adminToken, map[string]any{"name": "later", "message": "m", "status": 0, "visible": true,
			"published_at": future}).expect(t, 201)
		id := r.get(t, "data.id").(string)
		send(t, "GET", u+"/incidents/"+id, "", nil).expect(t, 404)
		send(t, "GET", u+"/incidents/"+id, roToken, nil).expect(t, 404)
		send(t, "GET", u+"/incidents/"+id, adminToken, nil).expect(t, 200)
	})
}

func TestFidelityGroupVisibility(t *testing.T) {
	srv := newFake(t)
	a := srv.AddComponent("A", StatusOperational)
	b := srv.AddComponent("B", StatusOperational)
	u := srv.URL()
	hidden := send(t, "POST", u+"/component-groups", adminToken, map[string]any{"name": "Private", "components": []any{a.ID}}).expect(t, 201)
	if hidden.get(t, "data.attributes.visible") != float64(0) {
		t.Errorf("omitted visible = %v, want 0", hidden.get(t, "data.attributes.visible"))
	}
	send(t, "POST", u+"/component-groups", adminToken, map[string]any{"name": "Public", "visible": 1, "components": []any{b.ID}}).expect(t, 201)

	tests := []struct {
		name   string
		token  string
		groups int
		comps  int
	}{
		{"guest", "", 1, 1},
		{"token", roToken, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := send(t, "GET", u+"/component-groups?include=components", tt.token, nil).expect(t, 200)
			if n := len(g.body["data"].([]any)); n != tt.groups {
				t.Errorf("groups = %d, want %d", n, tt.groups)
			}
			c := send(t, "GET", u+"/components", tt.token, nil).expect(t, 200)
			if n := len(c.body["data"].([]any)); n != tt.comps {
				t.Errorf("components = %d, want %d", n, tt.comps)
			}
		})
	}
}

func TestFidelityMetricPoints(t *testing.T) {
	srv := newFake(t)
	u := srv.URL()
	created := send(t, "POST", u+"/metrics", adminToken, map[string]any{"name": "Latency", "suffix": "ms"}).expect(t, 201)
	// The create response is the unrefreshed model (§3.6).
	if created.get(t, "data.attributes.threshold") != nil || created.get(t, "data.attributes.visible") != nil {
		t.Errorf("create response defaults: %s", created.raw)
	}
	id := created.get(t, "data.id").(string)
	shown := send(t, "GET", u+"/metrics/"+id, "", nil).expect(t, 200)
	if shown.get(t, "data.attributes.threshold") != float64(5) || shown.get(t, "data.attributes.default_value") != "0.000" {
		t.Errorf("refreshed metric: %s", shown.raw)
	}

	base := time.Date(2026, 3, 1, 12, 0, 10, 0, time.UTC).Unix()
	steps := []struct {
		name     string
		value    float64
		at       int64
		wantID   int // 0: a new point
		counter  int
		value0   float64
		calc     float64
		createdS string
	}{
		{"first point, rounded to 30s", 10, base, 0, 1, 10, 10, "2026-03-01 12:00:00"},
		{"within threshold bumps the counter", 99, base + 120, 1, 2, 10, 20, "2026-03-01 12:00:00"},
		{"four minutes is still within 5", 7, base + 240, 1, 3, 10, 30, "2026-03-01 12:00:00"},
		{"five minutes apart is a new point", 7, base + 300, 0, 1, 7, 7, "2026-03-01 12:05:00"},
	}
	var lastNew int
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := send(t, "POST", u+"/metrics/"+id+"/points", adminToken, map[string]any{"value": st.value, "timestamp": st.at}).expect(t, 201)
			pid := num(t, r.get(t, "data.attributes.id"))
			if st.wantID == 0 {
				if pid == lastNew {
					t.Errorf("expected a new point, got %d again", pid)
				}
				lastNew = pid
			} else if pid != lastNew {
				t.Errorf("point id = %d, want the bumped %d", pid, lastNew)
			}
			if got := num(t, r.get(t, "data.attributes.counter")); got != st.counter {
				t.Errorf("counter = %d, want %d", got, st.counter)
			}
			if got := r.get(t, "data.attributes.value"); got != st.value0 {
				t.Errorf("value = %v, want %v", got, st.value0)
			}
			if got := r.get(t, "data.attributes.calculated_value"); got != st.calc {
				t.Errorf("calculated_value = %v, want %v", got, st.calc)
			}
			if got := r.get(t, "data.attributes.created.string"); got != st.createdS {
				t.Errorf("created = %v, want %s", got, st.createdS)
			}
			if r.get(t, "data.type") != "metricPoints" {
				t.Errorf("type = %v", r.get(t, "data.type"))
			}
		})
	}
}

func TestFidelityMaintenance(t *testing.T) {
	now := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	srv := newFake(t, WithClock(func() time.Time { return now }))
	a := srv.AddComponent("A", StatusOperational)
	b := srv.AddComponent("B", StatusMajorOutage)
	end := now.Add(time.Hour)
	srv.AddSchedule(Schedule{Name: "Upgrade", Message: "m", ScheduledAt: now.Add(-time.Hour), CompletedAt: &end,
		Components: []Impact{{ComponentID: a.ID}, {ComponentID: b.ID}}})
	srv.AddSchedule(Schedule{Name: "Later", Message: "m", ScheduledAt: now.Add(24 * time.Hour)})
	past := now.Add(-time.Hour)
	srv.AddSchedule(Schedule{Name: "Done", Message: "m", ScheduledAt: now.Add(-2 * time.Hour), CompletedAt: &past})

	if st := srv.EffectiveStatus(a.ID); st != StatusUnderMaintenance {
		t.Errorf("A latest = %d, want under maintenance", st)
	}
	// Maintenance replaces the baseline (§3.2).
	if st := srv.EffectiveStatus(b.ID); st != StatusUnderMaintenance {
		t.Errorf("B latest = %d, want under maintenance", st)
	}
	tests := []struct {
		query string
		names []string
	}{
		{"", []string{"Upgrade", "Later", "Done"}},
		{"?filter[status]=1", []string{"Upgrade"}},
		{"?filter[status]=0,2", []string{"Later", "Done"}},
	}
	for _, tt := range tests {
		t.Run("schedules"+tt.query, func(t *testing.T) {
			r := send(t, "GET", srv.URL()+"/schedules"+tt.query, "", nil).expect(t, 200)
			var names []string
			for _, d := range r.body["data"].([]any) {
				names = append(names, path(t, d, "attributes.name").(string))
			}
			if !slices.Equal(names, tt.names) {
				t.Errorf("names = %v, want %v", names, tt.names)
			}
		})
	}
	r := send(t, "GET", srv.URL()+"/schedules/1?include=components", "", nil).expect(t, 200)
	if r.get(t, "data.attributes.status.value") != float64(ScheduleInProgress) {
		t.Errorf("status = %v", r.get(t, "data.attributes.status"))
	}
	// The component was attached without a status: no pivot at all
	// (reference §9.1), and the page shows it under maintenance.
	if _, ok := r.get(t, "included.0.attributes.pivot").(missing); !ok {
		t.Errorf("pivot = %v, want none", r.get(t, "included.0.attributes.pivot"))
	}
	send(t, "POST", srv.URL()+"/schedules", adminToken, map[string]any{"name": "x"}).expect(t, 501)
}

func TestFidelityRateLimit(t *testing.T) {
	now := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := newFake(t, WithRateLimit(3), WithClock(clock))
	for i := range 3 {
		r := send(t, "GET", srv.URL()+"/ping", "", nil).expect(t, 200)
		if r.header.Get("X-RateLimit-Limit") != "3" || r.header.Get("X-RateLimit-Remaining") != fmt.Sprint(2-i) {
			t.Errorf("request %d headers: %v", i, r.header)
		}
		if r.header.Get("X-RateLimit-Reset") != "" {
			t.Error("X-RateLimit-Reset is sent only on 429")
		}
	}
	r := send(t, "GET", srv.URL()+"/ping", "", nil).expect(t, 429)
	if r.body["message"] != "Too Many Attempts." {
		t.Errorf("message = %v", r.body["message"])
	}
	if r.header.Get("Retry-After") != "60" || r.header.Get("X-RateLimit-Reset") == "" || r.header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("429 headers: %v", r.header)
	}
	// Writes are counted per token, apart from the reads' IP budget.
	comp := srv.AddComponent("A", 1)
	send(t, "PUT", srv.URL()+fmt.Sprintf("/components/%d", comp.ID), adminToken, map[string]any{"status": 2}).expect(t, 200)
	// 401 comes before the throttle.
	send(t, "PUT", srv.URL()+fmt.Sprintf("/components/%d", comp.ID), "", map[string]any{"status": 2}).expect(t, 401)

	mu.Lock()
	now = now.Add(61 * time.Second)
	mu.Unlock()
	send(t, "GET", srv.URL()+"/ping", "", nil).expect(t, 200)
}

func TestFaultInjectionAndRecording(t *testing.T) {
	srv := newFake(t)
	comp := srv.AddComponent("A", 1)
	u := srv.URL()

	srv.FailNext(2, http.StatusServiceUnavailable)
	for range 2 {
		r := send(t, "GET", u+"/components", "", nil).expect(t, 503)
		if r.header.Get("Retry-After") != "1" {
			t.Errorf("Retry-After = %q", r.header.Get("Retry-After"))
		}
	}
	send(t, "GET", u+"/components", "", nil).expect(t, 200)

	srv.DropNext(1)
	// A fresh transport: net/http silently retries a GET that failed on a
	// reused keep-alive connection.
	fresh := &http.Client{Transport: &http.Transport{}}
	if res, err := fresh.Get(u + "/ping"); err == nil {
		res.Body.Close()
		t.Error("dropped request returned a response")
	}
	send(t, "GET", u+"/ping", "", nil).expect(t, 200)

	srv.SetLatency(50 * time.Millisecond)
	start := time.Now()
	send(t, "GET", u+"/ping", "", nil).expect(t, 200)
	if time.Since(start) < 50*time.Millisecond {
		t.Error("latency not applied")
	}
	srv.SetLatency(0)

	send(t, "PUT", u+fmt.Sprintf("/components/%d", comp.ID), adminToken, map[string]any{"status": 3}).expect(t, 200)
	reqs := srv.Requests()
	wantStatuses := []int{503, 503, 200, 0, 200, 200, 200}
	var got []int
	for _, r := range reqs {
		got = append(got, r.StatusCode)
	}
	if !slices.Equal(got, wantStatuses) {
		t.Errorf("recorded statuses = %v, want %v", got, wantStatuses)
	}
	writes := srv.Writes()
	if len(writes) != 1 || writes[0].Method != "PUT" || writes[0].Path != "/api/components/1" || !strings.Contains(string(writes[0].Body), `"status":3`) {
		t.Errorf("writes = %+v", writes)
	}
	if c, _ := srv.Component(comp.ID); c.Status != 3 {
		t.Errorf("stored status = %d", c.Status)
	}
	srv.ResetRequests()
	if len(srv.Requests()) != 0 {
		t.Error("ResetRequests kept requests")
	}
}

func TestLegacyShapes(t *testing.T) {
	srv := newFake(t, WithLegacyShapes())
	comp := srv.AddComponent("API", StatusPartialOutage)
	srv.AddIncident(Incident{Name: "x", Message: "m", Status: 2, Visible: 1, Components: []Impact{{ComponentID: comp.ID, Status: 4}}})
	r := send(t, "GET", srv.URL()+fmt.Sprintf("/components/%d", comp.ID), "", nil).expect(t, 200)
	tests := []struct {
		path string
		want any
	}{
		{"data.id", float64(comp.ID)},
		{"data.status", float64(StatusPartialOutage)},
		{"data.name", "API"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := r.get(t, tt.path); got != tt.want {
				t.Errorf("%s = %#v, want %#v", tt.path, got, tt.want)
			}
		})
	}
	if s, ok := r.get(t, "data.created_at").(string); !ok || !laravelTime.MatchString(s) {
		t.Errorf("created_at = %v", r.get(t, "data.created_at"))
	}
	inc := send(t, "GET", srv.URL()+"/incidents?include=components", "", nil).expect(t, 200)
	if got := inc.get(t, "data.0.components.0.pivot.component_status"); got != float64(4) {
		t.Errorf("embedded pivot = %v", got)
	}
}

func TestConcurrentUse(t *testing.T) {
	srv := newFake(t)
	comp := srv.AddComponent("A", 1)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 10 {
				send(t, "PUT", srv.URL()+fmt.Sprintf("/components/%d", comp.ID), adminToken, map[string]any{"status": 1 + (i+j)%4}).expect(t, 200)
				_ = srv.Components()
				_ = srv.Requests()
			}
		})
	}
	wg.Wait()
	if n := len(srv.Writes()); n != 80 {
		t.Errorf("writes = %d, want 80", n)
	}
}
