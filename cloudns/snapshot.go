package cloudns

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// Snapshot is the state of every check of the account at one poll.
type Snapshot struct {
	// TakenAt is when the poll started: the data is at least this old.
	TakenAt time.Time
	// Duration is how long the poll took.
	Duration time.Duration
	// Checks holds every check seen, sorted by id, with Status determined.
	Checks []Check
	// Calls is the number of HTTP requests the poll sent, retries included.
	Calls int
	// Conflicts counts checks whose status sources contradicted each other
	// (ReasonBothFilters or ReasonFieldDisagrees); they are StatusUnknown.
	Conflicts int

	byID   map[int64]int
	byName map[string][]int
}

// ByID returns the check with id.
func (s *Snapshot) ByID(id int64) (Check, bool) {
	i, ok := s.byID[id]
	if !ok {
		return Check{}, false
	}
	return s.Checks[i], true
}

// ByName returns the checks named name, sorted by id. ClouDNS does not make
// names unique, so callers must decide what more than one means.
func (s *Snapshot) ByName(name string) []Check {
	idx := s.byName[name]
	out := make([]Check, 0, len(idx))
	for _, i := range idx {
		out = append(out, s.Checks[i])
	}
	return out
}

// Count returns how many checks have status st.
func (s *Snapshot) Count(st Status) int {
	n := 0
	for _, c := range s.Checks {
		if c.Status == st {
			n++
		}
	}
	return n
}

// Snapshot polls the whole account and determines every check's status: it
// lists all checks, then the checks the documented status filter reports as
// down (status=0) and as up (status=1), following the pages of each. The
// cost is the sum of the three page counts, independent of how many checks a
// caller is interested in: 7 calls for 250 mostly-up checks at 100 per page.
// See the package doc for the rules. Any failed call fails the whole
// Snapshot; there are no partial results.
func (c *Client) Snapshot(ctx context.Context) (*Snapshot, error) {
	start := time.Now()
	var calls int
	all, err := c.listAll(ctx, ListOptions{}, &calls)
	if err != nil {
		return nil, fmt.Errorf("cloudns: snapshot: list checks: %w", err)
	}
	down, err := c.listAll(ctx, ListOptions{Status: Ptr(APIStatusDown)}, &calls)
	if err != nil {
		return nil, fmt.Errorf("cloudns: snapshot: list down checks: %w", err)
	}
	up, err := c.listAll(ctx, ListOptions{Status: Ptr(APIStatusUp)}, &calls)
	if err != nil {
		return nil, fmt.Errorf("cloudns: snapshot: list up checks: %w", err)
	}
	checks, conflicts := determine(all, down, up, c.logger)
	s := newSnapshot(checks)
	s.TakenAt = start
	s.Duration = time.Since(start)
	s.Calls = calls
	s.Conflicts = conflicts
	if conflicts > 0 {
		c.logger.Warn("cloudns status sources disagree, affected checks are unknown", "conflicts", conflicts, "checks", len(checks))
	}
	c.logger.Debug("cloudns snapshot", "checks", len(checks), "down", len(down), "up", len(up), "calls", calls, "duration", s.Duration)
	return s, nil
}

func newSnapshot(checks []Check) *Snapshot {
	s := &Snapshot{
		Checks: checks,
		byID:   make(map[int64]int, len(checks)),
		byName: make(map[string][]int),
	}
	for i, ch := range checks {
		s.byID[ch.ID] = i
		s.byName[ch.Name] = append(s.byName[ch.Name], i)
	}
	return s
}

// determine merges the unfiltered list with the down and up filter results.
// It is the whole status policy, in order:
//
//  1. paused (state 0, as reported by the unfiltered list) → StatusPaused;
//  2. in both filter results → StatusUnknown (a contradiction);
//  3. in one filter result, and that result's own copy of the check carries
//     a status field that says otherwise → StatusUnknown;
//  4. in the down result → StatusDown; in the up result → StatusUp;
//  5. in neither → StatusUnknown, whatever its unverified status field says.
//
// Checks that appear only in a filter result (created between the calls)
// are kept. conflicts counts cases 2 and 3.
func determine(all, down, up []Check, logger *slog.Logger) (checks []Check, conflicts int) {
	downByID := indexByID(down)
	upByID := indexByID(up)

	merged := make(map[int64]Check, len(all))
	for _, ch := range all {
		merged[ch.ID] = ch
	}
	for _, set := range [][]Check{down, up} {
		for _, ch := range set {
			if _, ok := merged[ch.ID]; !ok {
				merged[ch.ID] = ch
			}
		}
	}

	checks = make([]Check, 0, len(merged))
	for id, ch := range merged {
		d, inDown := downByID[id]
		u, inUp := upByID[id]
		switch {
		case ch.State == StatePaused:
			ch.Status, ch.StatusReason = StatusPaused, ReasonPaused
		case inDown && inUp:
			ch.Status, ch.StatusReason = StatusUnknown, ReasonBothFilters
			conflicts++
			logger.Debug("cloudns check listed as both up and down", "check_id", id)
		case inDown && d.HasReportedStatus && d.ReportedStatus != APIStatusDown,
			inUp && u.HasReportedStatus && u.ReportedStatus != APIStatusUp:
			ch.Status, ch.StatusReason = StatusUnknown, ReasonFieldDisagrees
			conflicts++
			reported := u.ReportedStatus
			if inDown {
				reported = d.ReportedStatus
			}
			logger.Debug("cloudns check status field disagrees with the status filter", "check_id", id, "in_down_filter", inDown, "reported_status", reported.String())
		case inDown:
			ch.Status, ch.StatusReason = StatusDown, ReasonDownFilter
		case inUp:
			ch.Status, ch.StatusReason = StatusUp, ReasonUpFilter
		default:
			ch.Status, ch.StatusReason = StatusUnknown, ReasonNoFilter
		}
		checks = append(checks, ch)
	}
	slices.SortFunc(checks, func(a, b Check) int { return cmp.Compare(a.ID, b.ID) })
	return checks, conflicts
}

func indexByID(checks []Check) map[int64]Check {
	m := make(map[int64]Check, len(checks))
	for _, ch := range checks {
		m[ch.ID] = ch
	}
	return m
}
