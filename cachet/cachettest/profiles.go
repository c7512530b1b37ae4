package cachettest

import (
	"fmt"
	"strings"
)

// Profile selects which Cachet 3.x core build the fake behaves like. Real
// installations run whatever core their image was built from, and
// /version says "3.x-dev" on all of them, so clients must cope with every
// era. The eras follow reference §9.1, the cachethq/core history, and the
// requests and answers recorded against real builds in
// /work/shared/realcachet/observed-*.md.
type Profile int

// The profiles, oldest first. The zero value is ProfileCurrent.
const (
	// ProfileCurrent is core main at 9183688b (2026-08-22): Sanctum
	// abilities, incident/schedule meta, latest_status, published_at,
	// hidden-group 404s, incoming dates converted to the app time zone.
	ProfileCurrent Profile = iota
	// ProfilePreMeta is a core from before a9efba4b (2026-07-13), modelled
	// on bb03e8a7 (2025-08-15), the newest core that runs on PHP 8.2:
	// no meta on incidents or schedules (include=meta and filter[meta] are
	// 400s, a meta body field is dropped), incident components only from
	// component_id + component_status (a components array is ignored and
	// the pivot stays empty; the incident shows component_id), an incident's
	// status column is not synced by updates (the rendered status is the
	// newest update's), no latest_status, no published_at, no pivot on
	// embedded components, naive dates taken as app-zone wall clock, and
	// the app shell's "api" middleware (no forced JSON: without
	// "Accept: application/json" a 401 becomes a 500 and a 422 a 302).
	ProfilePreMeta
	// Profile2024Nov is a core between 53964c53 (2024-11-24) and 858e6a0c
	// (2025-02-24), modelled on its last weeks: as ProfilePreMeta, and the
	// schedules' status column is gone while filter[status] on /schedules
	// still filters on it, so that listing is a 500 (an SQL error; Laravel
	// answers {"message":"Server Error"} in production).
	Profile2024Nov
	// ProfileLocked is a34c0607 (2024-10-09), the core the cachethq/cachet
	// 3.x app shell's composer.lock pins: as ProfilePreMeta, and no auth at
	// all on the API (any or no token writes), component status a bare
	// integer (null when created without one, and then a PUT is a 500),
	// incidents allow only include=updates, per_page is unbounded,
	// schedules have a stored status column (0 unless a person set it)
	// and no completed attribute.
	ProfileLocked
)

// Profiles lists every profile, for tests that run against each.
func Profiles() []Profile {
	return []Profile{ProfileCurrent, ProfilePreMeta, Profile2024Nov, ProfileLocked}
}

// String names the profile, for subtest names.
func (p Profile) String() string {
	switch p {
	case ProfileCurrent:
		return "current"
	case ProfilePreMeta:
		return "pre-meta-2025-08"
	case Profile2024Nov:
		return "2024-11-to-2025-02"
	case ProfileLocked:
		return "locked-2024-10"
	}
	return fmt.Sprintf("profile(%d)", int(p))
}

// WithProfile makes the fake behave like the core build of profile p.
func WithProfile(p Profile) Option { return func(c *Config) { c.Profile = p } }

// scheduleStatus says how an era answers filter[status] on /schedules and
// what the status attribute holds.
type scheduleStatus int

const (
	scheduleStatusComputed scheduleStatus = iota // computed from the dates
	scheduleStatusColumn                         // a stored column a person sets
	scheduleStatusSQLError                       // column dropped, filter is a 500
)

// features are the behaviours that differ between profiles.
type features struct {
	auth             bool // Sanctum on writes (else anyone writes)
	forceJSON        bool // ForceJsonResponse middleware
	meta             bool // incident/schedule/component meta: include, filter, bodies
	latestStatus     bool // component latest_status and incident impacts
	componentsArray  bool // incident create stores a components array
	syncStatus       bool // updates re-sync the incident's status column
	published        bool // published_at on incidents and schedules
	groupVisibility  bool // grouped components inherit group visibility (404)
	enabledDefault   bool // components list defaults to filter[enabled]=true
	pivot            bool // embedded components carry pivot.component_status
	bareStatus       bool // component status a bare integer
	convertDates     bool // offsets in incoming dates honoured
	perPageUnbounded bool
	completedAttr    bool // schedules render "completed"
	scheduleStatus   scheduleStatus

	componentQuery allowed
	incidentQuery  allowed
	scheduleQuery  allowed
	groupQuery     allowed
}

func (p Profile) features() features {
	f := features{
		auth: true, forceJSON: true, meta: true, latestStatus: true, componentsArray: true,
		syncStatus: true, published: true, groupVisibility: true, enabledDefault: true,
		pivot: true, convertDates: true, completedAttr: true,
		componentQuery: componentQuery,
		incidentQuery:  incidentQuery,
		scheduleQuery:  scheduleQuery,
		groupQuery:     groupQuery,
	}
	if p == ProfileCurrent {
		return f
	}
	// Before a9efba4b, and what bb03e8a7 (2025-08-15) serves.
	f.forceJSON, f.meta, f.latestStatus, f.componentsArray = false, false, false, false
	f.syncStatus, f.published, f.groupVisibility, f.enabledDefault = false, false, false, false
	f.pivot, f.convertDates = false, false
	f.componentQuery = allowed{
		filters:  []string{"name", "status", "enabled"},
		sorts:    []string{"name", "order", "id"},
		includes: []string{"group", "incidents"},
	}
	f.incidentQuery = allowed{
		filters:  []string{"name", "status", "occurred_at"},
		sorts:    []string{"name", "status", "id"},
		includes: []string{"components", "updates", "user"},
	}
	f.scheduleQuery = allowed{
		filters:  []string{"name", "status"},
		sorts:    []string{"name", "id", "scheduled_at", "completed_at"},
		includes: []string{"components", "updates", "user"},
	}
	f.groupQuery = allowed{
		sorts:    []string{"name", "id"},
		includes: []string{"components"},
	}
	switch p {
	case Profile2024Nov:
		f.scheduleStatus = scheduleStatusSQLError
	case ProfileLocked:
		f.auth, f.bareStatus, f.perPageUnbounded, f.completedAttr = false, true, true, false
		f.scheduleStatus = scheduleStatusColumn
		f.incidentQuery.includes = []string{"updates"}
		f.scheduleQuery = allowed{
			filters:  []string{"name", "status"},
			sorts:    []string{"name", "status", "id", "scheduled_at", "completed_at"},
			includes: []string{"components"},
		}
	}
	return f
}

// includeNames lists allowed includes the way spatie/laravel-query-builder
// words them in its 400: each relation with its Count and Exists forms, as
// the real 2024-10 core answered ("updates, updatesCount, updatesExists").
func includeNames(includes []string) string {
	var out []string
	for _, inc := range includes {
		out = append(out, inc)
		if !strings.Contains(inc, ".") {
			out = append(out, inc+"Count", inc+"Exists")
		}
	}
	return strings.Join(out, ", ")
}
