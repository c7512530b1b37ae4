package ha

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection"
	rl "k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/statussync/statussync/config"
)

// userAgent names statussync's election requests in the API server's logs.
const userAgent = "statussync-leader-election"

// Elector holds a coordination.k8s.io/v1 Lease through client-go's
// leaderelection. See the package documentation for when it stops leading.
type Elector struct {
	cfg     config.HAConfig
	log     *slog.Logger
	metrics *metrics
	lock    *observingLock
	leading atomic.Bool
}

var _ Leadership = (*Elector)(nil)

// New returns an Elector for the Lease cfg names. The API server is reached
// through opts.RESTConfig if set, else cfg.Kubeconfig if set, else the pod's
// service account. cfg.LeaseNamespace and cfg.Identity must be resolved
// already, as config loading does.
func New(cfg config.HAConfig, opts Options) (*Elector, error) {
	if err := checkTimings(cfg); err != nil {
		return nil, err
	}
	switch {
	case cfg.LeaseName == "":
		return nil, errors.New("ha: lease name is empty")
	case cfg.LeaseNamespace == "":
		return nil, errors.New("ha: lease namespace is empty")
	case cfg.Identity == "":
		return nil, errors.New("ha: identity is empty")
	}
	restCfg, err := restConfig(cfg, opts)
	if err != nil {
		return nil, err
	}
	client, err := coordinationclient.NewForConfig(restCfg)
	if err != nil {
		return nil, fmt.Errorf("ha: lease client: %w", err)
	}
	return newElector(cfg, opts, &rl.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: cfg.LeaseNamespace, Name: cfg.LeaseName},
		Client:     client,
		LockConfig: rl.ResourceLockConfig{Identity: cfg.Identity},
	})
}

// newElector returns an Elector on lock, which tests may fake.
func newElector(cfg config.HAConfig, opts Options, lock rl.Interface) (*Elector, error) {
	e := &Elector{
		cfg:     cfg,
		log:     logger(opts).With("lease", cfg.LeaseNamespace+"/"+cfg.LeaseName, "identity", cfg.Identity),
		metrics: newMetrics(opts.Registerer),
	}
	e.lock = newObservingLock(lock, e.log, e.metrics, e.IsLeader)
	// Fail here, not in Run, on anything client-go would reject.
	if _, err := leaderelection.NewLeaderElector(e.electionConfig(func(context.Context) {}, func() {})); err != nil {
		return nil, fmt.Errorf("ha: %w", err)
	}
	return e, nil
}

// checkTimings enforces what the stop-before-the-lease-moves bound needs on
// top of config validation: client-go writes the lease duration in whole
// seconds, so the truncated duration must still exceed the renew deadline,
// and followers see at most one renewal a second, so the renew deadline
// must leave room for that on top of the retry period.
func checkTimings(cfg config.HAConfig) error {
	if cfg.RetryPeriod <= 0 {
		return fmt.Errorf("ha: retry period %v must be positive", cfg.RetryPeriod)
	}
	if float64(cfg.RenewDeadline) <= leaderelection.JitterFactor*float64(cfg.RetryPeriod) {
		return fmt.Errorf("ha: renew deadline %v must be more than %v times retry period %v",
			cfg.RenewDeadline, leaderelection.JitterFactor, cfg.RetryPeriod)
	}
	if cfg.RenewDeadline <= cfg.RetryPeriod+time.Second {
		return fmt.Errorf("ha: renew deadline %v must be more than retry period %v plus 1s, the resolution at which other replicas see renewals",
			cfg.RenewDeadline, cfg.RetryPeriod)
	}
	if effective := cfg.LeaseDuration.Truncate(time.Second); effective <= cfg.RenewDeadline {
		return fmt.Errorf("ha: lease duration %v, stored as %v in whole seconds, must be more than renew deadline %v",
			cfg.LeaseDuration, effective, cfg.RenewDeadline)
	}
	return nil
}

func restConfig(cfg config.HAConfig, opts Options) (*rest.Config, error) {
	var restCfg *rest.Config
	switch {
	case opts.RESTConfig != nil:
		restCfg = rest.CopyConfig(opts.RESTConfig)
	case cfg.Kubeconfig != "":
		c, err := clientcmd.BuildConfigFromFlags("", cfg.Kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("ha: load kubeconfig: %w", err)
		}
		restCfg = c
	default:
		c, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("ha: in-cluster config: %w", err)
		}
		restCfg = c
	}
	// Bound every request, also while acquiring, where client-go sets no
	// deadline of its own; client-go's NewFromKubeconfig does the same.
	if restCfg.Timeout == 0 {
		restCfg.Timeout = max(cfg.RenewDeadline/2, time.Second)
	}
	return rest.AddUserAgent(restCfg, userAgent), nil
}

func (e *Elector) electionConfig(started func(context.Context), stopped func()) leaderelection.LeaderElectionConfig {
	return leaderelection.LeaderElectionConfig{
		Lock:            e.lock,
		LeaseDuration:   e.cfg.LeaseDuration,
		RenewDeadline:   e.cfg.RenewDeadline,
		RetryPeriod:     e.cfg.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            e.cfg.LeaseName,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: started,
			OnStoppedLeading: stopped,
			OnNewLeader: func(identity string) {
				e.log.Info("leader observed", "leader", identity)
			},
		},
	}
}

// IsLeader reports whether this replica leads now.
func (e *Elector) IsLeader() bool { return e.leading.Load() }

// Run takes part in the election until ctx is done, one term after another:
// client-go's elector returns when it loses the lease, and Run then enters
// the election again. It returns after the last term has ended and its
// OnStartedLeading has returned.
func (e *Elector) Run(ctx context.Context, cb Callbacks) {
	e.log.Info("joining leader election",
		"lease_duration", e.cfg.LeaseDuration, "renew_deadline", e.cfg.RenewDeadline, "retry_period", e.cfg.RetryPeriod)
	for ctx.Err() == nil {
		e.runTerm(ctx, cb)
	}
	e.log.Info("left leader election")
}

// runTerm runs one client-go election: acquire, lead, lose or stop.
func (e *Elector) runTerm(ctx context.Context, cb Callbacks) {
	termCtx, cancelTerm := context.WithCancel(ctx)
	defer cancelTerm()
	t := &term{e: e, cb: cb, runCtx: ctx, cancelTerm: cancelTerm}
	le, err := leaderelection.NewLeaderElector(e.electionConfig(
		func(context.Context) { t.start(termCtx) },
		func() { t.end("lease lost") },
	))
	if err != nil {
		// New checked the same configuration; wait rather than spin.
		e.log.Error("leader election not started", "err", err)
		sleep(ctx, e.cfg.RetryPeriod)
		return
	}
	le.Run(termCtx)
	t.end("lease lost")
	t.wg.Wait()
}

// term is one leadership term: from acquiring the lease until the leader's
// context is cancelled.
type term struct {
	e          *Elector
	cb         Callbacks
	runCtx     context.Context
	cancelTerm context.CancelFunc

	mu           sync.Mutex
	started      bool
	ended        bool
	cancelLeader context.CancelFunc
	endOnce      sync.Once
	// wg counts OnStartedLeading and the watchdog.
	wg sync.WaitGroup
}

// start begins leading, unless the term has already ended: client-go calls
// OnStartedLeading in a goroutine that may run after it has given up.
func (t *term) start(termCtx context.Context) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended || termCtx.Err() != nil {
		return
	}
	leaderCtx, cancel := context.WithCancel(termCtx)
	t.started, t.cancelLeader = true, cancel
	t.e.leading.Store(true)
	t.e.metrics.setLeader(true)
	t.e.log.Info("started leading")
	// Whatever cancels the leader's context, the term is over.
	context.AfterFunc(leaderCtx, func() {
		reason := "term ended"
		if t.runCtx.Err() != nil {
			reason = "shutdown"
		}
		t.end(reason)
	})
	t.wg.Add(2)
	go func() {
		defer t.wg.Done()
		t.cb.OnStartedLeading(leaderCtx)
	}()
	go func() {
		defer t.wg.Done()
		t.watch(leaderCtx)
	}()
}

// watch ends the term once RenewDeadline has passed since followers last
// saw the lease renewed, whatever client-go's renew loop is doing; see the
// package documentation.
func (t *term) watch(leaderCtx context.Context) {
	rd := t.e.cfg.RenewDeadline
	for {
		timer := time.NewTimer(time.Until(t.e.lock.visibleSince().Add(rd)))
		select {
		case <-leaderCtx.Done():
			timer.Stop()
			return
		case <-t.e.lock.renewed:
			timer.Stop()
		case <-timer.C:
			if since := time.Since(t.e.lock.visibleSince()); since >= rd {
				t.e.log.Warn("lease not renewed in time", "renew_deadline", rd,
					"since_visible_renew", since, "since_last_renew", time.Since(t.e.lock.lastRenew()))
				t.end("renew deadline passed")
				return
			}
		}
	}
}

// end stops leading at once, if the term started, and stops client-go's
// elector, which releases the lease if it can. All callers return after the
// first has finished.
func (t *term) end(reason string) {
	t.endOnce.Do(func() {
		t.mu.Lock()
		t.ended = true
		started, cancel := t.started, t.cancelLeader
		t.mu.Unlock()
		if started {
			t.e.leading.Store(false)
			cancel()
			t.e.metrics.setLeader(false)
			level := slog.LevelWarn
			if reason == "shutdown" {
				level = slog.LevelInfo
			}
			t.e.log.Log(context.Background(), level, "stopped leading", "reason", reason)
			if t.cb.OnStoppedLeading != nil {
				t.cb.OnStoppedLeading()
			}
		}
		t.cancelTerm()
	})
}

func sleep(ctx context.Context, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}
