package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/internal/testkit"
	"github.com/statussync/statussync/monitors"
)

// shownPage is a PageReader showing fixed component states.
type shownPage struct {
	comps []PageComponent
	err   error
}

func (p shownPage) ListComponents(context.Context) ([]PageComponent, error) { return p.comps, p.err }

// clock is a settable engine clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// startKit is an engine after a (re)start whose monitors never run on
// their own (hourly checks): the test feeds their results in the order it
// wants, as checks of different speeds would deliver them.
type startKit struct {
	e     *Engine
	sink  *recordingSink
	clock *clock
	at    time.Time // the observation time of the next result
}

// startEngine applies one component named C of the given rule over
// monitors a, b (and c when quorum is set), each with failures_before_down
// and successes_before_up 2, with page showing C as shown (nil page: no
// page).
func startEngine(tb testing.TB, rule config.Rule, quorum int, page PageReader) *startKit {
	tb.Helper()
	addr := testkit.ClosedAddr(tb)
	names := []string{"a", "b"}
	if quorum > 0 {
		names = append(names, "c")
	}
	cfg := &config.Config{}
	for _, n := range names {
		cfg.Monitors = append(cfg.Monitors, config.MonitorSpec{
			Name: n, Interval: time.Hour, Timeout: time.Second,
			FailuresBeforeDown: 2, SuccessesBeforeUp: 2, Outage: config.OutageMajor,
			TCP: &config.TCPProbe{Address: addr},
		})
	}
	cfg.Components = []config.ComponentSpec{{Name: "C", CachetID: 7, Monitors: names, Rule: rule, Quorum: quorum}}
	cfg = validated(tb, cfg)
	k := &startKit{sink: &recordingSink{samples: map[string]int{}}, clock: &clock{t: time.Unix(1_000_000, 0)}}
	k.at = k.clock.now()
	reg := prometheus.NewRegistry()
	k.e = New(Options{Metrics: NewMetrics(reg), MonitorMetrics: monitors.NewMetrics(reg), Sink: k.sink, Page: page, Now: k.clock.now})
	if err := k.e.Apply(context.Background(), cfg, nil); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = k.e.Stop(time.Second) })
	return k
}

func showing(s ComponentState) PageReader {
	return shownPage{comps: []PageComponent{{ID: 7, Name: "C", State: s}, {ID: 8, Name: "other", State: ComponentMajorOutage}}}
}

// feed delivers results: "a:D" is a down result of monitor a.
func (k *startKit) feed(results ...string) {
	for _, r := range results {
		var name, st string
		fmt.Sscanf(r[:1], "%s", &name)
		st = r[2:]
		status := map[string]monitors.Status{"U": monitors.StatusUp, "D": monitors.StatusDown, "G": monitors.StatusDegraded, "?": monitors.StatusUnknown}[st]
		k.clock.advance(time.Second)
		k.at = k.at.Add(time.Second)
		k.e.mu.Lock()
		gen := k.e.gen
		k.e.mu.Unlock()
		k.e.observe(gen, name, monitors.Result{Status: status, ObservedAt: k.at, Reason: "r"})
	}
}

// changes lists the updates as "from>to".
func (k *startKit) changes() []string {
	_, updates := k.sink.counts()
	var out []string
	for _, u := range updates {
		out = append(out, u.From.String()+">"+u.To.String())
	}
	return out
}

func (k *startKit) want(tb testing.TB, want ...string) {
	tb.Helper()
	got := k.changes()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		tb.Errorf("updates %v, want %v", got, want)
	}
}

// TestRestartMidOutageDecidesNothingEarly is the engine side of issue #15
// point 2: a worst component in major outage (a down, b up) restarts, and
// whichever monitor reports first, the component must not flip to
// operational: the page's major outage is the starting point, and the
// first decision confirms it.
func TestRestartMidOutageDecidesNothingEarly(t *testing.T) {
	orders := [][]string{
		{"b:U", "b:U", "a:D", "a:D"}, // the healthy monitor is fast
		{"a:D", "b:U", "b:U", "a:D"},
		{"b:U", "a:D", "b:U", "b:U", "a:D"},
		{"a:D", "a:D", "b:U"},
	}
	for i, order := range orders {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			k := startEngine(t, config.RuleWorst, 0, showing(ComponentMajorOutage))
			k.feed(order...)
			k.want(t, "major_outage>major_outage")
			_ = i
		})
	}
	// Random interleavings of a down monitor and a slow healthy one.
	for run := range 10 {
		rng := rand.New(rand.NewPCG(uint64(run), 1))
		var order []string
		as, bs := 0, 0
		for as < 3 || bs < 3 {
			if bs >= 3 || (as < 3 && rng.IntN(2) == 0) {
				order, as = append(order, "a:D"), as+1
			} else {
				order, bs = append(order, "b:U"), bs+1
			}
		}
		k := startEngine(t, config.RuleWorst, 0, showing(ComponentMajorOutage))
		k.feed(order...)
		k.want(t, "major_outage>major_outage")
	}
}

func TestStartGate(t *testing.T) {
	tests := []struct {
		name    string
		rule    config.Rule
		quorum  int
		page    PageReader
		results []string
		want    []string
	}{
		// Without a page (dry run, or Cachet unreadable) the gate still
		// waits for every monitor.
		{"no page: first monitor does not speak for the component", config.RuleWorst, 0, nil,
			[]string{"b:U", "a:D", "a:D"}, []string{"unknown>major_outage"}},
		{"page unreadable", config.RuleWorst, 0, shownPage{err: fmt.Errorf("503")},
			[]string{"b:U", "a:D", "a:D"}, []string{"unknown>major_outage"}},
		// The outage ended while statussync was down: leaving the page's
		// major outage takes successes_before_up ups of each monitor.
		{"outage ended during the restart", config.RuleWorst, 0, showing(ComponentMajorOutage),
			[]string{"a:U", "b:U", "a:U"}, nil},
		{"outage ended during the restart, decided", config.RuleWorst, 0, showing(ComponentMajorOutage),
			[]string{"a:U", "b:U", "a:U", "b:U"}, []string{"major_outage>operational"}},
		// A single good check after the restart is not a recovery.
		{"one success is noise against the page", config.RuleWorst, 0, showing(ComponentMajorOutage),
			[]string{"a:U", "a:D", "b:U", "b:U"}, []string{"major_outage>major_outage"}},
		// Operational on the page, still healthy: confirmed, no change.
		{"steady operational", config.RuleWorst, 0, showing(ComponentOperational),
			[]string{"a:U", "b:U"}, []string{"operational>operational"}},
		// An outage that began during the restart still needs the
		// failures, and is decided as soon as nothing can outvote it.
		{"outage began during the restart", config.RuleWorst, 0, showing(ComponentOperational),
			[]string{"a:D", "a:D"}, []string{"operational>major_outage"}},
		// quorum 2 of 3 in partial outage (one down): the two healthy
		// monitors, seeded down by the page, must not make it major.
		{"quorum partial kept", config.RuleQuorum, 2, showing(ComponentPartialOutage),
			[]string{"a:D", "b:U", "c:U", "b:U", "c:U"}, []string{"partial_outage>partial_outage"}},
		// any_up: one up replica settles it.
		{"any_up settled by one replica", config.RuleAnyUp, 0, showing(ComponentOperational),
			[]string{"a:U"}, []string{"operational>operational"}},
		// Unknown results decide nothing.
		{"unknowns wait", config.RuleWorst, 0, showing(ComponentMajorOutage),
			[]string{"b:U", "b:U", "a:?", "a:?"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := startEngine(t, tt.rule, tt.quorum, tt.page)
			k.feed(tt.results...)
			k.want(t, tt.want...)
		})
	}
}

// TestStartGraceEnds: a monitor that never decides (here: only unknown
// results) holds its component back only until the start-up grace ends;
// then the component is decided from the monitors that have.
func TestStartGraceEnds(t *testing.T) {
	k := startEngine(t, config.RuleWorst, 0, showing(ComponentMajorOutage))
	k.feed("b:U", "b:U", "a:?")
	k.want(t)
	k.e.mu.Lock()
	c := k.e.components[0]
	gen, until := k.e.gen, c.gateUntil
	k.e.mu.Unlock()
	// Hourly checks with 2-result thresholds: (2+1) x 1h, capped.
	if d := until.Sub(time.Unix(1_000_000, 0)); d != maxStartGrace {
		t.Errorf("grace %v, want the cap %v", d, maxStartGrace)
	}
	k.clock.advance(maxStartGrace / 2)
	k.e.openGate(gen, c)
	k.want(t)
	k.clock.advance(maxStartGrace)
	k.e.openGate(gen, c)
	k.want(t, "major_outage>operational")
}

func TestStartGraceLength(t *testing.T) {
	mk := func(spec config.MonitorSpec) *monitorEntry { return &monitorEntry{spec: &spec} }
	cfg := &config.Config{CloudNS: config.CloudNSConfig{PollInterval: time.Minute}}
	entries := map[string]*monitorEntry{
		"http":    mk(config.MonitorSpec{Interval: 30 * time.Second, Timeout: 10 * time.Second, FailuresBeforeDown: 2, SuccessesBeforeUp: 1}),
		"slow":    mk(config.MonitorSpec{Interval: 30 * time.Second, Timeout: 25 * time.Second, FailuresBeforeDown: 3, SuccessesBeforeUp: 1}),
		"cloudns": mk(config.MonitorSpec{Interval: 30 * time.Second, Timeout: 5 * time.Second, FailuresBeforeDown: 2, SuccessesBeforeUp: 2, CloudNS: &config.CloudNSProbe{CheckID: 1}}),
	}
	for _, tt := range []struct {
		monitors []string
		want     time.Duration
	}{
		{[]string{"http"}, 3*30*time.Second + 10*time.Second},
		{[]string{"http", "slow"}, 4*30*time.Second + 25*time.Second},
		{[]string{"http", "cloudns"}, 3*time.Minute + 5*time.Second},
	} {
		if got := startGrace(cfg, config.ComponentSpec{Monitors: tt.monitors}, entries, time.Now()); got != tt.want {
			t.Errorf("grace of %v = %v, want %v", tt.monitors, got, tt.want)
		}
	}
}
