package cloudns_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/statussync/statussync/cloudns"
	"github.com/statussync/statussync/cloudns/cloudnstest"
)

const (
	testAuthID   = 1001
	testPassword = "Pa55-w0rd-XYZZY-secret"
)

// kit is a fake plus a client pointed at it, with captured logs and metrics.
type kit struct {
	fake   *cloudnstest.Server
	client *cloudns.Client
	reg    *prometheus.Registry
	logs   *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newKit starts a fake without a rate limit (tests that want one set it) and
// a fast client from DefaultOptions: 20/s, millisecond retry waits.
func newKit(tb testing.TB, mutate func(*cloudns.Options), fakeOpts ...cloudnstest.Option) *kit {
	tb.Helper()
	fake := cloudnstest.New(tb, append([]cloudnstest.Option{cloudnstest.WithRateLimit(0)}, fakeOpts...)...)
	fake.AddIdentity(cloudnstest.Identity{AuthID: testAuthID, Password: testPassword})
	k := &kit{fake: fake, reg: prometheus.NewRegistry(), logs: &syncBuffer{}}
	opts := cloudns.DefaultOptions()
	opts.BaseURL, opts.AuthID, opts.Password = fake.URL(), testAuthID, testPassword
	opts.Timeout, opts.RateLimit, opts.MaxRetries = 2*time.Second, cloudns.MaxRateLimit, 2
	opts.RetryWaitMin, opts.RetryWaitMax = time.Millisecond, 5*time.Millisecond
	opts.Registerer = k.reg
	opts.Logger = slog.New(slog.NewJSONHandler(k.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if mutate != nil {
		mutate(&opts)
	}
	c, err := cloudns.New(opts)
	if err != nil {
		tb.Fatalf("new client: %v", err)
	}
	k.client = c
	return k
}

// requests returns statussync_cloudns_requests_total{operation,result}.
func (k *kit) requests(tb testing.TB, op, result string) float64 {
	tb.Helper()
	mfs, err := k.reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "statussync_cloudns_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["operation"] == op && labels["result"] == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	tb.Fatalf("no series for operation %q result %q", op, result)
	return 0
}

func wantKind(tb testing.TB, err error, kind cloudns.ErrorKind) *cloudns.Error {
	tb.Helper()
	var e *cloudns.Error
	if !errors.As(err, &e) {
		tb.Fatalf("err = %v, want a *cloudns.Error of kind %v", err, kind)
	}
	if e.Kind != kind {
		tb.Fatalf("kind = %v, want %v (err: %v)", e.Kind, kind, err)
	}
	return e
}

func TestLoginTestIdentityStyles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		identity    cloudnstest.Identity
		opts        func(*cloudns.Options)
		wantMessage string // empty: success
	}{
		{"auth-id", cloudnstest.Identity{AuthID: 7, Password: "pw-aaaa"},
			func(o *cloudns.Options) { o.AuthID, o.Password = 7, "pw-aaaa" }, ""},
		{"sub-auth-id", cloudnstest.Identity{SubAuthID: 8, Password: "pw-bbbb"},
			func(o *cloudns.Options) { o.AuthID, o.SubAuthID, o.Password = 0, 8, "pw-bbbb" }, ""},
		{"sub-auth-user", cloudnstest.Identity{SubAuthUser: "ops", Password: "pw-cccc"},
			func(o *cloudns.Options) { o.AuthID, o.SubAuthUser, o.Password = 0, "ops", "pw-cccc" }, ""},
		{"auth-id wrong password", cloudnstest.Identity{AuthID: 7, Password: "pw-aaaa"},
			func(o *cloudns.Options) { o.AuthID, o.Password = 7, "wrong" }, cloudnstest.TextAuthFailed},
		{"sub-auth-id wrong password", cloudnstest.Identity{SubAuthID: 8, Password: "pw-bbbb"},
			func(o *cloudns.Options) { o.AuthID, o.SubAuthID, o.Password = 0, 8, "wrong" }, cloudnstest.TextSubAuthFailed},
		{"sub-auth-user unknown", cloudnstest.Identity{SubAuthUser: "ops", Password: "pw-cccc"},
			func(o *cloudns.Options) { o.AuthID, o.SubAuthUser, o.Password = 0, "dev", "pw-cccc" }, cloudnstest.TextSubAuthFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKit(t, tt.opts)
			k.fake.AddIdentity(tt.identity)
			err := k.client.LoginTest(context.Background())
			if tt.wantMessage == "" {
				if err != nil {
					t.Fatal(err)
				}
				if k.requests(t, "login", "ok") != 1 {
					t.Error("login not counted as ok")
				}
				return
			}
			e := wantKind(t, err, cloudns.KindAuth)
			if e.Message != tt.wantMessage || e.Operation != "login" || e.HTTPStatus != http.StatusOK {
				t.Errorf("error = %+v", e)
			}
			if n := k.fake.CallCount(""); n != 1 {
				t.Errorf("%d calls, want 1: authentication failures are never retried", n)
			}
			if k.requests(t, "login", "auth") != 1 {
				t.Error("auth failure not counted")
			}
		})
	}
}

func TestLoginTestFallsBackToLegacyPath(t *testing.T) {
	t.Parallel()
	k := newKit(t, nil)
	k.fake.Inject(cloudnstest.Fault{Path: cloudnstest.PathLogin, HTTPStatus: http.StatusNotFound, Body: "not found"})
	if err := k.client.LoginTest(context.Background()); err != nil {
		t.Fatal(err)
	}
	if k.fake.CallCount(cloudnstest.PathLogin) != 1 || k.fake.CallCount(cloudnstest.PathLoginLegacy) != 1 {
		t.Errorf("calls: %+v", k.fake.Calls())
	}
}

func TestLoginTestRejectsUnexpectedSuccessBody(t *testing.T) {
	t.Parallel()
	k := newKit(t, nil)
	k.fake.Inject(cloudnstest.Fault{Body: `{"status":"Maybe"}`})
	wantKind(t, k.client.LoginTest(context.Background()), cloudns.KindBadResponse)
	if k.requests(t, "login", "bad_response") != 1 {
		t.Error("bad response not counted")
	}
}

func TestListChecksDecodesFakeShapes(t *testing.T) {
	t.Parallel()
	styles := []struct {
		name string
		opts []cloudnstest.Option
	}{
		{"strings keyed by id", nil},
		{"numbers", []cloudnstest.Option{cloudnstest.WithNumbers(cloudnstest.NumbersAsNumbers)}},
		{"array pages", []cloudnstest.Option{cloudnstest.WithArrayPages()}},
	}
	for _, st := range styles {
		t.Run(st.name, func(t *testing.T) {
			k := newKit(t, nil, st.opts...)
			k.fake.AddCheck(cloudnstest.Check{ID: 10000, Name: "www", Type: 18, IP: "www.example.org", Host: "www.example.org",
				Port: 443, Path: "health", Region: "nam", Period: 300, StatusChangeChecks: 2, Status: cloudnstest.StatusUp})
			k.fake.AddCheck(cloudnstest.Check{ID: 9999, Name: "legacy", Type: 99, Paused: true, Status: cloudnstest.StatusDown})

			checks, err := k.client.ListChecks(context.Background(), cloudns.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(checks) != 2 || checks[0].ID != 9999 || checks[1].ID != 10000 {
				t.Fatalf("checks = %+v", checks)
			}
			w := checks[1]
			if w.Name != "www" || w.Type != cloudns.CheckTypeWeb || w.Host != "www.example.org" || w.IP != "www.example.org" ||
				w.Port != 443 || w.Path != "health" || w.Region != "nam" || w.Period != 5*time.Minute ||
				w.StatusChangeChecks != 2 || w.State != cloudns.StateActive ||
				!w.HasReportedStatus || w.ReportedStatus != cloudns.APIStatusUp ||
				w.Status != cloudns.StatusUnknown || w.StatusReason != cloudns.ReasonNotDetermined {
				t.Errorf("web check = %+v", w)
			}
			l := checks[0]
			if l.Type != 99 || l.Type.Known() || l.Port != 0 || l.State != cloudns.StatePaused || l.Status != cloudns.StatusPaused {
				t.Errorf("legacy check = %+v", l)
			}
		})
	}
}

func TestListChecksEmpty(t *testing.T) {
	t.Parallel()
	for _, empty := range []string{"{}", "[]"} {
		t.Run(empty, func(t *testing.T) {
			k := newKit(t, nil, cloudnstest.WithEmptyPage(empty))
			checks, err := k.client.ListChecks(context.Background(), cloudns.ListOptions{Page: 3})
			if err != nil || len(checks) != 0 {
				t.Fatalf("checks %v, err %v", checks, err)
			}
			all, err := k.client.ListAllChecks(context.Background(), cloudns.ListOptions{})
			if err != nil || len(all) != 0 {
				t.Fatalf("all %v, err %v", all, err)
			}
		})
	}
}

func TestListAllChecksPagination(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		seed      int
		opts      cloudns.ListOptions
		wantCalls int
		wantN     int
	}{
		{"none", 0, cloudns.ListOptions{}, 1, 0},
		{"one short page", 42, cloudns.ListOptions{}, 1, 42},
		{"250 across 3 pages", 250, cloudns.ListOptions{}, 3, 250},
		{"exact multiple needs an empty page", 200, cloudns.ListOptions{}, 3, 200},
		{"small pages", 45, cloudns.ListOptions{RowsPerPage: 10}, 5, 45},
		{"filtered", 250, cloudns.ListOptions{Status: cloudns.Ptr(cloudns.APIStatusDown)}, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKit(t, nil)
			ids := k.fake.Seed(tt.seed)
			checks, err := k.client.ListAllChecks(context.Background(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(checks) != tt.wantN {
				t.Fatalf("got %d checks, want %d", len(checks), tt.wantN)
			}
			for i, c := range checks {
				if c.ID != ids[i] {
					t.Fatalf("checks[%d].ID = %d, want %d (sorted by id)", i, c.ID, ids[i])
				}
			}
			if n := k.fake.CallCount(cloudnstest.PathGetRecords); n != tt.wantCalls {
				t.Errorf("%d calls, want %d", n, tt.wantCalls)
			}
			for i, call := range k.fake.Calls() {
				want := cloudns.DefaultRowsPerPage
				if tt.opts.RowsPerPage != 0 {
					want = tt.opts.RowsPerPage
				}
				if call.Params.Get("page") != itoa(i+1) || call.Params.Get("rows-per-page") != itoa(want) {
					t.Errorf("call %d params %v", i, call.Params)
				}
			}
		})
	}
}

func TestListAllChecksDetectsStuckPagination(t *testing.T) {
	t.Parallel()
	k := newKit(t, nil)
	// Every page answers the same ten checks, as an API ignoring "page" would.
	var body strings.Builder
	body.WriteString("{")
	for i := range 10 {
		if i > 0 {
			body.WriteString(",")
		}
		body.WriteString(`"` + itoa(i+1) + `":{"id":"` + itoa(i+1) + `"}`)
	}
	body.WriteString("}")
	k.fake.Inject(cloudnstest.Fault{Path: cloudnstest.PathGetRecords, Times: 5, Body: body.String()})
	_, err := k.client.ListAllChecks(context.Background(), cloudns.ListOptions{RowsPerPage: 10})
	wantKind(t, err, cloudns.KindBadResponse)
	if !strings.Contains(err.Error(), "not advancing") {
		t.Errorf("err = %v", err)
	}
	if n := k.fake.CallCount(cloudnstest.PathGetRecords); n != 2 {
		t.Errorf("%d calls, want 2", n)
	}
}

func TestPageCount(t *testing.T) {
	t.Parallel()
	k := newKit(t, nil)
	ids := k.fake.Seed(250)
	k.fake.SetCheckStatus(ids[0], cloudnstest.StatusDown)
	tests := []struct {
		name string
		opts cloudns.ListOptions
		want int
	}{
		{"all", cloudns.ListOptions{}, 3},
		{"fifty per page", cloudns.ListOptions{RowsPerPage: 50}, 5},
		{"down", cloudns.ListOptions{Status: cloudns.Ptr(cloudns.APIStatusDown)}, 1},
		{"paused", cloudns.ListOptions{State: cloudns.Ptr(cloudns.StatePaused)}, 0},
		{"type", cloudns.ListOptions{Type: cloudns.Ptr(cloudns.CheckTypeWeb), RowsPerPage: 10}, 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := k.client.PageCount(context.Background(), tt.opts)
			if err != nil || n != tt.want {
				t.Errorf("PageCount = %d, %v; want %d", n, err, tt.want)
			}
		})
	}
	t.Run("invalid rows", func(t *testing.T) {
		if _, err := k.client.PageCount(context.Background(), cloudns.ListOptions{RowsPerPage: 7}); err == nil {
			t.Error("want an error")
		}
	})
}

func TestGetCheck(t *testing.T) {
	t.Parallel()
	k := newKit(t, nil)
	id := k.fake.AddCheck(cloudnstest.Check{Name: "smtp", Type: 15, IP: "mx.example.org", Port: 25, Status: cloudnstest.StatusDown})
	c, err := k.client.GetCheck(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != id || c.Name != "smtp" || c.Type != cloudns.CheckTypeSMTP || c.Port != 25 || c.ReportedStatus != cloudns.APIStatusDown {
		t.Errorf("check = %+v", c)
	}
	if c.Status != cloudns.StatusUnknown {
		t.Errorf("GetCheck must not determine status from the unverified field, got %v", c.Status)
	}
	if call := k.fake.Calls()[0]; call.Params.Get("id") != itoa(int(id)) {
		t.Errorf("params = %v", call.Params)
	}

	t.Run("unknown id", func(t *testing.T) {
		_, err := k.client.GetCheck(context.Background(), 1)
		e := wantKind(t, err, cloudns.KindNotFound)
		if e.Message != cloudnstest.TextInvalidID {
			t.Errorf("message = %q", e.Message)
		}
	})
	t.Run("empty answer", func(t *testing.T) {
		k.fake.Inject(cloudnstest.Fault{Path: cloudnstest.PathGetCheck, Body: "[]"})
		_, err := k.client.GetCheck(context.Background(), id)
		wantKind(t, err, cloudns.KindNotFound)
	})
	t.Run("another check", func(t *testing.T) {
		k.fake.Inject(cloudnstest.Fault{Path: cloudnstest.PathGetCheck, Body: `{"id":"5"}`})
		_, err := k.client.GetCheck(context.Background(), id)
		wantKind(t, err, cloudns.KindBadResponse)
	})
	t.Run("invalid id", func(t *testing.T) {
		if _, err := k.client.GetCheck(context.Background(), 0); err == nil {
			t.Error("want an error")
		}
	})
}

func TestErrorKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		inject    func(*cloudnstest.Server)
		wantKind  cloudns.ErrorKind
		wantMsg   string
		wantCalls int // requests sent; retryable kinds use all 1+2 attempts
	}{
		{"auth", func(s *cloudnstest.Server) { s.FailNext(5, cloudnstest.TextAuthFailed) }, cloudns.KindAuth, cloudnstest.TextAuthFailed, 1},
		{"new auth wording", func(s *cloudnstest.Server) { s.FailNext(5, "Invalid authentication, incorrect user ID or password.") }, cloudns.KindAuth, "", 1},
		{"permission", func(s *cloudnstest.Server) {
			s.AddIdentity(cloudnstest.Identity{SubAuthUser: "limited", Password: testPassword, NoMonitoring: true})
		}, cloudns.KindPermission, cloudnstest.TextPermission, 1},
		{"rate limited", func(s *cloudnstest.Server) { s.FailNext(5, cloudnstest.RateLimitText("198.51.100.7", 20)) }, cloudns.KindRateLimited, "", 3},
		{"other", func(s *cloudnstest.Server) { s.FailNext(5, "Something unexpected.") }, cloudns.KindOther, "Something unexpected.", 1},
		{"status 0 variant", func(s *cloudnstest.Server) {
			s.Inject(cloudnstest.Fault{Times: 5, Body: `{"status":"0","statusDescription":"Invalid period."}`})
		}, cloudns.KindOther, "Invalid period.", 1},
		{"http 5xx", func(s *cloudnstest.Server) { s.FailNextHTTP(5, http.StatusServiceUnavailable) }, cloudns.KindServer, "", 3},
		{"http 429", func(s *cloudnstest.Server) { s.FailNextHTTP(5, http.StatusTooManyRequests) }, cloudns.KindRateLimited, "", 3},
		{"http 403", func(s *cloudnstest.Server) { s.FailNextHTTP(5, http.StatusForbidden) }, cloudns.KindHTTP, "", 1},
		{"redirect is not followed", func(s *cloudnstest.Server) {
			// Following a 307 would resend the form, password included.
			s.Inject(cloudnstest.Fault{Times: 5, HTTPStatus: http.StatusTemporaryRedirect, Body: "moved",
				Header: http.Header{"Location": {s.URL() + cloudnstest.PathLogin}}})
		}, cloudns.KindHTTP, "", 1},
		{"dropped connection", func(s *cloudnstest.Server) { s.DropNext(5) }, cloudns.KindTransport, "", 3},
		{"html with 200", func(s *cloudnstest.Server) { s.Inject(cloudnstest.Fault{Times: 5, Body: "<html>maintenance</html>"}) }, cloudns.KindBadResponse, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := func(o *cloudns.Options) {}
			if tt.wantKind == cloudns.KindPermission {
				opts = func(o *cloudns.Options) { o.AuthID, o.SubAuthUser = 0, "limited" }
			}
			k := newKit(t, opts)
			tt.inject(k.fake)
			_, err := k.client.ListChecks(context.Background(), cloudns.ListOptions{})
			e := wantKind(t, err, tt.wantKind)
			if tt.wantMsg != "" && e.Message != tt.wantMsg {
				t.Errorf("message = %q, want %q", e.Message, tt.wantMsg)
			}
			if e.Operation != "list_checks" {
				t.Errorf("operation = %q", e.Operation)
			}
			if cloudns.KindOf(err) != tt.wantKind {
				t.Errorf("KindOf = %v", cloudns.KindOf(err))
			}
			if !strings.HasPrefix(err.Error(), "cloudns: list checks page 1: ") {
				t.Errorf("err = %q", err)
			}
			if n := k.fake.CallCount(""); n != tt.wantCalls {
				t.Errorf("%d requests, want %d", n, tt.wantCalls)
			}
			if got := k.requests(t, "list_checks", tt.wantKind.String()); got != float64(tt.wantCalls) {
				t.Errorf("requests_total{result=%q} = %v, want %d", tt.wantKind, got, tt.wantCalls)
			}
		})
	}
}

func TestRetriesRecover(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		inject func(*cloudnstest.Server)
		result string
	}{
		{"after a 502", func(s *cloudnstest.Server) { s.FailNextHTTP(1, http.StatusBadGateway) }, "http_5xx"},
		{"after a dropped connection", func(s *cloudnstest.Server) { s.DropNext(2) }, "transport"},
		{"after a rate-limit body", func(s *cloudnstest.Server) { s.FailNext(1, cloudnstest.RateLimitText("127.0.0.1", 20)) }, "rate_limited"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKit(t, nil)
			k.fake.Seed(3)
			tt.inject(k.fake)
			checks, err := k.client.ListChecks(context.Background(), cloudns.ListOptions{})
			if err != nil || len(checks) != 3 {
				t.Fatalf("checks %d, err %v", len(checks), err)
			}
			if k.requests(t, "list_checks", "ok") != 1 || k.requests(t, "list_checks", tt.result) == 0 {
				t.Errorf("metrics do not show the failed attempt and the success")
			}
			if !strings.Contains(k.logs.String(), `"msg":"retrying cloudns request"`) {
				t.Error("retry not logged")
			}
		})
	}
}

func TestRetriesDisabled(t *testing.T) {
	t.Parallel()
	k := newKit(t, func(o *cloudns.Options) { o.MaxRetries = 0 })
	k.fake.FailNextHTTP(1, http.StatusBadGateway)
	_, err := k.client.ListChecks(context.Background(), cloudns.ListOptions{})
	wantKind(t, err, cloudns.KindServer)
	if n := k.fake.CallCount(""); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestRetryWaitRespectsDeadline(t *testing.T) {
	t.Parallel()
	k := newKit(t, func(o *cloudns.Options) { o.RetryWaitMin, o.RetryWaitMax = time.Minute, time.Minute })
	k.fake.FailNextHTTP(1, http.StatusBadGateway)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := k.client.ListChecks(ctx, cloudns.ListOptions{})
	wantKind(t, err, cloudns.KindServer) // the real failure, not a deadline
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %s: must not wait past the deadline", d)
	}
}

func TestContextAndTimeouts(t *testing.T) {
	t.Parallel()
	t.Run("canceled context", func(t *testing.T) {
		k := newKit(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := k.client.ListChecks(ctx, cloudns.ListOptions{})
		wantKind(t, err, cloudns.KindCanceled)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want it to wrap context.Canceled", err)
		}
	})
	t.Run("deadline during a slow response", func(t *testing.T) {
		k := newKit(t, nil)
		k.fake.SetLatency(time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := k.client.ListChecks(ctx, cloudns.ListOptions{})
		wantKind(t, err, cloudns.KindCanceled)
		if n := k.fake.CallCount(""); n != 1 {
			t.Errorf("%d requests, want 1 (no retry once the context is done)", n)
		}
	})
	t.Run("client timeout on a slow response", func(t *testing.T) {
		k := newKit(t, func(o *cloudns.Options) { o.Timeout = 100 * time.Millisecond })
		k.fake.SetLatency(time.Second)
		_, err := k.client.ListChecks(context.Background(), cloudns.ListOptions{})
		wantKind(t, err, cloudns.KindTransport)
		if n := k.fake.CallCount(""); n != 3 {
			t.Errorf("%d requests, want 3 (timeouts are retried)", n)
		}
	})
}

func TestClientRateLimiter(t *testing.T) {
	t.Parallel()
	k := newKit(t, func(o *cloudns.Options) { o.RateLimit = 10 })
	start := time.Now()
	for range 4 {
		if _, err := k.client.ListChecks(context.Background(), cloudns.ListOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// No burst: four requests at 10/s need three 100 ms gaps.
	if d := time.Since(start); d < 290*time.Millisecond {
		t.Errorf("4 requests took %s, want >= 300ms at 10/s", d)
	}
}

func TestAPIRateLimitIsRetriedAfterBackoff(t *testing.T) {
	t.Parallel()
	// The fake allows 2 requests per second; the client sends up to 20/s and
	// must get past the block by backing off into the next second.
	k := newKit(t, func(o *cloudns.Options) {
		o.RetryWaitMin, o.RetryWaitMax = time.Second, 2*time.Second
	}, cloudnstest.WithRateLimit(2))
	k.fake.Seed(1)
	for i := range 3 {
		if _, err := k.client.ListChecks(context.Background(), cloudns.ListOptions{}); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	if k.requests(t, "list_checks", "rate_limited") < 1 {
		t.Error("the block was not seen")
	}
}

func TestMetricsSurviveClientRebuild(t *testing.T) {
	t.Parallel()
	k := newKit(t, nil)
	if err := k.client.LoginTest(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A config reload builds a new client on the same registry.
	k.client.CloseIdleConnections()
	opts := cloudns.DefaultOptions()
	opts.BaseURL, opts.AuthID, opts.Password, opts.RateLimit, opts.Registerer = k.fake.URL(), testAuthID, testPassword, cloudns.MaxRateLimit, k.reg
	again, err := cloudns.New(opts)
	if err != nil {
		t.Fatalf("second client on the same registry: %v", err)
	}
	if err := again.LoginTest(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := k.requests(t, "login", "ok"); got != 2 {
		t.Errorf("requests_total{login,ok} = %v, want 2 (shared collectors)", got)
	}
}

func TestMetricsConflictingRegistration(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "statussync_cloudns_requests_total", Help: "other"}))
	opts := cloudns.DefaultOptions()
	opts.AuthID, opts.Password, opts.Registerer = 1, "p", reg
	_, err := cloudns.New(opts)
	if err == nil {
		t.Fatal("want an error for a conflicting collector")
	}
}

func TestNewRejectsInvalidOptions(t *testing.T) {
	t.Parallel()
	opts := cloudns.DefaultOptions()
	opts.AuthID, opts.SubAuthUser, opts.Password = 1, "x", testPassword
	_, err := cloudns.New(opts)
	if err == nil || !strings.Contains(err.Error(), "exactly one of") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), testPassword) {
		t.Error("options error shows the password")
	}

	// Zero values are not defaults: each is an error naming its field.
	_, err = cloudns.New(cloudns.Options{AuthID: 1, Password: testPassword})
	if err == nil {
		t.Fatal("zero Options accepted")
	}
	for _, field := range []string{"BaseURL", "Timeout", "UserAgent", "RateLimit", "RetryWaitMin"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("err does not name %s: %v", field, err)
		}
	}
}

func TestInsecureBaseURLWarns(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	opts := cloudns.DefaultOptions()
	opts.BaseURL, opts.AuthID, opts.Password = "http://api.example.test", 1, "p"
	opts.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	_, err := cloudns.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "not https") {
		t.Errorf("no warning: %s", logs.String())
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
