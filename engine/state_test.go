package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/monitors"
)

// seq turns "U D ? G" into results: U up, G degraded (grey), D down,
// ? unknown.
func seq(s string) []monitors.Result {
	var out []monitors.Result
	for _, f := range strings.Fields(s) {
		st := map[string]monitors.Status{"U": monitors.StatusUp, "G": monitors.StatusDegraded, "D": monitors.StatusDown, "?": monitors.StatusUnknown}[f]
		out = append(out, monitors.Result{Status: st})
	}
	return out
}

func TestStateMachine(t *testing.T) {
	tests := []struct {
		name                string
		failures, successes int
		results             string
		// want is the decided state after each result.
		want string
	}{
		{"first success believed at once", 2, 2, "U", "up"},
		{"first degraded believed at once", 2, 2, "G", "degraded"},
		{"first failure not enough", 2, 2, "D", "unknown"},
		{"failures reach threshold from start", 2, 2, "D D", "unknown down"},
		{"one failure is noise", 2, 2, "U D U", "up up up"},
		{"threshold edge: exactly N failures", 3, 2, "U D D D", "up up up down"},
		{"threshold edge: N-1 failures then success", 3, 2, "U D D U D D", "up up up up up up"},
		{"recovery needs successes", 2, 2, "U D D U U", "up up down down up"},
		{"recovery broken by failure restarts count", 2, 2, "U D D U D U U", "up up down down down down up"},
		{"unknown neither advances nor resets failures", 2, 2, "U D ? D", "up up up down"},
		{"unknown neither advances nor resets successes", 2, 2, "U D D U ? U", "up up down down down up"},
		{"only unknowns decide nothing", 1, 1, "? ? ?", "unknown unknown unknown"},
		{"degraded needs threshold", 2, 2, "U G G", "up up degraded"},
		{"degraded then down counts towards degraded", 2, 2, "U G D", "up up degraded"},
		{"degraded back to up needs successes", 2, 2, "U G G U U", "up up degraded degraded up"},
		{"down to degraded when it answers slowly", 2, 2, "D D G G", "unknown down down degraded"},
		{"down recovers to up via mixed not-down", 2, 2, "D D G U", "unknown down down up"},
		{"thresholds of 1 follow every result", 1, 1, "U D U G D", "up down up degraded down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s monitorState
			var got []string
			for _, r := range seq(tt.results) {
				s.observe(r, tt.failures, tt.successes, time.Unix(0, 0))
				got = append(got, s.state.String())
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("states = %q, want %q", g, tt.want)
			}
		})
	}
}

func TestStateMachineReportsChangesAndTimes(t *testing.T) {
	var s monitorState
	t0 := time.Unix(1000, 0)
	if !s.observe(monitors.Result{Status: monitors.StatusUp}, 2, 2, t0) {
		t.Error("unknown -> up must report a change")
	}
	if s.observe(monitors.Result{Status: monitors.StatusUp}, 2, 2, t0.Add(time.Minute)) {
		t.Error("up -> up is no change")
	}
	s.observe(monitors.Result{Status: monitors.StatusDown, Reason: "HTTP 503"}, 2, 2, t0.Add(2*time.Minute))
	if !s.observe(monitors.Result{Status: monitors.StatusDown, Reason: "HTTP 502"}, 2, 2, t0.Add(3*time.Minute)) {
		t.Error("second failure must report the change to down")
	}
	// The outage began with the first failure, not the one that tripped
	// the threshold.
	if !s.since.Equal(t0.Add(2*time.Minute)) || s.reason != "HTTP 502" {
		t.Errorf("since = %v, last reason = %q", s.since, s.reason)
	}
}

func TestAggregate(t *testing.T) {
	up := memberState{status: monitors.StatusUp}
	slow := memberState{status: monitors.StatusDegraded}
	down := memberState{status: monitors.StatusDown, outage: config.OutageMajor}
	downPartial := memberState{status: monitors.StatusDown, outage: config.OutagePartial}
	unknown := memberState{status: monitors.StatusUnknown}
	tests := []struct {
		name    string
		rule    config.Rule
		quorum  int
		members []memberState
		want    ComponentState
	}{
		{"worst all up", config.RuleWorst, 0, []memberState{up, up}, ComponentOperational},
		{"worst one slow", config.RuleWorst, 0, []memberState{up, slow}, ComponentPerformanceIssues},
		{"worst one down", config.RuleWorst, 0, []memberState{up, down}, ComponentMajorOutage},
		{"worst partial outage monitor", config.RuleWorst, 0, []memberState{up, downPartial}, ComponentPartialOutage},
		{"worst major beats partial", config.RuleWorst, 0, []memberState{downPartial, down}, ComponentMajorOutage},
		{"unknown members are left out", config.RuleWorst, 0, []memberState{unknown, up}, ComponentOperational},
		{"nothing decided is unknown", config.RuleWorst, 0, []memberState{unknown, unknown}, ComponentUnknown},
		{"no members is unknown", config.RuleWorst, 0, nil, ComponentUnknown},
		{"any_up with one up", config.RuleAnyUp, 0, []memberState{down, up}, ComponentOperational},
		{"any_up slow and down", config.RuleAnyUp, 0, []memberState{down, slow}, ComponentPerformanceIssues},
		{"any_up all down", config.RuleAnyUp, 0, []memberState{down, down}, ComponentMajorOutage},
		{"any_up all down partial", config.RuleAnyUp, 0, []memberState{downPartial, down}, ComponentPartialOutage},
		{"quorum reached", config.RuleQuorum, 2, []memberState{down, down, up}, ComponentMajorOutage},
		{"quorum edge: one short is partial", config.RuleQuorum, 2, []memberState{down, up, up}, ComponentPartialOutage},
		{"quorum none down", config.RuleQuorum, 2, []memberState{up, slow, up}, ComponentPerformanceIssues},
		{"quorum unknown is not down", config.RuleQuorum, 2, []memberState{down, unknown, up}, ComponentPartialOutage},
		{"quorum of 1 is worst-like", config.RuleQuorum, 1, []memberState{down, up}, ComponentMajorOutage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := aggregate(tt.rule, tt.quorum, tt.members); got != tt.want {
				t.Errorf("aggregate = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRepeatedObservationCountsOnce: a result whose evidence was observed
// no later than the last counted one (a re-read of the same ClouDNS poll,
// or any kind's stale result) moves no counter, for every kind.
func TestRepeatedObservationCountsOnce(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(st monitors.Status, sec int) monitors.Result {
		return monitors.Result{Status: st, ObservedAt: t0.Add(time.Duration(sec) * time.Second)}
	}
	var s monitorState
	s.observe(at(monitors.StatusUp, 0), 2, 2, t0)
	// One poll that says down, read three times: one failure, not down.
	for range 3 {
		if s.observe(at(monitors.StatusDown, 60), 2, 2, t0) {
			t.Fatal("one observation read three times reached failures_before_down 2")
		}
	}
	if s.state != monitors.StatusUp || s.down != 1 {
		t.Fatalf("state %v with %d failures counted, want up with 1", s.state, s.down)
	}
	// An older observation arriving late counts for nothing either.
	s.observe(at(monitors.StatusDown, 30), 2, 2, t0)
	if s.down != 1 {
		t.Fatalf("%d failures after a late older observation", s.down)
	}
	// The next poll is new evidence.
	if !s.observe(at(monitors.StatusDown, 120), 2, 2, t0) || s.state != monitors.StatusDown {
		t.Fatalf("second distinct observation: state %v", s.state)
	}
	// Results without an observation time (hand-built) always count.
	var z monitorState
	z.observe(monitors.Result{Status: monitors.StatusDown}, 2, 2, t0)
	z.observe(monitors.Result{Status: monitors.StatusDown}, 2, 2, t0)
	if z.state != monitors.StatusDown {
		t.Errorf("results without ObservedAt: %v, want down", z.state)
	}
}
