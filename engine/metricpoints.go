package engine

import (
	"context"
	"errors"
	"fmt"
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
	PostMetricPoint(ctx context.Context, id int, value float64, at time.Time) error
}

// series is one monitor's latency on its way to a Cachet metric, kept in
// minute buckets so that it can be averaged over whatever threshold the
// metric has in Cachet.
type series struct {
	spec    config.MetricSpec
	buckets map[int64]bucket // by Unix minute
	dropped bool
}

type bucket struct {
	sum float64
	n   int
}

// Sample records one successful check's latency for the monitor's metric.
// It never blocks.
func (r *Reconciler) Sample(monitor string, spec config.MetricSpec, value float64, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.series[monitor]
	if !ok {
		s = &series{buckets: map[int64]bucket{}}
		r.series[monitor] = s
	}
	s.spec = spec
	minute := at.Unix() / 60
	b := s.buckets[minute]
	b.sum += value
	b.n++
	s.buckets[minute] = b
	if len(s.buckets) > maxBuckets {
		delete(s.buckets, slices.Min(slices.Collect(maps.Keys(s.buckets))))
		if !s.dropped {
			s.dropped = true
			r.logger.Warn("metric points could not be posted for a day, dropping the oldest minutes", "monitor", monitor)
		}
	}
}

// metricSpecs forgets the series of monitors that no longer push a metric.
func (r *Reconciler) metricSpecs(monitors []config.MonitorSpec) {
	keep := map[string]bool{}
	for _, m := range monitors {
		if m.Metric != nil {
			keep[m.Name] = true
		}
	}
	for name := range r.series {
		if !keep[name] {
			delete(r.series, name)
		}
	}
}

// resetSeries drops what was sampled before this Run: another leader may
// have posted those windows already, and posting them twice would make
// Cachet count them twice.
func (r *Reconciler) resetSeries(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cut := now.Unix() / 60
	for _, s := range r.series {
		for m := range s.buckets {
			if m < cut {
				delete(s.buckets, m)
			}
		}
	}
}

// window returns the start minute of the threshold window holding minute.
func window(minute int64, threshold int) int64 {
	t := int64(max(threshold, 1))
	return minute - minute%t
}

// nextMetricFlush is when the earliest open window closes; zero if none.
func (r *Reconciler) nextMetricFlush(t *tracking) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	var next time.Time
	for name, s := range r.series {
		thr := t.thresholds[name]
		if thr == 0 {
			thr = 1 // unknown yet: check every minute
		}
		for m := range s.buckets {
			end := time.Unix((window(m, thr)+int64(thr))*60, 0)
			if next.IsZero() || end.Before(next) {
				next = end
			}
		}
	}
	return next
}

// flushMetrics posts every completed window of every series, oldest first.
func (r *Reconciler) flushMetrics(ctx context.Context, t *tracking) error {
	mp, ok := r.page().(MetricPage)
	if !ok {
		return nil
	}
	r.mu.Lock()
	names := slices.Sorted(maps.Keys(r.series))
	r.mu.Unlock()
	if len(names) == 0 {
		return nil
	}
	nowMinute := r.opts.Now().Unix() / 60
	var errs []error
	for _, name := range names {
		r.mu.Lock()
		s, ok := r.series[name]
		if !ok || len(s.buckets) == 0 {
			r.mu.Unlock()
			continue
		}
		spec := s.spec
		r.mu.Unlock()

		id, thr, err := r.resolveMetric(ctx, t, mp, name, spec)
		if err != nil {
			errs = append(errs, fmt.Errorf("monitor %q metric: %w", name, err))
			continue
		}
		for _, w := range r.completeWindows(name, thr, nowMinute) {
			at := time.Unix(w.start*60, 0)
			if err := mp.PostMetricPoint(ctx, id, w.sum/float64(w.n), at); err != nil {
				errs = append(errs, fmt.Errorf("monitor %q metric %d: post point: %w", name, id, err))
				break // keep this and later windows for the next pass, in order
			}
			r.opts.Metrics.writes.WithLabelValues("metric_point").Inc()
			r.dropWindow(name, w.start, thr)
		}
	}
	return errors.Join(errs...)
}

type closedWindow struct {
	start int64
	sum   float64
	n     int
}

func (r *Reconciler) completeWindows(name string, thr int, nowMinute int64) []closedWindow {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.series[name]
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

func (r *Reconciler) dropWindow(name string, start int64, thr int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.series[name]; ok {
		for m := range s.buckets {
			if window(m, thr) == start {
				delete(s.buckets, m)
			}
		}
	}
}

// resolveMetric finds the Cachet metric a monitor pushes to, creating a
// named one that does not exist, and learns its threshold.
func (r *Reconciler) resolveMetric(ctx context.Context, t *tracking, mp MetricPage, monitor string, spec config.MetricSpec) (int, int, error) {
	if id, ok := t.metricIDs[monitor]; ok {
		return id, t.thresholds[monitor], nil
	}
	if t.metrics == nil {
		list, err := mp.ListMetrics(ctx)
		if err != nil {
			return 0, 0, fmt.Errorf("list metrics: %w", err)
		}
		t.metrics = list
	}
	var found *PageMetric
	for i, m := range t.metrics {
		if (spec.ID != 0 && m.ID == spec.ID) || (spec.ID == 0 && m.Name == spec.Name) {
			found = &t.metrics[i]
			break
		}
	}
	if found == nil && spec.ID != 0 {
		return 0, 0, fmt.Errorf("no Cachet metric with id %d", spec.ID)
	}
	if found == nil {
		m, err := mp.CreateMetric(ctx, spec.Name, spec.Suffix, spec.Threshold)
		if err != nil {
			return 0, 0, fmt.Errorf("create metric %q: %w", spec.Name, err)
		}
		r.opts.Metrics.writes.WithLabelValues("metric_create").Inc()
		r.logger.Info("metric created", "metric", spec.Name, "metric_id", m.ID)
		t.metrics = append(t.metrics, m)
		found = &m
	}
	thr := found.Threshold
	if thr <= 0 {
		thr = spec.Threshold
	}
	t.metricIDs[monitor] = found.ID
	t.thresholds[monitor] = thr
	return found.ID, thr, nil
}
