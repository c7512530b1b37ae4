package engine

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"
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

// Scheduler runs Jobs on robfig/cron. Runs of one job never overlap (a run
// still going when the next is due makes that next run skip), a panicking
// run is recovered and counted, and every run gets its timeout as a context
// deadline. The first runs of interval jobs are spread across the interval
// by a hash of the job name, so a thousand monitors never fire together.
//
// A Scheduler is built, started and stopped once; a reload builds a new one.
type Scheduler struct {
	cron    *cron.Cron
	logger  *slog.Logger
	metrics *Metrics
	jobs    int
}

// NewScheduler returns a scheduler whose runs derive their context from
// ctx, so cancelling ctx cancels every running check.
func NewScheduler(ctx context.Context, logger *slog.Logger, m *Metrics, jobs []Job) (*Scheduler, error) {
	cl := cronLogger{logger}
	s := &Scheduler{
		cron:    cron.New(cron.WithLogger(cl)),
		logger:  logger,
		metrics: m,
	}
	for _, j := range jobs {
		var sched *trackedSchedule
		switch {
		case j.Cron != nil:
			sched = &trackedSchedule{inner: spreadCron{inner: j.Cron, delay: spreadDelay(j.Name, minGap(j.Cron)/10)}}
		case j.Interval > 0:
			sched = &trackedSchedule{inner: spreadInterval{every: j.Interval, offset: spreadDelay(j.Name, j.Interval)}}
		default:
			return nil, fmt.Errorf("job %q: no interval or cron schedule", j.Name)
		}
		s.cron.Schedule(sched, s.wrap(ctx, j, sched))
		s.jobs++
	}
	return s, nil
}

// wrap adds what every run needs around a job: its deadline, panic
// recovery and the lateness and panic metrics.
func (s *Scheduler) wrap(ctx context.Context, j Job, sched *trackedSchedule) cron.Job {
	var running atomic.Bool
	return cron.FuncJob(func() {
		// cron's own SkipIfStillRunning logs skips without naming the job;
		// this guard does the same and says which monitor is too slow.
		if !running.CompareAndSwap(false, true) {
			s.metrics.skips.WithLabelValues(j.Name).Inc()
			s.logger.Warn("monitor run skipped, previous run still going", "monitor", j.Name)
			return
		}
		defer running.Store(false)
		if due := sched.current(); !due.IsZero() {
			s.metrics.lateness.Observe(time.Since(due).Seconds())
		}
		runCtx, cancel := context.WithTimeout(ctx, j.Timeout)
		defer cancel()
		defer func() {
			if r := recover(); r != nil {
				s.metrics.panics.WithLabelValues(j.Name).Inc()
				s.logger.Error("monitor run panicked", "monitor", j.Name, "panic", fmt.Sprint(r))
			}
		}()
		j.Run(runCtx)
	})
}

// Start begins scheduling. It returns at once.
func (s *Scheduler) Start() { s.cron.Start() }

// Stop stops scheduling new runs and returns a context that is done when
// the runs in progress have finished.
func (s *Scheduler) Stop() context.Context { return s.cron.Stop() }

// Len is the number of scheduled jobs.
func (s *Scheduler) Len() int { return s.jobs }

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

// trackedSchedule remembers when the run that cron is starting was due.
// cron calls Next right before it launches a run, so the previous value
// returned is that run's due time.
type trackedSchedule struct {
	inner cron.Schedule
	mu    sync.Mutex
	prev  time.Time
	next  time.Time
}

func (t *trackedSchedule) Next(now time.Time) time.Time {
	n := t.inner.Next(now)
	t.mu.Lock()
	t.prev, t.next = t.next, n
	t.mu.Unlock()
	return n
}

func (t *trackedSchedule) current() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.prev
}

// cronLogger adapts slog to cron.Logger. cron's Info messages (wake, run,
// schedule) are too chatty for Info and go to Debug.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron "+msg, kv...) }

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron "+msg, append(kv, "err", err)...)
}
