package cachet

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/statussync/statussync/cachet/cachettest"
)

func TestNewAPIError(t *testing.T) {
	noRedact := func(s string) string { return s }
	tests := []struct {
		name      string
		op        operation
		status    int
		header    http.Header
		body      string
		wantMsg   string
		wantError []string // substrings of Error()
		check     func(t *testing.T, e *APIError)
	}{
		{
			name: "401", op: opUpdateComponent, status: 401,
			body:      `{"message":"Unauthenticated."}`,
			wantMsg:   "Unauthenticated.",
			wantError: []string{"cachet: update_component: 401: Unauthenticated.", "token is missing, invalid"},
		},
		{
			name: "401 on read", op: opListComponents, status: 401,
			body:      `{"message":"Unauthenticated."}`,
			wantError: []string{"api is protected"},
		},
		{
			name: "403 names ability", op: opCreateIncidentUpdate, status: 403,
			body:      `{"message":"Invalid ability provided."}`,
			wantMsg:   "Invalid ability provided.",
			wantError: []string{`cachet: create_incident_update: 403: Invalid ability provided. (the api token lacks the "incident-updates.manage" ability)`},
		},
		{
			name: "422 fields", op: opCreateIncident, status: 422,
			body:      `{"message":"The name field is required. (and 1 more error)","errors":{"name":["The name field is required."],"components.1.id":["The selected components.1.id is invalid."]}}`,
			wantError: []string{"422: The name field is required. (and 1 more error)", "[components.1.id: The selected components.1.id is invalid.; name: The name field is required.]"},
			check: func(t *testing.T, e *APIError) {
				if len(e.Errors["name"]) != 1 || len(e.Errors["components.1.id"]) != 1 {
					t.Errorf("errors = %v", e.Errors)
				}
			},
		},
		{
			name: "html body from proxy", op: opListIncidents, status: 502,
			body:      `<html><body>Bad Gateway</body></html>`,
			wantMsg:   "bad gateway",
			wantError: []string{"cachet: list_incidents: 502: bad gateway"},
		},
		{
			name: "429 retry after", op: opListIncidents, status: 429,
			header:    http.Header{"Retry-After": {"12"}},
			body:      `{"message":"Too Many Attempts."}`,
			wantError: []string{"429: Too Many Attempts."},
			check: func(t *testing.T, e *APIError) {
				if e.RetryAfter != 12*time.Second {
					t.Errorf("RetryAfter = %s", e.RetryAfter)
				}
			},
		},
		{
			name: "redirect", op: opListComponents, status: 301,
			body:      ``,
			wantError: []string{"unexpected redirect"},
		},
		{
			name: "long message trimmed", op: opGetComponent, status: 500,
			body: `{"message":"` + strings.Repeat("x", 5000) + `"}`,
			check: func(t *testing.T, e *APIError) {
				if len(e.Message) > maxMessageLen+4 {
					t.Errorf("message length %d", len(e.Message))
				}
			},
		},
		{
			name: "404", op: opGetIncident, status: 404,
			body:      `{"message":"No query results for model [Cachet\\Models\\Incident] 99"}`,
			wantError: []string{"unknown id"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			e := newAPIError(tt.op, http.MethodGet, "/x", tt.status, h, []byte(tt.body), noRedact)
			if tt.wantMsg != "" && e.Message != tt.wantMsg {
				t.Errorf("Message = %q, want %q", e.Message, tt.wantMsg)
			}
			for _, s := range tt.wantError {
				if !strings.Contains(e.Error(), s) {
					t.Errorf("Error() = %q, want it to contain %q", e.Error(), s)
				}
			}
			if e.Ability != tt.op.ability || e.Operation != tt.op.name || e.StatusCode != tt.status {
				t.Errorf("fields = %+v", e)
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

func TestAPIErrorHelpers(t *testing.T) {
	notFound := fmt.Errorf("engine: adopt incident: %w", &APIError{StatusCode: 404})
	tests := []struct {
		name string
		got  bool
		want bool
	}{
		{"wrapped 404", IsNotFound(notFound), true},
		{"404 is not 400", IsStatus(notFound, 400), false},
		{"plain error", IsNotFound(errors.New("x")), false},
		{"nil", IsNotFound(nil), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	c := &Client{token: "12|s3cr3tTokenValue"}
	tests := []struct {
		in, want string
	}{
		{"Bearer 12|s3cr3tTokenValue rejected", "Bearer <redacted> rejected"},
		{"secret part s3cr3tTokenValue alone", "secret part <redacted> alone"},
		{"nothing here", "nothing here"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := c.redact(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNotFoundIsTyped(t *testing.T) {
	srv := cachettest.New(t, cachettest.WithToken("1|tok", "*"))
	hidden := srv.AddComponent("Hidden", cachettest.StatusOperational)
	srv.AddComponentGroup("Internal", cachettest.VisibleHidden, hidden.ID)
	c := newClient(t, srv.URL(), func(o *Options) { o.Token = "1|tok" })
	_, err := c.GetComponent(ctxT(t), hidden.ID)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "hidden from this token") {
		t.Errorf("hidden-group component: err = %v", err)
	}
	in := srv.AddIncident(cachettest.Incident{Name: "x", Message: "m", Status: 1, Visible: cachettest.VisibleGuest})
	srv.DeleteIncident(in.ID)
	_, err = c.CreateIncidentUpdate(ctxT(t), in.ID, IncidentFixed, "resolved")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "someone deleted the incident") {
		t.Errorf("deleted incident: err = %v", err)
	}
	if errors.Is(&APIError{StatusCode: 500}, ErrNotFound) {
		t.Error("a 500 matched ErrNotFound")
	}
}
