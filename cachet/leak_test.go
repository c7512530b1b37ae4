package cachet

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/statussync/statussync/cachet/cachettest"
	"github.com/statussync/statussync/internal/testkit"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer = testkit.SyncBuffer

// TestTokenNeverLeaks drives the client through every failure path,
// including a hostile server that echoes the Authorization header back in
// its error bodies, and checks that the token appears in no error string,
// no log record (at debug level) and no metric.
func TestTokenNeverLeaks(t *testing.T) {
	const secret = "leakCanarySecret0123456789"
	const token = "42|" + secret

	// A hostile server: echoes the Authorization header everywhere it can.
	var echoed atomic.Int32
	hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		if strings.Contains(auth, token) {
			echoed.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/components/1"):
			w.WriteHeader(http.StatusUnprocessableEntity)
			_ = json.NewEncoder(w).Encode(map[string]any{
				"message": "bad header " + auth,
				"errors":  map[string][]string{"token " + secret: {"value " + auth}},
			})
		case strings.HasSuffix(r.URL.Path, "/components"):
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"data":[{"id":"x` + secret + `","attributes":{`))
		default:
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"message":"failed for ` + auth + `"}`))
		}
	}))
	t.Cleanup(hostile.Close)

	fake := cachettest.New(t, cachettest.WithToken(token, "components.manage"))
	fake.AddComponent("API", 1)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/api"
	ln.Close()

	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := prometheus.NewRegistry()
	client := func(base string, mods ...func(*Options)) *Client {
		return newClient(t, base, append([]func(*Options){func(o *Options) {
			o.Token, o.Logger, o.Registerer, o.MaxRetries = token, logger, reg, 1
		}}, mods...)...)
	}

	var errs []error
	record := func(err error) {
		t.Helper()
		if err == nil {
			t.Fatal("expected an error")
		}
		errs = append(errs, err)
	}
	ctx := ctxT(t)

	steps := []struct {
		name string
		run  func()
	}{
		{"hostile 422 echo", func() { _, err := client(hostile.URL).UpdateComponentStatus(ctx, 1, 4); record(err) }},
		{"hostile 500 echo with retries", func() { _, err := client(hostile.URL).GetIncident(ctx, 5); record(err) }},
		{"hostile broken body", func() { _, err := client(hostile.URL).ListComponents(ctx, ComponentFilter{}); record(err) }},
		{"403 from the fake", func() {
			_, err := client(fake.URL()).CreateIncident(ctx, IncidentCreate{Name: "x", Message: "y", Status: 1})
			record(err)
		}},
		{"401 from the fake", func() {
			fake.RevokeToken(token)
			_, err := client(fake.URL()).UpdateComponentStatus(ctx, 1, 4)
			fake.AddToken(token, "components.manage")
			record(err)
		}},
		{"404 from the fake", func() { _, err := client(fake.URL()).GetComponent(ctx, 77); record(err) }},
		{"503 from the fake", func() {
			fake.FailNext(5, 503)
			_, err := client(fake.URL()).ListComponents(ctx, ComponentFilter{})
			record(err)
		}},
		{"dropped connection", func() {
			fake.DropNext(5)
			_, err := client(fake.URL()).UpdateComponentStatus(ctx, 1, 2)
			record(err)
		}},
		{"timeout", func() {
			fake.SetLatency(300 * time.Millisecond)
			defer fake.SetLatency(0)
			_, err := client(fake.URL(), func(o *Options) { o.Timeout = 50 * time.Millisecond }).GetComponent(ctx, 1)
			record(err)
		}},
		{"connection refused", func() {
			_, err := client(refused).CreateIncident(ctx, IncidentCreate{Name: "x", Message: "y", Status: 1})
			record(err)
		}},
		{"context canceled", func() {
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := client(fake.URL()).ListIncidents(cctx, IncidentFilter{})
			record(err)
		}},
	}
	for _, st := range steps {
		st.run()
	}

	// The token was really sent, so the test can catch a leak.
	if echoed.Load() == 0 {
		t.Fatal("the hostile server never saw the token")
	}
	sawToken := false
	for _, r := range fake.Requests() {
		if r.Header.Get("Authorization") == "Bearer "+token {
			sawToken = true
		}
	}
	if !sawToken {
		t.Fatal("the fake never saw the token")
	}

	var text strings.Builder
	for _, err := range errs {
		fmt.Fprintf(&text, "%v\n%+v\n%#v\n", err, err, err)
	}
	if !strings.Contains(text.String(), "<redacted>") {
		t.Error("the echoed token was not redacted, so the echo path was not exercised")
	}
	text.WriteString(logs.String())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		text.WriteString(mf.String())
	}
	if strings.Contains(text.String(), secret) {
		t.Errorf("token leaked:\n%s", text.String())
	}
	if !strings.Contains(logs.String(), "retrying cachet request") {
		t.Error("no retry was logged; the log path was not exercised")
	}
}
