// Package realcachet runs the statussync binary against a real Cachet 3.x
// (issue #14's acceptance), not the fake. It needs a Cachet built from
// source on this machine (/work/shared/realcachet), so it is opt-in and
// never runs in CI:
//
//	STATUSSYNC_REALCACHET_URL=http://127.0.0.1:18082/api \
//	STATUSSYNC_REALCACHET_TOKEN_FILE=/work/realcachet/modern/token.txt \
//	go test -count=1 -v -timeout 15m ./test/realcachet/
//
// STATUSSYNC_REALCACHET_TOKEN may hold the token instead of a file. The
// test creates its own component, takes it through an outage and back
// (with a kill -9 in the middle), checks that a monitor's latency metric
// was created and got points, and reads Cachet sparingly: the app shell's
// 60 requests a minute are shared with statussync.
package realcachet

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/statussync/statussync/cachet"
	"github.com/statussync/statussync/internal/testkit"
)

func TestMain(m *testing.M) { os.Exit(testkit.RunMain(m)) }

// poll is how often the test itself reads Cachet.
const poll = 10 * time.Second

func TestOutageAndBackOnRealCachet(t *testing.T) {
	base := os.Getenv("STATUSSYNC_REALCACHET_URL")
	if base == "" {
		t.Skip("STATUSSYNC_REALCACHET_URL is not set: this test needs a real Cachet (see /work/shared/realcachet)")
	}
	dir := t.TempDir()
	tokenFile := os.Getenv("STATUSSYNC_REALCACHET_TOKEN_FILE")
	if tokenFile == "" {
		tokenFile = filepath.Join(dir, "token")
		if err := os.WriteFile(tokenFile, []byte(os.Getenv("STATUSSYNC_REALCACHET_TOKEN")), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(raw))
	opts := cachet.DefaultOptions()
	opts.BaseURL, opts.Token = base, token
	c, err := cachet.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 14*time.Minute)
	defer cancel()

	name := fmt.Sprintf("statussync-realcachet-%d", time.Now().Unix())
	comp, err := c.CreateComponent(ctx, cachet.ComponentCreate{Name: name, Status: cachet.ComponentOperational})
	if err != nil {
		t.Fatalf("create the test component: %v", err)
	}
	started := time.Now()
	t.Logf("component %q is cachet id %d", name, comp.ID)

	var down atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(target.Close)
	// Steady checks besides: when every check fails at once, statussync
	// blames its own network and decides nothing.
	steady := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	t.Cleanup(steady.Close)

	cfg := filepath.Join(dir, "statussync.yml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `
cachet: {url: %q, token_file: %q, timezone: UTC, resync_interval: 30s}
defaults: {interval: 2s, timeout: 1s, failures_before_down: 2, successes_before_up: 2}
monitors:
  - {name: web, http: {url: %q}}
  - {name: steady1, http: {url: %q}, metric: {name: %q, threshold: 1}}
  - {name: steady2, http: {url: %q}}
components:
  - {name: %q, cachet_id: %d, monitors: [web], incidents: {enabled: true}}
`, base, tokenFile, target.URL, steady.URL+"/1", name+" latency", steady.URL+"/2", name, comp.ID), 0o600); err != nil {
		t.Fatal(err)
	}
	var runs []*testkit.Process
	start := func() { runs = append(runs, testkit.StartDaemon(t, []string{"TZ=UTC"}, cfg)) }
	t.Cleanup(func() {
		for i, p := range runs {
			p.Kill()
			if t.Failed() {
				t.Logf("run %d logs:\n%s", i+1, testkit.Tail(p.Logs.String(), 60))
			}
		}
	})

	// ours lists the incidents attached to the component since the test
	// began: open ones and all.
	ours := func() (all, open []cachet.Incident) {
		t.Helper()
		ins, err := c.ListIncidents(ctx, cachet.IncidentFilter{ComponentID: comp.ID})
		if err != nil {
			t.Fatalf("list incidents: %v", err)
		}
		for _, in := range ins {
			if in.CreatedAt.Before(started.Add(-time.Minute)) {
				continue
			}
			all = append(all, in)
			if !in.Status.Resolved() {
				open = append(open, in)
			}
		}
		return all, open
	}
	waitFor := func(what string, limit time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v", what, limit)
			}
			time.Sleep(poll)
		}
		t.Logf("%s after %v", what, time.Since(started).Round(time.Second))
	}
	status := func() cachet.ComponentStatus {
		t.Helper()
		got, err := c.GetComponent(ctx, comp.ID)
		if err != nil {
			t.Fatalf("read the component: %v", err)
		}
		return got.Status
	}

	start()
	time.Sleep(20 * time.Second) // steady state: nothing to write
	if s := status(); s != cachet.ComponentOperational {
		t.Fatalf("status %s before the outage", s)
	}

	down.Store(true)
	t.Log("target down")
	waitFor("status written (outage)", 3*time.Minute, func() bool { return status() != cachet.ComponentOperational })
	waitFor("exactly one open incident attached", 3*time.Minute, func() bool {
		all, open := ours()
		if len(all) > 1 {
			t.Fatalf("%d incidents for one outage: %+v", len(all), all)
		}
		return len(open) == 1
	})
	_, open := ours()
	first := open[0].ID

	runs[len(runs)-1].Kill()
	t.Log("kill -9; restarting")
	start()
	time.Sleep(60 * time.Second) // several passes of the restarted process
	all, open := ours()
	if len(all) != 1 || len(open) != 1 || open[0].ID != first {
		t.Fatalf("after kill -9 and restart: %d incidents (%d open), want the same one open: %+v", len(all), len(open), all)
	}
	t.Logf("after kill -9 and restart: still one incident (%d), open", first)

	down.Store(false)
	t.Log("target up")
	waitFor("status written (recovery)", 3*time.Minute, func() bool { return status() == cachet.ComponentOperational })
	waitFor("the incident resolved", 3*time.Minute, func() bool {
		_, open := ours()
		return len(open) == 0
	})
	all, _ = ours()
	if len(all) != 1 || all[0].ID != first {
		t.Fatalf("at the end: %d incidents, want the one (%d): %+v", len(all), first, all)
	}

	// steady1's latency, in a metric statussync created (threshold 1
	// minute): the run lasted over two minutes, so at least one window
	// closed and its point was posted.
	metrics, err := c.ListMetrics(ctx)
	if err != nil {
		t.Fatalf("list metrics: %v", err)
	}
	metricID := 0
	for _, m := range metrics {
		if m.Name == name+" latency" {
			metricID = m.ID
		}
	}
	if metricID == 0 {
		t.Fatalf("no metric %q: statussync did not create it", name+" latency")
	}
	points, err := c.ListMetricPoints(ctx, metricID)
	if err != nil {
		t.Fatalf("list metric points: %v", err)
	}
	if len(points) == 0 {
		t.Errorf("metric %d has no point after %v", metricID, time.Since(started).Round(time.Second))
	}
	for _, p := range points {
		if p.Value <= 0 {
			t.Errorf("metric point %+v: want a positive latency", p)
		}
	}
	t.Logf("metric %d: %d points in %v", metricID, len(points), time.Since(started).Round(time.Second))

	throttled := regexp.MustCompile(`"status":429\b`)
	total := 0
	for i, p := range runs {
		n := len(throttled.FindAllString(p.Logs.String(), -1))
		total += n
		t.Logf("run %d: %d answers with status 429", i+1, n)
	}
	if total != 0 {
		t.Errorf("statussync was answered 429 %d times", total)
	}
}
