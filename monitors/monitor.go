package monitors

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/statussync/statussync/config"
)

// Status is a monitor's verdict on one check.
type Status int

// Statuses. Unknown means "no new information" (a failed ClouDNS poll,
// statussync's own network down): the engine neither advances nor resets
// its counters on it, and never treats it as down.
const (
	StatusUnknown Status = iota
	StatusUp
	StatusDegraded
	StatusDown
)

var statusNames = [StatusCount]string{"unknown", "up", "degraded", "down"}

// StatusCount is the number of Status values, for arrays indexed by Status.
const StatusCount = 4

func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return fmt.Sprintf("status(%d)", int(s))
	}
	return statusNames[s]
}

// Detail is one line of debugging output about a check, e.g. a phase
// timing, a certificate's expiry or the assertion that failed.
type Detail struct {
	Key   string
	Value string
}

// Result is the outcome of one check.
type Result struct {
	Status  Status
	Latency time.Duration
	// ObservedAt is when the evidence of this result was observed: the
	// start of the check for kinds that look for themselves, the start of
	// the poll for kinds that read a shared poller's snapshot. The engine
	// counts one observation once: a result whose ObservedAt is not later
	// than the last one it counted for the monitor moves nothing. New sets
	// it to the check's start when a kind leaves it zero.
	ObservedAt time.Time
	// Reason is short and safe to publish on the status page: never a
	// response body or an address the configuration did not name.
	Reason string
	// Err is the underlying error, for logs; it may name internal addresses.
	Err error
	// Details are for `statussync probe` and debug logs, in reading order:
	// what was probed, phase timings, what came back, certificates, then
	// the assertion that failed and the error.
	Details []Detail

	// sample holds the kind's probe metrics (blackbox's probe_* gauges),
	// recorded by the instrumented wrapper.
	sample *sample
}

// Monitor checks one thing. Check must honour ctx's deadline, which is the
// monitor's timeout, and must not panic on any input.
type Monitor interface {
	Check(ctx context.Context) Result
}

// Deps are the shared things a monitor may need, built once per process
// (or per configuration, for pollers) and passed to every constructor.
type Deps struct {
	Logger *slog.Logger
	// Metrics receives every check's metrics; nil records none.
	Metrics *Metrics
	// CloudNS is the shared ClouDNS poller; cloudns monitors need it.
	CloudNS *CloudNSPoller
}

// New builds the monitor a spec describes, wrapped so that every kind
// records the same common metrics and applies degraded_latency the same way.
func New(spec config.MonitorSpec, deps Deps) (Monitor, error) {
	ctor, ok := registry[spec.Kind]
	if !ok {
		return nil, fmt.Errorf("monitor %q: unknown kind %q", spec.Name, spec.Kind)
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	deps.Logger = slog.New(&monitorHandler{base: deps.Logger.Handler(), name: spec.Name, kind: spec.Kind})
	m, err := ctor(spec, deps)
	if err != nil {
		return nil, fmt.Errorf("monitor %q: %w", spec.Name, err)
	}
	return &instrumented{name: spec.Name, kind: spec.Kind, degradedLatency: spec.DegradedLatency, inner: m, metrics: deps.Metrics}, nil
}

// instrumented applies what is common to all kinds around a kind's Check.
type instrumented struct {
	// Only what Check needs of the spec: a copy of the whole of it per
	// monitor was ~2.5 MB at 10,000 monitors.
	name, kind      string
	degradedLatency time.Duration
	inner           Monitor
	metrics         *Metrics
}

func (m *instrumented) Check(ctx context.Context) Result {
	start := time.Now()
	r := m.inner.Check(ctx)
	if r.ObservedAt.IsZero() {
		r.ObservedAt = start
	}
	if r.Latency == 0 {
		r.Latency = time.Since(start)
	}
	if r.Status == StatusUp && m.degradedLatency > 0 && r.Latency > m.degradedLatency {
		r.Status = StatusDegraded
		r.Reason = fmt.Sprintf("slow: %s over %s", r.Latency.Round(time.Millisecond), m.degradedLatency)
		r.Details = append(r.Details, Detail{Key: "degraded", Value: r.Reason})
	}
	m.metrics.observeAs(m.name, m.kind, r, time.Since(start))
	return r
}

// monitorHandler adds a monitor's name and kind to its records, as
// Logger.With would, but builds that handler only when a record is logged:
// a With per monitor (slog pre-formats the attributes) was ~1.5 MB at
// 10,000 monitors, for logs that scheduled checks rarely write.
type monitorHandler struct {
	base       slog.Handler
	name, kind string
}

func (h *monitorHandler) attrs() []slog.Attr {
	return []slog.Attr{slog.String("monitor", h.name), slog.String("kind", h.kind)}
}

func (h *monitorHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.base.Enabled(ctx, l)
}

func (h *monitorHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.base.WithAttrs(h.attrs()).Handle(ctx, r)
}

func (h *monitorHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return h.base.WithAttrs(h.attrs()).WithAttrs(as)
}

func (h *monitorHandler) WithGroup(name string) slog.Handler {
	return h.base.WithAttrs(h.attrs()).WithGroup(name)
}
