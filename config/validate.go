package config

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// cronParser accepts the standard five fields and descriptors such as
// @hourly and @every 90s.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// labelName is Prometheus's label name syntax.
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// reservedLabels are set by statussync itself on probe metrics, or by
// Prometheus on scrape.
var reservedLabels = []string{"monitor", "kind", "phase", "result", "version", "cipher", "le", "quantile", "job", "instance"}

// Validate checks a configuration built by hand (Load validates for you),
// filling in defaults first. It compiles everything that can be compiled and
// returns every problem found, joined.
func (c *Config) Validate() error {
	var p problems
	c.applyDefaults(os.Environ())
	c.readFiles(&p)
	c.validate(&p)
	return p.err()
}

// validate only checks and compiles: every default is already applied
// (applyDefaults) and every file already read (readFiles).
func (c *Config) validate(p *problems) {
	c.HA.validate(p)
	c.validateCachet(p)
	c.validateCloudNS(p)
	c.validateCloudNSChecks(p)
	c.validateDefaults(p)
	names := map[string]int{}
	for i := range c.Monitors {
		c.validateMonitor(p, i, names)
	}
	c.validateComponents(p, names)
	for i, name := range c.Connectivity.Monitors {
		if _, ok := names[name]; !ok {
			p.add(fmt.Sprintf("connectivity.monitors[%d]", i), "", "unknown monitor %q", name)
		}
	}
}

func (c *Config) validateCachet(p *problems) {
	cc := &c.Cachet
	if cc.URL != "" {
		u := checkURL(p, "cachet.url", "", cc.URL, "http", "https")
		if u != nil && strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/v1") {
			p.add("cachet.url", "", "ends in /v1, the Cachet 2 API; Cachet 3's API base has no version, e.g. https://status.example.org/api")
		}
		if cc.Token == "" && cc.TokenFile == "" && !cc.DryRun {
			p.add("cachet.token", "", "is required with cachet.url (or set cachet.token_file, or cachet.dry_run)")
		}
	}
	if cc.Timeout <= 0 {
		p.add("cachet.timeout", "", "must be positive")
	}
	if cc.Timezone != "" {
		loc, err := time.LoadLocation(cc.Timezone)
		if err != nil {
			p.add("cachet.timezone", "", "%v", err)
		}
		cc.location = loc
	}
	if cc.ResyncInterval < 5*time.Second {
		p.add("cachet.resync_interval", "", "%v must be at least 5s", cc.ResyncInterval)
	}
	if cc.ManualOverrideMax < 0 {
		p.add("cachet.manual_override_max", "", "%v must not be negative (0 respects a manual status until statussync's desired state changes)", cc.ManualOverrideMax)
	}
	if cc.Backoff.Min <= 0 || cc.Backoff.Max < cc.Backoff.Min {
		p.add("cachet.backoff", "", "min %v must be positive and at most max %v", cc.Backoff.Min, cc.Backoff.Max)
	}
	if cc.RateLimit <= 0 || cc.RateLimit > 5 {
		p.add("cachet.rate_limit", "", "%v must be above 0 and at most 5 requests per second (Cachet allows 300 per minute)", cc.RateLimit)
	}
	if err := cc.TLS.compile(); err != nil {
		p.add("cachet.tls", "", "%v", err)
	}
}

func (c *Config) validateCloudNS(p *problems) {
	cc := &c.CloudNS
	used := slices.ContainsFunc(c.Monitors, func(m MonitorSpec) bool { return m.CloudNS != nil })
	identities := 0
	for _, set := range []bool{cc.AuthID != 0, cc.SubAuthID != 0, cc.SubAuthUser != ""} {
		if set {
			identities++
		}
	}
	if identities > 1 {
		p.add("cloudns", "", "set exactly one of auth_id, sub_auth_id and sub_auth_user")
	}
	if used {
		if identities == 0 {
			p.add("cloudns.auth_id", "", "cloudns monitors need one of auth_id, sub_auth_id or sub_auth_user")
		}
		if cc.Password == "" {
			p.add("cloudns.password_file", "", "cloudns monitors need a password (password_file, or STATUSSYNC_CLOUDNS__PASSWORD)")
		}
	}
	if cc.URL == "" {
		p.add("cloudns.url", "", "is required")
	} else {
		checkURL(p, "cloudns.url", "", cc.URL, "http", "https")
	}
	if cc.PollInterval < 10*time.Second {
		p.add("cloudns.poll_interval", "", "%v must be at least 10s", cc.PollInterval)
	}
	if cc.Timeout <= 0 || cc.Timeout >= cc.PollInterval {
		p.add("cloudns.timeout", "", "%v must be positive and less than poll_interval %v", cc.Timeout, cc.PollInterval)
	}
	if cc.RateLimit <= 0 || cc.RateLimit > 15 {
		p.add("cloudns.rate_limit", "", "%v must be above 0 and at most 15 requests per second (ClouDNS allows 20 per IP)", cc.RateLimit)
	}
}

func (c *Config) validateDefaults(p *problems) {
	d := c.Defaults
	if d.Interval <= 0 {
		p.add("defaults.interval", "", "must be positive")
	}
	if d.Timeout <= 0 {
		p.add("defaults.timeout", "", "must be positive")
	} else if d.Interval > 0 && d.Timeout >= d.Interval {
		p.add("defaults.timeout", "", "%v must be less than interval %v", d.Timeout, d.Interval)
	}
	if d.FailuresBeforeDown < 1 {
		p.add("defaults.failures_before_down", "", "%d must be at least 1", d.FailuresBeforeDown)
	}
	if d.SuccessesBeforeUp < 1 {
		p.add("defaults.successes_before_up", "", "%d must be at least 1", d.SuccessesBeforeUp)
	}
}

func (c *Config) validateMonitor(p *problems, i int, names map[string]int) {
	m := &c.Monitors[i]
	path := fmt.Sprintf("monitors[%d]", i)
	obj := fmt.Sprintf("monitor %q", m.Name)
	uniqueName(p, names, m.Name, "monitors", i, obj)

	if m.Interval != 0 && m.Schedule != "" {
		p.add(path, obj, "set interval or schedule, not both")
	}
	if m.Interval < 0 || (m.Interval == 0 && m.Schedule == "" && c.explicitFor(i)("interval", true)) {
		p.add(path+".interval", obj, "%v must be positive", m.Interval)
	}
	period := m.Interval
	if m.Schedule != "" {
		s, err := cronParser.Parse(m.Schedule)
		if err != nil {
			p.add(path+".schedule", obj, "%v", err)
		} else {
			m.Cron = s
			period = minPeriod(s)
		}
	}
	// A value the monitor inherits from the defaults block is checked
	// there, once: one mistake in defaults is one problem, not one per
	// monitor.
	set := c.explicitFor(i)
	ownTimeout, ownPeriod := set("timeout", m.Timeout == 0), set("interval", m.Interval == 0) || m.Schedule != ""
	switch {
	case m.Timeout <= 0 && ownTimeout:
		p.add(path+".timeout", obj, "%v must be positive", m.Timeout)
	case m.Timeout > 0 && period > 0 && m.Timeout >= period && ownTimeout:
		p.add(path+".timeout", obj, "%v must be less than interval %v", m.Timeout, period)
	case m.Timeout > 0 && period > 0 && m.Timeout >= period && ownPeriod && c.Defaults.Timeout < c.Defaults.Interval:
		// (an invalid defaults.timeout is reported there, once)
		key := path + ".interval"
		if m.Schedule != "" {
			key = path + ".schedule"
		}
		p.add(key, obj, "runs every %v, not more than timeout %v (from defaults.timeout): set a timeout below it", period, m.Timeout)
	}
	if m.FailuresBeforeDown < 1 && set("failures_before_down", m.FailuresBeforeDown == 0) {
		p.add(path+".failures_before_down", obj, "%d must be at least 1", m.FailuresBeforeDown)
	}
	if m.SuccessesBeforeUp < 1 && set("successes_before_up", m.SuccessesBeforeUp == 0) {
		p.add(path+".successes_before_up", obj, "%d must be at least 1", m.SuccessesBeforeUp)
	}
	if m.DegradedLatency < 0 {
		p.add(path+".degraded_latency", obj, "must not be negative")
	} else if m.DegradedLatency > 0 && m.DegradedLatency >= m.Timeout {
		p.add(path+".degraded_latency", obj, "%v must be less than timeout %v", m.DegradedLatency, m.Timeout)
	}
	if m.Outage != OutageMajor && m.Outage != OutagePartial {
		p.add(path+".outage", obj, "%q must be major or partial", m.Outage)
	}
	for name := range m.Labels {
		switch {
		case !labelName.MatchString(name) || strings.HasPrefix(name, "__"):
			p.add(path+".labels", obj, "%q is not a valid Prometheus label name", name)
		case slices.Contains(reservedLabels, name):
			p.add(path+".labels", obj, "%q is reserved (statussync sets it)", name)
		}
	}

	if m.Metric != nil {
		m.Metric.validate(p, path+".metric", obj)
	}
	// A cloudns monitor's latency is the time spent waiting for the shared
	// account poll, not the target's response time.
	if m.CloudNS != nil && m.DegradedLatency > 0 {
		p.add(path+".degraded_latency", obj, "does not apply to cloudns monitors (their latency is the shared poll's, not the target's)")
	}
	if m.CloudNS != nil && m.Metric != nil {
		p.add(path+".metric", obj, "does not apply to cloudns monitors (their latency is the shared poll's, not the target's)")
	}

	blocks := m.kindBlocks()
	switch len(blocks) {
	case 0:
		if m.rawKind == "" { // else its decode error is already reported
			p.add(path, obj, "needs one kind block (%s)", strings.Join(Kinds, ", "))
		}
	case 1:
		for kind, b := range blocks {
			m.Kind = kind
			b.validate(p, path+"."+kind, obj)
		}
	default:
		kinds := make([]string, 0, len(blocks))
		for k := range blocks {
			kinds = append(kinds, k)
		}
		slices.Sort(kinds)
		p.add(path, obj, "has %d kind blocks (%s); a monitor checks one thing", len(kinds), strings.Join(kinds, ", "))
	}
}

// uniqueName checks that list[i]'s name is set and not taken by an
// earlier item, recording it in names.
func uniqueName(p *problems, names map[string]int, name, list string, i int, obj string) {
	path := fmt.Sprintf("%s[%d].name", list, i)
	switch first, dup := names[name]; {
	case name == "":
		p.add(path, obj, "is required")
	case dup:
		p.add(path, obj, "duplicates %s[%d]", list, first)
	default:
		names[name] = i
	}
}

// minPeriod is the shortest gap between consecutive runs of a cron schedule
// over the next few runs, which bounds the timeout as an interval does.
func minPeriod(s cron.Schedule) time.Duration {
	t := s.Next(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	shortest := time.Duration(0)
	for range 32 {
		next := s.Next(t)
		if gap := next.Sub(t); shortest == 0 || gap < shortest {
			shortest = gap
		}
		t = next
	}
	return shortest
}

func (c *Config) validateComponents(p *problems, monitors map[string]int) {
	names := map[string]int{}
	ids := map[int]int{}
	templates := compiledTemplates{}
	for i := range c.Components {
		cs := &c.Components[i]
		path := fmt.Sprintf("components[%d]", i)
		obj := fmt.Sprintf("component %q", cs.Name)
		uniqueName(p, names, cs.Name, "components", i, obj)
		switch first, dup := ids[cs.CachetID]; {
		case cs.CachetID < 0:
			p.add(path+".cachet_id", obj, "must not be negative")
		case cs.CachetID > 0 && dup:
			p.add(path+".cachet_id", obj, "%d is also used by components[%d]", cs.CachetID, first)
		case cs.CachetID > 0:
			ids[cs.CachetID] = i
		}
		if len(cs.Monitors) == 0 {
			p.add(path+".monitors", obj, "must list at least one monitor")
		}
		seen := map[string]bool{}
		for j, name := range cs.Monitors {
			if _, ok := monitors[name]; !ok {
				p.add(fmt.Sprintf("%s.monitors[%d]", path, j), obj, "unknown monitor %q", name)
			}
			if seen[name] {
				p.add(fmt.Sprintf("%s.monitors[%d]", path, j), obj, "monitor %q is listed twice", name)
			}
			seen[name] = true
		}
		for from, to := range cs.StatusMap {
			if !validStatusName(from) {
				p.add(path+".status_map", obj, "key %q must be one of %s", from, strings.Join(statusMapKeys, ", "))
			}
			if !validStatusName(to) {
				p.add(path+".status_map."+from, obj, "%q must be one of %s", to, strings.Join(statusMapKeys, ", "))
			}
		}
		cs.Incidents.compile(p, path+".incidents", obj, templates)
		switch cs.Rule {
		case RuleWorst, RuleAnyUp:
			if cs.Quorum != 0 {
				p.add(path+".quorum", obj, "only applies with rule quorum (rule is %s)", cs.Rule)
			}
		case RuleQuorum:
			if cs.Quorum < 1 || cs.Quorum > len(cs.Monitors) {
				p.add(path+".quorum", obj, "%d must be between 1 and the number of monitors (%d)", cs.Quorum, len(cs.Monitors))
			}
		default:
			p.add(path+".rule", obj, "%q must be worst, quorum or any_up", cs.Rule)
		}
	}
}
