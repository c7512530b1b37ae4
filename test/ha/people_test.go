package ha

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/statussync/statussync/cachet/cachettest"
	"github.com/statussync/statussync/internal/ha/kubetest"
)

// TestPeopleEditsAcrossHandover (#13 points 3 and 6 across an HA
// handover): mid-outage a person resolves statussync's incident and sets
// the component's status by hand; the leader is killed and the follower,
// which decided the outage on its own, takes over. The new leader leaves
// the person's status and incident alone and opens no second incident for
// the outage that continues: what it knows of them it reads from Cachet.
func TestPeopleEditsAcrossHandover(t *testing.T) {
	srv := kubetest.Start(t)
	c := newCluster(t, srv, "statussync-people")
	a := c.start(t, "replica-a", tokenA)
	b := c.start(t, "replica-b", tokenB)
	w := watchLeaders(t, a, b)
	leader, follower := w.awaitLeader(t, 2*leaseDuration)
	t.Logf("%s leads, %s follows", leader.name, follower.name)

	c.target.down.Store(true)
	eventually(t, 10*time.Second, "the outage on the page with its incident", func() bool {
		return c.status() == cachettest.StatusMajorOutage && c.openIncidents() > 0
	})
	incident := c.cachet.Incidents()[0].ID
	c.cachet.AddIncidentUpdate(incident, cachettest.IncidentFixed, "Fixed as far as we are concerned.")
	c.cachet.SetComponentStatus(c.component, cachettest.StatusPerformanceIssues)
	edited := time.Now()

	leader.kill()
	took := follower.awaitTerm(t, 1, takeoverBound+5*time.Second)
	// The new leader reads the component just before it would write it,
	// and looks at the outage's incident right after.
	eventually(t, 10*time.Second, follower.name+" to read the component", func() bool {
		for _, req := range c.cachet.Requests() {
			if req.Method == http.MethodGet && strings.HasSuffix(req.Path, "/components/"+strconv.Itoa(c.component)) &&
				req.Header.Get("Authorization") == "Bearer "+follower.token && req.Time.After(took.start) {
				return true
			}
		}
		return false
	})
	time.Sleep(2 * time.Second) // a second incident, or a write, would show by now

	if got := c.status(); got != cachettest.StatusPerformanceIssues {
		t.Errorf("after the handover Cachet shows %d, want the person's 2", got)
	}
	if n := len(c.cachet.Incidents()); n != 1 {
		t.Errorf("%d incidents after the handover, want only the one resolved by hand: %s", n, c.pageState())
	}
	for _, u := range c.cachet.IncidentUpdates(incident) {
		if u.CreatedAt.After(edited) {
			t.Errorf("%s updated the incident a person resolved: %+v", follower.name, u)
		}
	}
	if in, _ := c.cachet.Incident(incident); in.Status != cachettest.IncidentFixed {
		t.Errorf("the resolved incident is %d again", in.Status)
	}
}
