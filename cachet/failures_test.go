package cachet

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/statussync/statussync/cachet/cachettest"
)

func TestAPIErrors(t *testing.T) {
	srv := cachettest.New(t,
		cachettest.WithToken(testToken, "*"),
		cachettest.WithToken("8|componentsOnlyToken", "components.manage"),
	)
	comp := srv.AddComponent("API", 1)

	tests := []struct {
		name     string
		token    string
		call     func(ctx context.Context, c *Client) error
		status   int
		wantText []string
		check    func(t *testing.T, e *APIError)
	}{
		{
			name:  "401 without token",
			token: "",
			call: func(ctx context.Context, c *Client) error {
				_, err := c.UpdateComponentStatus(ctx, comp.ID, ComponentMajorOutage)
				return err
			},
			status:   401,
			wantText: []string{"cachet: update_component: 401: Unauthenticated.", "missing, invalid, revoked or expired"},
		},
		{
			name:  "401 with a wrong token",
			token: "9|wrongTokenValue",
			call: func(ctx context.Context, c *Client) error {
				_, err := c.CreateIncident(ctx, IncidentCreate{Name: "x", Message: "y", Status: 1})
				return err
			},
			status: 401,
		},
		{
			name:  "403 names the ability",
			token: "8|componentsOnlyToken",
			call: func(ctx context.Context, c *Client) error {
				_, err := c.CreateIncident(ctx, IncidentCreate{Name: "x", Message: "y", Status: 1})
				return err
			},
			status:   403,
			wantText: []string{`cachet: create_incident: 403: Invalid ability provided. (the api token lacks the "incidents.manage" ability)`},
			check: func(t *testing.T, e *APIError) {
				if e.Ability != "incidents.manage" {
					t.Errorf("Ability = %q", e.Ability)
				}
			},
		},
		{
			name:  "403 for incident updates",
			token: "8|componentsOnlyToken",
			call: func(ctx context.Context, c *Client) error {
				_, err := c.PostMetricPoint(ctx, srv.AddMetric("m", "ms", 1).ID, 1, time.Time{})
				return err
			},
			status:   403,
			wantText: []string{`"metric-points.manage"`},
		},
		{
			name:  "404 unknown component",
			token: testToken,
			call: func(ctx context.Context, c *Client) error {
				_, err := c.GetComponent(ctx, 999)
				return err
			},
			status: 404,
		},
		{
			name:  "404 updates of an unknown incident",
			token: testToken,
			call: func(ctx context.Context, c *Client) error {
				_, err := c.CreateIncidentUpdate(ctx, 999, IncidentFixed, "done")
				return err
			},
			status: 404,
		},
		{
			name:  "422 with field errors",
			token: testToken,
			call: func(ctx context.Context, c *Client) error {
				_, err := c.CreateComponent(ctx, ComponentCreate{Name: "x", GroupID: 999})
				return err
			},
			status:   422,
			wantText: []string{"component_group_id: The selected component group id is invalid."},
			check: func(t *testing.T, e *APIError) {
				if len(e.Errors["component_group_id"]) != 1 {
					t.Errorf("Errors = %v", e.Errors)
				}
			},
		},
		{
			name:  "422 unknown component in incident",
			token: testToken,
			call: func(ctx context.Context, c *Client) error {
				_, err := c.CreateIncident(ctx, IncidentCreate{Name: "x", Message: "y", Status: 1,
					Components: []AffectedComponent{{ID: comp.ID, Status: 4}, {ID: 555, Status: 4}}})
				return err
			},
			status: 422,
			check: func(t *testing.T, e *APIError) {
				if _, ok := e.Errors["components.1.id"]; !ok {
					t.Errorf("Errors = %v", e.Errors)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, srv.URL(), func(o *Options) { o.Token = tt.token })
			srv.ResetRequests()
			err := tt.call(ctxT(t), c)
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v (%T), want *APIError", err, err)
			}
			if apiErr.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d: %v", apiErr.StatusCode, tt.status, err)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if tt.check != nil {
				tt.check(t, apiErr)
			}
			if n := len(srv.Requests()); n != 1 {
				t.Errorf("requests = %d: 4xx must not be retried", n)
			}
		})
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name        string
		noRetries   bool // MaxRetries 0 instead of DefaultMaxRetries
		fault       func(srv *cachettest.Server)
		call        func(ctx context.Context, c *Client, srv *cachettest.Server) error
		wantOK      bool
		wantStatus  int // of the final APIError when !wantOK; 0 for a transport error
		wantAttempt int
		after       func(t *testing.T, srv *cachettest.Server)
	}{
		{
			name:  "list recovers from 503",
			fault: func(s *cachettest.Server) { s.FailNext(2, 503) },
			call: func(ctx context.Context, c *Client, _ *cachettest.Server) error {
				_, err := c.ListComponents(ctx, ComponentFilter{})
				return err
			},
			wantOK: true, wantAttempt: 3,
		},
		{
			name:  "list gives up after max retries",
			fault: func(s *cachettest.Server) { s.FailNext(10, 500) },
			call: func(ctx context.Context, c *Client, _ *cachettest.Server) error {
				_, err := c.ListComponents(ctx, ComponentFilter{})
				return err
			},
			wantStatus: 500, wantAttempt: 4,
		},
		{
			name:      "retries disabled",
			noRetries: true,
			fault:     func(s *cachettest.Server) { s.FailNext(1, 503) },
			call: func(ctx context.Context, c *Client, _ *cachettest.Server) error {
				return c.Ping(ctx)
			},
			wantStatus: 503, wantAttempt: 1,
		},
		{
			name:  "update recovers from 502",
			fault: func(s *cachettest.Server) { s.FailNext(1, 502) },
			call: func(ctx context.Context, c *Client, _ *cachettest.Server) error {
				_, err := c.UpdateComponentStatus(ctx, 1, ComponentPartialOutage)
				return err
			},
			wantOK: true, wantAttempt: 2,
		},
		{
			name:  "update recovers from a dropped connection",
			fault: func(s *cachettest.Server) { s.DropNext(1) },
			call: func(ctx context.Context, c *Client, _ *cachettest.Server) error {
				_, err := c.UpdateComponentStatus(ctx, 1, ComponentPartialOutage)
				return err
			},
			wantOK: true, wantAttempt: 2,
		},
		{
			name:  "update is not retried on 422",
			fault: func(s *cachettest.Server) { s.FailNext(1, 422) },
			call: func(ctx context.Context, c *Client, _ *cachettest.Server) error {
				_, err := c.UpdateComponentStatus(ctx, 1, ComponentPartialOutage)
				return err
			},
			wantStatus: 422, wantAttempt: 1,
		},
		{
			name:  "create incident retried on 503",
			fault: func(s *cachettest.Server) { s.FailNext(1, 503) },
			call: func(ctx context.Context, c *Client, _ *cachettest.Server) error {
				_, err := c.CreateIncident(ctx, IncidentCreate{Name: "x", Message: "y", Status: 1, Visible: VisibilityGuest})
				return err
			},
			wantOK: true, wantAttempt: 2,
			after: func(t *testing.T, s *cachettest.Server) {
				if n := len(s.Incidents()); n != 1 {
					t.Errorf("incidents = %d, want exactly 1", n)
				}
			},
		},
		{
			name:  "create incident retried on 429",
			fault: func(s *cachettest.Server) { s.FailNext(2, 429) },
			call: func(ctx context.Context, c *Client, _ *cachettest.Server) error {
				_, err := c.CreateIncident(ctx, IncidentCreate{Name: "x", Message: "y", Status: 1})
				return err
			},
			wantOK: true, wantAttempt: 3,
		},
		{
			name:  "create incident not retried on 500",
			fault: func(s *cachettest.Server) { s.FailNext(1, 500) },
			call: func(ctx context.Context, c *Client, _ *cachettest.Server) error {
				_, err := c.CreateIncident(ctx, IncidentCreate{Name: "x", Message: "y", Status: 1})
				return err
			},
			wantStatus: 500, wantAttempt: 1,
		},
		{
			name:  "create update not retried after a dropped connection",
			fault: func(s *cachettest.Server) { s.DropNext(1) },
			call: func(ctx context.Context, c *Client, s *cachettest.Server) error {
				in := s.AddIncident(cachettest.Incident{Name: "x", Message: "y", Status: 1, Visible: 1})
				_, err := c.CreateIncidentUpdate(ctx, in.ID, IncidentFixed, "done")
				return err
			},
			wantStatus: 0, wantAttempt: 1,
		},
		{
			name:  "metric point not retried on 504",
			fault: func(s *cachettest.Server) { s.FailNext(1, 504) },
			call: func(ctx context.Context, c *Client, s *cachettest.Server) error {
				_, err := c.PostMetricPoint(ctx, s.AddMetric("m", "ms", 1).ID, 1, time.Time{})
				return err
			},
			wantStatus: 504, wantAttempt: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t)
			srv.AddComponent("API", 1)
			c := newClient(t, srv.URL(), func(o *Options) {
				if tt.noRetries {
					o.MaxRetries = 0
				}
			})
			tt.fault(srv)
			err := tt.call(ctxT(t), c, srv)
			if tt.wantOK {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
			} else {
				if err == nil {
					t.Fatal("no error")
				}
				var apiErr *APIError
				isAPI := errors.As(err, &apiErr)
				switch {
				case tt.wantStatus == 0 && isAPI:
					t.Fatalf("err = %v, want a transport error", err)
				case tt.wantStatus != 0 && (!isAPI || apiErr.StatusCode != tt.wantStatus):
					t.Fatalf("err = %v, want status %d", err, tt.wantStatus)
				}
			}
			// Count the requests of the operation under test only.
			var attempts int
			for _, r := range srv.Requests() {
				if r.Method != http.MethodGet || strings.HasSuffix(r.Path, "/components") || strings.HasSuffix(r.Path, "/ping") {
					attempts++
				}
			}
			if attempts != tt.wantAttempt {
				t.Errorf("attempts = %d, want %d", attempts, tt.wantAttempt)
			}
			if tt.after != nil {
				tt.after(t, srv)
			}
		})
	}
}

func TestRetryOnConnectionRefused(t *testing.T) {
	// A port that was listening a moment ago: nothing accepts connections.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	tests := []struct {
		name string
		call func(ctx context.Context, c *Client) error
	}{
		{"read", func(ctx context.Context, c *Client) error {
			_, err := c.ListComponents(ctx, ComponentFilter{})
			return err
		}},
		// A refused connection proves the create never reached Cachet.
		{"create", func(ctx context.Context, c *Client) error {
			_, err := c.CreateIncident(ctx, IncidentCreate{Name: "x", Message: "y", Status: 1})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var warnings atomic.Int32
			c := newClient(t, "http://"+addr+"/api", func(o *Options) {
				o.MaxRetries = 2
				o.Logger = newCountingLogger(&warnings)
			})
			err := tt.call(ctxT(t), c)
			if err == nil || !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("err = %v, want connection refused", err)
			}
			if got := warnings.Load(); got != 2 {
				t.Errorf("retry warnings = %d, want 2", got)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name     string
		waitMax  time.Duration
		minWait  time.Duration
		maxWait  time.Duration
		attempts int32
	}{
		{"honoured", 5 * time.Second, time.Second, 4 * time.Second, 2},
		// Issue #14: retrying before Retry-After only earns another 429.
		{"honoured past RetryWaitMax", 20 * time.Millisecond, time.Second, 4 * time.Second, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					w.Header().Set("Retry-After", "1")
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusTooManyRequests)
					_, _ = w.Write([]byte(`{"message":"Too Many Attempts."}`))
					return
				}
				_, _ = w.Write([]byte(`{"data":"Pong!"}`))
			}))
			t.Cleanup(srv.Close)
			c := newClient(t, srv.URL, func(o *Options) { o.RetryWaitMax = tt.waitMax })
			start := time.Now()
			if err := c.Ping(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			elapsed := time.Since(start)
			if elapsed < tt.minWait || elapsed > tt.maxWait {
				t.Errorf("elapsed %s, want within [%s, %s]", elapsed, tt.minWait, tt.maxWait)
			}
			if calls.Load() != tt.attempts {
				t.Errorf("calls = %d", calls.Load())
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	srv := newFake(t)
	c := newClient(t, srv.URL(), func(o *Options) { o.RateLimit = 50; o.RateBurst = 1 })
	start := time.Now()
	for range 6 {
		if err := c.Ping(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}
	// Five waits of 20ms after the burst of one.
	if elapsed := time.Since(start); elapsed < 90*time.Millisecond {
		t.Errorf("6 requests at 50/s took %s", elapsed)
	}

	t.Run("a wait past the deadline is a deadline error", func(t *testing.T) {
		c := newClient(t, srv.URL(), func(o *Options) { o.RateLimit = 0.5; o.RateBurst = 1 })
		if err := c.Ping(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		if err := c.Ping(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want deadline exceeded", err)
		}
		if time.Since(start) > 50*time.Millisecond {
			t.Error("the limiter waited although the deadline could not be met")
		}
	})

	t.Run("default stays under cachet's 300 per minute", func(t *testing.T) {
		opts := DefaultOptions()
		opts.BaseURL = srv.URL()
		c, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		perMinute := float64(c.limiter.Limit())*60 + float64(c.limiter.Burst())
		if perMinute >= 300 {
			t.Errorf("default allows %.0f requests per minute", perMinute)
		}
	})

	t.Run("a 429 pauses concurrent callers", func(t *testing.T) {
		c := newClient(t, srv.URL(), func(o *Options) { o.RetryWaitMax = 300 * time.Millisecond })
		srv.FailNext(1, http.StatusTooManyRequests) // Retry-After: 1, capped to 300ms
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := c.Ping(ctxT(t)); err != nil {
				t.Error(err)
			}
		})
		time.Sleep(50 * time.Millisecond) // the first caller has had its 429
		start := time.Now()
		if err := c.Ping(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		if elapsed := time.Since(start); elapsed < 150*time.Millisecond {
			t.Errorf("second caller did not wait for the pause: %s", elapsed)
		}
		wg.Wait()
	})
}

func TestContextCancellation(t *testing.T) {
	tests := []struct {
		name  string
		setup func(srv *cachettest.Server)
	}{
		{"during a slow response", func(srv *cachettest.Server) { srv.SetLatency(2 * time.Second) }},
		{"during retry backoff", func(srv *cachettest.Server) { srv.FailNext(100, 503) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t)
			tt.setup(srv)
			c := newClient(t, srv.URL(), func(o *Options) {
				o.RetryWaitMin, o.RetryWaitMax, o.MaxRetries = time.Second, 2*time.Second, 50
			})
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := c.ListComponents(ctx, ComponentFilter{})
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want deadline exceeded", err)
			}
			if elapsed := time.Since(start); elapsed > time.Second {
				t.Errorf("returned after %s", elapsed)
			}
		})
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(other.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusMovedPermanently)
	}))
	t.Cleanup(srv.Close)

	_, err := newClient(t, srv.URL+"/api").UpdateComponentStatus(ctxT(t), 1, ComponentOperational)
	if !IsStatus(err, http.StatusMovedPermanently) || !strings.Contains(err.Error(), "unexpected redirect") {
		t.Fatalf("err = %v", err)
	}
	if hits.Load() != 0 {
		t.Error("redirect was followed")
	}
}

func TestGetIncidentWithoutMetaSupport(t *testing.T) {
	var includes []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inc := r.URL.Query().Get("include")
		mu.Lock()
		includes = append(includes, inc)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(inc, "meta") {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte("{\"message\":\"Requested include(s) `meta` are not allowed. Allowed include(s) are `components, updates`.\"}"))
			return
		}
		_, _ = w.Write([]byte(`{"data":{"id":"3","type":"incidents","attributes":{"id":3,"name":"x","status":{"human":"x","value":2},"visible":1},
			"relationships":{"components":{"data":[{"type":"components","id":"9"}]}}}}`))
	}))
	t.Cleanup(srv.Close)

	c := newClient(t, srv.URL)
	in, err := c.GetIncident(ctxT(t), 3)
	if err != nil {
		t.Fatal(err)
	}
	if in.ID != 3 || in.Status != IncidentIdentified || !in.Affects(9) {
		t.Errorf("incident = %+v", in)
	}
	mu.Lock()
	defer mu.Unlock()
	if last := includes[len(includes)-1]; last != "components" {
		t.Errorf("includes = %v, want the incident read with include=components", includes)
	}
	if c.KnownCapabilities().Meta {
		t.Error("meta capability kept after a 400 for include=meta")
	}
}
