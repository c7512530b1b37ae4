// Package blackboxprobe serves blackbox_exporter's GET /probe for the
// monitors statussync already runs, so that a Prometheus scrape job written
// for blackbox (relabelling targets into /probe?module=M&target=T) and the
// alerts on its series keep working unchanged.
//
// Semantics are blackbox's where they can be: the answer is the metrics of
// one probe, unlabelled (no monitor label, no static labels: Prometheus
// adds job and instance), probe_success and probe_duration_seconds first,
// then the prober's gauges with blackbox's names and help. The difference:
// blackbox probes when scraped; this serves the latest result of the
// monitor that module and target name, and never probes anything on
// request. A pair that names no configured monitor is a 400 that lists the
// configured pairs, as blackbox answers 400 for an unknown module.
//
// A monitor is reachable as module M and target T when its labels.module
// is M (statussync import blackbox writes it) and T is its name or what
// it probes: the http url (also without the http:// that blackbox adds to
// a scheme-less target), the tcp address, or the dns query name.
package blackboxprobe

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"

	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/monitors"
)

// ModuleLabel is the monitor label that holds the blackbox module name.
const ModuleLabel = "module"

// Latest gives a monitor's latest result (*monitors.Metrics).
type Latest interface {
	Latest(monitor string) ([]monitors.LatestSample, bool)
}

// entry is one monitor reachable through /probe.
type entry struct {
	monitor, module, kind string
	targets               []string // what target may say
	timeout               float64  // seconds, blackbox's probe_timeout_seconds
}

// Handler serves /probe. Configure it after every (re)load.
type Handler struct {
	latest Latest

	mu      sync.RWMutex
	entries []entry
}

// New returns a Handler over latest; it knows no monitor until Configure.
func New(latest Latest) *Handler { return &Handler{latest: latest} }

// Configure makes cfg's monitors the ones /probe serves.
func (h *Handler) Configure(cfg *config.Config) {
	// Sized exactly: one entry per monitor stays for the configuration's
	// life (append's spare room was ~1 MB at 10,000 monitors).
	entries := make([]entry, 0, len(cfg.Monitors))
	for i := range cfg.Monitors {
		m := &cfg.Monitors[i]
		e := entry{monitor: m.Name, module: m.Labels[ModuleLabel], kind: m.Kind, targets: make([]string, 1, 3), timeout: m.Timeout.Seconds()}
		e.targets[0] = m.Name
		switch {
		case m.HTTP != nil:
			e.targets = append(e.targets, m.HTTP.URL)
			if rest, ok := strings.CutPrefix(m.HTTP.URL, "http://"); ok {
				e.targets = append(e.targets, rest)
			}
		case m.TCP != nil:
			e.targets = append(e.targets, m.TCP.Address)
		case m.DNS != nil:
			e.targets = append(e.targets, m.DNS.QueryName)
		}
		entries = append(entries, e)
	}
	h.mu.Lock()
	h.entries = entries
	h.mu.Unlock()
}

// resolve finds the one monitor module and target name.
func (h *Handler) resolve(module, target string) (entry, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var found []entry
	for _, e := range h.entries {
		if e.module == module && slices.Contains(e.targets, target) {
			found = append(found, e)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return entry{}, fmt.Errorf("no monitor is configured for module %q and target %q; statussync serves only its configured monitors and never probes on request. Configured (module target):\n%s", module, target, h.configuredLocked())
	}
	names := make([]string, len(found))
	for i, e := range found {
		names[i] = fmt.Sprintf("%q", e.monitor)
	}
	return entry{}, fmt.Errorf("module %q and target %q name %d monitors (%s); give each a distinct target or module", module, target, len(found), strings.Join(names, ", "))
}

// configuredLocked lists the pairs that resolve, one per line.
func (h *Handler) configuredLocked() string {
	var lines []string
	for _, e := range h.entries {
		if e.module == "" {
			continue
		}
		target := e.targets[0]
		if len(e.targets) > 1 {
			target = e.targets[1] // what it probes, as blackbox's target would say
		}
		lines = append(lines, fmt.Sprintf("  %s %s", e.module, target))
	}
	if len(lines) == 0 {
		return "  (none: set labels.module on a monitor to serve it here)\n"
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

// ServeHTTP answers GET /probe?module=M&target=T[&debug=true].
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	module, target := q.Get("module"), q.Get("target")
	if target == "" {
		http.Error(w, "Target parameter is missing", http.StatusBadRequest)
		return
	}
	if module == "" {
		http.Error(w, "Module parameter is missing", http.StatusBadRequest)
		return
	}
	e, err := h.resolve(module, target)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	samples, ok := h.latest.Latest(e.monitor)
	if !ok {
		// Not checked yet: blackbox would have probed; the honest answer
		// is a failed probe with no details, as blackbox gives when a
		// probe cannot run.
		samples = []monitors.LatestSample{{Name: "probe_success", Help: "Displays whether or not the probe was a success", Value: 0}}
	}
	samples = append(samples, monitors.LatestSample{Name: "probe_timeout_seconds", Help: "Returns how long the probe timeout is in seconds", Value: e.timeout})
	reg := prometheus.NewRegistry()
	reg.MustRegister(sampleCollector(samples))
	if q.Get("debug") == "true" {
		h.debug(w, e, ok, reg)
		return
	}
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// debug writes blackbox's debug page: what happened, the metrics that
// would have been returned, and the module's configuration.
func (h *Handler) debug(w http.ResponseWriter, e entry, checked bool, reg *prometheus.Registry) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	var b strings.Builder
	b.WriteString("Logs for the probe:\n")
	fmt.Fprintf(&b, "module %q, target resolved to statussync monitor %q (kind %s)\n", e.module, e.monitor, e.kind)
	if checked {
		b.WriteString("serving the monitor's latest result; statussync probes on its own schedule, not on request\n")
	} else {
		b.WriteString("the monitor has not finished a check yet: reported as a failed probe\n")
	}
	b.WriteString("\n\nMetrics that would have been returned:\n")
	if mfs, err := reg.Gather(); err == nil {
		enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			_ = enc.Encode(mf)
		}
	}
	b.WriteString("\n\nModule configuration:\n")
	fmt.Fprintf(&b, "statussync monitor %q, kind %s; its full settings are in the statussync configuration (statussync probe --monitor %q checks it once)\n", e.monitor, e.kind, e.monitor)
	_, _ = w.Write([]byte(b.String()))
}

// sampleCollector exposes one probe's samples.
type sampleCollector []monitors.LatestSample

func (sampleCollector) Describe(chan<- *prometheus.Desc) {}

func (c sampleCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c {
		var labels []string
		var values []string
		if s.Label != "" {
			labels, values = []string{s.Label}, []string{s.LabelValue}
		}
		d := prometheus.NewDesc(s.Name, s.Help, labels, nil)
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, s.Value, values...)
	}
}
