package tokencheck

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/statussync/statussync/cachet"
)

// scripted answers CheckToken from a list that the test changes.
type scripted struct {
	mu    sync.Mutex
	state cachet.TokenState
	err   error
	calls int
}

func (s *scripted) CheckToken(context.Context) (cachet.TokenState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	return s.state, s.err
}

func (s *scripted) set(state cachet.TokenState, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state, s.err = state, err
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRecheckedEveryInterval: a token revoked while statussync runs shows
// at the next check, and an unreachable Cachet does not erase the verdict.
func TestRecheckedEveryInterval(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := New(reg, nil)
	fake := &scripted{state: cachet.TokenValid}
	c.SetClient(fake, 20*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	defer func() { cancel(); <-done }()

	waitFor(t, "valid", func() bool { return c.State() == cachet.TokenValid })
	if got := testutil.ToFloat64(c.state.WithLabelValues("valid")); got != 1 {
		t.Errorf("valid gauge = %v", got)
	}

	fake.set(cachet.TokenInvalid, nil) // revoked in Cachet's dashboard
	waitFor(t, "invalid after revocation", func() bool { return c.State() == cachet.TokenInvalid })
	if v, i := testutil.ToFloat64(c.state.WithLabelValues("valid")), testutil.ToFloat64(c.state.WithLabelValues("invalid")); v != 0 || i != 1 {
		t.Errorf("gauges valid=%v invalid=%v, want 0 and 1", v, i)
	}
	if d := c.Detail(); !strings.Contains(d, "INVALID") {
		t.Errorf("Detail = %q", d)
	}

	fake.set(cachet.TokenUnknown, errors.New("cachet: check_token: connection refused"))
	waitFor(t, "the unknown answer", func() bool { return strings.Contains(c.Detail(), "could not tell") })
	if c.State() != cachet.TokenInvalid || testutil.ToFloat64(c.state.WithLabelValues("invalid")) != 1 {
		t.Error("an unreachable Cachet erased the last verdict")
	}

	fake.set(cachet.TokenNotRequired, nil)
	waitFor(t, "not required", func() bool { return c.State() == cachet.TokenNotRequired })
	if d := c.Detail(); !strings.Contains(d, "no auth required") {
		t.Errorf("Detail = %q, want it to say no auth required, not a failure", d)
	}

	c.SetClient(nil, 0)
	if d := c.Detail(); !strings.Contains(d, "dry run") {
		t.Errorf("Detail without a client = %q", d)
	}
	if testutil.ToFloat64(c.state.WithLabelValues("not_required")) != 0 {
		t.Error("gauges not cleared when writing stopped")
	}
}

// TestRunForgetsWhenItEnds: Run lasts one leadership term; when it ends,
// what Cachet said is no longer this replica's to report (a follower's
// gauges are all 0), and the next term starts with one check.
func TestRunForgetsWhenItEnds(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := New(reg, nil)
	fake := &scripted{state: cachet.TokenInvalid}
	c.SetClient(fake, time.Hour)
	for term := 1; term <= 2; term++ {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); c.Run(ctx) }()
		waitFor(t, "invalid", func() bool { return c.State() == cachet.TokenInvalid })
		cancel()
		<-done
		if s := c.State(); s != cachet.TokenUnknown {
			t.Errorf("term %d: State after Run = %q, want unknown", term, s)
		}
		if got := testutil.ToFloat64(c.state.WithLabelValues("invalid")); got != 0 {
			t.Errorf("term %d: invalid gauge after Run = %v, want 0", term, got)
		}
		if got := testutil.ToFloat64(c.when); got != 0 {
			t.Errorf("term %d: last check timestamp after Run = %v, want 0", term, got)
		}
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if fake.calls != 2 {
		t.Errorf("%d checks for two terms of an hour's interval, want 2", fake.calls)
	}
}
