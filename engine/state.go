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
	// since is when the evidence for the current state began: for down,
	// the first of the consecutive failures, not the one that tripped the
	// threshold; that is when an outage really started.
	since time.Time
	// reason is the last counted result's publishable reason (only that:
	// a whole Result would keep its probe sample and error alive).
	reason string
	// seed is what the status page showed for the monitor's components
	// when the monitor started (see seedStatus); unknown when it showed
	// nothing usable. From the undecided state, a first result that agrees
	// with it is decided at once, and one that does not must bring the
	// evidence it would take to leave that state.
	seed monitors.Status
	// observed is when the evidence of the last counted result was
	// observed: a result no later than it (a re-read of the same ClouDNS
	// poll, say) is no new information.
	observed time.Time

	good    int // consecutive up results
	notDown int // consecutive up or degraded results
	bad     int // consecutive degraded or down results
	down    int // consecutive down results

	// When each current run of results began.
	goodSince, notDownSince, badSince, downSince time.Time
}

// bump counts one more result in a run, remembering when the run began.
func bump(n *int, since *time.Time, now time.Time) {
	if *n == 0 {
		*since = now
	}
	*n++
}

// transition is the state the counters lead to from the decided state
// from, after a result of status st, and when the evidence for it began.
func (s *monitorState) transition(from, st monitors.Status, failures, successes int, now time.Time) (monitors.Status, time.Time) {
	switch from {
	case monitors.StatusUp:
		switch {
		case s.down >= failures:
			return monitors.StatusDown, s.downSince
		case s.bad >= failures:
			return monitors.StatusDegraded, s.badSince
		}
	case monitors.StatusDegraded:
		switch {
		case s.down >= failures:
			return monitors.StatusDown, s.downSince
		case s.good >= successes:
			return monitors.StatusUp, s.goodSince
		}
	case monitors.StatusDown:
		if s.notDown >= successes {
			return st, s.notDownSince
		}
	}
	return from, now
}

// observe feeds one result through the state machine and reports whether
// the decided state changed. failures is failures_before_down, successes
// is successes_before_up; both are at least 1.
//
// From the initial unknown state without a seed, a first success is
// believed at once (there is no outage to recover from) while failures
// must reach the threshold. With a seed (what the page showed at start),
// the page is the starting point: agreeing results decide at once, others
// must reach the threshold that leaving the seed's state would take.
// Degraded is entered after `failures` consecutive degraded or down
// results, left for up after `successes` consecutive ups; down is left
// after `successes` consecutive results that are not down.
//
// A result whose ObservedAt is set and not later than the last counted
// one's is a repeated observation: like unknown, it moves nothing.
func (s *monitorState) observe(r monitors.Result, failures, successes int, now time.Time) bool {
	if r.Status == monitors.StatusUnknown {
		return false
	}
	if !r.ObservedAt.IsZero() {
		if !r.ObservedAt.After(s.observed) {
			return false
		}
		s.observed = r.ObservedAt
	}
	s.reason = r.Reason
	switch r.Status {
	case monitors.StatusUp:
		bump(&s.good, &s.goodSince, now)
		bump(&s.notDown, &s.notDownSince, now)
		s.bad, s.down = 0, 0
	case monitors.StatusDegraded:
		bump(&s.notDown, &s.notDownSince, now)
		bump(&s.bad, &s.badSince, now)
		s.good, s.down = 0, 0
	case monitors.StatusDown:
		bump(&s.bad, &s.badSince, now)
		bump(&s.down, &s.downSince, now)
		s.good, s.notDown = 0, 0
	}

	next, since := s.state, now
	switch {
	case s.state != monitors.StatusUnknown:
		next, since = s.transition(s.state, r.Status, failures, successes, now)
	case s.seed == monitors.StatusUnknown:
		// Nothing known: a first success is believed at once, failures
		// must reach the threshold.
		switch {
		case r.Status != monitors.StatusDown:
			next = r.Status
		case s.down >= failures:
			next, since = monitors.StatusDown, s.downSince
		}
	case r.Status == s.seed:
		// The page's starting point, confirmed.
		next = s.seed
	default:
		// Leaving the page's starting point takes the same evidence as
		// leaving that state; until then the monitor has not decided.
		if to, at := s.transition(s.seed, r.Status, failures, successes, now); to != s.seed {
			next, since = to, at
		}
	}
	if next == s.state {
		return false
	}
	s.state = next
	s.since = since
	return true
}
