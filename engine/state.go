package engine

import (
	"time"

	"github.com/statussync/statussync/monitors"
)

// monitorState is one monitor's decided state and the consecutive-result
// counters that move it. Thresholds make a single failed or slow check
// invisible on the status page; unknown results (no new information) touch
// neither the state nor the counters.
type monitorState struct {
	state monitors.Status
	since time.Time
	last  monitors.Result

	good    int // consecutive up results
	notDown int // consecutive up or degraded results
	bad     int // consecutive degraded or down results
	down    int // consecutive down results
}

// observe feeds one result through the state machine and reports whether
// the decided state changed. failures is failures_before_down, successes
// is successes_before_up; both are at least 1.
//
// From the initial unknown state a first success is believed at once
// (there is no outage to recover from) while failures must reach the
// threshold. Degraded is entered after `failures` consecutive degraded or
// down results, left for up after `successes` consecutive ups; down is left
// after `successes` consecutive results that are not down.
func (s *monitorState) observe(r monitors.Result, failures, successes int, now time.Time) bool {
	if r.Status == monitors.StatusUnknown {
		return false
	}
	s.last = r
	switch r.Status {
	case monitors.StatusUp:
		s.good++
		s.notDown++
		s.bad, s.down = 0, 0
	case monitors.StatusDegraded:
		s.notDown++
		s.bad++
		s.good, s.down = 0, 0
	case monitors.StatusDown:
		s.bad++
		s.down++
		s.good, s.notDown = 0, 0
	}

	next := s.state
	switch s.state {
	case monitors.StatusUnknown:
		switch {
		case r.Status != monitors.StatusDown:
			next = r.Status
		case s.down >= failures:
			next = monitors.StatusDown
		}
	case monitors.StatusUp:
		switch {
		case s.down >= failures:
			next = monitors.StatusDown
		case s.bad >= failures:
			next = monitors.StatusDegraded
		}
	case monitors.StatusDegraded:
		switch {
		case s.down >= failures:
			next = monitors.StatusDown
		case s.good >= successes:
			next = monitors.StatusUp
		}
	case monitors.StatusDown:
		if s.notDown >= successes {
			next = r.Status
		}
	}
	if next == s.state {
		return false
	}
	s.state = next
	s.since = now
	return true
}
