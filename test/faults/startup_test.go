package faults

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/statussync/statussync/cachet/cachettest"
)

// startupComponents is the size of TestOutageOnPageSoonAfterStart's page.
const startupComponents = 300

// TestOutageOnPageSoonAfterStart starts the service (as after a restart or
// a leadership handover) with 300 incident-enabled components at Cachet's
// default rate limit of 4 requests a second, while the last component's
// target is already down. Its outage must reach the page as fast as
// anywhere else: within the detection bound (interval × failures_before_down
// + timeout) plus a few requests, not after a round of per-component reads.
func TestOutageOnPageSoonAfterStart(t *testing.T) {
	t.Parallel()
	front := newCachetFront(t)
	up, down := newTarget(t), newTarget(t)
	down.set(targetDown)
	var b strings.Builder
	fmt.Fprintf(&b, "cachet: {url: %q, token: %q, timeout: 2s, resync_interval: 5m}\n", front.URL(), token)
	b.WriteString("defaults: {interval: 500ms, timeout: 400ms, failures_before_down: 2, successes_before_up: 2}\nmonitors:\n")
	for i := range startupComponents {
		u := up.URL
		if i == startupComponents-1 {
			u = down.URL
		}
		fmt.Fprintf(&b, "  - {name: m%03d, http: {url: %q}}\n", i, u+fmt.Sprintf("/m%03d", i))
	}
	b.WriteString("components:\n")
	var last int
	for i := range startupComponents {
		last = front.AddComponent(fmt.Sprintf("c%03d", i), cachettest.StatusOperational).ID
		fmt.Fprintf(&b, "  - {name: c%03d, cachet_id: %d, monitors: [m%03d], incidents: {enabled: true}}\n", i, last, i)
	}
	start := time.Now()
	startService(t, b.String(), nil, slog.LevelInfo)
	// Detection: 2 × 500ms + 400ms; then a read and a write, and the
	// listing of the page at 4 requests a second: 10s is generous.
	const limit = 10 * time.Second
	if !waitFor(limit, func() bool { return front.status(last) == cachettest.StatusMajorOutage }) {
		reads := 0
		for _, r := range front.Requests() {
			if r.Method == "GET" && strings.HasSuffix(r.Path, "/incidents") {
				reads++
			}
		}
		// How late, for the record (a read per component at 4/s: ~75s).
		waitFor(2*time.Minute, func() bool { return front.status(last) == cachettest.StatusMajorOutage })
		t.Errorf("the outage reached the page %v after the start, want within %v; Cachet saw %d incident listings in the first %v",
			time.Since(start).Round(time.Second), limit, reads, limit)
	}
}
