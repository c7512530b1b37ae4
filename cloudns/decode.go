package cloudns

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ClouDNS JSON mixes strings and numbers ("id":"273123235" next to
// "status":1) and sends "" for unset fields. The parse functions below accept
// every such form and report absence instead of failing, so that one odd
// field never costs a whole poll.

// parseInt reads an integer sent as a number (1, -1, 1.0), a string ("1",
// " -1 ", "1.0") or not at all ("", null, missing). ok is false when there is
// no usable integer.
func parseInt(raw json.RawMessage) (int64, bool) {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 {
		return 0, false
	}
	var s string
	switch b[0] {
	case '"':
		if json.Unmarshal(b, &s) != nil {
			return 0, false
		}
		s = strings.TrimSpace(s)
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		s = string(b)
	default: // null, true, false, objects, arrays
		return 0, false
	}
	if s == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || f != math.Trunc(f) ||
		f > math.MaxInt64 || f < math.MinInt64 {
		return 0, false
	}
	return int64(f), true
}

// parseString reads a string, or the literal text of a number (a name may be
// all digits and arrive unquoted). ok is false for null, booleans, objects,
// arrays and a missing field.
func parseString(raw json.RawMessage) (string, bool) {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 {
		return "", false
	}
	switch b[0] {
	case '"':
		var s string
		if json.Unmarshal(b, &s) != nil {
			return "", false
		}
		return s, true
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		var n json.Number
		if json.Unmarshal(b, &n) != nil {
			return "", false
		}
		return n.String(), true
	}
	return "", false
}

// parseAPIStatus reads a status field; only the documented -1, 0 and 1 count.
func parseAPIStatus(raw json.RawMessage) (APIStatus, bool) {
	n, ok := parseInt(raw)
	if !ok || n < -1 || n > 1 {
		return 0, false
	}
	return APIStatus(n), true
}

// parseState reads a state field; only the documented 0 and 1 count.
func parseState(raw json.RawMessage) State {
	n, ok := parseInt(raw)
	if !ok || (n != 0 && n != 1) {
		return StateUnset
	}
	return State(n)
}

// isEmptyData reports whether body is one of the ways ClouDNS says "nothing":
// {} (seen), [] (PHP's empty array) or null.
func isEmptyData(body []byte) bool {
	switch string(bytes.Join(bytes.Fields(body), nil)) {
	case "{}", "[]", "null":
		return true
	}
	return false
}

// decodeCheck decodes one check object. The id is the only required field;
// fallbackID (a list's object key) is used when the object has none.
func decodeCheck(raw json.RawMessage, fallbackID string) (Check, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return Check{}, errors.New("check is not a json object")
	}
	id, ok := parseInt(m["id"])
	if !ok && fallbackID != "" {
		id, ok = parseInt(json.RawMessage(strconv.Quote(fallbackID)))
	}
	if !ok || id <= 0 {
		return Check{}, errors.New("check has no usable id")
	}
	str := func(k string) string { s, _ := parseString(m[k]); return s }
	num := func(k string) int64 { n, _ := parseInt(m[k]); return n }

	c := Check{
		ID:                 id,
		Name:               str("name"),
		Type:               CheckType(num("check_type")),
		IP:                 str("ip"),
		Host:               str("host"),
		Port:               int(num("port")),
		Path:               str("path"),
		Content:            str("content"),
		OpenPort:           int(num("open_port")),
		QueryType:          str("query_type"),
		QueryResponse:      str("query_response"),
		Region:             str("monitoring_region"),
		Period:             time.Duration(num("check_period")) * time.Second,
		StatusChangeChecks: int(num("status_change_checks")),
		State:              parseState(m["state"]),
		StatusReason:       ReasonNotDetermined,
		Raw:                append(json.RawMessage(nil), raw...),
	}
	c.ReportedStatus, c.HasReportedStatus = parseAPIStatus(m["status"])
	if c.State == StatePaused {
		c.Status, c.StatusReason = StatusPaused, ReasonPaused
	}
	return c, nil
}

// decodeCheckList decodes one page of monitoring/get-records. A non-empty
// page is an object keyed (probably) by check id; an empty one is {} or [];
// an array of checks is accepted too. Checks come back sorted by id. A check
// without an id fails the page: that means the shape changed, and guessing
// would risk mixing checks up.
func decodeCheckList(body []byte) ([]Check, error) {
	b := bytes.TrimSpace(body)
	if isEmptyData(b) {
		return nil, nil
	}
	if len(b) == 0 {
		return nil, errors.New("empty body")
	}
	type item struct {
		key string
		raw json.RawMessage
	}
	var items []item
	switch b[0] {
	case '{':
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("decode check list: %w", err)
		}
		for k, v := range m {
			items = append(items, item{key: k, raw: v})
		}
	case '[':
		var a []json.RawMessage
		if err := json.Unmarshal(b, &a); err != nil {
			return nil, fmt.Errorf("decode check list: %w", err)
		}
		for _, v := range a {
			items = append(items, item{raw: v})
		}
	default:
		return nil, fmt.Errorf("check list is neither an object nor an array (starts with %q)", b[0])
	}
	checks := make([]Check, 0, len(items))
	seen := make(map[int64]bool, len(items))
	for _, it := range items {
		c, err := decodeCheck(it.raw, it.key)
		if err != nil {
			return nil, fmt.Errorf("decode check list entry %q: %w", it.key, err)
		}
		if seen[c.ID] {
			return nil, fmt.Errorf("check id %d listed twice on one page", c.ID)
		}
		seen[c.ID] = true
		checks = append(checks, c)
	}
	slices.SortFunc(checks, func(a, b Check) int { return cmp.Compare(a.ID, b.ID) })
	return checks, nil
}

// decodeSingleCheck decodes monitoring/get-monitoring-check, which returns
// the bare object. As a defence against an unverified shape it also accepts
// the object wrapped like a list entry ({"<id>": {...}}). found is false when
// the body is empty data.
func decodeSingleCheck(body []byte, id int64) (c Check, found bool, err error) {
	if isEmptyData(body) {
		return Check{}, false, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return Check{}, false, errors.New("check is not a json object")
	}
	raw := json.RawMessage(bytes.TrimSpace(body))
	if _, hasID := m["id"]; !hasID && len(m) == 1 {
		for _, v := range m {
			raw = v
		}
	}
	c, err = decodeCheck(raw, "")
	if err != nil {
		return Check{}, false, err
	}
	if c.ID != id {
		return Check{}, false, fmt.Errorf("asked for check %d, got check %d", id, c.ID)
	}
	return c, true, nil
}

// decodePageCount decodes monitoring/get-records-pages: a bare number, which
// may be quoted. Empty data counts as zero pages (the zero-check answer is
// not verified).
func decodePageCount(body []byte) (int, error) {
	if isEmptyData(body) {
		return 0, nil
	}
	n, ok := parseInt(body)
	if !ok || n < 0 || n > math.MaxInt32 {
		return 0, fmt.Errorf("page count is not a non-negative integer: %.40q", bytes.TrimSpace(body))
	}
	return int(n), nil
}
