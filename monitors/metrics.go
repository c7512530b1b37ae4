package monitors

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/statussync/statussync/config"
)

// family is one probe gauge: blackbox_exporter's name and meaning, with an
// optional extra label (phase, version, cipher) after the monitor's labels.
type family struct {
	name  string
	help  string
	extra string
}

// probeFamilies are the per-check gauges, named and meant as blackbox's.
// Blackbox builds a fresh registry per probe, so a metric a probe did not
// set is absent; observe mirrors that by deleting the series a monitor's
// previous check set and this one did not.
var probeFamilies = []family{
	{name: "probe_dns_lookup_time_seconds", help: "Returns the time taken for probe dns lookup in seconds"},
	{name: "probe_ip_protocol", help: "Specifies whether probe ip protocol is IP4 or IP6"},
	{name: "probe_ip_addr_hash", help: "Specifies the hash of IP address. It's useful to detect if the IP address changes."},
	{name: "probe_failed_due_to_regex", help: "Indicates if probe failed due to regex"},
	{name: "probe_http_duration_seconds", help: "Duration of http request by phase, summed over all redirects", extra: "phase"},
	{name: "probe_http_status_code", help: "Response HTTP status code"},
	{name: "probe_http_content_length", help: "Length of http content response"},
	{name: "probe_http_uncompressed_body_length", help: "Length of uncompressed response body"},
	{name: "probe_http_redirects", help: "The number of redirects"},
	{name: "probe_http_ssl", help: "Indicates if SSL was used for the final redirect"},
	{name: "probe_http_version", help: "Returns the version of HTTP of the probe response"},
	{name: "probe_http_last_modified_timestamp_seconds", help: "Returns the Last-Modified HTTP response header in unixtime"},
	{name: "probe_ssl_earliest_cert_expiry", help: "Returns earliest SSL cert expiry in unixtime"},
	{name: "probe_ssl_last_chain_expiry_timestamp_seconds", help: "Returns last SSL chain expiry in timestamp seconds"},
	{name: "probe_tls_version_info", help: "Returns the TLS version used or NaN when unknown", extra: "version"},
	{name: "probe_tls_cipher_info", help: "Returns the TLS cipher negotiated during handshake", extra: "cipher"},
	{name: "probe_dns_duration_seconds", help: "Duration of DNS request by phase", extra: "phase"},
	{name: "probe_dns_answer_rrs", help: "Returns number of entries in the answer resource record list"},
	{name: "probe_dns_authority_rrs", help: "Returns number of entries in the authority resource record list"},
	{name: "probe_dns_additional_rrs", help: "Returns number of entries in the additional resource record list"},
	{name: "probe_dns_query_succeeded", help: "Displays whether or not the query was executed successfully"},
	{name: "probe_dns_serial", help: "Returns the serial number of the zone"},
}

// Metrics are the probe metrics of all monitors. Create them once per
// registry with NewMetrics and call Init after every (re)load so that
// removed monitors' series disappear.
//
// Every series has the label monitor plus the monitors' static labels:
// Prometheus needs one label-name set per metric, so the names are monitor
// and the sorted union of all monitors' label keys, and a monitor without a
// key has it empty (which Prometheus treats as absent).
//
// A reload may change that union, and a vector's label names are fixed. A
// prometheus.Registry also remembers a name's label names for the life of
// the program, even after Unregister, so re-registering new vectors cannot
// work. Instead one unchecked collector (its Describe sends nothing) is
// registered once and collects whichever vectors are current; Init builds
// new vectors when the union changes and only resets them otherwise. The
// cost of unchecked: a clash with another collector's metric name shows at
// scrape time rather than at registration.
type Metrics struct {
	mu       sync.RWMutex
	static   []string // sorted static label names
	success  *prometheus.GaugeVec
	duration *prometheus.GaugeVec
	checks   *prometheus.CounterVec
	checkDur *prometheus.HistogramVec
	gauges   map[string]*prometheus.GaugeVec
	// written holds, per monitor, the probe series its last check set.
	written map[string][]seriesKey
}

// seriesKey names one probe series of a monitor.
type seriesKey struct {
	family string
	extra  string
}

// NewMetrics registers the probe metrics with reg (nil registers nothing).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{}
	m.build(nil)
	if reg != nil {
		reg.MustRegister(collector{m})
	}
	return m
}

// collector exposes the current vectors of m.
type collector struct{ m *Metrics }

// Describe sends nothing, which makes the collector unchecked: its label
// names follow the configuration and may change on reload.
func (collector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.RLock()
	defer c.m.mu.RUnlock()
	for _, col := range c.m.collectors() {
		col.Collect(ch)
	}
}

// build creates every vector with the given static label names. The caller
// holds mu or owns m exclusively.
func (m *Metrics) build(static []string) {
	m.static = static
	base := append([]string{"monitor"}, static...)
	m.success = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "probe_success",
		Help: "Displays whether or not the probe was a success",
	}, base)
	m.duration = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "probe_duration_seconds",
		Help: "Returns how long the probe took to complete in seconds",
	}, base)
	m.checks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "statussync_monitor_checks_total",
		Help: "Checks run, by monitor and result (up, degraded, down, unknown).",
	}, append(slices.Clone(base), "result"))
	m.checkDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "statussync_monitor_check_duration_seconds",
		Help:    "Duration of checks, in seconds.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
	}, base)
	m.gauges = make(map[string]*prometheus.GaugeVec, len(probeFamilies))
	for _, f := range probeFamilies {
		m.gauges[f.name] = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: f.name, Help: f.help}, familyLabels(base, f.extra))
	}
	m.written = map[string][]seriesKey{}
}

// familyLabels appends a family's extra label, dropping a static label of
// the same name (config reserves the common ones; this keeps an unreserved
// clash from panicking).
func familyLabels(base []string, extra string) []string {
	if extra == "" {
		return base
	}
	out := slices.DeleteFunc(slices.Clone(base), func(l string) bool { return l == extra })
	return append(out, extra)
}

func (m *Metrics) collectors() []prometheus.Collector {
	cs := []prometheus.Collector{m.success, m.duration, m.checks, m.checkDur}
	for _, f := range probeFamilies {
		cs = append(cs, m.gauges[f.name])
	}
	return cs
}

// Init resets every series and pre-creates those of the configured
// monitors, so that a reload drops removed monitors and new ones show up
// before their first check.
func (m *Metrics) Init(specs []config.MonitorSpec) {
	if m == nil {
		return
	}
	keys := map[string]bool{}
	for _, s := range specs {
		for k := range s.Labels {
			keys[k] = true
		}
	}
	static := slices.Sorted(maps.Keys(keys))

	m.mu.Lock()
	defer m.mu.Unlock()
	if slices.Equal(static, m.static) {
		for _, c := range m.collectors() {
			c.(interface{ Reset() }).Reset()
		}
		m.written = map[string][]seriesKey{}
	} else {
		m.build(static)
	}
	for _, s := range specs {
		lv := m.labelValues(s)
		for _, st := range statusNames {
			m.checks.WithLabelValues(append(slices.Clone(lv), st)...)
		}
		m.checkDur.WithLabelValues(lv...)
	}
}

// labelValues returns monitor and the static label values of spec, in the
// order of m.static. The caller holds mu.
func (m *Metrics) labelValues(spec config.MonitorSpec) []string {
	lv := make([]string, 0, 1+len(m.static))
	lv = append(lv, spec.Name)
	for _, k := range m.static {
		lv = append(lv, spec.Labels[k])
	}
	return lv
}

// familyValues is labelValues for a family with an extra label.
func (m *Metrics) familyValues(lv []string, f family, extra string) []string {
	if f.extra == "" {
		return lv
	}
	out := make([]string, 0, len(lv)+1)
	out = append(out, lv[0])
	for i, k := range m.static {
		if k != f.extra {
			out = append(out, lv[i+1])
		}
	}
	return append(out, extra)
}

func (m *Metrics) observe(spec config.MonitorSpec, r Result, took time.Duration) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	lv := m.labelValues(spec)
	ok := 0.0
	if r.Status == StatusUp || r.Status == StatusDegraded {
		ok = 1
	}
	// Unknown is no new information (a failed ClouDNS poll, a guarded
	// failure): probe_success keeps its last value rather than reporting a
	// failure nobody observed.
	if r.Status != StatusUnknown {
		m.success.WithLabelValues(lv...).Set(ok)
	}
	m.duration.WithLabelValues(lv...).Set(took.Seconds())
	m.checks.WithLabelValues(append(slices.Clone(lv), r.Status.String())...).Inc()
	m.checkDur.WithLabelValues(lv...).Observe(took.Seconds())

	var now []seriesKey
	if r.sample != nil {
		for _, p := range r.sample.points {
			f, ok := familyByName[p.family]
			if !ok {
				continue
			}
			m.gauges[f.name].WithLabelValues(m.familyValues(lv, f, p.extra)...).Set(p.value)
			now = append(now, seriesKey{family: p.family, extra: p.extra})
		}
	}
	// Set first, then delete what this check no longer reports, so a
	// scrape never sees a series missing that is still current.
	for _, k := range m.written[spec.Name] {
		if !slices.Contains(now, k) {
			f := familyByName[k.family]
			m.gauges[f.name].DeleteLabelValues(m.familyValues(lv, f, k.extra)...)
		}
	}
	m.written[spec.Name] = now
}

var familyByName = func() map[string]family {
	out := make(map[string]family, len(probeFamilies))
	for _, f := range probeFamilies {
		out[f.name] = f
	}
	return out
}()

// sample is what one check measured for the probe gauges.
type sample struct {
	points []point
}

type point struct {
	family string
	extra  string
	value  float64
}

// set sets a gauge without extra label, replacing an earlier value.
func (s *sample) set(family string, v float64) { s.setLabel(family, "", v) }

// setLabel sets a gauge's series with the given extra label value.
func (s *sample) setLabel(family, extra string, v float64) {
	for i := range s.points {
		if s.points[i].family == family && s.points[i].extra == extra {
			s.points[i].value = v
			return
		}
	}
	s.points = append(s.points, point{family: family, extra: extra, value: v})
}

// value returns a point's value, for tests and details.
func (s *sample) value(family, extra string) (float64, bool) {
	for _, p := range s.points {
		if p.family == family && p.extra == extra {
			return p.value, true
		}
	}
	return 0, false
}
