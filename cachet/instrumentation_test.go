package cachet

import (
	"net"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetrics(t *testing.T) {
	srv := newFake(t)
	srv.AddComponent("API", 1)
	reg := prometheus.NewRegistry()
	withReg := func(o *Options) { o.Registerer = reg }
	c := newClient(t, srv.URL(), withReg)
	ctx := ctxT(t)

	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	srv.FailNext(1, 503)
	if _, err := c.ListComponents(ctx, ComponentFilter{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetComponent(ctx, 99); err == nil {
		t.Fatal("want 404")
	}

	// A client rebuilt on reload with the same registry shares the
	// collectors instead of failing to register.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c2 := newClient(t, "http://"+addr+"/api", withReg, func(o *Options) { o.MaxRetries = 1 })
	if c2.metrics.requests != c.metrics.requests || c2.metrics.duration != c.metrics.duration {
		t.Fatal("second client did not reuse the registered collectors")
	}
	if err := c2.Ping(ctx); err == nil {
		t.Fatal("want a connection error")
	}

	want := `
# HELP statussync_cachet_requests_total HTTP requests sent to the Cachet API, by client operation and HTTP status code ("error" when no response arrived). Retries count separately.
# TYPE statussync_cachet_requests_total counter
statussync_cachet_requests_total{code="200",operation="list_components"} 1
statussync_cachet_requests_total{code="200",operation="ping"} 1
statussync_cachet_requests_total{code="404",operation="get_component"} 1
statussync_cachet_requests_total{code="503",operation="list_components"} 1
statussync_cachet_requests_total{code="error",operation="ping"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "statussync_cachet_requests_total"); err != nil {
		t.Error(err)
	}
	if got := testutil.ToFloat64(c.metrics.requests.WithLabelValues("list_components", "503")); got != 1 {
		t.Errorf("503 count = %v", got)
	}
	// One histogram series per operation, each observing every attempt.
	if n := testutil.CollectAndCount(c.metrics.duration, "statussync_cachet_request_duration_seconds"); n != 3 {
		t.Errorf("duration series = %d, want 3", n)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "statussync_cachet_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == "ping" && m.GetHistogram().GetSampleCount() != 3 {
				t.Errorf("ping duration samples = %d, want 3", m.GetHistogram().GetSampleCount())
			}
		}
	}
}

func TestMetricsRegistration(t *testing.T) {
	t.Run("nil registerer disables metrics", func(t *testing.T) {
		srv := newFake(t)
		c := newClient(t, srv.URL())
		if c.metrics != nil {
			t.Fatal("metrics without a registerer")
		}
		if err := c.Ping(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("conflicting collector is an error", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		reg.MustRegister(prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "statussync_cachet_requests_total", Help: "other",
		}, []string{"other"}))
		opts := DefaultOptions()
		opts.BaseURL, opts.Registerer = "http://127.0.0.1/api", reg
		_, err := New(opts)
		if err == nil || !strings.Contains(err.Error(), "cachet: register metrics") {
			t.Fatalf("err = %v", err)
		}
	})
}
