package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/statussync/statussync/cachet/cachettest"
)

// benchToken is the Cachet token of the benchmarks' fakes.
const benchToken = "1|benchTokenSecretValue"

// newCachet starts a Cachet fake that accepts benchToken.
func newCachet() *cachettest.Server {
	srv := cachettest.NewServer(cachettest.Config{Tokens: map[string][]string{benchToken: {"*"}}})
	srv.Start()
	return srv
}

// arrivals counts requests to the targets per 100 ms of wall time while
// recording is on, to show how evenly the checks are spread.
type arrivals struct {
	mu      sync.Mutex
	on      bool
	buckets map[int64]int
}

func (a *arrivals) hit() {
	a.mu.Lock()
	if a.on {
		a.buckets[time.Now().UnixMilli()/100]++
	}
	a.mu.Unlock()
}

func (a *arrivals) record(on bool) {
	a.mu.Lock()
	if on && a.buckets == nil {
		a.buckets = map[int64]int{}
	}
	a.on = on
	a.mu.Unlock()
}

// spread returns the mean and the largest number of arrivals per 100 ms
// bucket over the recorded span (empty buckets count).
func (a *arrivals) spread() (mean float64, most int, buckets int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var lo, hi int64 = math.MaxInt64, math.MinInt64
	total := 0
	for k, c := range a.buckets {
		lo, hi = min(lo, k), max(hi, k)
		total += c
		most = max(most, c)
	}
	if total == 0 {
		return 0, 0, 0
	}
	// The first and last buckets are partial.
	buckets = int(hi - lo + 1)
	return float64(total) / float64(buckets), most, buckets
}

// okTargets starts n HTTP targets that answer 200 "ok"; arr, if not nil,
// counts the requests.
func okTargets(n int, arr *arrivals) (urls []string, closeAll func()) {
	var srvs []*httptest.Server
	for range n {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			if arr != nil {
				arr.hit()
			}
			_, _ = io.WriteString(w, "ok\n")
		}))
		srvs = append(srvs, s)
		urls = append(urls, s.URL)
	}
	return urls, func() {
		for _, s := range srvs {
			s.Close()
		}
	}
}

// idPattern matches the ids in a Cachet API path.
var idPattern = regexp.MustCompile(`/[0-9]+`)

// metricMonitors is how many monitors of the scale run push a Cachet
// metric point, one a minute each.
const metricMonitors = 10

// runScale runs the binary with scale-monitors http monitors at a 60s
// interval against local targets, grouped ten to a component on the Cachet
// fake with incidents enabled, and measures the service's RSS, CPU,
// goroutines, scheduler lateness and Cachet writes over scale-duration
// after scale-warmup.
func runScale(ctx context.Context, e *env) ([]row, []string, error) {
	n := e.opts.scaleMonitors
	var arr arrivals
	targets, closeTargets := okTargets(20, &arr)
	defer closeTargets()
	cachet := newCachet()
	defer cachet.Close()
	components := n / 10
	var b strings.Builder
	fmt.Fprintf(&b, "cachet: {url: %q, token: %q}\ndefaults: {interval: 60s, timeout: 10s}\nmonitors:\n", cachet.URL(), benchToken)
	for i := range n {
		fmt.Fprintf(&b, "  - {name: m%05d, http: {url: %q, valid_status_codes: [200]}", i, fmt.Sprintf("%s/m%05d", targets[i%len(targets)], i))
		if i < metricMonitors {
			name := fmt.Sprintf("latency %d", i)
			cachet.AddMetric(name, "ms", 1)
			fmt.Fprintf(&b, ", metric: {name: %q}", name)
		}
		b.WriteString("}\n")
	}
	b.WriteString("components:\n")
	for c := range components {
		id := cachet.AddComponent(fmt.Sprintf("c%04d", c), cachettest.StatusOperational).ID
		var ms []string
		for i := c * 10; i < c*10+10; i++ {
			ms = append(ms, fmt.Sprintf("m%05d", i))
		}
		fmt.Fprintf(&b, "  - {name: c%04d, cachet_id: %d, monitors: [%s], incidents: {enabled: true}}\n", c, id, strings.Join(ms, ", "))
	}
	var environ []string
	if e.opts.scaleEnv != "" {
		environ = strings.Split(e.opts.scaleEnv, ",")
	}
	d, err := startDaemon(ctx, e, "scale", b.String(), environ...)
	if err != nil {
		return nil, nil, err
	}
	defer d.stop()
	pid := d.cmd.Process.Pid

	logf("scale: %d monitors, %d components; warming up for %v", n, components, e.opts.scaleWarmup)
	var maxRSS int64
	sample := func() {
		if s, err := readProc(pid); err == nil && s.rss > maxRSS {
			maxRSS = s.rss
		}
	}
	if err := sleepSampling(ctx, e.opts.scaleWarmup, sample); err != nil {
		return nil, nil, err
	}
	maxRSS = 0
	arr.record(true)
	m0, err := d.scrape()
	if err != nil {
		return nil, nil, err
	}
	p0, err := readProc(pid)
	if err != nil {
		return nil, nil, err
	}
	t0 := time.Now()
	writes0 := len(cachet.Writes())
	requests0 := len(cachet.Requests())
	maxG := value(m0, "go_goroutines")
	logf("scale: measuring for %v (up %v, unknown %v)", e.opts.scaleDuration,
		value(m0, "statussync_monitors", "state", "up"), value(m0, "statussync_monitors", "state", "unknown"))
	// A Prometheus-like scrape every 30s, counted in the service's CPU,
	// and timed: the whole body, as Prometheus reads it (uncompressed).
	var scrapes, scrapeCPU []time.Duration
	var scrapeBytes int64
	for elapsed := time.Duration(0); elapsed < e.opts.scaleDuration; {
		step := min(30*time.Second, e.opts.scaleDuration-elapsed)
		if err := sleepSampling(ctx, step, sample); err != nil {
			return nil, nil, err
		}
		elapsed += step
		c0, _ := readProc(pid)
		if took, size, err := d.timedScrape(); err == nil {
			scrapes, scrapeBytes = append(scrapes, took), size
			if c1, err := readProc(pid); err == nil {
				// The service's CPU during the scrape (its checks go on).
				scrapeCPU = append(scrapeCPU, c1.cpu-c0.cpu)
			}
		}
		if m, err := d.scrape(); err == nil {
			maxG = math.Max(maxG, value(m, "go_goroutines"))
		}
	}
	arr.record(false)
	m1, err := d.scrape()
	if err != nil {
		return nil, nil, err
	}
	p1, err := readProc(pid)
	if err != nil {
		return nil, nil, err
	}
	wall := time.Since(t0)
	sample()
	finalRSS := p1.rss

	cores := float64(p1.cpu-p0.cpu) / float64(wall)
	late := histogramOf(m1, "statussync_scheduler_lateness_seconds").minus(histogramOf(m0, "statussync_scheduler_lateness_seconds"))
	p50, p99 := late.quantile(0.5), late.quantile(0.99)
	checks := late.count
	up := value(m1, "statussync_monitors", "state", "up")

	var points, other int
	var otherKinds []string
	for _, w := range cachet.Writes()[writes0:] {
		if strings.HasSuffix(w.Path, "/points") {
			points++
		} else {
			other++
			otherKinds = append(otherKinds, w.Method+" "+w.Path)
		}
	}
	logf("scale: go heap in use %.0f MiB, heap sys %.0f MiB, released %.0f MiB, next GC %.0f MiB, stacks %.0f MiB",
		value(m1, "go_memstats_heap_inuse_bytes")/(1<<20), value(m1, "go_memstats_heap_sys_bytes")/(1<<20),
		value(m1, "go_memstats_heap_released_bytes")/(1<<20), value(m1, "go_memstats_next_gc_bytes")/(1<<20),
		value(m1, "go_memstats_stack_sys_bytes")/(1<<20))
	perHour := func(k int) float64 { return float64(k) * float64(time.Hour) / float64(wall) }
	// Every request to Cachet in the measured window, by method and path
	// with ids folded: where the client's request budget goes.
	byKind := map[string]int{}
	for _, r := range cachet.Requests()[requests0:] {
		byKind[r.Method+" "+idPattern.ReplaceAllString(r.Path, "/{id}")]++
	}
	var kinds []string
	for k, c := range byKind {
		kinds = append(kinds, fmt.Sprintf("%s: %.0f/h", k, perHour(c)))
	}
	slices.Sort(kinds)
	logf("scale: Cachet requests: %s", strings.Join(kinds, ", "))
	logf("scale: rss max %d MiB, cpu %.3f cores, goroutines max %.0f, lateness p50 %.4fs p99 %.4fs over %.0f runs, %d/%d monitors up",
		maxRSS>>20, cores, maxG, p50, p99, checks, int(up), n)

	mib := float64(maxRSS) / (1 << 20)
	mean, most, buckets := arr.spread()
	spreadRatio := float64(most) / math.Max(mean, 1e-9)
	scrapeMax := slices.Max(append(scrapes, 0))
	rows := []row{
		{fmt.Sprintf("2. Scale: RSS, %d monitors @60s, %v", n, wall.Round(time.Second)), fmt.Sprintf("max %.0f MiB (at the end %.0f MiB)", mib, float64(finalRSS)/(1<<20)), "< 128 MiB", verdict(mib, 128, " MiB")},
		{"2. Scale: CPU share", fmt.Sprintf("%.3f cores (%.2f ms CPU per check)", cores, 1000*float64(p1.cpu-p0.cpu)/float64(time.Second)/math.Max(checks, 1)), "< 0.25 core", verdict(cores, 0.25, " core")},
		{"2. Scale: goroutines", fmt.Sprintf("max %.0f", maxG), "(no target)", "-"},
		{"2. Scale: scheduler lateness", fmt.Sprintf("p50 %s, p99 **%s** (%.0f runs)", ms(p50), ms(p99), checks), "p99 < 50 ms", verdict(p99*1000, 50, " ms")},
		{"2. Scale: spread of checks", fmt.Sprintf("busiest 100 ms: %d checks, mean %.1f: **%.2f×** the mean (%d buckets)", most, mean, spreadRatio, buckets), "no 100 ms bucket above 3× the mean", verdict(spreadRatio, 3, "×")},
		{fmt.Sprintf("2. Scale: full /metrics scrape, %d monitors", n), fmt.Sprintf("max **%s**, median %s wall (%d scrapes, %.1f MiB each); the service's CPU during a scrape: median %s", ms(scrapeMax.Seconds()), ms(percentile(scrapes, 0.5).Seconds()), len(scrapes), float64(scrapeBytes)/(1<<20), ms(percentile(scrapeCPU, 0.5).Seconds())), "< 250 ms", verdict(us(scrapeMax)/1000, 250, " ms")},
		{fmt.Sprintf("3. Cachet writes per hour, steady state, %d components", components),
			fmt.Sprintf("**%.0f** other writes; %.0f metric points (%d metrics × 60/h = %d expected)", perHour(other), perHour(points), metricMonitors, metricMonitors*60),
			"0 apart from metric points", map[bool]string{true: "met", false: "**missed**: " + strings.Join(otherKinds[:min(len(otherKinds), 5)], ", ")}[other == 0]},
	}
	notes := []string{fmt.Sprintf("Scale: the binary runs %d http monitors (fresh connection per check) against 20 local targets in the harness process, "+
		"%d components with incidents on the Cachet fake; %d monitors push a metric every minute. RSS is VmRSS sampled every 2s, CPU is utime+stime "+
		"from /proc over the measured %v (which includes a /metrics scrape every 30s), lateness comes from statussync_scheduler_lateness_seconds "+
		"(buckets 1, 5, 10, 25, 50, 100 ms, ...; quantiles interpolated as histogram_quantile does), the first %v are not measured.",
		n, components, metricMonitors, wall.Round(time.Second), e.opts.scaleWarmup)}
	if len(environ) > 0 {
		notes = append(notes, fmt.Sprintf("Scale: statussync ran with %s.", strings.Join(environ, " ")))
	}
	if up != float64(n) {
		notes = append(notes, fmt.Sprintf("Scale: only %.0f of %d monitors were up at the end.", up, n))
	}
	return rows, notes, nil
}

// sleepSampling waits d, calling sample every 2s.
func sleepSampling(ctx context.Context, d time.Duration, sample func()) error {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		sample()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(2*time.Second, time.Until(end))):
		}
	}
	return nil
}

func ms(seconds float64) string {
	if math.IsInf(seconds, 1) {
		return "> 5 s"
	}
	if math.IsNaN(seconds) {
		return "n/a"
	}
	return fmt.Sprintf("%.1f ms", seconds*1000)
}
