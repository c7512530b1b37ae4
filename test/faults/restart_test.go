package faults

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/statussync/statussync/cachet/cachettest"
)

// restarts is how many times TestRestartMidOutageChangesNothing restarts
// the binary during one outage.
const restarts = 10

// slowTarget answers 200 after delay: a healthy service whose check is
// slow, so its monitor reports long after the fast ones.
func slowTarget(tb testing.TB, delay time.Duration) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
			_, _ = fmt.Fprintln(w, "ok")
		case <-r.Context().Done():
		}
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// TestRestartMidOutageChangesNothing is issue #15 point 2: a restart
// during an outage must not flip the public page. GitLab is a worst
// component of three monitors: web (down), fast (healthy, checked every
// 100ms) and slow (healthy, answering after 250ms); its major outage and
// open incident are on the page. The binary is then stopped and restarted
// ten times, by SIGKILL and SIGTERM in turn, with the down monitor failing
// fast (503) or slowly (hanging until its timeout) in turn, so that the
// healthy monitors report first. After each restart has settled, Cachet
// must have received no write at all: no status write, no incident
// created, updated or resolved. Docs, steady and operational, is never
// written either.
func TestRestartMidOutageChangesNothing(t *testing.T) {
	front := newCachetFront(t)
	gitlab := front.AddComponent("GitLab", cachettest.StatusOperational).ID
	docs := front.AddComponent("Docs", cachettest.StatusOperational).ID
	web, fast, steady := newTarget(t), newTarget(t), newTarget(t)
	slow := slowTarget(t, 250*time.Millisecond)
	cfgPath := filepath.Join(t.TempDir(), "statussync.yml")
	writeFile(t, cfgPath, fmt.Sprintf(`
cachet: {url: %q, token: %q, timeout: 1s, rate_limit: 5, resync_interval: 5s, backoff: {min: 50ms, max: 200ms}}
defaults: {interval: 100ms, timeout: 80ms, failures_before_down: 2, successes_before_up: 2}
monitors:
  - {name: web, interval: 500ms, timeout: 400ms, http: {url: %q}}
  - {name: fast, http: {url: %q}}
  - {name: slow, interval: 500ms, timeout: 400ms, http: {url: %q}}
  - {name: steady, http: {url: %q}}
components:
  - {name: GitLab, cachet_id: %d, monitors: [web, fast, slow], incidents: {enabled: true}}
  - {name: Docs, cachet_id: %d, monitors: [steady], incidents: {enabled: true}}
`, front.URL(), token, web.URL, fast.URL, slow.URL, steady.URL, gitlab, docs))

	var runs []*child
	start := func() *child {
		c := startChild(t, []string{"TZ=UTC"}, "run", "--config.file", cfgPath,
			"--web.listen-address", "127.0.0.1:0", "--log.level", "debug", "--log.format", "json")
		runs = append(runs, c)
		c.ListenAddr(t, 20*time.Second)
		return c
	}
	t.Cleanup(func() {
		if t.Failed() && len(runs) > 0 {
			t.Logf("logs of the last run, without checks and cron:\n%s", tail(quiet(runs[len(runs)-1].Logs.String()), 80))
		}
	})
	openIncidents := func() []int {
		var ids []int
		for _, in := range incidentsOf(front.Server, gitlab) {
			if in.Status != cachettest.IncidentFixed {
				ids = append(ids, in.ID)
			}
		}
		return ids
	}
	// writes are the writes Cachet accepted (a token check's deliberately
	// invalid request is not one).
	writes := func() []string {
		var out []string
		for _, w := range front.Writes() {
			if ok2xx(w) {
				out = append(out, w.Method+" "+w.Path)
			}
		}
		return out
	}

	web.set(targetDown)
	c := start()
	eventually(t, 20*time.Second, "the outage on the page with its incident", func() bool {
		return front.status(gitlab) == cachettest.StatusMajorOutage && len(openIncidents()) == 1
	})
	// Let the first run finish what it writes (the incident's creation).
	time.Sleep(time.Second)
	before := writes()
	incident := openIncidents()

	for i := range restarts {
		if i%2 == 0 {
			c.Kill()
		} else {
			_ = c.Cmd.Process.Signal(syscall.SIGTERM)
			if code := c.Wait(t, 30*time.Second); code != 0 {
				t.Fatalf("restart %d: exit code %d after SIGTERM", i+1, code)
			}
		}
		// Half the restarts with a down monitor that fails only at its
		// timeout: the healthy ones report well before it decides.
		if i%4 >= 2 {
			web.set(targetHang)
		} else {
			web.set(targetDown)
		}
		c = start()
		// The restarted run has decided GitLab once it says so; then give
		// it ten more of web's intervals to flip, if it were going to.
		eventually(t, 20*time.Second, fmt.Sprintf("restart %d: GitLab decided", i+1), func() bool {
			return strings.Contains(c.Logs.String(), `"msg":"component state confirmed","subsystem":"engine","component":"GitLab"`)
		})
		time.Sleep(5 * time.Second)
		if got := writes(); len(got) != len(before) {
			t.Fatalf("restart %d (%s, web %s): the restart wrote to Cachet: %v",
				i+1, map[bool]string{true: "SIGKILL", false: "SIGTERM"}[i%2 == 0], map[bool]string{true: "hanging", false: "503"}[i%4 >= 2], got[len(before):])
		}
		if got := openIncidents(); fmt.Sprint(got) != fmt.Sprint(incident) || len(incidentsOf(front.Server, gitlab)) != 1 {
			t.Fatalf("restart %d: open incidents %v, want %v and no other", i+1, got, incident)
		}
		if front.status(gitlab) != cachettest.StatusMajorOutage {
			t.Fatalf("restart %d: GitLab shows %d", i+1, front.status(gitlab))
		}
	}
	if seq := statusWrites(front.Writes(), docs); len(seq) != 0 {
		t.Errorf("Docs never changed but was written %v", seq)
	}
	t.Logf("%d restarts mid-outage, %d writes before and after them", restarts, len(before))

	// The outage then ends: the last run publishes it, once.
	web.set(targetUp)
	eventually(t, 20*time.Second, "the end of the outage on the page", func() bool {
		return front.status(gitlab) == cachettest.StatusOperational && len(openIncidents()) == 0
	})
}
