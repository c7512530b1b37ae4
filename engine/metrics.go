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
	}
}

// init resets per-monitor series to the configured monitors.
func (m *Metrics) init(specs []config.MonitorSpec) {
	m.panics.Reset()
	m.skips.Reset()
	for _, s := range specs {
		m.panics.WithLabelValues(s.Name)
		m.skips.WithLabelValues(s.Name)
	}
}
