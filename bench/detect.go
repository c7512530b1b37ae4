package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/statussync/statussync/cachet/cachettest"
)

// Detection-latency settings: proportions of a real configuration
// (interval 60s, timeout 10s, failures_before_down 2) shrunk so that a
// trial takes seconds.
const (
	detectInterval = 2 * time.Second
	detectTimeout  = time.Second
	detectFailures = 2
	// detectReconcile is the bound's "one reconcile": the read before the
	// write and the write, at the default rate limit of 4 requests a
	// second, with room for the pass that may be running.
	detectReconcile = time.Second
	detectTrials    = 8
)

// runDetect measures the time from a target failing (answering 503, or
// not answering at all) to Cachet showing the outage, against the bound
// interval × failures_before_down + timeout + one reconcile. Failures start
// at a random phase of the check interval.
func runDetect(ctx context.Context, e *env) ([]row, []string, error) {
	cachet := newCachet()
	defer cachet.Close()
	t := newToggle()
	defer t.Close()
	id := cachet.AddComponent("GitLab", cachettest.StatusOperational).ID
	cfg := fmt.Sprintf(`cachet: {url: %q, token: %q}
defaults: {interval: %v, timeout: %v, failures_before_down: %d, successes_before_up: 2}
monitors:
  - {name: web, http: {url: %q}}
components:
  - {name: GitLab, cachet_id: %d, monitors: [web], incidents: {enabled: true}}
`, cachet.URL(), benchToken, detectInterval, detectTimeout, detectFailures, t.URL, id)
	d, err := startDaemon(ctx, e, "detect", cfg)
	if err != nil {
		return nil, nil, err
	}
	defer d.stop()
	status := func() int { c, _ := cachet.Component(id); return c.Status }
	if err := waitUntil(ctx, 30*time.Second, "the first reconcile", func() bool { return len(cachet.Requests()) > 0 }); err != nil {
		return nil, nil, err
	}
	bound := detectInterval*detectFailures + detectTimeout + detectReconcile
	var lat [2][]time.Duration
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for trial := range detectTrials {
		// A random phase of the interval.
		time.Sleep(time.Duration(rng.Int64N(int64(detectInterval))))
		mode := modeDown
		if trial%2 == 1 {
			mode = modeHang
		}
		failed := time.Now()
		t.mode.Store(mode)
		if err := waitUntil(ctx, 3*bound, "the outage on the page", func() bool { return status() == cachettest.StatusMajorOutage }); err != nil {
			return nil, nil, err
		}
		var shown time.Time
		for _, w := range cachet.Writes() {
			if w.Method == http.MethodPut && w.Time.After(failed) && bytes.Contains(w.Body, []byte(`"status":4`)) {
				shown = w.Time
				break
			}
		}
		lat[trial%2] = append(lat[trial%2], shown.Sub(failed))
		t.mode.Store(modeUp)
		if err := waitUntil(ctx, 3*bound, "the recovery on the page", func() bool {
			in := cachet.Incidents()
			return status() == cachettest.StatusOperational && len(in) > 0 && in[len(in)-1].Status == cachettest.IncidentFixed
		}); err != nil {
			return nil, nil, err
		}
	}
	var rows []row
	for i, name := range []string{"503 at once", "no answer (timeout)"} {
		worst := percentile(lat[i], 100)
		logf("detect %s: %v", name, lat[i])
		rows = append(rows, row{
			name: fmt.Sprintf("4. Detection latency, target %s (%d trials)", name, len(lat[i])),
			measured: fmt.Sprintf("median %v, max **%v**", percentile(lat[i], 50).Round(10*time.Millisecond),
				worst.Round(10*time.Millisecond)),
			target:  fmt.Sprintf("≤ %v (%v × %d + %v + %v)", bound, detectInterval, detectFailures, detectTimeout, detectReconcile),
			verdict: verdict(worst.Seconds(), bound.Seconds(), " s"),
		})
	}
	notes := []string{fmt.Sprintf("Detection latency: from the harness making the target fail, at a random phase of the %v interval, to the "+
		"Cachet fake receiving the status write (its own timestamp); \"one reconcile\" is budgeted at %v "+
		"(a read and a write at the default 4 requests/s). Intervals: %s.",
		detectInterval, detectReconcile, strings.Join([]string{"interval " + detectInterval.String(), "timeout " + detectTimeout.String(), fmt.Sprintf("failures_before_down %d", detectFailures)}, ", "))}
	return rows, notes, nil
}
