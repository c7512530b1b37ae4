package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/robfig/cron/v3"

	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/engine"
	"github.com/statussync/statussync/monitors"
)

// runCosts measures, in this process, two parts of the scale run against a
// baseline in the same run: the scheduler's dispatch CPU against
// robfig/cron's runner with the same jobs and phases, and a full /metrics
// rendering of 10,000 monitors by the scrape path (monitors.Gatherer)
// against a prometheus.Registry gathering the same series.
func runCosts(ctx context.Context, e *env) ([]row, []string, error) {
	n := e.opts.scaleMonitors
	var rows []row

	// Scheduler: n no-op jobs every 20s, 20s measured after 2s.
	const every, window = 20 * time.Second, 20 * time.Second
	offset := func(i int) time.Duration { return time.Duration(i) * every / time.Duration(n) }
	measure := func(start func() (stop func())) (time.Duration, error) {
		stop := start()
		defer stop()
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(2 * time.Second):
		}
		c0 := cpuTime()
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(window):
		}
		return cpuTime() - c0, nil
	}
	var runsHeap, runsCron atomic.Int64
	heapCPU, err := measure(func() func() {
		jobs := make([]engine.Job, n)
		for i := range jobs {
			jobs[i] = engine.Job{Name: fmt.Sprintf("m%05d", i), Interval: every, Timeout: time.Second,
				Run: func(context.Context) { runsHeap.Add(1) }}
		}
		s, err := engine.NewScheduler(ctx, slog.New(slog.DiscardHandler), engine.NewMetrics(prometheus.NewRegistry()), jobs)
		if err != nil {
			panic(err)
		}
		s.Start()
		return func() { <-s.Stop().Done() }
	})
	if err != nil {
		return nil, nil, err
	}
	cronCPU, err := measure(func() func() {
		c := cron.New()
		for i := range n {
			c.Schedule(phased{every: every, offset: offset(i)}, cron.FuncJob(func() { runsCron.Add(1) }))
		}
		c.Start()
		return func() { <-c.Stop().Done() }
	})
	if err != nil {
		return nil, nil, err
	}
	ratio := float64(heapCPU) / float64(cronCPU)
	logf("costs: scheduler %v CPU (%d runs) vs robfig/cron %v (%d runs), ratio %.3f", heapCPU, runsHeap.Load(), cronCPU, runsCron.Load(), ratio)
	rows = append(rows, row{
		name: fmt.Sprintf("2a. Scheduler dispatch CPU, %d jobs every %v, %v", n, every, window),
		measured: fmt.Sprintf("%v vs %v robfig/cron runner: ratio **%.2f** (%d and %d runs in all)",
			heapCPU.Round(time.Millisecond), cronCPU.Round(time.Millisecond), ratio, runsHeap.Load(), runsCron.Load()),
		target: "(no target; lower is better)", verdict: "-",
	})

	// Scrape rendering: n monitors' last results, each path fed by real
	// checks against a local target.
	targets, closeTargets := okTargets(1, nil)
	defer closeTargets()
	var b strings.Builder
	b.WriteString("monitors:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {name: m%05d, interval: 60s, labels: {team: t%d}, http: {url: %q}}\n", i, i%7, targets[0]+"/")
	}
	cfgPath := filepath.Join(e.tmp, "costs.yml")
	if err := os.WriteFile(cfgPath, []byte(b.String()), 0o600); err != nil {
		return nil, nil, err
	}
	cfg, err := config.Load(cfgPath, nil)
	if err != nil {
		return nil, nil, err
	}
	regOld, regNew := prometheus.NewRegistry(), prometheus.NewRegistry()
	viaRegistry, viaScrape := monitors.NewMetrics(regOld), monitors.NewScrapeMetrics(regNew)
	for _, m := range []*monitors.Metrics{viaRegistry, viaScrape} {
		m.Init(cfg.Monitors)
		for _, spec := range cfg.Monitors {
			mon, err := monitors.New(spec, monitors.Deps{Metrics: m})
			if err != nil {
				return nil, nil, err
			}
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			mon.Check(monitors.WithoutDetails(cctx))
			cancel()
		}
	}
	render := func(h http.Handler) (time.Duration, int64, error) {
		cw := &countWriter{header: http.Header{}}
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		c0 := cpuTime()
		h.ServeHTTP(cw, req)
		if cw.status != 0 && cw.status != http.StatusOK {
			return 0, 0, fmt.Errorf("/metrics: status %d", cw.status)
		}
		return cpuTime() - c0, cw.n, nil
	}
	oldHandler := promhttp.HandlerFor(regOld, promhttp.HandlerOpts{EnableOpenMetrics: true})
	newHandler := viaScrape.Handler(regNew, nil)
	const rounds = 5
	var cpuOld, cpuNew time.Duration
	var size int64
	for r := range rounds {
		for _, isNew := range map[bool][]bool{true: {true, false}, false: {false, true}}[r%2 == 0] {
			h := oldHandler
			if isNew {
				h = newHandler
			}
			d, sz, err := render(h)
			if err != nil {
				return nil, nil, err
			}
			if isNew {
				cpuNew, size = cpuNew+d, sz
			} else {
				cpuOld += d
			}
		}
	}
	ratio = float64(cpuNew) / float64(cpuOld)
	logf("costs: scrape rendering %v vs registry %v per scrape, ratio %.3f", cpuNew/rounds, cpuOld/rounds, ratio)
	rows = append(rows, row{
		name: fmt.Sprintf("2b. /metrics rendering CPU, %d monitors (%.1f MiB of text)", n, float64(size)/(1<<20)),
		measured: fmt.Sprintf("%v vs %v through promhttp and a prometheus.Registry: ratio **%.2f**",
			(cpuNew / rounds).Round(time.Millisecond), (cpuOld / rounds).Round(time.Millisecond), ratio),
		target: "(no target; lower is better)", verdict: "-",
	})
	notes := []string{fmt.Sprintf("Costs (2a, 2b): in the harness process, CPU from getrusage. 2a runs %d no-op jobs at evenly spread phases "+
		"first on statussync's scheduler (engine.NewScheduler), then on robfig/cron's runner, %v each after 2 s. 2b serves /metrics (text format, "+
		"no compression) for %d http monitors' last results, each fed by a real check, %d times each way, interleaved: statussync's handler "+
		"(monitors.Metrics.Handler) against promhttp over a Registry holding the same collector.", n, window, n, rounds)}
	return rows, notes, nil
}

// phased is an every-interval cron.Schedule at a fixed phase, as the
// scheduler's spread.
type phased struct{ every, offset time.Duration }

func (p phased) Next(t time.Time) time.Time {
	base := time.Unix(0, 0).Add(p.offset)
	next := base.Add((t.Sub(base)/p.every + 1) * p.every)
	if !next.After(t) {
		next = next.Add(p.every)
	}
	return next
}

// countWriter is an http.ResponseWriter that counts the body.
type countWriter struct {
	header http.Header
	status int
	n      int64
}

func (c *countWriter) Header() http.Header { return c.header }
func (c *countWriter) WriteHeader(s int)   { c.status = s }
func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
