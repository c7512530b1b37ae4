package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/statussync/statussync/cachet"
	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/engine"
	"github.com/statussync/statussync/internal/buildinfo"
	"github.com/statussync/statussync/internal/cachetpage"
)

// sink is what the engine publishes to: the reconciler always records the
// desired states (so that switching from dry run to writing, or becoming
// leader, starts from the right state), and in dry run every change is
// also logged.
type sink struct {
	rec    *engine.Reconciler
	log    engine.LogSink
	dryRun atomic.Bool
}

// Configure does nothing: the reconciler is configured by prepareWriter's
// swap, once a reload has been applied.
func (s *sink) Configure(*config.Config) {}

func (s *sink) Sample(monitor string, spec config.MetricSpec, value float64, at time.Time) {
	s.rec.Sample(monitor, spec, value, at)
}

func (s *sink) Desire(u engine.ComponentUpdate) {
	s.rec.Desire(u)
	if s.dryRun.Load() {
		s.log.Desire(u)
	}
}

// writer runs the reconciler against Cachet while writing is enabled.
type writer struct {
	logger *slog.Logger
	rec    *engine.Reconciler
	page   *cachetpage.Page
	cancel context.CancelFunc
	done   chan struct{}
}

// CachetOptions returns the Cachet client options of a validated cachet
// block: every value the configuration has a key for comes from cfg (which
// config's defaults pass has filled), the rest (retries, backoff, burst,
// the server's rate-limit window) are cachet.DefaultOptions's, and the user
// agent names this build. Registerer and Logger are left for the caller.
func CachetOptions(cfg config.CachetConfig) cachet.Options {
	o := cachet.DefaultOptions()
	o.BaseURL = cfg.URL
	o.Token = cfg.Token.Reveal()
	o.Timeout = cfg.Timeout
	o.RateLimit = cfg.RateLimit
	o.TLSConfig = cfg.TLS.Build()
	o.Location = cfg.Location()
	o.UserAgent = "statussync/" + buildinfo.Get().Version
	return o
}

// newCachetClient builds the Cachet client a configuration describes.
func newCachetClient(cfg config.CachetConfig, a *App) (*cachet.Client, error) {
	opts := CachetOptions(cfg)
	opts.Registerer = a.registry
	opts.Logger = a.logger.With("subsystem", "cachet")
	c, err := cachet.New(opts)
	if err != nil {
		return nil, fmt.Errorf("cachet client: %w", err)
	}
	return c, nil
}

// start runs the reconciler until stop.
func (w *writer) start(ctx context.Context) {
	if w.cancel != nil {
		return
	}
	ctx, w.cancel = context.WithCancel(ctx)
	w.done = make(chan struct{})
	go func() {
		defer close(w.done)
		w.rec.Run(ctx)
	}()
}

// stop cancels the reconciler, which stops writing at once, and waits for
// it up to limit.
func (w *writer) stop(limit time.Duration) error {
	if w.cancel == nil {
		return nil
	}
	w.cancel()
	w.cancel = nil
	select {
	case <-w.done:
		return nil
	case <-time.After(limit):
		return fmt.Errorf("reconciler still running after %s", limit)
	}
}

// prepareWriter builds what a configuration needs for writing (the Cachet
// client) without touching the running writer, so that a reload that fails
// later leaves the writer as it was. The returned function swaps it in.
func (a *App) prepareWriter(cfg *config.Config) (func(), error) {
	var c *cachet.Client
	if cfg.Cachet.Enabled() {
		var err error
		if c, err = newCachetClient(cfg.Cachet, a); err != nil {
			return nil, err
		}
	}
	return func() {
		a.sink.dryRun.Store(!cfg.Cachet.Enabled())
		if c == nil {
			a.token.SetClient(nil, 0)
		} else {
			a.token.SetClient(c, cfg.Cachet.ResyncInterval)
		}
		rc := reconcilerConfig(cfg)
		old := a.writer.page
		if c != nil {
			a.writer.page = cachetpage.New(c)
			rc.Page = a.writer.page
		}
		a.writer.rec.Configure(rc)
		if old != a.writer.page {
			old.Close() // requests in flight finish
		}
	}, nil
}

// reconcilerConfig is what the reconciler needs of a configuration.
func reconcilerConfig(cfg *config.Config) engine.ReconcilerConfig {
	metrics := map[string]config.MetricSpec{}
	for _, m := range cfg.Monitors {
		if m.Metric != nil {
			metrics[m.Name] = *m.Metric
		}
	}
	return engine.ReconcilerConfig{
		Components:           cfg.Components,
		Metrics:              metrics,
		ResyncInterval:       cfg.Cachet.ResyncInterval,
		RespectManualChanges: cfg.Cachet.RespectManualChanges,
		ManualOverrideMax:    cfg.Cachet.ManualOverrideMax,
		MinBackoff:           cfg.Cachet.Backoff.Min,
		MaxBackoff:           cfg.Cachet.Backoff.Max,
	}
}
