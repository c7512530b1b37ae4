package cachet

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/statussync/statussync/internal/apiclient"
)

// ErrUnsupported is returned (wrapped) when a call needs something the
// Cachet it talks to cannot do, for example a metadata filter on a core
// older than 2026-07-13. Test with errors.Is.
var ErrUnsupported = errors.New("not supported by this cachet")

// Capabilities are what the Cachet behind a Client can do, learned from its
// answers. Every Cachet 3 build reports "3.x-dev" as its version, so there
// is nothing else to go by (reference §9.1).
type Capabilities struct {
	// Meta: include=meta and filter[meta][...] are accepted on incidents,
	// schedules and components, and meta sent with a create is stored
	// (core a9efba4b, 2026-07-13, and later). Without it statussync must
	// recognise its incidents by another mark.
	Meta bool
	// IncidentComponents: include=components is accepted on incidents, so
	// that a listing tells which components each incident impacts. The
	// 2024-10 core allows only include=updates; there the incident's
	// component_id attribute is all there is.
	IncidentComponents bool
	// ScheduleStatusFilter: filter[status] on /schedules works. Cores from
	// 2024-11-24 to 2025-02-24 answer it with a 500 (an SQL error); the
	// client then lists every schedule and filters itself.
	ScheduleStatusFilter bool
	// Detected is false until one detection succeeded; until then the
	// client assumes the newest behaviour and falls back on refusal.
	Detected bool
}

// capabilityNames are the label values of statussync_cachet_capability.
var capabilityNames = []string{"meta", "incident_components", "schedule_status_filter"}

func (c Capabilities) values() []bool {
	return []bool{c.Meta, c.IncidentComponents, c.ScheduleStatusFilter}
}

// redetectAfter is how long a detection holds before the next call asks
// again, so that an upgraded Cachet is noticed.
const redetectAfter = time.Hour

// capState holds what the client learned. One mutex guards all of it;
// detection itself runs outside the lock (single flight through
// detecting).
type capState struct {
	mu         sync.Mutex
	caps       Capabilities
	detectedAt time.Time
	detecting  chan struct{} // non-nil while a detection runs
	logged     bool
	gauge      *prometheus.GaugeVec
}

func newCapState(reg prometheus.Registerer) (*capState, error) {
	cs := &capState{caps: Capabilities{Meta: true, IncidentComponents: true, ScheduleStatusFilter: true}}
	if reg == nil {
		return cs, nil
	}
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace,
		Subsystem: "cachet",
		Name:      "capability",
		Help:      "What the Cachet API was found to support (1) or not (0), learned from its answers: meta, incident_components, schedule_status_filter.",
	}, []string{"name"})
	g, err := apiclient.RegisterOrReuse(reg, g)
	if err != nil {
		return nil, err
	}
	cs.gauge = g
	return cs, nil
}

// Capabilities returns what the client knows about the server, detecting
// it first when it never did or the last detection is over an hour old.
// A detection that fails (Cachet unreachable) returns the error together
// with the assumed capabilities, which callers may use.
func (c *Client) Capabilities(ctx context.Context) (Capabilities, error) {
	cs := c.caps
	cs.mu.Lock()
	fresh := cs.caps.Detected && time.Since(cs.detectedAt) < redetectAfter
	caps := cs.caps
	cs.mu.Unlock()
	if fresh {
		return caps, nil
	}
	return c.DetectCapabilities(ctx)
}

// KnownCapabilities returns what the client currently assumes, without
// asking the server.
func (c *Client) KnownCapabilities() Capabilities {
	c.caps.mu.Lock()
	defer c.caps.mu.Unlock()
	return c.caps.caps
}

// DetectCapabilities asks the server now, with at most three small reads
// (per_page=1), and logs the result at info level when it differs from
// what was logged before.
func (c *Client) DetectCapabilities(ctx context.Context) (Capabilities, error) {
	cs := c.caps
	cs.mu.Lock()
	if wait := cs.detecting; wait != nil {
		cs.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return c.KnownCapabilities(), ctx.Err()
		}
		return c.KnownCapabilities(), nil
	}
	done := make(chan struct{})
	cs.detecting = done
	cs.mu.Unlock()
	defer func() {
		cs.mu.Lock()
		cs.detecting = nil
		cs.mu.Unlock()
		close(done)
	}()

	caps := Capabilities{Detected: true}
	probe := func(path string, q url.Values) (bool, error) {
		q.Set("per_page", "1")
		_, err := c.do(ctx, apiRequest{op: opDetect, method: http.MethodGet, path: path, query: q, once: true})
		switch {
		case err == nil:
			return true, nil
		case IsStatus(err, http.StatusBadRequest), IsStatus(err, http.StatusInternalServerError):
			return false, nil
		default:
			return false, err
		}
	}
	ok, err := probe("/incidents", url.Values{"include": {"components,meta"}, "filter[meta][statussync_probe]": {"1a"}})
	if err != nil {
		return c.KnownCapabilities(), err
	}
	if ok {
		caps.Meta, caps.IncidentComponents = true, true
	} else {
		if caps.IncidentComponents, err = probe("/incidents", url.Values{"include": {"components"}}); err != nil {
			return c.KnownCapabilities(), err
		}
		if caps.Meta, err = probe("/incidents", url.Values{"include": {"meta"}}); err != nil {
			return c.KnownCapabilities(), err
		}
	}
	if caps.ScheduleStatusFilter, err = probe("/schedules", url.Values{"filter[status]": {"1"}}); err != nil {
		return c.KnownCapabilities(), err
	}
	c.setCapabilities(caps, "detected")
	return caps, nil
}

// lose records that an answer contradicted a capability (a 400 for an
// include or a filter the client thought allowed). It is logged like a
// detection.
func (c *Client) lose(update func(*Capabilities)) {
	caps := c.KnownCapabilities()
	update(&caps)
	c.setCapabilities(caps, "refused")
}

func (c *Client) setCapabilities(caps Capabilities, how string) {
	cs := c.caps
	cs.mu.Lock()
	changed := !cs.logged || cs.caps.Meta != caps.Meta || cs.caps.IncidentComponents != caps.IncidentComponents ||
		cs.caps.ScheduleStatusFilter != caps.ScheduleStatusFilter
	if how == "detected" {
		cs.detectedAt = time.Now()
	} else {
		caps.Detected = cs.caps.Detected
	}
	cs.caps = caps
	cs.logged = true
	cs.mu.Unlock()
	if cs.gauge != nil {
		for i, v := range caps.values() {
			f := 0.0
			if v {
				f = 1
			}
			cs.gauge.WithLabelValues(capabilityNames[i]).Set(f)
		}
	}
	if changed {
		c.log.Info("cachet capabilities", "how", how, "meta", caps.Meta,
			"incident_components", caps.IncidentComponents, "schedule_status_filter", caps.ScheduleStatusFilter)
	}
}
