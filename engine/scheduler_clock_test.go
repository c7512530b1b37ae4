package engine

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/robfig/cron/v3"
)

// fakeClock is a Clock whose wall and monotonic times move only when a
// test says so; stepWall moves the wall clock alone, as NTP or a resumed VM
// does.
type fakeClock struct {
	mu     sync.Mutex
	wall   time.Time
	mono   time.Duration
	timers []*fakeTimer
}

type fakeTimer struct {
	at time.Duration
	c  chan time.Time
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }
func (t *fakeTimer) Stop() bool          { return true }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.wall
}

func (f *fakeClock) Mono() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mono
}

func (f *fakeClock) NewTimer(d time.Duration) Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := &fakeTimer{at: f.mono + d, c: make(chan time.Time, 1)}
	if d <= 0 {
		t.c <- f.wall
		return t
	}
	f.timers = append(f.timers, t)
	return t
}

// advance moves both clocks by d and fires the timers that are due.
func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mono += d
	f.wall = f.wall.Add(d)
	kept := f.timers[:0]
	for _, t := range f.timers {
		if t.at <= f.mono {
			t.c <- f.wall
		} else {
			kept = append(kept, t)
		}
	}
	f.timers = kept
}

// settle waits until the scheduler's loop sleeps again on a timer, so the
// next advance finds it asleep.
func (f *fakeClock) settle(tb testing.TB) {
	waitFor(tb, "the scheduler to sleep", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.timers) > 0
	})
}

func (f *fakeClock) stepWall(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.wall = f.wall.Add(d)
}

// waitFor polls cond for up to five seconds of real time: the scheduler's
// loop and runs are goroutines that need a moment after each advance.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func startFake(t *testing.T, clock *fakeClock, jobs []Job) (*Scheduler, *Metrics) {
	t.Helper()
	m := NewMetrics(prometheus.NewRegistry())
	s, err := newScheduler(context.Background(), slog.New(slog.DiscardHandler), m, jobs, clock)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { <-s.Stop().Done() })
	return s, m
}

// TestSchedulerSurvivesBackwardClockStep: after the wall clock steps back
// an hour, checks go on at their interval instead of freezing for the hour
// (robfig/cron computed Next from wall time and slept until then).
func TestSchedulerSurvivesBackwardClockStep(t *testing.T) {
	clock := &fakeClock{wall: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	var runs atomic.Int32
	startFake(t, clock, []Job{{Name: "web", Interval: 10 * time.Second, Timeout: time.Second,
		Run: func(context.Context) { runs.Add(1) }}})

	step := func(n int) {
		for range n {
			clock.settle(t)
			clock.advance(time.Second)
		}
	}
	step(25)
	waitFor(t, "two runs before the step", func() bool { return runs.Load() >= 2 })
	before := runs.Load()
	clock.stepWall(-time.Hour)
	step(35) // three and a half intervals
	waitFor(t, "runs after the step", func() bool { return runs.Load() >= before+3 })
}

// TestSchedulerForwardClockStepKeepsSpread: a forward step does not fire
// every job at once; each keeps its own phase.
func TestSchedulerForwardClockStepKeepsSpread(t *testing.T) {
	clock := &fakeClock{wall: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	var runs atomic.Int32
	var jobs []Job
	for _, name := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		jobs = append(jobs, Job{Name: name, Interval: time.Minute, Timeout: time.Second, Run: func(context.Context) { runs.Add(1) }})
	}
	startFake(t, clock, jobs)
	clock.settle(t)
	clock.stepWall(time.Hour)
	clock.advance(maxSleep) // the loop wakes at least this often
	time.Sleep(50 * time.Millisecond)
	if n := runs.Load(); n > 1 {
		t.Errorf("%d jobs ran at once after a forward step, want them rescheduled to their phases", n)
	}
}

// TestSchedulerLatenessIsTheRunsOwn: every run's lateness is measured
// against its own due time. robfig/cron started the job before computing
// Next, so ~2.6% of runs read the previous due time and recorded a whole
// interval (issue #15 point 7). With a clock that runs jobs exactly when
// due, every observation is zero.
func TestSchedulerLatenessIsTheRunsOwn(t *testing.T) {
	clock := &fakeClock{wall: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	var runs atomic.Int32
	var jobs []Job
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		jobs = append(jobs, Job{Name: name, Interval: time.Second, Timeout: time.Second, Run: func(context.Context) { runs.Add(1) }})
	}
	_, m := startFake(t, clock, jobs)
	// Step in increments that land on every due instant exactly: the
	// offsets are whole nanoseconds of a hash, so step 1ms and accept
	// up to 1ms.
	for range 6000 {
		clock.settle(t)
		clock.advance(time.Millisecond)
		if runs.Load() > 25 {
			break
		}
	}
	waitFor(t, "runs", func() bool { return runs.Load() >= 20 })
	var out dto.Metric
	if err := m.lateness.Write(&out); err != nil {
		t.Fatal(err)
	}
	h := out.GetHistogram()
	if h.GetSampleCount() < 20 {
		t.Fatalf("lateness has %d samples", h.GetSampleCount())
	}
	for _, b := range h.GetBucket() {
		if b.GetUpperBound() == 0.001 && b.GetCumulativeCount() != h.GetSampleCount() {
			t.Errorf("%d of %d runs recorded over 1ms of lateness with a clock that is never late (sum %.3fs)",
				h.GetSampleCount()-b.GetCumulativeCount(), h.GetSampleCount(), h.GetSampleSum())
		}
	}
}

// TestCronSpreadIsSmall: a daily cron spec runs within cronSpreadMax of
// its time (it was delayed by up to a tenth of a day: 0 9 * * * ran at
// 10:22), and monitors sharing a spec still do not fire together.
func TestCronSpreadIsSmall(t *testing.T) {
	daily, err := cron.ParseStandard("0 9 * * *")
	if err != nil {
		t.Fatal(err)
	}
	s, err := newScheduler(context.Background(), slog.New(slog.DiscardHandler), NewMetrics(prometheus.NewRegistry()), []Job{
		{Name: "a", Cron: daily, Timeout: time.Second, Run: func(context.Context) {}},
		{Name: "b", Cron: daily, Timeout: time.Second, Run: func(context.Context) {}},
	}, &fakeClock{})
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 3, 1, 12, 0, 0, 0, time.Local)
	nine := time.Date(2026, 3, 2, 9, 0, 0, 0, time.Local)
	var nexts []time.Time
	for _, e := range s.entries {
		n := e.sched.Next(from)
		if n.Before(nine) || n.Sub(nine) >= cronSpreadMax {
			t.Errorf("%s: next run %s, want within %s after %s", e.job.Name, n, cronSpreadMax, nine)
		}
		nexts = append(nexts, n)
	}
	if nexts[0].Equal(nexts[1]) {
		t.Error("two monitors on one spec fire at the same instant")
	}
}
