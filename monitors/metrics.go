package monitors

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/statussync/statussync/config"
)

// Metrics are the probe metrics of all monitors. Create them once per
// registry with NewMetrics and call Init after every (re)load so that
// removed monitors' series disappear.
type Metrics struct {
	success  *prometheus.GaugeVec
	duration *prometheus.GaugeVec
	checks   *prometheus.CounterVec
	checkDur *prometheus.HistogramVec
}

// NewMetrics registers the probe metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		success: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "probe_success",
			Help: "Whether the last check succeeded (1) or failed (0), as blackbox_exporter's probe_success.",
		}, []string{"monitor"}),
		duration: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "probe_duration_seconds",
			Help: "How long the last check took, in seconds.",
		}, []string{"monitor"}),
		checks: f.NewCounterVec(prometheus.CounterOpts{
			Name: "statussync_monitor_checks_total",
			Help: "Checks run, by monitor and result (up, degraded, down, unknown).",
		}, []string{"monitor", "result"}),
		checkDur: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "statussync_monitor_check_duration_seconds",
			Help:    "Duration of checks, in seconds.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}, []string{"monitor"}),
	}
}

// Init resets every series and pre-creates those of the configured
// monitors, so that a reload drops removed monitors and new ones show up
// before their first check.
func (m *Metrics) Init(specs []config.MonitorSpec) {
	if m == nil {
		return
	}
	m.success.Reset()
	m.duration.Reset()
	m.checks.Reset()
	m.checkDur.Reset()
	for _, s := range specs {
		for _, st := range statusNames {
			m.checks.WithLabelValues(s.Name, st)
		}
		m.checkDur.WithLabelValues(s.Name)
	}
}

func (m *Metrics) observe(spec config.MonitorSpec, r Result, took time.Duration) {
	if m == nil {
		return
	}
	ok := 0.0
	if r.Status == StatusUp || r.Status == StatusDegraded {
		ok = 1
	}
	m.success.WithLabelValues(spec.Name).Set(ok)
	m.duration.WithLabelValues(spec.Name).Set(took.Seconds())
	m.checks.WithLabelValues(spec.Name, r.Status.String()).Inc()
	m.checkDur.WithLabelValues(spec.Name).Observe(took.Seconds())
}
