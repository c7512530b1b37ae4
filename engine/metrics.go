package engine

import (
	"slices"
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
}

// NewMetrics registers the engine's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		lateness: f.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "scheduler_lateness_seconds",
			Help:      "How late monitor runs start relative to when they were due.",
			Buckets:   []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		runs:        newRunCounters(reg),
		transitions: newTransitionCounters(reg),
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
	mu            sync.Mutex
	entries       []*entry
}

func newRunCounters(reg prometheus.Registerer) *runCounters {
	r := &runCounters{
		panics: prometheus.NewDesc(namespace+"_monitor_panics_total", "Monitor runs that panicked and were recovered.", []string{"monitor"}, nil),
		skips:  prometheus.NewDesc(namespace+"_monitor_runs_skipped_total", "Monitor runs skipped because the previous run was still going.", []string{"monitor"}, nil),
	}
	if reg != nil {
		reg.MustRegister(r)
	}
	return r
}

// show makes entries the ones exposed.
func (r *runCounters) show(entries []*entry) {
	r.mu.Lock()
	r.entries = slices.Clone(entries)
	r.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (r *runCounters) Describe(ch chan<- *prometheus.Desc) {
	ch <- r.panics
	ch <- r.skips
}

// Collect implements prometheus.Collector.
func (r *runCounters) Collect(ch chan<- prometheus.Metric) {
	r.mu.Lock()
	entries := r.entries
	r.mu.Unlock()
	for _, e := range entries {
		ch <- prometheus.MustNewConstMetric(r.panics, prometheus.CounterValue, float64(e.panics.Load()), e.job.Name)
		ch <- prometheus.MustNewConstMetric(r.skips, prometheus.CounterValue, float64(e.skips.Load()), e.job.Name)
	}
}

// transitionCounters exposes each monitor's transition counts, read at
// scrape time from the engine's monitor entries rather than kept as a live
// counter per monitor and state (~5.5 MB at 10,000 monitors). Entries are
// new on every Apply, so a reload starts every count at zero, as the
// CounterVec's Reset did; a monitor has a series for a state only once it
// changed to it.
type transitionCounters struct {
	desc    *prometheus.Desc
	mu      sync.Mutex
	entries []*monitorEntry
}

func newTransitionCounters(reg prometheus.Registerer) *transitionCounters {
	t := &transitionCounters{
		desc: prometheus.NewDesc(namespace+"_monitor_transitions_total",
			"Changes of a monitor's decided state, by the state it changed to.", []string{"monitor", "to"}, nil),
	}
	if reg != nil {
		reg.MustRegister(t)
	}
	return t
}

// show makes entries (in configuration order) the ones exposed.
func (t *transitionCounters) show(entries []*monitorEntry) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.entries = entries
	t.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (t *transitionCounters) Describe(ch chan<- *prometheus.Desc) { ch <- t.desc }

// Collect implements prometheus.Collector.
func (t *transitionCounters) Collect(ch chan<- prometheus.Metric) {
	t.mu.Lock()
	entries := t.entries
	t.mu.Unlock()
	for _, e := range entries {
		for st := range e.transitions {
			if n := e.transitions[st].Load(); n > 0 {
				ch <- prometheus.MustNewConstMetric(t.desc, prometheus.CounterValue, float64(n), e.spec.Name, monitors.Status(st).String())
			}
		}
	}
}
