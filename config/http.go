package config

import (
	"fmt"
	"net/textproto"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
)

// HTTPProbe is the http monitor kind, modelled on blackbox_exporter's http
// module: the same keys mean the same things, with the differences listed
// in docs/probes.md.
type HTTPProbe struct {
	URL    string `koanf:"url"`
	Method string `koanf:"method"`
	// Headers are sent with the request; a Host header sets the request's
	// Host and, without tls_config.server_name, the TLS server name.
	Headers map[string]string `koanf:"headers"`
	// Body or BodyFile (read at load) is the request body.
	Body     string `koanf:"body"`
	BodyFile string `koanf:"body_file"`

	// ValidStatusCodes defaults to any 2xx.
	ValidStatusCodes []int `koanf:"valid_status_codes"`
	// ValidHTTPVersions lists accepted protocols as Go reports them, e.g.
	// "HTTP/1.1", "HTTP/2.0"; empty accepts any.
	ValidHTTPVersions []string `koanf:"valid_http_versions"`
	// FollowRedirects defaults to true; MaxRedirects (default 10, as
	// blackbox) bounds how many are followed.
	FollowRedirects *bool `koanf:"follow_redirects"`
	MaxRedirects    int   `koanf:"max_redirects"`

	FailIfSSL                  bool            `koanf:"fail_if_ssl"`
	FailIfNotSSL               bool            `koanf:"fail_if_not_ssl"`
	FailIfBodyMatchesRegexp    []Regexp        `koanf:"fail_if_body_matches_regexp"`
	FailIfBodyNotMatchesRegexp []Regexp        `koanf:"fail_if_body_not_matches_regexp"`
	FailIfHeaderMatches        []HeaderMatch   `koanf:"fail_if_header_matches"`
	FailIfHeaderNotMatches     []HeaderMatch   `koanf:"fail_if_header_not_matches"`
	FailIfBodyJSONMatches      []JSONAssertion `koanf:"fail_if_body_json_matches"`
	FailIfBodyJSONNotMatches   []JSONAssertion `koanf:"fail_if_body_json_not_matches"`

	BasicAuth       *BasicAuth `koanf:"basic_auth"`
	BearerToken     Secret     `koanf:"bearer_token"`
	BearerTokenFile string     `koanf:"bearer_token_file"`

	// ProxyURL is an http, https or socks5 proxy.
	ProxyURL string `koanf:"proxy_url"`
	// PreferredIPProtocol is ip6 (default) or ip4; with IPProtocolFallback
	// (default true) the other family is used when the preferred one has
	// no address.
	PreferredIPProtocol string `koanf:"preferred_ip_protocol"`
	IPProtocolFallback  *bool  `koanf:"ip_protocol_fallback"`
	// BodySizeLimit bounds how much of the response body is read; 0 means
	// no limit. A larger body fails the probe.
	BodySizeLimit ByteSize `koanf:"body_size_limit"`
	// EnableHTTP2 defaults to true, as blackbox.
	EnableHTTP2 *bool     `koanf:"enable_http2"`
	TLSConfig   TLSConfig `koanf:"tls_config"`
	// MinCertValidity turns an otherwise successful probe degraded when
	// the earliest certificate of the chain expires sooner.
	MinCertValidity model.Duration `koanf:"min_cert_validity"`

	parsedURL    *url.URL
	proxyURL     *url.URL
	bodyFromFile []byte
	// Secrets read from files sit behind pointers: fmt prints unexported
	// fields without calling their Format method, so a Secret value here
	// would print in clear with %+v; a pointer prints as an address.
	bearerToken *Secret
}

// HeaderMatch is blackbox's http_header_match_spec.
type HeaderMatch struct {
	Header       string `koanf:"header"`
	Regexp       Regexp `koanf:"regexp"`
	AllowMissing bool   `koanf:"allow_missing"`
}

// BasicAuth holds HTTP basic authentication credentials.
type BasicAuth struct {
	Username     string `koanf:"username"`
	Password     Secret `koanf:"password"`
	PasswordFile string `koanf:"password_file"`

	password *Secret
}

// Secret returns the password (inline or read from password_file).
func (a *BasicAuth) Secret() Secret {
	if a.password != nil {
		return *a.password
	}
	return a.Password
}

// ParsedURL returns the URL parsed at load.
func (h *HTTPProbe) ParsedURL() *url.URL { return h.parsedURL }

// Proxy returns the proxy URL parsed at load, or nil.
func (h *HTTPProbe) Proxy() *url.URL { return h.proxyURL }

// RequestBody returns the request body (inline or read from body_file).
func (h *HTTPProbe) RequestBody() []byte {
	if h.BodyFile != "" {
		return h.bodyFromFile
	}
	if h.Body != "" {
		return []byte(h.Body)
	}
	return nil
}

// Token returns the bearer token (inline or read from bearer_token_file),
// or "".
func (h *HTTPProbe) Token() Secret {
	if h.bearerToken != nil {
		return *h.bearerToken
	}
	return h.BearerToken
}

// Redirects returns how many redirects to follow: 0 when follow_redirects
// is false.
func (h *HTTPProbe) Redirects() int {
	if !isTrue(h.FollowRedirects) {
		return 0
	}
	return h.MaxRedirects
}

// Fallback reports whether the other IP family may be used.
func (h *HTTPProbe) Fallback() bool { return isTrue(h.IPProtocolFallback) }

// HTTP2 reports whether HTTP/2 may be negotiated.
func (h *HTTPProbe) HTTP2() bool { return isTrue(h.EnableHTTP2) }

func (*HTTPProbe) kindBlock() {}

func (h *HTTPProbe) validate(p *problems, path, object string) {
	if h.URL == "" {
		p.add(path+".url", object, "is required")
	} else {
		h.parsedURL = checkURL(p, path+".url", object, h.URL, "http", "https")
	}
	for name := range h.Headers {
		if !validHeaderName(name) {
			p.add(path+".headers", object, "%q is not a valid header name", name)
		}
	}

	if h.Body != "" && h.BodyFile != "" {
		p.add(path+".body_file", object, "set body or body_file, not both")
	}

	for i, c := range h.ValidStatusCodes {
		if c < 100 || c > 599 {
			p.add(path+".valid_status_codes", object, "entry %d: %d is not an HTTP status code", i, c)
		}
	}
	for i, v := range h.ValidHTTPVersions {
		if !slices.Contains([]string{"HTTP/1.0", "HTTP/1.1", "HTTP/2.0"}, v) {
			p.add(fmt.Sprintf("%s.valid_http_versions[%d]", path, i), object, "%q must be HTTP/1.0, HTTP/1.1 or HTTP/2.0", v)
		}
	}
	if h.MaxRedirects < 0 {
		p.add(path+".max_redirects", object, "must not be negative")
	}
	if h.FailIfSSL && h.FailIfNotSSL {
		p.add(path+".fail_if_ssl", object, "fail_if_ssl and fail_if_not_ssl together fail every probe")
	}
	validateRegexps(p, path+".fail_if_body_matches_regexp", object, h.FailIfBodyMatchesRegexp)
	validateRegexps(p, path+".fail_if_body_not_matches_regexp", object, h.FailIfBodyNotMatchesRegexp)
	for _, list := range []struct {
		key     string
		matches []HeaderMatch
	}{{"fail_if_header_matches", h.FailIfHeaderMatches}, {"fail_if_header_not_matches", h.FailIfHeaderNotMatches}} {
		for i, m := range list.matches {
			at := fmt.Sprintf("%s.%s[%d]", path, list.key, i)
			if m.Header == "" || !validHeaderName(m.Header) {
				p.add(at+".header", object, "%q is not a valid header name", m.Header)
			}
			if !m.Regexp.IsSet() {
				p.add(at+".regexp", object, "is required")
			}
			validateRegexp(p, at+".regexp", object, m.Regexp)
		}
	}
	for i := range h.FailIfBodyJSONMatches {
		h.FailIfBodyJSONMatches[i].validate(p, fmt.Sprintf("%s.fail_if_body_json_matches[%d]", path, i), object)
	}
	for i := range h.FailIfBodyJSONNotMatches {
		h.FailIfBodyJSONNotMatches[i].validate(p, fmt.Sprintf("%s.fail_if_body_json_not_matches[%d]", path, i), object)
	}

	h.validateAuth(p, path, object)
	if h.ProxyURL != "" {
		h.proxyURL = checkURL(p, path+".proxy_url", object, h.ProxyURL, "https", "socks5", "http")
	}
	validateIPProtocol(p, path, object, h.PreferredIPProtocol)
	if h.BodySizeLimit < 0 {
		p.add(path+".body_size_limit", object, "must be a size in bytes, or a number with B, KB, MB or GB")
	}
	if err := h.TLSConfig.compile(); err != nil {
		p.add(path+".tls_config", object, "%v", err)
	}
	isHTTPS := h.parsedURL == nil || h.parsedURL.Scheme == "https"
	validateMinCertValidity(p, path, object, h.MinCertValidity, isHTTPS || isTrue(h.FollowRedirects))
}

func (h *HTTPProbe) validateAuth(p *problems, path, object string) {
	if a := h.BasicAuth; a != nil {
		if a.Username == "" {
			p.add(path+".basic_auth.username", object, "is required")
		}
		if a.Password != "" && a.PasswordFile != "" {
			p.add(path+".basic_auth.password_file", object, "set password or password_file, not both")
		}
	}
	switch {
	case h.BearerToken != "" && h.BearerTokenFile != "":
		p.add(path+".bearer_token_file", object, "set bearer_token or bearer_token_file, not both")
	case h.BearerTokenFile != "" && h.bearerToken != nil && *h.bearerToken == "":
		p.add(path+".bearer_token_file", object, "file %s is empty", h.BearerTokenFile)
	}
	if h.BasicAuth != nil && h.Token() != "" {
		p.add(path+".bearer_token", object, "set basic_auth or a bearer token, not both")
	}
	for name := range h.Headers {
		if textproto.CanonicalMIMEHeaderKey(name) == "Authorization" && (h.BasicAuth != nil || h.Token() != "") {
			p.add(path+".headers", object, "an Authorization header conflicts with basic_auth or bearer_token")
		}
	}
}

func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}

// JSON assertion operators.
const (
	JSONOpExists   = "exists"
	JSONOpEq       = "eq"
	JSONOpNe       = "ne"
	JSONOpLt       = "lt"
	JSONOpLe       = "le"
	JSONOpGt       = "gt"
	JSONOpGe       = "ge"
	JSONOpContains = "contains"
	JSONOpMatches  = "matches"
)

var jsonOps = []string{JSONOpExists, JSONOpEq, JSONOpNe, JSONOpLt, JSONOpLe, JSONOpGt, JSONOpGe, JSONOpContains, JSONOpMatches}

// JSONAssertion is a condition on one field of a JSON response body: the
// value at Path compared with Value by Op. Path is dot-separated keys with
// [n] indexes, e.g. "data.items[0].state"; "" or "." is the whole body.
type JSONAssertion struct {
	Path string `koanf:"path"`
	Op   string `koanf:"op"`
	// Value is a string, number or boolean; exists takes none.
	Value any `koanf:"value"`

	steps  []JSONStep
	text   string
	number float64
	isNum  bool
	re     *regexp.Regexp
}

// JSONStep is one step of a compiled JSONAssertion path: an object key, or
// an array index when IsIndex.
type JSONStep struct {
	Key     string
	Index   int
	IsIndex bool
}

// Steps returns the path compiled at load.
func (a *JSONAssertion) Steps() []JSONStep { return a.steps }

// Text returns the value as text: strings as they are, numbers in Go's
// shortest form, booleans as true/false.
func (a *JSONAssertion) Text() string { return a.text }

// Number returns the value as a number, if it is one (or a numeric string).
func (a *JSONAssertion) Number() (float64, bool) { return a.number, a.isNum }

// Pattern returns the compiled regexp of a matches assertion.
func (a *JSONAssertion) Pattern() *regexp.Regexp { return a.re }

// String describes the assertion for reasons and details.
func (a *JSONAssertion) String() string {
	if a.Op == JSONOpExists {
		return fmt.Sprintf("%s exists", a.Path)
	}
	return fmt.Sprintf("%s %s %q", a.Path, a.Op, a.text)
}

func (a *JSONAssertion) validate(p *problems, path, object string) {
	steps, err := ParseJSONPath(a.Path)
	if err != nil {
		p.add(path+".path", object, "%v", err)
	}
	a.steps = steps
	if !slices.Contains(jsonOps, a.Op) {
		p.add(path+".op", object, "%q must be one of %s", a.Op, strings.Join(jsonOps, ", "))
		return
	}
	switch v := a.Value.(type) {
	case nil:
		if a.Op != JSONOpExists {
			p.add(path+".value", object, "is required with op %s", a.Op)
		}
		return
	case string:
		a.text = v
	case bool:
		a.text = strconv.FormatBool(v)
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		a.text = fmt.Sprint(v)
	default:
		p.add(path+".value", object, "must be a string, number or boolean, not %T", v)
		return
	}
	if a.Op == JSONOpExists {
		p.add(path+".value", object, "op exists takes no value")
	}
	if f, err := strconv.ParseFloat(a.text, 64); err == nil {
		a.number, a.isNum = f, true
	}
	switch a.Op {
	case JSONOpLt, JSONOpLe, JSONOpGt, JSONOpGe:
		if !a.isNum {
			p.add(path+".value", object, "op %s needs a number, not %q", a.Op, a.text)
		}
	case JSONOpMatches:
		re, err := regexp.Compile(a.text)
		if err != nil {
			p.add(path+".value", object, "%v", err)
		}
		a.re = re
	}
}

// ParseJSONPath compiles a path such as "data.items[0].state".
func ParseJSONPath(s string) ([]JSONStep, error) {
	if s == "" || s == "." {
		return nil, nil
	}
	var steps []JSONStep
	for part := range strings.SplitSeq(s, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key == "" && rest == "" {
			return nil, fmt.Errorf("%q has an empty key", s)
		}
		if key != "" {
			steps = append(steps, JSONStep{Key: key})
		}
		for rest != "" {
			idx, after, ok := strings.Cut(rest, "]")
			n, err := strconv.Atoi(idx)
			if !ok || err != nil || n < 0 {
				return nil, fmt.Errorf("%q: bad index [%s", s, rest)
			}
			steps = append(steps, JSONStep{Index: n, IsIndex: true})
			switch {
			case after == "":
				rest = ""
			case after[0] == '[':
				rest = after[1:]
			default:
				return nil, fmt.Errorf("%q: unexpected %q after index", s, after)
			}
		}
	}
	return steps, nil
}
