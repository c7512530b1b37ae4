package cachet

import (
	"context"
	"errors"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/statussync/statussync/internal/apiclient"
)

// operation describes one client operation: its constant name (the
// "operation" metric label and APIError.Operation), the token ability
// Cachet checks for it, and whether it creates a resource, which limits
// retries (see retryDecision).
type operation struct {
	name    string
	ability string
	create  bool
}

// The client's operations. Reads need no ability (reference §1.4).
var (
	opPing                 = operation{name: "ping"}
	opVersion              = operation{name: "version"}
	opListComponents       = operation{name: "list_components"}
	opGetComponent         = operation{name: "get_component"}
	opCreateComponent      = operation{name: "create_component", ability: "components.manage", create: true}
	opUpdateComponent      = operation{name: "update_component", ability: "components.manage"}
	opListComponentGroups  = operation{name: "list_component_groups"}
	opCreateComponentGroup = operation{name: "create_component_group", ability: "component-groups.manage", create: true}
	opListIncidents        = operation{name: "list_incidents"}
	opGetIncident          = operation{name: "get_incident"}
	opCreateIncident       = operation{name: "create_incident", ability: "incidents.manage", create: true}
	opUpdateIncident       = operation{name: "update_incident", ability: "incidents.manage"}
	opListIncidentUpdates  = operation{name: "list_incident_updates"}
	opCreateIncidentUpdate = operation{name: "create_incident_update", ability: "incident-updates.manage", create: true}
	opListMetrics          = operation{name: "list_metrics"}
	opCreateMetric         = operation{name: "create_metric", ability: "metrics.manage", create: true}
	opListMetricPoints     = operation{name: "list_metric_points"}
	opCreateMetricPoint    = operation{name: "create_metric_point", ability: "metric-points.manage", create: true}
	opListSchedules        = operation{name: "list_schedules"}
	opDetect               = operation{name: "detect_capabilities"}
)

// retryDecision is the client's single retry policy. It reports whether an
// attempt that ended with status (0 when there is no response) or err
// should be tried again.
//
// Reads and updates are idempotent (an update sends absolute values), so
// they are retried on transport errors, on any 5xx and on 429. Other 4xx
// are never retried: the request itself is wrong.
//
// Creates (POST) are not idempotent: Cachet has no idempotency key, and a
// retried create whose first attempt was processed makes a second
// incident, update or metric point. So a create is retried only when the
// failure shows that Cachet did not process it:
//   - 429: Laravel's throttle middleware rejects before the controller;
//   - 503: Laravel's maintenance mode, or a proxy with no live backend;
//   - a transport error that happened before the request was written:
//     connection refused, DNS failure, or another dial error.
//
// A create that fails with a timeout, a reset connection, 500, 502 or 504
// may have been processed and is returned to the caller, which can look
// for its own resource (for example by incident meta) before trying again.
func retryDecision(op operation, status int, err error) bool {
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return false
		}
		if op.create {
			return notSent(err)
		}
		return true
	}
	switch {
	case status == http.StatusTooManyRequests:
		return true
	case status == http.StatusServiceUnavailable:
		return true
	case status >= 500 && status <= 599:
		return !op.create
	default:
		return false
	}
}

// notSent reports whether err proves that the request never reached the
// server, so that even a create can be retried safely.
func notSent(err error) bool {
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// backoff returns how long to wait before retry number attempt (1 for the
// first retry): exponential from waitMin to waitMax with the jitter below
// the ceiling (apiclient.BackoffBelow), so that a failed call stays short. A Retry-After from the server wins, capped at
// waitMax (a 429 additionally pauses the whole client for all of it).
func backoff(attempt int, waitMin, waitMax, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, waitMax)
	}
	return apiclient.BackoffBelow(attempt-1, waitMin, waitMax)
}
