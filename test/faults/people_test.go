package faults

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/statussync/statussync/cachet/cachettest"
)

// peopleConfig is one incident-enabled component with the resync far
// away, so that nothing but the reconciler's own freshness rules can
// notice what people and schedules do.
func peopleConfig(front *cachetFront, target string, id int) string {
	return fmt.Sprintf(`
cachet: {url: %q, token: %q, timeout: 1s, rate_limit: 5, resync_interval: 5m, backoff: {min: 50ms, max: 400ms}}
defaults: {interval: 100ms, timeout: 80ms, failures_before_down: 2, successes_before_up: 2}
monitors:
  - {name: web, http: {url: %q}}
components:
  - {name: GitLab, cachet_id: %d, monitors: [web], incidents: {enabled: true}}
`, front.URL(), token, target, id)
}

// componentWrites returns the successful writes to component id after t.
func componentWrites(front *cachetFront, id int, after time.Time) []string {
	var out []string
	for _, w := range front.Writes() {
		if ok2xx(w) && w.Time.After(after) && strings.HasSuffix(w.Path, "/components/"+strconv.Itoa(id)) {
			out = append(out, fmt.Sprintf("%s %s at %s", w.Method, w.Body, w.Time.Format(time.StampMilli)))
		}
	}
	return out
}

// TestMaintenanceWindow (#13 points 1 and 2): a maintenance window starts
// mid-run, between resyncs; an outage begins and ends inside it, and a
// second one outlasts it. Inside the window statussync writes nothing,
// and the planned downtime never becomes an incident, not even afterwards;
// the outage that outlasts the window is published when the window ends,
// with an incident that starts at the window's end.
func TestMaintenanceWindow(t *testing.T) {
	front := newCachetFront(t)
	id := front.AddComponent("GitLab", cachettest.StatusOperational).ID
	tgt := newTarget(t)
	svc := startService(t, peopleConfig(front, tgt.URL, id), nil, slog.LevelDebug)
	desired := func() int { return int(svc.value("statussync_component_desired_status", "component", "GitLab")) }
	eventually(t, 10*time.Second, "operational", func() bool { return desired() == 1 })
	time.Sleep(300 * time.Millisecond) // the start-up pass has read the (empty) schedules

	start := time.Now().Truncate(time.Second).Add(2 * time.Second)
	end := start.Add(8 * time.Second)
	front.AddSchedule(cachettest.Schedule{Name: "Upgrade", ScheduledAt: start, CompletedAt: &end,
		Components: []cachettest.Impact{{ComponentID: id}}})
	time.Sleep(time.Until(start.Add(500 * time.Millisecond)))

	tgt.set(targetDown)
	eventually(t, 5*time.Second, "the first outage decided", func() bool { return desired() == 4 })
	time.Sleep(time.Second)
	tgt.set(targetUp)
	eventually(t, 5*time.Second, "its recovery decided", func() bool { return desired() == 1 })
	time.Sleep(500 * time.Millisecond)
	tgt.set(targetDown)
	eventually(t, 5*time.Second, "the second outage decided", func() bool { return desired() == 4 })
	if time.Now().After(end) {
		t.Fatalf("the script ran past the window's end (%v): too slow a machine for this test", end)
	}
	if w := componentWrites(front, id, start); len(w) != 0 {
		t.Errorf("status writes inside the maintenance window: %v", w)
	}
	if n := len(front.Incidents()); n != 0 {
		t.Errorf("%d incidents inside the maintenance window: %s", n, describe(front.Server, front.Incidents()))
	}

	time.Sleep(time.Until(end))
	eventually(t, 10*time.Second, "the outage published after the window", func() bool {
		return front.status(id) == 4 && len(front.Incidents()) == 1
	})
	in := front.Incidents()[0]
	if in.OccurredAt == nil || in.OccurredAt.Before(end) {
		t.Errorf("the incident occurred at %v, inside the window that ended at %v", in.OccurredAt, end)
	}
	if strings.Contains(in.Message, "recorded after the fact") {
		t.Errorf("planned downtime recorded after the fact: %s", describe(front.Server, front.Incidents()))
	}
	tgt.set(targetUp)
	eventually(t, 10*time.Second, "recovery", func() bool { return front.status(id) == 1 })
	// The resolve follows the status write after a maintenance read and a
	// read of the incident (never move a person's status back), at this
	// configuration's 5 requests a second: wait for it rather than guess.
	eventually(t, 10*time.Second, "the incident resolved", func() bool {
		all := front.Incidents()
		return len(all) == 1 && all[0].Status == 4
	})
	time.Sleep(500 * time.Millisecond) // anything late would show now
	if all := front.Incidents(); len(all) != 1 || all[0].Status != 4 {
		t.Errorf("want one incident, resolved: %s", describe(front.Server, all))
	}
}

// TestPeopleEdits (#13 points 3 and 6): during an outage a person moves
// statussync's incident to identified, then resolves it, and sets the
// component's status by hand. statussync never moves the incident back or
// reopens it, opens no second one for the outage that continues, and the
// person's status stands across a restart (the new process takes the
// decision from Cachet, as a new leader would after a handover: see
// test/ha's TestPeopleEditsAcrossHandover for a real one). The next outage gets its own
// incident.
func TestPeopleEdits(t *testing.T) {
	front := newCachetFront(t)
	id := front.AddComponent("GitLab", cachettest.StatusOperational).ID
	tgt := newTarget(t)
	cfg := peopleConfig(front, tgt.URL, id)
	svc := startService(t, cfg, nil, slog.LevelDebug)
	desired := func() int { return int(svc.value("statussync_component_desired_status", "component", "GitLab")) }
	eventually(t, 10*time.Second, "operational", func() bool { return desired() == 1 })

	tgt.set(targetDown)
	eventually(t, 10*time.Second, "the outage with its incident", func() bool {
		return front.status(id) == 4 && len(incidentsOf(front.Server, id)) == 1
	})
	inc := incidentsOf(front.Server, id)[0].ID
	front.AddIncidentUpdate(inc, 2, "Identified: a broken disk.")
	front.AddIncidentUpdate(inc, 4, "Fixed as far as we are concerned.")
	front.SetComponentStatus(id, cachettest.StatusPerformanceIssues)
	edited := time.Now()

	svc.stop()
	svc = startService(t, cfg, nil, slog.LevelDebug)
	desired = func() int { return int(svc.value("statussync_component_desired_status", "component", "GitLab")) }
	eventually(t, 10*time.Second, "the outage decided again", func() bool { return desired() == 4 })
	// A pass that found nothing left to do: the new process has looked at
	// the outage's incident and decided.
	decided := float64(time.Now().UnixNano()) / 1e9
	eventually(t, 10*time.Second, "the new process's first converged pass", func() bool {
		return svc.value("statussync_reconcile_last_success_timestamp_seconds") > decided
	})
	time.Sleep(time.Second)
	if got := front.status(id); got != cachettest.StatusPerformanceIssues {
		t.Errorf("after the restart Cachet shows %d, want the person's 2", got)
	}
	if w := componentWrites(front, id, edited); len(w) != 0 {
		t.Errorf("status writes over the person's: %v", w)
	}
	for _, u := range front.IncidentUpdates(inc) {
		if u.CreatedAt.After(edited) {
			t.Errorf("statussync updated the incident a person resolved: %+v", u)
		}
	}
	if in, _ := front.Incident(inc); in.Status != 4 {
		t.Errorf("the resolved incident is %d again", in.Status)
	}
	if all := incidentsOf(front.Server, id); len(all) != 1 {
		t.Errorf("a second incident for the outage that continued across the restart: %s", describe(front.Server, all))
	}

	// The documented rule: the next outage, after the component was
	// operational again, gets a new incident.
	tgt.set(targetUp)
	eventually(t, 10*time.Second, "the recovery decided", func() bool { return desired() == 1 })
	tgt.set(targetDown)
	eventually(t, 10*time.Second, "the next outage with a new incident", func() bool {
		all := incidentsOf(front.Server, id)
		return len(all) > 1 && all[len(all)-1].Status != 4
	})
	if all := incidentsOf(front.Server, id); len(all) != 2 {
		t.Errorf("want the resolved incident and the next outage's: %s", describe(front.Server, all))
	}
}
