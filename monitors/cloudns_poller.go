package monitors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/statussync/statussync/cloudns"
	"github.com/statussync/statussync/config"
)

// Errors returned by CloudNSPoller.Latest. Callers branch on them with
// errors.Is; the cloudns monitor turns each into an unknown result.
var (
	// ErrCloudNSInactive means the poller is inactive: this replica is not
	// the leader, so it must not call ClouDNS and has no new information.
	ErrCloudNSInactive = errors.New("cloudns: poller inactive (not the leader)")
	// ErrCloudNSClosed means the poller was closed, for example because a
	// reload replaced it.
	ErrCloudNSClosed = errors.New("cloudns: poller closed")
	// ErrCloudNSStale means there is no snapshot younger than two poll
	// intervals: no poll has succeeded yet, or none recently. The error
	// also wraps the last poll's error, if any, so cloudns.KindOf works.
	ErrCloudNSStale = errors.New("cloudns: no recent data")
)

// cloudnsMinPollCalls is the cost of a poll of an account with fewer than
// 100 checks: one page each for the catalogue, the down set and the up set.
// The first poll has no earlier count to go by.
const cloudnsMinPollCalls = 3

// CloudNSPoller polls a ClouDNS account on a ticker, once per poll_interval,
// and keeps the latest snapshot for every cloudns monitor of a
// configuration to read. Monitors never call ClouDNS and never wait: the
// number of API calls per interval is one poll's worth whatever the number
// of monitors.
//
// Start runs the ticker; the first poll happens at once. A failed poll keeps
// the previous snapshot and records the error; the next attempt is the next
// tick, so a failing API is not hammered. Data is served while it is at
// most twice the poll interval old; older data, or none, is ErrCloudNSStale.
// After every successful poll the poller calls the functions given to
// Subscribe, so that each poll is observed once by every monitor, whatever
// the phase of their own schedules.
//
// Build one per loaded configuration with NewCloudNSPoller, hand it to the
// monitors through Deps.CloudNS, call Start, call SetActive on leadership
// changes, and Close when a reload replaces it or at shutdown. One-shot
// users (statussync check and probe) call Poll instead of Start. All
// methods are safe for concurrent use.
type CloudNSPoller struct {
	client   *cloudns.Client
	interval time.Duration
	logger   *slog.Logger
	metrics  *CloudNSMetrics
	now      func() time.Time // tests replace it before first use

	pollMu sync.Mutex // serialises polls: the ticker's and one-shot ones

	mu     sync.Mutex
	active bool
	closed bool
	// term counts activity changes (SetActive, Close): a poll that began in
	// an earlier term is cancelled, and its outcome discarded, since a
	// follower has no business publishing it.
	term uint64
	// cancelPoll cancels the running poll, nil when none runs.
	cancelPoll context.CancelFunc
	// snap is the last successful poll, snapAt when that poll started (by
	// now, so that data age and the staleness rule use the same clock).
	snap   *cloudns.Snapshot
	snapAt time.Time
	// lastErr is the latest poll's error; nil if it succeeded.
	lastErr  error
	failures int // consecutive failed polls
	subs     map[int]func()
	nextSub  int
	// stop ends the ticker that Start runs; done is closed when it ended.
	stop context.CancelFunc
	done chan struct{}
	wake chan struct{} // poll now: this replica just became the leader
}

// CloudNSView is what the poller knows when Latest returns.
type CloudNSView struct {
	// Snapshot is the last successful poll; nil if none succeeded yet.
	Snapshot *cloudns.Snapshot
	// Age is how old Snapshot's data is, from the start of its poll.
	Age time.Duration
	// PollErr is the latest poll's error if it failed (Snapshot is then
	// from an earlier poll); nil if the latest poll succeeded.
	PollErr error
}

// NewCloudNSPoller returns a poller for the account in cfg (the cloudns block
// of a validated configuration). It makes no request. logger may be nil;
// metrics may be nil, and when set also receives the client's request
// metrics. The poller starts active: on a replica that may not be the
// leader, call SetActive before Start.
func NewCloudNSPoller(cfg config.CloudNSConfig, logger *slog.Logger, metrics *CloudNSMetrics) (*CloudNSPoller, error) {
	return newCloudNSPoller(cfg, logger, metrics, nil)
}

// CloudNSClientOptions returns the ClouDNS client options of a validated
// cloudns block: every value the configuration has a key for comes from cfg
// (which config's defaults pass has filled), the rest (user agent, retries,
// backoff) are cloudns.DefaultOptions's. Registerer and Logger are left for
// the caller. The poller and the plan, apply and import commands all build
// their clients from it.
func CloudNSClientOptions(cfg config.CloudNSConfig) cloudns.Options {
	o := cloudns.DefaultOptions()
	o.BaseURL = cfg.URL
	o.AuthID = cfg.AuthID
	o.SubAuthID = cfg.SubAuthID
	o.SubAuthUser = cfg.SubAuthUser
	o.Password = cfg.Password.Reveal()
	o.Timeout = cfg.Timeout
	o.RateLimit = cfg.RateLimit
	return o
}

// newCloudNSPoller is NewCloudNSPoller with a hook that adjusts the client
// options, which tests use to shorten retry waits.
func newCloudNSPoller(cfg config.CloudNSConfig, logger *slog.Logger, metrics *CloudNSMetrics, tune func(*cloudns.Options)) (*CloudNSPoller, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PollInterval <= 0 {
		return nil, fmt.Errorf("cloudns poller: poll interval %v must be positive", cfg.PollInterval)
	}
	opts := CloudNSClientOptions(cfg)
	opts.Logger = logger
	if metrics != nil {
		opts.Registerer = metrics.reg
	}
	if tune != nil {
		tune(&opts)
	}
	client, err := cloudns.New(opts)
	if err != nil {
		return nil, fmt.Errorf("cloudns poller: %w", err)
	}
	p := &CloudNSPoller{
		client:   client,
		interval: cfg.PollInterval,
		logger:   logger.With("component", "cloudns_poller"),
		metrics:  metrics,
		now:      time.Now,
		active:   true,
		subs:     map[int]func(){},
		wake:     make(chan struct{}, 1),
	}
	metrics.setActive(true)
	return p, nil
}

// PollInterval returns the configured poll interval.
func (p *CloudNSPoller) PollInterval() time.Duration { return p.interval }

// Start runs the ticker until Close or until ctx ends: a poll at once, then
// one every poll interval while the poller is active. A nil poller, or one
// already started or closed, ignores it.
func (p *CloudNSPoller) Start(ctx context.Context) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop != nil || p.closed {
		return
	}
	ctx, p.stop = context.WithCancel(ctx)
	p.done = make(chan struct{})
	go p.run(ctx, p.done)
}

func (p *CloudNSPoller) run(ctx context.Context, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		_ = p.Poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-p.wake:
			// A new leader's data may be old: poll now, and count the
			// interval from here.
			t.Reset(p.interval)
		}
	}
}

// Subscribe registers fn to be called after every successful poll, from the
// poller's goroutine: fn must return quickly. The returned function removes
// it.
func (p *CloudNSPoller) Subscribe(fn func()) (unsubscribe func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := p.nextSub
	p.nextSub++
	p.subs[id] = fn
	return func() {
		p.mu.Lock()
		delete(p.subs, id)
		p.mu.Unlock()
	}
}

// SetActive switches polling on or off. Only the HA leader may poll: an
// inactive poller makes no API calls, cancels a running poll, and Latest
// returns ErrCloudNSInactive. Becoming active again polls at once, without
// waiting for the next tick, since a new leader's data may be old.
func (p *CloudNSPoller) SetActive(active bool) {
	p.mu.Lock()
	if p.active == active {
		p.mu.Unlock()
		return
	}
	p.active = active
	p.newTermLocked()
	p.mu.Unlock()
	if active {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
	p.metrics.setActive(active)
	p.logger.Info("cloudns poller activity changed", "active", active)
}

// newTermLocked starts a new activity term, cancelling the running poll of
// the old one. The caller holds mu.
func (p *CloudNSPoller) newTermLocked() {
	p.term++
	if p.cancelPoll != nil {
		p.cancelPoll()
		p.cancelPoll = nil
	}
}

// Close stops the ticker, cancels a running poll and releases the client's
// idle connections. Latest then returns ErrCloudNSClosed. A nil poller
// ignores it.
func (p *CloudNSPoller) Close() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.closed = true
	p.newTermLocked()
	stop, done := p.stop, p.done
	p.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	p.client.CloseIdleConnections()
}

// Latest returns the latest snapshot at once; it never calls ClouDNS. The
// error is nil when the view's Snapshot is at most twice the poll interval
// old; otherwise it is ErrCloudNSInactive, ErrCloudNSClosed or
// ErrCloudNSStale, and the view still says what is known.
func (p *CloudNSPoller) Latest() (CloudNSView, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v := CloudNSView{Snapshot: p.snap, PollErr: p.lastErr}
	if p.snap != nil {
		v.Age = p.now().Sub(p.snapAt)
	}
	switch {
	case p.closed:
		return v, ErrCloudNSClosed
	case !p.active:
		return v, ErrCloudNSInactive
	case v.Snapshot != nil && v.Age <= 2*p.interval:
		return v, nil
	}
	what := "no successful poll yet"
	if v.Snapshot != nil {
		what = fmt.Sprintf("last successful poll %s ago, more than twice the poll interval %s", v.Age.Round(time.Second), p.interval)
	}
	if v.PollErr != nil {
		return v, fmt.Errorf("%w (%s): %w", ErrCloudNSStale, what, v.PollErr)
	}
	return v, fmt.Errorf("%w (%s)", ErrCloudNSStale, what)
}

// Poll polls the account now, unless the poller is inactive or closed, and
// publishes the outcome. Polls never overlap: a call while one runs waits
// for it and then polls again. The poll's deadline is the poll interval, or
// less when the client's own worst case under its options in force is
// shorter (see pollTimeout); the error is the poll's.
func (p *CloudNSPoller) Poll(ctx context.Context) error {
	p.pollMu.Lock()
	defer p.pollMu.Unlock()

	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		return ErrCloudNSClosed
	case !p.active:
		p.mu.Unlock()
		return ErrCloudNSInactive
	}
	expected := cloudnsMinPollCalls
	if p.snap != nil {
		expected = max(expected, p.snap.Calls)
	}
	timeout := pollTimeout(p.interval, p.client.Budget(expected))
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	p.cancelPoll = cancel
	term := p.term
	started := p.now()
	p.mu.Unlock()

	begin := time.Now()
	snap, err := p.client.Snapshot(pctx)
	took := time.Since(begin)

	p.mu.Lock()
	if p.term != term {
		// Cancelled by SetActive(false) or Close: not a ClouDNS failure,
		// and its data (if it raced to completion) is not kept.
		p.mu.Unlock()
		p.logger.Debug("cloudns poll abandoned", "duration", took)
		return ErrCloudNSInactive
	}
	p.cancelPoll = nil
	failures := p.failures
	var subs []func()
	if err != nil {
		p.lastErr = err
		p.failures++
		p.metrics.pollFailed(err, took)
	} else {
		p.snap, p.snapAt, p.lastErr, p.failures = snap, started, nil, 0
		p.metrics.pollSucceeded(snap, started, took)
		for _, fn := range p.subs {
			subs = append(subs, fn)
		}
	}
	p.mu.Unlock()

	if err != nil {
		p.logger.Warn("cloudns poll failed", "kind", cloudns.KindOf(err).String(), "consecutive_failures", failures+1, "duration", took, "deadline", timeout, "err", err)
		return err
	}
	if failures > 0 {
		p.logger.Info("cloudns poll recovered", "failed_polls", failures)
	}
	p.logger.Debug("cloudns poll", "checks", len(snap.Checks), "calls", snap.Calls, "conflicts", snap.Conflicts, "duration", took)
	for _, fn := range subs {
		fn()
	}
	return nil
}

// pollTimeout is the deadline of one poll: the client's worst case for the
// calls a poll is expected to make (the previous poll's count, at least
// 3), from the options the client really runs with, capped at the poll
// interval. A poll that has not finished when the next one is due has
// failed, and the cap keeps polls to one per tick.
func pollTimeout(interval, budget time.Duration) time.Duration {
	return min(interval, budget)
}

// CheckCloudNSMonitors polls the account once (through poller, or through a
// throwaway poller if poller is nil) and returns one warning per cloudns
// monitor of cfg whose check does not exist, whose check name matches
// several checks, or whose check is paused, each naming the key path and the
// monitor, e.g. `monitors[3].cloudns.check_name (monitor "mail"): no ClouDNS
// check named "mail-smtp"`. Without cloudns monitors or without credentials
// it does nothing. The error is non-nil when the account could not be read.
func CheckCloudNSMonitors(ctx context.Context, cfg *config.Config, poller *CloudNSPoller) (warnings []string, err error) {
	var idx []int
	for i := range cfg.Monitors {
		if cfg.Monitors[i].CloudNS != nil {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 || !cfg.CloudNS.Configured() {
		return nil, nil
	}
	if poller == nil {
		if poller, err = NewCloudNSPoller(cfg.CloudNS, nil, nil); err != nil {
			return nil, err
		}
		defer poller.Close()
	}
	if _, err := poller.Latest(); err != nil {
		if err := poller.Poll(ctx); err != nil {
			return nil, fmt.Errorf("cloudns: list the account's checks: %w", err)
		}
	}
	v, err := poller.Latest()
	if err != nil {
		return nil, fmt.Errorf("cloudns: list the account's checks: %w", err)
	}
	for _, i := range idx {
		spec := &cfg.Monitors[i]
		if w := checkCloudNSSelector(v.Snapshot, spec.CloudNS, fmt.Sprintf("monitors[%d].cloudns", i), fmt.Sprintf("monitor %q", spec.Name)); w != "" {
			warnings = append(warnings, w)
		}
	}
	return warnings, nil
}

// checkCloudNSSelector returns the warning for one monitor's selector, or "".
func checkCloudNSSelector(snap *cloudns.Snapshot, sel *config.CloudNSProbe, path, object string) string {
	warn := func(key, format string, args ...any) string {
		return (&config.Problem{Path: path + "." + key, Object: object, Msg: fmt.Sprintf(format, args...)}).Error()
	}
	key := "check_id"
	var found []cloudns.Check
	if sel.CheckID != 0 {
		if ch, ok := snap.ByID(sel.CheckID); ok {
			found = append(found, ch)
		} else {
			return warn(key, "no ClouDNS check with id %d", sel.CheckID)
		}
	} else {
		key = "check_name"
		found = snap.ByName(sel.CheckName)
		switch len(found) {
		case 0:
			return warn(key, "no ClouDNS check named %q", sel.CheckName)
		case 1:
		default:
			return warn(key, "%d ClouDNS checks are named %q (ids %s); select one with check_id", len(found), sel.CheckName, checkIDs(found))
		}
	}
	if found[0].Status == cloudns.StatusPaused {
		return warn(key, "ClouDNS check %d is paused, so the monitor stays unknown", found[0].ID)
	}
	return ""
}

// checkIDs lists the checks' ids, comma-separated.
func checkIDs(checks []cloudns.Check) string {
	ids := make([]string, 0, len(checks))
	for _, c := range checks {
		ids = append(ids, strconv.FormatInt(c.ID, 10))
	}
	return strings.Join(ids, ", ")
}

// CloudNSMetrics are the poller's metrics, one set per registry; they
// describe the account, not a monitor, so they carry no monitor label. The
// label values (status, kind) come from fixed sets and are all pre-created.
type CloudNSMetrics struct {
	reg          prometheus.Registerer
	checks       *prometheus.GaugeVec
	pollDuration prometheus.Histogram
	pollErrors   *prometheus.CounterVec
	lastSuccess  prometheus.Gauge
	pollCalls    prometheus.Gauge
	conflicts    prometheus.Gauge
	active       prometheus.Gauge
}

// cloudnsStatuses are the status label values of statussync_cloudns_checks.
var cloudnsStatuses = []cloudns.Status{cloudns.StatusUp, cloudns.StatusDown, cloudns.StatusPaused, cloudns.StatusUnknown}

// cloudnsErrorKinds are every cloudns.ErrorKind, found by their names so that
// a kind added to package cloudns is pre-created too.
var cloudnsErrorKinds = func() []cloudns.ErrorKind {
	var kinds []cloudns.ErrorKind
	for k := cloudns.ErrorKind(0); !strings.HasPrefix(k.String(), "kind_"); k++ {
		kinds = append(kinds, k)
	}
	return kinds
}()

// NewCloudNSMetrics registers the poller metrics with reg (nil registers
// nothing). Calling it again with the same registry, as a reload may,
// returns metrics backed by the collectors already registered, so that
// counters continue. Pass the result to every NewCloudNSPoller built for
// that registry.
func NewCloudNSMetrics(reg prometheus.Registerer) *CloudNSMetrics {
	m := &CloudNSMetrics{
		reg: reg,
		checks: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "statussync_cloudns_checks",
			Help: "Checks in the ClouDNS account by determined status (up, down, paused, unknown) at the last successful poll.",
		}, []string{"status"}),
		pollDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "statussync_cloudns_poll_duration_seconds",
			Help:    "Duration of ClouDNS polls, successful or not, in seconds.",
			Buckets: prometheus.ExponentialBuckets(0.25, 2, 9),
		}),
		pollErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "statussync_cloudns_poll_errors_total",
			Help: "Failed ClouDNS polls by error kind.",
		}, []string{"kind"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "statussync_cloudns_last_poll_success_timestamp_seconds",
			Help: "Start time of the last successful ClouDNS poll (the time its data describes), in seconds since the epoch; 0 if none.",
		}),
		pollCalls: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "statussync_cloudns_poll_calls",
			Help: "HTTP requests, retries included, made by the last successful ClouDNS poll.",
		}),
		conflicts: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "statussync_cloudns_status_conflicts",
			Help: "Checks whose status sources contradicted each other at the last successful ClouDNS poll (they count as unknown).",
		}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "statussync_cloudns_poller_active",
			Help: "1 if this replica polls ClouDNS (it is the leader), 0 if not.",
		}),
	}
	m.checks = mustRegister(reg, m.checks)
	m.pollDuration = mustRegister(reg, m.pollDuration)
	m.pollErrors = mustRegister(reg, m.pollErrors)
	m.lastSuccess = mustRegister(reg, m.lastSuccess)
	m.pollCalls = mustRegister(reg, m.pollCalls)
	m.conflicts = mustRegister(reg, m.conflicts)
	m.active = mustRegister(reg, m.active)
	for _, st := range cloudnsStatuses {
		m.checks.WithLabelValues(st.String())
	}
	for _, k := range cloudnsErrorKinds {
		m.pollErrors.WithLabelValues(k.String())
	}
	return m
}

// mustRegister registers c, or returns the collector registered earlier
// under the same descriptor. Any other failure is a programming error and
// panics, as promauto does.
func mustRegister[T prometheus.Collector](reg prometheus.Registerer, c T) T {
	if reg == nil {
		return c
	}
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(T); ok {
			return existing
		}
	}
	panic(fmt.Errorf("register cloudns poller metrics: %w", err))
}

// Reset clears what describes the account: the checks by status, the last
// poll's calls and conflicts, the last-success timestamp and the active
// flag. Call it when a reload leaves no cloudns monitor, so that gauges of
// an account no longer watched do not linger. Counters and the histogram are
// kept, as counters must only grow.
func (m *CloudNSMetrics) Reset() {
	if m == nil {
		return
	}
	for _, st := range cloudnsStatuses {
		m.checks.WithLabelValues(st.String()).Set(0)
	}
	m.lastSuccess.Set(0)
	m.pollCalls.Set(0)
	m.conflicts.Set(0)
	m.active.Set(0)
}

func (m *CloudNSMetrics) setActive(active bool) {
	if m == nil {
		return
	}
	v := 0.0
	if active {
		v = 1
	}
	m.active.Set(v)
}

func (m *CloudNSMetrics) pollSucceeded(s *cloudns.Snapshot, started time.Time, took time.Duration) {
	if m == nil {
		return
	}
	m.pollDuration.Observe(took.Seconds())
	for _, st := range cloudnsStatuses {
		m.checks.WithLabelValues(st.String()).Set(float64(s.Count(st)))
	}
	m.pollCalls.Set(float64(s.Calls))
	m.conflicts.Set(float64(s.Conflicts))
	m.lastSuccess.Set(float64(started.UnixNano()) / 1e9)
}

func (m *CloudNSMetrics) pollFailed(err error, took time.Duration) {
	if m == nil {
		return
	}
	m.pollDuration.Observe(took.Seconds())
	m.pollErrors.WithLabelValues(cloudns.KindOf(err).String()).Inc()
}
