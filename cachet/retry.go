package cachet

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
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
// first retry): "full jitter", a uniformly random duration in
// [0, min(max, min·2^(attempt-1))], never below min/2 so that retries are
// not fired back to back. A Retry-After from the server wins when it is
// longer, capped at max.
func backoff(attempt int, waitMin, waitMax, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, waitMax)
	}
	ceiling := waitMin
	for i := 1; i < attempt && ceiling < waitMax; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, waitMax)
	floor := waitMin / 2
	if ceiling <= floor {
		return ceiling
	}
	return floor + rand.N(ceiling-floor+1)
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date
// (RFC 9110 §10.2.3). It reports false for an absent or malformed value.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
