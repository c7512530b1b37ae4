package monitors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	"github.com/statussync/statussync/cloudns"
	"github.com/statussync/statussync/config"
)

// Reasons of cloudns results. They are generic on purpose: they are
// published, and a check's name or target may be an internal host name.
const (
	reasonCloudNSUp        = "ClouDNS check up"
	reasonCloudNSDown      = "ClouDNS check down"
	reasonCloudNSPaused    = "ClouDNS check paused"
	reasonCloudNSUnknown   = "ClouDNS check status unknown"
	reasonCloudNSNotFound  = "ClouDNS check not found"
	reasonCloudNSAmbiguous = "ClouDNS check name ambiguous"
	reasonCloudNSStale     = "ClouDNS data stale"
	reasonCloudNSFailed    = "ClouDNS poll failed"
	reasonCloudNSInactive  = "not the leader"
	reasonCloudNSClosed    = "ClouDNS poller stopped"
)

// cloudnsMonitor mirrors one ClouDNS monitoring check, selected by id or by
// name, from the snapshot its CloudNSPoller shares with every other cloudns
// monitor. It never calls ClouDNS itself.
//
// Only a check that ClouDNS's documented status filter lists as down is
// down. Everything that is not knowledge about the check (a failed or stale
// poll, an inactive poller, a paused, missing or ambiguous check, a status
// ClouDNS does not vouch for) is unknown, which the engine treats as no new
// information. The monitor's outage level (major or partial) is applied to
// a down result by the engine, as for every kind.
type cloudnsMonitor struct {
	sel    config.CloudNSProbe
	poller *CloudNSPoller
	logger *slog.Logger

	// mu guards problem, the last configuration problem logged (missing or
	// ambiguous check), so that it is logged once per change, not per check.
	mu      sync.Mutex
	problem string
}

var _ Monitor = (*cloudnsMonitor)(nil)

func newCloudNSMonitor(spec config.MonitorSpec, deps Deps) (Monitor, error) {
	c := spec.CloudNS
	if c == nil || (c.CheckID == 0) == (c.CheckName == "") {
		return nil, errors.New("cloudns: configuration was not validated")
	}
	if deps.CloudNS == nil {
		return nil, errors.New("cloudns: no ClouDNS poller (Deps.CloudNS) was provided")
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &cloudnsMonitor{sel: *c, poller: deps.CloudNS, logger: logger}, nil
}

func (m *cloudnsMonitor) Check(ctx context.Context) Result {
	var d details
	d.add("cloudns selector", m.selector())
	v, err := m.poller.Latest()
	addCloudNSView(&d, v)
	if err != nil {
		return cloudnsResult(StatusUnknown, cloudnsUnavailableReason(v, err), d, fmt.Errorf("cloudns: %w", err))
	}

	ch, reason, err := m.find(v.Snapshot)
	if err != nil {
		m.noteProblem(reason, err)
		return cloudnsResult(StatusUnknown, reason, d, err)
	}
	m.noteProblem("", nil)
	d.add("check id", ch.ID)
	d.add("check name", ch.Name)
	d.add("check type", ch.Type.String())
	d.add("check state", ch.State.String())
	d.add("cloudns status", ch.Status.String())
	d.add("status source", string(ch.StatusReason))

	// The evidence is the poll's: the engine counts each poll once towards
	// a monitor's thresholds, however often the monitor reads it.
	switch ch.Status {
	case cloudns.StatusUp:
		r := cloudnsResult(StatusUp, reasonCloudNSUp, d, nil)
		r.ObservedAt = v.Snapshot.TakenAt
		return r
	case cloudns.StatusDown:
		r := cloudnsResult(StatusDown, reasonCloudNSDown, d, nil)
		r.ObservedAt = v.Snapshot.TakenAt
		return r
	case cloudns.StatusPaused:
		return cloudnsResult(StatusUnknown, reasonCloudNSPaused, d, nil)
	default:
		return cloudnsResult(StatusUnknown, reasonCloudNSUnknown, d,
			fmt.Errorf("cloudns: check %d: status not determined (%s)", ch.ID, ch.StatusReason))
	}
}

// selector describes the configured selector for details.
func (m *cloudnsMonitor) selector() string {
	if m.sel.CheckID != 0 {
		return "check_id " + strconv.FormatInt(m.sel.CheckID, 10)
	}
	return "check_name " + strconv.Quote(m.sel.CheckName)
}

// find returns the selected check, or the reason and error why there is
// none. Names are not unique in ClouDNS: a name shared by several checks
// selects none of them rather than a guess.
func (m *cloudnsMonitor) find(snap *cloudns.Snapshot) (cloudns.Check, string, error) {
	if m.sel.CheckID != 0 {
		ch, ok := snap.ByID(m.sel.CheckID)
		if !ok {
			return ch, reasonCloudNSNotFound, fmt.Errorf("cloudns: no check with id %d in the account", m.sel.CheckID)
		}
		return ch, "", nil
	}
	found := snap.ByName(m.sel.CheckName)
	switch len(found) {
	case 0:
		return cloudns.Check{}, reasonCloudNSNotFound, fmt.Errorf("cloudns: no check named %q in the account", m.sel.CheckName)
	case 1:
		return found[0], "", nil
	default:
		return cloudns.Check{}, reasonCloudNSAmbiguous, fmt.Errorf("cloudns: %d checks are named %q (ids %s); select one with check_id", len(found), m.sel.CheckName, checkIDs(found))
	}
}

// noteProblem logs a missing or ambiguous check once when it appears or
// changes: it is a configuration problem that would otherwise only show as
// a monitor that stays unknown.
func (m *cloudnsMonitor) noteProblem(reason string, err error) {
	m.mu.Lock()
	changed := m.problem != reason
	m.problem = reason
	m.mu.Unlock()
	if changed && err != nil {
		m.logger.Warn("cloudns check not usable, monitor stays unknown", "reason", reason, "err", err)
	}
}

// cloudnsUnavailableReason turns a Latest error into a result reason.
func cloudnsUnavailableReason(v CloudNSView, err error) string {
	switch {
	case errors.Is(err, ErrCloudNSInactive):
		return reasonCloudNSInactive
	case errors.Is(err, ErrCloudNSClosed):
		return reasonCloudNSClosed
	case v.Snapshot != nil:
		return reasonCloudNSStale
	default:
		return reasonCloudNSFailed
	}
}

// addCloudNSView records the snapshot's age and size and the last poll's
// failure, if any.
func addCloudNSView(d *details, v CloudNSView) {
	if v.Snapshot != nil {
		d.add("snapshot age", v.Age)
		d.add("snapshot checks", len(v.Snapshot.Checks))
		d.add("snapshot calls", v.Snapshot.Calls)
	} else {
		d.add("snapshot", "none")
	}
	if v.PollErr != nil {
		d.add("poll error kind", cloudns.KindOf(v.PollErr).String())
		d.add("poll error", v.PollErr.Error())
	}
}

func cloudnsResult(st Status, reason string, d details, err error) Result {
	if err != nil {
		d.add("error", err.Error())
	}
	return Result{Status: st, Reason: reason, Err: err, Details: d}
}
