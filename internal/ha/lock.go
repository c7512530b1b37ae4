package ha

import (
	"context"
	"log/slog"
	"sync"
	"time"

	rl "k8s.io/client-go/tools/leaderelection/resourcelock"
)

// observingLock is the Lease lock with this replica's successful acquire and
// renew writes recorded: the Elector's watchdog and the last renew metric
// both count from them.
type observingLock struct {
	rl.Interface
	log     *slog.Logger
	metrics *metrics
	leading func() bool

	mu sync.Mutex
	// last is when the last successful write that made or kept this replica
	// the holder started. The write reached the API server after that, so no
	// other replica can have seen it, and started counting the lease
	// duration, earlier. It keeps its monotonic clock reading.
	last time.Time
	// renewed gets a value after each such write, without blocking.
	renewed chan struct{}
}

func newObservingLock(inner rl.Interface, log *slog.Logger, m *metrics, leading func() bool) *observingLock {
	return &observingLock{Interface: inner, log: log, metrics: m, leading: leading, renewed: make(chan struct{}, 1)}
}

// Create creates the Lease and records the write if it succeeded.
func (l *observingLock) Create(ctx context.Context, ler rl.LeaderElectionRecord) error {
	start := time.Now()
	err := l.Interface.Create(ctx, ler)
	l.observe(start, ler, err)
	return err
}

// Update writes the Lease and records the write if it succeeded.
func (l *observingLock) Update(ctx context.Context, ler rl.LeaderElectionRecord) error {
	start := time.Now()
	err := l.Interface.Update(ctx, ler)
	l.observe(start, ler, err)
	return err
}

func (l *observingLock) observe(start time.Time, ler rl.LeaderElectionRecord, err error) {
	// A release writes an empty holder; it neither acquires nor renews.
	if ler.HolderIdentity != l.Identity() {
		return
	}
	if err != nil {
		// Followers fail to acquire every retry period as a matter of
		// course; a leader failing to renew is news.
		level := slog.LevelDebug
		if l.leading() {
			level = slog.LevelWarn
		}
		l.log.Log(context.Background(), level, "lease write failed", "err", err)
		return
	}
	l.mu.Lock()
	l.last = start
	l.mu.Unlock()
	l.metrics.renewed(start)
	select {
	case l.renewed <- struct{}{}:
	default:
	}
}

// lastRenew returns when the last successful acquire or renew write started.
func (l *observingLock) lastRenew() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}
