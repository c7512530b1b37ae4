package ha

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/statussync/statussync/config"
)

// Short timings keep the suite quick; the margin between renew deadline and
// lease duration (1 s) is what every handover assertion leans on.
const (
	testLease  = 3 * time.Second
	testRenew  = 2 * time.Second
	testRetry  = 500 * time.Millisecond
	testJitter = 1.2 // client-go's leaderelection.JitterFactor
	// timerSlack is how late a loaded machine may run the watchdog: it
	// must stay below the 500ms by which client-go alone would be late.
	timerSlack = 250 * time.Millisecond
)

func testConfig(ns, lease, id string) config.HAConfig {
	return config.HAConfig{
		Enabled:        true,
		LeaseName:      lease,
		LeaseNamespace: ns,
		Identity:       id,
		LeaseDuration:  testLease,
		RenewDeadline:  testRenew,
		RetryPeriod:    testRetry,
	}
}

// testLogger logs to tb until its test ends.
func testLogger(tb testing.TB, id string) *slog.Logger {
	tb.Helper()
	w := &tbWriter{tb: tb}
	tb.Cleanup(w.stop)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})).With("candidate", id)
}

type tbWriter struct {
	mu      sync.Mutex
	tb      testing.TB
	stopped bool
}

func (w *tbWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return io.Discard.Write(p)
	}
	w.tb.Log(string(p[:len(p)-1]))
	return len(p), nil
}

func (w *tbWriter) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
}

// observedTerm is one leadership term as the callbacks saw it: from
// OnStartedLeading until its context was cancelled.
type observedTerm struct {
	id         string
	start, end time.Time // end is zero while the term lasts
}

// candidate runs one Leadership and records its terms.
type candidate struct {
	tb     testing.TB
	id     string
	l      Leadership
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	terms   []observedTerm
	stopped int // OnStoppedLeading calls
}

// run starts l.Run and stops it when tb's test ends.
func run(tb testing.TB, id string, l Leadership) *candidate {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c := &candidate{tb: tb, id: id, l: l, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		l.Run(ctx, Callbacks{OnStartedLeading: c.lead, OnStoppedLeading: c.onStopped})
	}()
	tb.Cleanup(c.stop)
	return c
}

func (c *candidate) lead(ctx context.Context) {
	c.mu.Lock()
	c.terms = append(c.terms, observedTerm{id: c.id, start: time.Now()})
	i := len(c.terms) - 1
	c.mu.Unlock()
	<-ctx.Done()
	c.mu.Lock()
	c.terms[i].end = time.Now()
	c.mu.Unlock()
}

func (c *candidate) onStopped() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped++
}

// stop cancels Run and waits for it to return, which takes at most one
// blocked release (RenewDeadline) and a request timeout.
func (c *candidate) stop() {
	c.cancel()
	select {
	case <-c.done:
	case <-time.After(3 * testLease):
		buf := make([]byte, 1<<20)
		c.tb.Errorf("%s: Run did not return within %v of its context's cancellation; goroutines:\n%s",
			c.id, 3*testLease, buf[:runtime.Stack(buf, true)])
	}
}

func (c *candidate) allTerms() []observedTerm {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]observedTerm(nil), c.terms...)
}

func (c *candidate) stoppedCalls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped
}

// leading reports whether c is in an open term by its callbacks' account.
func (c *candidate) leading() bool {
	terms := c.allTerms()
	return len(terms) > 0 && terms[len(terms)-1].end.IsZero()
}

// termStarted waits until c has started its n-th term (1-based) and returns it.
func (c *candidate) termStarted(tb testing.TB, n int, timeout time.Duration) observedTerm {
	tb.Helper()
	waitFor(tb, timeout, fmt.Sprintf("%s leads (term %d)", c.id, n), func() bool { return len(c.allTerms()) >= n })
	return c.allTerms()[n-1]
}

// termEnded waits until c's n-th term has ended and returns it.
func (c *candidate) termEnded(tb testing.TB, n int, timeout time.Duration) observedTerm {
	tb.Helper()
	waitFor(tb, timeout, c.id+" stops leading", func() bool {
		terms := c.allTerms()
		return len(terms) >= n && !terms[n-1].end.IsZero()
	})
	return c.allTerms()[n-1]
}

func waitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting until %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// assertNoOverlap fails tb if two candidates' terms overlapped: one must
// have stopped (its context cancelled) before the next started.
func assertNoOverlap(tb testing.TB, cs ...*candidate) {
	tb.Helper()
	var terms []observedTerm
	for _, c := range cs {
		terms = append(terms, c.allTerms()...)
	}
	sort.Slice(terms, func(i, j int) bool { return terms[i].start.Before(terms[j].start) })
	for i := 1; i < len(terms); i++ {
		prev, cur := terms[i-1], terms[i]
		if prev.end.IsZero() || cur.start.Before(prev.end) {
			tb.Errorf("%s started leading at %s while %s led (term ended %s)",
				cur.id, cur.start.Format(time.StampMicro), prev.id, prev.end.Format(time.StampMicro))
		}
	}
}

// watchLeaders samples IsLeader on all candidates until tb's test ends and
// fails it if two ever reported leading at once.
func watchLeaders(tb testing.TB, cs ...*candidate) {
	tb.Helper()
	stop := make(chan struct{})
	done := make(chan struct{})
	var both []string
	go func() {
		defer close(done)
		ticker := time.NewTicker(time.Millisecond)
		defer ticker.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ticker.C:
			}
			var leaders []string
			for _, c := range cs {
				if c.l.IsLeader() {
					leaders = append(leaders, c.id)
				}
			}
			if len(leaders) > 1 && len(both) < 5 {
				both = append(both, time.Now().Format(time.StampMicro)+" "+leaders[0]+"+"+leaders[1])
			}
		}
	}()
	tb.Cleanup(func() {
		close(stop)
		<-done
		if len(both) > 0 {
			tb.Errorf("more than one leader at once: %v", both)
		}
	})
}
