package engine

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/monitors"
)

// guardFresh is how long a connectivity verdict is reused. Failures of many
// monitors in the same moment share one verdict; a verdict older than this
// is never trusted, since the network may have just died or come back.
const guardFresh = 2 * time.Second

// defaultGuardSize bounds how many monitors the default guard checks at a
// failure: one per kind first, then others, each with its own target.
const defaultGuardSize = 8

// guard is the self-connectivity guard. When a monitor fails, it asks
// right then whether statussync can reach anything at all, by running the
// guard's members; only when every one of them fails too is the failure
// turned into unknown. Asking at the moment of the failure, rather than
// reading the members' last scheduled results, means that the order in
// which checks happen to run cannot let a local outage through (at
// start-up, or when the network dies between two checks). A scheduled
// check of another target that succeeded while the failing check ran is
// the one result read: it shows the network worked then, and on a busy
// machine it spares a verdict from a member that misses its timeout.
//
// The members are connectivity.monitors when configured. Without them, the
// default guard takes a sample of the configured monitors (cloudns ones
// excepted: ClouDNS probes from its own network), one of every kind first
// and each with a target of its own, up to defaultGuardSize: a failure
// then counts as unknown only when every sampled monitor with another
// target fails at the same moment, which is what a local network failure
// looks like and a real outage of one service does not. With fewer than
// two targets to sample, there is no default guard.
type guard struct {
	members []guardMember
	// fallback marks the default guard: every monitor is guarded, and a
	// failing monitor is judged by the members with other targets.
	fallback bool

	mu    sync.Mutex         // held while evaluating, so concurrent callers share one run
	reach map[string]reachAt // by member name: its last check
	now   func() time.Time

	okMu   sync.Mutex
	lastOK map[string]time.Time // by target: when a scheduled check of it last succeeded
}

// succeeded records that a scheduled check of target succeeded at. A nil
// guard, or a monitor without a target, records nothing.
func (g *guard) succeeded(target string, at time.Time) {
	if g == nil || target == "" {
		return
	}
	g.okMu.Lock()
	defer g.okMu.Unlock()
	if g.lastOK == nil {
		g.lastOK = map[string]time.Time{}
	}
	if at.After(g.lastOK[target]) {
		g.lastOK[target] = at
	}
}

// answeredSince reports whether a target that may judge a failure of
// target (for the default guard any other target, else a member's) has
// answered a scheduled check since began: statussync was not cut off
// while the failing check ran, whatever the guard's members would say
// now. On a busy machine a member's own check can miss its timeout; a
// success already seen is proof enough.
func (g *guard) answeredSince(target string, began time.Time) bool {
	g.okMu.Lock()
	defer g.okMu.Unlock()
	for t, at := range g.lastOK {
		if t == target || at.Before(began) {
			continue
		}
		if g.fallback {
			return true
		}
		for _, m := range g.members {
			if m.target == t {
				return true
			}
		}
	}
	return false
}

// reachAt is one member's last verdict: up or degraded, and when.
type reachAt struct {
	ok bool
	at time.Time
}

type guardMember struct {
	name    string
	target  string
	mon     monitors.Monitor
	timeout time.Duration
}

func newGuard(cfg *config.Config, entries map[string]*monitorEntry, now func() time.Time) *guard {
	g := &guard{now: now}
	if len(cfg.Connectivity.Monitors) > 0 {
		for _, name := range cfg.Connectivity.Monitors {
			e := entries[name]
			g.members = append(g.members, guardMember{name: name, target: guardTarget(*e.spec), mon: e.mon, timeout: e.spec.Timeout})
		}
		return g
	}
	g.fallback = true
	taken := map[string]bool{}
	kinds := map[string]bool{}
	pick := func(oneOfEachKind bool) {
		for _, spec := range cfg.Monitors {
			target := guardTarget(spec)
			if len(g.members) == defaultGuardSize || target == "" || taken[target] || (oneOfEachKind && kinds[spec.Kind]) {
				continue
			}
			taken[target], kinds[spec.Kind] = true, true
			g.members = append(g.members, guardMember{name: spec.Name, target: target, mon: entries[spec.Name].mon, timeout: spec.Timeout})
		}
	}
	pick(true)
	pick(false)
	if len(g.members) < 2 {
		return nil
	}
	return g
}

// guardTarget is what a monitor reaches over statussync's own network
// (host and port, lower case), or "" for kinds that do not (cloudns).
func guardTarget(spec config.MonitorSpec) string {
	switch {
	case spec.HTTP != nil:
		// The URL config parsed (validated configurations have it): its
		// host string is shared rather than parsed again per monitor.
		u := spec.HTTP.ParsedURL()
		if u == nil {
			var err error
			if u, err = url.Parse(spec.HTTP.URL); err != nil {
				return ""
			}
		}
		return strings.ToLower(u.Host)
	case spec.TCP != nil:
		return strings.ToLower(spec.TCP.Address)
	case spec.DNS != nil:
		return strings.ToLower(spec.DNS.Server)
	}
	return ""
}

// guards reports whether a down result of spec is checked by the guard:
// not for the configured members themselves, and never for cloudns
// monitors, whose verdict is ClouDNS's, taken from its own network.
func (g *guard) guards(spec config.MonitorSpec) bool {
	if g == nil || spec.CloudNS != nil {
		return false
	}
	if g.fallback {
		return true
	}
	for _, m := range g.members {
		if m.name == spec.Name {
			return false
		}
	}
	return true
}

// isolated reports whether statussync looks cut off now, for a check of
// target that began at began: not when another target answered a
// scheduled check since; otherwise when every member
// fails (for the default guard, every member with a target other than
// target, and there must be one). Only those members are checked: a
// member on the failing target says nothing, and checking it (a target
// that hangs) would hold every failing monitor for its whole timeout. The
// checks run detached from the caller's deadline, each with its own
// timeout, so a caller near its own timeout cannot make them fail.
func (g *guard) isolated(ctx context.Context, target string, began time.Time) bool {
	if g.answeredSince(target, began) {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	var judges, stale []guardMember
	for _, m := range g.members {
		if g.fallback && m.target == target {
			continue // the failing service itself says nothing about the network
		}
		judges = append(judges, m)
		if r, ok := g.reach[m.name]; !ok || g.now().Sub(r.at) >= guardFresh {
			stale = append(stale, m)
		}
	}
	g.run(ctx, stale)
	for _, m := range judges {
		if g.reach[m.name].ok {
			return false
		}
	}
	return len(judges) > 0
}

// run checks members at once. The caller holds mu.
func (g *guard) run(ctx context.Context, members []guardMember) {
	if len(members) == 0 {
		return
	}
	type verdict struct {
		name string
		ok   bool
	}
	results := make(chan verdict, len(members))
	for _, m := range members {
		go func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.timeout)
			defer cancel()
			st := m.mon.Check(cctx).Status
			results <- verdict{m.name, st == monitors.StatusUp || st == monitors.StatusDegraded}
		}()
	}
	if g.reach == nil {
		g.reach = make(map[string]reachAt, len(g.members))
	}
	got := make(map[string]bool, len(members))
	for range members {
		v := <-results
		got[v.name] = v.ok
	}
	at := g.now()
	for name, ok := range got {
		g.reach[name] = reachAt{ok: ok, at: at}
	}
}
