package ha

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestStandalone(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := NewStandalone(Options{Registerer: reg})
	if s.IsLeader() {
		t.Fatal("leads before Run")
	}
	c := run(t, "solo", s)
	c.termStarted(t, 1, time.Second)
	if !s.IsLeader() || testutil.ToFloat64(s.metrics.leader) != 1 {
		t.Fatal("not leading while Run runs")
	}
	c.stop()
	term := c.allTerms()[0]
	if term.end.IsZero() {
		t.Fatal("leader context not cancelled")
	}
	if s.IsLeader() || testutil.ToFloat64(s.metrics.leader) != 0 {
		t.Error("still leading after Run returned")
	}
	if got := c.stoppedCalls(); got != 1 {
		t.Errorf("OnStoppedLeading called %d times, want 1", got)
	}
	if got := testutil.ToFloat64(s.metrics.transitions); got != 2 {
		t.Errorf("transitions = %v, want 2", got)
	}
}

func TestStandaloneCancelledBeforeRun(t *testing.T) {
	s := NewStandalone(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.Run(ctx, Callbacks{OnStartedLeading: func(context.Context) { t.Error("led with a cancelled context") }})
}
