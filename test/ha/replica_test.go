package ha

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/statussync/statussync/internal/ha/kubetest"
	"github.com/statussync/statussync/internal/testkit"
)

func TestMain(m *testing.M) { os.Exit(testkit.RunMain(m)) }

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer = testkit.SyncBuffer

// replica is one statussync process.
type replica struct {
	name  string // POD_NAME, so its lease identity
	token string // its Cachet API token
	// proxy stands between it and the API server.
	proxy *kubetest.Proxy
	cmd   *exec.Cmd
	logs  *syncBuffer // stderr: JSON logs
	done  chan struct{}
	base  string // http://127.0.0.1:port, for /metrics

	mu sync.Mutex
	// killed is when the process was found dead after a SIGKILL; zero
	// while it runs.
	killed time.Time
}

// startReplica runs the binary on cfgPath as name, with its own Cachet
// token and kubeconfig and nothing else of the test's environment, and
// waits until it listens. It is stopped with SIGTERM when tb's test ends,
// and its logs are shown if the test failed.
func startReplica(tb testing.TB, name, cfgPath, token, kubeconfig string, proxy *kubetest.Proxy) *replica {
	tb.Helper()
	r := &replica{name: name, token: token, proxy: proxy, logs: &syncBuffer{}, done: make(chan struct{})}
	r.cmd = exec.Command(testkit.Binary(tb), "run", "--config.file", cfgPath,
		"--web.listen-address", "127.0.0.1:0", "--log.level", "info", "--log.format", "json")
	r.cmd.Env = []string{
		"TZ=UTC",
		"POD_NAME=" + name,
		"STATUSSYNC_CACHET__TOKEN=" + token,
		"STATUSSYNC_HA__KUBECONFIG=" + kubeconfig,
	}
	r.cmd.Stderr = r.logs // the daemon prints nothing on stdout
	r.cmd.SysProcAttr = kubetest.SysProcAttr()
	if err := r.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		_ = r.cmd.Wait()
		close(r.done)
	}()
	tb.Cleanup(func() {
		r.stop(tb)
		if tb.Failed() {
			tb.Logf("%s logs:\n%s", r.name, tail(r.logs.String(), 80))
		}
	})
	r.base = "http://" + r.listenAddr(tb, 30*time.Second)
	return r
}

// listenAddr waits for the "listening" log record and returns its address.
func (r *replica) listenAddr(tb testing.TB, limit time.Duration) string {
	tb.Helper()
	var addr string
	eventually(tb, limit, r.name+" to listen", func() bool {
		select {
		case <-r.done:
			tb.Fatalf("%s exited before listening: %v\n%s", r.name, r.cmd.ProcessState, tail(r.logs.String(), 40))
		default:
		}
		for _, rec := range r.records() {
			if rec.Msg == "listening" {
				addr = rec.Address
				return true
			}
		}
		return false
	})
	return addr
}

// kill sends SIGKILL and waits until the process is gone: no deferred
// function, no shutdown, no lease release.
func (r *replica) kill() time.Time {
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	r.killed = time.Now()
	return r.killed
}

func (r *replica) killedAt() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.killed
}

// stop sends SIGTERM and waits for a clean exit, failing tb if there is
// none within the app's shutdown bound.
func (r *replica) stop(tb testing.TB) {
	select {
	case <-r.done:
		return
	default:
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
		if code := r.cmd.ProcessState.ExitCode(); code != 0 {
			tb.Errorf("%s exited with %d after SIGTERM", r.name, code)
		}
	case <-time.After(20 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
		tb.Errorf("%s did not exit within 20s of SIGTERM", r.name)
	}
}

// logRecord is the part of a JSON log record the tests read.
type logRecord struct {
	Time    time.Time `json:"time"`
	Msg     string    `json:"msg"`
	Address string    `json:"address"`
	Reason  string    `json:"reason"`
	To      string    `json:"to"`
}

func (r *replica) records() []logRecord {
	var out []logRecord
	sc := bufio.NewScanner(strings.NewReader(r.logs.String()))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var rec logRecord
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg != "" {
			out = append(out, rec)
		}
	}
	return out
}

// term is one leadership term as the replica logged it. start is logged
// just before the writer starts and end just after the term's context, and
// with it every Cachet request, was cancelled; slog keeps milliseconds.
// end is zero while the term lasts, and the moment of death for a killed
// replica's last term.
type term struct {
	replica    string
	start, end time.Time
	reason     string // why it ended, as logged
}

func (tm term) String() string {
	end := "open"
	if !tm.end.IsZero() {
		end = tm.end.Format(stamp) + " (" + tm.reason + ")"
	}
	return fmt.Sprintf("%s led %s to %s", tm.replica, tm.start.Format(stamp), end)
}

const stamp = "15:04:05.000"

// terms reads the replica's leadership terms from its logs.
func (r *replica) terms() []term {
	var out []term
	for _, rec := range r.records() {
		switch rec.Msg {
		case "started leading":
			out = append(out, term{replica: r.name, start: rec.Time})
		case "stopped leading":
			if n := len(out); n > 0 && out[n-1].end.IsZero() {
				out[n-1].end, out[n-1].reason = rec.Time, rec.Reason
			}
		}
	}
	if k := r.killedAt(); !k.IsZero() {
		if n := len(out); n > 0 && out[n-1].end.IsZero() {
			out[n-1].end, out[n-1].reason = k, "killed"
		}
	}
	return out
}

// awaitLogged waits until the replica logs a record with msg and to at or
// after t, and returns it.
func (r *replica) awaitLogged(tb testing.TB, limit time.Duration, t time.Time, msg, to string) logRecord {
	tb.Helper()
	var found logRecord
	eventually(tb, limit, fmt.Sprintf("%s to log %q (to %s)", r.name, msg, to), func() bool {
		for _, rec := range r.records() {
			if rec.Msg == msg && rec.To == to && !rec.Time.Before(t.Truncate(time.Millisecond)) {
				found = rec
				return true
			}
		}
		return false
	})
	return found
}

// awaitTerm waits until the replica has started its n-th term (1-based).
func (r *replica) awaitTerm(tb testing.TB, n int, limit time.Duration) term {
	tb.Helper()
	eventually(tb, limit, fmt.Sprintf("%s to lead (term %d)", r.name, n), func() bool { return len(r.terms()) >= n })
	return r.terms()[n-1]
}

// awaitTermEnd waits until the replica's n-th term has ended.
func (r *replica) awaitTermEnd(tb testing.TB, n int, limit time.Duration) term {
	tb.Helper()
	eventually(tb, limit, fmt.Sprintf("%s to stop leading (term %d)", r.name, n), func() bool {
		ts := r.terms()
		return len(ts) >= n && !ts[n-1].end.IsZero()
	})
	return r.terms()[n-1]
}

// leading reads statussync_leader from the replica's /metrics.
func (r *replica) leading(c *http.Client) (bool, error) {
	resp, err := c.Get(r.base + "/metrics")
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("/metrics: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if value, ok := strings.CutPrefix(sc.Text(), "statussync_leader "); ok {
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return false, fmt.Errorf("statussync_leader %q: %w", value, err)
			}
			return v == 1, nil
		}
	}
	if err := sc.Err(); err != nil {
		return false, err
	}
	return false, fmt.Errorf("no statussync_leader on %s/metrics", r.base)
}

// readyz returns the body of the replica's /readyz, failing tb unless it
// answers 200.
func (r *replica) readyz(tb testing.TB, c *http.Client) string {
	tb.Helper()
	resp, err := c.Get(r.base + "/readyz")
	if err != nil {
		tb.Fatalf("%s /readyz: %v", r.name, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s /readyz: %v", r.name, err)
	}
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("%s /readyz: %s %s", r.name, resp.Status, body)
	}
	return string(body)
}

// tail returns the last n lines of s.
func tail(s string, n int) string { return testkit.Tail(s, n) }

// eventually polls cond every 10ms until it holds, failing tb after limit.
func eventually(tb testing.TB, limit time.Duration, what string, cond func() bool) {
	tb.Helper()
	testkit.Eventually(tb, limit, what, cond)
}
