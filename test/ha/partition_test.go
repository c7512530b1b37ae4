package ha

import (
	"testing"
	"time"

	"github.com/statussync/statussync/cachet/cachettest"
	"github.com/statussync/statussync/internal/ha/kubetest"
)

// TestPartitionedLeaderStopsWriting is issue #9's second acceptance test.
// The leader's access to the API server is cut (connections refused, or
// packets dropped) during an outage: it must stop writing within the renew
// deadline of its last renew, so before its lease expires and a second
// before the other replica can take over. The target recovers while the
// old leader is cut off but still probing and knows it: only the new
// leader may write that. When access returns, exactly one leader remains.
func TestPartitionedLeaderStopsWriting(t *testing.T) {
	srv := kubetest.Start(t)
	tests := []struct {
		name string
		ns   string
		mode kubetest.Mode
	}{
		{"connections refused", "statussync-refused", kubetest.Reset},
		{"packets dropped", "statussync-dropped", kubetest.Blackhole},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCluster(t, srv, tt.ns)
			a := c.start(t, "replica-a", tokenA)
			b := c.start(t, "replica-b", tokenB)
			w := watchLeaders(t, a, b)
			auditRequests(t, c, a, b)
			leader, follower := w.awaitLeader(t, 2*leaseDuration)
			t.Logf("%s leads, %s follows", leader.name, follower.name)

			c.target.down.Store(true)
			eventually(t, 10*time.Second, "the outage on the page with its incident", func() bool {
				return c.status() == cachettest.StatusMajorOutage && c.openIncidents() > 0
			})
			time.Sleep(2 * retryPeriod) // a renew or two with the outage written
			incidents := c.cachet.Incidents()
			if len(incidents) != 1 {
				t.Fatalf("%d incidents for one outage: %s", len(incidents), c.pageState())
			}
			incident := incidents[0].ID

			cut := time.Now()
			leader.proxy.Set(tt.mode)
			stopped := leader.awaitTermEnd(t, 1, leaseDuration+time.Second)
			// What followers see: the last renew that reached the API
			// server. Nothing the leader sends reaches it now, and the
			// follower cannot have taken the lease yet.
			l := c.lease(t)
			if h := holder(l); h != leader.name {
				t.Fatalf("lease holder when %s stopped leading = %q, want %s still", leader.name, h, leader.name)
			}
			lastRenew := renewTime(t, l)
			expires := lastRenew.Add(time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second)

			// The state changes while the old leader is cut off: it still
			// probes and wants the recovery written, but must not write it.
			c.target.down.Store(false)
			recovered := time.Now()
			noticed := leader.awaitLogged(t, 5*time.Second, recovered, "component state changed", "operational")

			took := follower.awaitTerm(t, 1, takeoverBound+5*time.Second)
			t.Logf("%s knew of the recovery %v before %s took over", leader.name,
				took.start.Sub(noticed.Time).Round(time.Millisecond), follower.name)
			eventually(t, 10*time.Second, "the recovery on the page, incident resolved", func() bool {
				return c.status() == cachettest.StatusOperational && c.openIncidents() == 0
			})

			t.Logf("%s stopped leading (%s) %v after the cut, %v after its last renew, %v before its lease expired; "+
				"%s took over %v after that renew, %v after %s stopped",
				leader.name, stopped.reason, stopped.end.Sub(cut).Round(time.Millisecond),
				stopped.end.Sub(lastRenew).Round(time.Millisecond), expires.Sub(stopped.end).Round(time.Millisecond),
				follower.name, took.start.Sub(lastRenew).Round(time.Millisecond),
				took.start.Sub(stopped.end).Round(time.Millisecond), leader.name)
			if d := stopped.end.Sub(lastRenew); d > renewDeadline+timerSlack {
				t.Errorf("%s stopped leading %v after its last renew, want within the renew deadline %v (+%v)", leader.name, d, renewDeadline, timerSlack)
			}
			if !stopped.end.Before(expires) {
				t.Errorf("%s stopped leading at %s, not before its lease expired at %s", leader.name, stopped.end.Format(stamp), expires.Format(stamp))
			}
			// It stops at most the renew deadline after the renew the
			// follower last saw began; the follower counts the lease
			// duration from when it saw it.
			if gap, want := took.start.Sub(stopped.end), leaseDuration-renewDeadline-timerSlack; gap < want {
				t.Errorf("%s took over %v after %s stopped, want at least %v", follower.name, gap, leader.name, want)
			}
			if d := took.start.Sub(lastRenew); d > takeoverBound {
				t.Errorf("%s took over %v after the last renew, want within %v", follower.name, d, takeoverBound)
			}
			if on, err := leader.leading(httpClient(t)); err != nil || on {
				t.Errorf("%s: statussync_leader says leading %v (%v) after it stopped leading, want 0", leader.name, on, err)
			}

			// Heal: the old leader reaches the API server again, finds the
			// lease held and follows.
			leader.proxy.Set(kubetest.Forward)
			healed := time.Now()
			time.Sleep(2 * leaseDuration)
			samples := w.since(healed)
			if len(samples) < 10 {
				t.Fatalf("only %d leader samples in %v after healing", len(samples), 2*leaseDuration)
			}
			for _, s := range samples {
				if got := w.leadersIn(s); len(got) != 1 || got[0] != follower.name || containsUnknown(s) {
					t.Fatalf("at %s after healing, leaders %v (scrapes %v), want %s alone", s.at.Format(stamp), got, s.leading, follower.name)
				}
			}
			if h := holder(c.lease(t)); h != follower.name {
				t.Errorf("lease holder after healing = %q, want %s", h, follower.name)
			}
			if n := len(leader.terms()); n != 1 {
				t.Errorf("%s led %d times, want once (before the cut)", leader.name, n)
			}

			if n := len(c.cachet.Incidents()); n != 1 {
				t.Errorf("%d incidents, want 1: %s", n, c.pageState())
			}
			if n := c.fixedUpdates(incident); n != 1 {
				t.Errorf("incident %d has %d fixed updates, want 1", incident, n)
			}
			writes := writesBy(c.cachet.Requests(), a, b)
			t.Logf("writes: %s", writeSummary(writes))
			if len(writes[leader.name]) < 2 {
				t.Errorf("%s wrote %d times, want the outage's status and incident", leader.name, len(writes[leader.name]))
			}
			if len(writes[follower.name]) < 2 {
				t.Errorf("%s wrote %d times, want the recovery's status and resolution", follower.name, len(writes[follower.name]))
			}
		})
	}
}
