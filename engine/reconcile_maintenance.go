package engine

import (
	"context"
	"time"
)

// maintenance is what a term knows of the page's maintenance windows.
type maintenance struct {
	// windows are the components under a running window, each with the
	// window's planned end, as last read; readAt is when (zero: read again
	// before the next decision).
	windows map[int]time.Time
	readAt  time.Time
	// unknown is set while the windows cannot be read: components not
	// known to be under maintenance are written all the same.
	unknown bool
	// holding is set by a pass that left something alone for maintenance,
	// so that the next pass comes soon enough to notice the window's end.
	holding bool
	// seenIn is when each component was last seen under maintenance;
	// seenOut when it was first seen out of it again (or its window's
	// planned end, if that came first).
	seenIn, seenOut map[int]time.Time
}

// known reports whether the windows last read cover component id.
func (m *maintenance) known(id int) bool {
	_, ok := m.windows[id]
	return ok
}

// underMaintenance reports whether component id is under maintenance, on
// the component itself or through a running window. The windows are read
// again when older than MaintenanceMaxAge, so that a window that starts
// between resyncs is respected before the next write.
func (t *term) underMaintenance(ctx context.Context, id int) bool {
	now := t.r.now()
	m := &t.maint
	if m.readAt.IsZero() || now.Sub(m.readAt) >= t.cfg.MaintenanceMaxAge {
		windows, err := t.page.Maintenance(ctx)
		m.readAt = now
		if err != nil {
			t.r.metrics.reconcileErrors.Inc() // visible, though it blocks nothing
		}
		switch {
		case err != nil && !m.unknown:
			m.unknown = true
			t.r.metrics.maintenanceUnknown.Set(1)
			t.r.logger.Warn("cannot read maintenance windows: maintenance unknown, writing only components not known to be under maintenance", "err", err)
		case err == nil && m.unknown:
			m.unknown = false
			t.r.metrics.maintenanceUnknown.Set(0)
			t.r.logger.Info("maintenance windows readable again")
		}
		if err == nil {
			m.windows = windows
		} // else keep the windows last read: what is known stays alone
	}
	end, inWindow := m.windows[id]
	if t.observed[id].Maintenance || inWindow {
		m.seenIn[id] = now
		delete(m.seenOut, id)
		if inWindow && !end.IsZero() {
			m.seenOut[id] = end // planned end, replaced if seen in again later
		}
		return true
	}
	if seenIn, ok := m.seenIn[id]; ok {
		if out, ok := m.seenOut[id]; !ok || out.After(now) || !out.After(seenIn) {
			m.seenOut[id] = now
		}
	}
	return false
}

// outageStart is when an outage episode starts as far as the page is
// concerned: an outage that outlasts a maintenance window starts when the
// window ends.
func (m *maintenance) outageStart(id int, ep Episode) time.Time {
	if in, ok := m.seenIn[id]; ok && !in.Before(ep.Start) {
		if out, ok := m.seenOut[id]; ok && out.After(ep.Start) {
			return out
		}
	}
	return ep.Start
}

// planned reports whether an ended outage episode lay inside a
// maintenance window: planned downtime, never an incident.
func (m *maintenance) planned(id int, ep Episode) bool {
	in, ok := m.seenIn[id]
	if !ok || in.Before(ep.Start) {
		return false
	}
	out, ok := m.seenOut[id]
	return !ok || !ep.End.After(out)
}
