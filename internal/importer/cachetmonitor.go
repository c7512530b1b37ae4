package importer

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"go.yaml.in/yaml/v3"

	"github.com/statussync/statussync/config"
)

// DefaultTokenFile is where imported configurations read the Cachet API
// token from, unless told otherwise.
const DefaultTokenFile = "/run/secrets/cachet/token"

// cachet-monitor's behaviour, from its source (monitor.go, http.go, dns.go
// and the TCP fork's tcp.go).
const (
	// cmHistory is how many recent checks its percentage threshold looks at.
	cmHistory = 10
	// cmDefaultThreshold is the threshold it uses when none (or <= 0) is set.
	cmDefaultThreshold = 100
	// cmDateFormat formats {{.now}} when date_format is not set.
	cmDateFormat = "15:04:05 Jan 2 MST"
	// cmDefaultDNS is its resolver when dns is not set and /etc/resolv.conf
	// names none.
	cmDefaultDNS = "8.8.8.8:53"
)

// minInterval keeps imported intervals workable: statussync needs a
// timeout below the interval, and cachet-monitor counts in whole seconds.
const minInterval = time.Second

// CachetMonitorOptions tune CachetMonitor.
type CachetMonitorOptions struct {
	// Source names the input in the output's header, e.g. its file name.
	Source string
	// TokenFile is where the output tells statussync to read the Cachet API
	// token from; DefaultTokenFile when empty.
	TokenFile string
}

// CachetMonitor imports a cachet-monitor configuration (JSON or YAML). It
// reads the api block (and the older api_url/api_token and backend
// spellings), the monitors of type http, https, tcp and dns, and the keys
// of widely used forks: scheme-less https targets, tcp port,
// additional_config.incident_creation, and values written as strings.
// Monitors that share a component_id become one component. The error is
// non-nil only when data is not a cachet-monitor configuration at all.
func CachetMonitor(data []byte, opts CachetMonitorOptions) (*Result, error) {
	raw, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("cachet-monitor configuration: %w", err)
	}
	if opts.TokenFile == "" {
		opts.TokenFile = DefaultTokenFile
	}
	im := &cmImport{c: newCollector(), opts: opts, out: newMapping(), names: map[string]bool{}, defaultInterval: 60 * time.Second}
	im.c.foldCase = true
	root, ok := newObject(im.c, "", raw, nil)
	if !ok {
		return nil, fmt.Errorf("cachet-monitor configuration: the top level must be a mapping, not %s", describe(raw))
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{im.out.node}}
	comment(doc, header("cachet-monitor", opts.Source, "docs/migration-cachet-monitor.md"))
	im.doc = doc
	root.anchor = doc
	im.run(root)
	return im.c.result(doc)
}

// header is the comment at the top of every imported configuration.
func header(tool, source, guide string) string {
	from := tool + " configuration"
	if source != "" {
		from += " " + quote(source)
	}
	return "statussync configuration imported from the " + from + ".\n" +
		"Review every WARNING below, then validate: statussync check --config.file FILE\n" +
		"Mapping and semantic differences: " + guide
}

type cmImport struct {
	c     *collector
	opts  CachetMonitorOptions
	doc   *yaml.Node
	out   *mapping
	names map[string]bool // monitor names in use

	dateFormat     string
	dateFormatPath string
	dateFormatUsed bool
	systemName     string
	systemNamePath string
	systemNameUsed bool

	// incidents is the top-level additional_config.incident_creation of the
	// deployed fork, which applies to every monitor that does not set its
	// own.
	topIncidents     *bool
	topIncidentsPath string

	monitorsKey *yaml.Node
	monitors    []*cmMonitor
	noThreshold []string // paths of the monitors without a threshold
	// defaultInterval is a monitor's interval when it sets none:
	// statussync's default, or cachet-monitor 1.x's top-level interval.
	defaultInterval time.Duration
}

// cmMonitor is one imported monitor, rendered once its component is known.
type cmMonitor struct {
	index     int
	path      string
	name      string
	node      *yaml.Node // the list item; warnings about the monitor go above it
	typ       string
	target    string
	interval  time.Duration
	timeout   time.Duration
	failures  int
	successes int
	threshold string // how failures/successes were derived
	triggers  bool   // cachet-monitor could open incidents for it
	metricID  int
	component int
	outage    string
	kind      string // http, tcp or dns
	block     *mapping

	incidents     *bool // additional_config.incident_creation
	incidentsPath string
	templates     map[string]string // "investigating.subject" etc.
	templatePath  string
}

func (im *cmImport) run(root *object) {
	// date_format and system_name feed template translation, so they come
	// first.
	im.dateFormat = cmDateFormat
	if s, ok := root.str("date_format"); ok && s != "" {
		im.dateFormat, im.dateFormatPath = s, "date_format"
	}
	if s, ok := root.str("system_name"); ok && s != "" {
		im.systemName, im.systemNamePath = s, "system_name"
	}
	im.cachet(root)
	im.defaults(root)
	im.topAdditional(root)

	im.monitorsKey = strNode("monitors")
	list, path, ok := root.list("monitors")
	if !ok && !root.has("monitors") {
		im.c.warn(im.doc, "monitors", "missing; nothing to monitor")
	}
	for i, item := range list {
		if m := im.monitor(indexPath(path, i), i, item); m != nil {
			im.monitors = append(im.monitors, m)
		}
	}

	im.reportNoThreshold()

	root.drop("$schema", "editor schema reference; nothing to import")
	root.drop("slack_webhook", "statussync does not post to Slack; alert on its metrics instead (docs/metrics.md)")
	root.drop("log_path", "statussync logs to stderr (--log.format, --log.level)")
	root.rest("")

	components := im.components()
	seq := seqNode()
	for _, m := range im.monitors {
		seq.Content = append(seq.Content, im.renderMonitor(m))
	}
	if len(seq.Content) == 0 {
		flow(seq)
		im.c.warn(im.monitorsKey, "monitors", "no monitor could be imported")
	}
	im.out.node.Content = append(im.out.node.Content, im.monitorsKey, seq)
	if len(components.Content) > 0 {
		im.out.set("components", components)
	}

	if im.dateFormatPath != "" && !im.dateFormatUsed {
		im.c.warn(im.doc, im.dateFormatPath, "used only for cachet-monitor's log lines and templates here; statussync logs RFC 3339 times")
	}
	if im.systemNamePath != "" && !im.systemNameUsed {
		im.c.warn(im.doc, im.systemNamePath, "named the cachet-monitor instance in incident names; no template here used it, nothing to import")
	}
}

// cachet maps the api block: url, token (never copied), insecure.
func (im *cmImport) cachet(root *object) {
	cachet := newMapping()
	cachetKey := im.out.set("cachet", cachet.node)

	var api *object
	switch {
	case root.has("api"):
		api, _ = root.child("api")
	case root.has("backend"):
		// The unreleased v3 branch calls it backend, with a type.
		api, _ = root.child("backend")
		if api != nil {
			if t, ok := api.str("type"); ok && t != "cachet" {
				api.warn("type", "backend type %s is not cachet; read as cachet anyway", quote(t))
			}
			if s, ok := api.str("date_format"); ok && s != "" {
				im.dateFormat, im.dateFormatPath = s, api.keyPath("date_format")
			}
		}
	default:
		// cachet-monitor 1.x kept these at the top level.
		api = &object{c: im.c, path: "api", m: map[string]any{}, taken: map[string]bool{}, paths: map[string]string{}}
		for _, kv := range [][2]string{{"api_url", "url"}, {"api_token", "token"}, {"insecure_api", "insecure"}} {
			if k, ok := root.lookup(kv[0]); ok {
				root.taken[k] = true
				api.m[kv[1]] = root.m[k]
				api.paths[kv[1]] = k
			}
		}
	}
	if api == nil {
		api = &object{c: im.c, path: "api", m: map[string]any{}, taken: map[string]bool{}}
	}
	api.anchor = cachetKey

	rawURL, hasURL := api.str("url")
	rawURL = strings.TrimSpace(rawURL)
	urlPath := api.keyPath("url")
	templated := false
	if ph := placeholders(rawURL); hasURL && len(ph) > 0 {
		// Never a literal URL: statussync would write to a host named
		// "{{ cachet_url }}".
		templated, hasURL = true, false
		im.c.warn(cachetKey, urlPath, "%s is a Jinja placeholder filled in when Ansible rendered the file; not imported. Set cachet.url to what it renders to (with the value of %s in place: Cachet 3's API base, ending in /api), in this file or as STATUSSYNC_CACHET__URL", quote(rawURL), placeholderNames(rawURL))
	}
	if hasURL && rawURL != "" {
		u, err := url.Parse(rawURL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			im.c.warn(cachetKey, urlPath, "%s is not an http(s) URL; not imported, so statussync runs as a dry run until cachet.url is set", quote(rawURL))
			hasURL = false
		default:
			if p := strings.TrimSuffix(u.Path, "/"); strings.HasSuffix(p, "/v1") {
				u.Path = strings.TrimSuffix(p, "/v1")
				im.c.warn(cachetKey, urlPath, "%s is the Cachet 2 API (/v1); statussync speaks Cachet 3, whose API base has no version: using %s. Upgrade Cachet before switching over", quote(rawURL), quote(u.String()))
			}
			k := cachet.set("url", strNode(u.String()))
			comment(k, "From "+urlPath+" (CACHET_API overrode it; STATUSSYNC_CACHET__URL does now).")
		}
	} else if !templated {
		hasURL = false
		im.c.warn(cachetKey, urlPath, "no Cachet URL: statussync runs as a dry run (decides and logs, writes nothing) until cachet.url is set")
	}

	tokenPath := api.keyPath("token")
	if v, _, ok := api.take("token", true); ok {
		// Never echo the token: not in the output, not in the warning. A
		// placeholder is no secret, and naming it says where the token is.
		if s, _ := asString(v); len(placeholders(s)) > 0 {
			im.c.warn(cachetKey, tokenPath, "%s is a Jinja placeholder, not a token; not imported. Put the Cachet 3 API token (docs/cachet-token.md) in %s, or set STATUSSYNC_CACHET__TOKEN; a Cachet 2 token that %s rendered to is refused by Cachet 3", quote(s), im.opts.TokenFile, placeholderNames(s))
		} else {
			im.c.warn(cachetKey, tokenPath, "not copied: statussync reads the token from %s. Cachet 3 does not accept Cachet 2 tokens: create an API token with the abilities listed in docs/cachet-token.md", im.opts.TokenFile)
		}
	}
	if templated {
		k := cachet.set("token_file", strNode(im.opts.TokenFile))
		comment(k, "cachet.url is still to be set (see the WARNING above); until then statussync runs as a dry run.\nPut a Cachet 3 API token (docs/cachet-token.md) in this file, or set STATUSSYNC_CACHET__TOKEN and delete token_file.")
	}
	if hasURL {
		k := cachet.set("token_file", strNode(im.opts.TokenFile))
		comment(k, "Put a Cachet 3 API token (docs/cachet-token.md) in this file, or set STATUSSYNC_CACHET__TOKEN and delete token_file.")
	}
	if !api.placeholder("insecure", "set cachet.tls.insecure_skip_verify: true only if it rendered to true") {
		if insecure, ok := api.boolean("insecure"); ok && insecure {
			k := cachet.child("tls").set("insecure_skip_verify", boolNode(true))
			comment(k, "From "+api.keyPath("insecure")+": the status page's certificate is not verified.")
		}
	}
	api.rest("")
	if cachet.empty() {
		cachet.node.Style = yaml.FlowStyle
	}
}

// defaults maps cachet-monitor 1.x's top-level interval.
func (im *cmImport) defaults(root *object) {
	if !root.has("interval") {
		return
	}
	d, ok := root.seconds("interval")
	if !ok || d == 0 {
		return
	}
	defaults := newMapping()
	k := im.out.set("defaults", defaults.node)
	comment(k, "From the top-level interval (seconds) of cachet-monitor 1.x.")
	if d < minInterval {
		im.c.warn(k, "interval", "%s is below %s; raised to %s", formatDuration(d), minInterval, minInterval)
		d = minInterval
	}
	defaults.set("interval", durationNode(d))
	im.defaultInterval = d
	if d <= 10*time.Second {
		defaults.set("timeout", durationNode(d*9/10))
	}
}

// cmMonitorKeys are the monitor keys cachet-monitor and its forks know; a
// key another monitor type uses is reported as having no effect.
var cmMonitorKeys = []string{
	"name", "target", "url", "type", "strict", "strict_tls", "interval", "timeout",
	"threshold", "threshold_count", "component_id", "metric_id", "template",
	"additional_config", "method", "headers", "body", "expected_status_code",
	"expected_body", "port", "question", "answers", "dns",
}

func (im *cmImport) monitor(path string, index int, raw any) *cmMonitor {
	m := &cmMonitor{index: index, path: path, node: &yaml.Node{Kind: yaml.MappingNode}, component: -1}
	o, ok := newObject(im.c, path, raw, m.node)
	if !ok {
		im.c.consumed[path] = true
		im.c.warn(im.monitorsKey, path, "must be a mapping, not %s; skipped", describe(raw))
		return nil
	}

	name, _ := o.str("name")
	m.name = im.uniqueName(o, strings.TrimSpace(name), index)

	m.typ = "http"
	if t, ok := o.str("type"); ok && strings.TrimSpace(t) != "" {
		m.typ = strings.ToLower(strings.TrimSpace(t))
	}
	var built bool
	switch m.typ {
	case "http", "https":
		m.kind = "http"
		built = im.httpBlock(o, m)
	case "tcp":
		m.kind = "tcp"
		built = im.tcpBlock(o, m)
	case "dns":
		m.kind = "dns"
		built = im.dnsBlock(o, m)
	default:
		o.warn("type", "%s monitors are not supported by statussync (http, https, tcp and dns are); monitor skipped", quote(m.typ))
	}
	if !built {
		o.rest("not imported: the monitor is skipped")
		im.skip(m)
		return nil
	}

	im.schedule(o, m)
	im.threshold(o, m)
	if id, ok := o.integer("component_id"); ok {
		if id > 0 {
			m.component = id
		} else if id < 0 {
			o.warn("component_id", "%d is not a Cachet component id; not imported", id)
		}
	}
	if id, ok := o.integer("metric_id"); ok {
		if id > 0 {
			m.metricID = id
		} else if id < 0 {
			o.warn("metric_id", "%d is not a Cachet metric id; not imported", id)
		}
	}
	if m.component < 0 && m.triggers {
		im.c.warn(m.node, path, "has no component_id, yet cachet-monitor opened incidents for it (attached to no component); statussync opens incidents for components only")
	}
	if m.component < 0 && m.metricID == 0 {
		im.c.warn(m.node, path, "has neither component_id nor metric_id (cachet-monitor refused that); imported as a monitor that only exports metrics")
	}
	im.additional(o, m)
	im.template(o, m)

	o.restWith(func(k string) string {
		if slices.Contains(cmMonitorKeys, strings.ToLower(k)) {
			return fmt.Sprintf("no effect on a %s monitor (cachet-monitor ignored it too); not imported", m.typ)
		}
		return unknownKey
	})
	return m
}

// skip moves a skipped monitor's comments above the monitors key, since its
// own list item is not rendered.
func (im *cmImport) skip(m *cmMonitor) {
	comment(im.monitorsKey, fmt.Sprintf("Skipped %s (%s):", m.path, quote(m.name)))
	if m.node.HeadComment != "" {
		im.monitorsKey.HeadComment += "\n" + m.node.HeadComment
	}
	delete(im.names, m.name)
}

// uniqueName keeps monitor names unique and non-empty, as statussync
// requires.
func (im *cmImport) uniqueName(o *object, name string, index int) string {
	if name == "" {
		name = fmt.Sprintf("monitor-%d", index+1)
		o.warn("name", "missing; named %s", quote(name))
	}
	if im.names[name] {
		base := name
		for n := 2; im.names[name]; n++ {
			name = fmt.Sprintf("%s (%d)", base, n)
		}
		o.warn("name", "%s is used by an earlier monitor; renamed %s", quote(base), quote(name))
	}
	im.names[name] = true
	return name
}

// schedule maps interval and timeout, both in seconds.
func (im *cmImport) schedule(o *object, m *cmMonitor) {
	if d, ok := o.seconds("interval"); ok && d > 0 {
		if d < minInterval {
			o.warn("interval", "%s is below %s; raised to %s", formatDuration(d), minInterval, minInterval)
			d = minInterval
		}
		m.interval = d
	}
	if d, ok := o.seconds("timeout"); ok && d > 0 {
		m.timeout = d
	}
	interval := m.interval
	if interval == 0 {
		interval = im.defaultInterval
	}
	if m.timeout >= interval {
		fixed := interval * 9 / 10
		o.warn("timeout", "%s is not below the interval %s, which statussync requires; set to %s", formatDuration(m.timeout), formatDuration(interval), formatDuration(fixed))
		m.timeout = fixed
	}
}

// threshold maps cachet-monitor's threshold to statussync's consecutive
// counts. cachet-monitor keeps the last 10 checks (with threshold_count,
// the last `threshold` checks): it opens an incident when more than
// threshold percent of them failed (with threshold_count, when all of them
// failed) and resolves it when that no longer holds. The counts below give
// the same verdict for an outage that starts or ends cleanly.
func (im *cmImport) threshold(o *object, m *cmMonitor) {
	countMode := false
	if b, ok := o.boolean("threshold_count"); ok {
		countMode = b
	}
	t, set := o.number("threshold")
	if !set && !countMode {
		// Upstream cachet-monitor then used 100% and never fired; the
		// deployed forks move components without a threshold. Ten
		// failures in a row would make a 60s monitor take ten minutes to
		// show an outage: statussync's defaults are the honest mapping.
		m.triggers = true
		im.noThreshold = append(im.noThreshold, m.path)
		return
	}
	if !set || t <= 0 {
		t = cmDefaultThreshold
	}
	if countMode {
		n := int(math.Min(t, math.MaxInt32))
		if n != int(t) || t != math.Trunc(t) {
			o.warn("threshold", "%v is not a whole number of checks; cachet-monitor used %d", t, n)
		}
		n = max(n, 1)
		m.failures, m.successes = n, 1
		m.triggers = true
		m.threshold = fmt.Sprintf("threshold_count: down after %s in a row, up again on the first success", plural(n, "failed check"))
		if !set {
			o.warn("threshold", "not set: cachet-monitor waited for %d failures in a row; so does this", n)
		}
		return
	}
	// The first count of failures in the window that is "over" t, computed
	// as cachet-monitor does, in float32: with 30 or 60 its rounding puts
	// exactly 30% (60%) over the threshold.
	m.failures, m.triggers = cmHistory, false
	for n := 1; n <= cmHistory; n++ {
		if cmOver(n, float32(t)) {
			m.failures, m.triggers = n, true
			break
		}
	}
	// Coming back takes as many successes as it takes to push all but
	// failures-1 failures out of the window.
	m.successes = cmHistory - m.failures + 1
	if !m.triggers {
		m.successes = 1
	}
	what := fmt.Sprintf("threshold %v%%", t)
	if !set {
		what = "threshold (not set: 100%)"
	}
	m.threshold = fmt.Sprintf("%s of the last %d checks: down after %s in a row, up after %s in a row", what, cmHistory, plural(m.failures, "failure"), plural(m.successes, "success"))
	switch {
	case !m.triggers:
		what := "not set, so 100%"
		if set {
			what = fmt.Sprintf("%v%%", t)
		}
		im.c.warn(m.node, o.keyPath("threshold"), "%s: cachet-monitor could never exceed it, so this monitor never opened an incident nor changed its component; statussync marks it down after %s in a row", what, plural(m.failures, "failure"))
	default:
		o.warn("threshold", "%v%% of cachet-monitor's last %d checks becomes %s in a row to go down and %s in a row to come back: the same for a clean outage, but intermittent failures no longer add up", t, cmHistory, plural(m.failures, "failure"), plural(m.successes, "success"))
	}
}

// reportNoThreshold says once which monitors had no threshold and run with
// statussync's defaults.
func (im *cmImport) reportNoThreshold() {
	if len(im.noThreshold) == 0 {
		return
	}
	d := config.Default().Defaults
	which := "monitors[*].threshold"
	if len(im.noThreshold) < len(im.monitors) {
		which = strings.Join(im.noThreshold, ".threshold, ") + ".threshold"
	}
	im.c.warn(im.monitorsKey, which, "not set (%d of %d monitors): statussync's defaults apply, down after %s in a row and up after %s in a row (defaults.failures_before_down, defaults.successes_before_up). Upstream cachet-monitor never fired without a threshold, but the forks that feed live status pages do; mapping it to 10 failures in a row would make a 60s monitor take 10 minutes to show an outage. Set failures_before_down on a monitor to wait longer",
		len(im.noThreshold), len(im.monitors), plural(d.FailuresBeforeDown, "failure"), plural(d.SuccessesBeforeUp, "success"))
}

// cmOver is cachet-monitor's test of numDown failures among its last
// cmHistory checks against a threshold in percent, float32 rounding
// included.
func cmOver(numDown int, threshold float32) bool {
	share := float32(numDown) / float32(cmHistory)
	return share*100 > threshold
}

// additional maps a monitor's additional_config (the forks'), and gives a
// monitor that does not set incident_creation the top-level one.
func (im *cmImport) additional(o *object, m *cmMonitor) {
	m.incidents, m.incidentsPath = additionalConfig(o)
	if m.incidents == nil {
		m.incidents, m.incidentsPath = im.topIncidents, im.topIncidentsPath
	}
}

// topAdditional reads the top-level additional_config of the deployed
// fork: its incident_creation is every monitor's unless a monitor sets its
// own.
func (im *cmImport) topAdditional(root *object) {
	im.topIncidents, im.topIncidentsPath = additionalConfig(root)
}

// additionalConfig reads additional_config.incident_creation under o, and
// reports the block's other keys.
func additionalConfig(o *object) (*bool, string) {
	ac, ok := o.child("additional_config")
	if !ok {
		return nil, ""
	}
	defer ac.rest("")
	if b, ok := ac.boolean("incident_creation"); ok {
		return &b, ac.keyPath("incident_creation")
	}
	return nil, ""
}

// template reads the incident templates; they are translated per component.
func (im *cmImport) template(o *object, m *cmMonitor) {
	t, ok := o.child("template")
	if !ok {
		return
	}
	m.templatePath = t.path
	m.templates = map[string]string{}
	for _, phase := range []string{"investigating", "fixed"} {
		p, ok := t.child(phase)
		if !ok {
			continue
		}
		for _, part := range []string{"subject", "message"} {
			if s, ok := p.str(part); ok && s != "" {
				m.templates[phase+"."+part] = s
			}
		}
		p.rest("")
	}
	t.rest("")
}

func (im *cmImport) httpBlock(o *object, m *cmMonitor) bool {
	b := newMapping()
	m.block = b
	targetKey := "target"
	if !o.has("target") && o.has("url") {
		targetKey = "url" // cachet-monitor 1.x
	}
	if o.placeholder(targetKey, "monitor skipped; add it by hand with the URL it renders to") {
		return false
	}
	target, ok := o.str(targetKey)
	target = strings.TrimSpace(target)
	if !ok || target == "" {
		o.warn(targetKey, "missing: nothing to check; monitor skipped")
		return false
	}
	m.target = target
	if !strings.Contains(target, "://") {
		scheme := "https"
		if m.typ == "http" {
			scheme = "http"
			o.warn(targetKey, "%s has no scheme (cachet-monitor could not request it); http:// assumed", quote(target))
		}
		target = scheme + "://" + target
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		o.warn(targetKey, "%s is not an http(s) URL; monitor skipped", quote(m.target))
		return false
	}
	if port, ok := o.str("port"); ok && port != "" {
		if u.Port() == "" && validPort(port) {
			u.Host = net.JoinHostPort(u.Hostname(), port)
		} else {
			o.warn("port", "%s ignored: the URL %s names its own port, or it is not a port", quote(port), quote(u.String()))
		}
	}
	k := b.set("url", strNode(u.String()))
	if u.String() != m.target {
		comment(k, "From "+o.keyPath(targetKey)+" "+quote(m.target)+".")
	}

	if method, ok := o.str("method"); ok && method != "" {
		method = strings.ToUpper(strings.TrimSpace(method))
		if isToken(method) {
			if method != "GET" {
				b.set("method", strNode(method))
			}
		} else {
			o.warn("method", "%s is not an HTTP method; GET is used", quote(method))
		}
	}
	im.headers(o, b)
	if body, ok := o.str("body"); ok && body != "" {
		b.set("body", strNode(body))
	}

	code, hasCode := o.integer("expected_status_code")
	if hasCode && code != 0 {
		if code < 100 || code > 599 {
			o.warn("expected_status_code", "%d is not an HTTP status code; any 2xx is accepted", code)
			hasCode = false
		} else {
			b.set("valid_status_codes", flow(seqNode(intNode(code))))
		}
	} else {
		hasCode = false
	}
	body, hasBody := o.str("expected_body")
	hasBody = hasBody && body != ""
	if hasBody {
		if _, err := regexp.Compile(body); err != nil {
			o.warn("expected_body", "%s is not a regular expression (cachet-monitor refused it): %v; not imported", quote(body), err)
			hasBody = false
		} else {
			b.set("fail_if_body_not_matches_regexp", flow(strSeq([]string{body})))
		}
	}
	switch {
	case !hasCode && !hasBody:
		im.c.warn(m.node, m.path, "has neither expected_status_code nor expected_body (cachet-monitor refused that); statussync accepts any 2xx")
	case !hasCode:
		im.c.warn(m.node, o.keyPath("expected_body"), "without expected_status_code cachet-monitor accepted any status; statussync accepts 2xx only (set valid_status_codes to widen)")
	}

	strictKey := "strict"
	if !o.has("strict") && o.has("strict_tls") {
		strictKey = "strict_tls"
	}
	strict, hasStrict := o.boolean(strictKey)
	if u.Scheme == "https" {
		switch {
		case hasStrict && !strict:
			k := b.child("tls_config").set("insecure_skip_verify", boolNode(true))
			comment(k, "From "+o.keyPath(strictKey)+": false.")
		case !hasStrict:
			im.c.warn(m.node, o.keyPath(strictKey), "not set: cachet-monitor did not verify the certificate; statussync does. For a self-signed certificate set http.tls_config.ca_file (or insecure_skip_verify: true)")
		}
	}
	return true
}

// headers maps headers: a mapping, or cachet-monitor 1.x's list of
// {header, value}.
func (im *cmImport) headers(o *object, b *mapping) {
	type header struct{ name, value, path string }
	var hs []header
	k, _ := o.lookup("headers")
	switch o.m[k].(type) {
	case nil:
		o.take("headers", true)
		return
	case []any:
		l, path, _ := o.list("headers")
		for i, item := range l {
			h, ok := newObject(im.c, indexPath(path, i), item, o.anchor)
			if !ok {
				im.c.consumed[indexPath(path, i)] = true
				im.c.warn(o.anchor, indexPath(path, i), "must be {header, value}, not %s; not imported", describe(item))
				continue
			}
			name, _ := h.str("header")
			value, _ := h.str("value")
			hs = append(hs, header{name, value, h.keyPath("header")})
			h.rest("")
		}
	default:
		h, ok := o.child("headers")
		if !ok {
			return
		}
		for _, k := range h.keys() {
			if value, ok := h.str(k); ok {
				hs = append(hs, header{k, value, h.keyPath(k)})
			}
		}
	}
	out := newMapping()
	for _, h := range hs {
		switch {
		case !validHeaderName(h.name):
			im.c.warn(o.anchor, h.path, "%s is not a valid header name; not imported", quote(h.name))
			continue
		case strings.Contains(h.name, "."):
			im.c.warn(o.anchor, h.path, "statussync's configuration cannot hold a header name with a dot (%s); not imported", quote(h.name))
			continue
		case strings.EqualFold(h.name, "Authorization") || strings.EqualFold(h.name, "Proxy-Authorization"):
			im.c.warn(o.anchor, h.path, "copied, but it holds a credential: consider http.basic_auth with password_file, or bearer_token_file")
		}
		out.set(h.name, strNode(h.value))
	}
	if !out.empty() {
		b.set("headers", out.node)
	}
}

func (im *cmImport) tcpBlock(o *object, m *cmMonitor) bool {
	b := newMapping()
	m.block = b
	if o.placeholder("target", "monitor skipped; add it by hand with the host it renders to") {
		return false
	}
	target, ok := o.str("target")
	target = strings.TrimSpace(target)
	if !ok || target == "" {
		o.warn("target", "missing: nothing to check; monitor skipped")
		return false
	}
	m.target = target
	host := strings.TrimPrefix(target, "tcp://")
	port, hasPort := o.str("port")
	port = strings.TrimSpace(port)
	var address string
	switch {
	case hasPort && port != "":
		if !validPort(port) {
			o.warn("port", "%s is not a port; monitor skipped", quote(port))
			return false
		}
		address = net.JoinHostPort(strings.Trim(host, "[]"), port)
	default:
		if h, p, err := net.SplitHostPort(host); err == nil && h != "" && validPort(p) {
			address = host
		} else {
			o.warn("port", "missing (cachet-monitor refused that); monitor skipped")
			return false
		}
	}
	if _, _, err := net.SplitHostPort(address); err != nil || strings.ContainsAny(address, " /") {
		o.warn("target", "%s is not a host name or address; monitor skipped", quote(target))
		return false
	}
	k := b.set("address", strNode(address))
	comment(k, "From "+o.keyPath("target")+" and port.")
	return true
}

func (im *cmImport) dnsBlock(o *object, m *cmMonitor) bool {
	b := newMapping()
	m.block = b
	if o.placeholder("target", "monitor skipped; add it by hand with the name it renders to") {
		return false
	}
	target, ok := o.str("target")
	target = strings.TrimSpace(target)
	if !ok || target == "" {
		o.warn("target", "missing: nothing to query; monitor skipped")
		return false
	}
	m.target = target
	if _, ok := dns.IsDomainName(target); !ok {
		o.warn("target", "%s is not a domain name; monitor skipped", quote(target))
		return false
	}
	server, _ := o.str("dns")
	server = strings.TrimSpace(server)
	if server == "" {
		server = cmDefaultDNS
		o.warn("dns", "not set: cachet-monitor asked the first nameserver of its /etc/resolv.conf; statussync needs one named, %s is used: set the one you mean", server)
	}
	b.set("server", strNode(server))
	k := b.set("query_name", strNode(target))
	comment(k, "From "+o.keyPath("target")+".")

	qtype := "A"
	if q, ok := o.str("question"); ok && strings.TrimSpace(q) != "" {
		q = strings.ToUpper(strings.TrimSpace(q))
		if _, known := dns.StringToType[q]; known {
			qtype = q
		} else {
			o.warn("question", "%s is not a DNS type (cachet-monitor refused it); A is used", quote(q))
		}
	}
	k = b.set("query_type", strNode(qtype))
	if !o.has("question") {
		comment(k, "cachet-monitor's default; statussync's would be ANY.")
	}

	list, path, _ := o.list("answers")
	var res []string
	for i, item := range list {
		a, ok := newObject(im.c, indexPath(path, i), item, o.anchor)
		if !ok {
			im.c.consumed[indexPath(path, i)] = true
			im.c.warn(o.anchor, indexPath(path, i), "must be {regex} or {exact}, not %s; not imported", describe(item))
			continue
		}
		re, note, ok := answerRegexp(a, qtype)
		if note != "" {
			im.c.warn(o.anchor, a.path, "%s", note)
		}
		if ok {
			res = append(res, re)
		}
		a.rest("")
	}
	if len(res) > 0 {
		k := b.child("validate_answer_rrs").set("fail_if_none_matches_regexp", strSeq(res))
		comment(k, "From "+path+": cachet-monitor compared each answer's data; these match it after the record's name, TTL, class and type.")
		if len(res) > 1 {
			im.c.warn(o.anchor, path, "cachet-monitor required every one of these %d answers; statussync (as blackbox) passes when any record matches any of them. For each to be required, import one dns monitor per answer", len(res))
		}
	}
	return true
}

// rdataPrefix skips a record's name, TTL, class and type in its text form
// ("example.org.\t300\tIN\tMX\t10 mx.example.org."), so that the rest
// matches what cachet-monitor compared: the record's data fields joined by
// spaces.
const rdataPrefix = `^(?:[^\t]*\t){4}`

// answerRegexp turns one cachet-monitor answer check into a regexp over
// the record's text form, with a note when the translation is not exact.
func answerRegexp(a *object, qtype string) (string, string, bool) {
	quoted := qtype == "TXT" || qtype == "SPF"
	if re, ok := a.str("regex"); ok && re != "" {
		a.take("exact", true)
		if _, err := regexp.Compile(re); err != nil {
			return "", fmt.Sprintf("regex %s does not compile (cachet-monitor then failed every check): %v; not imported", quote(re), err), false
		}
		var out string
		if rest, anchored := strings.CutPrefix(re, "^"); anchored {
			out = rdataPrefix + "(?:" + rest + ")"
		} else {
			out = rdataPrefix + ".*?(?:" + re + ")"
		}
		note := ""
		if quoted {
			note = "TXT data is quoted in statussync's record text (\"v=spf1 …\"): check that the regex still matches"
		}
		if _, err := regexp.Compile(out); err != nil {
			return "", fmt.Sprintf("regex %s cannot be confined to the record's data; not imported", quote(re)), false
		}
		return out, note, true
	}
	exact, ok := a.str("exact")
	if !ok || exact == "" {
		return "", "neither regex nor exact; not imported", false
	}
	if quoted && !strings.HasPrefix(exact, `"`) {
		return rdataPrefix + regexp.QuoteMeta(`"`+exact+`"`) + "$", "TXT data is quoted in statussync's record text; the value is expected as one quoted string", true
	}
	return rdataPrefix + regexp.QuoteMeta(exact) + "$", "", true
}

// components groups the monitors by component_id, in order of first use.
func (im *cmImport) components() *yaml.Node {
	seq := seqNode()
	var ids []int
	byID := map[int][]*cmMonitor{}
	for _, m := range im.monitors {
		if m.component < 0 {
			continue
		}
		if _, ok := byID[m.component]; !ok {
			ids = append(ids, m.component)
		}
		byID[m.component] = append(byID[m.component], m)
	}
	usedNames := map[string]bool{}
	for _, id := range ids {
		ms := byID[id]
		c := newMapping()
		names := make([]string, len(ms))
		for i, m := range ms {
			names[i] = m.name
		}
		name := componentName(names)
		if strings.TrimSpace(name) == "" {
			name = fmt.Sprintf("Component %d", id)
		}
		if usedNames[name] {
			name = fmt.Sprintf("%s (%d)", name, id)
		}
		for n := 2; usedNames[name]; n++ {
			name = fmt.Sprintf("%s #%d", componentName(names), n)
		}
		usedNames[name] = true
		k := c.set("name", strNode(name))
		comment(c.node, fmt.Sprintf("component_id %d of %s. statussync matches it by cachet_id; the name is only a label here (set it to the Cachet component's name).", id, strings.Join(quoteAll(names), ", ")))
		_ = k
		c.set("cachet_id", intNode(id))
		c.set("monitors", flow(strSeq(names)))
		if len(ms) == 1 {
			ms[0].outage = "partial"
		} else {
			k := c.set("rule", strNode("quorum"))
			comment(k, "cachet-monitor marked the component partial outage on the first failing monitor and major outage on the next: quorum 2 does the same.")
			c.set("quorum", intNode(2))
		}
		im.incidents(c, ms)
		seq.Content = append(seq.Content, c.node)
	}
	return seq
}

// componentName derives a name from the monitors' names: the one name, or
// the words they all start with, or all of them.
func componentName(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	prefix := strings.Fields(names[0])
	for _, n := range names[1:] {
		w := strings.Fields(n)
		i := 0
		for i < len(prefix) && i < len(w) && prefix[i] == w[i] {
			i++
		}
		prefix = prefix[:i]
	}
	p := strings.TrimRight(strings.Join(prefix, " "), " -_:/|,.")
	if len([]rune(p)) >= 3 {
		return p
	}
	return strings.Join(names, " + ")
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = quote(s)
	}
	return out
}

// incidents maps incident creation (cachet-monitor always created
// incidents and notified subscribers, unless a fork's
// additional_config.incident_creation said no) and the templates.
func (im *cmImport) incidents(c *mapping, ms []*cmMonitor) {
	enabled, disabledBy, enabledBy := false, []string{}, []string{}
	for _, m := range ms {
		if m.incidents != nil && !*m.incidents {
			if !slices.Contains(disabledBy, m.incidentsPath) {
				disabledBy = append(disabledBy, m.incidentsPath)
			}
		} else {
			enabled = true
			enabledBy = append(enabledBy, m.path)
		}
	}
	inc := newMapping()
	k := c.set("incidents", inc.node)
	if !enabled {
		inc.set("enabled", boolNode(false))
		comment(k, "From "+strings.Join(disabledBy, ", ")+": false.")
	} else {
		for _, p := range disabledBy {
			im.c.warn(k, p, "false, but %s of the same component create incidents; statussync decides per component: incidents enabled", strings.Join(enabledBy, ", "))
		}
		comment(k, "cachet-monitor opened an incident for every outage and e-mailed subscribers (notify).")
		inc.set("enabled", boolNode(true))
		inc.set("notify", boolNode(true))
	}

	var owner *cmMonitor
	for _, m := range ms {
		if len(m.templates) == 0 {
			continue
		}
		if owner == nil {
			owner = m
			continue
		}
		if !equalTemplates(owner.templates, m.templates) {
			im.c.warn(k, m.templatePath, "differs from %s; a component has one set of templates in statussync, %s's is used", owner.templatePath, owner.templatePath)
		}
	}
	if owner == nil {
		return
	}
	tctx := tmplContext{
		monitor:    owner.name,
		target:     owner.target,
		typ:        owner.typ,
		shared:     len(ms) > 1,
		systemName: im.systemName,
		dateFormat: im.dateFormat,
	}
	templates := newMapping()
	for _, t := range []struct{ from, to string }{
		{"investigating.subject", "name"},
		{"investigating.message", "investigating"},
		{"fixed.message", "resolved"},
	} {
		src, ok := owner.templates[t.from]
		if !ok {
			continue
		}
		from := owner.templatePath + "." + t.from
		c := tctx
		c.end = t.to == "resolved"
		out, notes, err := translateTemplate(src, c)
		if err != nil {
			im.c.warn(k, from, "%v; statussync's default %s template is used. Original: %s", err, t.to, quote(src))
			continue
		}
		key := templates.set(t.to, strNode(out))
		comment(key, "From "+from+".")
		for _, n := range notes {
			im.c.warn(key, from, "%s", n)
		}
		im.dateFormatUsed = im.dateFormatUsed || strings.Contains(src, ".now")
		im.systemNameUsed = im.systemNameUsed || strings.Contains(src, ".SystemName")
	}
	if fixed, ok := owner.templates["fixed.subject"]; ok && fixed != owner.templates["investigating.subject"] {
		im.c.warn(k, owner.templatePath+".fixed.subject", "statussync keeps an incident's name for its whole life (templates.name); not imported. Original: %s", quote(fixed))
	}
	if !templates.empty() {
		inc.set("templates", templates.node)
	}
}

func equalTemplates(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// renderMonitor writes one monitor.
func (im *cmImport) renderMonitor(m *cmMonitor) *yaml.Node {
	out := &mapping{node: m.node}
	out.set("name", strNode(m.name))
	if m.interval > 0 {
		k := out.set("interval", durationNode(m.interval))
		comment(k, "interval and timeout were in seconds.")
	}
	if m.timeout > 0 {
		out.set("timeout", durationNode(m.timeout))
	}
	if m.failures > 0 {
		k := out.set("failures_before_down", intNode(m.failures))
		comment(k, "From "+m.threshold+".")
		out.set("successes_before_up", intNode(m.successes))
	}
	if m.outage != "" {
		k := out.set("outage", strNode(m.outage))
		comment(k, "cachet-monitor marked a failing monitor's component partial outage.")
	}
	if m.metricID > 0 {
		k := out.set("metric", flow(newMappingWith("id", intNode(m.metricID))))
		comment(k, "cachet-monitor posted each check's latency (ms) to metric_id; statussync averages them per the metric's threshold window.")
	}
	if m.component < 0 && m.metricID > 0 {
		comment(m.node, "No component_id: cachet-monitor only posted this monitor's latency to its metric.")
	}
	out.set(m.kind, m.block.node)
	return m.node
}

func newMappingWith(key string, v *yaml.Node) *yaml.Node {
	m := newMapping()
	m.set(key, v)
	return m.node
}

// plural writes "1 failure", "2 failures", "2 successes".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "s") {
		return fmt.Sprintf("%d %ses", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n > 0 && n < 65536
}

// isToken reports whether s is an HTTP token, as a method must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

// validHeaderName is statussync's rule (config/http.go).
func validHeaderName(name string) bool { return isToken(name) }
