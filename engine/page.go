package engine

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound marks a page answer saying that the thing asked for does not
// exist (any more): a component id that is not there, an incident or a
// metric a person deleted. Page implementations wrap it.
var ErrNotFound = errors.New("not found on the status page")

// StatusPage is what the reconciler needs from the status page. The Cachet
// adapter (internal/cachetpage) implements it against the Cachet client; the
// mapping between ComponentState and Cachet's status integers, and the way
// statussync marks its own incidents, live there and nowhere else.
type StatusPage interface {
	ListComponents(ctx context.Context) ([]PageComponent, error)
	GetComponent(ctx context.Context, id int) (PageComponent, error)
	// SetComponentState writes s over component c as last read, and
	// records on the page that statussync wrote it (see
	// PageComponent.Written).
	SetComponentState(ctx context.Context, c PageComponent, s ComponentState) error
	// Maintenance returns the components that a maintenance window in
	// progress covers, each with the time its window is planned to end
	// (zero when the page does not say).
	Maintenance(ctx context.Context) (map[int]time.Time, error)
	// OpenIncidents returns statussync's own unresolved incidents, newest
	// first: those of the component with page id componentID, or with 0,
	// those of every component, in one listing.
	OpenIncidents(ctx context.Context, componentID int) ([]PageIncident, error)
	// GetIncident reads one incident; an error wrapping ErrNotFound means a
	// person deleted it.
	GetIncident(ctx context.Context, id int) (PageIncident, error)
	// EpisodeRecorded reports whether an incident for the outage episode
	// exists, whatever its status.
	EpisodeRecorded(ctx context.Context, k IncidentKey, episode string) (bool, error)
	CreateIncident(ctx context.Context, in NewIncident) (int, error)
	// UpdateIncident posts an update that sets the incident's status.
	UpdateIncident(ctx context.Context, id int, status IncidentStatus, message string) error
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
	// Written is the state statussync last wrote, as the page itself
	// records it (so it survives restarts and leadership changes);
	// ComponentUnknown when the page has no record.
	Written ComponentState
	// Episode is the outage episode statussync last wrote an outage status
	// for, as the page records it ("" when it keeps no record): an outage
	// that continues across a restart or a leadership handover keeps it,
	// and so is told apart from a new one. Set it on a write of an outage.
	Episode string
	// UpdatedAt is when the page says the component last changed (zero
	// when it does not say): for a status set by hand, when the person
	// changed it. It bounds how long a manual status is respected.
	UpdatedAt time.Time
	// Meta is the page's own record for the component, opaque to the
	// engine, handed back on a write.
	Meta map[string]string
}

// IncidentStatus is an incident's status, in the order an incident moves
// through them: a later status is never replaced by an earlier one.
type IncidentStatus int

// Incident statuses (Cachet's values).
const (
	IncidentInvestigating IncidentStatus = 1
	IncidentIdentified    IncidentStatus = 2
	IncidentWatching      IncidentStatus = 3
	IncidentFixed         IncidentStatus = 4
)

// PageIncident is one of statussync's incidents as the page has it.
type PageIncident struct {
	ID int
	// Components are the page ids of the components the incident is
	// about: those it is attached to, and the one its marker names.
	Components []int
	// Component is the component name its marker names ("" if none).
	Component string
	// Episode is the outage episode its marker names ("" if none).
	Episode string
	Status  IncidentStatus
}

// About reports whether the incident is about the component with page id.
func (in PageIncident) About(id int) bool {
	for _, c := range in.Components {
		if c == id {
			return true
		}
	}
	return false
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
