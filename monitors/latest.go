package monitors

// LatestSample is one gauge of a monitor's latest check, named and meant
// as blackbox_exporter's, without labels but the family's own (phase,
// version, cipher): what blackbox's /probe returns for one probe.
type LatestSample struct {
	Name       string
	Help       string
	Label      string // the family's own label name, or ""
	LabelValue string
	Value      float64
}

// Latest returns the gauges of monitor's latest check: probe_success (when
// a check has said up or down), probe_duration_seconds, then the kind's
// probe_* gauges. ok is false when the monitor is not configured or has not
// finished a check yet.
func (m *Metrics) Latest(monitor string) (samples []LatestSample, ok bool) {
	if m == nil {
		return nil, false
	}
	m.mu.RLock()
	rec := m.byName[monitor]
	m.mu.RUnlock()
	if rec == nil {
		return nil, false
	}
	var snap lastResult
	rec.snapshot(&snap)
	if !snap.hasResult {
		return nil, false
	}
	if snap.hasSuccess {
		samples = append(samples, LatestSample{Name: "probe_success", Help: "Displays whether or not the probe was a success", Value: snap.success})
	}
	samples = append(samples, LatestSample{Name: "probe_duration_seconds", Help: "Returns how long the probe took to complete in seconds", Value: snap.duration})
	for _, sp := range snap.points {
		p, f := sp.point(), probeFamilies[sp.family]
		samples = append(samples, LatestSample{Name: f.name, Help: f.help, Label: f.extra, LabelValue: p.extra, Value: p.value})
	}
	return samples, true
}
