package monitors

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"

	"github.com/statussync/statussync/config"
)

// family is one probe gauge: blackbox_exporter's name and meaning, with an
// optional extra label (phase, version, cipher) after the monitor's labels.
type family struct {
	name  string
	help  string
	extra string
}

// The help texts of the series every monitor has (blackbox's for probe_*).
const (
	successHelp  = "Displays whether or not the probe was a success"
	durationHelp = "Returns how long the probe took to complete in seconds"
	checksHelp   = "Checks run, by monitor and result (up, degraded, down, unknown)."
)

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
// registry with NewMetrics and call Init after every (re)load.
//
// Nothing here is a live client_golang vector: each monitor has a compact
// record of its last result (a few hundred bytes), and one collector renders
// the probe_* series and the check counters from those records when
// /metrics is scraped, as node_exporter's collectors do. Checks only write
// their record; the cost of the series is paid per scrape, not per monitor
// in memory. Only statussync_monitor_check_duration_seconds is a real
// histogram, one per kind.
//
// Every probe series has the label monitor plus the monitors' static
// labels: Prometheus needs one label-name set per metric, so the names are
// monitor and the sorted union of all monitors' label keys, and a monitor
// without a key has it empty (which Prometheus treats as absent). The
// collector is unchecked (its Describe sends nothing), so that union may
// change on reload: a prometheus.Registry remembers a name's label names for
// the life of the program, even after Unregister. The cost of unchecked: a
// clash with another collector's metric name shows at scrape time rather
// than at registration.
type Metrics struct {
	mu     sync.RWMutex
	static []string // sorted static label names
	descs  descSet
	byName map[string]*record
	order  []*record // in configuration order

	checkDur *prometheus.HistogramVec // by kind
	// kinds are checkDur's children, by kind, made by Init: a check
	// observes its kind's without hashing the label value.
	kinds map[string]prometheus.Observer
}

// descSet holds the descriptors for one set of static label names.
type descSet struct {
	success, duration, checks *prometheus.Desc
	families                  []*prometheus.Desc // by probeFamilies index
}

// record is one monitor's last result, as the series show it.
type record struct {
	kind        string
	fingerprint string
	labels      []string // monitor and static label values, in Metrics.static order
	// pairs are labels as label pairs sorted by name, for the
	// scrape-time families (Gatherer). They point into labels and the
	// static names: no strings of their own.
	pairs []*dto.LabelPair

	mu   sync.Mutex
	last lastResult
}

// lastResult is what a record holds about the last check.
type lastResult struct {
	hasSuccess bool
	success    float64
	hasResult  bool
	duration   float64
	checks     [len(statusNames)]uint64
	// points are the last check's probe gauges, stored compactly (the
	// last result of every monitor stays in memory).
	points []storedPoint
}

// NewMetrics registers the probe metrics with reg (nil registers nothing)
// as one collector.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := newMetrics()
	if reg != nil {
		reg.MustRegister(collector{m})
	}
	return m
}

// NewScrapeMetrics is NewMetrics for a /metrics handler built with
// Gatherer: only the check-duration histogram is registered with reg, and
// Gatherer adds the probe series when a scrape asks for them. At 10,000
// monitors that path is several times cheaper than a Registry's Gather,
// which checks and sorts every one of the ~250,000 series.
func NewScrapeMetrics(reg prometheus.Registerer) *Metrics {
	m := newMetrics()
	if reg != nil {
		reg.MustRegister(m.checkDur)
	}
	return m
}

func newMetrics() *Metrics {
	m := &Metrics{
		byName: map[string]*record{},
		kinds:  map[string]prometheus.Observer{},
		checkDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "statussync_monitor_check_duration_seconds",
			Help:    "Duration of checks, by monitor kind, in seconds.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}, []string{"kind"}),
	}
	m.descs = newDescSet(nil)
	return m
}

func newDescSet(static []string) descSet {
	base := append([]string{"monitor"}, static...)
	d := descSet{
		success:  prometheus.NewDesc("probe_success", successHelp, base, nil),
		duration: prometheus.NewDesc("probe_duration_seconds", durationHelp, base, nil),
		checks: prometheus.NewDesc("statussync_monitor_checks_total", checksHelp,
			append(slices.Clone(base), "result"), nil),
	}
	for _, f := range probeFamilies {
		d.families = append(d.families, prometheus.NewDesc(f.name, f.help, familyLabels(base, f.extra), nil))
	}
	return d
}

// collector renders every monitor's series from its record.
type collector struct{ m *Metrics }

// Describe sends nothing, which makes the collector unchecked: its label
// names follow the configuration and may change on reload.
func (collector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c collector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	m.mu.RLock()
	defer m.mu.RUnlock()
	m.checkDur.Collect(ch)
	var snap lastResult
	for _, rec := range m.order {
		rec.snapshot(&snap)
		lv := rec.labels
		if snap.hasSuccess {
			ch <- prometheus.MustNewConstMetric(m.descs.success, prometheus.GaugeValue, snap.success, lv...)
		}
		if snap.hasResult {
			ch <- prometheus.MustNewConstMetric(m.descs.duration, prometheus.GaugeValue, snap.duration, lv...)
		}
		withResult := append(slices.Clone(lv), "")
		for i, n := range snap.checks {
			withResult[len(lv)] = statusNames[i]
			ch <- prometheus.MustNewConstMetric(m.descs.checks, prometheus.CounterValue, float64(n), withResult...)
		}
		for _, sp := range snap.points {
			p := sp.point()
			ch <- prometheus.MustNewConstMetric(m.descs.families[sp.family], prometheus.GaugeValue, p.value, m.familyValues(lv, probeFamilies[sp.family], p.extra)...)
		}
	}
}

// snapshot copies the record's values into out.
func (r *record) snapshot(out *lastResult) {
	r.mu.Lock()
	*out = r.last
	r.mu.Unlock()
}

// storedPoint is a point as a record keeps it: 16 bytes rather than 40
// (with the sample's spare capacity, ~680 bytes per http monitor were 6.5 MB
// at 10,000 monitors). Points are never changed once stored, so snapshots
// share them.
type storedPoint struct {
	value  float64
	extra  uint32 // index in extraNames
	family uint8  // index in probeFamilies
}

func (sp storedPoint) point() point {
	return point{family: probeFamilies[sp.family].name, extra: extraNames.name(sp.extra), value: sp.value}
}

// storePoints converts a finished check's sample, dropping points of
// families no one renders. A monitor's checks mostly set the same gauges in
// the same order, so a point that matches prev's (the monitor's last check)
// at its place takes its indexes from there, comparing strings that are
// the same constants, so the same pointers, instead of hashing them into
// familyIndex and extraNames, which cost as much as a tenth of the rest of
// an HTTP check.
func storePoints(s *sample, prev []storedPoint) []storedPoint {
	if s == nil || len(s.points) == 0 {
		return nil
	}
	names := *extraNames.names.Load()
	out := make([]storedPoint, 0, len(s.points))
	for _, p := range s.points {
		if j := len(out); j < len(prev) && probeFamilies[prev[j].family].name == p.family && names[prev[j].extra] == p.extra {
			out = append(out, storedPoint{value: p.value, extra: prev[j].extra, family: prev[j].family})
			continue
		}
		if i, ok := familyIndex[p.family]; ok {
			out = append(out, storedPoint{value: p.value, extra: extraNames.id(p.extra), family: i})
		}
	}
	return out
}

// internTable numbers strings. The extra label values it holds come from
// small fixed sets (phases, TLS versions, cipher suite names), so it stays
// small. Readers (every point of every scrape) take no lock: names is
// replaced, never changed.
type internTable struct {
	mu    sync.Mutex
	index map[string]uint32
	names atomic.Pointer[[]string]
}

var extraNames = newInternTable()

func newInternTable() *internTable {
	t := &internTable{index: map[string]uint32{"": 0}}
	t.names.Store(&[]string{""})
	return t
}

func (t *internTable) id(s string) uint32 {
	if s == "" {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if i, ok := t.index[s]; ok {
		return i
	}
	names := append(slices.Clone(*t.names.Load()), s)
	i := uint32(len(names) - 1)
	t.index[s] = i
	t.names.Store(&names)
	return i
}

func (t *internTable) name(i uint32) string { return (*t.names.Load())[i] }

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

// Init makes the configured monitors the ones exposed. A monitor whose
// configuration is unchanged (same name and fingerprint) keeps its record,
// so its probe_* series and counters continue across the reload and alerts
// on probe_success keep their `for:` timers; every other monitor starts
// empty, with its check counters at zero, and removed monitors disappear.
func (m *Metrics) Init(specs []config.MonitorSpec) {
	if m == nil {
		return
	}
	keys := map[string]bool{}
	kinds := map[string]prometheus.Observer{}
	for _, s := range specs {
		for k := range s.Labels {
			keys[k] = true
		}
		kinds[s.Kind] = nil
	}
	static := slices.Sorted(maps.Keys(keys))

	m.mu.Lock()
	defer m.mu.Unlock()
	if !slices.Equal(static, m.static) || m.descs.success == nil {
		m.static = static
		m.descs = newDescSet(static)
	}
	byName := make(map[string]*record, len(specs))
	order := make([]*record, 0, len(specs))
	for _, s := range specs {
		rec := &record{kind: s.Kind, fingerprint: s.Fingerprint}
		if old, ok := m.byName[s.Name]; ok && s.Fingerprint != "" && old.fingerprint == s.Fingerprint && old.kind == s.Kind {
			rec = old
		}
		rec.labels = m.labelValues(s)
		rec.pairs = m.labelPairs(rec.labels)
		byName[s.Name] = rec
		order = append(order, rec)
	}
	m.byName, m.order = byName, order
	for k := range m.kinds {
		if _, ok := kinds[k]; !ok {
			m.checkDur.DeleteLabelValues(k)
		}
	}
	for k := range kinds {
		kinds[k] = m.checkDur.WithLabelValues(k)
	}
	m.kinds = kinds
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

// observe records a check in its monitor's record. A monitor that is not
// (or no longer) configured records nothing.
func (m *Metrics) observe(spec config.MonitorSpec, r Result, took time.Duration) {
	m.observeAs(spec.Name, spec.Kind, r, took)
}

// observeAs is observe for monitor name of kind.
func (m *Metrics) observeAs(name, kind string, r Result, took time.Duration) {
	if m == nil {
		return
	}
	m.mu.RLock()
	rec, dur := m.byName[name], m.kinds[kind]
	m.mu.RUnlock()
	if dur == nil { // a kind no configured monitor has
		dur = m.checkDur.WithLabelValues(kind)
	}
	dur.Observe(took.Seconds())
	if rec == nil {
		return
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.last.set(r, took, storePoints(r.sample, rec.last.points))
}

func (l *lastResult) set(r Result, took time.Duration, points []storedPoint) {
	// Unknown is no new information (a failed ClouDNS poll, a guarded
	// failure): probe_success keeps its last value rather than reporting a
	// failure nobody observed.
	if r.Status != StatusUnknown {
		l.hasSuccess = true
		l.success = 0
		if r.Status == StatusUp || r.Status == StatusDegraded {
			l.success = 1
		}
	}
	l.hasResult, l.duration = true, took.Seconds()
	if int(r.Status) >= 0 && int(r.Status) < len(l.checks) {
		l.checks[r.Status]++
	}
	// Like blackbox, which builds a fresh registry per probe, a gauge the
	// last check did not set is absent.
	l.points = points
}

var monitorLabel = "monitor"

// labelPairs returns a record's label pairs (monitor and the static labels)
// sorted by name. They point into values and m.static, which neither change
// while the pairs are in use. The caller holds mu.
func (m *Metrics) labelPairs(values []string) []*dto.LabelPair {
	structs := make([]dto.LabelPair, len(values))
	pairs := make([]*dto.LabelPair, len(values))
	structs[0] = dto.LabelPair{Name: &monitorLabel, Value: &values[0]}
	for i := range m.static {
		structs[i+1] = dto.LabelPair{Name: &m.static[i], Value: &values[i+1]}
	}
	for i := range structs {
		pairs[i] = &structs[i]
	}
	slices.SortFunc(pairs, func(a, b *dto.LabelPair) int { return strings.Compare(a.GetName(), b.GetName()) })
	return pairs
}

// appendWithPair appends base (sorted by name) with extra added in its
// place to out; a pair of the same name in base is replaced, as
// familyLabels does.
func appendWithPair(out, base []*dto.LabelPair, extra *dto.LabelPair) []*dto.LabelPair {
	added := false
	for _, p := range base {
		switch c := strings.Compare(p.GetName(), extra.GetName()); {
		case c == 0:
			continue
		case c > 0 && !added:
			out, added = append(out, extra), true
		}
		out = append(out, p)
	}
	if !added {
		out = append(out, extra)
	}
	return out
}

var resultLabel = "result"

// resultPairs are the result label's pairs, by Status.
var resultPairs = func() []*dto.LabelPair {
	out := make([]*dto.LabelPair, len(statusNames))
	for i := range statusNames {
		out[i] = &dto.LabelPair{Name: &resultLabel, Value: &statusNames[i]}
	}
	return out
}()

// Family is a family of series that another package renders at scrape
// time from its own state, as the records render the probe series: Handler
// writes it straight in the text formats, without a Registry's per-series
// checks, sorting and dto.
type Family struct {
	Name, Help string
	// Counter makes it a counter; otherwise it is a gauge.
	Counter bool
	// LabelNames are the series' label names, sorted.
	LabelNames []string
	// Each calls yield for every series, with its label values in
	// LabelNames order, in the order a Registry sorts them (by the label
	// values, in LabelNames order). values are valid during the call only.
	Each func(yield func(values []string, v float64))
}

// FamilySource provides Families for one scrape. Its families' names must
// not be any other family's.
type FamilySource interface {
	Families() []Family
}

// dto builds the family as a Registry would gather it, or nil when it has
// no series (a Registry drops an empty family).
func (f *Family) dto() *dto.MetricFamily {
	typ := dto.MetricType_GAUGE
	if f.Counter {
		typ = dto.MetricType_COUNTER
	}
	mf := &dto.MetricFamily{Name: proto.String(f.Name), Help: proto.String(f.Help), Type: &typ}
	f.Each(func(values []string, v float64) {
		m := &dto.Metric{Label: make([]*dto.LabelPair, len(f.LabelNames))}
		for i := range f.LabelNames {
			m.Label[i] = &dto.LabelPair{Name: &f.LabelNames[i], Value: proto.String(values[i])}
		}
		if f.Counter {
			m.Counter = &dto.Counter{Value: proto.Float64(v)}
		} else {
			m.Gauge = &dto.Gauge{Value: proto.Float64(v)}
		}
		mf.Metric = append(mf.Metric, m)
	})
	if len(mf.Metric) == 0 {
		return nil
	}
	return mf
}

// sourceFamilies returns the sources' families for one scrape, sorted by
// name.
func sourceFamilies(sources []FamilySource) []Family {
	var out []Family
	for _, s := range sources {
		out = append(out, s.Families()...)
	}
	slices.SortStableFunc(out, func(a, b Family) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// appendSourceDTOs appends the sources' non-empty families, as dto, to mfs.
func appendSourceDTOs(mfs []*dto.MetricFamily, sources []FamilySource) []*dto.MetricFamily {
	fams := sourceFamilies(sources)
	for i := range fams {
		if mf := fams[i].dto(); mf != nil {
			mfs = append(mfs, mf)
		}
	}
	return mfs
}

// Gatherer returns g's families, the sources' and every monitor's probe
// series and check counters as one prometheus.TransactionalGatherer, built
// straight from the records without a Registry's per-series checks and
// sorting. Handler is the cheaper way to serve them.
func (m *Metrics) Gatherer(g prometheus.Gatherer, sources ...FamilySource) prometheus.TransactionalGatherer {
	return scrapeGatherer{m: m, g: g, sources: sources}
}

type scrapeGatherer struct {
	m       *Metrics
	g       prometheus.Gatherer
	sources []FamilySource
}

func (s scrapeGatherer) Gather() ([]*dto.MetricFamily, func(), error) {
	mfs, err := s.g.Gather()
	mfs = appendSourceDTOs(mfs, s.sources)
	snaps := s.m.snapshotAll()
	for k := range ownFamilies {
		if mf := s.m.family(k, snaps); mf != nil {
			mfs = append(mfs, mf)
		}
	}
	slices.SortStableFunc(mfs, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return mfs, func() {}, err
}

// SourceGatherer returns g's families and the sources' as one
// prometheus.Gatherer, sorted by name: what a Registry with the sources'
// families as collectors would gather.
func SourceGatherer(g prometheus.Gatherer, sources ...FamilySource) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := g.Gather()
		mfs = appendSourceDTOs(mfs, sources)
		slices.SortStableFunc(mfs, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
		return mfs, err
	})
}

// Handler serves /metrics: g's families, the sources' and every monitor's
// series, in the format the scraper asks for (OpenMetrics or Prometheus
// text, as promhttp with EnableOpenMetrics), gzipped when accepted. The
// monitors' series are built one family at a time from one snapshot of the
// records, so a scrape of 10,000 monitors never holds its ~250,000 series
// in memory at once; in the text formats they and the sources' families
// are written directly, without dto. Use it with NewScrapeMetrics.
func (m *Metrics) Handler(g prometheus.Gatherer, logger *slog.Logger, sources ...FamilySource) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mfs, err := g.Gather()
		if err != nil {
			logger.Error("error gathering metrics", "err", err)
			if len(mfs) == 0 {
				http.Error(w, "error gathering metrics: "+err.Error(), http.StatusInternalServerError)
				return
			}
		}
		srcs := sourceFamilies(sources)
		snaps := m.snapshotAll()
		format := expfmt.NegotiateAccept(req.Header, expfmt.DefaultOpenMetricsAcceptedFormats()...)
		w.Header().Add("Vary", "Accept")
		w.Header().Add("Vary", "Accept-Encoding")
		w.Header().Set("Content-Type", string(format))
		var out io.Writer = w
		if acceptsGzip(req.Header.Get("Accept-Encoding")) {
			w.Header().Set("Content-Encoding", "gzip")
			gz := gzip.NewWriter(w)
			defer func() { _ = gz.Close() }()
			out = gz
		}
		bw := bufio.NewWriterSize(out, 64<<10)
		defer func() { _ = bw.Flush() }()
		enc := expfmt.NewEncoder(bw, format)
		encode := func(mf *dto.MetricFamily) bool {
			if err := enc.Encode(mf); err != nil {
				logger.Error("error encoding metrics", "family", mf.GetName(), "err", err)
				return false
			}
			return true
		}
		// The text formats (what Prometheus asks for) are written
		// straight from the snapshots; others (protobuf) go through dto.
		own := func(k int) bool {
			if mf := m.family(k, snaps); mf != nil {
				return encode(mf)
			}
			return true
		}
		source := func(i int) bool {
			if mf := srcs[i].dto(); mf != nil {
				return encode(mf)
			}
			return true
		}
		if ft := format.FormatType(); ft == expfmt.TypeTextPlain || ft == expfmt.TypeOpenMetrics {
			tw := &textWriter{w: bw, om: ft == expfmt.TypeOpenMetrics}
			own = func(k int) bool {
				tw.family(k, snaps)
				return true
			}
			source = func(i int) bool {
				tw.source(&srcs[i])
				return true
			}
		}
		// All families in name order, as a Registry gathers them.
		type item struct {
			name string
			emit func() bool
		}
		items := make([]item, 0, len(mfs)+len(srcs)+len(ownFamilies))
		for _, mf := range mfs {
			items = append(items, item{mf.GetName(), func() bool { return encode(mf) }})
		}
		for i := range srcs {
			items = append(items, item{srcs[i].Name, func() bool { return source(i) }})
		}
		for k := range ownFamilies {
			items = append(items, item{ownFamilies[k].name, func() bool { return own(k) }})
		}
		slices.SortStableFunc(items, func(a, b item) int { return strings.Compare(a.name, b.name) })
		for _, it := range items {
			if !it.emit() {
				return
			}
		}
		if c, ok := enc.(expfmt.Closer); ok {
			_ = c.Close()
		}
	})
}

func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.TrimSpace(params) != "q=0" {
			return true
		}
	}
	return false
}

// ownFamily is one family the records render: probe_success (index -1 in
// probeFamilies terms), probe_duration_seconds, the check counter or a
// probe gauge.
type ownFamily struct {
	name, help string
	counter    bool
	gauge      int // index in probeFamilies, or -1
}

// ownFamilies are the families the records render, sorted by name.
var ownFamilies = func() []ownFamily {
	out := []ownFamily{
		{name: "probe_success", help: successHelp, gauge: -1},
		{name: "probe_duration_seconds", help: durationHelp, gauge: -1},
		{name: "statussync_monitor_checks_total", help: checksHelp, counter: true, gauge: -1},
	}
	for i, f := range probeFamilies {
		out = append(out, ownFamily{name: f.name, help: f.help, gauge: i})
	}
	slices.SortFunc(out, func(a, b ownFamily) int { return strings.Compare(a.name, b.name) })
	return out
}()

// recSnap is one record's labels and values at the start of a scrape.
type recSnap struct {
	pairs []*dto.LabelPair
	last  lastResult
}

// snapshotAll copies every record's values, so that one scrape shows each
// monitor's series from one check.
func (m *Metrics) snapshotAll() []recSnap {
	if m == nil {
		return nil
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]recSnap, len(m.order))
	for i, rec := range m.order {
		out[i].pairs = rec.pairs
		rec.snapshot(&out[i].last)
	}
	return out
}

// family builds ownFamilies[k] from the snapshots, or nil when no monitor
// has a series of it.
func (m *Metrics) family(k int, snaps []recSnap) *dto.MetricFamily {
	f := ownFamilies[k]
	typ := dto.MetricType_GAUGE
	if f.counter {
		typ = dto.MetricType_COUNTER
	}
	mf := &dto.MetricFamily{Name: proto.String(f.name), Help: proto.String(f.help), Type: &typ}
	var gf *family
	if f.gauge >= 0 {
		gf = &probeFamilies[f.gauge]
	}
	// Slabs: a few allocations per family rather than several per series,
	// sized by a first pass (most probe families are empty for most kinds).
	n := 0
	for i := range snaps {
		l := &snaps[i].last
		switch {
		case f.name == "probe_success":
			if l.hasSuccess {
				n++
			}
		case f.name == "probe_duration_seconds":
			if l.hasResult {
				n++
			}
		case f.counter:
			n += len(statusNames)
		default:
			for _, sp := range l.points {
				if int(sp.family) == f.gauge {
					n++
				}
			}
		}
	}
	if n == 0 {
		return nil
	}
	ms := make([]dto.Metric, 0, n)
	vs := make([]float64, 0, n)
	var gs []dto.Gauge
	var cs []dto.Counter
	if f.counter {
		cs = make([]dto.Counter, 0, n)
	} else {
		gs = make([]dto.Gauge, 0, n)
	}
	var pbuf []*dto.LabelPair // label slices with an added pair
	var extras []dto.LabelPair
	var extraValues []string
	put := func(pairs []*dto.LabelPair, v float64) {
		vs = append(vs, v)
		ms = append(ms, dto.Metric{Label: pairs})
		if f.counter {
			cs = append(cs, dto.Counter{Value: &vs[len(vs)-1]})
			ms[len(ms)-1].Counter = &cs[len(cs)-1]
		} else {
			gs = append(gs, dto.Gauge{Value: &vs[len(vs)-1]})
			ms[len(ms)-1].Gauge = &gs[len(gs)-1]
		}
	}
	with := func(base []*dto.LabelPair, extra *dto.LabelPair) []*dto.LabelPair {
		if pbuf == nil {
			pbuf = make([]*dto.LabelPair, 0, n*(len(base)+1))
		}
		start := len(pbuf)
		pbuf = appendWithPair(pbuf, base, extra)
		return pbuf[start:len(pbuf):len(pbuf)]
	}
	for i := range snaps {
		s := &snaps[i]
		switch {
		case f.name == "probe_success":
			if s.last.hasSuccess {
				put(s.pairs, s.last.success)
			}
		case f.name == "probe_duration_seconds":
			if s.last.hasResult {
				put(s.pairs, s.last.duration)
			}
		case f.counter:
			for j, c := range s.last.checks {
				put(with(s.pairs, resultPairs[j]), float64(c))
			}
		default:
			for _, sp := range s.last.points {
				if int(sp.family) != f.gauge {
					continue
				}
				p := sp.point()
				pairs := s.pairs
				if gf.extra != "" {
					if extras == nil {
						extras = make([]dto.LabelPair, 0, n)
						extraValues = make([]string, 0, n)
					}
					extraValues = append(extraValues, p.extra)
					extras = append(extras, dto.LabelPair{Name: &gf.extra, Value: &extraValues[len(extraValues)-1]})
					pairs = with(pairs, &extras[len(extras)-1])
				}
				put(pairs, p.value)
			}
		}
	}
	if len(ms) == 0 {
		return nil
	}
	mf.Metric = make([]*dto.Metric, len(ms))
	for i := range ms {
		mf.Metric[i] = &ms[i]
	}
	return mf
}

// ErrUnknownMonitor and ErrNoResult are ProbeCollector's errors.
var (
	ErrUnknownMonitor = errors.New("no such monitor")
	ErrNoResult       = errors.New("monitor has no result yet")
)

// ProbeCollector returns monitor name's latest result rendered as
// blackbox_exporter's /probe renders one probe: probe_success,
// probe_duration_seconds and the kind's probe_* gauges, without the monitor
// and static labels (only a gauge's own label, such as phase or version).
// The values are copied at the call, so one scrape sees one result. Register
// it in a fresh prometheus.Registry per request. It fails with
// ErrUnknownMonitor or ErrNoResult.
func (m *Metrics) ProbeCollector(name string) (prometheus.Collector, error) {
	if m == nil {
		return nil, ErrUnknownMonitor
	}
	m.mu.RLock()
	rec := m.byName[name]
	m.mu.RUnlock()
	if rec == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownMonitor, name)
	}
	var snap lastResult
	rec.snapshot(&snap)
	if !snap.hasResult {
		return nil, fmt.Errorf("%w: %q", ErrNoResult, name)
	}
	return probeCollector{snap: snap}, nil
}

// probeCollector renders one record as a blackbox probe.
type probeCollector struct{ snap lastResult }

func (probeCollector) Describe(chan<- *prometheus.Desc) {}

func (p probeCollector) Collect(ch chan<- prometheus.Metric) {
	d := blackboxDescs
	// Blackbox's probe_success is 0 for a failed probe; an unknown result
	// that never saw a verdict is not a success either.
	ch <- prometheus.MustNewConstMetric(d.success, prometheus.GaugeValue, p.snap.success)
	ch <- prometheus.MustNewConstMetric(d.duration, prometheus.GaugeValue, p.snap.duration)
	for _, sp := range p.snap.points {
		pt, i := sp.point(), sp.family
		switch {
		case probeFamilies[i].extra == "":
			ch <- prometheus.MustNewConstMetric(d.families[i], prometheus.GaugeValue, pt.value)
		default:
			ch <- prometheus.MustNewConstMetric(d.families[i], prometheus.GaugeValue, pt.value, pt.extra)
		}
	}
}

// blackboxDescs are the descriptors of a single probe: no monitor label.
var blackboxDescs = func() descSet {
	d := descSet{
		success:  prometheus.NewDesc("probe_success", successHelp, nil, nil),
		duration: prometheus.NewDesc("probe_duration_seconds", durationHelp, nil, nil),
	}
	for _, f := range probeFamilies {
		var labels []string
		if f.extra != "" {
			labels = []string{f.extra}
		}
		d.families = append(d.families, prometheus.NewDesc(f.name, f.help, labels, nil))
	}
	return d
}()

var familyIndex = func() map[string]uint8 {
	out := make(map[string]uint8, len(probeFamilies))
	for i, f := range probeFamilies {
		out[f.name] = uint8(i)
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
