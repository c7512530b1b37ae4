package cachet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// IncidentUpdate is one progress note on an incident (reference §3.5).
type IncidentUpdate struct {
	ID         int
	IncidentID int
	Status     IncidentStatus
	Message    string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

type incidentUpdateAttributes struct {
	UpdateableID flexInt        `json:"updateable_id"`
	IncidentID   flexInt        `json:"incident_id"`
	Status       IncidentStatus `json:"status"`
	Message      string         `json:"message"`
	Created      wireTime       `json:"created"`
	CreatedAt    wireTime       `json:"created_at"`
	Updated      wireTime       `json:"updated"`
	UpdatedAt    wireTime       `json:"updated_at"`
}

func (c *Client) decodeIncidentUpdate(r resource, incidentID int) (IncidentUpdate, error) {
	var a incidentUpdateAttributes
	if err := json.Unmarshal(r.Attributes, &a); err != nil {
		return IncidentUpdate{}, fmt.Errorf("decode incident update %d: %w", r.ID, err)
	}
	u := IncidentUpdate{
		ID:         r.ID,
		IncidentID: int(a.UpdateableID),
		Status:     a.Status,
		Message:    a.Message,
		CreatedAt:  c.time(a.Created.orTime(a.CreatedAt)),
		UpdatedAt:  c.time(a.Updated.orTime(a.UpdatedAt)),
	}
	if u.IncidentID == 0 {
		u.IncidentID = int(a.IncidentID)
	}
	if u.IncidentID == 0 {
		u.IncidentID = incidentID
	}
	return u, nil
}

type incidentUpdateBody struct {
	Status  IncidentStatus `json:"status"`
	Message string         `json:"message"`
}

// buildIncidentUpdateCreate renders the JSON body of POST
// /incidents/{id}/updates. Both fields are required by Cachet.
func buildIncidentUpdateCreate(status IncidentStatus, message string) ([]byte, error) {
	if !status.Valid() {
		return nil, fmt.Errorf("invalid incident status %d", int(status))
	}
	if strings.TrimSpace(message) == "" {
		return nil, errors.New("message is required")
	}
	return json.Marshal(incidentUpdateBody{Status: status, Message: message})
}

// CreateIncidentUpdate adds an update to incident id (ability
// incident-updates.manage). Cachet then sets the incident's status to the
// status of its newest update, so IncidentFixed resolves the incident.
func (c *Client) CreateIncidentUpdate(ctx context.Context, incidentID int, status IncidentStatus, message string) (IncidentUpdate, error) {
	body, err := buildIncidentUpdateCreate(status, message)
	if err != nil {
		return IncidentUpdate{}, fmt.Errorf("cachet: %s: %w", opCreateIncidentUpdate.name, err)
	}
	doc, err := c.write(ctx, opCreateIncidentUpdate, http.MethodPost, "/incidents/"+strconv.Itoa(incidentID)+"/updates", body)
	if err != nil {
		return IncidentUpdate{}, err
	}
	u, err := c.decodeIncidentUpdate(doc.Data[0], incidentID)
	if err != nil {
		return IncidentUpdate{}, fmt.Errorf("cachet: %s: %w", opCreateIncidentUpdate.name, err)
	}
	return u, nil
}

// ListIncidentUpdates returns every update of incident id in Cachet's
// default order (oldest first). An incident the caller cannot see is a 404.
func (c *Client) ListIncidentUpdates(ctx context.Context, incidentID int) ([]IncidentUpdate, error) {
	decode := func(r resource) (IncidentUpdate, error) { return c.decodeIncidentUpdate(r, incidentID) }
	return collect(ctx, c, opListIncidentUpdates, "/incidents/"+strconv.Itoa(incidentID)+"/updates", nil, ignoreIncluded(decode), nil)
}
