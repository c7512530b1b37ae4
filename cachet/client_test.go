package cachet

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/statussync/statussync/cachet/cachettest"
)

const testToken = "7|clientTestSecretValue123"

// newFake starts a fake Cachet with testToken holding every ability.
func newFake(tb testing.TB, opts ...cachettest.Option) *cachettest.Server {
	tb.Helper()
	return cachettest.New(tb, append([]cachettest.Option{cachettest.WithToken(testToken, "*")}, opts...)...)
}

// newClient builds a client for base from DefaultOptions with fast retries
// and no client-side rate limit, then applies mods.
func newClient(tb testing.TB, base string, mods ...func(*Options)) *Client {
	tb.Helper()
	opts := DefaultOptions()
	opts.BaseURL = base
	opts.Token = testToken
	opts.Timeout = 5 * time.Second
	opts.RetryWaitMin, opts.RetryWaitMax = time.Millisecond, 5*time.Millisecond
	opts.RateLimit = -1
	for _, m := range mods {
		m(&opts)
	}
	c, err := New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func ctxT(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	tb.Cleanup(cancel)
	return ctx
}

func TestNewValidatesOptions(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Options)
		wantErr string
	}{
		{"empty base url", func(o *Options) { o.BaseURL = "" }, "base url is empty"},
		{"scheme", func(o *Options) { o.BaseURL = "ftp://x/api" }, "scheme must be http or https"},
		{"no host", func(o *Options) { o.BaseURL = "http:///api" }, "missing host"},
		{"credentials", func(o *Options) { o.BaseURL = "https://u:p@x/api" }, "must not contain credentials"},
		{"query", func(o *Options) { o.BaseURL = "https://x/api?x=1" }, "query or fragment"},
		{"token with newline", func(o *Options) { o.Token = "1|abc\n" }, "token contains whitespace"},
		{"zero timeout", func(o *Options) { o.Timeout = 0 }, "Timeout 0s must be positive"},
		{"negative timeout", func(o *Options) { o.Timeout = -time.Second }, "Timeout -1s must be positive"},
		{"empty user agent", func(o *Options) { o.UserAgent = "" }, "UserAgent is empty"},
		{"user agent with newline", func(o *Options) { o.UserAgent = "a\nb" }, `UserAgent "a\nb" contains control characters`},
		{"negative retries", func(o *Options) { o.MaxRetries = -1 }, "MaxRetries -1 must not be negative"},
		{"zero min wait", func(o *Options) { o.RetryWaitMin = 0 }, "RetryWaitMin 0s must be positive"},
		{"max wait below min", func(o *Options) { o.RetryWaitMin, o.RetryWaitMax = 2*time.Second, time.Second },
			"RetryWaitMax 1s must not be below RetryWaitMin 2s"},
		{"zero rate", func(o *Options) { o.RateLimit = 0 }, "RateLimit 0 must be positive"},
		{"NaN rate", func(o *Options) { o.RateLimit = math.NaN() }, "RateLimit NaN must be positive"},
		{"zero burst", func(o *Options) { o.RateBurst = 0 }, "RateBurst 0 must be at least 1"},
		{"zero window", func(o *Options) { o.RateLimitWindow = 0 }, "RateLimitWindow 0s must be positive"},
		{"nil location", func(o *Options) { o.Location = nil }, "Location is nil"},
		{"ok", nil, ""},
		{"no limit needs no burst", func(o *Options) { o.RateLimit, o.RateBurst = -1, 0 }, ""},
		{"no retries", func(o *Options) { o.MaxRetries = 0 }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := DefaultOptions()
			opts.BaseURL, opts.Token = "https://x/status/api/", "1|abc"
			if tt.mutate != nil {
				tt.mutate(&opts)
			}
			c, err := New(opts)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.BaseURL() != "https://x/status/api" {
					t.Errorf("BaseURL = %q", c.BaseURL())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "abc") || strings.Contains(err.Error(), ":p@") {
				t.Errorf("error leaks a secret: %v", err)
			}
		})
	}

	t.Run("every bad value at once", func(t *testing.T) {
		_, err := New(Options{BaseURL: "https://x/api"})
		if err == nil {
			t.Fatal("zero Options accepted")
		}
		for _, field := range []string{"Timeout", "UserAgent", "RetryWaitMin", "RateLimit", "RateLimitWindow", "Location"} {
			if !strings.Contains(err.Error(), field) {
				t.Errorf("err does not name %s: %v", field, err)
			}
		}
	})
}

// TestDefaultOptionsAreTheFormerDefaults pins what a client built from
// DefaultOptions runs with: the values New used to fill in for zero fields.
func TestDefaultOptionsAreTheFormerDefaults(t *testing.T) {
	opts := DefaultOptions()
	opts.BaseURL = "https://x/api"
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]any{
		"timeout":     c.http.GetClient().Timeout,
		"user agent":  c.http.Header.Get("User-Agent"),
		"max retries": c.maxRetries,
		"wait min":    c.waitMin,
		"wait max":    c.waitMax,
		"rate":        c.limiter.Limit(),
		"burst":       c.limiter.Burst(),
		"window":      c.window,
		"location":    c.loc,
	}
	want := map[string]any{
		"timeout":     10 * time.Second,
		"user agent":  "statussync",
		"max retries": 3,
		"wait min":    500 * time.Millisecond,
		"wait max":    10 * time.Second,
		"rate":        rate.Limit(4),
		"burst":       5,
		"window":      time.Minute,
		"location":    time.UTC,
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
}

// TestMaxRetriesIsUsedAsGiven: 0 means one attempt (it used to mean the
// default of three retries), n means 1+n attempts.
func TestMaxRetriesIsUsedAsGiven(t *testing.T) {
	for _, retries := range []int{0, 1, DefaultMaxRetries} {
		t.Run(fmt.Sprint(retries), func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				hits.Add(1)
				w.WriteHeader(http.StatusServiceUnavailable)
			}))
			t.Cleanup(srv.Close)
			c := newClient(t, srv.URL, func(o *Options) { o.MaxRetries = retries })
			err := c.Ping(ctxT(t))
			if !IsStatus(err, http.StatusServiceUnavailable) {
				t.Fatalf("err = %v, want a 503", err)
			}
			if got := int(hits.Load()); got != retries+1 {
				t.Errorf("attempts = %d, want %d", got, retries+1)
			}
		})
	}
}

func TestPingAndVersion(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
	}{
		{"default prefix", ""},
		{"status prefix", "/status/api"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []cachettest.Option
			if tt.prefix != "" {
				opts = append(opts, cachettest.WithPrefix(tt.prefix))
			}
			srv := newFake(t, opts...)
			c := newClient(t, srv.URL())
			if err := c.Ping(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			v, err := c.Version(ctxT(t))
			if err != nil || v != cachettest.DefaultVersion {
				t.Fatalf("Version = %q, %v", v, err)
			}
			req := srv.Requests()[0]
			if got := req.Header.Get("Authorization"); got != "Bearer "+testToken {
				t.Errorf("Authorization = %q", got)
			}
			if req.Header.Get("Accept") != "application/json" || req.Header.Get("User-Agent") != DefaultUserAgent {
				t.Errorf("headers = %v", req.Header)
			}
		})
	}

	t.Run("wrong base url", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("<html>status page</html>"))
		}))
		t.Cleanup(srv.Close)
		err := newClient(t, srv.URL).Ping(ctxT(t))
		if err == nil || !strings.Contains(err.Error(), "not the cachet api") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestComponentsRoundTrip(t *testing.T) {
	srv := newFake(t)
	c := newClient(t, srv.URL())
	ctx := ctxT(t)
	group := srv.AddComponentGroup("Core", cachettest.VisibleGuest)

	created, err := c.CreateComponent(ctx, ComponentCreate{
		Name: "API", Description: "public api", Status: ComponentOperational, Link: "https://api.example.org",
		GroupID: group.ID, Meta: map[string]string{"owner": "statussync"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.ID == 0 || created.Name != "API" || created.Status != ComponentOperational || !created.Enabled {
		t.Errorf("created = %+v", created)
	}
	stored, ok := srv.Component(created.ID)
	if !ok || stored.GroupID != group.ID || stored.Link != "https://api.example.org" || stored.Meta["owner"] != "statussync" {
		t.Errorf("stored = %+v", stored)
	}

	got, err := c.GetComponent(ctx, created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Description != "public api" || got.CreatedAt.IsZero() {
		t.Errorf("got = %+v", got)
	}

	updated, err := c.UpdateComponentStatus(ctx, created.ID, ComponentMajorOutage)
	if err != nil {
		t.Fatal(err)
	}
	if updated.Status != ComponentMajorOutage || updated.LatestStatus != ComponentMajorOutage {
		t.Errorf("updated = %+v", updated)
	}
	if s, _ := srv.Component(created.ID); s.Status != int(ComponentMajorOutage) {
		t.Errorf("stored status = %d", s.Status)
	}
	writes := srv.Writes()
	if last := writes[len(writes)-1]; last.Method != http.MethodPut || string(last.Body) != `{"status":4}` {
		t.Errorf("update request %s %s", last.Method, last.Body)
	}

	renamed, err := c.UpdateComponent(ctx, created.ID, ComponentPatch{Name: new("Public API"), Enabled: new(false)})
	if err != nil {
		t.Fatal(err)
	}
	if renamed.Name != "Public API" || renamed.Enabled || renamed.Status != ComponentMajorOutage {
		t.Errorf("renamed = %+v", renamed)
	}
}

func TestListComponents(t *testing.T) {
	srv := newFake(t)
	group := srv.AddComponentGroup("Core", cachettest.VisibleAuthenticated)
	const n = 250
	for i := range n {
		srv.AddComponent(fmt.Sprintf("svc-%03d", i), 1+i%4)
	}
	srv.PutComponent(cachettest.Component{Name: "grouped", Status: 1, Enabled: true, GroupID: group.ID, Meta: map[string]any{"owner": "statussync"}})
	srv.PutComponent(cachettest.Component{Name: "disabled", Status: 1, Enabled: false})
	c := newClient(t, srv.URL())
	if _, err := c.DetectCapabilities(ctxT(t)); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		filter    ComponentFilter
		want      int
		wantPages int
		check     func(t *testing.T, got []Component)
	}{
		{name: "every page", filter: ComponentFilter{}, want: n + 1, wantPages: 3, check: func(t *testing.T, got []Component) {
			seen := map[int]bool{}
			for _, comp := range got {
				if seen[comp.ID] {
					t.Fatalf("component %d listed twice", comp.ID)
				}
				seen[comp.ID] = true
			}
		}},
		{name: "status filter", filter: ComponentFilter{Statuses: []ComponentStatus{ComponentMajorOutage}}, want: n / 4, wantPages: 1,
			check: func(t *testing.T, got []Component) {
				for _, comp := range got {
					if comp.Status != ComponentMajorOutage {
						t.Fatalf("status %v", comp.Status)
					}
				}
			}},
		{name: "meta and group", filter: ComponentFilter{Meta: map[string]string{"owner": "statussync"}, IncludeGroup: true}, want: 1, wantPages: 1,
			check: func(t *testing.T, got []Component) {
				if got[0].GroupID != group.ID || got[0].Meta["owner"] != "statussync" {
					t.Errorf("got %+v", got[0])
				}
			}},
		{name: "disabled", filter: ComponentFilter{Enabled: new(false)}, want: 1, wantPages: 1},
		{name: "name", filter: ComponentFilter{Name: "svc-24"}, want: 10, wantPages: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetRequests()
			got, err := c.ListComponents(ctxT(t), tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Errorf("len = %d, want %d", len(got), tt.want)
			}
			reqs := srv.Requests()
			if len(reqs) != tt.wantPages {
				t.Errorf("requests = %d, want %d", len(reqs), tt.wantPages)
			}
			for i, r := range reqs {
				if r.Query.Get("page") != fmt.Sprint(i+1) || r.Query.Get("per_page") != "100" {
					t.Errorf("request %d query %v", i, r.Query)
				}
			}
			if tt.check != nil && len(got) > 0 {
				tt.check(t, got)
			}
		})
	}
}

func TestComponentGroups(t *testing.T) {
	srv := newFake(t)
	c := newClient(t, srv.URL())
	ctx := ctxT(t)
	a := srv.AddComponent("A", 1)

	public, err := c.CreateComponentGroup(ctx, ComponentGroupCreate{Name: "Public", Visible: VisibilityGuest, ComponentIDs: []int{a.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if public.Visible != VisibilityGuest || !slices.Equal(public.ComponentIDs, []int{a.ID}) {
		t.Errorf("public = %+v", public)
	}
	private, err := c.CreateComponentGroup(ctx, ComponentGroupCreate{Name: "Private"})
	if err != nil {
		t.Fatal(err)
	}
	if private.Visible != VisibilityAuthenticated {
		t.Errorf("private = %+v", private)
	}
	writes := srv.Writes()
	if !strings.Contains(string(writes[1].Body), `"visible":0`) {
		t.Errorf("visibility not sent explicitly: %s", writes[1].Body)
	}
	if c, _ := srv.Component(a.ID); c.GroupID != public.ID {
		t.Errorf("component not moved into the group: %+v", c)
	}

	groups, err := c.ListComponentGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 2 || !slices.Equal(groups[0].ComponentIDs, []int{a.ID}) {
		t.Errorf("groups = %+v", groups)
	}

	// A guest only sees the public group.
	guest := newClient(t, srv.URL(), func(o *Options) { o.Token = "" })
	groups, err = guest.ListComponentGroups(ctx)
	if err != nil || len(groups) != 1 {
		t.Errorf("guest groups = %+v, %v", groups, err)
	}
}

func TestIncidentsRoundTrip(t *testing.T) {
	srv := newFake(t)
	c := newClient(t, srv.URL())
	ctx := ctxT(t)
	api := srv.AddComponent("API", int(ComponentOperational))
	occurred := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)

	in, err := c.CreateIncident(ctx, IncidentCreate{
		Name: "API outage", Message: "We are investigating.", Status: IncidentInvestigating, Visible: VisibilityGuest,
		OccurredAt: occurred, Components: []AffectedComponent{{ID: api.ID, Status: ComponentMajorOutage}},
		Meta: map[string]string{"statussync_monitor": "api"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if in.ID == 0 || in.GUID == "" || in.Status != IncidentInvestigating || in.Visible != VisibilityGuest || !in.OccurredAt.Equal(occurred) {
		t.Errorf("created = %+v", in)
	}
	stored, _ := srv.Incident(in.ID)
	if stored.OccurredAt == nil || !stored.OccurredAt.Equal(occurred) || stored.Meta["statussync_monitor"] != "api" ||
		!slices.Equal(stored.Components, []cachettest.Impact{{ComponentID: api.ID, Status: 4}}) {
		t.Errorf("stored = %+v", stored)
	}
	// Cachet never changes the baseline for an incident; the page shows
	// the impact through latest_status.
	comp, err := c.GetComponent(ctx, api.ID)
	if err != nil {
		t.Fatal(err)
	}
	if comp.Status != ComponentOperational || comp.LatestStatus != ComponentMajorOutage {
		t.Errorf("component = %+v", comp)
	}

	got, err := c.GetIncident(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Components, []AffectedComponent{{ID: api.ID, Status: ComponentMajorOutage}}) || got.Meta["statussync_monitor"] != "api" {
		t.Errorf("got = %+v", got)
	}

	patched, err := c.UpdateIncident(ctx, in.ID, IncidentPatch{Message: new("Still investigating."), Stickied: new(true)})
	if err != nil {
		t.Fatal(err)
	}
	if patched.Message != "Still investigating." || !patched.Stickied || patched.Status != IncidentInvestigating {
		t.Errorf("patched = %+v", patched)
	}

	if _, err := c.CreateIncidentUpdate(ctx, in.ID, IncidentIdentified, "Found it."); err != nil {
		t.Fatal(err)
	}
	u, err := c.CreateIncidentUpdate(ctx, in.ID, IncidentFixed, "Resolved.")
	if err != nil {
		t.Fatal(err)
	}
	if u.IncidentID != in.ID || u.Status != IncidentFixed || u.Message != "Resolved." {
		t.Errorf("update = %+v", u)
	}
	updates, err := c.ListIncidentUpdates(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(updates) != 2 || updates[0].Status != IncidentIdentified || updates[1].Status != IncidentFixed {
		t.Errorf("updates = %+v", updates)
	}
	// The incident follows its newest update, and the impact is gone.
	if s, _ := srv.Incident(in.ID); s.Status != int(IncidentFixed) {
		t.Errorf("incident status = %d", s.Status)
	}
	if st := srv.EffectiveStatus(api.ID); st != int(ComponentOperational) {
		t.Errorf("effective status = %d", st)
	}
}

func TestListIncidents(t *testing.T) {
	srv := newFake(t)
	api := srv.AddComponent("API", 1)
	web := srv.AddComponent("Web", 1)
	// 230 incidents over three pages: a mix of components, statuses and
	// owners, so that every filter has something to remove.
	var wantAPIOpen, wantOwnedOpen []int
	for i := range 230 {
		status := i % 5
		compID := api.ID
		if i%3 == 0 {
			compID = web.ID
		}
		meta := map[string]any{}
		if i%7 == 0 {
			meta["statussync_monitor"] = "api-check"
		}
		in := srv.AddIncident(cachettest.Incident{Name: fmt.Sprintf("incident %d", i), Message: "m", Status: status,
			Visible: 1, Components: []cachettest.Impact{{ComponentID: compID, Status: 3}}, Meta: meta})
		if status != 4 && compID == api.ID {
			wantAPIOpen = append(wantAPIOpen, in.ID)
		}
		if status != 4 && i%7 == 0 {
			wantOwnedOpen = append(wantOwnedOpen, in.ID)
		}
	}
	c := newClient(t, srv.URL())
	if _, err := c.DetectCapabilities(ctxT(t)); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		filter IncidentFilter
		want   []int
	}{
		{"unresolved for one component", IncidentFilter{Statuses: UnresolvedIncidentStatuses(), ComponentID: api.ID}, wantAPIOpen},
		{"unresolved with meta", IncidentFilter{Statuses: UnresolvedIncidentStatuses(), Meta: map[string]string{"statussync_monitor": "api-check"}}, wantOwnedOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetRequests()
			got, err := c.ListIncidents(ctxT(t), tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int
			for _, in := range got {
				ids = append(ids, in.ID)
				if in.Status.Resolved() {
					t.Errorf("incident %d is resolved", in.ID)
				}
			}
			slices.Sort(ids)
			if !slices.Equal(ids, tt.want) {
				t.Errorf("ids = %v\nwant %v", ids, tt.want)
			}
			for _, r := range srv.Requests() {
				if r.Query.Get("filter[status]") != "0,1,2,3" || !strings.Contains(r.Query.Get("include"), "components") {
					t.Errorf("query = %v", r.Query)
				}
			}
		})
	}
}

func TestMetricsRoundTrip(t *testing.T) {
	srv := newFake(t)
	c := newClient(t, srv.URL())
	ctx := ctxT(t)

	m, err := c.CreateMetric(ctx, MetricCreate{Name: "API latency", Suffix: "ms", CalcType: MetricAverage, DefaultValue: new(0.0), Threshold: 1, Places: new(0)})
	if err != nil {
		t.Fatal(err)
	}
	if m.ID == 0 || m.Threshold != 1 || m.CalcType != MetricAverage {
		t.Errorf("metric = %+v", m)
	}
	listed, err := c.ListMetrics(ctx)
	if err != nil || len(listed) != 1 || listed[0].Threshold != 1 || listed[0].Visible != VisibilityGuest || !listed[0].DisplayChart {
		t.Fatalf("listed = %+v, %v", listed, err)
	}

	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	p1, err := c.PostMetricPoint(ctx, m.ID, 120, at)
	if err != nil {
		t.Fatal(err)
	}
	// Same minute: Cachet merges into the newest point and ignores the value.
	p2, err := c.PostMetricPoint(ctx, m.ID, 80, at.Add(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	p3, err := c.PostMetricPoint(ctx, m.ID, 90, at.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if p2.ID != p1.ID || p2.Counter != 2 || p2.Value != 120 || p2.CalculatedValue != 240 {
		t.Errorf("merged point = %+v", p2)
	}
	if p3.ID == p1.ID || p3.Counter != 1 || p3.Value != 90 || !p3.CreatedAt.Equal(at.Add(time.Minute)) {
		t.Errorf("new point = %+v", p3)
	}
	points, err := c.ListMetricPoints(ctx, m.ID)
	if err != nil || len(points) != 2 || points[0].MetricID != m.ID {
		t.Fatalf("points = %+v, %v", points, err)
	}
	if got := string(srv.Writes()[1].Body); got != fmt.Sprintf(`{"value":120,"timestamp":%d}`, at.Unix()) {
		t.Errorf("point body = %s", got)
	}
}

func TestListSchedules(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	srv := newFake(t)
	a := srv.AddComponent("A", 1)
	b := srv.AddComponent("B", 1)
	end := now.Add(time.Hour)
	running := srv.AddSchedule(cachettest.Schedule{Name: "DB upgrade", Message: "m", ScheduledAt: now.Add(-time.Hour), CompletedAt: &end,
		Components: []cachettest.Impact{{ComponentID: a.ID}, {ComponentID: b.ID, Status: int(ComponentPerformanceIssues)}}})
	srv.AddSchedule(cachettest.Schedule{Name: "Later", Message: "m", ScheduledAt: now.Add(48 * time.Hour)})
	c := newClient(t, srv.URL())

	all, err := c.ListSchedules(ctxT(t), ScheduleFilter{})
	if err != nil || len(all) != 2 {
		t.Fatalf("all = %+v, %v", all, err)
	}
	active, err := c.ListSchedules(ctxT(t), ScheduleFilter{Statuses: []ScheduleStatus{ScheduleInProgress}})
	if err != nil {
		t.Fatal(err)
	}
	if len(active) != 1 || active[0].ID != running.ID || !active[0].InProgress() || !active[0].CompletedAt.Equal(end) || !active[0].ScheduledAt.Equal(now.Add(-time.Hour)) {
		t.Fatalf("active = %+v", active)
	}
	want := []AffectedComponent{{ID: a.ID, Status: ComponentUnderMaintenance}, {ID: b.ID, Status: ComponentPerformanceIssues}}
	if !slices.Equal(active[0].Components, want) {
		t.Errorf("components = %+v, want %+v", active[0].Components, want)
	}
}

func TestLegacyShapesRoundTrip(t *testing.T) {
	srv := newFake(t, cachettest.WithLegacyShapes())
	api := srv.AddComponent("API", int(ComponentPartialOutage))
	srv.AddIncident(cachettest.Incident{Name: "old", Message: "m", Status: 2, Visible: 1,
		Components: []cachettest.Impact{{ComponentID: api.ID, Status: 4}}})
	c := newClient(t, srv.URL())

	comps, err := c.ListComponents(ctxT(t), ComponentFilter{})
	if err != nil || len(comps) != 1 || comps[0].ID != api.ID || comps[0].Status != ComponentPartialOutage || comps[0].CreatedAt.IsZero() {
		t.Fatalf("components = %+v, %v", comps, err)
	}
	incs, err := c.ListIncidents(ctxT(t), IncidentFilter{Statuses: UnresolvedIncidentStatuses(), ComponentID: api.ID})
	if err != nil || len(incs) != 1 || incs[0].Status != IncidentIdentified ||
		!slices.Equal(incs[0].Components, []AffectedComponent{{ID: api.ID, Status: ComponentMajorOutage}}) {
		t.Fatalf("incidents = %+v, %v", incs, err)
	}
}

func TestTimeZone(t *testing.T) {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Skipf("no tz database: %v", err)
	}
	created := time.Date(2026, 6, 1, 1, 2, 3, 0, time.UTC)
	srv := newFake(t, cachettest.WithLocation(tokyo))
	comp := srv.PutComponent(cachettest.Component{Name: "A", Status: 1, Enabled: true, CreatedAt: created})

	tests := []struct {
		name string
		loc  *time.Location
		want time.Time
	}{
		{"configured app zone", tokyo, created},
		// Without the zone, the wall clock is read as UTC: nine hours off.
		{"default utc", DefaultOptions().Location, created.Add(9 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, srv.URL(), func(o *Options) { o.Location = tt.loc })
			got, err := c.GetComponent(ctxT(t), comp.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !got.CreatedAt.Equal(tt.want) {
				t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, tt.want)
			}
		})
	}
}
