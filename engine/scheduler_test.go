package engine

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"
)

func TestSpreadIsDeterministicAndSpread(t *testing.T) {
	const n = 1000
	interval := time.Minute
	buckets := map[time.Duration]int{}
	for i := range n {
		name := fmt.Sprintf("monitor-%d", i)
		d := spreadDelay(name, interval)
		if d != spreadDelay(name, interval) {
			t.Fatal("spread delay is not deterministic")
		}
		if d < 0 || d >= interval {
			t.Fatalf("delay %v outside [0, %v)", d, interval)
		}
		buckets[d.Truncate(time.Second)]++
	}
	// 1000 monitors over 60 one-second buckets: a uniform spread puts ~17
	// in each; a cluster would put far more in one.
	for sec, c := range buckets {
		if c > 45 {
			t.Errorf("%d monitors start in second %v: not spread", c, sec)
		}
	}
	if len(buckets) < 55 {
		t.Errorf("only %d of 60 seconds used", len(buckets))
	}
}

func TestSpreadIntervalNext(t *testing.T) {
	s := spreadInterval{every: 10 * time.Second, offset: 3 * time.Second}
	t0 := time.Unix(100, 0) // phase 0 of a 10s cycle
	want := []int64{103, 113, 123}
	now := t0
	for _, w := range want {
		now = s.Next(now)
		if now.Unix() != w {
			t.Fatalf("next = %d, want %d", now.Unix(), w)
		}
	}
	if got := s.Next(time.Unix(103, 0)); got.Unix() != 113 {
		t.Errorf("next at a due instant must be the following one, got %d", got.Unix())
	}
}

func TestSpreadCronKeepsCadence(t *testing.T) {
	inner, err := cron.ParseStandard("*/2 * * * *")
	if err != nil {
		t.Fatal(err)
	}
	s := spreadCron{inner: inner, delay: 7 * time.Second}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	n1 := s.Next(t0)
	n2 := s.Next(n1)
	if n1 != t0.Add(7*time.Second) || n2.Sub(n1) != 2*time.Minute {
		t.Errorf("runs at %v and %v", n1, n2)
	}
}

func newTestMetrics(tb testing.TB) (*Metrics, *prometheus.Registry) {
	tb.Helper()
	reg := prometheus.NewRegistry()
	return NewMetrics(reg), reg
}

// runCount reads a per-monitor counter of the scheduler from reg.
func runCount(tb testing.TB, reg *prometheus.Registry, name, monitor string) float64 {
	tb.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "monitor" && l.GetValue() == monitor {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	tb.Fatalf("no %s{monitor=%q}", name, monitor)
	return 0
}

func TestSchedulerRunsNeverOverlapAndHaveDeadlines(t *testing.T) {
	m, reg := newTestMetrics(t)
	var running, maxRunning, runs atomic.Int32
	var deadlineOK atomic.Bool
	deadlineOK.Store(true)
	job := Job{
		Name:     "slow",
		Interval: 50 * time.Millisecond,
		Timeout:  40 * time.Millisecond,
		Run: func(ctx context.Context) {
			if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > 40*time.Millisecond {
				deadlineOK.Store(false)
			}
			n := running.Add(1)
			for {
				old := maxRunning.Load()
				if n <= old || maxRunning.CompareAndSwap(old, n) {
					break
				}
			}
			// Run well past the interval, ignoring ctx, as a badly
			// behaved check might.
			time.Sleep(130 * time.Millisecond)
			running.Add(-1)
			runs.Add(1)
		},
	}
	s, err := NewScheduler(context.Background(), slog.New(slog.DiscardHandler), m, []Job{job})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	time.Sleep(600 * time.Millisecond)
	<-s.Stop().Done()
	if maxRunning.Load() != 1 {
		t.Errorf("runs overlapped: %d at once", maxRunning.Load())
	}
	if runs.Load() < 2 {
		t.Errorf("only %d runs", runs.Load())
	}
	if !deadlineOK.Load() {
		t.Error("a run had no deadline or one beyond its timeout")
	}
	if skips := runCount(t, reg, "statussync_monitor_runs_skipped_total", "slow"); skips < 1 {
		t.Errorf("skips = %v, want the overlapping runs counted", skips)
	}
}

func TestSchedulerRecoversPanics(t *testing.T) {
	m, reg := newTestMetrics(t)
	var after sync.WaitGroup
	after.Add(1)
	var once sync.Once
	var calls atomic.Int32
	jobs := []Job{{
		Name: "boom", Interval: 20 * time.Millisecond, Timeout: 10 * time.Millisecond,
		Run: func(context.Context) {
			if calls.Add(1) == 1 {
				panic("bad input")
			}
			once.Do(after.Done)
		},
	}}
	s, err := NewScheduler(context.Background(), slog.New(slog.DiscardHandler), m, jobs)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	after.Wait() // the job keeps running after its panic
	<-s.Stop().Done()
	if got := runCount(t, reg, "statussync_monitor_panics_total", "boom"); got != 1 {
		t.Errorf("panics = %v, want 1", got)
	}
}

func TestSchedulerRejectsJobWithoutSchedule(t *testing.T) {
	m, _ := newTestMetrics(t)
	if _, err := NewScheduler(context.Background(), slog.New(slog.DiscardHandler), m, []Job{{Name: "x"}}); err == nil {
		t.Error("want an error for a job with neither interval nor cron")
	}
}
