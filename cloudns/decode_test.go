package cloudns

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseInt(t *testing.T) {
	tests := []struct {
		name   string
		raw    string
		want   int64
		wantOK bool
	}{
		{"number", `18`, 18, true},
		{"negative number", `-1`, -1, true},
		{"string", `"18"`, 18, true},
		{"negative string", `"-1"`, -1, true},
		{"padded string", `" 7 "`, 7, true},
		{"integral float", `1.0`, 1, true},
		{"integral float string", `"60.0"`, 60, true},
		{"exponent", `1e2`, 100, true},
		{"large id", `"273123235"`, 273123235, true},
		{"empty string", `""`, 0, false},
		{"blank string", `"  "`, 0, false},
		{"null", `null`, 0, false},
		{"missing", ``, 0, false},
		{"fraction", `1.5`, 0, false},
		{"word", `"abc"`, 0, false},
		{"bool", `true`, 0, false},
		{"object", `{}`, 0, false},
		{"array", `[1]`, 0, false},
		{"huge", `1e300`, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseInt(json.RawMessage(tt.raw))
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("parseInt(%s) = %d, %v; want %d, %v", tt.raw, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestParseString(t *testing.T) {
	tests := []struct {
		name   string
		raw    string
		want   string
		wantOK bool
	}{
		{"string", `"www.gnome.org"`, "www.gnome.org", true},
		{"empty string", `""`, "", true},
		{"escaped", `"a\"b"`, `a"b`, true},
		{"number", `123`, "123", true},
		{"negative number", `-1`, "-1", true},
		{"null", `null`, "", false},
		{"missing", ``, "", false},
		{"bool", `false`, "", false},
		{"object", `{"a":1}`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseString(json.RawMessage(tt.raw))
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("parseString(%s) = %q, %v; want %q, %v", tt.raw, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestParseAPIStatusAndState(t *testing.T) {
	statuses := []struct {
		raw    string
		want   APIStatus
		wantOK bool
	}{
		{`"1"`, APIStatusUp, true},
		{`1`, APIStatusUp, true},
		{`"0"`, APIStatusDown, true},
		{`0`, APIStatusDown, true},
		{`"-1"`, APIStatusUnknown, true},
		{`-1`, APIStatusUnknown, true},
		{`""`, 0, false},
		{`200`, 0, false},
		{`"up"`, 0, false},
		{`null`, 0, false},
	}
	for _, tt := range statuses {
		t.Run("status "+tt.raw, func(t *testing.T) {
			got, ok := parseAPIStatus(json.RawMessage(tt.raw))
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("parseAPIStatus(%s) = %v, %v; want %v, %v", tt.raw, got, ok, tt.want, tt.wantOK)
			}
		})
	}
	states := []struct {
		raw  string
		want State
	}{
		{`"1"`, StateActive},
		{`1`, StateActive},
		{`"0"`, StatePaused},
		{`0`, StatePaused},
		{`""`, StateUnset},
		{`2`, StateUnset},
		{``, StateUnset},
	}
	for _, tt := range states {
		t.Run("state "+tt.raw, func(t *testing.T) {
			if got := parseState(json.RawMessage(tt.raw)); got != tt.want {
				t.Errorf("parseState(%s) = %v, want %v", tt.raw, got, tt.want)
			}
		})
	}
}

// referenceFixture is the reference's suggested check object (§2.1).
const referenceFixture = `{
  "id": "123456",
  "name": "www.gnome.org",
  "check_type": "18",
  "ip": "www.gnome.org",
  "host": "www.gnome.org",
  "port": "443",
  "path": "",
  "content": "",
  "open_port": "",
  "query_type": "",
  "query_response": "",
  "monitoring_region": "nam",
  "check_period": "60",
  "status_change_checks": "2",
  "state": "1",
  "status": "1"
}`

func TestDecodeCheck(t *testing.T) {
	t.Run("reference fixture", func(t *testing.T) {
		c, err := decodeCheck(json.RawMessage(referenceFixture), "")
		if err != nil {
			t.Fatal(err)
		}
		want := Check{
			ID: 123456, Name: "www.gnome.org", Type: CheckTypeWeb, IP: "www.gnome.org", Host: "www.gnome.org",
			Port: 443, Region: "nam", Period: time.Minute, StatusChangeChecks: 2, State: StateActive,
			ReportedStatus: APIStatusUp, HasReportedStatus: true,
			Status: StatusUnknown, StatusReason: ReasonNotDetermined,
		}
		if string(c.Raw) != referenceFixture {
			t.Errorf("Raw = %s", c.Raw)
		}
		c.Raw = nil
		if !reflect.DeepEqual(c, want) {
			t.Errorf("got  %+v\nwant %+v", c, want)
		}
	})
	t.Run("native numbers and unknown type", func(t *testing.T) {
		c, err := decodeCheck(json.RawMessage(`{"id":42,"name":7,"check_type":99,"port":25,"state":0,"status":0}`), "")
		if err != nil {
			t.Fatal(err)
		}
		if c.ID != 42 || c.Name != "7" || c.Type != 99 || c.Type.String() != "type_99" || c.Port != 25 {
			t.Errorf("got %+v", c)
		}
		if c.State != StatePaused || c.Status != StatusPaused || c.StatusReason != ReasonPaused {
			t.Errorf("paused check: state %v status %v reason %v", c.State, c.Status, c.StatusReason)
		}
		if !c.HasReportedStatus || c.ReportedStatus != APIStatusDown {
			t.Errorf("reported status = %v, %v", c.ReportedStatus, c.HasReportedStatus)
		}
	})
	t.Run("missing fields are zero", func(t *testing.T) {
		c, err := decodeCheck(json.RawMessage(`{"id":"5"}`), "")
		if err != nil {
			t.Fatal(err)
		}
		if c.State != StateUnset || c.HasReportedStatus || c.Status != StatusUnknown || c.Name != "" {
			t.Errorf("got %+v", c)
		}
	})
	t.Run("id from key", func(t *testing.T) {
		c, err := decodeCheck(json.RawMessage(`{"name":"x"}`), "77")
		if err != nil || c.ID != 77 {
			t.Errorf("got %d, %v", c.ID, err)
		}
	})
	t.Run("object id wins over key", func(t *testing.T) {
		c, err := decodeCheck(json.RawMessage(`{"id":"78"}`), "0")
		if err != nil || c.ID != 78 {
			t.Errorf("got %d, %v", c.ID, err)
		}
	})
	for _, bad := range []string{`{"name":"x"}`, `{"id":""}`, `{"id":"-3"}`, `"x"`, `null`, `[]`} {
		t.Run("rejects "+bad, func(t *testing.T) {
			if _, err := decodeCheck(json.RawMessage(bad), ""); err == nil {
				t.Error("want error")
			}
		})
	}
}

func TestDecodeCheckList(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantIDs []int64
		wantErr string
	}{
		{"empty object", `{}`, nil, ""},
		{"empty object with space", " { }\n", nil, ""},
		{"empty array", `[]`, nil, ""},
		{"null", `null`, nil, ""},
		{"keyed object sorted numerically", `{"10000":{"id":"10000"},"9999":{"id":"9999"},"10001":{"id":10001}}`, []int64{9999, 10000, 10001}, ""},
		{"array", `[{"id":"3"},{"id":1}]`, []int64{1, 3}, ""},
		{"keys without ids", `{"5":{"name":"a"},"4":{"name":"b"}}`, []int64{4, 5}, ""},
		{"entry without id", `{"a":{"name":"a"}}`, nil, "no usable id"},
		{"entry not an object", `{"5":"x"}`, nil, "not a json object"},
		{"duplicate id", `[{"id":"1"},{"id":1}]`, nil, "twice"},
		{"scalar", `3`, nil, "neither an object nor an array"},
		{"empty body", ``, nil, "empty body"},
		{"html", `<html>`, nil, "neither"},
		{"broken json", `{"1":`, nil, "decode check list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checks, err := decodeCheckList([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, c := range checks {
				ids = append(ids, c.ID)
			}
			if !slices.Equal(ids, tt.wantIDs) {
				t.Errorf("ids = %v, want %v", ids, tt.wantIDs)
			}
		})
	}
}

func TestDecodeSingleCheck(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantFound bool
		wantErr   bool
	}{
		{"bare object", `{"id":"7","name":"a"}`, true, false},
		{"wrapped like a list entry", `{"7":{"id":"7","name":"a"}}`, true, false},
		{"empty object", `{}`, false, false},
		{"empty array", `[]`, false, false},
		{"other id", `{"id":"8"}`, false, true},
		{"no id", `{"name":"a","x":1}`, false, true},
		{"not json", `oops`, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, found, err := decodeSingleCheck([]byte(tt.body), 7)
			if (err != nil) != tt.wantErr || found != tt.wantFound {
				t.Fatalf("found %v, err %v; want found %v, error %v", found, err, tt.wantFound, tt.wantErr)
			}
			if found && (c.ID != 7 || c.Name != "a") {
				t.Errorf("got %+v", c)
			}
		})
	}
}

func TestDecodePageCount(t *testing.T) {
	tests := []struct {
		body    string
		want    int
		wantErr bool
	}{
		{`3`, 3, false},
		{`"3"`, 3, false},
		{" 1\n", 1, false},
		{`0`, 0, false},
		{`{}`, 0, false},
		{`[]`, 0, false},
		{`-1`, 0, true},
		{`"x"`, 0, true},
		{`{"pages":3}`, 0, true},
		{``, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			got, err := decodePageCount([]byte(tt.body))
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("decodePageCount(%q) = %d, %v; want %d, error %v", tt.body, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestCheckTypeString(t *testing.T) {
	tests := []struct {
		typ   CheckType
		want  string
		known bool
	}{
		{CheckTypeWeb, "web", true},
		{CheckTypePing, "ping", true},
		{CheckTypeHTTPS, "https", true},
		{CheckTypeSMTP, "smtp", true},
		{11, "type_11", false},
		{0, "type_0", false},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.typ.String(); got != tt.want || tt.typ.Known() != tt.known {
				t.Errorf("String() = %q, Known() = %v; want %q, %v", got, tt.typ.Known(), tt.want, tt.known)
			}
		})
	}
}
