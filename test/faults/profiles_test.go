package faults

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/statussync/statussync/cachet/cachettest"
	"github.com/statussync/statussync/internal/testkit"
)

// TestEveryCachetEra is issue #14's service-level acceptance against each
// core era the fake reproduces: with the real binary, an outage reaches
// the page; it opens exactly one incident, which survives a kill -9
// restart without a second one and is resolved once; a component in a
// maintenance window is left alone although its check fails; and steady
// state writes nothing. Before capability detection nothing at all was
// written on the three older eras.
func TestEveryCachetEra(t *testing.T) {
	for _, p := range cachettest.Profiles() {
		t.Run(p.String(), func(t *testing.T) { runEra(t, p) })
	}
}

func runEra(t *testing.T, p cachettest.Profile) {
	// Cachet runs in a zone that is not UTC: the incident's time must
	// still be the outage's (issue #14), on every era.
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	srv := cachettest.New(t, cachettest.WithProfile(p), cachettest.WithToken(token, "*"), cachettest.WithLocation(kolkata))
	gitlab := srv.AddComponent("GitLab", cachettest.StatusOperational).ID
	docs := srv.AddComponent("Docs", cachettest.StatusOperational).ID
	end := time.Now().Add(time.Hour)
	running := cachettest.ScheduleInProgress // the 2024-10 core's column, set by a person
	srv.AddSchedule(cachettest.Schedule{Name: "Docs migration", ScheduledAt: time.Now().Add(-time.Minute), CompletedAt: &end,
		Components: []cachettest.Impact{{ComponentID: docs}}, Status: &running})
	// Steady monitors besides: when every check fails at once, statussync
	// blames its own network and decides nothing.
	web, broken, steady1, steady2 := newTarget(t), newTarget(t), newTarget(t), newTarget(t)
	wiki := srv.AddComponent("Wiki", cachettest.StatusOperational).ID
	broken.set(targetDown)
	cfgPath := filepath.Join(t.TempDir(), "statussync.yml")
	writeFile(t, cfgPath, fmt.Sprintf(`
cachet: {url: %q, token: %q, timeout: 1s, rate_limit: 5, resync_interval: 5s, backoff: {min: 50ms, max: 200ms}, timezone: Asia/Kolkata}
defaults: {interval: 100ms, timeout: 80ms, failures_before_down: 2, successes_before_up: 2}
monitors:
  - {name: web, http: {url: %q}}
  - {name: broken, http: {url: %q}}
  - {name: steady1, http: {url: %q}}
  - {name: steady2, http: {url: %q}}
components:
  - {name: GitLab, cachet_id: %d, monitors: [web], incidents: {enabled: true}}
  - {name: Docs, cachet_id: %d, monitors: [broken], incidents: {enabled: true}}
  - {name: Wiki, cachet_id: %d, monitors: [steady1, steady2]}
`, srv.URL(), token, web.URL, broken.URL, steady1.URL, steady2.URL, gitlab, docs, wiki))

	var runs []*child
	start := func() { runs = append(runs, testkit.StartDaemon(t, []string{"TZ=UTC"}, cfgPath)) }
	t.Cleanup(func() {
		if t.Failed() {
			for i, c := range runs {
				t.Logf("run %d logs:\n%s", i+1, tail(quiet(c.Logs.String()), 60))
			}
		}
	})
	incidents := func() []cachettest.Incident { return incidentsOf(srv, gitlab) }
	writesTo := func(id int) int {
		n := 0
		path := fmt.Sprintf("%s/components/%d", srv.Prefix(), id)
		for _, r := range srv.Writes() {
			if r.Path == path {
				n++
			}
		}
		return n
	}
	steady := func(what string) {
		t.Helper()
		srv.ResetRequests()
		time.Sleep(1500 * time.Millisecond)
		if w := srv.Writes(); len(w) != 0 {
			t.Errorf("%s: %d writes in steady state, first %s %s", what, len(w), w[0].Method, w[0].Path)
		}
	}

	start()
	time.Sleep(time.Second) // let the first passes run
	steady("after start")

	web.set(targetDown)
	outage := time.Now()
	eventually(t, 15*time.Second, "GitLab's outage on the page", func() bool {
		c, _ := srv.Component(gitlab)
		return c.Status != cachettest.StatusOperational
	})
	eventually(t, 15*time.Second, "one open incident for GitLab", func() bool {
		ins := incidents()
		return len(ins) == 1 && ins[0].Status != cachettest.IncidentFixed
	})
	first := incidents()[0].ID
	if at := incidents()[0].OccurredAt; at == nil || at.Sub(outage).Abs() > 10*time.Second {
		t.Errorf("the incident occurred at %v, the outage began at %v", at, outage.UTC())
	}

	runs[len(runs)-1].Kill()
	start()
	time.Sleep(3 * time.Second) // passes of the restarted process, outage ongoing
	if ins := incidents(); len(ins) != 1 || ins[0].ID != first || ins[0].Status == cachettest.IncidentFixed {
		t.Fatalf("after kill -9 and restart: %s", describe(srv, ins))
	}

	web.set(targetUp)
	eventually(t, 15*time.Second, "GitLab operational again", func() bool {
		c, _ := srv.Component(gitlab)
		return c.Status == cachettest.StatusOperational
	})
	eventually(t, 15*time.Second, "the incident resolved", func() bool {
		ins := incidents()
		return len(ins) == 1 && ins[0].Status == cachettest.IncidentFixed
	})
	fixed := 0
	for _, u := range srv.IncidentUpdates(first) {
		if u.Status == cachettest.IncidentFixed {
			fixed++
		}
	}
	if fixed != 1 {
		t.Errorf("the incident was resolved %d times", fixed)
	}
	if n := writesTo(docs); n != 0 {
		t.Errorf("%d writes to Docs, which is in a maintenance window", n)
	}
	if c, _ := srv.Component(docs); c.Status != cachettest.StatusOperational {
		t.Errorf("Docs status changed to %d during maintenance", c.Status)
	}
	steady("after recovery")
}
