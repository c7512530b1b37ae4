package faults

import (
	"bytes"
	"fmt"
	"log/slog"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/statussync/statussync/cachet/cachettest"
)

// stormMonitors is how many monitors run during the reload storm.
const stormMonitors = 1000

// stormConfig renders a configuration of stormMonitors http monitors over
// a few shared targets, grouped ten to a component. The monitors of the
// last tenth are named after variant, so that switching variants removes
// 100 monitors and adds 100 others, and moves them between components.
func stormConfig(cachetURL string, targets []*target, componentIDs []int, variant string) (cfg string, names []string) {
	var b strings.Builder
	fmt.Fprintf(&b, `cachet: {url: %q, token: %q, timeout: 2s, rate_limit: 5, resync_interval: 5s, backoff: {min: 50ms, max: 200ms}}
defaults: {interval: 5s, timeout: 2s, failures_before_down: 2, successes_before_up: 1}
monitors:
`, cachetURL, token)
	for i := range stormMonitors {
		name := fmt.Sprintf("m%04d", i)
		if i >= stormMonitors*9/10 {
			name = fmt.Sprintf("%s%04d", variant, i)
		}
		names = append(names, name)
		fmt.Fprintf(&b, "  - {name: %s, http: {url: %q}}\n", name, targets[i%len(targets)].URL+"/"+name)
	}
	b.WriteString("components:\n")
	for c := range stormMonitors / 10 {
		fmt.Fprintf(&b, "  - {name: c%03d, cachet_id: %d, monitors: [%s]}\n", c, componentIDs[c], strings.Join(names[c*10:c*10+10], ", "))
	}
	return b.String(), names
}

// invalidStormConfigs are broken in the ways a hand edit breaks a file.
// Each also adds a monitor ("bogus"), so that a partial apply would show
// in /metrics and in the logs.
var invalidStormConfigs = []struct {
	name   string
	mangle func(valid string) string
}{
	{"yaml syntax", func(v string) string {
		return strings.Replace(v, "monitors:\n", "monitors:\n  - {name: bogus, http: {url: \"http://127.0.0.1:1\"}\n", 1)
	}},
	{"unknown key", func(v string) string {
		return strings.Replace(v, "monitors:\n", "monitors:\n  - {name: bogus, http: {url: \"http://127.0.0.1:1\", follow: yes}}\n", 1)
	}},
	{"timeout over interval", func(v string) string {
		return strings.Replace(v, "monitors:\n", "monitors:\n  - {name: bogus, interval: 1s, timeout: 5s, http: {url: \"http://127.0.0.1:1\"}}\n", 1)
	}},
	{"duplicate monitor", func(v string) string {
		return strings.Replace(v, "monitors:\n", "monitors:\n  - {name: bogus, http: {url: \"http://127.0.0.1:1\"}}\n  - {name: bogus, tcp: {address: \"127.0.0.1:1\"}}\n", 1)
	}},
	{"unknown component monitor", func(v string) string {
		return strings.Replace(strings.Replace(v, "monitors:\n", "monitors:\n  - {name: bogus, http: {url: \"http://127.0.0.1:1\"}}\n", 1),
			"components:\n", "components:\n  - {name: ghost, monitors: [nobody]}\n", 1)
	}},
}

var monitorLabel = regexp.MustCompile(`monitor="([^"]*)"`)

// scrapedMonitors returns the monitor label values in /metrics.
func scrapedMonitors(tb testing.TB, svc *service) []string {
	tb.Helper()
	code, body := httpGet(tb, svc.base+"/metrics")
	if code != 200 {
		tb.Fatalf("/metrics: %d", code)
	}
	set := map[string]bool{}
	for _, m := range monitorLabel.FindAllStringSubmatch(body, -1) {
		set[m[1]] = true
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// registeredMonitors returns the monitor label values in the service's
// registry, as /metrics would serve them.
func registeredMonitors(tb testing.TB, svc *service) []string {
	tb.Helper()
	set := map[string]bool{}
	for _, mf := range svc.gather() {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "monitor" {
					set[lp.GetValue()] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// TestReloadStorm reloads 50 times, valid and invalid alternating, while
// 1,000 monitors run against shared local targets and the reconciler
// writes to the Cachet fake. Valid reloads alternate between two
// configurations that differ in 100 monitors (removed, added, moved between
// components). After every reload, /metrics must name exactly the running
// configuration's monitors: removed ones gone, new ones present, nothing
// from an invalid file. At the end, back on the first configuration, the
// goroutine count must settle to where it was before the storm, and after
// shutdown nothing the service started may still run (goleak).
func TestReloadStorm(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	front := newCachetFront(t)
	var ids []int
	for c := range stormMonitors / 10 {
		ids = append(ids, front.AddComponent(fmt.Sprintf("c%03d", c), cachettest.StatusOperational).ID)
	}
	targets := []*target{newTarget(t), newTarget(t), newTarget(t), newTarget(t), newTarget(t)}
	cfgA, namesA := stormConfig(front.URL(), targets, ids, "a")
	cfgB, namesB := stormConfig(front.URL(), targets, ids, "b")
	sort.Strings(namesA)
	sort.Strings(namesB)

	svc := startService(t, cfgA, nil, slog.LevelInfo)
	eventually(t, 60*time.Second, "every monitor decided", func() bool {
		return svc.value("statussync_monitors", "state", "up") == stormMonitors
	})
	if got := scrapedMonitors(t, svc); !slices.Equal(got, namesA) {
		t.Fatalf("/metrics names %d monitors, want the %d configured", len(got), len(namesA))
	}
	baseline := settledGoroutines(5 * time.Second)
	t.Logf("baseline with %d monitors: %d goroutines", stormMonitors, baseline)

	running, runningNames := cfgA, namesA
	start := time.Now()
	for i := range 50 {
		if i%2 == 1 {
			inv := invalidStormConfigs[(i/2)%len(invalidStormConfigs)]
			if err := svc.reload(inv.mangle(running)); err == nil {
				t.Fatalf("reload %d (%s) succeeded", i+1, inv.name)
			}
			if v := svc.value("statussync_config_last_reload_successful"); v != 0 {
				t.Errorf("reload %d (%s): statussync_config_last_reload_successful = %v", i+1, inv.name, v)
			}
		} else {
			next, nextNames := cfgB, namesB
			if running == cfgB {
				next, nextNames = cfgA, namesA
			}
			if err := svc.reload(next); err != nil {
				t.Fatalf("reload %d (valid): %v", i+1, err)
			}
			running, runningNames = next, nextNames
			if v := svc.value("statussync_config_last_reload_successful"); v != 1 {
				t.Errorf("reload %d (valid): statussync_config_last_reload_successful = %v", i+1, v)
			}
		}
		// The registry after every reload; the /metrics text, which costs
		// seconds under -race at this size, after the first two and the
		// last.
		got := registeredMonitors(t, svc)
		if i < 2 || i == 49 {
			got = scrapedMonitors(t, svc)
		}
		if !slices.Equal(got, runningNames) {
			extra, missing := diff(got, runningNames)
			t.Fatalf("after reload %d, /metrics has monitors not configured %v and lacks configured ones %v", i+1, head(extra), head(missing))
		}
	}
	t.Logf("50 reloads in %v", time.Since(start).Round(time.Millisecond))
	if err := svc.reload(cfgA); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "every monitor up again", func() bool {
		return svc.value("statussync_monitors", "state", "up") == stormMonitors
	})
	if strings.Contains(svc.logs.String(), `"monitor":"bogus"`) {
		t.Error("a monitor of an invalid configuration ran")
	}

	// In-flight checks come and go (about 200 a second here, a
	// millisecond each); a leak only grows. The minimum over two seconds
	// leaves the checks out; the slack covers timers and the like.
	const slack = 10
	var after int
	deadline := time.Now().Add(20 * time.Second)
	for {
		after = settledGoroutines(2 * time.Second)
		if after <= baseline+slack || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("after the storm: %d goroutines", after)
	if after > baseline+slack {
		t.Errorf("goroutines grew from %d to %d over 50 reloads; by stack:\n%s", baseline, after, goroutineSummary())
	}

	svc.stop()
	// The test's own servers (targets, the Cachet front) still run.
	if err := goleak.Find(ignore,
		goleak.IgnoreAnyFunction("net/http/httptest.(*Server).goServe.func1"),
		goleak.IgnoreAnyFunction("github.com/statussync/statussync/test/faults.(*switchServer).serve.func1"),
	); err != nil {
		t.Errorf("after shutdown: %v", err)
	}
	if t.Failed() {
		return
	}
	// The writes check: everything stayed operational, so the reconciler
	// had nothing to write through 51 reconfigurations.
	if n := len(front.Writes()); n != 0 {
		t.Errorf("%d Cachet writes, with every component operational throughout", n)
	}
}

// settledGoroutines returns the smallest goroutine count seen over d, which
// leaves out checks that happen to be running.
func settledGoroutines(d time.Duration) int {
	low := runtime.NumGoroutine()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		low = min(low, runtime.NumGoroutine())
	}
	return low
}

// goroutineSummary is the goroutine profile grouped by stack, biggest
// groups first, for failure messages.
func goroutineSummary() string {
	var buf bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
	groups := strings.Split(buf.String(), "\n\n")
	sort.SliceStable(groups, func(i, j int) bool { return count(groups[i]) > count(groups[j]) })
	lines := strings.Split(strings.Join(groups[:min(len(groups), 4)], "\n\n"), "\n")
	return strings.Join(lines[:min(len(lines), 60)], "\n")
}

func count(group string) int {
	var n int
	_, _ = fmt.Sscanf(group, "%d @", &n)
	return n
}

func diff(got, want []string) (extra, missing []string) {
	for _, g := range got {
		if _, ok := slices.BinarySearch(want, g); !ok {
			extra = append(extra, g)
		}
	}
	for _, w := range want {
		if _, ok := slices.BinarySearch(got, w); !ok {
			missing = append(missing, w)
		}
	}
	return extra, missing
}

func head(s []string) []string { return s[:min(len(s), 5)] }
