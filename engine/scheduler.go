package engine

import (
	"container/heap"
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/statussync/statussync/monitors"
)

// Job is one recurring task: a monitor's check.
type Job struct {
	Name string
	// Interval runs the job every Interval, at a fixed per-name offset;
	// Cron, if set, is used instead.
	Interval time.Duration
	Cron     cron.Schedule
	// Timeout bounds each run as a context deadline.
	Timeout time.Duration
	Run     func(ctx context.Context)
}

// Scheduler runs Jobs from a heap of next-run times, so that a wake-up
// costs O(log n) whatever the number of jobs (robfig/cron's runner sorts
// every entry on each wake-up; it is still used to parse cron specs and for
// their Next). Runs of one job never overlap (a run still going when the
// next is due makes that next run skip), a panicking run is recovered and
// counted, and every run gets its timeout as a context deadline. The runs
// of interval jobs are spread across the interval by a hash of the job
// name, so a thousand monitors never fire together; cron jobs are spread by
// at most cronSpreadMax.
//
// Next-run times are wall-clock times (cron specs mean wall time), but the
// scheduler sleeps on the monotonic clock and compares the two on every
// wake-up: when the wall clock stepped (an NTP correction, a VM resumed)
// it recomputes every job's next run from the new time, so a backward
// step does not freeze checks for the size of the step and a forward step
// does not fire every job at once.
//
// A Scheduler is built, started and stopped once; a reload builds a new one.
type Scheduler struct {
	ctx     context.Context
	logger  *slog.Logger
	metrics *Metrics
	clock   Clock
	entries entryHeap

	stopOnce sync.Once
	stop     chan struct{}
	loopDone chan struct{}
	started  atomic.Bool
	runs     sync.WaitGroup
}

// schedule gives a job's next run after t.
type schedule interface {
	Next(t time.Time) time.Time
}

type entry struct {
	job   Job
	sched schedule
	next  time.Time
	index int

	running       atomic.Bool
	skips, panics atomic.Uint64
}

// maxSleep bounds one sleep of the scheduler, so that a wall-clock step is
// noticed within it even when no job is due for a long time.
const maxSleep = time.Second

// clockStepThreshold is how far the wall clock may drift from the monotonic
// clock between two wake-ups before the scheduler treats it as a step.
const clockStepThreshold = time.Second

// cronSpreadMax bounds the per-job delay added to cron schedules: a tenth of
// the shortest gap between runs, but never more than this, so "0 9 * * *"
// runs within a few seconds of 09:00.
const cronSpreadMax = 10 * time.Second

// NewScheduler returns a scheduler whose runs derive their context from
// ctx, so cancelling ctx cancels every running check.
func NewScheduler(ctx context.Context, logger *slog.Logger, m *Metrics, jobs []Job) (*Scheduler, error) {
	return newScheduler(ctx, logger, m, jobs, realClock{})
}

func newScheduler(ctx context.Context, logger *slog.Logger, m *Metrics, jobs []Job, clock Clock) (*Scheduler, error) {
	s := &Scheduler{
		// Nobody reads a scheduled check's details: skip building them.
		ctx:      monitors.WithoutDetails(ctx),
		logger:   logger,
		metrics:  m,
		clock:    clock,
		stop:     make(chan struct{}),
		loopDone: make(chan struct{}),
	}
	for _, j := range jobs {
		var sched schedule
		switch {
		case j.Cron != nil:
			sched = spreadCron{inner: j.Cron, delay: spreadDelay(j.Name, min(minGap(j.Cron)/10, cronSpreadMax))}
		case j.Interval > 0:
			sched = spreadInterval{every: j.Interval, offset: spreadDelay(j.Name, j.Interval)}
		default:
			return nil, fmt.Errorf("job %q: no interval or cron schedule", j.Name)
		}
		s.entries = append(s.entries, &entry{job: j, sched: sched})
	}
	return s, nil
}

// Start begins scheduling. It returns at once; from now on the jobs' panic
// and skip counters are the ones exposed.
func (s *Scheduler) Start() {
	if !s.started.CompareAndSwap(false, true) {
		return
	}
	s.metrics.runs.show(s.entries)
	now := s.clock.Now()
	for i, e := range s.entries {
		e.next = e.sched.Next(now)
		e.index = i
	}
	heap.Init(&s.entries)
	go s.loop(now, s.clock.Mono())
}

// Stop stops scheduling new runs and returns a context that is done when
// the runs in progress have finished.
func (s *Scheduler) Stop() context.Context {
	s.stopOnce.Do(func() { close(s.stop) })
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		if s.started.Load() {
			<-s.loopDone
		}
		s.runs.Wait()
		cancel()
	}()
	return ctx
}

// Len is the number of scheduled jobs.
func (s *Scheduler) Len() int { return len(s.entries) }

func (s *Scheduler) loop(lastWall time.Time, lastMono time.Duration) {
	defer close(s.loopDone)
	for {
		now, mono := s.clock.Now(), s.clock.Mono()
		if drift := now.Sub(lastWall) - (mono - lastMono); drift > clockStepThreshold || drift < -clockStepThreshold {
			s.logger.Warn("wall clock stepped; rescheduling every monitor from the new time", "step", drift.Round(time.Millisecond))
			s.reschedule(now)
		}
		lastWall, lastMono = now, mono

		for len(s.entries) > 0 && !s.entries[0].next.After(now) {
			e := s.entries[0]
			s.launch(e, e.next, now)
			e.next = e.sched.Next(now)
			heap.Fix(&s.entries, 0)
		}

		wait := maxSleep
		if len(s.entries) > 0 {
			wait = min(wait, s.entries[0].next.Sub(now))
		}
		t := s.clock.NewTimer(wait)
		select {
		case <-s.stop:
			t.Stop()
			return
		case <-t.C():
		}
	}
}

// reschedule recomputes every job's next run from now.
func (s *Scheduler) reschedule(now time.Time) {
	for _, e := range s.entries {
		e.next = e.sched.Next(now)
	}
	heap.Init(&s.entries)
}

// launch starts one run of e that was due at due: its deadline, panic
// recovery and the lateness and panic metrics. Lateness is the time from
// due to now, when the loop starts the run, measured against the run's own
// due time.
func (s *Scheduler) launch(e *entry, due, now time.Time) {
	// This guard says which monitor is too slow.
	if !e.running.CompareAndSwap(false, true) {
		e.skips.Add(1)
		s.logger.Warn("monitor run skipped, previous run still going", "monitor", e.job.Name)
		return
	}
	s.metrics.lateness.Observe(now.Sub(due).Seconds())
	s.runs.Add(1)
	go func() {
		defer s.runs.Done()
		defer e.running.Store(false)
		runCtx, cancel := context.WithTimeout(s.ctx, e.job.Timeout)
		defer cancel()
		defer func() {
			if r := recover(); r != nil {
				e.panics.Add(1)
				s.logger.Error("monitor run panicked", "monitor", e.job.Name, "panic", fmt.Sprint(r))
			}
		}()
		e.job.Run(runCtx)
	}()
}

// entryHeap orders entries by next run, for container/heap.
type entryHeap []*entry

func (h entryHeap) Len() int           { return len(h) }
func (h entryHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h entryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *entryHeap) Push(x any) {
	e := x.(*entry)
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *entryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// Clock is the scheduler's view of time: the wall clock, which may step,
// a monotonic clock, which does not, and timers on the monotonic clock.
// Tests replace it.
type Clock interface {
	// Now is the wall-clock time, without a monotonic reading.
	Now() time.Time
	// Mono is monotonic time since an arbitrary origin.
	Mono() time.Duration
	NewTimer(d time.Duration) Timer
}

// Timer is a stoppable one-shot timer.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

type realClock struct{}

var monoOrigin = time.Now()

func (realClock) Now() time.Time      { return time.Now().Round(0) }
func (realClock) Mono() time.Duration { return time.Since(monoOrigin) }
func (realClock) NewTimer(d time.Duration) Timer {
	return realTimer{time.NewTimer(d)}
}

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }

// spreadDelay maps a name to a stable offset in [0, span), so restarts and
// replicas schedule a monitor at the same phase.
func spreadDelay(name string, span time.Duration) time.Duration {
	if span <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	return time.Duration(h.Sum64() % uint64(span))
}

// spreadInterval fires at every instant t with (t - offset) a multiple of
// every, counted from the Unix epoch: a fixed phase per job, independent of
// when the process started.
type spreadInterval struct {
	every, offset time.Duration
}

func (s spreadInterval) Next(t time.Time) time.Time {
	base := time.Unix(0, 0).Add(s.offset)
	n := t.Sub(base) / s.every
	next := base.Add((n + 1) * s.every)
	if !next.After(t) {
		next = next.Add(s.every)
	}
	return next
}

// spreadCron delays a cron schedule's runs by a fixed per-job amount, so
// that monitors sharing a spec such as "*/2 * * * *" do not all fire in the
// same instant.
type spreadCron struct {
	inner cron.Schedule
	delay time.Duration
}

func (s spreadCron) Next(t time.Time) time.Time {
	return s.inner.Next(t.Add(-s.delay)).Add(s.delay)
}

// minGap is the shortest gap between runs of a cron schedule over its next
// few runs.
func minGap(s cron.Schedule) time.Duration {
	t := s.Next(time.Now())
	gap := time.Duration(0)
	for range 8 {
		n := s.Next(t)
		if d := n.Sub(t); gap == 0 || d < gap {
			gap = d
		}
		t = n
	}
	return gap
}
