package engine

import (
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/monitors"
)

const namespace = "statussync"

// Metrics are the engine's metrics. They outlive reloads: create them once
// per registry.
type Metrics struct {
	lateness prometheus.Histogram
	// runs renders statussync_monitor_panics_total and
	// statussync_monitor_runs_skipped_total from the running schedule.
	runs *runCounters

	// transitions renders statussync_monitor_transitions_total from the
	// applied monitors' counts.
	transitions          *transitionCounters
	monitorsByState      *prometheus.GaugeVec
	componentTransitions *prometheus.CounterVec
	desiredStatus        *prometheus.GaugeVec
	observedStatus       *prometheus.GaugeVec
	writes               *prometheus.CounterVec
	reconcileErrors      prometheus.Counter
	reconcileLastSuccess prometheus.Gauge
	maintenanceUnknown   prometheus.Gauge

	// scrape is set by NewScrapeMetrics: runs and transitions are not
	// collectors of the registry but Families.
	scrape bool
}

// NewMetrics registers the engine's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := newMetrics(reg)
	if reg != nil {
		reg.MustRegister(m.runs, m.transitions)
	}
	return m
}

// NewScrapeMetrics is NewMetrics for a /metrics handler built with
// monitors' Handler and these Metrics as a monitors.FamilySource: the
// per-monitor families (statussync_monitor_panics_total,
// statussync_monitor_runs_skipped_total and
// statussync_monitor_transitions_total, ~30,000 series at 10,000
// monitors) are not registered with reg but written directly at scrape
// time, which spares a Registry's per-series checks, sorting and dto.
func NewScrapeMetrics(reg prometheus.Registerer) *Metrics {
	m := newMetrics(reg)
	m.scrape = true
	return m
}

var _ monitors.FamilySource = (*Metrics)(nil)

// Families implements monitors.FamilySource: the per-monitor families of
// Metrics made by NewScrapeMetrics, for one scrape. Those of NewMetrics are
// in its registry, so it returns none.
func (m *Metrics) Families() []monitors.Family {
	if m == nil || !m.scrape {
		return nil
	}
	return append(m.runs.families(), m.transitions.family())
}

func newMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		lateness: f.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "scheduler_lateness_seconds",
			Help:      "How late monitor runs start relative to when they were due.",
			Buckets:   []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		runs:        newRunCounters(),
		transitions: newTransitionCounters(),
		monitorsByState: f.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace,
			Name:      "monitors",
			Help:      "Monitors by decided state (up, degraded, down, unknown).",
		}, []string{"state"}),
		componentTransitions: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "component_transitions_total",
			Help:      "Changes of a component's desired state, by the state it changed to.",
		}, []string{"component", "to"}),
		desiredStatus: f.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace,
			Name:      "component_desired_status",
			Help:      "The status statussync wants the page to show: 1 operational, 2 performance issues, 3 partial outage, 4 major outage (Cachet's values); 0 not decided yet.",
		}, []string{"component"}),
		observedStatus: f.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace,
			Name:      "component_observed_status",
			Help:      "The status Cachet showed when last read (1-6 as Cachet: 5 unknown, 6 under maintenance); 0 not read yet.",
		}, []string{"component"}),
		writes: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "cachet_writes_total",
			Help:      "Writes to Cachet, by kind (component_status, incident_create, incident_update, metric_point, metric_create).",
		}, []string{"kind"}),
		reconcileErrors: f.NewCounter(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "reconcile_errors_total",
			Help:      "Failed attempts to reconcile a component, a metric or the page listing; each is retried with its own backoff.",
		}),
		reconcileLastSuccess: f.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace,
			Name:      "reconcile_last_success_timestamp_seconds",
			Help:      "When a reconcile pass last completed without error.",
		}),
		maintenanceUnknown: f.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace,
			Name:      "cachet_maintenance_unknown",
			Help:      "1 while Cachet's maintenance windows cannot be read: statuses are written only for components not known to be under maintenance.",
		}),
	}
}

// init resets per-monitor series to the configured monitors.
func (m *Metrics) init(cfg *config.Config) {
	m.componentTransitions.Reset()
	m.desiredStatus.Reset()
	m.observedStatus.Reset()
	for _, c := range cfg.Components {
		m.desiredStatus.WithLabelValues(c.Name)
		m.observedStatus.WithLabelValues(c.Name)
	}
	for _, k := range []string{"component_status", "incident_create", "incident_update", "metric_point", "metric_create"} {
		m.writes.WithLabelValues(k)
	}
}

// runCounters exposes each scheduled job's panic and skip counts, read at
// scrape time from the running schedule: two live counters per monitor
// were ~17 MB at 10,000 monitors. A reload's new schedule starts them at
// zero, for exactly the configured monitors.
type runCounters struct {
	panics, skips *prometheus.Desc
	byName[*entry]
}

// byName holds the entries a scrape-time family renders, sorted by name
// when they are shown (at start and on reload), as a Registry sorts the
// series, so that a scrape never sorts.
type byName[T any] struct {
	mu      sync.Mutex
	entries []T
}

func (b *byName[T]) set(entries []T, name func(T) string) {
	sorted := slices.Clone(entries)
	slices.SortStableFunc(sorted, func(x, y T) int { return strings.Compare(name(x), name(y)) })
	b.mu.Lock()
	b.entries = sorted
	b.mu.Unlock()
}

func (b *byName[T]) shown() []T {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.entries
}

const (
	panicsName = namespace + "_monitor_panics_total"
	panicsHelp = "Monitor runs that panicked and were recovered."
	skipsName  = namespace + "_monitor_runs_skipped_total"
	skipsHelp  = "Monitor runs skipped because the previous run was still going."
)

var monitorLabels = []string{"monitor"}

func newRunCounters() *runCounters {
	return &runCounters{
		panics: prometheus.NewDesc(panicsName, panicsHelp, monitorLabels, nil),
		skips:  prometheus.NewDesc(skipsName, skipsHelp, monitorLabels, nil),
	}
}

// show makes entries the ones exposed.
func (r *runCounters) show(entries []*entry) {
	r.set(entries, func(e *entry) string { return e.job.Name })
}

// Describe implements prometheus.Collector.
func (r *runCounters) Describe(ch chan<- *prometheus.Desc) {
	ch <- r.panics
	ch <- r.skips
}

// Collect implements prometheus.Collector.
func (r *runCounters) Collect(ch chan<- prometheus.Metric) {
	for _, e := range r.shown() {
		ch <- prometheus.MustNewConstMetric(r.panics, prometheus.CounterValue, float64(e.panics.Load()), e.job.Name)
		ch <- prometheus.MustNewConstMetric(r.skips, prometheus.CounterValue, float64(e.skips.Load()), e.job.Name)
	}
}

// families are the panic and skip families of the entries shown now.
func (r *runCounters) families() []monitors.Family {
	entries := r.shown()
	each := func(count func(*entry) uint64) func(func([]string, float64)) {
		return func(yield func([]string, float64)) {
			values := make([]string, 1)
			for _, e := range entries {
				values[0] = e.job.Name
				yield(values, float64(count(e)))
			}
		}
	}
	return []monitors.Family{
		{Name: panicsName, Help: panicsHelp, Counter: true, LabelNames: monitorLabels,
			Each: each(func(e *entry) uint64 { return e.panics.Load() })},
		{Name: skipsName, Help: skipsHelp, Counter: true, LabelNames: monitorLabels,
			Each: each(func(e *entry) uint64 { return e.skips.Load() })},
	}
}

// transitionCounters exposes each monitor's transition counts, read at
// scrape time from the engine's monitor entries rather than kept as a live
// counter per monitor and state (~5.5 MB at 10,000 monitors). Entries are
// new on every Apply, so a reload starts every count at zero, as the
// CounterVec's Reset did; a monitor has a series for a state only once it
// changed to it.
type transitionCounters struct {
	desc *prometheus.Desc
	byName[*monitorEntry]
}

const (
	transitionsName = namespace + "_monitor_transitions_total"
	transitionsHelp = "Changes of a monitor's decided state, by the state it changed to."
)

var transitionLabels = []string{"monitor", "to"}

// statusesByName are the Status values in the order of their names, the
// order of a monitor's transition series.
var statusesByName = func() []monitors.Status {
	out := make([]monitors.Status, monitors.StatusCount)
	for i := range out {
		out[i] = monitors.Status(i)
	}
	slices.SortFunc(out, func(a, b monitors.Status) int { return strings.Compare(a.String(), b.String()) })
	return out
}()

func newTransitionCounters() *transitionCounters {
	return &transitionCounters{desc: prometheus.NewDesc(transitionsName, transitionsHelp, transitionLabels, nil)}
}

// show makes entries the ones exposed.
func (t *transitionCounters) show(entries []*monitorEntry) {
	if t == nil {
		return
	}
	t.set(entries, func(e *monitorEntry) string { return e.spec.Name })
}

// Describe implements prometheus.Collector.
func (t *transitionCounters) Describe(ch chan<- *prometheus.Desc) { ch <- t.desc }

// Collect implements prometheus.Collector.
func (t *transitionCounters) Collect(ch chan<- prometheus.Metric) {
	t.each(t.shown(), func(values []string, v float64) {
		ch <- prometheus.MustNewConstMetric(t.desc, prometheus.CounterValue, v, values...)
	})
}

// each yields the entries' non-zero counts, in a Registry's order.
func (t *transitionCounters) each(entries []*monitorEntry, yield func([]string, float64)) {
	values := make([]string, 2)
	for _, e := range entries {
		for _, st := range statusesByName {
			if n := e.transitions[st].Load(); n > 0 {
				values[0], values[1] = e.spec.Name, st.String()
				yield(values, float64(n))
			}
		}
	}
}

// family is the transition family of the entries shown now.
func (t *transitionCounters) family() monitors.Family {
	entries := t.shown()
	return monitors.Family{Name: transitionsName, Help: transitionsHelp, Counter: true, LabelNames: transitionLabels,
		Each: func(yield func([]string, float64)) { t.each(entries, yield) }}
}
