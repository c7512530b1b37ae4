package importer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decode parses JSON or YAML into maps, lists and scalars. JSON is tried
// first when the text looks like JSON, since YAML parsers disagree with JSON
// on details such as tabs; JSON numbers stay json.Number so that large ids
// survive.
func decode(data []byte) (any, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	trimmed := bytes.TrimSpace(data)
	var jsonErr error
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		var v any
		if jsonErr = dec.Decode(&v); jsonErr == nil {
			if _, err := dec.Token(); !errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("parse as JSON: unexpected data after the JSON value")
			}
			return normalize(v), nil
		}
		// Flow-style YAML starts the same way; try it before giving up.
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		if jsonErr != nil {
			return nil, fmt.Errorf("parse as JSON: %w", jsonErr)
		}
		return nil, fmt.Errorf("parse as YAML: %w", err)
	}
	return normalize(v), nil
}

// normalize turns YAML's map[any]any (non-string keys) into map[string]any.
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalize(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = normalize(e)
		}
		return t
	}
	return v
}

// object is one input mapping being imported. It remembers which keys were
// read, so that rest can report every key nobody read: nothing is dropped
// silently.
type object struct {
	c      *collector
	path   string
	m      map[string]any
	taken  map[string]bool
	anchor *yaml.Node // where warnings about this object are written
	// paths overrides the key path of keys that were moved here from
	// elsewhere (cachet-monitor 1.x's api_url is read as api.url).
	paths map[string]string
}

func newObject(c *collector, path string, v any, anchor *yaml.Node) (*object, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, false
	}
	return &object{c: c, path: path, m: m, taken: map[string]bool{}, anchor: anchor}, true
}

func (o *object) keyPath(k string) string {
	if p, ok := o.paths[k]; ok {
		return p
	}
	return joinPath(o.path, k)
}

func (o *object) warn(key, format string, args ...any) {
	o.c.warn(o.anchor, o.keyPath(key), format, args...)
}

// has reports whether key is present and not null.
func (o *object) has(key string) bool {
	k, ok := o.lookup(key)
	return ok && o.m[k] != nil
}

// lookup finds key, or, for cachet-monitor, whose decoders (encoding/json,
// mapstructure) ignore case, a key that differs only in case.
func (o *object) lookup(key string) (string, bool) {
	if _, ok := o.m[key]; ok {
		return key, true
	}
	if !o.c.foldCase {
		return "", false
	}
	for _, k := range o.keys() {
		if strings.EqualFold(k, key) && !o.taken[k] {
			return k, true
		}
	}
	return "", false
}

func (o *object) keys() []string {
	keys := make([]string, 0, len(o.m))
	for k := range o.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// take returns key's value and marks the key read; whole says whether the
// value counts as consumed as a whole (a scalar or a list of scalars) or
// will be read key by key. A null value reads as absent.
func (o *object) take(key string, whole bool) (v any, k string, ok bool) {
	k, found := o.lookup(key)
	if !found {
		return nil, key, false
	}
	o.taken[k] = true
	if whole || o.m[k] == nil {
		o.c.consumed[o.keyPath(k)] = true
	}
	if o.m[k] == nil {
		return nil, k, false
	}
	return o.m[k], k, true
}

// str reads a string; numbers and booleans are accepted as their text.
func (o *object) str(key string) (string, bool) {
	v, k, ok := o.take(key, true)
	if !ok {
		return "", false
	}
	s, ok := asString(v)
	if !ok {
		o.warn(k, "must be a string, not %s; not imported", describe(v))
	}
	return s, ok
}

// boolean reads a boolean; "true", "false" and, with a warning, other
// common spellings are accepted.
func (o *object) boolean(key string) (bool, bool) {
	v, k, ok := o.take(key, true)
	if !ok {
		return false, false
	}
	b, guessed, ok := asBool(v)
	switch {
	case !ok:
		o.warn(k, "must be true or false, not %s; not imported", describe(v))
	case guessed:
		o.warn(k, "read %s as %t", describe(v), b)
	}
	return b, ok
}

// integer reads a whole number, also written as a string ("25").
func (o *object) integer(key string) (int, bool) {
	v, k, ok := o.take(key, true)
	if !ok {
		return 0, false
	}
	i, ok := asInt(v)
	if !ok {
		o.warn(k, "must be a whole number, not %s; not imported", describe(v))
	}
	return i, ok
}

// number reads a number, also written as a string ("80", "80%").
func (o *object) number(key string) (float64, bool) {
	v, k, ok := o.take(key, true)
	if !ok {
		return 0, false
	}
	f, ok := asFloat(v)
	if !ok {
		o.warn(k, "must be a number, not %s; not imported", describe(v))
	}
	return f, ok
}

// seconds reads a duration given in seconds (60, "60", 0.5) or, as some
// forks allow, as a Go duration ("1m30s").
func (o *object) seconds(key string) (time.Duration, bool) {
	v, k, ok := o.take(key, true)
	if !ok {
		return 0, false
	}
	d, ok := asSeconds(v)
	if !ok {
		o.warn(k, "must be a number of seconds or a duration such as 30s, not %s; not imported", describe(v))
	}
	return d, ok
}

// duration reads a Go duration ("5s"), as blackbox's timeout.
func (o *object) duration(key string) (time.Duration, bool) {
	v, k, ok := o.take(key, true)
	if !ok {
		return 0, false
	}
	s, _ := v.(string)
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		o.warn(k, "must be a positive duration such as 5s, not %s; not imported", describe(v))
		return 0, false
	}
	return d, true
}

// child reads a nested mapping, to be read key by key.
func (o *object) child(key string) (*object, bool) {
	v, k, ok := o.take(key, false)
	if !ok {
		return nil, false
	}
	c, ok := newObject(o.c, o.keyPath(k), v, o.anchor)
	if !ok {
		o.c.consumed[o.keyPath(k)] = true
		o.warn(k, "must be a mapping, not %s; not imported", describe(v))
	}
	return c, ok
}

// list reads a list whose items the caller reads; it returns the list's path.
func (o *object) list(key string) ([]any, string, bool) {
	v, k, ok := o.take(key, false)
	if !ok {
		return nil, "", false
	}
	l, ok := v.([]any)
	if !ok {
		o.c.consumed[o.keyPath(k)] = true
		o.warn(k, "must be a list, not %s; not imported", describe(v))
	}
	return l, o.keyPath(k), ok
}

// strList reads a list of strings; a single string counts as a list of one.
func (o *object) strList(key string) ([]string, bool) {
	v, k, ok := o.take(key, true)
	if !ok {
		return nil, false
	}
	if s, ok := v.(string); ok {
		return []string{s}, true
	}
	l, ok := v.([]any)
	if !ok {
		o.warn(k, "must be a list of strings, not %s; not imported", describe(v))
		return nil, false
	}
	out := make([]string, 0, len(l))
	for i, e := range l {
		s, ok := asString(e)
		if !ok {
			o.c.warn(o.anchor, indexPath(o.keyPath(k), i), "must be a string, not %s; not imported", describe(e))
			continue
		}
		out = append(out, s)
	}
	return out, true
}

// drop reads key only to report it with msg: something statussync has no
// use for, or cannot do.
func (o *object) drop(key, format string, args ...any) {
	if _, k, ok := o.take(key, true); ok {
		o.warn(k, format, args...)
	}
}

// unknownKey is what rest reports by default.
const unknownKey = "unknown key; not imported"

// rest reports every key nobody read, with msg (default: unknown key).
func (o *object) rest(format string, args ...any) {
	if format == "" {
		format = unknownKey
	}
	msg := fmt.Sprintf(format, args...)
	o.restWith(func(string) string { return msg })
}

// restWith reports every key nobody read, with the message msg gives.
func (o *object) restWith(msg func(key string) string) {
	for _, k := range o.keys() {
		if o.taken[k] {
			continue
		}
		o.taken[k] = true
		o.warn(k, "%s", msg(k))
	}
}

// describe names a value for messages without printing anything long (or
// secret) in full.
func describe(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		return quote(t)
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case json.Number:
		return t.String()
	}
	return quote(fmt.Sprint(v))
}

func asString(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case bool:
		return strconv.FormatBool(t), true
	case int:
		return strconv.Itoa(t), true
	case int64:
		return strconv.FormatInt(t, 10), true
	case uint64:
		return strconv.FormatUint(t, 10), true
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	}
	return "", false
}

// asBool reads true/false; guessed says the spelling was one that people
// mean as a boolean but that JSON and YAML 1.2 do not (yes, on, 1).
func asBool(v any) (b, guessed, ok bool) {
	if t, isBool := v.(bool); isBool {
		return t, false, true
	}
	s, isStr := asString(v)
	if !isStr {
		return false, false, false
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, false, true
	case "false":
		return false, false, true
	case "yes", "y", "on", "1":
		return true, true, true
	case "no", "n", "off", "0":
		return false, true, true
	}
	return false, false, false
}

func asFloat(v any) (float64, bool) {
	var f float64
	switch t := v.(type) {
	case int:
		f = float64(t)
	case int64:
		f = float64(t)
	case uint64:
		f = float64(t)
	case float64:
		f = t
	case json.Number:
		return parseFloat(t.String())
	case string:
		return parseFloat(strings.TrimSuffix(strings.TrimSpace(t), "%"))
	default:
		return 0, false
	}
	return f, !math.IsNaN(f) && !math.IsInf(f, 0)
}

func parseFloat(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// asInt reads a whole number within int32's range: ids, ports, counts and
// status codes all fit, and nothing larger is meant.
func asInt(v any) (int, bool) {
	f, ok := asFloat(v)
	if s, isStr := v.(string); isStr && strings.HasSuffix(strings.TrimSpace(s), "%") {
		return 0, false
	}
	if !ok || f != math.Trunc(f) || f < math.MinInt32 || f > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}

// maxSeconds bounds durations read in seconds: a year is more than any
// check interval means.
const maxSeconds = 366 * 24 * 3600

func asSeconds(v any) (time.Duration, bool) {
	if f, ok := asFloat(v); ok {
		if s, isStr := v.(string); isStr && strings.HasSuffix(strings.TrimSpace(s), "%") {
			return 0, false
		}
		if f < 0 || f > maxSeconds {
			return 0, false
		}
		return time.Duration(f * float64(time.Second)), true
	}
	s, ok := v.(string)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < 0 || d > maxSeconds*time.Second {
		return 0, false
	}
	return d, true
}
