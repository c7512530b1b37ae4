package ha

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"

	"github.com/statussync/statussync/config"
)

// Leadership runs the leader election, or stands in for it when HA is off.
type Leadership interface {
	// Run blocks until ctx is done. Each time this replica becomes the
	// leader it calls cb.OnStartedLeading, and when that term ends it cancels
	// the term's context and calls cb.OnStoppedLeading. Run must be called
	// once.
	Run(ctx context.Context, cb Callbacks)
	// IsLeader reports whether this replica leads now: true from just before
	// OnStartedLeading is called until its context is cancelled.
	IsLeader() bool
}

// Callbacks are what a Leadership calls when this replica's leadership
// changes.
type Callbacks struct {
	// OnStartedLeading runs in its own goroutine for one leadership term.
	// Its ctx is cancelled the moment the term ends, and the replica must
	// write nothing for that term after that. It must return soon after ctx
	// is done: Run does not enter the next election until it has returned.
	OnStartedLeading func(ctx context.Context)
	// OnStoppedLeading, if set, is called once after each term's context has
	// been cancelled. It is not called for a term that never started.
	OnStoppedLeading func()
}

// Options are an Elector's or a Standalone's dependencies.
type Options struct {
	// Logger receives the election's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the leader metrics; nil registers none.
	Registerer prometheus.Registerer
	// RESTConfig, if set, is used instead of HAConfig.Kubeconfig and the
	// in-cluster service account, as tests do.
	RESTConfig *rest.Config
}

// NewLeadership returns an Elector when cfg.Enabled and a Standalone
// otherwise.
func NewLeadership(cfg config.HAConfig, opts Options) (Leadership, error) {
	if !cfg.Enabled {
		return NewStandalone(opts), nil
	}
	return New(cfg, opts)
}

func logger(opts Options) *slog.Logger {
	if opts.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return opts.Logger.With("component", "ha")
}
