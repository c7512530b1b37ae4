package cachet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// This file holds the tolerant JSON decoding the client relies on. Cachet 3
// has changed its wire shapes several times (reference §9) and some values
// depend on the database driver or on whether a model was refreshed
// (reference §3.6, §12), so every scalar that has been seen in more than
// one shape goes through one of the small types below.

// flexInt decodes a JSON number, a numeric string, a boolean (as 0/1) or
// null (as 0).
type flexInt int

// UnmarshalJSON implements json.Unmarshaler.
func (n *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*n = 0
		return nil
	case string(b) == "true":
		*n = 1
		return nil
	case string(b) == "false":
		*n = 0
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		return n.parse(strings.TrimSpace(s))
	default:
		return n.parse(string(b))
	}
}

func (n *flexInt) parse(s string) error {
	if s == "" {
		*n = 0
		return nil
	}
	if i, err := strconv.Atoi(s); err == nil {
		*n = flexInt(i)
		return nil
	}
	// Decimal columns come back as "3.000"; accept them when integral.
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.IsInf(f, 0) {
		return fmt.Errorf("not an integer: %q", truncate(s, 32))
	}
	*n = flexInt(f)
	return nil
}

// flexFloat decodes a JSON number, a numeric string (decimal columns such
// as a metric's default_value arrive as "0.000") or null (as 0).
type flexFloat float64

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexFloat) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*f = 0
		return nil
	}
	s := string(b)
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*f = 0
			return nil
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("not a number: %q", truncate(s, 32))
	}
	*f = flexFloat(v)
	return nil
}

// flexBool decodes true/false, 0/1 (numbers or strings, as MySQL tinyint
// columns read back) and null (as false).
type flexBool bool

// UnmarshalJSON implements json.Unmarshaler.
func (v *flexBool) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1":
		*v = true
	case "false", "0", "", "null":
		*v = false
	default:
		return fmt.Errorf("not a boolean: %q", truncate(s, 32))
	}
	return nil
}

// wireTime holds the text of a timestamp attribute until the client, which
// knows the Cachet application's time zone, converts it with parseTime.
// Cachet 3 sends {"human": "...", "string": "YYYY-MM-DD HH:MM:SS"};
// older shapes and other tools send the bare string. null and {} decode as
// the empty string.
type wireTime string

// UnmarshalJSON implements json.Unmarshaler.
func (w *wireTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*w = ""
	case b[0] == '{':
		var obj struct {
			String   *string `json:"string"`
			DateTime *string `json:"datetime"`
		}
		if err := json.Unmarshal(b, &obj); err != nil {
			return err
		}
		switch {
		case obj.String != nil:
			*w = wireTime(*obj.String)
		case obj.DateTime != nil:
			*w = wireTime(*obj.DateTime)
		default:
			*w = ""
		}
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*w = wireTime(s)
	default:
		// A bare number: Unix seconds.
		*w = wireTime(b)
	}
	return nil
}

// orTime returns w, or other when w is empty. Resources of different ages
// name the same timestamp "created" or "created_at".
func (w wireTime) orTime(other wireTime) wireTime {
	if w != "" {
		return w
	}
	return other
}

// appTimeLayouts are the offset-less layouts Laravel produces, read as wall
// clock in the application's time zone.
var appTimeLayouts = []string{
	time.DateTime,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05.999999",
	"2006-01-02T15:04:05.999999",
	time.DateOnly,
}

// parseTime converts a Cachet timestamp. Strings with an offset (RFC 3339)
// keep it; offset-less strings ("2026-01-02 15:04:05", Laravel's
// toDateTimeString) are wall-clock times in loc, Cachet's app time zone;
// all-digit strings are Unix seconds. The empty string is the zero time.
// Anything else is an error, which callers turn into a zero time rather
// than failing a whole listing.
func parseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00", "2006-01-02T15:04:05.999999Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	for _, layout := range appTimeLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(sec, 0).In(loc), nil
	}
	return time.Time{}, fmt.Errorf("unrecognised timestamp %q", truncate(s, 40))
}

// metaMap decodes a resource's metadata. Cachet renders it as an object of
// key to JSON value [UNSURE: the exact shape is not asserted by Cachet's
// tests], so an array of {"key","value"} rows is accepted too. Values that
// are not strings keep their JSON text ("5", "true").
type metaMap map[string]string

// UnmarshalJSON implements json.Unmarshaler.
func (m *metaMap) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*m = nil
		return nil
	}
	out := metaMap{}
	switch b[0] {
	case '{':
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			return err
		}
		for k, v := range raw {
			out[k] = metaValue(v)
		}
	case '[':
		var rows []struct {
			Key   string          `json:"key"`
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(b, &rows); err != nil {
			return err
		}
		for _, r := range rows {
			if r.Key != "" {
				out[r.Key] = metaValue(r.Value)
			}
		}
	default:
		return fmt.Errorf("meta is neither an object nor an array")
	}
	*m = out
	return nil
}

func metaValue(v json.RawMessage) string {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s
	}
	return string(bytes.TrimSpace(v))
}

// resource is one JSON:API resource object, or a legacy flat object whose
// attributes sit directly under "data".
type resource struct {
	Type          string
	ID            int
	Attributes    json.RawMessage
	Relationships map[string]json.RawMessage
}

type resourceKey struct {
	Type string
	ID   int
}

// document is a decoded response body.
type document struct {
	Data     []resource
	Single   bool
	HasNext  bool
	NextPage int // 0 when the next link carries no page number
	Included map[resourceKey]resource
}

// decodeDocument decodes a JSON:API document (reference §2.1). It also
// accepts the older flat shape, where "data" holds the attributes
// themselves and "id" is an integer, and the 2.x pagination block
// meta.pagination.links.next_page.
func decodeDocument(body []byte) (document, error) {
	var env struct {
		Data  json.RawMessage `json:"data"`
		Links struct {
			Next *string `json:"next"`
		} `json:"links"`
		Meta struct {
			Pagination struct {
				Links struct {
					NextPage *string `json:"next_page"`
				} `json:"links"`
			} `json:"pagination"`
		} `json:"meta"`
		Included []json.RawMessage `json:"included"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return document{}, fmt.Errorf("decode response: %w", err)
	}
	var doc document
	data := bytes.TrimSpace(env.Data)
	switch {
	case len(data) == 0 || string(data) == "null":
		return document{}, errors.New("decode response: no data member")
	case data[0] == '[':
		var items []json.RawMessage
		if err := json.Unmarshal(data, &items); err != nil {
			return document{}, fmt.Errorf("decode response data: %w", err)
		}
		for i, it := range items {
			r, err := decodeResource(it)
			if err != nil {
				return document{}, fmt.Errorf("decode response data[%d]: %w", i, err)
			}
			doc.Data = append(doc.Data, r)
		}
	case data[0] == '{':
		r, err := decodeResource(data)
		if err != nil {
			return document{}, fmt.Errorf("decode response data: %w", err)
		}
		doc.Data = []resource{r}
		doc.Single = true
	default:
		return document{}, errors.New("decode response: data is neither an object nor an array")
	}
	next := env.Links.Next
	if next == nil || *next == "" {
		next = env.Meta.Pagination.Links.NextPage
	}
	if next != nil && *next != "" {
		doc.HasNext = true
		doc.NextPage = pageOf(*next)
	}
	if len(env.Included) > 0 {
		doc.Included = make(map[resourceKey]resource, len(env.Included))
		for _, raw := range env.Included {
			r, err := decodeResource(raw)
			if err != nil {
				continue // an undecodable included member only loses detail
			}
			key := resourceKey{r.Type, r.ID}
			if _, dup := doc.Included[key]; !dup {
				doc.Included[key] = r
			}
		}
	}
	return doc, nil
}

// decodeResource splits one resource object. The id comes from
// attributes.id when present (an integer), else from the member "id"
// (a string in JSON:API, an integer in the flat shape).
func decodeResource(raw json.RawMessage) (resource, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return resource{}, err
	}
	var r resource
	if t, ok := probe["type"]; ok {
		_ = json.Unmarshal(t, &r.Type) // a non-string type only loses the type
	}
	attrs, jsonAPI := probe["attributes"]
	if jsonAPI && len(bytes.TrimSpace(attrs)) > 0 && bytes.TrimSpace(attrs)[0] == '{' {
		r.Attributes = attrs
		if rel, ok := probe["relationships"]; ok {
			_ = json.Unmarshal(rel, &r.Relationships) // optional detail
		}
	} else {
		r.Attributes = raw
	}
	var ids struct {
		ID flexInt `json:"id"`
	}
	if err := json.Unmarshal(r.Attributes, &ids); err == nil && ids.ID != 0 {
		r.ID = int(ids.ID)
	} else if idRaw, ok := probe["id"]; ok {
		var id flexInt
		if err := id.UnmarshalJSON(idRaw); err != nil {
			return resource{}, fmt.Errorf("resource id: %w", err)
		}
		r.ID = int(id)
	}
	return r, nil
}

// relatedIDs returns the ids a relationship names, for both to-one and
// to-many relationships.
func (r resource) relatedIDs(name string) (ids []int, present bool) {
	raw, ok := r.Relationships[name]
	if !ok {
		return nil, false
	}
	var rel struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(raw, &rel); err != nil {
		return nil, false
	}
	data := bytes.TrimSpace(rel.Data)
	if len(data) == 0 || string(data) == "null" {
		return nil, true
	}
	var idents []struct {
		ID flexInt `json:"id"`
	}
	if data[0] == '{' {
		data = append(append([]byte{'['}, data...), ']')
	}
	if err := json.Unmarshal(data, &idents); err != nil {
		return nil, false
	}
	for _, id := range idents {
		ids = append(ids, int(id.ID))
	}
	return ids, true
}

// pageOf extracts the page query parameter of a pagination link, or 0.
func pageOf(link string) int {
	u, err := url.Parse(link)
	if err != nil {
		return 0
	}
	p, err := strconv.Atoi(u.Query().Get("page"))
	if err != nil || p < 1 {
		return 0
	}
	return p
}

// truncate shortens s to at most n bytes on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
