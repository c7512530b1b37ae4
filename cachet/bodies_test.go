package cachet

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// assertJSON compares got with want as JSON values, so that key order and
// spacing do not matter but types and absent keys do.
func assertJSON(tb testing.TB, got []byte, want string) {
	tb.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		tb.Fatalf("got invalid JSON %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		tb.Fatalf("want invalid JSON %s: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		tb.Errorf("body mismatch\n got: %s\nwant: %s", got, want)
	}
}

func TestBuildComponentCreate(t *testing.T) {
	tests := []struct {
		name    string
		in      ComponentCreate
		want    string
		wantErr string
	}{
		{
			name: "minimal omits optional fields",
			in:   ComponentCreate{Name: "API"},
			want: `{"name":"API"}`,
		},
		{
			name: "all fields",
			in: ComponentCreate{Name: "API", Description: "d", Status: ComponentOperational, Link: "https://x",
				Order: new(0), Enabled: new(false), GroupID: 2, Meta: map[string]string{"owner": "statussync"}},
			want: `{"name":"API","description":"d","status":1,"link":"https://x","order":0,"enabled":false,"component_group_id":2,"meta":{"owner":"statussync"}}`,
		},
		{name: "missing name", in: ComponentCreate{Status: ComponentOperational}, wantErr: "name is required"},
		{name: "invalid status", in: ComponentCreate{Name: "x", Status: 9}, wantErr: "invalid component status 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := buildComponentCreate(tt.in)
			checkBuild(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func checkBuild(tb testing.TB, got []byte, err error, want, wantErr string) {
	tb.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			tb.Fatalf("err = %v, want %q", err, wantErr)
		}
		return
	}
	if err != nil {
		tb.Fatal(err)
	}
	assertJSON(tb, got, want)
}

func TestBuildComponentUpdate(t *testing.T) {
	tests := []struct {
		name    string
		in      ComponentPatch
		want    string
		wantErr string
	}{
		{name: "status only", in: ComponentPatch{Status: new(ComponentMajorOutage)}, want: `{"status":4}`},
		{name: "enabled false is sent", in: ComponentPatch{Enabled: new(false)}, want: `{"enabled":false}`},
		{name: "order zero is sent", in: ComponentPatch{Order: new(0), Name: new("n")}, want: `{"name":"n","order":0}`},
		{name: "empty description cannot clear", in: ComponentPatch{Description: new(""), Status: new(ComponentOperational)}, want: `{"status":1}`},
		{name: "nothing", in: ComponentPatch{}, wantErr: "nothing to update"},
		{name: "invalid status", in: ComponentPatch{Status: new(ComponentStatus(0))}, wantErr: "invalid component status 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := buildComponentUpdate(tt.in)
			checkBuild(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestBuildComponentGroupCreate(t *testing.T) {
	tests := []struct {
		name    string
		in      ComponentGroupCreate
		want    string
		wantErr string
	}{
		{name: "public group sends visible 1", in: ComponentGroupCreate{Name: "Core", Visible: VisibilityGuest}, want: `{"name":"Core","visible":1}`},
		{name: "zero value still sends visible 0", in: ComponentGroupCreate{Name: "Core"}, want: `{"name":"Core","visible":0}`},
		{
			name: "all fields",
			in:   ComponentGroupCreate{Name: "Core", Order: new(3), Visible: VisibilityGuest, Collapsed: new(2), ComponentIDs: []int{1, 2}},
			want: `{"name":"Core","order":3,"visible":1,"collapsed":2,"components":[1,2]}`,
		},
		{name: "hidden rejected", in: ComponentGroupCreate{Name: "Core", Visible: VisibilityHidden}, wantErr: "visibility hidden"},
		{name: "missing name", in: ComponentGroupCreate{Visible: VisibilityGuest}, wantErr: "name is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := buildComponentGroupCreate(tt.in)
			checkBuild(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestBuildIncidentCreate(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 30, 0, 0, time.FixedZone("x", 2*3600))
	tests := []struct {
		name    string
		in      IncidentCreate
		want    string
		wantErr string
	}{
		{
			name: "full",
			in: IncidentCreate{Name: "API down", Message: "Investigating", Status: IncidentInvestigating, Visible: VisibilityGuest,
				OccurredAt: at, Components: []AffectedComponent{{ID: 1, Status: ComponentMajorOutage}, {ID: 2, Status: ComponentPartialOutage}},
				Meta: map[string]string{"statussync_monitor": "api"}},
			want: `{"name":"API down","status":1,"message":"Investigating","visible":true,"stickied":false,"notifications":false,
				"occurred_at":"2026-05-01 10:30:00","components":[{"id":1,"status":4},{"id":2,"status":3}],"meta":{"statussync_monitor":"api"}}`,
		},
		{
			name: "status zero and no optional fields",
			in:   IncidentCreate{Name: "x", Message: "y", Status: IncidentUnknown},
			want: `{"name":"x","status":0,"message":"y","visible":false,"stickied":false,"notifications":false}`,
		},
		{
			name: "published at in utc",
			in:   IncidentCreate{Name: "x", Message: "y", Visible: VisibilityGuest, PublishedAt: at.UTC()},
			want: `{"name":"x","status":0,"message":"y","visible":true,"stickied":false,"notifications":false,"published_at":"2026-05-01 10:30:00"}`,
		},
		{
			name: "one component also goes out as component_id, the form older cores store",
			in:   IncidentCreate{Name: "x", Message: "y", Visible: VisibilityGuest, Components: []AffectedComponent{{ID: 7, Status: ComponentMajorOutage}}},
			want: `{"name":"x","status":0,"message":"y","visible":true,"stickied":false,"notifications":false,
				"components":[{"id":7,"status":4}],"component_id":7,"component_status":4}`,
		},
		{name: "no name", in: IncidentCreate{Message: "y"}, wantErr: "name is required"},
		{name: "no message", in: IncidentCreate{Name: "x"}, wantErr: "message is required"},
		{name: "bad status", in: IncidentCreate{Name: "x", Message: "y", Status: 7}, wantErr: "invalid incident status 7"},
		{name: "hidden", in: IncidentCreate{Name: "x", Message: "y", Visible: VisibilityHidden}, wantErr: "visibility hidden"},
		{
			name:    "duplicate component",
			in:      IncidentCreate{Name: "x", Message: "y", Components: []AffectedComponent{{ID: 1, Status: 4}, {ID: 1, Status: 3}}},
			wantErr: "component 1 listed twice",
		},
		{
			name:    "component without status",
			in:      IncidentCreate{Name: "x", Message: "y", Components: []AffectedComponent{{ID: 1}}},
			wantErr: "invalid component status 0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := buildIncidentCreate(tt.in, time.UTC)
			checkBuild(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestBuildIncidentUpdate(t *testing.T) {
	at := time.Date(2026, 5, 1, 12, 30, 0, 0, time.UTC)
	tests := []struct {
		name    string
		in      IncidentPatch
		want    string
		wantErr string
	}{
		{name: "status zero is sent", in: IncidentPatch{Status: new(IncidentUnknown)}, want: `{"status":0}`},
		{name: "visibility to bool", in: IncidentPatch{Visible: new(VisibilityGuest), Stickied: new(false)}, want: `{"visible":true,"stickied":false}`},
		{name: "dates and meta", in: IncidentPatch{OccurredAt: &at, Meta: map[string]string{"a": "b"}}, want: `{"occurred_at":"2026-05-01 12:30:00","meta":{"a":"b"}}`},
		{name: "nothing", in: IncidentPatch{}, wantErr: "nothing to update"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := buildIncidentUpdate(tt.in, time.UTC)
			checkBuild(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestBuildIncidentUpdateCreate(t *testing.T) {
	tests := []struct {
		name    string
		status  IncidentStatus
		message string
		want    string
		wantErr string
	}{
		{name: "fixed", status: IncidentFixed, message: "Resolved", want: `{"status":4,"message":"Resolved"}`},
		{name: "reported", status: IncidentUnknown, message: "x", want: `{"status":0,"message":"x"}`},
		{name: "empty message", status: IncidentFixed, message: " ", wantErr: "message is required"},
		{name: "bad status", status: -1, message: "x", wantErr: "invalid incident status -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := buildIncidentUpdateCreate(tt.status, tt.message)
			checkBuild(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestBuildMetricCreate(t *testing.T) {
	tests := []struct {
		name    string
		in      MetricCreate
		want    string
		wantErr string
	}{
		{name: "minimal", in: MetricCreate{Name: "Latency", Suffix: "ms"}, want: `{"name":"Latency","suffix":"ms","calc_type":0}`},
		{
			name: "default value has two decimals",
			in:   MetricCreate{Name: "Latency", Suffix: "ms", CalcType: MetricAverage, DefaultValue: new(0.0), Threshold: 1, Places: new(0), DisplayChart: new(true)},
			want: `{"name":"Latency","suffix":"ms","calc_type":1,"default_value":"0.00","threshold":1,"places":0,"display_chart":true}`,
		},
		{name: "threshold not a factor of 60", in: MetricCreate{Name: "x", Suffix: "ms", Threshold: 7}, wantErr: "not a factor of 60"},
		{name: "places out of range", in: MetricCreate{Name: "x", Suffix: "ms", Places: new(5)}, wantErr: "places 5"},
		{name: "no suffix", in: MetricCreate{Name: "x"}, wantErr: "suffix is required"},
		{name: "nan default", in: MetricCreate{Name: "x", Suffix: "ms", DefaultValue: new(math.NaN())}, wantErr: "finite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := buildMetricCreate(tt.in)
			checkBuild(t, got, err, tt.want, tt.wantErr)
		})
	}
}

func TestBuildMetricPointCreate(t *testing.T) {
	tests := []struct {
		name    string
		value   float64
		at      time.Time
		want    string
		wantErr string
	}{
		{name: "unix number timestamp", value: 12.5, at: time.Unix(1767366245, 0), want: `{"value":12.5,"timestamp":1767366245}`},
		{name: "zero time omits timestamp", value: 3, want: `{"value":3}`},
		{name: "inf", value: math.Inf(1), wantErr: "finite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := buildMetricPointCreate(tt.value, tt.at)
			checkBuild(t, got, err, tt.want, tt.wantErr)
			if err == nil && strings.Contains(string(got), `"timestamp":"`) {
				t.Errorf("timestamp must be a JSON number: %s", got)
			}
		})
	}
}

func TestFilterQueries(t *testing.T) {
	all := Capabilities{Meta: true, IncidentComponents: true, ScheduleStatusFilter: true}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{
			name: "incident filter",
			got: IncidentFilter{Statuses: UnresolvedIncidentStatuses(), ComponentID: 3,
				Meta: map[string]string{"statussync_monitor": "api"}}.query(all).Encode(),
			want: "filter%5Bmeta%5D%5Bstatussync_monitor%5D=api&filter%5Bstatus%5D=0%2C1%2C2%2C3&include=components%2Cmeta",
		},
		{
			name: "incident filter default",
			got:  IncidentFilter{}.query(all).Encode(),
			want: "include=components",
		},
		{
			name: "incident filter on a core without meta",
			got:  IncidentFilter{IncludeMeta: true}.query(Capabilities{IncidentComponents: true}).Encode(),
			want: "include=components",
		},
		{
			name: "incident filter on the 2024-10 core",
			got:  IncidentFilter{Statuses: []IncidentStatus{1}, IncludeMeta: true}.query(Capabilities{}).Encode(),
			want: "filter%5Bstatus%5D=1",
		},
		{
			name: "component filter",
			got:  ComponentFilter{Statuses: []ComponentStatus{3, 4}, Enabled: new(false), IncludeGroup: true}.query().Encode(),
			want: "filter%5Benabled%5D=false&filter%5Bstatus%5D=3%2C4&include=group",
		},
		{
			name: "component filter default",
			got:  ComponentFilter{}.query().Encode(),
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got  %s\nwant %s", tt.got, tt.want)
			}
		})
	}
}

func TestIncidentFilterMatch(t *testing.T) {
	open := Incident{Status: IncidentInvestigating, Components: []AffectedComponent{{ID: 3, Status: 4}}, Meta: map[string]string{"m": "api"}}
	tests := []struct {
		name string
		f    IncidentFilter
		in   Incident
		want bool
	}{
		{"no filter", IncidentFilter{}, open, true},
		{"status matches", IncidentFilter{Statuses: UnresolvedIncidentStatuses()}, open, true},
		{"status excluded", IncidentFilter{Statuses: UnresolvedIncidentStatuses()}, Incident{Status: IncidentFixed}, false},
		{"component matches", IncidentFilter{ComponentID: 3}, open, true},
		{"component differs", IncidentFilter{ComponentID: 4}, open, false},
		{"meta differs", IncidentFilter{Meta: map[string]string{"m": "web"}}, open, false},
		{"meta not returned trusts server", IncidentFilter{Meta: map[string]string{"m": "web"}}, Incident{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.match(tt.in); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
