package cachet

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// Schedule is a Cachet maintenance window (reference §3.8).
type Schedule struct {
	ID      int
	Name    string
	Message string
	// Status is computed by Cachet when the schedule is read.
	Status      ScheduleStatus
	ScheduledAt time.Time
	// CompletedAt is zero for an open-ended window.
	CompletedAt time.Time
	PublishedAt time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// Components are the components under maintenance with the status each
	// shows while the window runs (ComponentUnderMaintenance when the
	// schedule does not say, or when the server renders no pivot, as cores
	// before the current one do).
	Components []AffectedComponent
}

// InProgress reports whether Cachet considers the window running.
func (s Schedule) InProgress() bool { return s.Status == ScheduleInProgress }

type scheduleAttributes struct {
	Name        string          `json:"name"`
	Message     string          `json:"message"`
	Status      ScheduleStatus  `json:"status"`
	Scheduled   wireTime        `json:"scheduled"`
	ScheduledAt wireTime        `json:"scheduled_at"`
	Completed   wireTime        `json:"completed"`
	CompletedAt wireTime        `json:"completed_at"`
	Published   wireTime        `json:"published"`
	PublishedAt wireTime        `json:"published_at"`
	Created     wireTime        `json:"created"`
	CreatedAt   wireTime        `json:"created_at"`
	Updated     wireTime        `json:"updated"`
	UpdatedAt   wireTime        `json:"updated_at"`
	Components  json.RawMessage `json:"components"`
}

func (c *Client) decodeSchedule(r resource, included map[resourceKey]resource) (Schedule, error) {
	var a scheduleAttributes
	if err := json.Unmarshal(r.Attributes, &a); err != nil {
		return Schedule{}, fmt.Errorf("decode schedule %d: %w", r.ID, err)
	}
	s := Schedule{
		ID:          r.ID,
		Name:        a.Name,
		Message:     a.Message,
		Status:      a.Status,
		ScheduledAt: c.time(a.Scheduled.orTime(a.ScheduledAt)),
		CompletedAt: c.time(a.Completed.orTime(a.CompletedAt)),
		PublishedAt: c.time(a.Published.orTime(a.PublishedAt)),
		CreatedAt:   c.time(a.Created.orTime(a.CreatedAt)),
		UpdatedAt:   c.time(a.Updated.orTime(a.UpdatedAt)),
		Components:  affectedComponents(r, included, a.Components),
	}
	for i := range s.Components {
		if s.Components[i].Status == 0 {
			s.Components[i].Status = ComponentUnderMaintenance
		}
	}
	return s, nil
}

// ScheduleFilter narrows ListSchedules.
type ScheduleFilter struct {
	// Statuses keeps schedules with one of these computed statuses
	// (filter[status]); for example ScheduleInProgress for running windows.
	Statuses []ScheduleStatus
}

// ListSchedules returns the published maintenance windows matching f with
// their components, following every page. A token with schedules.manage
// also sees unpublished ones (published_at in the future); Cachet's own
// page ignores them, and so does this list.
//
// Where filter[status] fails (Capabilities.ScheduleStatusFilter false: a
// 500 on cores from 2024-11-24 to 2025-02-24) every schedule is listed
// and filtered here; a refusal seen during the call is recorded and the
// list is asked for again without the filter.
func (c *Client) ListSchedules(ctx context.Context, f ScheduleFilter) ([]Schedule, error) {
	now := time.Now()
	keep := func(s Schedule) bool {
		if !s.PublishedAt.IsZero() && s.PublishedAt.After(now) {
			return false
		}
		return len(f.Statuses) == 0 || slices.Contains(f.Statuses, s.Status)
	}
	for {
		q := url.Values{"include": {"components"}}
		filtered := false
		if len(f.Statuses) > 0 {
			if caps, _ := c.Capabilities(ctx); caps.ScheduleStatusFilter {
				q.Set("filter[status]", joinInts(f.Statuses))
				filtered = true
			}
		}
		out, err := collect(ctx, c, opListSchedules, "/schedules", q, c.decodeSchedule, keep)
		if err != nil && filtered && (IsStatus(err, http.StatusInternalServerError) || IsStatus(err, http.StatusBadRequest)) {
			c.lose(func(c *Capabilities) { c.ScheduleStatusFilter = false })
			continue
		}
		return out, err
	}
}
