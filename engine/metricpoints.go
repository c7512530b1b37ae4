package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/statussync/statussync/config"
)

// maxBuckets caps the minutes of latency kept per metric while points
// cannot be posted (Cachet down, or not the leader): one day.
const maxBuckets = 24 * 60

// PageMetric is a metric as the status page has it.
type PageMetric struct {
	ID   int
	Name string
	// Threshold is the metric's aggregation window in minutes: points
	// posted within it are merged by Cachet (the later value is ignored).
	Threshold int
}

// MetricPage is the part of the status page that holds metrics.
type MetricPage interface {
	ListMetrics(ctx context.Context) ([]PageMetric, error)
	CreateMetric(ctx context.Context, name, suffix string, threshold int) (PageMetric, error)
	// PostMetricPoint posts one point; an error wrapping ErrNotFound means
	// the metric was deleted.
	PostMetricPoint(ctx context.Context, id int, value float64, at time.Time) error
}

// series is one monitor's latency on its way to a Cachet metric, kept in
// minute buckets so that it can be averaged over whatever threshold the
// metric has in Cachet.
type series struct {
	spec    config.MetricSpec // as the monitor's latest sample had it
	buckets map[int64]bucket  // by Unix minute
	dropped bool
}

type bucket struct {
	sum float64
	n   int
}

// add merges b into the minute's bucket, dropping the oldest minute past
// maxBuckets.
func (s *series) add(minute int64, b bucket, logger *slog.Logger, monitor string) {
	cur := s.buckets[minute]
	cur.sum += b.sum
	cur.n += b.n
	s.buckets[minute] = cur
	if len(s.buckets) > maxBuckets {
		delete(s.buckets, slices.Min(slices.Collect(maps.Keys(s.buckets))))
		if !s.dropped {
			s.dropped = true
			logger.Warn("metric points could not be posted for a day, dropping the oldest minutes", "monitor", monitor)
		}
	}
}

// Sample records one successful check's latency for the monitor's metric.
// It never blocks. The first sample of a minute wakes the writer, which
// takes it and sets its timer for the end of the sample's window: nothing
// else may wake it before the resync interval (with a steady page and
// checks once a minute, the points of a 1-minute metric went out in
// batches every resync, ~1 in 3 an hour late).
func (r *Reconciler) Sample(monitor string, spec config.MetricSpec, value float64, at time.Time) {
	minute := at.Unix() / 60
	// Lock: adds to the samples the writer takes at its next pass.
	r.mu.Lock()
	s, ok := r.samples[monitor]
	if !ok {
		s = &series{buckets: map[int64]bucket{}}
		r.samples[monitor] = s
	}
	s.spec = spec
	_, seen := s.buckets[minute]
	s.add(minute, bucket{sum: value, n: 1}, r.logger, monitor)
	r.mu.Unlock()
	if !seen {
		r.poke()
	}
}

// metricState is what a term knows of metrics: the series taken from the
// store, and each monitor's metric as resolved on the page.
type metricState struct {
	series   map[string]*series
	list     []PageMetric // the page's metrics, nil until needed
	resolved map[string]resolvedMetric
}

type resolvedMetric struct {
	spec          config.MetricSpec
	id, threshold int
}

func newMetricState() metricState {
	return metricState{series: map[string]*series{}, resolved: map[string]resolvedMetric{}}
}

// take merges the samples recorded since the last pass and forgets the
// series of monitors that no longer push a metric.
func (m *metricState) take(samples map[string]*series, specs map[string]config.MetricSpec, r *Reconciler) {
	for name, s := range samples {
		cur, ok := m.series[name]
		if !ok {
			cur = &series{buckets: map[int64]bucket{}}
			m.series[name] = cur
		}
		cur.spec = s.spec
		for minute, b := range s.buckets {
			cur.add(minute, b, r.logger, name)
		}
	}
	for name := range m.series {
		if _, ok := specs[name]; !ok {
			delete(m.series, name)
		}
	}
}

// forget drops what was learned of the page's metrics, so that each is
// resolved again: a reload or a person may have changed the id, the name
// or the threshold, or deleted it.
func (m *metricState) forget() {
	m.list = nil
	clear(m.resolved)
}

// window returns the start minute of the threshold window holding minute.
func window(minute int64, threshold int) int64 {
	t := int64(max(threshold, 1))
	return minute - minute%t
}

// nextFlush is when the earliest open window closes; zero if none.
func (m *metricState) nextFlush() time.Time {
	var next time.Time
	for name, s := range m.series {
		thr := max(m.resolved[name].threshold, 1) // unknown yet: check every minute
		for minute := range s.buckets {
			next = earliest(next, time.Unix((window(minute, thr)+int64(thr))*60, 0))
		}
	}
	return next
}

// flushMetrics posts every completed window of every series, oldest first;
// a failing metric backs off alone. It reports whether all went well.
func (t *term) flushMetrics(ctx context.Context) bool {
	mp, ok := t.page.(MetricPage)
	if !ok {
		return true
	}
	nowMinute := t.r.now().Unix() / 60
	ok = true
	for _, name := range slices.Sorted(maps.Keys(t.metrics.series)) {
		s, key := t.metrics.series[name], "metric "+name
		if len(s.buckets) == 0 || !t.due(key) {
			continue
		}
		err := t.flushMetric(ctx, mp, name, s, nowMinute)
		t.done(key, err)
		ok = ok && err == nil
	}
	return ok
}

func (t *term) flushMetric(ctx context.Context, mp MetricPage, name string, s *series, nowMinute int64) error {
	m, err := t.resolveMetric(ctx, mp, name, s.spec)
	if err != nil {
		return fmt.Errorf("monitor %q metric: %w", name, err)
	}
	for _, w := range completeWindows(s, m.threshold, nowMinute) {
		if err := mp.PostMetricPoint(ctx, m.id, w.sum/float64(w.n), time.Unix(w.start*60, 0)); err != nil {
			if errors.Is(err, ErrNotFound) {
				t.metrics.forget() // deleted: resolved (and so recreated) again next time
			}
			// Keep this and later windows for the next attempt, in order.
			return fmt.Errorf("monitor %q metric %d: post point: %w", name, m.id, err)
		}
		t.r.metrics.writes.WithLabelValues("metric_point").Inc()
		maps.DeleteFunc(s.buckets, func(minute int64, _ bucket) bool { return window(minute, m.threshold) == w.start })
	}
	return nil
}

type closedWindow struct {
	start int64
	sum   float64
	n     int
}

func completeWindows(s *series, thr int, nowMinute int64) []closedWindow {
	byStart := map[int64]*closedWindow{}
	for m, b := range s.buckets {
		start := window(m, thr)
		if start+int64(thr) > nowMinute {
			continue // still open
		}
		w, ok := byStart[start]
		if !ok {
			w = &closedWindow{start: start}
			byStart[start] = w
		}
		w.sum += b.sum
		w.n += b.n
	}
	out := make([]closedWindow, 0, len(byStart))
	for _, start := range slices.Sorted(maps.Keys(byStart)) {
		out = append(out, *byStart[start])
	}
	return out
}

// resolveMetric finds the Cachet metric a monitor pushes to, creating a
// named one that does not exist, and learns its threshold. It is resolved
// again when the monitor's metric settings change, at every resync, and
// after the metric was found deleted.
func (t *term) resolveMetric(ctx context.Context, mp MetricPage, monitor string, spec config.MetricSpec) (resolvedMetric, error) {
	if m, ok := t.metrics.resolved[monitor]; ok && m.spec == spec {
		return m, nil
	}
	if t.metrics.list == nil {
		list, err := mp.ListMetrics(ctx)
		if err != nil {
			return resolvedMetric{}, fmt.Errorf("list metrics: %w", err)
		}
		t.metrics.list = list
	}
	var found *PageMetric
	for i, m := range t.metrics.list {
		if (spec.ID != 0 && m.ID == spec.ID) || (spec.ID == 0 && m.Name == spec.Name) {
			found = &t.metrics.list[i]
			break
		}
	}
	if found == nil && spec.ID != 0 {
		return resolvedMetric{}, fmt.Errorf("no Cachet metric with id %d", spec.ID)
	}
	if found == nil {
		m, err := mp.CreateMetric(ctx, spec.Name, spec.Suffix, spec.Threshold)
		if err != nil {
			return resolvedMetric{}, fmt.Errorf("create metric %q: %w", spec.Name, err)
		}
		t.r.metrics.writes.WithLabelValues("metric_create").Inc()
		t.r.logger.Info("metric created", "metric", spec.Name, "metric_id", m.ID)
		t.metrics.list = append(t.metrics.list, m)
		found = &m
	}
	thr := found.Threshold
	if thr <= 0 {
		thr = spec.Threshold
	}
	m := resolvedMetric{spec: spec, id: found.ID, threshold: thr}
	t.metrics.resolved[monitor] = m
	return m, nil
}
