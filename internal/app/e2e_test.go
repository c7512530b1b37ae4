package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/statussync/statussync/cachet/cachettest"
)

// target is a local HTTP service that can be made to fail.
type target struct {
	*httptest.Server
	down atomic.Bool
}

func newTarget(tb testing.TB) *target {
	tb.Helper()
	t := &target{}
	t.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if t.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_, _ = fmt.Fprintln(w, "ok")
	}))
	tb.Cleanup(t.Close)
	return t
}

// startApp runs the whole service with a config file and returns a stop
// function that asserts a clean shutdown.
func startApp(tb testing.TB, cfg string) (stop func()) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "statussync.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		tb.Fatal(err)
	}
	a, err := New(Options{ConfigFile: path, ListenAddress: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	if _, err := a.Addr(ctx); err != nil {
		tb.Fatal(err)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("shutdown: %v", err)
		}
	}
	tb.Cleanup(stop)
	return stop
}

func wait(tb testing.TB, what string, limit time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestOutageEndToEnd runs the real wiring: scheduler, http monitors, state
// machine, aggregation, reconciler, Cachet client, against local targets
// and the Cachet fake.
func TestOutageEndToEnd(t *testing.T) {
	srv := cachettest.New(t, cachettest.WithToken("e2e-token", "*"))
	gitlab := srv.AddComponent("GitLab", 1)
	docs := srv.AddComponent("Docs", 1)
	web, api, docsTarget := newTarget(t), newTarget(t), newTarget(t)

	stop := startApp(t, fmt.Sprintf(`
cachet: {url: %q, token: e2e-token, timeout: 2s}
defaults: {interval: 100ms, timeout: 80ms, failures_before_down: 2, successes_before_up: 2}
monitors:
  - {name: gitlab-web, http: {url: %q}}
  - {name: gitlab-api, http: {url: %q}}
  - {name: docs, http: {url: %q}}
components:
  - name: GitLab
    cachet_id: %d
    monitors: [gitlab-web, gitlab-api]
    rule: quorum
    quorum: 2
    incidents: {enabled: true}
  - name: Docs
    monitors: [docs]
`, srv.URL(), web.URL, api.URL, docsTarget.URL, gitlab.ID))

	status := func(id int) int { c, _ := srv.Component(id); return c.Status }
	wait(t, "the first pass", 5*time.Second, func() bool { return len(srv.Requests()) > 0 })

	// One of two monitors down: quorum 2 not reached, partial outage.
	web.down.Store(true)
	wait(t, "partial outage", 5*time.Second, func() bool { return status(gitlab.ID) == 3 })
	// Both down: major outage; one incident.
	api.down.Store(true)
	wait(t, "major outage", 5*time.Second, func() bool { return status(gitlab.ID) == 4 })
	wait(t, "an incident", 5*time.Second, func() bool { return len(srv.Incidents()) == 1 })
	if status(docs.ID) != 1 {
		t.Errorf("Docs, found by name, changed to %d", status(docs.ID))
	}

	web.down.Store(false)
	api.down.Store(false)
	wait(t, "recovery", 5*time.Second, func() bool {
		in := srv.Incidents()
		return status(gitlab.ID) == 1 && len(in) == 1 && in[0].Status == 4
	})

	// Steady state: ~15 check cycles of three monitors, no writes.
	writes := len(srv.Writes())
	time.Sleep(1500 * time.Millisecond)
	if got := len(srv.Writes()) - writes; got != 0 {
		t.Errorf("steady state produced %d writes", got)
	}
	stop()
	if n := len(srv.Incidents()); n != 1 {
		t.Errorf("%d incidents, want 1", n)
	}
}

// TestDryRunWritesNothing: with cachet.dry_run, every decision is made and
// nothing is written, even with a URL and a valid token.
func TestDryRunWritesNothing(t *testing.T) {
	srv := cachettest.New(t, cachettest.WithToken("e2e-token", "*"))
	c := srv.AddComponent("GitLab", 1)
	web := newTarget(t)
	web.down.Store(true)
	stop := startApp(t, fmt.Sprintf(`
cachet: {url: %q, token: e2e-token, dry_run: true}
defaults: {interval: 100ms, timeout: 80ms, failures_before_down: 1}
monitors:
  - {name: gitlab-web, http: {url: %q}}
components:
  - {name: GitLab, cachet_id: %d, monitors: [gitlab-web], incidents: {enabled: true}}
`, srv.URL(), web.URL, c.ID))
	time.Sleep(800 * time.Millisecond)
	stop()
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("dry run sent %d requests to Cachet", n)
	}
}
