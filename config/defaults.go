package config

import (
	"net/http"
	"os"
	"strings"
	"time"
)

// Default returns the built-in defaults, the lowest configuration layer.
// With nothing else loaded it is a valid, empty dry-run configuration.
//
// Default and applyDefaults below are the only places that choose a value
// the user did not write: validation only checks and compiles, and the
// clients are given every value explicitly.
func Default() *Config {
	return &Config{
		Cachet: CachetConfig{
			Timeout: 10 * time.Second,
			// Cachet's default limit is 300/min; stay at 80% of it so a
			// reconcile burst never trips it.
			RateLimit:            4,
			ResyncInterval:       5 * time.Minute,
			Backoff:              BackoffConfig{Min: time.Second, Max: time.Minute},
			RespectManualChanges: true,
			// Long enough for a person's fix or announcement, short
			// enough that a forgotten one does not hide an outage all day.
			ManualOverrideMax: 4 * time.Hour,
		},
		CloudNS: CloudNSConfig{
			URL:          "https://api.cloudns.net",
			PollInterval: time.Minute,
			Timeout:      10 * time.Second,
			// ClouDNS allows 20/s per IP, shared with anything else the
			// account runs from the same address.
			RateLimit: 5,
		},
		// client-go's leader election defaults.
		HA: HAConfig{
			LeaseName:     "statussync",
			LeaseDuration: 15 * time.Second,
			RenewDeadline: 10 * time.Second,
			RetryPeriod:   2 * time.Second,
		},
		Defaults: MonitorDefaults{
			Interval:           60 * time.Second,
			Timeout:            10 * time.Second,
			FailuresBeforeDown: 2,
			SuccessesBeforeUp:  2,
		},
	}
}

// Per-kind defaults, as blackbox_exporter's.
const (
	defaultMaxRedirects = 10
	defaultDNSType      = "ANY"
	defaultDNSClass     = "IN"
	defaultDNSTransport = "udp"
	defaultDNSRcode     = "NOERROR"
	defaultIPProtocol   = IPv6
	defaultMetricSuffix = "ms"
	// defaultMetricThreshold is Cachet's own default (minutes).
	defaultMetricThreshold = 5
)

// applyDefaults is the one defaults pass: it fills, after decoding, every
// value the file left unset, from the defaults block, the kinds' defaults
// and the environment (HA identity and namespace). A value the file set is
// never replaced, even 0: validation reports a 0 that is out of range
// instead of quietly using the default.
func (c *Config) applyDefaults(environ []string) {
	for i := range c.Monitors {
		c.Monitors[i].applyDefaults(c.Defaults, c.explicitFor(i))
	}
	for i := range c.Components {
		if c.Components[i].Rule == "" {
			c.Components[i].Rule = RuleWorst
		}
	}
	c.HA.applyDefaults(environ)
}

// explicit reports which keys of a monitor the file (or Validate's caller)
// set. From Load it knows keys set to their zero value; for a Config built
// by hand, a zero value counts as unset.
type explicit func(key string, zero bool) bool

func (c *Config) explicitFor(i int) explicit {
	return func(key string, zero bool) bool {
		path := monitorPath(i) + "." + key
		switch {
		case c.rawKeys != nil:
			set := c.rawKeys[path]
			if set && zero {
				if c.explicitZero == nil {
					c.explicitZero = map[string]bool{}
				}
				c.explicitZero[path] = true
			}
			return set
		case zero:
			return c.explicitZero[path]
		default:
			return true
		}
	}
}

func (m *MonitorSpec) applyDefaults(d MonitorDefaults, set explicit) {
	if !set("interval", m.Interval == 0) && m.Schedule == "" {
		m.Interval = d.Interval
	}
	if !set("timeout", m.Timeout == 0) {
		m.Timeout = d.Timeout
		// A short interval with the default timeout would be invalid;
		// keep blackbox's margin instead of rejecting a config that
		// never chose a timeout.
		if m.Interval > 0 && m.Timeout >= m.Interval {
			m.Timeout = m.Interval * 9 / 10
		}
	}
	if !set("failures_before_down", m.FailuresBeforeDown == 0) {
		m.FailuresBeforeDown = d.FailuresBeforeDown
	}
	if !set("successes_before_up", m.SuccessesBeforeUp == 0) {
		m.SuccessesBeforeUp = d.SuccessesBeforeUp
	}
	if m.Outage == "" {
		m.Outage = OutageMajor
	}
	if m.Metric != nil {
		if m.Metric.Suffix == "" {
			m.Metric.Suffix = defaultMetricSuffix
		}
		if !set("metric.threshold", m.Metric.Threshold == 0) {
			m.Metric.Threshold = defaultMetricThreshold
		}
	}
	if m.HTTP != nil {
		m.HTTP.applyDefaults(func(key string, zero bool) bool { return set("http."+key, zero) })
	}
	if m.TCP != nil {
		applyIPDefaults(&m.TCP.PreferredIPProtocol, &m.TCP.IPProtocolFallback)
	}
	if m.DNS != nil {
		m.DNS.applyDefaults()
	}
}

func (h *HTTPProbe) applyDefaults(set explicit) {
	if h.Method == "" {
		h.Method = http.MethodGet
	}
	h.Method = strings.ToUpper(h.Method)
	if !set("max_redirects", h.MaxRedirects == 0) {
		h.MaxRedirects = defaultMaxRedirects
	}
	h.FollowRedirects = orTrue(h.FollowRedirects)
	h.EnableHTTP2 = orTrue(h.EnableHTTP2)
	applyIPDefaults(&h.PreferredIPProtocol, &h.IPProtocolFallback)
}

func (d *DNSProbe) applyDefaults() {
	if d.QueryType == "" {
		d.QueryType = defaultDNSType
	}
	d.QueryType = strings.ToUpper(d.QueryType)
	if d.QueryClass == "" {
		d.QueryClass = defaultDNSClass
	}
	d.QueryClass = strings.ToUpper(d.QueryClass)
	if d.TransportProtocol == "" {
		d.TransportProtocol = defaultDNSTransport
	}
	if len(d.ValidRcodes) == 0 {
		d.ValidRcodes = []string{defaultDNSRcode}
	}
	d.RecursionDesired = orTrue(d.RecursionDesired)
	applyIPDefaults(&d.PreferredIPProtocol, &d.IPProtocolFallback)
}

// applyIPDefaults is blackbox's: prefer IPv6, fall back to IPv4.
func applyIPDefaults(preferred *string, fallback **bool) {
	if *preferred == "" {
		*preferred = defaultIPProtocol
	}
	*fallback = orTrue(*fallback)
}

func orTrue(b *bool) *bool {
	if b != nil {
		return b
	}
	t := true
	return &t
}

// applyDefaults takes the lease namespace from the pod's service account
// mount and the identity from POD_NAME or the host name, when unset.
func (h *HAConfig) applyDefaults(environ []string) {
	if !h.Enabled {
		return
	}
	if h.LeaseNamespace == "" {
		if data, err := os.ReadFile(serviceAccountNamespace); err == nil {
			h.LeaseNamespace = strings.TrimSpace(string(data))
		}
	}
	if h.Identity == "" {
		for _, kv := range environ {
			if v, ok := strings.CutPrefix(kv, "POD_NAME="); ok && v != "" {
				h.Identity = v
			}
		}
	}
	if h.Identity == "" {
		if host, err := os.Hostname(); err == nil {
			h.Identity = host
		}
	}
}
