package cachet

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestRetryDecision(t *testing.T) {
	refused := &url.Error{Op: "Post", URL: "http://x/api/incidents", Err: &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	dns := &url.Error{Op: "Post", URL: "http://x/api/incidents", Err: &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "x"}}}
	reset := &url.Error{Op: "Post", URL: "http://x/api/incidents", Err: &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}
	eof := &url.Error{Op: "Post", URL: "http://x/api/incidents", Err: io.EOF}
	timeout := &url.Error{Op: "Post", URL: "http://x/api/incidents", Err: context.DeadlineExceeded}
	canceled := &url.Error{Op: "Get", URL: "http://x/api/components", Err: context.Canceled}

	tests := []struct {
		name   string
		op     operation
		status int
		err    error
		want   bool
	}{
		{"read 500", opListComponents, 500, nil, true},
		{"read 502", opGetIncident, 502, nil, true},
		{"read 429", opListIncidents, 429, nil, true},
		{"read 404", opGetComponent, 404, nil, false},
		{"read 400", opListIncidents, 400, nil, false},
		{"read 401", opListComponents, 401, nil, false},
		{"read 302", opListComponents, 302, nil, false},
		{"read reset", opListComponents, 0, reset, true},
		{"read timeout", opListComponents, 0, timeout, true},
		{"read canceled", opListComponents, 0, canceled, false},
		{"update 503", opUpdateComponent, 503, nil, true},
		{"update 500", opUpdateComponent, 500, nil, true},
		{"update 422", opUpdateComponent, 422, nil, false},
		{"update 403", opUpdateIncident, 403, nil, false},
		{"update eof", opUpdateComponent, 0, eof, true},
		{"create 429", opCreateIncident, 429, nil, true},
		{"create 503", opCreateIncident, 503, nil, true},
		{"create 500 may have been processed", opCreateIncident, 500, nil, false},
		{"create 502", opCreateIncidentUpdate, 502, nil, false},
		{"create 504", opCreateMetricPoint, 504, nil, false},
		{"create 422", opCreateIncident, 422, nil, false},
		{"create refused", opCreateIncident, 0, refused, true},
		{"create dns", opCreateIncident, 0, dns, true},
		{"create reset", opCreateIncident, 0, reset, false},
		{"create eof", opCreateMetricPoint, 0, eof, false},
		{"create timeout", opCreateIncident, 0, timeout, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryDecision(tt.op, tt.status, tt.err); got != tt.want {
				t.Errorf("retryDecision(%s, %d, %v) = %v, want %v", tt.op.name, tt.status, tt.err, got, tt.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	const lo, hi = 100 * time.Millisecond, time.Second
	tests := []struct {
		attempt    int
		retryAfter time.Duration
		min, max   time.Duration
	}{
		{1, 0, lo / 2, lo},
		{2, 0, lo / 2, 2 * lo},
		{3, 0, lo / 2, 4 * lo},
		{10, 0, lo / 2, hi},
		{40, 0, lo / 2, hi},
		{1, 300 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond},
		{1, time.Minute, hi, hi},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("attempt %d retry-after %s", tt.attempt, tt.retryAfter), func(t *testing.T) {
			seen := map[time.Duration]bool{}
			for range 200 {
				d := backoff(tt.attempt, lo, hi, tt.retryAfter)
				if d < tt.min || d > tt.max {
					t.Fatalf("backoff = %s, want in [%s, %s]", d, tt.min, tt.max)
				}
				seen[d] = true
			}
			if tt.min != tt.max && len(seen) < 10 {
				t.Errorf("backoff has no jitter: %d distinct values", len(seen))
			}
		})
	}
}
