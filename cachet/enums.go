package cachet

import (
	"encoding/json"
	"fmt"
)

// ComponentStatus is Cachet's ComponentStatusEnum (reference §4). It is used
// for a component's baseline and effective status and for the impact an
// incident or a maintenance window has on a component. 0 is not a valid
// status: Cachet rejects it with 422.
type ComponentStatus int

// Component statuses, with the integer values Cachet stores and sends.
const (
	ComponentOperational       ComponentStatus = 1
	ComponentPerformanceIssues ComponentStatus = 2
	ComponentPartialOutage     ComponentStatus = 3
	ComponentMajorOutage       ComponentStatus = 4
	ComponentUnknown           ComponentStatus = 5
	ComponentUnderMaintenance  ComponentStatus = 6
)

var componentStatusNames = map[ComponentStatus]string{
	ComponentOperational:       "operational",
	ComponentPerformanceIssues: "performance_issues",
	ComponentPartialOutage:     "partial_outage",
	ComponentMajorOutage:       "major_outage",
	ComponentUnknown:           "unknown",
	ComponentUnderMaintenance:  "under_maintenance",
}

// String returns Cachet's enum case name, for example "major_outage", or
// "component_status(N)" for a value Cachet does not define.
func (s ComponentStatus) String() string {
	if n, ok := componentStatusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("component_status(%d)", int(s))
}

// Valid reports whether s is one of the six statuses Cachet accepts.
func (s ComponentStatus) Valid() bool {
	_, ok := componentStatusNames[s]
	return ok
}

// Severity ranks s the way Cachet does when it derives a component's
// effective status from its baseline, maintenance and incident impacts
// (reference §3.2): major outage 5, partial outage 4, performance issues 3,
// under maintenance 2, unknown 1, operational 0. Invalid values rank -1.
// Note that the ranking is not the numeric order of the values.
func (s ComponentStatus) Severity() int {
	switch s {
	case ComponentMajorOutage:
		return 5
	case ComponentPartialOutage:
		return 4
	case ComponentPerformanceIssues:
		return 3
	case ComponentUnderMaintenance:
		return 2
	case ComponentUnknown:
		return 1
	case ComponentOperational:
		return 0
	default:
		return -1
	}
}

// UnmarshalJSON accepts the current {"human","value"} object, a bare integer
// (Cachet 3 builds before 2025-01-16, reference §9) or a numeric string.
func (s *ComponentStatus) UnmarshalJSON(b []byte) error {
	v, err := decodeEnumValue(b)
	if err != nil {
		return fmt.Errorf("component status: %w", err)
	}
	*s = ComponentStatus(v)
	return nil
}

// IncidentStatus is Cachet's IncidentStatusEnum (reference §4), used by
// incidents and incident updates. 0 to 3 are unresolved; 4 resolves.
type IncidentStatus int

// Incident statuses. IncidentUnknown is the zero value and a valid status:
// Cachet's dashboard labels it "Reported".
const (
	IncidentUnknown       IncidentStatus = 0
	IncidentInvestigating IncidentStatus = 1
	IncidentIdentified    IncidentStatus = 2
	IncidentWatching      IncidentStatus = 3
	IncidentFixed         IncidentStatus = 4
)

var incidentStatusNames = map[IncidentStatus]string{
	IncidentUnknown:       "unknown",
	IncidentInvestigating: "investigating",
	IncidentIdentified:    "identified",
	IncidentWatching:      "watching",
	IncidentFixed:         "fixed",
}

// String returns Cachet's enum case name, for example "investigating", or
// "incident_status(N)" for a value Cachet does not define.
func (s IncidentStatus) String() string {
	if n, ok := incidentStatusNames[s]; ok {
		return n
	}
	return fmt.Sprintf("incident_status(%d)", int(s))
}

// Valid reports whether s is one of the five statuses Cachet accepts.
func (s IncidentStatus) Valid() bool {
	_, ok := incidentStatusNames[s]
	return ok
}

// Resolved reports whether s is IncidentFixed. Cachet counts every other
// status as unresolved.
func (s IncidentStatus) Resolved() bool { return s == IncidentFixed }

// UnmarshalJSON accepts a {"human","value"} object, a bare integer or a
// numeric string.
func (s *IncidentStatus) UnmarshalJSON(b []byte) error {
	v, err := decodeEnumValue(b)
	if err != nil {
		return fmt.Errorf("incident status: %w", err)
	}
	*s = IncidentStatus(v)
	return nil
}

// UnresolvedIncidentStatuses returns the statuses Cachet treats as
// unresolved, in value order, for use in IncidentFilter.Statuses.
func UnresolvedIncidentStatuses() []IncidentStatus {
	return []IncidentStatus{IncidentUnknown, IncidentInvestigating, IncidentIdentified, IncidentWatching}
}

// Visibility is Cachet's ResourceVisibilityEnum (reference §4), the
// "visible" attribute of incidents, component groups and metrics.
type Visibility int

// Visibilities. VisibilityAuthenticated is the zero value and also Cachet's
// database default for component groups, which hides a group and its
// components from the public page.
const (
	VisibilityAuthenticated Visibility = 0
	VisibilityGuest         Visibility = 1
	VisibilityHidden        Visibility = 2
)

// String returns Cachet's enum case name, for example "guest".
func (v Visibility) String() string {
	switch v {
	case VisibilityAuthenticated:
		return "authenticated"
	case VisibilityGuest:
		return "guest"
	case VisibilityHidden:
		return "hidden"
	default:
		return fmt.Sprintf("visibility(%d)", int(v))
	}
}

// UnmarshalJSON accepts an integer, a {"human","value"} object, a numeric
// string or a boolean (true is guest, false is authenticated).
func (v *Visibility) UnmarshalJSON(b []byte) error {
	n, err := decodeEnumValue(b)
	if err != nil {
		return fmt.Errorf("visibility: %w", err)
	}
	*v = Visibility(n)
	return nil
}

// ScheduleStatus is Cachet's ScheduleStatusEnum (reference §4). Cachet
// computes it from the window's start and end at read time.
type ScheduleStatus int

// Schedule statuses.
const (
	ScheduleUpcoming   ScheduleStatus = 0
	ScheduleInProgress ScheduleStatus = 1
	ScheduleComplete   ScheduleStatus = 2
)

// String returns Cachet's enum case name, for example "in_progress".
func (s ScheduleStatus) String() string {
	switch s {
	case ScheduleUpcoming:
		return "upcoming"
	case ScheduleInProgress:
		return "in_progress"
	case ScheduleComplete:
		return "complete"
	default:
		return fmt.Sprintf("schedule_status(%d)", int(s))
	}
}

// UnmarshalJSON accepts a {"human","value"} object, a bare integer or a
// numeric string.
func (s *ScheduleStatus) UnmarshalJSON(b []byte) error {
	v, err := decodeEnumValue(b)
	if err != nil {
		return fmt.Errorf("schedule status: %w", err)
	}
	*s = ScheduleStatus(v)
	return nil
}

// MetricCalcType is Cachet's MetricTypeEnum, the "calc_type" of a metric.
type MetricCalcType int

// Metric calculation types.
const (
	MetricSum     MetricCalcType = 0
	MetricAverage MetricCalcType = 1
)

// String returns Cachet's enum case name, "sum" or "average".
func (t MetricCalcType) String() string {
	switch t {
	case MetricSum:
		return "sum"
	case MetricAverage:
		return "average"
	default:
		return fmt.Sprintf("metric_calc_type(%d)", int(t))
	}
}

// UnmarshalJSON accepts an integer, a numeric string or a {"human","value"}
// object.
func (t *MetricCalcType) UnmarshalJSON(b []byte) error {
	v, err := decodeEnumValue(b)
	if err != nil {
		return fmt.Errorf("metric calc type: %w", err)
	}
	*t = MetricCalcType(v)
	return nil
}

// decodeEnumValue extracts the integer of an enum attribute. Cachet sends
// {"human": "<translated label>", "value": N}; the label depends on the app
// locale and is ignored. Older builds send the bare integer, and some
// drivers return integers as strings. null decodes as 0.
func decodeEnumValue(b []byte) (int, error) {
	var obj struct {
		Value json.RawMessage `json:"value"`
	}
	if len(b) > 0 && b[0] == '{' {
		if err := json.Unmarshal(b, &obj); err != nil {
			return 0, err
		}
		if obj.Value == nil {
			return 0, fmt.Errorf("object without value: %s", truncate(string(b), 64))
		}
		b = obj.Value
	}
	var n flexInt
	if err := n.UnmarshalJSON(b); err != nil {
		return 0, err
	}
	return int(n), nil
}
