package ha

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

const namespace = "statussync"

// metrics are one replica's view of its own leadership.
type metrics struct {
	leader      prometheus.Gauge
	transitions prometheus.Counter
	lastRenew   prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	return &metrics{
		leader: f.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace,
			Name:      "leader",
			Help:      "Whether this replica is the leader that writes to Cachet (1) or not (0).",
		}),
		transitions: f.NewCounter(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "leader_transitions_total",
			Help:      "Times this replica became or stopped being the leader.",
		}),
		lastRenew: f.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace,
			Name:      "leader_last_renew_timestamp_seconds",
			Help:      "When this replica last acquired or renewed the leader lease, as seconds since the Unix epoch.",
		}),
	}
}

func (m *metrics) setLeader(on bool) {
	m.transitions.Inc()
	if on {
		m.leader.Set(1)
	} else {
		m.leader.Set(0)
	}
}

func (m *metrics) renewed(t time.Time) {
	m.lastRenew.Set(float64(t.UnixNano()) / 1e9)
}
