package ha

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/statussync/statussync/cachet/cachettest"
	"github.com/statussync/statussync/internal/ha/kubetest"
)

// TestKill9LeaderMidOutage is issue #9's first acceptance test: two
// replicas, one Cachet fake, a target that goes down. Exactly one replica
// writes; kill -9 of the leader mid-outage hands over within the lease
// duration of its last renew; the new leader adopts the open incident
// rather than opening another, and resolves it when the target recovers;
// the follower never sends Cachet anything while it follows.
func TestKill9LeaderMidOutage(t *testing.T) {
	srv := kubetest.Start(t)
	c := newCluster(t, srv, "statussync-kill")
	a := c.start(t, "replica-a", tokenA)
	b := c.start(t, "replica-b", tokenB)
	w := watchLeaders(t, a, b)
	auditRequests(t, c, a, b)
	leader, follower := w.awaitLeader(t, 2*leaseDuration)
	t.Logf("%s leads, %s follows", leader.name, follower.name)

	// While the leader renews, the lease stays where it is.
	settled := time.Now()
	time.Sleep(leaseDuration + 2*retryPeriod)
	if w.everLed(follower, settled) || len(follower.terms()) != 0 {
		t.Fatalf("%s led while %s renewed the lease", follower.name, leader.name)
	}
	// Only the leader checks the Cachet token; the follower says why it
	// has not rather than failing.
	hc := httpClient(t)
	eventually(t, 10*time.Second, leader.name+"'s /readyz to say the token is valid", func() bool {
		return strings.Contains(leader.readyz(t, hc), "cachet token: valid")
	})
	if body := follower.readyz(t, hc); !strings.Contains(body, "cachet token: not checked: not leading") {
		t.Errorf("%s's /readyz = %q, want the token not checked as it does not lead", follower.name, body)
	}

	c.target.down.Store(true)
	eventually(t, 10*time.Second, "the outage on the page with its incident", func() bool {
		return c.status() == cachettest.StatusMajorOutage && c.openIncidents() > 0
	})
	incidents := c.cachet.Incidents()
	if len(incidents) != 1 {
		t.Fatalf("%d incidents for one outage: %s", len(incidents), c.pageState())
	}
	incident := incidents[0].ID

	// kill -9 mid-outage: the leader releases nothing.
	killed := leader.kill()
	l := c.lease(t)
	if h := holder(l); h != leader.name {
		t.Fatalf("lease holder after the kill = %q, want %s (a killed leader releases nothing)", h, leader.name)
	}
	lastRenew := renewTime(t, l)
	if got := time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second; got != leaseDuration {
		t.Errorf("lease duration on the Lease = %v, want %v", got, leaseDuration)
	}

	took := follower.awaitTerm(t, 1, takeoverBound+5*time.Second)
	after := took.start.Sub(lastRenew)
	t.Logf("%s took over %v after %s's last renew, %v after the kill", follower.name,
		after.Round(time.Millisecond), leader.name, took.start.Sub(killed).Round(time.Millisecond))
	// The follower counts the lease from when it saw the last renew, which
	// it compares in whole seconds: not before that second began.
	if lower := lastRenew.Truncate(time.Second).Add(leaseDuration); took.start.Before(lower) {
		t.Errorf("%s took over %v after the last renew, before the lease could expire (%v)", follower.name, after, lower.Sub(lastRenew))
	}
	if after > takeoverBound {
		t.Errorf("%s took over %v after the last renew, want within %v (lease duration %v plus two jittered retries and 1s)",
			follower.name, after, takeoverBound, leaseDuration)
	}

	// The new leader reads the page, finds the outage already there and
	// adopts the open incident.
	eventually(t, 10*time.Second, follower.name+" to look up open incidents", func() bool {
		for _, req := range c.cachet.Requests() {
			if req.Method == http.MethodGet && strings.HasSuffix(req.Path, "/incidents") &&
				req.Header.Get("Authorization") == "Bearer "+follower.token {
				return true
			}
		}
		return false
	})
	c.target.down.Store(false)
	eventually(t, 10*time.Second, "the recovery on the page, incident resolved", func() bool {
		return c.status() == cachettest.StatusOperational && c.openIncidents() == 0
	})
	// Give a duplicate write, or a second incident, a moment to show.
	time.Sleep(time.Second)

	if n := len(c.cachet.Incidents()); n != 1 {
		t.Errorf("%d incidents, want the one opened by %s and adopted by %s: %s", n, leader.name, follower.name, c.pageState())
	}
	if n := c.fixedUpdates(incident); n != 1 {
		t.Errorf("incident %d has %d fixed updates, want 1", incident, n)
	}
	if got := c.cachet.EffectiveStatus(c.component); got != cachettest.StatusOperational {
		t.Errorf("component shows %d, want operational", got)
	}

	writes := writesBy(c.cachet.Requests(), a, b)
	t.Logf("writes: %s", writeSummary(writes))
	// The outage (status, incident) was written by the old leader before
	// it died, the recovery (status, resolution) by the new one.
	for _, r := range []*replica{leader, follower} {
		if len(writes[r.name]) < 2 {
			t.Errorf("%s wrote %d times, want the status and the incident of its phase", r.name, len(writes[r.name]))
		}
	}
}
