package cloudns_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/statussync/statussync/cloudns"
	"github.com/statussync/statussync/cloudns/cloudnstest"
)

// TestPasswordLeaksNowhere drives every call through success and every
// failure mode, then looks for the password in each URL the fake received,
// every log line (at debug level), every error text and the metrics output.
func TestPasswordLeaksNowhere(t *testing.T) {
	t.Parallel()
	k := newKit(t, nil)
	ids := k.fake.Seed(120)
	k.fake.SetCheckStatus(ids[0], cloudnstest.StatusDown)
	ctx := context.Background()

	var errs []error
	collect := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	all := func() {
		collect(k.client.LoginTest(ctx))
		_, err := k.client.ListChecks(ctx, cloudns.ListOptions{Page: 2})
		collect(err)
		_, err = k.client.ListAllChecks(ctx, cloudns.ListOptions{})
		collect(err)
		_, err = k.client.PageCount(ctx, cloudns.ListOptions{})
		collect(err)
		_, err = k.client.GetCheck(ctx, ids[0])
		collect(err)
		_, err = k.client.GetCheck(ctx, 1)
		collect(err)
		_, err = k.client.Snapshot(ctx)
		collect(err)
	}
	all()
	// Under faults every call fails at its first request, so a few calls
	// cover every error path.
	some := func() {
		collect(k.client.LoginTest(ctx))
		_, err := k.client.ListChecks(ctx, cloudns.ListOptions{})
		collect(err)
		_, err = k.client.GetCheck(ctx, ids[0])
		collect(err)
		_, err = k.client.Snapshot(ctx)
		collect(err)
	}
	faults := []func(){
		func() { k.fake.FailNext(1000, cloudnstest.TextAuthFailed) },
		func() { k.fake.FailNext(1000, cloudnstest.TextPermission) },
		func() { k.fake.FailNext(1000, cloudnstest.RateLimitText("127.0.0.1", 20)) },
		// An API that echoes its input: the second line of defence.
		func() { k.fake.FailNext(1000, "Invalid value "+testPassword+" for auth-password.") },
		func() { k.fake.FailNextHTTP(1000, http.StatusInternalServerError) },
		func() { k.fake.DropNext(1000) },
		func() {
			k.fake.Inject(cloudnstest.Fault{Times: 1000, HTTPStatus: http.StatusPermanentRedirect,
				Header: http.Header{"Location": {k.fake.URL() + "/?auth-password=" + testPassword}}})
		},
	}
	for _, inject := range faults {
		inject()
		some()
		k.fake.ClearFaults()
	}
	// Transport errors carry the URL: make one with nothing listening.
	closed := closedURL(t)
	opts := cloudns.DefaultOptions()
	opts.BaseURL, opts.AuthID, opts.Password = closed, testAuthID, testPassword
	opts.RateLimit, opts.MaxRetries, opts.Registerer = cloudns.MaxRateLimit, 0, k.reg
	opts.Logger = slog.New(slog.NewJSONHandler(k.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := cloudns.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	collect(c.LoginTest(ctx))
	_, err = c.Snapshot(ctx)
	collect(err)
	timeoutCtx, cancel := context.WithTimeout(ctx, time.Nanosecond)
	defer cancel()
	collect(k.client.LoginTest(timeoutCtx))

	if len(errs) < 30 {
		t.Fatalf("only %d errors collected: the scenarios did not run", len(errs))
	}
	for _, err := range errs {
		for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			if strings.Contains(text, testPassword) {
				t.Errorf("error shows the password: %s", text)
			}
		}
	}
	var echoed bool
	for _, err := range errs {
		echoed = echoed || strings.Contains(err.Error(), "Invalid value <redacted> for auth-password.")
	}
	if !echoed {
		t.Error("the echoed password was not redacted in place")
	}

	calls := k.fake.Calls()
	if len(calls) < 50 {
		t.Fatalf("only %d calls", len(calls))
	}
	for _, call := range calls {
		if call.CredentialsInURL || len(call.Query) != 0 {
			t.Errorf("parameters in the URL: %+v", call)
		}
		if call.Method != http.MethodPost || call.ContentType != "application/x-www-form-urlencoded" {
			t.Errorf("not a form POST: %+v", call)
		}
		if call.Params.Get("auth-password") != "<redacted>" {
			t.Errorf("the password was not sent in the form: %+v", call)
		}
	}

	logs := k.logs.String()
	if !strings.Contains(logs, `"level":"DEBUG"`) || !strings.Contains(logs, "retrying cloudns request") {
		t.Fatalf("debug logs were not captured: %.300s", logs)
	}
	if strings.Contains(logs, testPassword) {
		t.Error("a log line shows the password")
	}

	out, err := testutil.GatherAndFormat(k.reg, expfmt.TypeTextPlain,
		"statussync_cloudns_requests_total", "statussync_cloudns_request_duration_seconds")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `statussync_cloudns_requests_total{operation="login",result="auth"}`) {
		t.Fatalf("metrics not gathered: %.300s", out)
	}
	if n, err := testutil.GatherAndCount(k.reg); err != nil || n != 4*11+4 {
		t.Errorf("%d series (err %v), want 48: 4 operations x 11 results, plus 4 histograms", n, err)
	}
	if strings.Contains(string(out), testPassword) || strings.Contains(string(out), "auth-password") {
		t.Error("the metrics show the password")
	}
}

func closedURL(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}
