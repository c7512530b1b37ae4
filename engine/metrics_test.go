package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"

	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/monitors"
)

// BenchmarkScrape10k serves /metrics for 10,000 http monitors, each with
// its probe series, run counters and one transition: with the engine's
// per-monitor families gathered by a Registry (NewMetrics), and written
// directly as internal/app wires them (NewScrapeMetrics).
func BenchmarkScrape10k(b *testing.B) {
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	b.Cleanup(target.Close)
	cfg := &config.Config{}
	for i := range 10000 {
		cfg.Monitors = append(cfg.Monitors, config.MonitorSpec{
			Name: fmt.Sprintf("m%05d", i), Interval: time.Minute, Timeout: 10 * time.Second,
			HTTP: &config.HTTPProbe{URL: target.URL + "/"},
		})
	}
	validated(b, cfg)
	// The probe metrics register nothing, so that both handlers serve the
	// same families.
	pm := monitors.NewScrapeMetrics(nil)
	pm.Init(cfg.Monitors)
	var jobs []*entry
	var mons []*monitorEntry
	for i := range cfg.Monitors {
		spec := &cfg.Monitors[i]
		mon, err := monitors.New(*spec, monitors.Deps{Metrics: pm})
		if err != nil {
			b.Fatal(err)
		}
		if r := mon.Check(monitors.WithoutDetails(context.Background())); r.Status != monitors.StatusUp {
			b.Fatalf("%s: %v", spec.Name, r.Status)
		}
		jobs = append(jobs, &entry{job: Job{Name: spec.Name}})
		me := &monitorEntry{spec: spec}
		me.transitions[monitors.StatusUp].Store(1)
		mons = append(mons, me)
	}
	regOld, regNew := prometheus.NewRegistry(), prometheus.NewRegistry()
	viaRegistry, direct := NewMetrics(regOld), NewScrapeMetrics(regNew)
	for _, m := range []*Metrics{viaRegistry, direct} {
		m.runs.show(jobs)
		m.transitions.show(mons)
	}
	b.Run("registry", func(b *testing.B) {
		for b.Loop() {
			if _, err := regOld.Gather(); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, c := range []struct {
		name string
		h    http.Handler
	}{
		{"handler-registry", pm.Handler(regOld, nil)},
		{"handler-direct", pm.Handler(regNew, nil, direct)},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				c.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Code)
				}
			}
		})
	}
}

// TestScrapeFamiliesMatchRegistry: /metrics served by monitors' Handler
// with NewScrapeMetrics as a source is byte for byte what a Registry with
// NewMetrics' collectors serves through expfmt, in both text formats, and
// the same families in protobuf and through monitors.SourceGatherer:
// before and after a reload that removes, keeps and adds monitors, with
// names that need escaping.
func TestScrapeFamiliesMatchRegistry(t *testing.T) {
	regOld, regNew := prometheus.NewRegistry(), prometheus.NewRegistry()
	viaRegistry, direct := NewMetrics(regOld), NewScrapeMetrics(regNew)
	h := monitors.NewScrapeMetrics(nil).Handler(regNew, nil, direct)

	show := func(names []string, counts func(i int, j *entry, m *monitorEntry)) {
		t.Helper()
		var jobs []*entry
		var mons []*monitorEntry
		for i, n := range names {
			j, m := &entry{job: Job{Name: n}}, &monitorEntry{spec: &config.MonitorSpec{Name: n}}
			counts(i, j, m)
			jobs, mons = append(jobs, j), append(mons, m)
		}
		for _, m := range []*Metrics{viaRegistry, direct} {
			m.runs.show(jobs)
			m.transitions.show(mons)
		}
	}
	compare := func(stage string, wantSeries int) {
		t.Helper()
		want, err := regOld.Gather()
		if err != nil {
			t.Fatal(err)
		}
		series := 0
		for _, mf := range want {
			if strings.HasPrefix(mf.GetName(), "statussync_monitor_") {
				series += len(mf.GetMetric())
			}
		}
		if series != wantSeries {
			t.Fatalf("%s: the registry has %d per-monitor series, want %d", stage, series, wantSeries)
		}
		for _, format := range []expfmt.Format{expfmt.NewFormat(expfmt.TypeTextPlain), expfmt.NewFormat(expfmt.TypeOpenMetrics)} {
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			req.Header.Set("Accept", string(format))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			served := expfmt.Format(rec.Header().Get("Content-Type"))
			if served.FormatType() != format.FormatType() {
				t.Fatalf("%s: served %q for %q", stage, served, format)
			}
			var viaExpfmt bytes.Buffer
			enc := expfmt.NewEncoder(&viaExpfmt, served)
			for _, mf := range want {
				if err := enc.Encode(mf); err != nil {
					t.Fatal(err)
				}
			}
			if c, ok := enc.(expfmt.Closer); ok {
				_ = c.Close()
			}
			if d, e := rec.Body.String(), viaExpfmt.String(); d != e {
				dl, el := strings.Split(d, "\n"), strings.Split(e, "\n")
				for i := range min(len(dl), len(el)) {
					if dl[i] != el[i] {
						t.Fatalf("%s, %s: line %d differs:\n handler: %q\n expfmt:  %q", stage, format, i+1, dl[i], el[i])
					}
				}
				t.Fatalf("%s, %s: %d lines served, %d by expfmt", stage, format, len(dl), len(el))
			}
		}
		// Protobuf carries the other counters' creation times, which
		// differ between the two registries: compare the per-monitor
		// families there, and every family's name.
		perMonitor := func(mfs []*dto.MetricFamily) (names []string, own []*dto.MetricFamily) {
			for _, mf := range mfs {
				names = append(names, mf.GetName())
				if strings.HasPrefix(mf.GetName(), "statussync_monitor_") {
					own = append(own, mf)
				}
			}
			return names, own
		}
		wantNames, wantOwn := perMonitor(want)
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeProtoDelim)))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var served []*dto.MetricFamily
		dec := expfmt.NewDecoder(rec.Body, expfmt.Format(rec.Header().Get("Content-Type")))
		for {
			mf := &dto.MetricFamily{}
			if err := dec.Decode(mf); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: protobuf: %v", stage, err)
			}
			served = append(served, mf)
		}
		gathered, err := monitors.SourceGatherer(regNew, direct).Gather()
		if err != nil {
			t.Fatal(err)
		}
		for via, mfs := range map[string][]*dto.MetricFamily{"protobuf": served, "SourceGatherer": gathered} {
			names, own := perMonitor(mfs)
			if !slices.Equal(names, wantNames) {
				t.Fatalf("%s: %s has families %v, the registry %v", stage, via, names, wantNames)
			}
			for i := range wantOwn {
				if !proto.Equal(own[i], wantOwn[i]) {
					t.Fatalf("%s: %s's %s differs:\n got:  %v\n want: %v", stage, via, wantOwn[i].GetName(), own[i], wantOwn[i])
				}
			}
		}
	}

	compare("before any schedule", 0)
	escaped := `quo"te\back` + "\nline ☃"
	show([]string{"zeta", escaped, "alpha", "Beta", "alpha-2"}, func(i int, j *entry, m *monitorEntry) {
		j.panics.Store(uint64(i))
		j.skips.Store(uint64(10 * i))
		if i%2 == 0 {
			m.transitions[monitors.StatusUp].Store(uint64(i + 1))
			m.transitions[monitors.StatusDown].Store(1 << 40)
		}
		if i == 1 {
			for st := range m.transitions {
				m.transitions[st].Store(uint64(st + 1))
			}
		}
	})
	compare("first schedule", 5*2+3*2+4)
	// A reload: new entries, counting from zero; one monitor removed, one
	// added.
	show([]string{escaped, "alpha", "new", "zeta"}, func(i int, j *entry, m *monitorEntry) {
		if i == 2 {
			j.skips.Store(1)
			m.transitions[monitors.StatusDegraded].Store(1)
		}
	})
	compare("after the reload", 4*2+1)
}
