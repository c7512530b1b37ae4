// Package app wires statussync together: configuration, metrics registry,
// engine, HTTP endpoints, reloads and shutdown. cmd/statussync only parses
// flags and signals; tests start the whole service in-process through New
// and Run.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/engine"
	"github.com/statussync/statussync/internal/buildinfo"
	"github.com/statussync/statussync/internal/cachetpage"
	"github.com/statussync/statussync/monitors"
)

// ShutdownTimeout bounds how long shutdown waits for the HTTP server and
// running checks.
const ShutdownTimeout = 15 * time.Second

// Options configure an App.
type Options struct {
	ConfigFile    string
	ListenAddress string
	Environ       []string
	Logger        *slog.Logger
	// HandleSIGHUP makes Run reload on SIGHUP. Tests leave it off so that
	// parallel tests do not see each other's signals.
	HandleSIGHUP bool
}

// App is one running statussync.
type App struct {
	opts     Options
	logger   *slog.Logger
	registry *prometheus.Registry
	engine   *engine.Engine
	cfg      *config.Config
	sink     *sink
	writer   *writer

	reloadOK   prometheus.Gauge
	reloadTime prometheus.Gauge

	reloads   chan chan error
	listening chan net.Addr
}

// New loads and validates the configuration and builds the service. An
// invalid configuration is an error listing every problem.
func New(opts Options) (*App, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := config.Load(opts.ConfigFile, opts.Environ)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	f := promauto.With(reg)
	bi := buildinfo.Get()
	f.NewGaugeVec(prometheus.GaugeOpts{
		Name: "statussync_build_info",
		Help: "A metric with a constant '1' value labelled by version, revision and goversion.",
	}, []string{"version", "revision", "goversion"}).WithLabelValues(bi.Version, bi.Revision, bi.GoVersion).Set(1)

	a := &App{
		opts:     opts,
		logger:   opts.Logger,
		registry: reg,
		cfg:      cfg,
		reloadOK: f.NewGauge(prometheus.GaugeOpts{
			Name: "statussync_config_last_reload_successful",
			Help: "Whether the last configuration reload attempt was successful.",
		}),
		reloadTime: f.NewGauge(prometheus.GaugeOpts{
			Name: "statussync_config_last_reload_success_timestamp_seconds",
			Help: "Timestamp of the last successful configuration reload.",
		}),
		reloads:   make(chan chan error),
		listening: make(chan net.Addr, 1),
	}
	a.reloadOK.Set(1)
	a.reloadTime.SetToCurrentTime()
	metrics := engine.NewMetrics(reg)
	rec := engine.NewReconciler(engine.ReconcilerOptions{
		Logger:               opts.Logger,
		Metrics:              metrics,
		ResyncInterval:       cfg.Cachet.ResyncInterval,
		RespectManualChanges: cfg.Cachet.RespectManualChanges,
		MinBackoff:           cfg.Cachet.Backoff.Min,
		MaxBackoff:           cfg.Cachet.Backoff.Max,
		Page:                 &cachetpage.Page{},
	})
	a.sink = &sink{rec: rec, log: engine.LogSink{Logger: opts.Logger}}
	a.writer = &writer{logger: opts.Logger, rec: rec}
	if err := a.configureWriter(cfg); err != nil {
		return nil, err
	}
	a.engine = engine.New(engine.Options{
		Logger:         opts.Logger,
		Metrics:        metrics,
		MonitorMetrics: monitors.NewMetrics(reg),
		Sink:           a.sink,
	})
	return a, nil
}

// configureWriter points the writer at the Cachet a configuration names and
// sets dry-run mode; it does not start or stop the writer.
func (a *App) configureWriter(cfg *config.Config) error {
	a.sink.dryRun.Store(!cfg.Cachet.Enabled())
	if !cfg.Cachet.Enabled() {
		return nil
	}
	c, err := newCachetClient(cfg.Cachet, a)
	if err != nil {
		return err
	}
	if a.writer.page == nil {
		a.writer.page = cachetpage.New(c)
		a.writer.rec.SetPage(a.writer.page)
	} else {
		a.writer.page.SetClient(c)
	}
	a.writer.rec.SetOptions(cfg.Cachet.ResyncInterval, cfg.Cachet.RespectManualChanges, cfg.Cachet.Backoff.Min, cfg.Cachet.Backoff.Max)
	return nil
}

// syncWriter starts or stops writing to match the configuration.
func (a *App) syncWriter(ctx context.Context) {
	if a.cfg.Cachet.Enabled() {
		a.writer.start(ctx)
		return
	}
	if err := a.writer.stop(ShutdownTimeout); err != nil {
		a.logger.Error("stopping the Cachet writer", "err", err)
	}
}

// Registry is the app's metrics registry.
func (a *App) Registry() *prometheus.Registry { return a.registry }

// Addr waits until the HTTP server listens and returns its address (useful
// with ListenAddress ":0").
func (a *App) Addr(ctx context.Context) (net.Addr, error) {
	select {
	case addr := <-a.listening:
		a.listening <- addr
		return addr, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Run serves HTTP, schedules the monitors and handles reloads until ctx is
// cancelled, then shuts down within ShutdownTimeout. It returns nil only if
// everything stopped cleanly.
func (a *App) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.opts.ListenAddress)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.opts.ListenAddress, err)
	}
	a.listening <- ln.Addr()
	srv := &http.Server{
		Handler:           a.handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	a.logger.Info("listening", "address", ln.Addr().String())

	if err := a.engine.Apply(ctx, a.cfg); err != nil {
		_ = srv.Close()
		return fmt.Errorf("start monitors: %w", err)
	}
	a.syncWriter(ctx)
	a.logMode()

	// SIGHUPs coalesce: one pending reload covers any number of signals.
	hup := make(chan os.Signal, 1)
	if a.opts.HandleSIGHUP {
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
	}

	for {
		select {
		case <-hup:
			_ = a.reload(ctx)
		case reply := <-a.reloads:
			reply <- a.reload(ctx)
		case err := <-serveErr:
			_ = a.writer.stop(ShutdownTimeout)
			_ = a.engine.Stop(ShutdownTimeout)
			return fmt.Errorf("http server: %w", err)
		case <-ctx.Done():
			return a.shutdown(srv)
		}
	}
}

func (a *App) logMode() {
	if a.cfg.Cachet.URL == "" {
		a.logger.Info("dry run: no cachet.url, component changes are logged, not written")
	} else if a.cfg.Cachet.DryRun {
		a.logger.Info("dry run: cachet.dry_run is set, component changes are logged, not written")
	}
}

// shutdown stops the HTTP server and the scheduler together, each bounded.
func (a *App) shutdown(srv *http.Server) error {
	a.logger.Info("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	engineErr := make(chan error, 1)
	go func() { engineErr <- a.engine.Stop(ShutdownTimeout) }()
	writerErr := a.writer.stop(ShutdownTimeout)
	srvErr := srv.Shutdown(ctx)
	if err := errors.Join(srvErr, <-engineErr, writerErr); err != nil {
		a.logger.Error("shutdown incomplete", "err", err)
		return err
	}
	a.logger.Info("shut down cleanly")
	return nil
}

// Reload asks the running app to reload its configuration and waits for
// the outcome. It is what POST /-/reload does.
func (a *App) Reload(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case a.reloads <- reply:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// reload loads and validates the configuration and swaps it in only if it
// is valid and its monitors build; otherwise the running configuration
// stays, every problem is logged, and the reload gauge drops to 0.
func (a *App) reload(ctx context.Context) error {
	cfg, err := config.Load(a.opts.ConfigFile, a.opts.Environ)
	if err == nil && cfg.Checksum == a.cfg.Checksum {
		a.logger.Info("configuration unchanged, reload skipped")
		a.reloadOK.Set(1)
		return nil
	}
	if err == nil {
		err = a.configureWriter(cfg)
	}
	if err == nil {
		err = a.engine.Apply(ctx, cfg)
	}
	if err != nil {
		a.reloadOK.Set(0)
		for _, p := range config.Problems(err) {
			a.logger.Error("configuration reload failed, keeping the running configuration", "err", p)
		}
		return err
	}
	a.cfg = cfg
	a.syncWriter(ctx)
	a.reloadOK.Set(1)
	a.reloadTime.SetToCurrentTime()
	a.logger.Info("configuration reloaded", "monitors", len(cfg.Monitors), "components", len(cfg.Components))
	return nil
}

func (a *App) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelError),
		EnableOpenMetrics: true,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !a.engine.Ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("POST /-/reload", func(w http.ResponseWriter, r *http.Request) {
		if err := a.Reload(r.Context()); err != nil {
			http.Error(w, "reload failed:\n"+err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = fmt.Fprintln(w, "reloaded")
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprintln(w, "statussync: /metrics /healthz /readyz, POST /-/reload")
	})
	return mux
}
