package engine

import (
	"context"
	"time"
)

// StatusPage is what the reconciler needs from the status page. The Cachet
// adapter (internal/cachetpage) implements it against the Cachet client; the
// mapping between ComponentState and Cachet's status integers, and the way
// statussync marks its own incidents, live there and nowhere else.
type StatusPage interface {
	ListComponents(ctx context.Context) ([]PageComponent, error)
	GetComponent(ctx context.Context, id int) (PageComponent, error)
	SetComponentState(ctx context.Context, id int, s ComponentState) error
	// Maintenance returns the ids of the components that a maintenance
	// window in progress covers.
	Maintenance(ctx context.Context) (map[int]bool, error)
	// OpenIncidents returns statussync's own unresolved incidents for the
	// component, newest first.
	OpenIncidents(ctx context.Context, k IncidentKey) ([]int, error)
	// AllOpenIncidents returns statussync's unresolved incidents of every
	// component, by component name, newest first, in one listing.
	AllOpenIncidents(ctx context.Context) (map[string][]int, error)
	// EpisodeRecorded reports whether an incident for the outage episode
	// exists, whatever its status.
	EpisodeRecorded(ctx context.Context, k IncidentKey, episode string) (bool, error)
	CreateIncident(ctx context.Context, in NewIncident) (int, error)
	// UpdateIncident posts an update; resolved closes the incident.
	UpdateIncident(ctx context.Context, id int, resolved bool, message string) error
	// LatestIncidentUpdate returns the message of the incident's newest
	// update ("" if none), to tell whether an update whose response was
	// lost was applied.
	LatestIncidentUpdate(ctx context.Context, id int) (string, error)
}

// PageComponent is a component as the status page shows it.
type PageComponent struct {
	ID   int
	Name string
	// State is the page's status as a ComponentState; ComponentUnknown for
	// the page's own "unknown" and for maintenance.
	State ComponentState
	// Maintenance is set when a person put the component under maintenance.
	Maintenance bool
	// Raw is the page's status value, for metrics and logs.
	Raw int
}

// IncidentKey identifies the component an incident is about.
type IncidentKey struct {
	Component   string
	ComponentID int
}

// NewIncident is an incident to open (or, for an outage that was missed
// while the page was unreachable, to record as already resolved).
type NewIncident struct {
	Key IncidentKey
	// Episode identifies the outage, so that a retried create can be found.
	Episode       string
	Name, Message string
	// Impact is the component's state during the outage.
	Impact     ComponentState
	Resolved   bool
	Visible    bool
	Notify     bool
	OccurredAt time.Time
}
