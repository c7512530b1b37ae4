package importer

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// BlackboxOptions tune Blackbox.
type BlackboxOptions struct {
	// Source names the inputs in the output's header.
	Source string
	// Module probes the targets that name none. When empty and blackbox.yml
	// has exactly one module, that one.
	Module string
	// Interval, when set, becomes defaults.interval. Blackbox probes when
	// Prometheus scrapes (scrape_interval), which blackbox.yml does not say;
	// statussync schedules its own checks, every 60s unless told otherwise.
	Interval time.Duration
	// NoComponents imports monitors only. By default each target also gets
	// a component of the same name, to show on the status page.
	NoComponents bool
}

// defaultInterval is statussync's defaults.interval.
const defaultInterval = 60 * time.Second

// Blackbox imports blackbox_exporter modules (blackbox.yml) and a list of
// targets (see parseTargets for its formats) into one monitor per target:
// http, tcp and dns modules map key for key (docs/probes.md); icmp, grpc
// and other probers are reported. The error is non-nil only when an input
// cannot be read at all.
func Blackbox(modules, targets []byte, opts BlackboxOptions) (*Result, error) {
	raw, err := decode(modules)
	if err != nil {
		return nil, fmt.Errorf("blackbox modules: %w", err)
	}
	im := &bbImport{c: newCollector(), opts: opts, out: newMapping(), names: map[string]bool{}, used: map[string]bool{}, imported: map[string]bool{}, failed: map[string]bool{}}
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{im.out.node}}
	im.doc = doc
	root, ok := newObject(im.c, "", raw, doc)
	if !ok {
		return nil, fmt.Errorf("blackbox modules: the top level must be a mapping, not %s", describe(raw))
	}
	if !root.has("modules") {
		return nil, fmt.Errorf("blackbox modules: no modules")
	}
	mods, ok := root.child("modules")
	if !ok {
		return nil, fmt.Errorf("blackbox modules: modules must be a mapping")
	}
	im.modules = mods
	root.rest("")

	comment(doc, header("blackbox_exporter", opts.Source, "docs/migration-blackbox.md")+
		"\nNo cachet block: statussync runs as a dry run until you add cachet.url and token_file (docs/cachet-token.md).")
	if !opts.NoComponents {
		comment(doc, "Each target is also a component, matched to the Cachet component of the same name: rename them to match, or add cachet_id.")
	}
	defaultModule := opts.Module
	if defaultModule == "" && len(mods.m) == 1 {
		defaultModule = mods.keys()[0]
	}
	list, err := parseTargets(im.c, doc, targets, defaultModule)
	if err != nil {
		return nil, err
	}
	im.interval = defaultInterval
	if opts.Interval > 0 {
		im.interval = max(opts.Interval, minInterval)
		k := im.out.set("defaults", newMappingWith("interval", durationNode(im.interval)))
		comment(k, "Blackbox probed at Prometheus's scrape_interval; statussync schedules checks itself.")
	}

	monitorsKey := strNode("monitors")
	monitors := seqNode()
	components := seqNode()
	for _, t := range list {
		node := im.target(t)
		if node == nil {
			continue
		}
		monitors.Content = append(monitors.Content, node)
		if !opts.NoComponents {
			name := node.Content[1].Value
			c := newMapping()
			c.set("name", strNode(name))
			c.set("monitors", flow(strSeq([]string{name})))
			components.Content = append(components.Content, c.node)
		}
	}
	for _, name := range mods.keys() {
		mods.taken[name] = true
		switch {
		case !im.used[name]:
			im.c.warn(doc, mods.keyPath(name), "no target uses this module; nothing imported")
		case !im.imported[name] && !im.failed[name]:
			// Every target failed on its own (a bad address): report the
			// module's keys once here.
			if mod, ok := newObject(im.c, mods.keyPath(name), mods.m[name], doc); ok {
				mod.take("prober", true)
				mod.rest("not imported: none of the module's targets could be imported")
			}
		}
	}
	if len(monitors.Content) == 0 {
		flow(monitors)
		im.c.warn(monitorsKey, "", "no target could be imported")
	}
	im.out.node.Content = append(im.out.node.Content, monitorsKey, monitors)
	if len(components.Content) > 0 {
		im.out.set("components", components)
	}
	return im.c.result(doc)
}

type bbImport struct {
	c        *collector
	opts     BlackboxOptions
	doc      *yaml.Node
	out      *mapping
	modules  *object
	names    map[string]bool
	used     map[string]bool // modules named by a target
	imported map[string]bool // modules with an imported target
	failed   map[string]bool // modules that cannot be imported at all, reported
	interval time.Duration
}

// target builds one monitor, or returns nil (with a warning) when the
// target cannot be imported.
func (im *bbImport) target(t bbTarget) *yaml.Node {
	m := newMapping()
	if t.module == "" {
		im.c.warn(im.doc, t.path, "%s names no module and blackbox.yml has several: write \"MODULE TARGET\" or pass --module; skipped", quote(t.target))
		return nil
	}
	if _, ok := im.modules.lookup(t.module); !ok {
		im.c.warn(im.doc, t.path, "module %s is not in blackbox.yml; skipped", quote(t.module))
		return nil
	}
	k, _ := im.modules.lookup(t.module)
	im.used[k] = true
	// A fresh reader per target: each monitor gets the module's warnings
	// at its spot, and the collector lists each warning once.
	mod, ok := newObject(im.c, im.modules.keyPath(k), im.modules.m[k], m.node)
	if !ok {
		im.c.consumed[im.modules.keyPath(k)] = true
		im.c.warn(im.doc, im.modules.keyPath(k), "must be a mapping; skipped")
		return nil
	}
	prober, _ := mod.str("prober")
	block := newMapping()
	var name string
	switch prober {
	case "http":
		name, ok = im.httpTarget(t, block)
	case "tcp":
		name, ok = im.tcpTarget(t, block)
	case "dns":
		name, ok = im.dnsTarget(t, mod, k, block)
	case "":
		im.c.warn(im.doc, mod.keyPath("prober"), "missing; targets of this module are skipped")
		mod.rest("not imported: the module's targets are skipped")
		im.failed[k] = true
		return nil
	default:
		im.c.warn(im.doc, mod.keyPath("prober"), "%s probes are not supported by statussync (http, tcp and dns are); targets of this module are skipped", quote(prober))
		mod.rest("not imported: the module's targets are skipped")
		im.failed[k] = true
		return nil
	}
	if !ok {
		return nil // reported; a bad target does not stop the module serving others
	}
	im.imported[k] = true
	name = im.uniqueName(name, t.module)
	m.set("name", strNode(name))
	comment(m.node, fmt.Sprintf("From target %s (%s) with module %s.", quote(t.target), t.path, quote(t.module)))

	if d, ok := mod.duration("timeout"); ok {
		if d >= im.interval {
			fixed := im.interval * 9 / 10
			mod.warn("timeout", "%s is not below the interval %s, which statussync requires; set to %s", formatDuration(d), formatDuration(im.interval), formatDuration(fixed))
			d = fixed
		}
		m.set("timeout", durationNode(d))
	}
	labels := newMapping()
	mk := labels.set("module", strNode(t.module))
	comment(mk, "GET /probe?module=...&target=... serves this monitor's latest result as blackbox did (docs/migration-blackbox.md).")
	for _, k := range sortedKeys(t.labels) {
		labels.set(k, strNode(t.labels[k]))
	}
	lk := m.set("labels", labels.node)
	if len(t.labels) > 0 {
		comment(lk, "module, and the file_sd group's labels.")
	}
	switch prober {
	case "http":
		if p, ok := mod.child("http"); ok {
			im.httpProbe(p, block)
		}
	case "tcp":
		if p, ok := mod.child("tcp"); ok {
			im.tcpProbe(p, block)
		}
	}
	for _, other := range []string{"http", "tcp", "dns", "icmp", "grpc"} {
		if other != prober {
			mod.drop(other, "ignored: the module's prober is %s (blackbox ignored it too)", prober)
		}
	}
	mod.rest("")
	m.set(prober, block.node)
	return m.node
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// uniqueName keeps monitor names unique: the same target probed with two
// modules gets the module in its name.
func (im *bbImport) uniqueName(name, module string) string {
	if im.names[name] {
		name += " (" + module + ")"
	}
	base := name
	for n := 2; im.names[name]; n++ {
		name = fmt.Sprintf("%s #%d", base, n)
	}
	im.names[name] = true
	return name
}

func (im *bbImport) httpTarget(t bbTarget, b *mapping) (string, bool) {
	target := t.target
	if !strings.HasPrefix(target, "http://") && !strings.HasPrefix(target, "https://") {
		target = "http://" + target // as blackbox's http prober does
	}
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		im.c.warn(im.doc, t.path, "%s is not an http(s) URL; skipped", quote(t.target))
		return "", false
	}
	k := b.set("url", strNode(u.String()))
	if target != t.target {
		comment(k, "blackbox prepends http:// to a target without a scheme.")
	}
	name := u.Host + strings.TrimSuffix(u.EscapedPath(), "/")
	if u.RawQuery != "" {
		name += "?" + u.RawQuery
	}
	return name, true
}

func (im *bbImport) tcpTarget(t bbTarget, b *mapping) (string, bool) {
	host, port, err := net.SplitHostPort(t.target)
	if err != nil || host == "" || !validPort(port) {
		im.c.warn(im.doc, t.path, "%s is not host:port; skipped", quote(t.target))
		return "", false
	}
	b.set("address", strNode(t.target))
	return t.target, true
}

func (im *bbImport) dnsTarget(t bbTarget, mod *object, module string, b *mapping) (string, bool) {
	server := t.target
	if strings.ContainsAny(server, "/ ") {
		im.c.warn(im.doc, t.path, "%s is not a DNS server (host or host:port); skipped", quote(t.target))
		return "", false
	}
	p, ok := mod.child("dns")
	if !ok {
		im.c.warn(im.doc, mod.keyPath("dns"), "missing: a dns module needs query_name (blackbox refuses it too); targets of this module are skipped")
		mod.rest("not imported: the module's targets are skipped")
		im.failed[module] = true
		return "", false
	}
	b.set("server", strNode(server))
	qname, _ := p.str("query_name")
	if qname == "" {
		im.c.warn(im.doc, p.keyPath("query_name"), "missing (blackbox refuses that); targets of this module are skipped")
		p.rest("not imported: the module's targets are skipped")
		mod.rest("not imported: the module's targets are skipped")
		im.failed[module] = true
		return "", false
	}
	b.set("query_name", strNode(qname))
	im.dnsProbe(p, b)
	return qname + " @" + server, true
}

// Keys of the http module that statussync lacks, with what to do instead.
var bbHTTPUnsupported = map[string]string{
	"compression":                       "statussync does not decode compressed bodies; regexps match the body as sent (as blackbox without compression)",
	"oauth2":                            "OAuth 2 is not supported; use bearer_token_file with a token you refresh",
	"no_proxy":                          "not supported: the proxy is used for every request",
	"proxy_from_environment":            "not supported: set proxy_url",
	"proxy_connect_header":              "not supported",
	"fail_if_body_json_matches_cel":     "CEL is not supported; rewrite it as fail_if_body_json_matches path/op/value assertions (docs/probes.md)",
	"fail_if_body_json_not_matches_cel": "CEL is not supported; rewrite it as fail_if_body_json_not_matches path/op/value assertions (docs/probes.md)",
	"http_headers":                      "not supported; use headers",
	"enable_http3":                      "HTTP/3 is not supported",
	"use_proxy_dns":                     "not supported",
}

func (im *bbImport) httpProbe(p *object, b *mapping) {
	copyInts(p, b, "valid_status_codes")
	if vs, ok := p.strList("valid_http_versions"); ok {
		var keep []string
		for _, v := range vs {
			switch {
			case slices.Contains([]string{"HTTP/1.0", "HTTP/1.1", "HTTP/2.0"}, v):
				keep = append(keep, v)
			case v == "HTTP/2":
				p.warn("valid_http_versions", "blackbox never matched \"HTTP/2\" (Go reports HTTP/2 as HTTP/2.0); not imported, so HTTP/2 responses still fail: add HTTP/2.0 if you meant them")
			default:
				p.warn("valid_http_versions", "%s is not supported (HTTP/1.0, HTTP/1.1, HTTP/2.0 are); not imported", quote(v))
			}
		}
		if len(keep) > 0 {
			b.set("valid_http_versions", flow(strSeq(keep)))
		}
	}
	copyStr(p, b, "method")
	if h, ok := p.child("headers"); ok {
		out := newMapping()
		for _, k := range h.keys() {
			v, ok := h.str(k)
			switch {
			case !ok:
			case !validHeaderName(k):
				h.warn(k, "not a valid header name; not imported")
			case strings.Contains(k, "."):
				h.warn(k, "statussync's configuration cannot hold a header name with a dot; not imported")
			default:
				out.set(k, strNode(v))
			}
		}
		if !out.empty() {
			b.set("headers", out.node)
		}
	}
	copyStr(p, b, "body")
	copyStr(p, b, "body_file")
	follow, hasFollow := p.boolean("follow_redirects")
	if noFollow, ok := p.boolean("no_follow_redirects"); ok {
		if hasFollow && follow == noFollow {
			p.warn("no_follow_redirects", "contradicts follow_redirects; follow_redirects wins, as in blackbox")
		} else if !hasFollow {
			follow, hasFollow = !noFollow, true
		}
	}
	if hasFollow {
		b.set("follow_redirects", boolNode(follow))
	}
	copyBool(p, b, "fail_if_ssl")
	copyBool(p, b, "fail_if_not_ssl")
	copyRegexps(p, b, "fail_if_body_matches_regexp")
	copyRegexps(p, b, "fail_if_body_not_matches_regexp")
	for _, key := range []string{"fail_if_header_matches", "fail_if_header_not_matches"} {
		list, path, _ := p.list(key)
		out := seqNode()
		for i, item := range list {
			hm, ok := newObject(im.c, indexPath(path, i), item, p.anchor)
			if !ok {
				im.c.consumed[indexPath(path, i)] = true
				im.c.warn(p.anchor, indexPath(path, i), "must be {header, regexp, allow_missing}; not imported")
				continue
			}
			m := newMapping()
			copyStr(hm, m, "header")
			if re, ok := hm.str("regexp"); ok {
				if _, err := regexp.Compile(re); err != nil {
					hm.warn("regexp", "does not compile: %v; not imported", err)
				} else {
					m.set("regexp", strNode(re))
				}
			}
			copyBool(hm, m, "allow_missing")
			hm.rest("")
			if m.get("header") != nil && m.get("regexp") != nil {
				out.Content = append(out.Content, m.node)
			}
		}
		if len(out.Content) > 0 {
			b.set(key, out)
		}
	}
	if a, ok := p.child("basic_auth"); ok {
		m := newMapping()
		copyStr(a, m, "username")
		if a.has("password") {
			copyStr(a, m, "password")
			a.warn("password", "copied inline; consider password_file")
		}
		copyStr(a, m, "password_file")
		a.rest("")
		b.set("basic_auth", m.node)
	}
	if a, ok := p.child("authorization"); ok {
		typ, _ := a.str("type")
		if typ != "" && !strings.EqualFold(typ, "Bearer") {
			a.warn("type", "%s is not supported (only Bearer is); authorization not imported", quote(typ))
			a.rest("not imported with authorization")
		} else {
			if s, ok := a.str("credentials"); ok {
				b.set("bearer_token", strNode(s))
				a.warn("credentials", "copied inline as bearer_token; consider bearer_token_file")
			}
			if s, ok := a.str("credentials_file"); ok {
				b.set("bearer_token_file", strNode(s))
			}
			a.rest("")
		}
	}
	if p.has("bearer_token") {
		copyStr(p, b, "bearer_token")
		p.warn("bearer_token", "copied inline; consider bearer_token_file")
	}
	copyStr(p, b, "bearer_token_file")
	copyStr(p, b, "proxy_url")
	if skip, ok := p.boolean("skip_resolve_phase_with_proxy"); ok && !skip && b.get("proxy_url") != nil {
		p.warn("skip_resolve_phase_with_proxy", "statussync always resolves only the proxy with proxy_url set (as true)")
	}
	copyStr(p, b, "preferred_ip_protocol")
	copyBool(p, b, "ip_protocol_fallback")
	copyStr(p, b, "body_size_limit")
	copyBool(p, b, "enable_http2")
	im.tlsConfig(p, b, "tls_config")
	for _, k := range p.keys() {
		if why, ok := bbHTTPUnsupported[k]; ok {
			p.drop(k, "%s", why)
		}
	}
	p.rest("")
}

func (im *bbImport) tcpProbe(p *object, b *mapping) {
	copyStr(p, b, "preferred_ip_protocol")
	copyBool(p, b, "ip_protocol_fallback")
	p.drop("source_ip_address", "not supported: statussync connects from the host's default address")
	list, path, _ := p.list("query_response")
	steps := seqNode()
	for i, item := range list {
		q, ok := newObject(im.c, indexPath(path, i), item, p.anchor)
		if !ok {
			im.c.consumed[indexPath(path, i)] = true
			im.c.warn(p.anchor, indexPath(path, i), "must be {expect, send, starttls}; not imported")
			continue
		}
		step := newMapping()
		if re, ok := q.str("expect"); ok {
			if _, err := regexp.Compile(re); err != nil {
				q.warn("expect", "does not compile: %v; not imported", err)
			} else {
				step.set("expect", strNode(re))
			}
		}
		copyStr(q, step, "send")
		copyBool(q, step, "starttls")
		q.drop("labels", "not supported (probe_expect_info); not imported")
		q.rest("")
		if !step.empty() {
			steps.Content = append(steps.Content, step.node)
		}
	}
	if len(steps.Content) > 0 {
		b.set("query_response", steps)
	}
	copyBool(p, b, "tls")
	im.tlsConfig(p, b, "tls_config")
	p.rest("")
}

func (im *bbImport) dnsProbe(p *object, b *mapping) {
	for _, k := range []string{"query_type", "query_class", "transport_protocol"} {
		copyStr(p, b, k)
	}
	copyBool(p, b, "recursion_desired")
	if codes, ok := p.strList("valid_rcodes"); ok && len(codes) > 0 {
		b.set("valid_rcodes", flow(strSeq(codes)))
	}
	for _, section := range []string{"validate_answer_rrs", "validate_authority_rrs", "validate_additional_rrs"} {
		v, ok := p.child(section)
		if !ok {
			continue
		}
		out := newMapping()
		for _, k := range []string{"fail_if_matches_regexp", "fail_if_all_match_regexp", "fail_if_not_matches_regexp", "fail_if_none_matches_regexp"} {
			copyRegexps(v, out, k)
		}
		v.rest("")
		if !out.empty() {
			b.set(section, out.node)
		}
	}
	copyStr(p, b, "preferred_ip_protocol")
	copyBool(p, b, "ip_protocol_fallback")
	if dot, ok := p.boolean("dns_over_tls"); ok && dot {
		p.warn("dns_over_tls", "DNS over TLS is not supported; the query is sent in the clear")
	}
	if p.has("tls_config") {
		p.drop("tls_config", "used only with dns_over_tls, which is not supported")
	}
	p.drop("source_ip_address", "not supported: statussync queries from the host's default address")
	p.rest("")
}

// tlsVersionNames are the TLS versions statussync knows, in blackbox's
// spelling.
var tlsVersionNames = []string{"TLS10", "TLS11", "TLS12", "TLS13"}

func (im *bbImport) tlsConfig(p *object, b *mapping, key string) {
	t, ok := p.child(key)
	if !ok {
		return
	}
	out := newMapping()
	copyBool(t, out, "insecure_skip_verify")
	for _, k := range []string{"ca_file", "cert_file", "key_file", "server_name"} {
		copyStr(t, out, k)
	}
	for _, k := range []string{"min_version", "max_version"} {
		if v, ok := t.str(k); ok {
			if slices.Contains(tlsVersionNames, v) {
				out.set(k, strNode(v))
			} else {
				t.warn(k, "%s is not one of %s; not imported", quote(v), strings.Join(tlsVersionNames, ", "))
			}
		}
	}
	for _, k := range []string{"ca", "cert", "key"} {
		t.drop(k, "inline PEM is not supported: write it to a file and set %s_file", k)
	}
	t.rest("not supported; not imported")
	if !out.empty() {
		b.set(key, out.node)
	}
}

func copyStr(o *object, b *mapping, key string) {
	if s, ok := o.str(key); ok {
		b.set(key, strNode(s))
	}
}

func copyBool(o *object, b *mapping, key string) {
	if v, ok := o.boolean(key); ok {
		b.set(key, boolNode(v))
	}
}

func copyInts(o *object, b *mapping, key string) {
	v, k, ok := o.take(key, true)
	if !ok {
		return
	}
	items, isList := v.([]any)
	if !isList {
		items = []any{v}
	}
	out := seqNode()
	for _, item := range items {
		if i, ok := asInt(item); ok {
			out.Content = append(out.Content, intNode(i))
		} else {
			o.warn(k, "%s is not a whole number; not imported", describe(item))
		}
	}
	if len(out.Content) > 0 {
		b.set(key, flow(out))
	}
}

// copyRegexps copies a list of regexps, leaving out (and reporting) those
// that do not compile.
func copyRegexps(o *object, b *mapping, key string) {
	res, ok := o.strList(key)
	if !ok {
		return
	}
	var keep []string
	for _, re := range res {
		if _, err := regexp.Compile(re); err != nil {
			o.warn(key, "%s does not compile: %v; not imported", quote(re), err)
			continue
		}
		keep = append(keep, re)
	}
	if len(keep) > 0 {
		b.set(key, strSeq(keep))
	}
}
