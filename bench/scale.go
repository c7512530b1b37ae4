package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
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

// okTargets starts n HTTP targets that answer 200 "ok".
func okTargets(n int) (urls []string, closeAll func()) {
	var srvs []*httptest.Server
	for range n {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") }))
		srvs = append(srvs, s)
		urls = append(urls, s.URL)
	}
	return urls, func() {
		for _, s := range srvs {
			s.Close()
		}
	}
}

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
	targets, closeTargets := okTargets(20)
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
	maxG := value(m0, "go_goroutines")
	logf("scale: measuring for %v (up %v, unknown %v)", e.opts.scaleDuration,
		value(m0, "statussync_monitors", "state", "up"), value(m0, "statussync_monitors", "state", "unknown"))
	// A Prometheus-like scrape every 30s, counted in the service's CPU.
	for elapsed := time.Duration(0); elapsed < e.opts.scaleDuration; {
		step := min(30*time.Second, e.opts.scaleDuration-elapsed)
		if err := sleepSampling(ctx, step, sample); err != nil {
			return nil, nil, err
		}
		elapsed += step
		if m, err := d.scrape(); err == nil {
			maxG = math.Max(maxG, value(m, "go_goroutines"))
		}
	}
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
	perHour := func(k int) float64 { return float64(k) * float64(time.Hour) / float64(wall) }
	logf("scale: rss max %d MiB, cpu %.3f cores, goroutines max %.0f, lateness p50 %.4fs p99 %.4fs over %.0f runs, %d/%d monitors up",
		maxRSS>>20, cores, maxG, p50, p99, checks, int(up), n)

	mib := float64(maxRSS) / (1 << 20)
	rows := []row{
		{fmt.Sprintf("2. Scale: RSS, %d monitors @60s, %v", n, wall.Round(time.Second)), fmt.Sprintf("max %.0f MiB (at the end %.0f MiB)", mib, float64(finalRSS)/(1<<20)), "< 256 MiB", verdict(mib, 256, " MiB")},
		{"2. Scale: CPU share", fmt.Sprintf("%.3f cores (%.1f ms CPU per check)", cores, 1000*float64(p1.cpu-p0.cpu)/float64(time.Second)/math.Max(checks, 1)), "< 0.5 core", verdict(cores, 0.5, " core")},
		{"2. Scale: goroutines", fmt.Sprintf("max %.0f", maxG), "(no target)", "-"},
		{"2. Scale: scheduler lateness", fmt.Sprintf("p50 %s, p99 **%s** (%.0f runs)", ms(p50), ms(p99), checks), "p99 < 100 ms", verdict(p99*1000, 100, " ms")},
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
