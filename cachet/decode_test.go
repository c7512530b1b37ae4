package cachet

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestFlexInt(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int
		wantErr bool
	}{
		{"number", `42`, 42, false},
		{"string", `"42"`, 42, false},
		{"padded string", `" 7 "`, 7, false},
		{"null", `null`, 0, false},
		{"true", `true`, 1, false},
		{"false", `false`, 0, false},
		{"integral decimal string", `"3.000"`, 3, false},
		{"integral float", `5.0`, 5, false},
		{"empty string", `""`, 0, false},
		{"fraction", `"2.5"`, 0, true},
		{"word", `"abc"`, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got flexInt
			err := json.Unmarshal([]byte(tt.in), &got)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && int(got) != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestFlexFloatAndBool(t *testing.T) {
	floats := []struct {
		in   string
		want float64
		err  bool
	}{
		{`1.5`, 1.5, false},
		{`"0.000"`, 0, false},
		{`"12.250"`, 12.25, false},
		{`null`, 0, false},
		{`10`, 10, false},
		{`"x"`, 0, true},
	}
	for _, tt := range floats {
		t.Run("float "+tt.in, func(t *testing.T) {
			var got flexFloat
			err := json.Unmarshal([]byte(tt.in), &got)
			if (err != nil) != tt.err || (!tt.err && float64(got) != tt.want) {
				t.Errorf("got %v, %v; want %v, err %v", got, err, tt.want, tt.err)
			}
		})
	}
	bools := []struct {
		in   string
		want bool
		err  bool
	}{
		{`true`, true, false},
		{`false`, false, false},
		{`1`, true, false},
		{`0`, false, false},
		{`"1"`, true, false},
		{`"0"`, false, false},
		{`"true"`, true, false},
		{`null`, false, false},
		{`2`, false, true},
	}
	for _, tt := range bools {
		t.Run("bool "+tt.in, func(t *testing.T) {
			var got flexBool
			err := json.Unmarshal([]byte(tt.in), &got)
			if (err != nil) != tt.err || (!tt.err && bool(got) != tt.want) {
				t.Errorf("got %v, %v; want %v, err %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestEnumDecoding(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    ComponentStatus
		wantErr bool
	}{
		{"object", `{"human":"Major outage","value":4}`, ComponentMajorOutage, false},
		{"object with localized label", `{"human":"Panne majeure","value":4}`, ComponentMajorOutage, false},
		{"object with string value", `{"human":"x","value":"2"}`, ComponentPerformanceIssues, false},
		{"bare int", `6`, ComponentUnderMaintenance, false},
		{"numeric string", `"3"`, ComponentPartialOutage, false},
		{"null", `null`, 0, false},
		{"object without value", `{"human":"Operational"}`, 0, true},
		{"label only", `"operational"`, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got ComponentStatus
			err := json.Unmarshal([]byte(tt.in), &got)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("incident status zero is reported", func(t *testing.T) {
		var s IncidentStatus = 3
		if err := json.Unmarshal([]byte(`{"human":"Reported","value":0}`), &s); err != nil {
			t.Fatal(err)
		}
		if s != IncidentUnknown || s.Resolved() {
			t.Errorf("got %v", s)
		}
	})
	t.Run("visibility from bool", func(t *testing.T) {
		var v Visibility
		if err := json.Unmarshal([]byte(`true`), &v); err != nil {
			t.Fatal(err)
		}
		if v != VisibilityGuest {
			t.Errorf("got %v", v)
		}
	})
}

func TestEnumStrings(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{ComponentOperational.String(), "operational"},
		{ComponentPerformanceIssues.String(), "performance_issues"},
		{ComponentPartialOutage.String(), "partial_outage"},
		{ComponentMajorOutage.String(), "major_outage"},
		{ComponentUnknown.String(), "unknown"},
		{ComponentUnderMaintenance.String(), "under_maintenance"},
		{ComponentStatus(0).String(), "component_status(0)"},
		{IncidentUnknown.String(), "unknown"},
		{IncidentInvestigating.String(), "investigating"},
		{IncidentIdentified.String(), "identified"},
		{IncidentWatching.String(), "watching"},
		{IncidentFixed.String(), "fixed"},
		{VisibilityAuthenticated.String(), "authenticated"},
		{VisibilityGuest.String(), "guest"},
		{VisibilityHidden.String(), "hidden"},
		{ScheduleInProgress.String(), "in_progress"},
		{MetricAverage.String(), "average"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestComponentStatusSeverity(t *testing.T) {
	// Reference §3.2, high to low.
	order := []ComponentStatus{
		ComponentMajorOutage, ComponentPartialOutage, ComponentPerformanceIssues,
		ComponentUnderMaintenance, ComponentUnknown, ComponentOperational,
	}
	for i := 1; i < len(order); i++ {
		if order[i-1].Severity() <= order[i].Severity() {
			t.Errorf("%v should be more severe than %v", order[i-1], order[i])
		}
	}
	if ComponentStatus(0).Severity() >= ComponentOperational.Severity() {
		t.Error("invalid status must rank below operational")
	}
}

func TestParseTime(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skipf("no tz database: %v", err)
	}
	tests := []struct {
		name    string
		in      string
		loc     *time.Location
		want    time.Time
		wantErr bool
	}{
		{"laravel string in utc", "2026-01-02 15:04:05", nil, time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC), false},
		{"laravel string in app zone", "2026-01-02 15:04:05", berlin, time.Date(2026, 1, 2, 14, 4, 5, 0, time.UTC), false},
		{"rfc3339 keeps offset", "2026-01-02T15:04:05+05:30", berlin, time.Date(2026, 1, 2, 9, 34, 5, 0, time.UTC), false},
		{"rfc3339 zulu", "2026-01-02T15:04:05Z", berlin, time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC), false},
		{"rfc3339 fraction", "2026-01-02T15:04:05.123456Z", nil, time.Date(2026, 1, 2, 15, 4, 5, 123456000, time.UTC), false},
		{"iso without offset", "2026-01-02T15:04:05", nil, time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC), false},
		{"unix seconds", "1767366245", nil, time.Unix(1767366245, 0), false},
		{"empty", "", nil, time.Time{}, false},
		{"human text", "5 minutes ago", nil, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTime(tt.in, tt.loc)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !got.Equal(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWireTime(t *testing.T) {
	tests := []struct {
		in   string
		want wireTime
	}{
		{`{"human":"2 hours ago","string":"2026-01-02 15:04:05"}`, "2026-01-02 15:04:05"},
		{`"2026-01-02 15:04:05"`, "2026-01-02 15:04:05"},
		{`null`, ""},
		{`{"human":null,"string":null}`, ""},
		{`1767366245`, "1767366245"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var got wireTime
			if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMetaMap(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want metaMap
	}{
		{"object", `{"owner":"statussync","n":5,"b":true}`, metaMap{"owner": "statussync", "n": "5", "b": "true"}},
		{"rows", `[{"key":"owner","value":"statussync"},{"key":"n","value":5}]`, metaMap{"owner": "statussync", "n": "5"}},
		{"null", `null`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got metaMap
			if err := json.Unmarshal([]byte(tt.in), &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDecodeDocument(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantIDs  []int
		single   bool
		hasNext  bool
		nextPage int
		wantErr  bool
	}{
		{
			name:   "json api single",
			body:   `{"data":{"id":"7","type":"components","attributes":{"id":7,"name":"API"}}}`,
			single: true, wantIDs: []int{7},
		},
		{
			name:    "json api list with next",
			body:    `{"data":[{"id":"1","type":"components","attributes":{"id":1}},{"id":"2","type":"components","attributes":{"id":2}}],"links":{"first":"http://x/api/components?page=1","next":"http://x/api/components?page=2"},"meta":{"current_page":1,"per_page":2}}`,
			wantIDs: []int{1, 2}, hasNext: true, nextPage: 2,
		},
		{
			name:    "json api last page",
			body:    `{"data":[{"id":"3","type":"components","attributes":{"id":3}}],"links":{"first":"http://x/api/components?page=1","prev":"http://x/api/components?page=1"}}`,
			wantIDs: []int{3},
		},
		{
			name:    "id only in data id",
			body:    `{"data":[{"id":"9","type":"components","attributes":{"name":"x"}}]}`,
			wantIDs: []int{9},
		},
		{
			name:   "legacy flat",
			body:   `{"data":{"id":4,"name":"Old","status":1}}`,
			single: true, wantIDs: []int{4},
		},
		{
			name:    "legacy 2.x pagination",
			body:    `{"data":[{"id":1}],"meta":{"pagination":{"links":{"next_page":"http://x/api/v1/components?page=2"}}}}`,
			wantIDs: []int{1}, hasNext: true, nextPage: 2,
		},
		{
			name:    "next without page number",
			body:    `{"data":[{"id":"1","attributes":{}}],"links":{"next":"http://x/api/components?cursor=abc"}}`,
			wantIDs: []int{1}, hasNext: true,
		},
		{name: "empty list", body: `{"data":[],"links":{"first":"x"}}`},
		{name: "html", body: `<html>`, wantErr: true},
		{name: "no data", body: `{"message":"x"}`, wantErr: true},
		{name: "scalar data", body: `{"data":"Pong!"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := decodeDocument([]byte(tt.body))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			var ids []int
			for _, r := range doc.Data {
				ids = append(ids, r.ID)
			}
			if !reflect.DeepEqual(ids, tt.wantIDs) {
				t.Errorf("ids = %v, want %v", ids, tt.wantIDs)
			}
			if doc.Single != tt.single || doc.HasNext != tt.hasNext || doc.NextPage != tt.nextPage {
				t.Errorf("single=%v hasNext=%v next=%d, want %v %v %d", doc.Single, doc.HasNext, doc.NextPage, tt.single, tt.hasNext, tt.nextPage)
			}
		})
	}
}

func TestDecodeComponentShapes(t *testing.T) {
	c := &Client{loc: time.UTC, log: discardLogger()}
	created := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		name string
		body string
		want Component
	}{
		{
			name: "current json api",
			body: `{"data":{"id":"3","type":"components","attributes":{"id":3,"name":"API","description":null,"link":"https://x","order":2,
				"status":{"human":"Operational","value":1},"latest_status":{"human":"Major outage","value":4},"enabled":true,
				"created":{"human":"now","string":"2026-03-04 05:06:07"},"updated":{"human":"now","string":"2026-03-04 05:06:07"}},
				"relationships":{"group":{"data":{"type":"componentGroups","id":"8"}}}}}`,
			want: Component{ID: 3, Name: "API", Link: "https://x", Order: 2, Status: ComponentOperational, LatestStatus: ComponentMajorOutage,
				Enabled: true, GroupID: 8, CreatedAt: created, UpdatedAt: created},
		},
		{
			name: "bare int status before 2025-01-16",
			body: `{"data":{"id":"3","type":"components","attributes":{"id":3,"name":"API","status":2,"enabled":1,"order":"4",
				"created":{"human":"now","string":"2026-03-04 05:06:07"}}}}`,
			want: Component{ID: 3, Name: "API", Order: 4, Status: ComponentPerformanceIssues, LatestStatus: ComponentPerformanceIssues,
				Enabled: true, CreatedAt: created},
		},
		{
			name: "legacy flat",
			body: `{"data":{"id":5,"name":"Web","status":"3","enabled":0,"component_group_id":"2","created_at":"2026-03-04 05:06:07"}}`,
			want: Component{ID: 5, Name: "Web", Status: ComponentPartialOutage, LatestStatus: ComponentPartialOutage,
				GroupID: 2, CreatedAt: created},
		},
		{
			name: "ungrouped with meta",
			body: `{"data":{"id":"6","type":"components","attributes":{"id":6,"name":"DNS","status":{"human":"x","value":5},"enabled":true,"meta":{"owner":"statussync"}},
				"relationships":{"group":{"data":null}}}}`,
			want: Component{ID: 6, Name: "DNS", Status: ComponentUnknown, LatestStatus: ComponentUnknown, Enabled: true,
				Meta: map[string]string{"owner": "statussync"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := decodeDocument([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.decodeComponent(doc.Data[0])
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeIncidentComponents(t *testing.T) {
	c := &Client{loc: time.UTC, log: discardLogger()}
	tests := []struct {
		name string
		body string
		want []AffectedComponent
	}{
		{
			name: "relationships and included pivot",
			body: `{"data":[{"id":"1","type":"incidents","attributes":{"id":1,"name":"x","status":{"human":"x","value":1},"visible":1},
				"relationships":{"components":{"data":[{"type":"components","id":"2"},{"type":"components","id":"3"}]}}}],
				"included":[{"type":"components","id":"2","attributes":{"id":2,"pivot":{"component_status":{"human":"x","value":4}}}}]}`,
			want: []AffectedComponent{{ID: 2, Status: ComponentMajorOutage}, {ID: 3}},
		},
		{
			name: "embedded array in flat shape",
			body: `{"data":[{"id":1,"name":"x","status":1,"components":[{"id":2,"pivot":{"component_status":3}},{"id":4,"component_status":2}]}]}`,
			want: []AffectedComponent{{ID: 2, Status: ComponentPartialOutage}, {ID: 4, Status: ComponentPerformanceIssues}},
		},
		{
			name: "no components requested",
			body: `{"data":[{"id":"1","type":"incidents","attributes":{"id":1,"status":{"value":4}}}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := decodeDocument([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.decodeIncident(doc.Data[0], doc.Included)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Components, tt.want) {
				t.Errorf("got %+v, want %+v", got.Components, tt.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc…"},
		{"ééé", 3, "é…"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := truncate(tt.in, tt.n); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
