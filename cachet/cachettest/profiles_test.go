package cachettest

// These tests pin each Profile to the answers real cores gave
// (/work/shared/realcachet/observed-locked.md for a34c0607,
// observed-modern.md for bb03e8a7) and to the cachethq/core history
// (reference §9.1). Quoted messages are copied from those records.

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestProfileLockedMatchesObservedCore(t *testing.T) {
	s := New(t, WithProfile(ProfileLocked))
	base := s.URL()

	// Observed #4: no token, still created; status null.
	r := send(t, "POST", base+"/components", "", map[string]any{"name": "NoAuth component"}).expect(t, http.StatusCreated)
	if st := r.get(t, "data.attributes.status"); st != nil {
		t.Errorf("status of a component created without one = %v, want null", st)
	}
	// Observed #9: PUT status on it is a 500.
	r = send(t, "PUT", base+"/components/1", "", map[string]any{"status": 2}).expect(t, http.StatusInternalServerError)
	if msg := r.get(t, "message"); msg != "Server Error" {
		t.Errorf("message = %v", msg)
	}
	// Observed #5: a bare integer status.
	r = send(t, "POST", base+"/components", "whatever-token", map[string]any{"name": "API", "status": 1}).expect(t, http.StatusCreated)
	if st := r.get(t, "data.attributes.status"); st != float64(1) {
		t.Errorf("status = %v, want bare 1", st)
	}
	// Observed #15: only include=updates.
	r = send(t, "GET", base+"/incidents?include=components", "", nil).expect(t, http.StatusBadRequest)
	if want := "Requested include(s) `components` are not allowed. Allowed include(s) are `updates, updatesCount, updatesExists`."; r.get(t, "message") != want {
		t.Errorf("message = %v, want %q", r.get(t, "message"), want)
	}
	// Observed #11/#12: component_id is stored on the incident, a
	// components array is ignored; neither touches the component.
	r = send(t, "POST", base+"/incidents", "", map[string]any{"name": "Database outage", "message": "m", "status": 1,
		"component_id": 2, "component_status": 4, "components": []any{map[string]any{"id": 2, "status": 4}}}).expect(t, http.StatusCreated)
	if id := r.get(t, "data.attributes.component_id"); id != float64(2) {
		t.Errorf("component_id = %v, want 2", id)
	}
	in, _ := s.Incident(1)
	if len(in.Components) != 0 || !in.Affects(2) {
		t.Errorf("stored incident = %+v, want only component_id 2", in)
	}
	if c, _ := s.Component(2); c.Status != StatusOperational {
		t.Errorf("component status = %d, an incident changed it", c.Status)
	}
	// Unbounded per_page.
	for range 120 {
		s.AddComponent("c", StatusOperational)
	}
	r = send(t, "GET", base+"/components?per_page=500", "", nil).expect(t, http.StatusOK)
	if n := len(r.get(t, "data").([]any)); n != 122 {
		t.Errorf("per_page=500 listed %d, want all 122", n)
	}
	// Schedules: the stored status column, no completed attribute.
	end := time.Now().Add(time.Hour)
	s.AddSchedule(Schedule{Name: "Running", ScheduledAt: time.Now().Add(-time.Hour), CompletedAt: &end, Components: []Impact{{ComponentID: 2}}})
	r = send(t, "GET", base+"/schedules?filter[status]=1", "", nil).expect(t, http.StatusOK)
	if n := len(r.get(t, "data").([]any)); n != 0 {
		t.Errorf("filter[status]=1 listed %d, want 0 (observed #18: the column still says upcoming)", n)
	}
	r = send(t, "GET", base+"/schedules?include=components", "", nil).expect(t, http.StatusOK)
	if _, ok := r.get(t, "data.0.attributes.completed").(missing); !ok {
		t.Errorf("completed attribute present on the 2024-10 core")
	}
	if _, ok := r.get(t, "included.0.attributes.pivot").(missing); !ok {
		t.Errorf("pivot present on a schedule component")
	}
}

func TestProfilePreMetaMatchesObservedCore(t *testing.T) {
	for _, p := range []Profile{ProfilePreMeta, Profile2024Nov} {
		t.Run(p.String(), func(t *testing.T) {
			s := New(t, WithProfile(p), WithToken(adminToken, "*"))
			base := s.URL()
			comp := s.AddComponent("API", StatusOperational)

			r := send(t, "GET", base+"/incidents?include=meta", adminToken, nil).expect(t, http.StatusBadRequest)
			if want := "Requested include(s) `meta` are not allowed. Allowed include(s) are `components, componentsCount, componentsExists, updates, updatesCount, updatesExists, user, userCount, userExists`."; r.get(t, "message") != want {
				t.Errorf("message = %v", r.get(t, "message"))
			}
			r = send(t, "GET", base+"/incidents?filter[meta][k]=v", adminToken, nil).expect(t, http.StatusBadRequest)
			if want := "Requested filter(s) `meta` are not allowed. Allowed filter(s) are `name, status, occurred_at`."; r.get(t, "message") != want {
				t.Errorf("message = %v", r.get(t, "message"))
			}
			// Observed #12: the components array is ignored; component_id
			// works; meta is dropped.
			send(t, "POST", base+"/incidents", adminToken, map[string]any{"name": "API latency", "message": "m", "status": 2, "visible": true,
				"components": []any{map[string]any{"id": comp.ID, "status": 3}}, "meta": map[string]any{"k": "v"}}).expect(t, http.StatusCreated)
			send(t, "POST", base+"/incidents", adminToken, map[string]any{"name": "DB", "message": "m", "status": 1,
				"component_id": comp.ID, "component_status": 4, "occurred_at": "2026-01-01T10:00:00+02:00"}).expect(t, http.StatusCreated)
			r = send(t, "GET", base+"/incidents?include=components", adminToken, nil).expect(t, http.StatusOK)
			for i := range 2 {
				if rel := r.get(t, "data."+string(rune('0'+i))+".relationships.components.data").([]any); len(rel) != 0 {
					t.Errorf("incident %d has components %v, observed #15 shows none", i, rel)
				}
			}
			a, _ := s.Incident(1)
			b, _ := s.Incident(2)
			if a.Affects(comp.ID) || a.Meta != nil || !b.Affects(comp.ID) {
				t.Errorf("stored incidents %+v / %+v", a, b)
			}
			// Naive dates: the wall clock is kept whatever the offset.
			if got := b.OccurredAt.UTC().Format(time.DateTime); got != "2026-01-01 10:00:00" {
				t.Errorf("occurred_at stored %s, want the wall clock 10:00 (dates not converted before 27d3490e)", got)
			}
			// Updates do not sync the status column: the filter still finds
			// the resolved incident, which renders as fixed.
			send(t, "POST", base+"/incidents/2/updates", adminToken, map[string]any{"status": 4, "message": "ok"}).expect(t, http.StatusCreated)
			r = send(t, "GET", base+"/incidents?filter[status]=1", adminToken, nil).expect(t, http.StatusOK)
			if n := len(r.get(t, "data").([]any)); n != 1 || r.get(t, "data.0.attributes.status.value") != float64(4) {
				t.Errorf("filter[status]=1 after a fixed update: %s", r.raw)
			}
			// No forced JSON: a guest write is a 500, a validation error a 302.
			req, _ := http.NewRequest("POST", base+"/components", strings.NewReader(`{}`))
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusInternalServerError {
				t.Errorf("guest write without Accept = %d, want 500", res.StatusCode)
			}
			req, _ = http.NewRequest("POST", base+"/components", strings.NewReader(`{}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+adminToken)
			noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			res, err = noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusFound {
				t.Errorf("invalid write without Accept = %d, want 302", res.StatusCode)
			}

			r = send(t, "GET", base+"/schedules?filter[status]=1", adminToken, nil)
			if p == Profile2024Nov {
				r.expect(t, http.StatusInternalServerError)
			} else {
				r.expect(t, http.StatusOK)
			}
		})
	}
}

func TestMetaFilterValueWithCommaIsIgnored(t *testing.T) {
	s := New(t, WithToken(adminToken, "*"))
	s.AddIncident(Incident{Name: "a", Message: "m", Visible: VisibleGuest, Meta: map[string]any{"k": "x,y"}})
	s.AddIncident(Incident{Name: "b", Message: "m", Visible: VisibleGuest, Meta: map[string]any{"k": "z"}})
	r := send(t, "GET", s.URL()+"/incidents?filter[meta][k]=x,y", adminToken, nil).expect(t, http.StatusOK)
	if n := len(r.get(t, "data").([]any)); n != 2 {
		t.Errorf("a comma in a meta filter value listed %d incidents, want every one (2): spatie splits it and the pair is dropped", n)
	}
	r = send(t, "GET", s.URL()+"/incidents?filter[meta][k]=z", adminToken, nil).expect(t, http.StatusOK)
	if n := len(r.get(t, "data").([]any)); n != 1 {
		t.Errorf("filter[meta][k]=z listed %d, want 1", n)
	}
}

func TestMetaFilterMatchesStringAndTypedForms(t *testing.T) {
	s := New(t, WithToken(adminToken, "*"))
	s.AddIncident(Incident{Name: "string", Message: "m", Visible: VisibleGuest, Meta: map[string]any{"k": "3"}})
	s.AddIncident(Incident{Name: "number", Message: "m", Visible: VisibleGuest, Meta: map[string]any{"k": int64(3)}})
	s.AddIncident(Incident{Name: "other", Message: "m", Visible: VisibleGuest, Meta: map[string]any{"k": "4"}})
	r := send(t, "GET", s.URL()+"/incidents?filter[meta][k]=3", adminToken, nil).expect(t, http.StatusOK)
	if n := len(r.get(t, "data").([]any)); n != 2 {
		t.Errorf("filter[meta][k]=3 listed %d, want the string and the number (2)", n)
	}
}
