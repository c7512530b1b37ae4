package cloudns

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/statussync/statussync/internal/apiclient"
)

const (
	namespace = "statussync"
	subsystem = "cloudns"
)

// Operation label values, one per endpoint family. They double as
// Error.Operation.
const (
	opLogin      = "login"
	opListChecks = "list_checks"
	opPageCount  = "page_count"
	opGetCheck   = "get_check"
)

var operations = []string{opLogin, opListChecks, opPageCount, opGetCheck}

// resultOK is the result label of a successful request; failures use
// ErrorKind.String.
const resultOK = "ok"

// metrics are per HTTP attempt, so retries show up as extra requests.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Subsystem: subsystem,
			Name:      "requests_total",
			Help:      "HTTP requests to the ClouDNS API by operation and result (ok or an error kind).",
		}, []string{"operation", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace,
			Subsystem: subsystem,
			Name:      "request_duration_seconds",
			Help:      "Duration of HTTP requests to the ClouDNS API, excluding rate-limiter waits.",
			Buckets:   prometheus.DefBuckets,
		}, []string{"operation"}),
	}
	var err error
	if m.requests, err = apiclient.RegisterOrReuse(reg, m.requests); err != nil {
		return nil, err
	}
	if m.duration, err = apiclient.RegisterOrReuse(reg, m.duration); err != nil {
		return nil, err
	}
	// Pre-create every series so that rate() and absent-based alerts work
	// before the first failure of each kind.
	for _, op := range operations {
		m.requests.WithLabelValues(op, resultOK)
		for k := range ErrorKind(len(kindNames)) {
			m.requests.WithLabelValues(op, k.String())
		}
		m.duration.WithLabelValues(op)
	}
	return m, nil
}

func (m *metrics) observe(op string, err error, d time.Duration) {
	result := resultOK
	if err != nil {
		result = KindOf(err).String()
	}
	m.requests.WithLabelValues(op, result).Inc()
	m.duration.WithLabelValues(op).Observe(d.Seconds())
}
