package cachet

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/statussync/statussync/internal/apiclient"
)

// maxMessageLen bounds how much of a server-provided message reaches an
// error string, so that a misbehaving proxy cannot flood logs.
const maxMessageLen = 200

// APIError is a non-2xx response from Cachet. Inspect it with errors.As:
//
//	var apiErr *cachet.APIError
//	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnprocessableEntity { ... }
//
// It never holds the token or the raw response body: only Cachet's
// "message" (trimmed) and, for 422, the per-field validation messages.
type APIError struct {
	// Operation is the client operation, for example "update_component".
	Operation string
	// Method and Path identify the request; Path is relative to the base URL.
	Method string
	Path   string
	// StatusCode is the HTTP status code.
	StatusCode int
	// Message is Cachet's "message" member, trimmed, or the HTTP status text
	// when the body had none (for example an HTML page from a proxy).
	Message string
	// Errors holds the per-field messages of a 422, keyed by request field
	// path such as "name" or "components.1.id".
	Errors map[string][]string
	// Ability is the token ability the operation needs; set for every
	// write operation, empty for reads.
	Ability string
	// RetryAfter is the server's Retry-After on 429 and 503, or 0.
	RetryAfter time.Duration
}

// Error returns "cachet: <operation>: <status code>: <message>", followed by
// a hint on 401 and 403 and the field errors on 422.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cachet: %s: %d: %s", e.Operation, e.StatusCode, e.Message)
	switch e.StatusCode {
	case http.StatusUnauthorized:
		b.WriteString(" (the api token is missing, invalid, revoked or expired")
		if e.Ability == "" {
			b.WriteString("; this read needs a token because the cachet api is protected")
		}
		b.WriteString(")")
	case http.StatusForbidden:
		if e.Ability != "" {
			fmt.Fprintf(&b, " (the api token lacks the %q ability)", e.Ability)
		}
	case http.StatusUnprocessableEntity:
		if len(e.Errors) > 0 {
			fields := make([]string, 0, len(e.Errors))
			for f := range e.Errors {
				fields = append(fields, f)
			}
			sort.Strings(fields)
			parts := make([]string, 0, len(fields))
			for _, f := range fields {
				parts = append(parts, f+": "+strings.Join(e.Errors[f], " "))
			}
			b.WriteString(" [")
			b.WriteString(truncate(strings.Join(parts, "; "), 4*maxMessageLen))
			b.WriteString("]")
		}
	case http.StatusNotFound:
		switch e.Operation {
		case opGetComponent.name, opUpdateComponent.name:
			b.WriteString(" (unknown id, or the component is disabled or in a group hidden from this token)")
		case opUpdateIncident.name, opCreateIncidentUpdate.name, opGetIncident.name, opListIncidentUpdates.name:
			b.WriteString(" (unknown id: someone deleted the incident, or the token cannot see it)")
		default:
			b.WriteString(" (unknown id, a resource the token cannot see, or the api is disabled)")
		}
	}
	return b.String()
}

// ErrNotFound matches (errors.Is) every *APIError with status 404: an
// unknown id, a resource the token cannot see (a component in a hidden
// group), an incident a person deleted, or an API disabled in Cachet's
// settings.
var ErrNotFound = errors.New("cachet: not found")

// Is makes errors.Is(err, ErrNotFound) hold for a 404.
func (e *APIError) Is(target error) bool {
	return target == ErrNotFound && e.StatusCode == http.StatusNotFound
}

// IsNotFound reports whether err is an *APIError with status 404.
func IsNotFound(err error) bool { return IsStatus(err, http.StatusNotFound) }

// IsStatus reports whether err is an *APIError with the given status code.
func IsStatus(err error, code int) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == code
}

// errorBody is the shape of every Cachet error body (reference §2.3).
type errorBody struct {
	Message string              `json:"message"`
	Errors  map[string][]string `json:"errors"`
}

// newAPIError builds an APIError from a non-2xx response. redact removes
// the token from any server-provided text, as a last line of defence
// against a proxy that echoes request headers.
func newAPIError(op operation, method, path string, status int, header http.Header, body []byte, redact func(string) string) *APIError {
	e := &APIError{
		Operation:  op.name,
		Method:     method,
		Path:       path,
		StatusCode: status,
		Ability:    op.ability,
	}
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err == nil {
		e.Message = strings.TrimSpace(eb.Message)
		if len(eb.Errors) > 0 {
			e.Errors = make(map[string][]string, len(eb.Errors))
			for field, msgs := range eb.Errors {
				field = truncate(redact(field), 80)
				for _, m := range msgs {
					e.Errors[field] = append(e.Errors[field], truncate(redact(m), maxMessageLen))
				}
			}
		}
	}
	if e.Message == "" {
		e.Message = strings.ToLower(http.StatusText(status))
		if e.Message == "" {
			e.Message = "status " + strconv.Itoa(status)
		}
		if status >= 300 && status < 400 {
			e.Message = "unexpected redirect; check that the base url includes the api prefix and scheme"
		}
	}
	e.Message = truncate(redact(strings.Join(strings.Fields(e.Message), " ")), maxMessageLen)
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		e.RetryAfter, _ = apiclient.ParseRetryAfter(header.Get("Retry-After"), time.Now())
	}
	return e
}
