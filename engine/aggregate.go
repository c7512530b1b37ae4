package engine

import (
	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/monitors"
)

// ComponentState is what statussync wants the status page to show for a
// component. The Cachet adapter maps it to Cachet's status integers in one
// place; the engine never sees those integers.
type ComponentState int

// Component states, in order of severity. Unknown means no monitor of the
// component has decided anything yet, so there is nothing to write.
const (
	ComponentUnknown ComponentState = iota
	ComponentOperational
	ComponentPerformanceIssues
	ComponentPartialOutage
	ComponentMajorOutage
)

var componentStateNames = [...]string{"unknown", "operational", "performance_issues", "partial_outage", "major_outage"}

func (c ComponentState) String() string {
	if c < 0 || int(c) >= len(componentStateNames) {
		return "invalid"
	}
	return componentStateNames[c]
}

// memberState is one monitor's decided state as its component sees it.
type memberState struct {
	status monitors.Status
	outage config.Outage
}

// severity maps one monitor's decided state to the component state it
// alone would mean.
func (m memberState) severity() ComponentState {
	switch m.status {
	case monitors.StatusUp:
		return ComponentOperational
	case monitors.StatusDegraded:
		return ComponentPerformanceIssues
	case monitors.StatusDown:
		if m.outage == config.OutagePartial {
			return ComponentPartialOutage
		}
		return ComponentMajorOutage
	}
	return ComponentUnknown
}

// aggregate combines a component's monitors by its rule. Monitors that
// have not decided yet (unknown) are left out; with none decided the
// result is unknown.
//
//   - worst: the most severe monitor.
//   - any_up: operational while any monitor is up (redundant replicas);
//     otherwise the least severe of the rest.
//   - quorum N: major outage when at least N monitors are down, partial
//     outage when some but fewer are, else the worst of the rest.
func aggregate(rule config.Rule, quorum int, members []memberState) ComponentState {
	worst, best := ComponentUnknown, ComponentUnknown
	downs := 0
	for _, m := range members {
		sev := m.severity()
		if sev == ComponentUnknown {
			continue
		}
		if m.status == monitors.StatusDown {
			downs++
		}
		worst = max(worst, sev)
		if best == ComponentUnknown || sev < best {
			best = sev
		}
	}
	switch rule {
	case config.RuleAnyUp:
		return best
	case config.RuleQuorum:
		switch {
		case downs >= quorum:
			return ComponentMajorOutage
		case downs > 0:
			return ComponentPartialOutage
		}
	}
	return worst
}

// settled reports whether the members that have decided fix the result
// whatever the undecided ones turn out to be. Every rule is monotone in
// each member's severity, so it is enough that the undecided members all
// up and all down (at their outage level) give the same result.
func settled(rule config.Rule, quorum int, members []memberState) bool {
	low := make([]memberState, len(members))
	high := make([]memberState, len(members))
	for i, m := range members {
		low[i], high[i] = m, m
		if m.status == monitors.StatusUnknown {
			low[i].status, high[i].status = monitors.StatusUp, monitors.StatusDown
		}
	}
	return aggregate(rule, quorum, low) == aggregate(rule, quorum, high)
}

// stateNames maps status_map's spelling to component states.
var stateNames = map[string]ComponentState{
	"operational":        ComponentOperational,
	"performance_issues": ComponentPerformanceIssues,
	"partial_outage":     ComponentPartialOutage,
	"major_outage":       ComponentMajorOutage,
}

// mapStatus applies a component's status_map override (validated at load).
func mapStatus(m map[string]string, s ComponentState) ComponentState {
	if to, ok := m[s.String()]; ok {
		return stateNames[to]
	}
	return s
}
