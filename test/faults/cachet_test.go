package faults

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/statussync/statussync/cachet/cachettest"
)

// cachetFault is one way for Cachet to fail, and how it ends.
type cachetFault struct {
	name  string
	start func(*cachetFront)
	end   func(*cachetFront)
	// idempotentRepeats allows a status write to be repeated with the same
	// value: when a response is lost (timeout, reset), the client retries
	// the idempotent PUT, and Cachet may have processed both.
	idempotentRepeats bool
	// leaky faults let some requests through and slow others down
	// rather than fail them: a pass may succeed during the fault, and
	// one may still be waiting out a Retry-After when it ends.
	leaky bool
	// paced faults state their limit in every answer and the client slows
	// down to it (issue #14), so failed requests need not show.
	paced bool
}

var cachetFaults = []cachetFault{
	{name: "http-500", start: func(f *cachetFront) { f.FailNext(1<<30, http.StatusInternalServerError) },
		end: func(f *cachetFront) { f.FailNext(0, 0) }},
	{name: "http-503-retry-after", start: func(f *cachetFront) { f.FailNext(1<<30, http.StatusServiceUnavailable) },
		end: func(f *cachetFront) { f.FailNext(0, 0) }},
	{name: "http-429-retry-after", start: func(f *cachetFront) { f.FailNext(1<<30, http.StatusTooManyRequests) },
		end: func(f *cachetFront) { f.FailNext(0, 0) }},
	// Cachet's own throttle at 6 requests a minute: a few requests pass,
	// then the client paces itself to the stated limit, and any 429 has a
	// Retry-After until the end of the minute.
	{name: "throttled", start: func(f *cachetFront) { f.SetRateLimit(6) },
		end: func(f *cachetFront) { f.SetRateLimit(0) }, leaky: true, paced: true},
	// Every response arrives after the client's 300ms timeout.
	{name: "hangs-past-timeout", start: func(f *cachetFront) { f.SetLatency(time.Second) },
		end: func(f *cachetFront) { f.SetLatency(0) }, idempotentRepeats: true},
	{name: "connection-refused", start: (*cachetFront).refuse, end: (*cachetFront).accept},
	{name: "connection-reset", start: func(f *cachetFront) { f.DropNext(1 << 30) },
		end: func(f *cachetFront) { f.DropNext(0) }, idempotentRepeats: true},
	// Writes are processed, their responses lost: the nastiest case for
	// duplicates, since statussync cannot tell whether a write happened.
	// Reads still work, so a pass that finds its earlier writes applied
	// succeeds during the fault.
	{name: "write-responses-lost", start: func(f *cachetFront) { f.loseWrites.Store(true) },
		end: func(f *cachetFront) { f.loseWrites.Store(false) }, idempotentRepeats: true, leaky: true},
}

// TestCachetFaults runs, for each way Cachet can fail, an outage history
// while Cachet fails: component A has an outage that begins and ends during
// the fault and a second one still going when Cachet returns; B's outage
// (incident open before the fault) ends during the fault; C (status only)
// flaps; D never changes. Afterwards, the first successful reconcile pass
// must leave Cachet equal to the desired state, with exactly one incident
// per outage, each ended outage resolved exactly once, status writes only
// for changes, and nothing written after that pass.
//
// Compression: checks run every 100ms and the reconcile backoff is 50ms to
// 400ms, so the 6s fault is 60 check intervals, what an hour-long Cachet
// outage is at interval 60s with the default 1s-1m backoff. The Cachet client's own per-call retries (3, 0.5s
// to 10s, honouring Retry-After) are not configurable and run at real
// speed; they make each failed pass longer, not different.
func TestCachetFaults(t *testing.T) {
	for _, fault := range cachetFaults {
		// One at a time: eight services with 80ms check timeouts under
		// -race on 2 cores made the engine's own checks flap (a component
		// whose target never fails saw an outage), which is not what this
		// test is about.
		t.Run(fault.name, func(t *testing.T) {
			runCachetFault(t, fault)
		})
	}
}

// faultLength is how long Cachet fails. It is longer than one call's
// retries inside the Cachet client, so that passes fail during the fault
// rather than merely wait: the three waits are at most 0.5s, 1s and 2s
// (apiclient.BackoffBelow), so with four 300ms timeouts one call lasts at
// most about 4.7s.
const faultLength = 6 * time.Second

func runCachetFault(t *testing.T, fault cachetFault) {
	front := newCachetFront(t)
	names := []string{"A", "B", "C", "D"}
	ids := map[string]int{}
	targets := map[string]*target{}
	for _, n := range names {
		ids[n] = front.AddComponent("Component "+n, cachettest.StatusOperational).ID
		targets[n] = newTarget(t)
	}
	cfg := fmt.Sprintf(`
cachet:
  url: %q
  token: %q
  timeout: 300ms
  rate_limit: 5
  resync_interval: 5s
  backoff: {min: 50ms, max: 400ms}
defaults: {interval: 100ms, timeout: 80ms, failures_before_down: 2, successes_before_up: 2}
monitors:
  - {name: a, http: {url: %q}}
  - {name: b, http: {url: %q}}
  - {name: c, http: {url: %q}}
  - {name: d, http: {url: %q}}
components:
  - {name: A, cachet_id: %d, monitors: [a], incidents: {enabled: true}}
  - {name: B, cachet_id: %d, monitors: [b], incidents: {enabled: true}}
  - {name: C, cachet_id: %d, monitors: [c]}
  - {name: D, cachet_id: %d, monitors: [d], incidents: {enabled: true}}
`, front.URL(), token, targets["A"].URL, targets["B"].URL, targets["C"].URL, targets["D"].URL,
		ids["A"], ids["B"], ids["C"], ids["D"])
	svc := startService(t, cfg, nil, slog.LevelDebug)
	lastSuccess := func() float64 { return svc.value("statussync_reconcile_last_success_timestamp_seconds") }
	desired := func(c string) int {
		return int(svc.value("statussync_component_desired_status", "component", c))
	}

	// Before the fault: everything decided, B in an outage with its
	// incident open.
	eventually(t, 10*time.Second, "every component decided and a successful pass", func() bool {
		for _, n := range names {
			if desired(n) != 1 {
				return false
			}
		}
		return lastSuccess() > 0
	})
	targets["B"].set(targetDown)
	eventually(t, 10*time.Second, "B's outage on the page with an open incident", func() bool {
		in := incidentsOf(front.Server, ids["B"])
		return front.status(ids["B"]) == 4 && len(in) == 1 && in[0].Status != 4
	})

	// The fault, and a history of changes while it lasts.
	errorsBefore := svc.value("statussync_reconcile_errors_total")
	failedBefore := failedRequests(svc)
	fault.start(front)
	faultStart := time.Now()
	at := func(d time.Duration, f func()) {
		time.Sleep(time.Until(faultStart.Add(d)))
		f()
	}
	at(0, func() { targets["A"].set(targetDown) })
	at(400*time.Millisecond, func() { targets["C"].set(targetDown) })
	at(800*time.Millisecond, func() { targets["B"].set(targetUp) })
	at(1600*time.Millisecond, func() { targets["A"].set(targetUp) })
	at(2000*time.Millisecond, func() { targets["C"].set(targetUp) })
	at(2800*time.Millisecond, func() { targets["C"].set(targetDown) })
	at(3200*time.Millisecond, func() { targets["A"].set(targetDown) })
	at(faultLength, func() {})
	want := map[string]int{"A": 4, "B": 1, "C": 4, "D": 1}
	for _, n := range names {
		if got := desired(n); got != want[n] {
			t.Fatalf("before the fault ends, the engine wants %s = %d, the script %d (a check flapped under load?)", n, got, want[n])
		}
	}
	if got := failedRequests(svc); got <= failedBefore && !fault.paced {
		t.Errorf("failed Cachet requests went from %v to %v during the fault: the failure is not visible", failedBefore, got)
	}
	if s := lastSuccess(); !fault.leaky && s > float64(faultStart.UnixNano())/1e9+0.5 {
		t.Errorf("a reconcile pass succeeded at %v, during the fault", time.Unix(0, int64(s*1e9)))
	}

	fault.end(front)
	healed := time.Now()
	eventually(t, 30*time.Second, "a successful pass after the fault", func() bool {
		return lastSuccess() > float64(healed.UnixNano())/1e9
	})
	if fault.leaky {
		// Passes can succeed during a leaky fault, and one may be in
		// flight when it ends (waiting out a Retry-After, or having
		// read the page while answers to writes were lost): it finishes
		// with the snapshot it took during the fault. The pass that must
		// converge is the next one, the first to begin after the fault.
		inFlight := lastSuccess()
		eventually(t, 30*time.Second, "a second successful pass after the throttle", func() bool {
			return lastSuccess() > inFlight
		})
	}
	firstPass := time.Unix(0, int64(lastSuccess()*1e9))
	t.Logf("converged %v after the fault ended", firstPass.Sub(healed).Round(time.Millisecond))

	checkConverged := func(when string) {
		t.Helper()
		for _, n := range names {
			if got := front.status(ids[n]); got != want[n] {
				t.Errorf("%s: Cachet shows %s = %d, desired %d", when, n, got, want[n])
			}
		}
	}
	checkConverged("right after the first successful pass")
	if got := svc.value("statussync_reconcile_errors_total"); !fault.leaky && got <= errorsBefore {
		t.Errorf("statussync_reconcile_errors_total went from %v to %v over the fault", errorsBefore, got)
	}
	writes := front.Writes()
	for _, w := range writes {
		if ok2xx(w) && w.Time.After(healed) && w.Time.After(firstPass) {
			t.Errorf("write %s %s at %v, after the first successful pass at %v: one pass did not converge",
				w.Method, w.Path, w.Time.Format(time.StampMilli), firstPass.Format(time.StampMilli))
		}
	}

	// Incidents: one per outage the engine decided, ended ones resolved
	// exactly once, the current one open.
	for _, n := range []string{"A", "B", "D"} {
		outages := int(svc.value("statussync_component_transitions_total", "component", n, "to", "major_outage"))
		in := incidentsOf(front.Server, ids[n])
		if len(in) != outages {
			t.Errorf("%s: %d incidents for %d outages: %s", n, len(in), outages, describe(front.Server, in))
			continue
		}
		open := 0
		for _, inc := range in {
			fixed := 0
			for _, u := range front.IncidentUpdates(inc.ID) {
				if u.Status == 4 {
					fixed++
				}
			}
			switch {
			case inc.Status != 4:
				open++
				if fixed != 0 {
					t.Errorf("%s: open incident %d has %d fixed updates", n, inc.ID, fixed)
				}
			case strings.Contains(inc.Message, "recorded after the fact"):
				if fixed != 0 {
					t.Errorf("%s: missed outage %d recorded with %d extra fixed updates", n, inc.ID, fixed)
				}
			case fixed != 1:
				t.Errorf("%s: incident %d resolved with %d fixed updates, want exactly 1: %s", n, inc.ID, fixed, describe(front.Server, []cachettest.Incident{inc}))
			}
		}
		if wantOpen := map[bool]int{true: 1, false: 0}[want[n] == 4]; open != wantOpen {
			t.Errorf("%s: %d open incidents, want %d", n, open, wantOpen)
		}
	}

	// Status writes: only changes, none for D.
	for _, n := range names {
		seq := statusWrites(writes, ids[n])
		prev := 1
		for i, s := range seq {
			if s == prev && !(fault.idempotentRepeats && i > 0) {
				t.Errorf("%s: status write %d repeats the status %d already on the page (writes %v)", n, i, s, seq)
			}
			prev = s
		}
		if n == "D" && len(seq) != 0 {
			t.Errorf("D never changed but got status writes %v", seq)
		}
	}

	// Nothing more to do: no writes until the next resync (5s away).
	count := len(front.Writes())
	time.Sleep(time.Second)
	if n := len(front.Writes()) - count; n != 0 {
		t.Errorf("%d writes after convergence, with nothing changing", n)
	}
	checkConverged("a second later")
}

// failedRequests sums statussync_cachet_requests_total over the attempts
// that got no 2xx answer.
func failedRequests(svc *service) float64 {
	mf := svc.gather()["statussync_cachet_requests_total"]
	sum := 0.0
	for _, m := range mf.GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == "code" && !strings.HasPrefix(lp.GetValue(), "2") {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

func ok2xx(r cachettest.Request) bool { return r.StatusCode >= 200 && r.StatusCode < 300 }

// statusWrites returns the statuses written to a component by successful
// (processed) PUTs, in order.
func statusWrites(writes []cachettest.Request, id int) []int {
	var out []int
	suffix := "/components/" + strconv.Itoa(id)
	for _, w := range writes {
		if (w.Method != http.MethodPut && w.Method != http.MethodPatch) || !strings.HasSuffix(w.Path, suffix) || !ok2xx(w) {
			continue
		}
		var body struct {
			Status int `json:"status"`
		}
		if err := json.Unmarshal(w.Body, &body); err == nil && body.Status != 0 {
			out = append(out, body.Status)
		}
	}
	return out
}

// describe prints incidents with their updates, for failure messages.
func describe(srv *cachettest.Server, in []cachettest.Incident) string {
	var b strings.Builder
	for _, inc := range in {
		var ups []int
		for _, u := range srv.IncidentUpdates(inc.ID) {
			ups = append(ups, u.Status)
		}
		fmt.Fprintf(&b, "\n  incident %d status %d occurred %v updates %v meta %v", inc.ID, inc.Status, inc.OccurredAt, ups, inc.Meta)
	}
	return b.String()
}

// TestCachetNoStaleWriteAfterRecovery: a reconcile pass that began before
// Cachet failed must not, once Cachet answers again, write the state it
// wanted when it began. Here an outage begins, the pass for it meets a 503
// and the client waits out Retry-After (1s); meanwhile the outage ends and
// Cachet recovers. The page never showed the outage, so the right outcome
// is no status write at all and the outage recorded after the fact as one
// already-fixed incident, never a major outage shown after it ended.
func TestCachetNoStaleWriteAfterRecovery(t *testing.T) {
	front := newCachetFront(t)
	id := front.AddComponent("GitLab", cachettest.StatusOperational).ID
	tgt := newTarget(t)
	svc := startService(t, fmt.Sprintf(`
cachet: {url: %q, token: %q, timeout: 300ms, rate_limit: 5, resync_interval: 5s, backoff: {min: 50ms, max: 400ms}}
defaults: {interval: 100ms, timeout: 80ms, failures_before_down: 2, successes_before_up: 2}
monitors:
  - {name: web, http: {url: %q}}
components:
  - {name: GitLab, cachet_id: %d, monitors: [web], incidents: {enabled: true}}
`, front.URL(), token, tgt.URL, id), nil, slog.LevelDebug)
	desired := func() int { return int(svc.value("statussync_component_desired_status", "component", "GitLab")) }
	lastSuccess := func() float64 { return svc.value("statussync_reconcile_last_success_timestamp_seconds") }
	eventually(t, 10*time.Second, "operational and a successful pass", func() bool { return desired() == 1 && lastSuccess() > 0 })

	front.FailNext(1<<30, http.StatusServiceUnavailable)
	tgt.set(targetDown)
	eventually(t, 5*time.Second, "the outage decided", func() bool { return desired() == 4 })
	tgt.set(targetUp)
	eventually(t, 5*time.Second, "the recovery decided", func() bool { return desired() == 1 })
	recovered := time.Now()
	front.FailNext(0, 0)
	eventually(t, 30*time.Second, "a successful pass after Cachet recovered", func() bool {
		return lastSuccess() > float64(recovered.UnixNano())/1e9
	})
	time.Sleep(500 * time.Millisecond) // let any follow-up pass finish

	for _, w := range front.Writes() {
		if ok2xx(w) && w.Time.After(recovered) && strings.HasSuffix(w.Path, "/components/"+strconv.Itoa(id)) {
			t.Errorf("%s %s %s at %v, after the outage had ended at %v: a stale state was written",
				w.Method, w.Path, w.Body, w.Time.Format(time.StampMilli), recovered.Format(time.StampMilli))
		}
	}
	in := front.Incidents()
	if len(in) != 1 || in[0].Status != 4 || !strings.Contains(in[0].Message, "recorded after the fact") ||
		len(front.IncidentUpdates(in[0].ID)) != 0 {
		t.Errorf("want the ended outage recorded as one already-fixed incident, got %s", describe(front.Server, in))
	}
	if got := front.status(id); got != 1 {
		t.Errorf("Cachet shows %d, want 1", got)
	}
}

// TestCachetLostResponsesNoDuplicates: Cachet processes every write but
// the answers are lost, while an outage ends. statussync cannot know
// whether the resolving update went through; posting it again once Cachet
// answers would put two "resolved" updates on the incident (and, with
// notifications on, mail subscribers twice). The status PUT may repeat (it
// is idempotent); the incident must end with exactly one fixed update.
func TestCachetLostResponsesNoDuplicates(t *testing.T) {
	front := newCachetFront(t)
	id := front.AddComponent("GitLab", cachettest.StatusOperational).ID
	tgt := newTarget(t)
	svc := startService(t, fmt.Sprintf(`
cachet: {url: %q, token: %q, timeout: 300ms, rate_limit: 5, resync_interval: 5s, backoff: {min: 50ms, max: 400ms}}
defaults: {interval: 100ms, timeout: 80ms, failures_before_down: 2, successes_before_up: 2}
monitors:
  - {name: web, http: {url: %q}}
components:
  - {name: GitLab, cachet_id: %d, monitors: [web], incidents: {enabled: true}}
`, front.URL(), token, tgt.URL, id), nil, slog.LevelDebug)
	tgt.set(targetDown)
	eventually(t, 10*time.Second, "the outage on the page with its incident", func() bool {
		return front.status(id) == cachettest.StatusMajorOutage && len(front.Incidents()) == 1
	})

	errs := svc.value("statussync_reconcile_errors_total")
	front.loseWrites.Store(true)
	tgt.set(targetUp)
	eventually(t, 15*time.Second, "the resolving update processed, its answer lost", func() bool {
		for _, w := range front.Writes() {
			if strings.HasSuffix(w.Path, "/updates") {
				return true
			}
		}
		return false
	})
	eventually(t, 15*time.Second, "the pass that lost the answer to fail", func() bool {
		return svc.value("statussync_reconcile_errors_total") > errs
	})
	time.Sleep(time.Second) // more passes while answers are lost
	healed := time.Now()
	front.loseWrites.Store(false)
	eventually(t, 15*time.Second, "a successful pass", func() bool {
		return svc.value("statussync_reconcile_last_success_timestamp_seconds") > float64(healed.UnixNano())/1e9
	})
	time.Sleep(500 * time.Millisecond)

	in := front.Incidents()
	if len(in) != 1 {
		t.Fatalf("%d incidents, want 1: %s", len(in), describe(front.Server, in))
	}
	fixed := 0
	for _, u := range front.IncidentUpdates(in[0].ID) {
		if u.Status == cachettest.IncidentFixed {
			fixed++
		}
	}
	if fixed != 1 || in[0].Status != cachettest.IncidentFixed {
		t.Errorf("the incident has %d fixed updates (status %d), want exactly one: %s", fixed, in[0].Status, describe(front.Server, in))
	}
	if got := front.status(id); got != cachettest.StatusOperational {
		t.Errorf("Cachet shows %d, want 1", got)
	}
}

// TestCachetNoStaleRetriedWrite: the status write itself meets a 503 with
// Retry-After, and the outage ends while the client waits to retry it.
// Checking the desire before the write is not enough: the retried write
// would put a major outage on the page after the outage ended. The write
// must be dropped (its context cancelled when the desire changes), and
// the page must never show the ended outage.
func TestCachetNoStaleRetriedWrite(t *testing.T) {
	front := newCachetFront(t)
	id := front.AddComponent("GitLab", cachettest.StatusOperational).ID
	tgt := newTarget(t)
	svc := startService(t, fmt.Sprintf(`
cachet: {url: %q, token: %q, timeout: 300ms, rate_limit: 5, resync_interval: 5s, backoff: {min: 50ms, max: 400ms}}
defaults: {interval: 100ms, timeout: 80ms, failures_before_down: 2, successes_before_up: 2}
monitors:
  - {name: web, http: {url: %q}}
components:
  - {name: GitLab, cachet_id: %d, monitors: [web]}
`, front.URL(), token, tgt.URL, id), nil, slog.LevelDebug)
	desired := func() int { return int(svc.value("statussync_component_desired_status", "component", "GitLab")) }
	eventually(t, 10*time.Second, "operational and a successful pass", func() bool {
		return desired() == 1 && svc.value("statussync_reconcile_last_success_timestamp_seconds") > 0
	})

	front.failPuts.Store(1)
	tgt.set(targetDown)
	select {
	case <-front.putFailed:
	case <-time.After(10 * time.Second):
		t.Fatal("no status write within 10s of the outage")
	}
	tgt.set(targetUp) // the client now waits a second before retrying
	eventually(t, 900*time.Millisecond, "the recovery decided within the Retry-After", func() bool { return desired() == 1 })
	recovered := time.Now()
	time.Sleep(2 * time.Second) // the retry, and the pass after it

	for _, w := range front.Writes() {
		if ok2xx(w) && w.Time.After(recovered) && bytes.Contains(w.Body, []byte(`"status":4`)) {
			t.Errorf("%s %s %s at %v, after the outage had ended at %v: a stale state was written",
				w.Method, w.Path, w.Body, w.Time.Format(time.StampMilli), recovered.Format(time.StampMilli))
		}
	}
	if got := front.status(id); got != cachettest.StatusOperational {
		t.Errorf("Cachet shows %d, want 1", got)
	}
}
