package faults

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/statussync/statussync/cachet/cachettest"
)

// seed returns the seed for a test's random choices: FAULTS_SEED if set
// (to replay a failure), else the clock. It is logged either way.
func seed(tb testing.TB) uint64 {
	tb.Helper()
	s := uint64(time.Now().UnixNano())
	if v := os.Getenv("FAULTS_SEED"); v != "" {
		var err error
		if s, err = strconv.ParseUint(v, 10, 64); err != nil {
			tb.Fatalf("FAULTS_SEED: %v", err)
		}
	}
	tb.Logf("seed %d (replay with FAULTS_SEED=%d)", s, s)
	return s
}

// outages is how many outages TestKill9DuringOutages runs; each has two
// kills, one while the outage is being published and one while its end
// is, for 20 kill -9 cycles.
const outages = 10

// TestKill9DuringOutages runs the real binary through ten outages of one
// component with incidents enabled, and kills it with SIGKILL twice per
// outage at a random point: after a random delay into the outage or into
// the recovery (before the monitor has decided, between the status write
// and the incident, after both), or right after Cachet processed the
// phase's first or second write and before the binary heard the answer
// (the status write, the incident create, the resolving update). Each
// kill is followed at once by a restart, which knows nothing of its
// predecessor: it must decide again (failures_before_down checks), find
// and adopt the open incident rather than open a second one, and resolve
// an incident left open by a predecessor that died after the recovery.
//
// At the end there must be exactly one incident per outage, created
// during that outage, every one resolved by exactly one "fixed" update;
// status writes must alternate (no write repeated by a restart); a second
// component that never changed must never have been written to.
//
// Compression: checks every 100ms and failures_before_down 2, so an
// outage is decided in 0.2s instead of 2 minutes; the kills land at the
// same points of the same sequence of events.
func TestKill9DuringOutages(t *testing.T) {
	rng := rand.New(rand.NewPCG(seed(t), 8))
	front := newCachetFront(t)
	gitlab := front.AddComponent("GitLab", cachettest.StatusOperational).ID
	docs := front.AddComponent("Docs", cachettest.StatusOperational).ID
	web, steady := newTarget(t), newTarget(t)
	cfgPath := filepath.Join(t.TempDir(), "statussync.yml")
	writeFile(t, cfgPath, fmt.Sprintf(`
cachet: {url: %q, token: %q, timeout: 1s, rate_limit: 5, resync_interval: 5s, backoff: {min: 50ms, max: 200ms}}
defaults: {interval: 100ms, timeout: 80ms, failures_before_down: 2, successes_before_up: 2}
monitors:
  - {name: web, http: {url: %q}}
  - {name: steady, http: {url: %q}}
components:
  - {name: GitLab, cachet_id: %d, monitors: [web], incidents: {enabled: true}}
  - {name: Docs, cachet_id: %d, monitors: [steady], incidents: {enabled: true}}
`, front.URL(), token, web.URL, steady.URL, gitlab, docs))

	type run struct {
		c    *child
		note string // how it ended
	}
	var (
		mu   sync.Mutex
		runs []*run
	)
	current := func() *run {
		mu.Lock()
		defer mu.Unlock()
		return runs[len(runs)-1]
	}
	start := func() {
		c := startChild(t, []string{"TZ=UTC"}, "run", "--config.file", cfgPath,
			"--web.listen-address", "127.0.0.1:0", "--log.level", "debug", "--log.format", "json")
		mu.Lock()
		runs = append(runs, &run{c: c})
		mu.Unlock()
		c.ListenAddr(t, 20*time.Second)
	}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for i, r := range runs[max(0, len(runs)-3):] {
			t.Logf("run %d of the last 3 (%s), logs without checks and cron:\n%s", i+1, r.note, tail(quiet(r.c.Logs.String()), 60))
		}
	})
	openIncidents := func() int {
		n := 0
		for _, in := range incidentsOf(front.Server, gitlab) {
			if in.Status != cachettest.IncidentFixed {
				n++
			}
		}
		return n
	}
	pageState := func() string {
		return fmt.Sprintf("page status %d, %d incidents, %d open", front.status(gitlab), len(incidentsOf(front.Server, gitlab)), openIncidents())
	}

	// killSoon arms one kill for the phase that is about to begin and
	// returns a channel that is closed once it happened.
	killSoon := func(phase string) <-chan struct{} {
		killed := make(chan struct{})
		r := current()
		switch mode := rng.IntN(3); mode {
		case 0:
			d := time.Duration(rng.Int64N(int64(1200 * time.Millisecond)))
			time.AfterFunc(d, func() {
				state := pageState()
				r.c.Kill()
				r.note = fmt.Sprintf("%s: killed after %v (%s)", phase, d.Round(time.Millisecond), state)
				close(killed)
			})
		default:
			var n atomic.Int32
			hook := func(method, path string, status int) {
				if int(n.Add(1)) != mode {
					return
				}
				front.afterWrite.Store(nil)
				r.c.Kill()
				r.note = fmt.Sprintf("%s: killed after Cachet processed write %d (%s %s: %d), before it answered", phase, mode, method, path, status)
				close(killed)
			}
			front.afterWrite.Store(&hook)
		}
		return killed
	}
	awaitKill := func(killed <-chan struct{}) {
		select {
		case <-killed:
		case <-time.After(20 * time.Second):
			t.Fatalf("the armed kill did not happen within 20s (%s)", pageState())
		}
		t.Log(current().note)
	}

	start()
	eventually(t, 20*time.Second, "the first run to be up", func() bool {
		return len(front.Requests()) > 0
	})
	// created[i] are the incidents that appeared during outage i, from
	// its start to its end being on the page.
	var created [][]int
	seen := map[int]bool{}
	newIncidents := func() []int {
		var ids []int
		for _, in := range front.Incidents() {
			if !seen[in.ID] {
				seen[in.ID] = true
				ids = append(ids, in.ID)
			}
		}
		return ids
	}
	for i := range outages {
		if ids := newIncidents(); len(ids) > 0 {
			t.Fatalf("incidents %v appeared between outages", ids)
		}
		killed := killSoon(fmt.Sprintf("outage %d down", i+1))
		web.set(targetDown)
		awaitKill(killed)
		start()
		eventually(t, 20*time.Second, fmt.Sprintf("outage %d on the page with its incident", i+1), func() bool {
			return front.status(gitlab) == cachettest.StatusMajorOutage && openIncidents() > 0
		})

		killed = killSoon(fmt.Sprintf("outage %d recovery", i+1))
		web.set(targetUp)
		awaitKill(killed)
		start()
		eventually(t, 20*time.Second, fmt.Sprintf("outage %d's end on the page, incident resolved", i+1), func() bool {
			return front.status(gitlab) == cachettest.StatusOperational && openIncidents() == 0
		})
		created = append(created, newIncidents())
	}
	last := current().c
	_ = last.Cmd.Process.Signal(syscall.SIGTERM)
	if code := last.Wait(t, 30*time.Second); code != 0 {
		t.Errorf("the last run exited with %d after SIGTERM, want 0", code)
	}
	current().note = "stopped with SIGTERM"

	in := incidentsOf(front.Server, gitlab)
	if len(in) != outages {
		t.Errorf("%d incidents for %d outages: %s", len(in), outages, describe(front.Server, in))
	}
	for i, ids := range created {
		if len(ids) != 1 {
			t.Errorf("outage %d: incidents %v, want exactly one", i+1, ids)
		}
	}
	for _, inc := range in {
		fixed := 0
		for _, u := range front.IncidentUpdates(inc.ID) {
			if u.Status == cachettest.IncidentFixed {
				fixed++
			}
		}
		if inc.Status != cachettest.IncidentFixed || fixed != 1 {
			t.Errorf("incident %d: status %d with %d fixed updates, want resolved by exactly one: %s",
				inc.ID, inc.Status, fixed, describe(front.Server, []cachettest.Incident{inc}))
		}
	}

	seq := statusWrites(front.Writes(), gitlab)
	if len(seq) != 2*outages {
		t.Errorf("%d status writes for %d outages, want %d: %v", len(seq), outages, 2*outages, seq)
	}
	for i := 1; i < len(seq); i++ {
		if seq[i] == seq[i-1] {
			t.Errorf("status write %d repeats %d: %v", i, seq[i], seq)
			break
		}
	}
	if got := front.status(gitlab); got != cachettest.StatusOperational {
		t.Errorf("GitLab ends at %d, want 1", got)
	}
	if seq := statusWrites(front.Writes(), docs); len(seq) != 0 {
		t.Errorf("Docs never changed but was written %v", seq)
	}
	if in := incidentsOf(front.Server, docs); len(in) != 0 {
		t.Errorf("Docs never changed but has incidents: %s", describe(front.Server, in))
	}
	var bad []string
	for _, w := range front.Writes() {
		if !ok2xx(w) && w.StatusCode != 0 {
			bad = append(bad, fmt.Sprintf("%s %s: %d", w.Method, w.Path, w.StatusCode))
		}
	}
	if len(bad) > 0 {
		t.Errorf("Cachet refused writes: %s", strings.Join(bad, "; "))
	}
}
