package ha

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	rl "k8s.io/client-go/tools/leaderelection/resourcelock"
)

// observingLock is the Lease lock with this replica's successful acquire and
// renew writes recorded: the Elector's watchdog and the last renew metric
// count from them.
type observingLock struct {
	rl.Interface
	log     *slog.Logger
	metrics *metrics
	leading func() bool

	mu sync.Mutex
	// last is when the last successful write that made or kept this replica
	// the holder started.
	last time.Time
	// visible is when the first of the successful writes that left the
	// record as followers see it now started. Followers count the lease
	// duration from when they see the record change, and they compare the
	// record as JSON, where times have whole seconds: two renewals in the
	// same second look alike, and the second does not restart their count.
	// So no follower started counting before visible. Both times keep their
	// monotonic clock reading.
	visible time.Time
	// record is the JSON of the last successful write, as followers compare
	// it; nil after a release.
	record []byte
	// renewed gets a value after each successful write, without blocking.
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
	if ler.HolderIdentity != l.Identity() {
		// A release writes an empty holder; it neither acquires nor
		// renews, but the next acquire changes the record again.
		if err == nil {
			l.mu.Lock()
			l.record = nil
			l.mu.Unlock()
		}
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
	// The same encoding as resourcelock.LeaseLock.Get's raw record.
	record, jerr := json.Marshal(ler)
	l.mu.Lock()
	l.last = start
	if jerr != nil || !bytes.Equal(record, l.record) {
		l.visible, l.record = start, record
	}
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

// visibleSince returns when the first successful write of the record that
// followers see now started: no follower counts the lease from earlier.
func (l *observingLock) visibleSince() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.visible
}
