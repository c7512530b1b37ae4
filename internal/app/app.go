// Package app wires statussync together: configuration, metrics registry,
// engine, leadership, HTTP endpoints, reloads and shutdown. cmd/statussync
// only parses flags and signals; tests start the whole service in-process
// through New and Run.
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
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"k8s.io/klog/v2"

	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/engine"
	"github.com/statussync/statussync/internal/blackboxprobe"
	"github.com/statussync/statussync/internal/buildinfo"
	"github.com/statussync/statussync/internal/ha"
	"github.com/statussync/statussync/internal/tokencheck"
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
	// ReloadDetail makes a rejected POST /-/reload answer every problem.
	// Off, the caller (who is not authenticated) learns only how many
	// there are; the log has them all either way.
	ReloadDetail bool
}

// App is one running statussync.
type App struct {
	opts     Options
	logger   *slog.Logger
	registry *prometheus.Registry
	engine   *engine.Engine
	sink     *sink
	writer   *writer
	token    *tokencheck.Checker

	leadership ha.Leadership
	// elected: HA is on, so this replica talks to Cachet only inside a
	// leadership term. Off, it leads from start (ha.Standalone).
	elected        bool
	cloudnsMetrics *monitors.CloudNSMetrics
	// probeMetrics hold every monitor's last result; /metrics renders
	// their probe_* series at scrape time (monitors.Metrics.Handler).
	probeMetrics *monitors.Metrics
	// engineMetrics render the per-monitor run and transition counters at
	// scrape time too, as a monitors.FamilySource outside registry.
	engineMetrics *engine.Metrics
	// probe serves blackbox's /probe from those results.
	probe *blackboxprobe.Handler

	// mu guards what reloads (the Run goroutine) and leadership changes
	// (the election's goroutine) both touch.
	mu      sync.Mutex
	cfg     *config.Config
	poller  *monitors.CloudNSPoller
	leadCtx context.Context // the current leadership term; nil when not leading

	reloadOK   prometheus.Gauge
	reloadTime prometheus.Gauge

	reloads   chan chan reloadReply
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
	if len(cfg.Monitors) == 0 {
		opts.Logger.Warn("the configuration has no monitors: nothing will be checked", "config_file", opts.ConfigFile)
	}
	if len(cfg.IgnoredEnv) > 0 {
		opts.Logger.Debug("ignoring Kubernetes service-link variables, they are not configuration", "vars", cfg.IgnoredEnv)
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
		cloudnsMetrics: monitors.NewCloudNSMetrics(reg),
		reloads:        make(chan chan reloadReply),
		listening:      make(chan net.Addr, 1),
	}
	a.reloadOK.Set(1)
	a.reloadTime.SetToCurrentTime()

	if cfg.HA.Enabled {
		// client-go's leader election logs through klog; keep one log
		// stream, in the configured format.
		klog.SetSlogLogger(opts.Logger.With("subsystem", "client-go"))
	}
	leadership, err := ha.NewLeadership(cfg.HA, ha.Options{Logger: opts.Logger, Registerer: reg})
	if err != nil {
		return nil, fmt.Errorf("ha: %w", err)
	}
	a.leadership, a.elected = leadership, cfg.HA.Enabled

	metrics := engine.NewScrapeMetrics(reg)
	a.engineMetrics = metrics
	rec := engine.NewReconciler(engine.ReconcilerDeps{Logger: opts.Logger, Metrics: metrics}) // configured by prepareWriter's swap
	a.sink = &sink{rec: rec, log: engine.LogSink{Logger: opts.Logger}}
	a.writer = &writer{logger: opts.Logger, rec: rec}
	a.token = tokencheck.New(reg, opts.Logger)
	swapWriter, err := a.prepareWriter(cfg)
	if err != nil {
		return nil, err
	}
	swapWriter()
	if a.poller, err = a.pollerFor(cfg, nil); err != nil {
		return nil, err
	}
	a.probeMetrics = monitors.NewScrapeMetrics(reg)
	a.probe = blackboxprobe.New(a.probeMetrics)
	a.probe.Configure(cfg)
	a.engine = engine.New(engine.Options{
		Logger:         opts.Logger,
		Metrics:        metrics,
		MonitorMetrics: a.probeMetrics,
		Sink:           a.sink,
		Page:           leaderPage{a}, // what Cachet shows at start is the starting point
	})
	return a, nil
}

// pollerFor returns the ClouDNS poller a configuration needs: nil without
// cloudns monitors, the current one when the cloudns settings did not
// change (its data and schedule carry over), or a new one. A new poller is
// active only on the leader.
func (a *App) pollerFor(cfg *config.Config, current *monitors.CloudNSPoller) (*monitors.CloudNSPoller, error) {
	used := false
	for _, m := range cfg.Monitors {
		if m.CloudNS != nil {
			used = true
			break
		}
	}
	if !used {
		a.cloudnsMetrics.Reset()
		return nil, nil
	}
	if current != nil && a.cfg.CloudNS == cfg.CloudNS {
		return current, nil
	}
	p, err := monitors.NewCloudNSPoller(cfg.CloudNS, a.logger, a.cloudnsMetrics)
	if err != nil {
		return nil, fmt.Errorf("cloudns: %w", err)
	}
	p.SetActive(a.leadCtx != nil)
	return p, nil
}

// Registry gathers the app's metrics as a registry would: the registry's
// families and the engine's per-monitor counters, which /metrics writes
// directly. The probe series, which only /metrics renders, are not in it.
func (a *App) Registry() prometheus.Gatherer {
	return monitors.SourceGatherer(a.registry, a.engineMetrics)
}

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

// Run serves HTTP, schedules the monitors, takes part in leader election
// and handles reloads until ctx is cancelled, then shuts down within
// ShutdownTimeout. It returns nil only if everything stopped cleanly.
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

	a.poller.Start(ctx)
	if err := a.engine.Apply(ctx, a.cfg, a.poller); err != nil {
		_ = srv.Close()
		return fmt.Errorf("start monitors: %w", err)
	}
	a.logMode()

	// Every replica probes; only the leader talks to Cachet (token check,
	// page reads, writes) and polls ClouDNS.
	electCtx, stopElection := context.WithCancel(ctx)
	elected := make(chan struct{})
	go func() {
		defer close(elected)
		a.leadership.Run(electCtx, ha.Callbacks{OnStartedLeading: a.lead})
	}()

	// SIGHUPs coalesce: one pending reload covers any number of signals.
	hup := make(chan os.Signal, 1)
	if a.opts.HandleSIGHUP {
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
	}

	for {
		select {
		case <-hup:
			_, _ = a.reload(ctx)
		case reply := <-a.reloads:
			outcome, err := a.reload(ctx)
			reply <- reloadReply{outcome, err}
		case err := <-serveErr:
			stopElection()
			<-elected
			_ = a.engine.Stop(ShutdownTimeout)
			a.closePoller()
			return fmt.Errorf("http server: %w", err)
		case <-ctx.Done():
			return a.shutdown(srv, stopElection, elected)
		}
	}
}

// lead runs one leadership term: the writer runs (when Cachet writing is
// enabled), the Cachet token is checked and ClouDNS is polled until the
// term's ctx is cancelled, which stops them all at once. A follower sends
// Cachet nothing.
func (a *App) lead(ctx context.Context) {
	tokenDone := make(chan struct{})
	go func() { defer close(tokenDone); a.token.Run(ctx) }()
	defer func() { <-tokenDone }()

	a.mu.Lock()
	a.leadCtx = ctx
	if a.poller != nil {
		a.poller.SetActive(true)
	}
	a.syncWriterLocked()
	msg := leadingMessage(a.cfg.Cachet.Enabled(), a.poller != nil)
	a.mu.Unlock()
	a.logger.Info(msg)

	<-ctx.Done()

	a.mu.Lock()
	a.leadCtx = nil
	if a.poller != nil {
		a.poller.SetActive(false)
	}
	a.syncWriterLocked()
	a.mu.Unlock()
	a.logger.Info("no longer leading")
}

// leadingMessage says what the leader does, and only that: a dry run
// writes nothing, and without cloudns monitors nothing is polled.
func leadingMessage(writes, polls bool) string {
	switch {
	case writes && polls:
		return "leading: writing to Cachet and polling ClouDNS"
	case writes:
		return "leading: writing to Cachet"
	case polls:
		return "leading: polling ClouDNS (dry run: nothing is written to Cachet)"
	}
	return "leading (dry run: nothing is written to Cachet)"
}

// syncWriterLocked runs the writer exactly while this replica leads and
// Cachet writing is enabled. The writer's context derives from the term's,
// so losing leadership cancels it (and any request in flight) at once,
// before this is even called.
func (a *App) syncWriterLocked() {
	if a.leadCtx != nil && a.cfg.Cachet.Enabled() {
		a.writer.start(a.leadCtx)
		return
	}
	if err := a.writer.stop(ShutdownTimeout); err != nil {
		a.logger.Error("stopping the Cachet writer", "err", err)
	}
}

func (a *App) logMode() {
	if a.cfg.Cachet.URL == "" {
		a.logger.Info("dry run: no cachet.url, component changes are logged, not written")
	} else if a.cfg.Cachet.DryRun {
		a.logger.Info("dry run: cachet.dry_run is set, component changes are logged, not written")
	}
}

// shutdown leaves the election (releasing the lease), then stops the HTTP
// server and the scheduler together, each bounded.
func (a *App) shutdown(srv *http.Server, stopElection context.CancelFunc, elected <-chan struct{}) error {
	a.logger.Info("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	stopElection()
	var electionErr error
	select {
	case <-elected:
	case <-ctx.Done():
		electionErr = errors.New("leader election did not stop in time")
	}
	engineErr := make(chan error, 1)
	go func() { engineErr <- a.engine.Stop(ShutdownTimeout) }()
	srvErr := srv.Shutdown(ctx)
	a.mu.Lock()
	writerErr := a.writer.stop(ShutdownTimeout)
	if a.writer.page != nil {
		a.writer.page.Close() // keep-alive connections would outlive us otherwise
	}
	a.mu.Unlock()
	a.closePoller()
	if err := errors.Join(electionErr, srvErr, <-engineErr, writerErr); err != nil {
		a.logger.Error("shutdown incomplete", "err", err)
		return err
	}
	a.logger.Info("shut down cleanly")
	return nil
}

// tokenDetail is /readyz's token line. Only the leader checks the token:
// a follower's is not a failure.
func (a *App) tokenDetail() string {
	if a.elected && !a.leadership.IsLeader() {
		return "cachet token: not checked: not leading (only the leader talks to Cachet)"
	}
	return a.token.Detail()
}

// errNotLeading is the start-up page read of a replica that does not lead.
var errNotLeading = errors.New("not leading: only the leader reads Cachet")

// leaderPage is the engine's start-up read of the page (engine.Options.Page),
// done only inside a leadership term and cancelled with it. Without HA the
// replica leads from start, and reads as it always did.
type leaderPage struct{ a *App }

func (p leaderPage) ListComponents(ctx context.Context) ([]engine.PageComponent, error) {
	p.a.mu.Lock()
	page, term := p.a.writer.page, p.a.leadCtx
	p.a.mu.Unlock()
	if page == nil {
		return nil, nil // no Cachet writing: nothing to start from
	}
	if p.a.elected {
		if term == nil {
			return nil, errNotLeading
		}
		var stop context.CancelFunc
		ctx, stop = context.WithCancel(ctx)
		defer stop()
		defer context.AfterFunc(term, stop)()
	}
	return page.ListComponents(ctx)
}

func (a *App) closePoller() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.poller != nil {
		a.poller.Close()
		a.poller = nil
	}
}

// ReloadOutcome is what a reload did.
type ReloadOutcome string

// Reload outcomes, as POST /-/reload answers them.
const (
	// ReloadApplied: the new configuration runs.
	ReloadApplied ReloadOutcome = "applied"
	// ReloadUnchanged: nothing changed (file, environment, secret files),
	// so nothing was done.
	ReloadUnchanged ReloadOutcome = "unchanged"
	// ReloadRejected: the configuration is invalid or its monitors did not
	// build; the running configuration stays.
	ReloadRejected ReloadOutcome = "rejected"
)

type reloadReply struct {
	outcome ReloadOutcome
	err     error
}

// Reload asks the running app to reload its configuration and waits for
// the outcome. It is what POST /-/reload does.
func (a *App) Reload(ctx context.Context) error {
	_, err := a.ReloadOutcome(ctx)
	return err
}

// ReloadOutcome is Reload, also saying what happened; the error is non-nil
// exactly when the outcome is ReloadRejected (or ctx ended first).
func (a *App) ReloadOutcome(ctx context.Context) (ReloadOutcome, error) {
	reply := make(chan reloadReply, 1)
	select {
	case a.reloads <- reply:
	case <-ctx.Done():
		return ReloadRejected, ctx.Err()
	}
	select {
	case r := <-reply:
		return r.outcome, r.err
	case <-ctx.Done():
		return ReloadRejected, ctx.Err()
	}
}

// reload loads and validates the configuration and swaps it in only if it
// is valid and its monitors build; otherwise the running configuration
// stays, every problem is logged, and the reload gauge drops to 0.
func (a *App) reload(ctx context.Context) (ReloadOutcome, error) {
	cfg, err := config.Load(a.opts.ConfigFile, a.opts.Environ)
	a.mu.Lock()
	current, oldPoller := a.cfg, a.poller
	a.mu.Unlock()
	if err == nil && cfg.Checksum == current.Checksum {
		a.logger.Info("configuration unchanged, reload skipped")
		a.reloadOK.Set(1)
		return ReloadUnchanged, nil
	}
	var poller *monitors.CloudNSPoller
	if err == nil {
		a.mu.Lock()
		poller, err = a.pollerFor(cfg, oldPoller)
		a.mu.Unlock()
		poller.Start(ctx) // a new poller's ticker; the running one ignores it
	}
	var swapWriter func()
	if err == nil {
		swapWriter, err = a.prepareWriter(cfg)
	}
	if err == nil {
		err = a.engine.Apply(ctx, cfg, poller)
		if err != nil && poller != nil && poller != oldPoller {
			poller.Close()
		}
	}
	if err != nil {
		a.reloadOK.Set(0)
		for _, p := range config.Problems(err) {
			a.logger.Error("configuration reload failed, keeping the running configuration", "err", config.RedactURLs(p.Error()))
		}
		return ReloadRejected, err
	}
	if cfg.HA != current.HA {
		a.logger.Warn("ha settings changed; they take effect at the next restart")
	}
	swapWriter() // only now: a failed Apply leaves the running writer as it was
	a.mu.Lock()
	a.cfg = cfg
	a.poller = poller
	a.probe.Configure(cfg)
	a.syncWriterLocked()
	a.mu.Unlock()
	if oldPoller != nil && oldPoller != poller {
		oldPoller.Close()
	}
	a.reloadOK.Set(1)
	a.reloadTime.SetToCurrentTime()
	a.logger.Info("configuration reloaded", "monitors", len(cfg.Monitors), "components", len(cfg.Components))
	return ReloadApplied, nil
}

func (a *App) handler() http.Handler {
	mux := http.NewServeMux()
	// The registry's families plus every monitor's probe series and the
	// engine's per-monitor counters, rendered family by family at scrape
	// time (OpenMetrics negotiated, gzip).
	mux.Handle("GET /metrics", a.probeMetrics.Handler(a.registry, a.logger, a.engineMetrics))
	// blackbox_exporter's endpoint, for scrape jobs written for it
	// (docs/migration-blackbox.md); configured monitors only.
	mux.Handle("GET /probe", a.probe)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprintln(w, "ok")
	})
	// Readiness does not depend on leadership: followers probe and serve
	// metrics, which is all a Service routes to them for.
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !a.engine.Ready() {
			http.Error(w, "not ready\n"+a.tokenDetail(), http.StatusServiceUnavailable)
			return
		}
		_, _ = fmt.Fprintln(w, "ready")
		_, _ = fmt.Fprintln(w, a.tokenDetail())
	})
	mux.HandleFunc("POST /-/reload", func(w http.ResponseWriter, r *http.Request) {
		outcome, err := a.ReloadOutcome(r.Context())
		if err != nil {
			http.Error(w, reloadAnswer(outcome, err, a.opts.ReloadDetail), http.StatusInternalServerError)
			return
		}
		_, _ = fmt.Fprintln(w, outcome)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprintln(w, "statussync: /metrics /healthz /readyz /probe, POST /-/reload")
	})
	return mux
}

// reloadAnswer is the body of a failed POST /-/reload: the outcome first,
// then either every problem (detail) or only their number.
func reloadAnswer(outcome ReloadOutcome, err error, detail bool) string {
	problems := config.Problems(err)
	if detail {
		var b strings.Builder
		fmt.Fprintf(&b, "%s: the running configuration stays\n", outcome)
		for _, p := range problems {
			fmt.Fprintf(&b, "%s\n", config.RedactURLs(p.Error()))
		}
		return b.String()
	}
	return fmt.Sprintf("%s: the configuration has %d problem(s); the running configuration stays. "+
		"The log lists them, as does `statussync check` (or start with --web.reload-detail).", outcome, len(problems))
}
