package cachet

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/statussync/statussync/internal/apiclient"
)

const namespace = "statussync"

// instrumentation holds the client's Prometheus collectors. Every attempt
// (not only the final outcome of a call) is counted, so retries show up.
type instrumentation struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// newInstrumentation registers the collectors with reg. Clients are rebuilt
// on every configuration reload with the same registry, so a collector that
// is already registered is reused instead of failing or panicking. A nil
// reg disables metrics.
func newInstrumentation(reg prometheus.Registerer) (*instrumentation, error) {
	if reg == nil {
		return nil, nil
	}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace,
		Subsystem: "cachet",
		Name:      "requests_total",
		Help:      "HTTP requests sent to the Cachet API, by client operation and HTTP status code (\"error\" when no response arrived). Retries count separately.",
	}, []string{"operation", "code"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace,
		Subsystem: "cachet",
		Name:      "request_duration_seconds",
		Help:      "Duration of HTTP requests to the Cachet API by client operation, excluding rate-limit and retry waits.",
		Buckets:   []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"operation"})

	var err error
	if requests, err = apiclient.RegisterOrReuse(reg, requests); err != nil {
		return nil, err
	}
	if duration, err = apiclient.RegisterOrReuse(reg, duration); err != nil {
		return nil, err
	}
	return &instrumentation{requests: requests, duration: duration}, nil
}

// observe records one attempt. status 0 means no response arrived.
func (m *instrumentation) observe(op operation, status int, d time.Duration) {
	if m == nil {
		return
	}
	code := "error"
	if status > 0 {
		code = strconv.Itoa(status)
	}
	m.requests.WithLabelValues(op.name, code).Inc()
	m.duration.WithLabelValues(op.name).Observe(d.Seconds())
}
