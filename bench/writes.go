package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	"github.com/statussync/statussync/cachet/cachettest"
)

// Target modes.
const (
	modeUp int32 = iota
	modeDown
	modeHang
)

// toggle is an HTTP target whose answer the harness controls.
type toggle struct {
	*httptest.Server
	mode atomic.Int32
}

func newToggle() *toggle {
	t := &toggle{}
	t.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch t.mode.Load() {
		case modeDown:
			http.Error(w, "down", http.StatusServiceUnavailable)
		case modeHang:
			<-r.Context().Done()
		default:
			_, _ = io.WriteString(w, "ok\n")
		}
	}))
	return t
}

// waitUntil polls cond every 20ms until it holds or limit passes.
func waitUntil(ctx context.Context, limit time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s", limit, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// runWrites counts Cachet writes per decided state transition, with and
// without incidents: ten components, each on its own target, go down and
// up three times.
func runWrites(ctx context.Context, e *env) ([]row, []string, error) {
	const comps, cycles = 10, 3
	cachet := newCachet()
	defer cachet.Close()
	var targets []*toggle
	var b strings.Builder
	fmt.Fprintf(&b, "cachet: {url: %q, token: %q, rate_limit: 5}\ndefaults: {interval: 500ms, timeout: 400ms, failures_before_down: 2, successes_before_up: 2}\nmonitors:\n", cachet.URL(), benchToken)
	for i := range comps {
		t := newToggle()
		defer t.Close()
		targets = append(targets, t)
		fmt.Fprintf(&b, "  - {name: m%d, http: {url: %q}}\n", i, t.URL)
	}
	// All ten targets fail at the same moment, which without a named
	// uplink is exactly what statussync's default guard takes for its own
	// network failing (unknown, nothing written): an uplink that stays up
	// says the network is fine, as an operator's connectivity monitor would.
	uplink := newToggle()
	defer uplink.Close()
	fmt.Fprintf(&b, "  - {name: uplink, http: {url: %q}}\nconnectivity: {monitors: [uplink]}\n", uplink.URL)
	b.WriteString("components:\n")
	ids := make([]int, comps)
	for i := range comps {
		ids[i] = cachet.AddComponent(fmt.Sprintf("c%d", i), cachettest.StatusOperational).ID
		fmt.Fprintf(&b, "  - {name: c%d, cachet_id: %d, monitors: [m%d], incidents: {enabled: %v}}\n", i, ids[i], i, i < comps/2)
	}
	d, err := startDaemon(ctx, e, "writes", b.String())
	if err != nil {
		return nil, nil, err
	}
	defer d.stop()
	if err := waitUntil(ctx, 30*time.Second, "every component decided", func() bool {
		m, err := d.scrape()
		return err == nil && value(m, "statussync_monitors", "state", "up") == comps+1
	}); err != nil {
		return nil, nil, err
	}
	writes0 := len(cachet.Writes())
	allAt := func(status int) func() bool {
		return func() bool {
			for _, id := range ids {
				if c, _ := cachet.Component(id); c.Status != status {
					return false
				}
			}
			open := 0
			for _, in := range cachet.Incidents() {
				if in.Status != cachettest.IncidentFixed {
					open++
				}
			}
			if status == cachettest.StatusOperational {
				return open == 0
			}
			return open == comps/2
		}
	}
	for range cycles {
		for _, t := range targets {
			t.mode.Store(modeDown)
		}
		if err := waitUntil(ctx, 60*time.Second, "every component down on the page", allAt(cachettest.StatusMajorOutage)); err != nil {
			return nil, nil, err
		}
		for _, t := range targets {
			t.mode.Store(modeUp)
		}
		if err := waitUntil(ctx, 60*time.Second, "every component up on the page", allAt(cachettest.StatusOperational)); err != nil {
			return nil, nil, err
		}
	}
	time.Sleep(2 * time.Second) // anything late would show now
	with, without := 0, 0
	for _, w := range cachet.Writes()[writes0:] {
		if strings.Contains(w.Path, "/incidents") {
			with++
			continue
		}
		for i, id := range ids {
			if strings.HasSuffix(w.Path, fmt.Sprintf("/components/%d", id)) {
				if i < comps/2 {
					with++
				} else {
					without++
				}
			}
		}
	}
	transitions := float64(comps / 2 * cycles * 2)
	perWith, perWithout := float64(with)/transitions, float64(without)/transitions
	logf("writes: %.2f per transition with incidents, %.2f without", perWith, perWithout)
	rows := []row{
		{"3. Cachet writes per transition, with incidents", fmt.Sprintf("**%.2f** (%d writes, %.0f transitions)", perWith, with, transitions),
			"2 (status + incident open/resolve)", map[bool]string{true: "met", false: "**missed**"}[perWith == 2]},
		{"3. Cachet writes per transition, status only", fmt.Sprintf("**%.2f** (%d writes, %.0f transitions)", perWithout, without, transitions),
			"1", map[bool]string{true: "met", false: "**missed**"}[perWithout == 1]},
	}
	return rows, nil, nil
}
