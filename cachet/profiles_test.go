package cachet

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/statussync/statussync/cachet/cachettest"
)

// TestEveryProfileOpensFindsAndResolvesAnIncident is the client's side of
// issue #14: on every core era the calls statussync makes in a pass
// succeed. Before capability detection, the first listing (include=meta)
// was a 400 on every core older than 2026-07-13, and nothing was written.
func TestEveryProfileOpensFindsAndResolvesAnIncident(t *testing.T) {
	for _, p := range cachettest.Profiles() {
		t.Run(p.String(), func(t *testing.T) {
			// Cachet runs in a zone that is not UTC: an outage that began at
			// 10:00 UTC must still read 10:00 UTC on every era.
			loc := time.FixedZone("IST", 5*3600+1800)
			srv := cachettest.New(t, cachettest.WithProfile(p), cachettest.WithToken("1|tok", "*"), cachettest.WithLocation(loc))
			comp := srv.AddComponent("API", cachettest.StatusOperational)
			other := srv.AddComponent("Web", cachettest.StatusOperational)
			reg := prometheus.NewRegistry()
			opts := DefaultOptions()
			opts.BaseURL, opts.Token, opts.Registerer, opts.RateLimit, opts.Location = srv.URL(), "1|tok", reg, -1, loc
			c, err := New(opts)
			if err != nil {
				t.Fatal(err)
			}
			ctx := ctxT(t)

			// The read every pass starts with.
			if _, err := c.ListIncidents(ctx, IncidentFilter{Statuses: UnresolvedIncidentStatuses(), IncludeMeta: true}); err != nil {
				t.Fatalf("list unresolved incidents: %v", err)
			}
			caps := c.KnownCapabilities()
			wantMeta := p == cachettest.ProfileCurrent
			if caps.Meta != wantMeta || caps.IncidentComponents != (p != cachettest.ProfileLocked) ||
				caps.ScheduleStatusFilter != (p != cachettest.Profile2024Nov) || !caps.Detected {
				t.Errorf("capabilities = %+v", caps)
			}
			if got := testutil.ToFloat64(c.caps.gauge.WithLabelValues("meta")); (got == 1) != wantMeta {
				t.Errorf("statussync_cachet_capability{name=meta} = %v", got)
			}

			if _, err := c.UpdateComponentStatus(ctx, comp.ID, ComponentMajorOutage); err != nil {
				t.Fatalf("write status: %v", err)
			}
			at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
			created, err := c.CreateIncident(ctx, IncidentCreate{Name: "API down", Message: "m", Status: IncidentInvestigating,
				Visible: VisibilityGuest, OccurredAt: at,
				Components: []AffectedComponent{{ID: comp.ID, Status: ComponentMajorOutage}},
				Meta:       map[string]string{"statussync_component": MetaValue("API")}})
			if err != nil {
				t.Fatalf("create incident: %v", err)
			}
			if !created.Verified || !created.Affects(comp.ID) || (created.Meta != nil) != wantMeta {
				t.Errorf("created = %+v", created)
			}
			stored, _ := srv.Incident(created.ID)
			if !stored.Affects(comp.ID) || stored.Affects(other.ID) {
				t.Errorf("stored incident not attached to exactly the component: %+v", stored)
			}
			if got := stored.OccurredAt.UTC(); !got.Equal(at) {
				t.Errorf("occurred_at stored as %v, want %v", got, at)
			}
			if got, err := c.GetIncident(ctx, created.ID); err != nil || !got.OccurredAt.Equal(at) {
				t.Errorf("occurred_at read back as %v (%v), want %v", got.OccurredAt, err, at)
			}

			open, err := c.ListIncidents(ctx, IncidentFilter{Statuses: UnresolvedIncidentStatuses(), ComponentID: comp.ID, IncludeMeta: true})
			if err != nil || len(open) != 1 || open[0].ID != created.ID {
				t.Fatalf("open incidents for the component = %+v, %v", open, err)
			}
			_, err = c.ListIncidents(ctx, IncidentFilter{Meta: map[string]string{"statussync_component": MetaValue("API")}})
			if wantMeta != (err == nil) || !wantMeta && !errors.Is(err, ErrUnsupported) {
				t.Errorf("meta filter: err = %v", err)
			}

			if _, err := c.CreateIncidentUpdate(ctx, created.ID, IncidentFixed, "resolved"); err != nil {
				t.Fatal(err)
			}
			open, err = c.ListIncidents(ctx, IncidentFilter{Statuses: UnresolvedIncidentStatuses(), ComponentID: comp.ID})
			if err != nil || len(open) != 0 {
				t.Errorf("open incidents after resolving = %+v, %v", open, err)
			}

			// Maintenance is readable on every era.
			end := time.Now().Add(time.Hour)
			running := 1
			srv.AddSchedule(cachettest.Schedule{Name: "m", ScheduledAt: time.Now().Add(-time.Hour), CompletedAt: &end,
				Components: []cachettest.Impact{{ComponentID: other.ID}}, Status: &running})
			future := time.Now().Add(24 * time.Hour)
			srv.AddSchedule(cachettest.Schedule{Name: "unpublished", ScheduledAt: time.Now().Add(-time.Hour), CompletedAt: &end,
				PublishedAt: &future, Components: []cachettest.Impact{{ComponentID: comp.ID}}, Status: &running})
			scheds, err := c.ListSchedules(ctx, ScheduleFilter{Statuses: []ScheduleStatus{ScheduleInProgress}})
			if err != nil {
				t.Fatalf("list schedules: %v", err)
			}
			var under []int
			for _, s := range scheds {
				for _, a := range s.Components {
					under = append(under, a.ID)
					if a.Status != ComponentUnderMaintenance {
						t.Errorf("schedule component status = %v", a.Status)
					}
				}
			}
			want := []int{other.ID}
			if p != cachettest.ProfileCurrent {
				want = []int{other.ID, comp.ID} // no published_at before 2026-07-24
			}
			if len(under) != len(want) {
				t.Errorf("components under maintenance = %v, want %v", under, want)
			}
		})
	}
}

// TestStartupUnderSixtyPerMinuteLimitMakesNo429 is issue #14's pacing
// acceptance at a twentieth of the time scale: Cachet's app shell limits
// the API to 60 requests a minute, and a start-up that lists and then
// writes 100 components must reach the desired state without one 429.
// The window is two seconds instead of a minute, and the client's own
// rate (4 a second by default) is scaled by the same factor of 30.
func TestStartupUnderSixtyPerMinuteLimitMakesNo429(t *testing.T) {
	const window, scale = 2 * time.Second, 30
	srv := cachettest.New(t, cachettest.WithToken("1|tok", "*"), cachettest.WithRateLimit(60), cachettest.WithRateLimitWindow(window))
	var ids []int
	for i := range 100 {
		ids = append(ids, srv.AddComponent(fmt.Sprintf("svc-%03d", i), cachettest.StatusOperational).ID)
	}
	opts := DefaultOptions()
	opts.BaseURL, opts.Token = srv.URL(), "1|tok"
	opts.RateLimit, opts.RateLimitWindow = DefaultRateLimit*scale, window
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	if _, err := c.ListComponents(ctx, ComponentFilter{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListIncidents(ctx, IncidentFilter{Statuses: UnresolvedIncidentStatuses(), IncludeMeta: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListSchedules(ctx, ScheduleFilter{Statuses: []ScheduleStatus{ScheduleInProgress}}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() {
			if _, err := c.UpdateComponentStatus(ctx, id, ComponentMajorOutage); err != nil {
				t.Errorf("component %d: %v", id, err)
			}
		})
	}
	wg.Wait()
	for _, comp := range srv.Components() {
		if comp.Status != cachettest.StatusMajorOutage {
			t.Errorf("component %d status %d, want the desired 4", comp.ID, comp.Status)
		}
	}
	throttled := 0
	for _, r := range srv.Requests() {
		if r.StatusCode == http.StatusTooManyRequests {
			throttled++
		}
	}
	if throttled != 0 {
		t.Errorf("%d requests answered 429 out of %d", throttled, len(srv.Requests()))
	}
}
