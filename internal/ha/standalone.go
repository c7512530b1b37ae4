package ha

import (
	"context"
	"log/slog"
	"sync/atomic"
)

// Standalone is the Leadership of a single replica with HA disabled: it
// leads from Run until its context is done.
type Standalone struct {
	log     *slog.Logger
	metrics *metrics
	leading atomic.Bool
}

var _ Leadership = (*Standalone)(nil)

// NewStandalone returns a Standalone that reports itself as leader in the
// statussync_leader metric once Run starts.
func NewStandalone(opts Options) *Standalone {
	return &Standalone{log: logger(opts), metrics: newMetrics(opts.Registerer)}
}

// Run calls cb.OnStartedLeading with ctx and returns once ctx is done and
// OnStartedLeading has returned, after calling cb.OnStoppedLeading.
func (s *Standalone) Run(ctx context.Context, cb Callbacks) {
	if ctx.Err() != nil {
		return
	}
	s.leading.Store(true)
	s.metrics.setLeader(true)
	s.log.Info("leading without election", "reason", "ha disabled")
	done := make(chan struct{})
	go func() {
		defer close(done)
		cb.OnStartedLeading(ctx)
	}()
	<-ctx.Done()
	s.leading.Store(false)
	s.metrics.setLeader(false)
	if cb.OnStoppedLeading != nil {
		cb.OnStoppedLeading()
	}
	<-done
}

// IsLeader reports whether Run is running.
func (s *Standalone) IsLeader() bool { return s.leading.Load() }
