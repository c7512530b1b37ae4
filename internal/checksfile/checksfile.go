// Package checksfile reads a ClouDNS "checks as code" file: the YAML list of
// monitoring checks that teams keep in a repository and push to the ClouDNS
// API from CI (see docs/cloudns-as-code.md). It accepts such files unchanged,
// validates them strictly (every error names the entry and the key, unknown
// keys are errors), and applies the defaults those push scripts use. Both
// `statussync import cloudns` and `statussync cloudns plan|apply` read the
// file through this package, so the two can never disagree about it.
//
// The package imports nothing of statussync's: it turns YAML into API
// parameters and nothing else.
package checksfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Defaults the push scripts send for keys an entry leaves out (gnome-infra's
// monitors.py, shared/reference/cloudns-api.md §4).
const (
	DefaultStatusChangeChecks = 2
	DefaultMonitoringRegion   = "nam"
	DefaultCheckPeriod        = 300
	DefaultState              = 1
	DefaultIPType             = 2
	// Web checks.
	DefaultHTTPRequestType = "GET"
	DefaultContentMatch    = "exact"
	DefaultTimeout         = 5
	// SMTP checks.
	DefaultConnectionSecurity = 2
)

// Kind says how a field's values compare: ClouDNS answers every number as a
// string, stores paths without their leading slash and host names in any
// case.
type Kind int

// Field kinds.
const (
	KindString Kind = iota
	KindNumber
	KindPath
	KindHost
	KindLower // case-insensitive words such as monitoring_region
)

// field describes one check key of the file, which is also the ClouDNS
// create/update parameter of the same name.
type field struct {
	kind Kind
	// types lists the check types the key applies to; nil means all.
	types []int
}

// Check type groups (reference §2.12).
var (
	webTypes    = []int{4, 5, 6, 7, 18}
	portTypes   = []int{4, 5, 6, 7, 8, 9, 13, 15, 18}
	hostTypes   = []int{4, 5, 6, 7, 10, 13, 15, 18}
	timeoutType = []int{4, 5, 6, 7, 15, 18}
)

// TypeNames names the accepted check types.
var TypeNames = map[int]string{
	1: "ping 15%", 2: "ping 25%", 3: "ping 50%", 4: "http", 5: "https",
	6: "http custom string", 7: "https custom string", 8: "tcp", 9: "udp",
	10: "dns", 12: "heartbeat", 13: "tls certificate", 15: "smtp",
	17: "ping", 18: "web",
}

var fields = map[string]field{
	"ip":                   {kind: KindHost},
	"host":                 {kind: KindHost, types: hostTypes},
	"port":                 {kind: KindNumber, types: portTypes},
	"path":                 {kind: KindPath, types: webTypes},
	"http_status_code":     {kind: KindNumber, types: webTypes},
	"check_period":         {kind: KindNumber},
	"content":              {kind: KindString, types: webTypes},
	"timeout":              {kind: KindNumber, types: timeoutType},
	"status_change_checks": {kind: KindNumber},
	"monitoring_region":    {kind: KindLower},
	"state":                {kind: KindNumber},
	"ip_type":              {kind: KindNumber},
	"http_request_type":    {kind: KindLower, types: webTypes},
	"content_match":        {kind: KindLower, types: webTypes},
	"connection_security":  {kind: KindNumber, types: []int{15}},
	"open_port":            {kind: KindNumber, types: []int{8, 9}},
	"query_type":           {kind: KindLower, types: []int{10}},
	"query_response":       {kind: KindString, types: []int{10}},
}

// FieldKind returns how values of the check parameter key compare, and
// whether the key is one this package manages.
func FieldKind(key string) (Kind, bool) {
	if key == "name" {
		return KindString, true
	}
	if key == "check_type" {
		return KindNumber, true
	}
	f, ok := fields[key]
	return f.kind, ok
}

// Keys lists the managed check parameters in the order they are sent and
// printed.
var Keys = []string{
	"name", "check_type", "ip", "host", "port", "path", "http_status_code",
	"content", "content_match", "http_request_type", "timeout", "check_period",
	"status_change_checks", "monitoring_region", "state", "ip_type",
	"connection_security", "open_port", "query_type", "query_response",
}

// NotificationTypes are the notification types a file can declare: those
// whose whole setting is one value. Telegram and Discord notifications also
// need a token and a chat id, which the format cannot carry; checks keep
// theirs untouched.
var NotificationTypes = []string{"mail", "webhook-up", "webhook-down", "sms"}

// Notification is one notification of a check.
type Notification struct {
	// Type is mail, webhook-up, webhook-down or sms.
	Type string `json:"type"`
	// Value is the address, URL or number. For an is_env_var notification
	// it is empty until Resolve.
	Value string `json:"-"`
	// EnvVar names the environment variable Value comes from, if any.
	// Plans print it instead of the value.
	EnvVar string `json:"env_var,omitempty"`
}

// Display is the notification as plans and logs may show it: the variable's
// name rather than its value for an is_env_var notification.
func (n Notification) Display() string {
	if n.EnvVar != "" {
		return n.Type + " $" + n.EnvVar
	}
	return n.Type + " " + n.Value
}

// Entry is one check of the file, with defaults applied.
type Entry struct {
	// Index is the entry's position in the file, from 0.
	Index int
	// Line is the entry's line in the file.
	Line int
	// Name is the check name, the key that matches it to the account.
	Name string
	// Type is the check_type number.
	Type int
	// Params holds every create/update parameter except name and
	// check_type, as the strings ClouDNS is sent, defaults included.
	Params map[string]string
	// Notifications are the entry's notifications. When
	// NotificationsManaged is false the entry has none and no default
	// applies: the check's notifications in the account are left alone.
	Notifications        []Notification
	NotificationsManaged bool
	// DefaultNotifications is true when the entry had no notifications key.
	DefaultNotifications bool
}

// Where names the entry in messages: `checks[3] ("www.example.org")`.
func (e *Entry) Where() string { return fmt.Sprintf("checks[%d] (%q)", e.Index, e.Name) }

// APIParams returns the full parameter set sent to create or update the
// check: name, check_type and Params.
func (e *Entry) APIParams() url.Values {
	v := url.Values{"name": {e.Name}, "check_type": {strconv.Itoa(e.Type)}}
	for k, p := range e.Params {
		v.Set(k, p)
	}
	return v
}

// File is a parsed checks file.
type File struct {
	// Source is the file name used in messages.
	Source  string
	Entries []Entry
}

// Names returns the entries' names in file order.
func (f *File) Names() []string {
	out := make([]string, len(f.Entries))
	for i, e := range f.Entries {
		out[i] = e.Name
	}
	return out
}

// Has reports whether the file declares a check named name.
func (f *File) Has(name string) bool { return slices.Contains(f.Names(), name) }

// Problem is one error in a checks file.
type Problem struct {
	Source string
	Line   int
	// Where is the entry (`checks[3] ("x")`), Key the key path inside it.
	Where string
	Key   string
	Msg   string
}

func (p *Problem) Error() string {
	var b strings.Builder
	if p.Source != "" {
		b.WriteString(p.Source)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	b.WriteString(p.Where)
	if p.Key != "" {
		b.WriteString("." + p.Key)
	}
	b.WriteString(": " + p.Msg)
	return b.String()
}

// Problems returns the individual problems of an error from Parse or
// Resolve.
func Problems(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// Parse reads a checks file. source names it in messages. Every problem is
// reported, joined; notifications read from environment variables stay
// unresolved until Resolve.
func Parse(data []byte, source string) (*File, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &File{Source: source}, nil
		}
		return nil, &Problem{Source: source, Where: "file", Msg: "not YAML: " + err.Error()}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return &File{Source: source}, nil
	}
	if root.Kind != yaml.SequenceNode {
		return nil, &Problem{Source: source, Line: root.Line, Where: "file",
			Msg: "must be a YAML list of checks (- name: ..., check_type: ...)"}
	}
	f := &File{Source: source}
	var errs []error
	first := map[string]int{}
	for i, n := range root.Content {
		e, perrs := parseEntry(n, i, source)
		errs = append(errs, perrs...)
		if e == nil {
			continue
		}
		if j, dup := first[e.Name]; dup {
			errs = append(errs, &Problem{Source: source, Line: n.Line, Where: e.Where(), Key: "name",
				Msg: fmt.Sprintf("duplicate: checks[%d] has the same name; names identify checks in the account, so they must be unique", j)})
			continue
		}
		first[e.Name] = i
		if len(perrs) == 0 {
			f.Entries = append(f.Entries, *e)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f, nil
}

var numberRE = regexp.MustCompile(`^-?[0-9]+$`)

// parseEntry reads one entry. The entry is returned (for duplicate
// detection) whenever it has a name, even with problems.
func parseEntry(n *yaml.Node, i int, source string) (*Entry, []error) {
	e := &Entry{Index: i, Line: n.Line, Params: map[string]string{}}
	var errs []error
	add := func(line int, key, format string, args ...any) {
		errs = append(errs, &Problem{Source: source, Line: line, Where: e.Where(), Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if n.Kind != yaml.MappingNode {
		add(n.Line, "", "must be a mapping with name, check_type, ...")
		return nil, errs
	}
	vals := map[string]*yaml.Node{}
	var order []string
	for j := 0; j+1 < len(n.Content); j += 2 {
		k, v := n.Content[j], n.Content[j+1]
		if _, dup := vals[k.Value]; dup {
			add(k.Line, k.Value, "key given twice")
			continue
		}
		vals[k.Value] = v
		order = append(order, k.Value)
	}
	// The name first, so that every later message can quote it.
	if v, ok := vals["name"]; !ok {
		add(n.Line, "name", "is required")
	} else if v.Kind != yaml.ScalarNode || strings.TrimSpace(v.Value) == "" {
		add(v.Line, "name", "must be a non-empty string")
	} else {
		e.Name = v.Value
		if e.Name != strings.TrimSpace(e.Name) {
			add(v.Line, "name", "%q has leading or trailing spaces", e.Name)
		}
	}
	if v, ok := vals["check_type"]; !ok {
		add(n.Line, "check_type", "is required (18 web, 15 SMTP, 17 ping, 8 TCP, ...)")
	} else if t, ok := scalarInt(v); !ok {
		add(v.Line, "check_type", "%q is not a number", v.Value)
	} else if _, known := TypeNames[int(t)]; !known {
		add(v.Line, "check_type", "%d is not a supported check type (%s)", t, typeList())
	} else {
		e.Type = int(t)
	}

	for _, key := range order {
		v := vals[key]
		switch key {
		case "name", "check_type":
			continue
		case "notifications":
			ns, _ := parseNotifications(v, add)
			e.Notifications = ns
			e.NotificationsManaged = true
			continue
		}
		f, ok := fields[key]
		if !ok {
			add(v.Line, key, "unknown key (known: %s)", strings.Join(knownKeys(), ", "))
			continue
		}
		if e.Type != 0 && f.types != nil && !slices.Contains(f.types, e.Type) {
			add(v.Line, key, "does not apply to check_type %d (%s)", e.Type, TypeNames[e.Type])
			continue
		}
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			add(v.Line, key, "must be a single value")
			continue
		}
		val := v.Value
		switch f.kind {
		case KindNumber:
			nv, ok := scalarInt(v)
			if !ok {
				add(v.Line, key, "%q is not a whole number", val)
				continue
			}
			if msg := checkNumber(key, nv); msg != "" {
				add(v.Line, key, "%s", msg)
				continue
			}
			val = strconv.FormatInt(nv, 10)
		case KindPath:
			// ClouDNS stores paths without their leading slash; the
			// query string is part of the path.
			val = strings.TrimLeft(val, "/")
			if strings.ContainsAny(val, " \t\r\n") {
				add(v.Line, key, "%q contains white space", v.Value)
				continue
			}
		case KindHost:
			if val == "" || strings.ContainsAny(val, " /\t\r\n") {
				add(v.Line, key, "%q is not a host name or address", val)
				continue
			}
		case KindLower:
			if msg := checkWord(key, val); msg != "" {
				add(v.Line, key, "%s", msg)
				continue
			}
		}
		e.Params[key] = val
	}
	if e.Type == 0 {
		return e.named(), errs
	}
	// Required keys and defaults per type.
	if _, ok := e.Params["ip"]; !ok && e.Type != 12 {
		add(n.Line, "ip", "is required for check_type %d (%s)", e.Type, TypeNames[e.Type])
	}
	if _, ok := e.Params["port"]; !ok && slices.Contains([]int{8, 9, 13, 15}, e.Type) {
		add(n.Line, "port", "is required for check_type %d (%s)", e.Type, TypeNames[e.Type])
	}
	if (e.Type == 6 || e.Type == 7) && e.Params["content"] == "" {
		add(n.Line, "content", "is required for check_type %d (%s)", e.Type, TypeNames[e.Type])
	}
	setDefault := func(key string, v any) {
		if _, ok := e.Params[key]; !ok {
			e.Params[key] = fmt.Sprint(v)
		}
	}
	setDefault("status_change_checks", DefaultStatusChangeChecks)
	setDefault("monitoring_region", DefaultMonitoringRegion)
	setDefault("check_period", DefaultCheckPeriod)
	setDefault("state", DefaultState)
	setDefault("ip_type", DefaultIPType)
	if slices.Contains(webTypes, e.Type) {
		// Sent empty rather than left out, so that a path or content set
		// by hand in the panel shows up as a difference.
		setDefault("path", "")
		setDefault("content", "")
		setDefault("http_request_type", DefaultHTTPRequestType)
		setDefault("content_match", DefaultContentMatch)
		setDefault("timeout", DefaultTimeout)
	}
	if e.Type == 15 {
		setDefault("connection_security", DefaultConnectionSecurity)
	}
	if !e.NotificationsManaged {
		e.DefaultNotifications = true
	}
	return e.named(), errs
}

// named returns e when it has a name (for duplicate detection), else nil.
func (e *Entry) named() *Entry {
	if e.Name == "" {
		return nil
	}
	return e
}

func scalarInt(v *yaml.Node) (int64, bool) {
	if v.Kind != yaml.ScalarNode {
		return 0, false
	}
	s := strings.TrimSpace(v.Value)
	if !numberRE.MatchString(s) {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// numberRanges bound the numeric keys: lowest, highest and what the key is.
var numberRanges = map[string]struct {
	lo, hi int64
	what   string
}{
	"port":                 {1, 65535, "a port (1-65535)"},
	"http_status_code":     {100, 599, "an HTTP status code (100-599)"},
	"check_period":         {30, 86400, "a check period in seconds (30-86400)"},
	"timeout":              {1, 60, "a timeout in seconds (1-60)"},
	"status_change_checks": {1, 10, "a number of checks (1-10)"},
	"state":                {0, 1, "0 or 1"},
	"open_port":            {0, 1, "0 or 1"},
	"ip_type":              {0, 3, "an ip_type (0-3)"},
	"connection_security":  {0, 3, "a connection_security value (0-3)"},
}

// checkNumber returns why n is not a valid value for key, or "".
func checkNumber(key string, n int64) string {
	if r, ok := numberRanges[key]; ok && (n < r.lo || n > r.hi) {
		return fmt.Sprintf("%d is not %s", n, r.what)
	}
	return ""
}

// Monitoring regions documented for create.json (reference §2.4); a number
// selects a single node.
var regions = strings.Fields("global eur nam asi at bg br ca de es fi fr hk hu il in it jp kr mx nl pe pl ro ru sg tr tw uk us za")

func checkWord(key, v string) string {
	switch key {
	case "monitoring_region":
		if !slices.Contains(regions, strings.ToLower(v)) && !numberRE.MatchString(v) {
			return fmt.Sprintf("%q is not a region (global, eur, nam, asi, a country code or a node id)", v)
		}
	case "http_request_type":
		if !slices.Contains([]string{"GET", "HEAD", "POST"}, strings.ToUpper(v)) {
			return fmt.Sprintf("%q is not GET, HEAD or POST", v)
		}
	case "content_match":
		if !slices.Contains([]string{"exact", "regex"}, strings.ToLower(v)) {
			return fmt.Sprintf("%q is not exact or regex", v)
		}
	case "query_type":
		if !slices.Contains([]string{"A", "AAAA", "MX", "NS", "PTR", "CNAME", "TXT", "SOA", "SRV", "CAA"}, strings.ToUpper(v)) {
			return fmt.Sprintf("%q is not a DNS record type", v)
		}
	}
	return ""
}

// parseNotifications reads one mapping or a list of them; problems go to add
// and make ok false.
func parseNotifications(v *yaml.Node, add func(line int, key, format string, args ...any)) (ns []Notification, ok bool) {
	var items []*yaml.Node
	var base []string
	switch v.Kind {
	case yaml.MappingNode:
		items = []*yaml.Node{v}
		base = []string{"notifications"}
	case yaml.SequenceNode:
		items = v.Content
		for i := range items {
			base = append(base, fmt.Sprintf("notifications[%d]", i))
		}
	default:
		if v.Tag == "!!null" {
			add(v.Line, "notifications", "is empty: use [] for no notifications, or leave the key out for the default")
		} else {
			add(v.Line, "notifications", "must be a mapping {type, value} or a list of them")
		}
		return nil, false
	}
	var out []Notification
	var failed bool
	seen := map[Notification]bool{}
	for i, it := range items {
		path := base[i]
		if it.Kind != yaml.MappingNode {
			add(it.Line, path, "must be a mapping with type and value")
			failed = true
			continue
		}
		var n Notification
		var isEnv, haveValue bool
		for j := 0; j+1 < len(it.Content); j += 2 {
			k, val := it.Content[j], it.Content[j+1]
			switch k.Value {
			case "type":
				if !slices.Contains(NotificationTypes, val.Value) {
					add(val.Line, path+".type", "%q is not one of %s (telegram and discord need a token and chat id this format cannot hold)", val.Value, strings.Join(NotificationTypes, ", "))
					failed = true
				}
				n.Type = val.Value
			case "value":
				if val.Kind != yaml.ScalarNode || strings.TrimSpace(val.Value) == "" {
					add(val.Line, path+".value", "must be a non-empty string")
					failed = true
				}
				n.Value, haveValue = val.Value, true
			case "is_env_var":
				b, ok := parseBool(val)
				if !ok {
					add(val.Line, path+".is_env_var", "%q is not true or false", val.Value)
					failed = true
				}
				isEnv = b
			default:
				add(k.Line, path+"."+k.Value, "unknown key (known: type, value, is_env_var)")
				failed = true
			}
		}
		if n.Type == "" {
			add(it.Line, path+".type", "is required")
			failed = true
		}
		if !haveValue {
			add(it.Line, path+".value", "is required")
			failed = true
		}
		if isEnv {
			if !envNameRE.MatchString(n.Value) {
				add(it.Line, path+".value", "%q is not an environment variable name", n.Value)
				failed = true
			}
			n.EnvVar, n.Value = n.Value, ""
		} else if n.Value != "" {
			if msg := checkNotificationValue(n); msg != "" {
				add(it.Line, path+".value", "%s", msg)
				failed = true
			}
		}
		if seen[n] {
			add(it.Line, path, "repeats an earlier notification")
			failed = true
		}
		seen[n] = true
		out = append(out, n)
	}
	if failed {
		return nil, false
	}
	return out, true
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func parseBool(v *yaml.Node) (bool, bool) {
	switch strings.ToLower(v.Value) {
	case "true", "yes":
		return true, true
	case "false", "no":
		return false, true
	}
	return false, false
}

// checkNotificationValue returns why n's value is unusable, or "".
func checkNotificationValue(n Notification) string {
	switch n.Type {
	case "mail":
		if a, err := mail.ParseAddress(n.Value); err != nil || a.Address != n.Value {
			return "is not an e-mail address"
		}
	case "webhook-up", "webhook-down":
		u, err := url.Parse(n.Value)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return "is not an http(s) URL"
		}
	}
	return ""
}

// Resolve fills in the values of is_env_var notifications from environ
// (KEY=VALUE strings) and gives entries without a notifications key the
// default notification, if def is not nil. A default read from an
// environment variable carries EnvVar. Every problem is reported.
func (f *File) Resolve(environ []string, def *Notification) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	var errs []error
	lookup := func(n *Notification, source, where, key string, line int) {
		if n.EnvVar == "" {
			return
		}
		v, ok := env[n.EnvVar]
		if !ok || strings.TrimSpace(v) == "" {
			errs = append(errs, &Problem{Source: source, Line: line, Where: where, Key: key,
				Msg: fmt.Sprintf("environment variable %s is not set", n.EnvVar)})
			return
		}
		n.Value = strings.TrimSpace(v)
		if msg := checkNotificationValue(*n); msg != "" {
			errs = append(errs, &Problem{Source: source, Line: line, Where: where, Key: key,
				Msg: fmt.Sprintf("environment variable %s %s", n.EnvVar, msg)})
		}
	}
	var defN *Notification
	if def != nil {
		d := *def
		// The default is not in the file: name the setting it comes from.
		lookup(&d, "", DefaultNotificationKey+" (for entries without notifications)", "", 0)
		defN = &d
	}
	for i := range f.Entries {
		e := &f.Entries[i]
		if e.DefaultNotifications {
			if defN != nil {
				e.Notifications = []Notification{*defN}
				e.NotificationsManaged = true
			}
			continue
		}
		for j := range e.Notifications {
			key := "notifications"
			if len(e.Notifications) > 1 {
				key = fmt.Sprintf("notifications[%d]", j)
			}
			lookup(&e.Notifications[j], f.Source, e.Where(), key+".value", e.Line)
		}
	}
	return errors.Join(errs...)
}

// DefaultNotificationKey is the statussync setting that holds the default
// notification; problems with the default name it.
const DefaultNotificationKey = "cloudns.checks_default_notification"

// ParseDefaultNotification reads a default notification given as
// "TYPE:VALUE" or "TYPE:$ENVVAR".
func ParseDefaultNotification(s string) (*Notification, error) {
	t, v, ok := strings.Cut(s, ":")
	if !ok || v == "" {
		return nil, fmt.Errorf("default notification %q is not TYPE:VALUE or TYPE:$ENV_VAR", s)
	}
	return NewNotification(t, v, false)
}

// NewNotification validates one notification. With isEnvVar (or a value
// written "$NAME") value names an environment variable.
func NewNotification(typ, value string, isEnvVar bool) (*Notification, error) {
	if !slices.Contains(NotificationTypes, typ) {
		return nil, fmt.Errorf("notification type %q is not one of %s", typ, strings.Join(NotificationTypes, ", "))
	}
	if name, ok := strings.CutPrefix(value, "$"); ok {
		value, isEnvVar = name, true
	}
	n := &Notification{Type: typ, Value: value}
	if isEnvVar {
		if !envNameRE.MatchString(value) {
			return nil, fmt.Errorf("notification value %q is not an environment variable name", value)
		}
		n.EnvVar, n.Value = value, ""
		return n, nil
	}
	if msg := checkNotificationValue(*n); msg != "" {
		return nil, fmt.Errorf("notification value %q %s", value, msg)
	}
	return n, nil
}

func knownKeys() []string {
	keys := []string{"name", "check_type", "notifications"}
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func typeList() string {
	var ts []int
	for t := range TypeNames {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	var parts []string
	for _, t := range ts {
		parts = append(parts, fmt.Sprintf("%d %s", t, TypeNames[t]))
	}
	return strings.Join(parts, ", ")
}
