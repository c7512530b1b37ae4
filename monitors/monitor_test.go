package monitors

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/statussync/statussync/config"
)

// TestMonitorHandlerLogsAsWith: a monitor's records, with attributes and
// groups added later, read exactly as through Logger.With, and a disabled
// level stays disabled.
func TestMonitorHandlerLogsAsWith(t *testing.T) {
	log := func(l *slog.Logger) {
		l.Debug("hidden")
		l.Info("check", "status", "down")
		l.With("a", 1).WithGroup("g").Warn("slow", "took", 2)
	}
	var want, got bytes.Buffer
	opts := &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	log(slog.New(slog.NewJSONHandler(&want, opts)).With("monitor", "web", "kind", "http"))
	h := &monitorHandler{base: slog.NewJSONHandler(&got, opts), name: "web", kind: "http"}
	log(slog.New(h))
	if got.String() != want.String() || want.Len() == 0 {
		t.Errorf("got\n%s\nwant\n%s", got.String(), want.String())
	}
	if h.Enabled(context.Background(), slog.LevelDebug) {
		t.Error("debug enabled below the base handler's level")
	}
}

// checksUp returns statussync_monitor_checks_total{result="up"} of monitor
// name, and whether the series exists.
func checksUp(tb testing.TB, reg *prometheus.Registry, name string) (float64, bool) {
	tb.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "statussync_monitor_checks_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label(m, "monitor") == name && label(m, "result") == "up" {
				return m.GetCounter().GetValue(), true
			}
		}
	}
	return 0, false
}

// checkDurations returns the sample count of
// statussync_monitor_check_duration_seconds{kind}.
func checkDurations(tb testing.TB, reg *prometheus.Registry, kind string) uint64 {
	tb.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "statussync_monitor_check_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label(m, "kind") == kind {
				return m.GetHistogram().GetSampleCount()
			}
		}
	}
	return 0
}

func label(m *dto.Metric, name string) string {
	for _, p := range m.GetLabel() {
		if p.GetName() == name {
			return p.GetValue()
		}
	}
	return ""
}

// TestChecksRecordWhereTheLastInitSays: a monitor is built before Init (as
// the engine does on every reload), and its checks record into whatever
// record the latest Init gave its name: none before the first, a fresh one
// after its configuration changed, none once it is removed. Its kind's
// check-duration histogram counts every check, through the child Init made
// and, for a kind no longer configured, a new one.
func TestChecksRecordWhereTheLastInitSays(t *testing.T) {
	srv := testServer(t)
	spec := loadSpec(t, "http: {url: "+srv.URL+"/ok}")
	reg := prometheus.NewRegistry()
	metrics := NewMetrics(reg)
	mon, err := New(spec, Deps{Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	check := func() {
		t.Helper()
		if r := mon.Check(WithoutDetails(t.Context())); r.Status != StatusUp {
			t.Fatalf("check: %s %v", r.Reason, r.Err)
		}
	}
	check()
	if _, ok := checksUp(t, reg, spec.Name); ok {
		t.Fatal("a check before Init recorded a series")
	}
	if got := checkDurations(t, reg, "http"); got != 1 {
		t.Errorf("before Init: %d check durations, want 1", got)
	}

	metrics.Init([]config.MonitorSpec{spec})
	check()
	check()
	if got, _ := checksUp(t, reg, spec.Name); got != 2 {
		t.Errorf("after Init: %v up checks, want 2", got)
	}

	changed := spec
	changed.Fingerprint += "-changed"
	metrics.Init([]config.MonitorSpec{changed})
	check()
	if got, _ := checksUp(t, reg, spec.Name); got != 1 {
		t.Errorf("after a changed configuration: %v up checks, want 1 (a fresh record)", got)
	}
	if got := checkDurations(t, reg, "http"); got != 4 {
		t.Errorf("after two Inits: %d check durations, want 4", got)
	}

	metrics.Init(nil)
	check()
	if _, ok := checksUp(t, reg, spec.Name); ok {
		t.Error("a removed monitor's check recorded a series")
	}
	if got := checkDurations(t, reg, "http"); got != 1 {
		t.Errorf("after its kind was removed: %d check durations, want 1 (a new child)", got)
	}
}
