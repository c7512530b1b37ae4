package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/statussync/statussync/cachet/cachettest"
	"github.com/statussync/statussync/internal/app"
)

// profileScale runs the scale configuration in this process (not as a
// child) and writes heap and CPU profiles, to find where the scale run's
// memory and CPU go:
//
//	go run ./bench profile-scale -monitors 10000 -warmup 75s -cpu 60s -dir /tmp/prof
func profileScale(args []string) error {
	fs := flag.NewFlagSet("profile-scale", flag.ContinueOnError)
	n := fs.Int("monitors", 10000, "monitors")
	warmup := fs.Duration("warmup", 75*time.Second, "time before the heap profile")
	cpu := fs.Duration("cpu", 60*time.Second, "CPU profile length, after the heap profile")
	dir := fs.String("dir", ".", "where to write heap.pprof and cpu.pprof")
	memRate := fs.Int("memprofilerate", 64<<10, "runtime.MemProfileRate: bytes per heap sample (smaller is more exact)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	runtime.MemProfileRate = *memRate
	targets, closeTargets := okTargets(20, nil)
	defer closeTargets()
	cachet := newCachet()
	defer cachet.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "cachet: {url: %q, token: %q}\ndefaults: {interval: 60s, timeout: 10s}\nmonitors:\n", cachet.URL(), benchToken)
	for i := range *n {
		fmt.Fprintf(&b, "  - {name: m%05d, http: {url: %q, valid_status_codes: [200]}}\n", i, fmt.Sprintf("%s/m%05d", targets[i%len(targets)], i))
	}
	b.WriteString("components:\n")
	for c := range *n / 10 {
		id := cachet.AddComponent(fmt.Sprintf("c%04d", c), cachettest.StatusOperational).ID
		var ms []string
		for i := c * 10; i < c*10+10; i++ {
			ms = append(ms, fmt.Sprintf("m%05d", i))
		}
		fmt.Fprintf(&b, "  - {name: c%04d, cachet_id: %d, monitors: [%s], incidents: {enabled: true}}\n", c, id, strings.Join(ms, ", "))
	}
	cfg := filepath.Join(*dir, "scale.yml")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
		return err
	}
	logs := &lockedBuffer{}
	a, err := app.New(app.Options{ConfigFile: cfg, ListenAddress: "127.0.0.1:0", Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	logf("profile-scale: %d monitors, warming up %v (scraping /metrics every 20s)", *n, *warmup)
	// Scrape as Prometheus would, so that the profiles include it.
	d := &daemon{logs: logs}
	for end := time.Now().Add(*warmup); time.Now().Before(end); {
		time.Sleep(min(20*time.Second, time.Until(end)))
		if d.addr == "" {
			for _, line := range strings.Split(logs.String(), "\n") {
				var rec struct{ Msg, Address string }
				if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
					d.addr = rec.Address
				}
			}
		}
		if d.addr != "" {
			if took, size, err := d.timedScrape(); err == nil {
				logf("profile-scale: /metrics %d bytes in %v", size, took)
			}
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	logf("heap in use %d MiB, sys %d MiB, goroutines %d", ms.HeapInuse>>20, ms.Sys>>20, runtime.NumGoroutine())
	if gf, err := os.Create(filepath.Join(*dir, "goroutines.txt")); err == nil {
		_ = pprof.Lookup("goroutine").WriteTo(gf, 1)
		_ = gf.Close()
	}
	hf, err := os.Create(filepath.Join(*dir, "heap.pprof"))
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(hf); err != nil {
		return err
	}
	_ = hf.Close()
	cf, err := os.Create(filepath.Join(*dir, "cpu.pprof"))
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(cf); err != nil {
		return err
	}
	time.Sleep(*cpu)
	pprof.StopCPUProfile()
	_ = cf.Close()
	cancel()
	return <-done
}
