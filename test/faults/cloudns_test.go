package faults

import (
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/statussync/statussync/cachet/cachettest"
	"github.com/statussync/statussync/cloudns/cloudnstest"
)

// many is "every request from now until the fault is cleared".
const many = 1 << 30

// cloudnsFault is one way for ClouDNS to fail (docs/cloudns.md), how it
// shows in the metrics, and how it ends.
type cloudnsFault struct {
	name string
	// kinds are the statussync_cloudns_poll_errors_total kinds the failed
	// polls may be counted under; none for faults that are not failures.
	kinds []string
	start func(*cloudnsFront)
	end   func(*cloudnsFront)
	// visible, for faults that are not failed polls, reports whether the
	// metrics show them.
	visible func(svc *service) bool
}

var cloudnsFaults = []cloudnsFault{
	{name: "auth", kinds: []string{"auth"}, start: func(f *cloudnsFront) { f.FailNext(many, cloudnstest.TextAuthFailed) }},
	{name: "permission", kinds: []string{"permission"}, start: func(f *cloudnsFront) { f.FailNext(many, cloudnstest.TextPermission) }},
	{name: "rate-limited", kinds: []string{"rate_limited"}, start: func(f *cloudnsFront) { f.FailNext(many, cloudnstest.RateLimitText("127.0.0.1", 20)) }},
	{name: "http-429", kinds: []string{"rate_limited"}, start: func(f *cloudnsFront) { f.FailNextHTTP(many, http.StatusTooManyRequests) }},
	{name: "http-503", kinds: []string{"http_5xx"}, start: func(f *cloudnsFront) { f.FailNextHTTP(many, http.StatusServiceUnavailable) }},
	{name: "http-403", kinds: []string{"http_other"}, start: func(f *cloudnsFront) { f.FailNextHTTP(many, http.StatusForbidden) }},
	{name: "not-found", kinds: []string{"not_found"}, start: func(f *cloudnsFront) { f.FailNext(many, cloudnstest.TextInvalidID) }},
	{name: "unknown-failure-text", kinds: []string{"other"}, start: func(f *cloudnsFront) { f.FailNext(many, "Something went wrong, try again later.") }},
	{name: "html-instead-of-json", kinds: []string{"bad_response"}, start: func(f *cloudnsFront) {
		f.Inject(cloudnstest.Fault{Times: many, Body: "<html><body>Maintenance</body></html>"})
	}},
	{name: "connection-reset", kinds: []string{"transport"}, start: func(f *cloudnsFront) { f.DropNext(many) }},
	{name: "connection-refused", kinds: []string{"transport"}, start: func(f *cloudnsFront) { f.sw.refuse() }, end: func(f *cloudnsFront) { f.sw.accept() }},
	// Answers arrive after the 1s request timeout; retries then run into
	// the poll's own deadline.
	{name: "hangs", kinds: []string{"transport", "canceled"}, start: func(f *cloudnsFront) { f.SetLatency(3 * time.Second) },
		end: func(f *cloudnsFront) { f.SetLatency(0) }},
	// An API change that ignores the status filter: every check is in
	// both sets, a contradiction, so unknown, never down or up.
	{name: "filters-ignored", start: func(f *cloudnsFront) { f.IgnoreFilters(true) }, end: func(f *cloudnsFront) { f.IgnoreFilters(false) },
		visible: func(svc *service) bool { return svc.value("statussync_cloudns_status_conflicts") >= 2 }},
	// Someone pauses the down check in ClouDNS: paused is unknown, so the
	// component keeps its outage until the check reports again.
	{name: "check-paused", start: func(f *cloudnsFront) { f.PauseCheck(2) }, end: func(f *cloudnsFront) { f.ResumeCheck(2) },
		visible: func(svc *service) bool { return svc.value("statussync_cloudns_checks", "status", "paused") == 1 }},
}

// cloudnsFront is the ClouDNS fake on a port that can refuse connections.
type cloudnsFront struct {
	*cloudnstest.Server
	sw *switchServer
}

func newCloudNSFront(tb testing.TB) *cloudnsFront {
	tb.Helper()
	f := &cloudnsFront{Server: cloudnstest.NewServer()}
	f.sw = newSwitchServer(tb, f.Server)
	tb.Cleanup(f.Server.Close)
	return f
}

// TestCloudNSFaults makes ClouDNS fail in each documented way (docs/
// cloudns.md: every error kind, plus the defences that are not errors)
// for at least three polls, with one check up (component Web) and one
// down (component DB, in a major outage on the page). Nothing may change:
// no component transition, no Cachet write, during the fault or after it
// ends, while the failure shows in the metrics (the poll error counter of
// its kind, or the gauge that describes it).
//
// Each case has its own fakes and service and they run side by side, as
// a poll interval cannot be shorter than 10s: a case takes about 40s.
// The monitors check every second, so each poll's result is read ten times
// and the data goes stale (2 × poll_interval) during the fault: stale data
// must read as unknown, which moves nothing either.
func TestCloudNSFaults(t *testing.T) {
	t.Parallel()
	type tcase struct {
		fault  cloudnsFault
		dns    *cloudnsFront
		cachet *cachetFront
		svc    *service
		web    int
		db     int
	}
	var cases []*tcase
	for _, fault := range cloudnsFaults {
		c := &tcase{fault: fault, dns: newCloudNSFront(t), cachet: newCachetFront(t)}
		c.dns.AddIdentity(cloudnstest.Identity{AuthID: 1234, Password: "cloudns-password"})
		c.dns.AddCheck(cloudnstest.Check{ID: 1, Name: "web", Status: cloudnstest.StatusUp})
		c.dns.AddCheck(cloudnstest.Check{ID: 2, Name: "db", Status: cloudnstest.StatusDown})
		c.web = c.cachet.AddComponent("Web", cachettest.StatusOperational).ID
		c.db = c.cachet.AddComponent("DB", cachettest.StatusOperational).ID
		c.svc = startService(t, fmt.Sprintf(`
cachet: {url: %q, token: %q, timeout: 1s, rate_limit: 5, resync_interval: 5s, backoff: {min: 50ms, max: 200ms}}
cloudns: {url: %q, auth_id: 1234, password: cloudns-password, poll_interval: 10s, timeout: 1s, rate_limit: 15}
defaults: {interval: 1s, timeout: 900ms, failures_before_down: 2, successes_before_up: 2}
monitors:
  - {name: web, cloudns: {check_id: 1}}
  - {name: db, cloudns: {check_name: db}}
components:
  - {name: Web, cachet_id: %d, monitors: [web], incidents: {enabled: true}}
  - {name: DB, cachet_id: %d, monitors: [db], incidents: {enabled: true}}
`, c.cachet.URL(), token, c.dns.sw.url(), c.web, c.db), nil, slog.LevelInfo)
		cases = append(cases, c)
	}

	var wg sync.WaitGroup
	for _, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Only Errorf from here: this is not the test's goroutine.
			name, svc := c.fault.name, c.svc
			desired := func(comp string) float64 { return svc.value("statussync_component_desired_status", "component", comp) }
			lastPoll := func() float64 { return svc.value("statussync_cloudns_last_poll_success_timestamp_seconds") }
			failed := func() float64 {
				sum := 0.0
				for _, k := range c.fault.kinds {
					sum += svc.value("statussync_cloudns_poll_errors_total", "kind", k)
				}
				return sum
			}
			transitions := func() float64 {
				return svc.value("statussync_component_transitions_total", "component", "Web", "to", "major_outage") +
					svc.value("statussync_component_transitions_total", "component", "DB", "to", "operational") +
					svc.value("statussync_component_transitions_total", "component", "Web", "to", "partial_outage") +
					svc.value("statussync_component_transitions_total", "component", "DB", "to", "partial_outage")
			}
			if !waitFor(40*time.Second, func() bool {
				return desired("Web") == 1 && desired("DB") == 4 && c.cachet.status(c.db) == cachettest.StatusMajorOutage &&
					len(incidentsOf(c.cachet.Server, c.db)) == 1 && lastPoll() > 0
			}) {
				t.Errorf("%s: the page never showed Web up and DB down before the fault", name)
				return
			}
			writes, before, polled := len(c.cachet.Writes()), failed(), lastPoll()
			if n := transitions(); n != 0 {
				t.Errorf("%s: %v unexpected transitions before the fault", name, n)
			}

			// A poll that began before the fault may still succeed after
			// it starts (the poller ticks on its own, and the metric is
			// the poll's start): its data was read before the fault. Only
			// a poll that began once the fault was in place must fail.
			injected := float64(time.Now().UnixNano()) / 1e9
			c.fault.start(c.dns)
			faultStart := time.Now()
			var changed string
			watch := func() bool {
				if w, d := desired("Web"), desired("DB"); changed == "" && (w != 1 || d != 4) {
					changed = fmt.Sprintf("Web %v, DB %v after %v", w, d, time.Since(faultStart).Round(time.Millisecond))
				}
				return false
			}
			if c.fault.kinds != nil {
				if !waitFor(45*time.Second, func() bool { watch(); return failed() >= before+3 }) {
					t.Errorf("%s: %v failed polls of kind %v in 45s, want 3", name, failed()-before, c.fault.kinds)
				}
				if last := lastPoll(); last != polled && last >= injected {
					t.Errorf("%s: a poll that began during the fault succeeded", name)
				}
			} else {
				waitFor(25*time.Second, watch) // three polls
				if !c.fault.visible(svc) {
					t.Errorf("%s: the metrics do not show it", name)
				}
			}
			if c.fault.end != nil {
				c.fault.end(c.dns)
			}
			c.dns.ClearFaults()
			ended := float64(time.Now().UnixNano()) / 1e9
			if !waitFor(25*time.Second, func() bool { watch(); return lastPoll() > ended }) {
				t.Errorf("%s: no successful poll within 25s of the fault's end", name)
			}
			waitFor(3*time.Second, watch) // three reads of the fresh poll
			if changed != "" {
				t.Errorf("%s: the desired state changed: %s", name, changed)
			}
			if n := transitions(); n != 0 {
				t.Errorf("%s: %v component transitions", name, n)
			}
			if got := c.cachet.Writes(); len(got) != writes {
				for _, w := range got[writes:] {
					t.Errorf("%s: Cachet write %s %s %s", name, w.Method, w.Path, w.Body)
				}
			}
		}()
	}
	wg.Wait()
}

// waitFor polls cond every 50ms for up to limit and reports whether it
// held. Unlike eventually it never fails the test, so it may run outside
// the test's goroutine.
func waitFor(limit time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(limit); ; time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}
