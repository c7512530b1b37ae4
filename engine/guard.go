package engine

import (
	"context"
	"sync"
	"time"

	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/monitors"
)

// guardFresh is how long a connectivity verdict is reused. Failures of many
// monitors in the same moment share one verdict; a verdict older than this
// is never trusted, since the network may have just died or come back.
const guardFresh = 2 * time.Second

// guard is the self-connectivity guard. When a monitor fails, it asks
// right then whether statussync can reach anything at all, by running the
// connectivity monitors; only when every one of them fails is the failure
// turned into unknown. Asking at the moment of the failure, rather than
// reading the connectivity monitors' last scheduled results, means that
// the order in which checks happen to run cannot let a local outage
// through (at start-up, or when the network dies between two uplink
// checks).
type guard struct {
	members []guardMember

	mu      sync.Mutex // held while evaluating, so concurrent callers share one run
	at      time.Time
	isolate bool
	now     func() time.Time
}

type guardMember struct {
	name    string
	mon     monitors.Monitor
	timeout time.Duration
}

func newGuard(cfg *config.Config, entries map[string]*monitorEntry, now func() time.Time) *guard {
	if len(cfg.Connectivity.Monitors) == 0 {
		return nil
	}
	g := &guard{now: now}
	for _, name := range cfg.Connectivity.Monitors {
		e := entries[name]
		g.members = append(g.members, guardMember{name: name, mon: e.mon, timeout: e.spec.Timeout})
	}
	return g
}

func (g *guard) covers(name string) bool {
	for _, m := range g.members {
		if m.name == name {
			return true
		}
	}
	return false
}

// isolated reports whether every connectivity monitor fails now. The
// checks run detached from the caller's deadline, each with its own
// timeout, so a caller near its own timeout cannot make them fail.
func (g *guard) isolated(ctx context.Context) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.at.IsZero() && g.now().Sub(g.at) < guardFresh {
		return g.isolate
	}
	results := make(chan bool, len(g.members))
	for _, m := range g.members {
		go func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.timeout)
			defer cancel()
			st := m.mon.Check(cctx).Status
			results <- st == monitors.StatusUp || st == monitors.StatusDegraded
		}()
	}
	reachable := false
	for range g.members {
		if <-results {
			reachable = true
		}
	}
	g.at, g.isolate = g.now(), !reachable
	return g.isolate
}
