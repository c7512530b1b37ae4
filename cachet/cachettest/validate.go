package cachettest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// input is a decoded request body after Laravel's global TrimStrings and
// ConvertEmptyStringsToNull middleware. A key present with a nil value was
// sent as null (or as an empty string).
type input map[string]any

// parseInput decodes a JSON body. Like Laravel, a body that is not a JSON
// object is treated as empty input, which then fails "required" rules.
func parseInput(body []byte) input {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return input{}
	}
	return input(normalize(m).(map[string]any))
}

func normalize(v any) any {
	switch t := v.(type) {
	case string:
		t = strings.TrimSpace(t)
		if t == "" {
			return nil
		}
		return t
	case map[string]any:
		for k, x := range t {
			t[k] = normalize(x)
		}
		return t
	case []any:
		for i, x := range t {
			t[i] = normalize(x)
		}
		return t
	default:
		return v
	}
}

// validator collects Laravel-style validation errors in rule order. Each
// field reports its first failing rule only.
type validator struct {
	in     input
	fields []string
	errs   map[string][]string
}

func newValidator(in input) *validator {
	return &validator{in: in, errs: map[string][]string{}}
}

func (v *validator) fail(field, msg string) {
	if _, seen := v.errs[field]; !seen {
		v.fields = append(v.fields, field)
	}
	v.errs[field] = append(v.errs[field], msg)
}

func (v *validator) failed(field string) bool { _, ok := v.errs[field]; return ok }

func (v *validator) ok() bool { return len(v.errs) == 0 }

// attr is Laravel's display name of a field: underscores become spaces.
func attr(field string) string { return strings.ReplaceAll(field, "_", " ") }

// message is Laravel's ValidationException summary: the first message and
// "(and N more error[s])".
func (v *validator) message() string {
	first := v.errs[v.fields[0]][0]
	n := -1
	for _, f := range v.fields {
		n += len(v.errs[f])
	}
	switch {
	case n == 1:
		return fmt.Sprintf("%s (and 1 more error)", first)
	case n > 1:
		return fmt.Sprintf("%s (and %d more errors)", first, n)
	default:
		return first
	}
}

// get returns the value and whether the key was present.
func (v *validator) get(field string) (any, bool) {
	x, ok := v.in[field]
	return x, ok
}

// check runs one field's rules. required fails on absent or null;
// nullable lets null pass; otherwise a present null goes through the
// remaining rules and fails them, as in Laravel.
func (v *validator) check(field string, required, nullable bool, rules ...func(string, any) string) {
	x, present := v.get(field)
	if !present || x == nil {
		if required {
			v.fail(field, fmt.Sprintf("The %s field is required.", attr(field)))
			return
		}
		if !present || nullable {
			return
		}
	}
	for _, r := range rules {
		if msg := r(field, x); msg != "" {
			v.fail(field, msg)
			return
		}
	}
}

// ---- rules; each returns "" when the value passes ----

func ruleString(maxLen int) func(string, any) string {
	return func(f string, x any) string {
		s, ok := x.(string)
		if !ok {
			return fmt.Sprintf("The %s field must be a string.", attr(f))
		}
		if maxLen > 0 && len([]rune(s)) > maxLen {
			return fmt.Sprintf("The %s field must not be greater than %d characters.", attr(f), maxLen)
		}
		return ""
	}
}

// asInt implements Laravel's "integer": JSON integers and integer strings.
func asInt(x any) (int, bool) {
	switch t := x.(type) {
	case json.Number:
		i, err := strconv.Atoi(t.String())
		return i, err == nil
	case string:
		i, err := strconv.Atoi(t)
		return i, err == nil
	default:
		return 0, false
	}
}

func ruleInt(lo, hi int) func(string, any) string {
	return func(f string, x any) string {
		i, ok := asInt(x)
		if !ok {
			return fmt.Sprintf("The %s field must be an integer.", attr(f))
		}
		if lo != math.MinInt && hi != math.MaxInt && (i < lo || i > hi) {
			return fmt.Sprintf("The %s field must be between %d and %d.", attr(f), lo, hi)
		}
		if i < lo {
			return fmt.Sprintf("The %s field must be at least %d.", attr(f), lo)
		}
		if i > hi {
			return fmt.Sprintf("The %s field must not be greater than %d.", attr(f), hi)
		}
		return ""
	}
}

// asBool implements Laravel's "boolean": true, false, 1, 0, "1", "0".
func asBool(x any) (bool, bool) {
	switch t := x.(type) {
	case bool:
		return t, true
	case json.Number:
		switch t.String() {
		case "1":
			return true, true
		case "0":
			return false, true
		}
	case string:
		switch t {
		case "1":
			return true, true
		case "0":
			return false, true
		}
	}
	return false, false
}

func ruleBool(f string, x any) string {
	if _, ok := asBool(x); !ok {
		return fmt.Sprintf("The %s field must be true or false.", attr(f))
	}
	return ""
}

// ruleEnum implements Laravel's Enum rule for an int-backed enum.
func ruleEnum(allowed ...int) func(string, any) string {
	return func(f string, x any) string {
		i, ok := asInt(x)
		if ok {
			for _, a := range allowed {
				if a == i {
					return ""
				}
			}
		}
		return fmt.Sprintf("The selected %s is invalid.", attr(f))
	}
}

func ruleIn(allowed ...string) func(string, any) string {
	return func(f string, x any) string {
		s, _ := x.(string)
		for _, a := range allowed {
			if s == a {
				return ""
			}
		}
		return fmt.Sprintf("The selected %s is invalid.", attr(f))
	}
}

func ruleObject(f string, x any) string {
	switch x.(type) {
	case map[string]any, []any:
		return ""
	default:
		return fmt.Sprintf("The %s field must be an array.", attr(f))
	}
}

func ruleArray(f string, x any) string {
	if _, ok := x.([]any); ok {
		return ""
	}
	if _, ok := x.(map[string]any); ok {
		return ""
	}
	return fmt.Sprintf("The %s field must be an array.", attr(f))
}

// ruleURL implements "url:http,https".
func ruleURL(f string, x any) string {
	s, _ := x.(string)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("The %s field must be a valid URL.", attr(f))
	}
	return ""
}

// dateLayouts are the strings the fake accepts for Laravel's "date" rule:
// what strtotime accepts and statussync could plausibly send.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04",
	time.DateOnly,
}

// parseDate reads a date the way Cachet's FlexibleDateTimeCast does:
// offsets are honoured, offset-less values are app-zone wall clock.
func parseDate(s string, loc *time.Location) (time.Time, bool) {
	for _, l := range dateLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func ruleDate(loc *time.Location) func(string, any) string {
	return func(f string, x any) string {
		s, ok := x.(string)
		if ok {
			if _, ok := parseDate(s, loc); ok {
				return ""
			}
		}
		return fmt.Sprintf("The %s field must be a valid date.", attr(f))
	}
}

// asNumber implements "numeric": JSON numbers and numeric strings.
func asNumber(x any) (float64, bool) {
	var s string
	switch t := x.(type) {
	case json.Number:
		s = t.String()
	case string:
		s = t
	default:
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
}

func ruleNumeric(f string, x any) string {
	if _, ok := asNumber(x); !ok {
		return fmt.Sprintf("The %s field must be a number.", attr(f))
	}
	return ""
}

// ruleDecimal implements "decimal:lo,hi" on the value's text, as PHP sees
// it: a JSON number goes through PHP's float-to-string, so 1.0 is "1" and
// has no decimal places (reference §3.6).
func ruleDecimal(lo, hi int) func(string, any) string {
	return func(f string, x any) string {
		var s string
		switch t := x.(type) {
		case json.Number:
			v, err := strconv.ParseFloat(t.String(), 64)
			if err != nil {
				return fmt.Sprintf("The %s field must have %d-%d decimal places.", attr(f), lo, hi)
			}
			s = strconv.FormatFloat(v, 'f', -1, 64)
		case string:
			s = t
		default:
			return fmt.Sprintf("The %s field must have %d-%d decimal places.", attr(f), lo, hi)
		}
		s = strings.TrimLeft(s, "+-")
		intPart, frac, _ := strings.Cut(s, ".")
		if strings.Trim(intPart+frac, "0123456789") != "" || intPart+frac == "" || len(frac) < lo || len(frac) > hi {
			return fmt.Sprintf("The %s field must have %d-%d decimal places.", attr(f), lo, hi)
		}
		return ""
	}
}

// ruleFactorOfSixty implements Cachet's FactorOfSixty rule [UNSURE: message
// wording].
func ruleFactorOfSixty(f string, x any) string {
	i, _ := asInt(x)
	if i <= 0 || 60%i != 0 {
		return fmt.Sprintf("The %s field must be a factor of 60.", attr(f))
	}
	return ""
}

// ruleTimestamp implements Cachet's ValidTimestamp: a date string or a Unix
// timestamp sent as a JSON number [UNSURE: message wording].
func ruleTimestamp(loc *time.Location) func(string, any) string {
	return func(f string, x any) string {
		if _, ok := pointTime(x, loc); ok {
			return ""
		}
		return fmt.Sprintf("The %s field must be a valid timestamp.", attr(f))
	}
}

func pointTime(x any, loc *time.Location) (time.Time, bool) {
	switch t := x.(type) {
	case json.Number:
		sec, err := strconv.ParseInt(t.String(), 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(sec, 0), true
	case string:
		// Carbon reads a string of digits as a date, not epoch seconds
		// (reference §3.7 [INF]); it does not parse as one here either.
		return parseDate(t, loc)
	default:
		return time.Time{}, false
	}
}

// ---- typed getters for validated input ----

func (in input) str(f string) (string, bool) {
	s, ok := in[f].(string)
	return s, ok
}

func (in input) integer(f string) (int, bool) {
	x, ok := in[f]
	if !ok || x == nil {
		return 0, false
	}
	return asInt(x)
}

func (in input) boolean(f string) (bool, bool) {
	x, ok := in[f]
	if !ok || x == nil {
		return false, false
	}
	return asBool(x)
}

func (in input) date(f string, loc *time.Location) (*time.Time, bool) {
	s, ok := in[f].(string)
	if !ok {
		return nil, false
	}
	t, ok := parseDate(s, loc)
	if !ok {
		return nil, false
	}
	return &t, true
}

// meta converts a validated meta value into a map of JSON values.
func (in input) meta(f string) (map[string]any, bool) {
	x, ok := in[f]
	if !ok || x == nil {
		return nil, false
	}
	out := map[string]any{}
	switch t := x.(type) {
	case map[string]any:
		for k, v := range t {
			out[k] = jsonValue(v)
		}
	case []any:
		for i, v := range t {
			out[strconv.Itoa(i)] = jsonValue(v)
		}
	}
	return out, true
}

// jsonValue turns json.Number into int64 or float64 so that stored meta
// keeps JSON types.
func jsonValue(v any) any {
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return i
		}
		f, _ := n.Float64()
		return f
	}
	return v
}
