package engine

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/statussync/statussync/config"
)

const namespace = "statussync"

// Metrics are the engine's metrics. They outlive reloads: create them once
// per registry.
type Metrics struct {
	lateness prometheus.Histogram
	panics   *prometheus.CounterVec
	skips    *prometheus.CounterVec

	monitorTransitions   *prometheus.CounterVec
	monitorsByState      *prometheus.GaugeVec
	componentTransitions *prometheus.CounterVec
	desiredStatus        *prometheus.GaugeVec
	observedStatus       *prometheus.GaugeVec
	writes               *prometheus.CounterVec
	reconcileErrors      prometheus.Counter
	reconcileLastSuccess prometheus.Gauge
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
		panics: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "monitor_panics_total",
			Help:      "Monitor runs that panicked and were recovered.",
		}, []string{"monitor"}),
		skips: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "monitor_runs_skipped_total",
			Help:      "Monitor runs skipped because the previous run was still going.",
		}, []string{"monitor"}),
		monitorTransitions: f.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "monitor_transitions_total",
			Help:      "Changes of a monitor's decided state, by the state it changed to.",
		}, []string{"monitor", "to"}),
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
			Help:      "Reconcile passes that met an error; the pass is retried with backoff.",
		}),
		reconcileLastSuccess: f.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace,
			Name:      "reconcile_last_success_timestamp_seconds",
			Help:      "When a reconcile pass last completed without error.",
		}),
	}
}

// init resets per-monitor series to the configured monitors.
func (m *Metrics) init(cfg *config.Config) {
	m.panics.Reset()
	m.skips.Reset()
	m.monitorTransitions.Reset()
	m.componentTransitions.Reset()
	m.desiredStatus.Reset()
	m.observedStatus.Reset()
	for _, s := range cfg.Monitors {
		m.panics.WithLabelValues(s.Name)
		m.skips.WithLabelValues(s.Name)
	}
	for _, c := range cfg.Components {
		m.desiredStatus.WithLabelValues(c.Name)
		m.observedStatus.WithLabelValues(c.Name)
	}
	for _, k := range []string{"component_status", "incident_create", "incident_update", "metric_point", "metric_create"} {
		m.writes.WithLabelValues(k)
	}
}
