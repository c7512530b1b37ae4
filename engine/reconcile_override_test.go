package engine

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/internal/testkit"
)

// #15 point 4: a manual status is respected for at most
// ManualOverrideMax, counted from when the page says the person changed
// it, so a restart (a new term) neither resets nor forgets the count; 0
// respects it until the desired state changes.
func TestManualOverrideIsBounded(t *testing.T) {
	p := newMemPage()
	p.records = true
	p.addComponent(1, "GitLab", ComponentOperational)
	c := spec(t, "GitLab", 1, false)
	logs := &testkit.SyncBuffer{}
	// term starts a new process (a new writer term, no memory) with the
	// bound given; the desired state is the same major outage each time.
	term := func(bound time.Duration) *recHarness {
		h := &recHarness{t: t, page: p, cfg: ReconcilerConfig{
			Page: p, Components: []config.ComponentSpec{c}, ResyncInterval: time.Hour, RespectManualChanges: true,
			ManualOverrideMax: bound,
			MinBackoff:        10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond, MaintenanceMaxAge: 20 * time.Millisecond,
		}}
		h.rec = NewReconciler(ReconcilerDeps{Logger: slog.New(slog.NewTextHandler(logs, nil))})
		h.rec.Configure(h.cfg)
		h.start()
		h.desire(c, ComponentMajorOutage)
		return h
	}
	const expired = "respected for cachet.manual_override_max"

	h := term(time.Hour)
	h.eventually("written", func() bool { return p.status(1) == ComponentMajorOutage })
	// A person sets it operational; half an hour later statussync restarts.
	p.humanStatus(1, ComponentOperational, false)
	p.changedAt(1, time.Now().Add(-30*time.Minute))
	h.stop()
	h = term(time.Hour)
	h.settle()
	if s := p.status(1); s != ComponentOperational {
		t.Fatalf("a manual status 30m old, bound 1h, was overwritten: %s", s)
	}
	// Two hours after the person's change, a new term: the bound is over.
	p.changedAt(1, time.Now().Add(-2*time.Hour))
	h.stop()
	h = term(time.Hour)
	h.eventually("desired status written after the bound", func() bool { return p.status(1) == ComponentMajorOutage })
	h.settle()
	if n := strings.Count(logs.String(), expired); n != 1 {
		t.Errorf("the end of the override logged %d times, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "component=GitLab") || !strings.Contains(logs.String(), "respected_for=2h0m0s") {
		t.Errorf("the log does not name the component and how long:\n%s", logs.String())
	}

	// Within one term, the bound running out wakes the writer (the next
	// resync is an hour away).
	p.humanStatus(1, ComponentOperational, false)
	p.changedAt(1, time.Now().Add(-time.Hour+1500*time.Millisecond))
	h.stop()
	h = term(time.Hour)
	h.settle()
	if s := p.status(1); s != ComponentOperational {
		t.Fatalf("overwritten before the bound: %s", s)
	}
	h.eventually("written when the bound ran out", func() bool { return p.status(1) == ComponentMajorOutage })

	// A page that gives no time: counted from when this term saw it.
	p.humanStatus(1, ComponentOperational, false)
	p.changedAt(1, time.Time{})
	h.stop()
	h = term(1500 * time.Millisecond)
	h.settle()
	if s := p.status(1); s != ComponentOperational {
		t.Fatalf("no updated_at: overwritten at once: %s", s)
	}
	h.eventually("no updated_at: written after the bound", func() bool { return p.status(1) == ComponentMajorOutage })

	// 0: respected however old, until the desired state changes.
	p.humanStatus(1, ComponentOperational, false)
	p.changedAt(1, time.Now().Add(-48*time.Hour))
	h.stop()
	h = term(0)
	h.settle()
	if s := p.status(1); s != ComponentOperational {
		t.Fatalf("bound 0 overwrote a manual status: %s", s)
	}
	h.desire(c, ComponentPartialOutage)
	h.eventually("new desired state written", func() bool { return p.status(1) == ComponentPartialOutage })
}
