package ha

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	rl "k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/statussync/statussync/config"
)

func TestCheckTimings(t *testing.T) {
	tests := []struct {
		name                string
		lease, renew, retry time.Duration
		wantErr             string
	}{
		{name: "client-go defaults", lease: 15 * time.Second, renew: 10 * time.Second, retry: 2 * time.Second},
		{name: "test timings", lease: testLease, renew: testRenew, retry: testRetry},
		{name: "no retry period", lease: 15 * time.Second, renew: 10 * time.Second, wantErr: "retry period 0s must be positive"},
		{name: "renew within jitter of retry", lease: 15 * time.Second, renew: 2400 * time.Millisecond, retry: 2 * time.Second, wantErr: "renew deadline 2.4s must be more than 1.2 times retry period 2s"},
		{name: "renew within a second of retry", lease: 15 * time.Second, renew: 2500 * time.Millisecond, retry: 2 * time.Second, wantErr: "renew deadline 2.5s must be more than retry period 2s plus 1s"},
		{name: "lease not above renew", lease: 10 * time.Second, renew: 10 * time.Second, retry: 2 * time.Second, wantErr: "lease duration 10s, stored as 10s in whole seconds, must be more than renew deadline 10s"},
		{name: "lease above renew only before truncation", lease: 2500 * time.Millisecond, renew: 2 * time.Second, retry: 500 * time.Millisecond, wantErr: "lease duration 2.5s, stored as 2s in whole seconds"},
		{name: "lease under two seconds", lease: 1900 * time.Millisecond, renew: 1500 * time.Millisecond, retry: 100 * time.Millisecond, wantErr: "stored as 1s in whole seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkTimings(config.HAConfig{LeaseDuration: tt.lease, RenewDeadline: tt.renew, RetryPeriod: tt.retry})
			checkErr(t, err, tt.wantErr)
		})
	}
}

func TestNew(t *testing.T) {
	// Outside a pod whatever the machine: rest.InClusterConfig needs this.
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`), 0o600); err != nil {
		t.Fatal(err)
	}
	rc := &rest.Config{Host: "https://127.0.0.1:1"}
	tests := []struct {
		name    string
		edit    func(*config.HAConfig)
		opts    Options
		wantErr string
	}{
		{name: "rest config", opts: Options{RESTConfig: rc}},
		{name: "kubeconfig", edit: func(c *config.HAConfig) { c.Kubeconfig = kubeconfig }},
		{name: "missing kubeconfig", edit: func(c *config.HAConfig) { c.Kubeconfig = filepath.Join(dir, "nope") }, wantErr: "ha: load kubeconfig:"},
		// Outside a pod, with neither: the service account is not there.
		{name: "not in a cluster", wantErr: "ha: in-cluster config:"},
		{name: "no lease name", edit: func(c *config.HAConfig) { c.LeaseName = "" }, opts: Options{RESTConfig: rc}, wantErr: "ha: lease name is empty"},
		{name: "no namespace", edit: func(c *config.HAConfig) { c.LeaseNamespace = "" }, opts: Options{RESTConfig: rc}, wantErr: "ha: lease namespace is empty"},
		{name: "no identity", edit: func(c *config.HAConfig) { c.Identity = "" }, opts: Options{RESTConfig: rc}, wantErr: "ha: identity is empty"},
		{name: "bad timings", edit: func(c *config.HAConfig) { c.RetryPeriod = 0 }, opts: Options{RESTConfig: rc}, wantErr: "retry period"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("ns", "lease", "me")
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			e, err := New(cfg, tt.opts)
			checkErr(t, err, tt.wantErr)
			if err == nil && e.IsLeader() {
				t.Error("a new Elector claims to lead")
			}
		})
	}
}

func TestRESTConfigBoundsRequests(t *testing.T) {
	tests := []struct {
		name        string
		renew       time.Duration
		preset      time.Duration
		wantTimeout time.Duration
	}{
		{name: "half the renew deadline", renew: 10 * time.Second, wantTimeout: 5 * time.Second},
		{name: "at least a second", renew: testRenew, wantTimeout: time.Second},
		{name: "caller's timeout kept", renew: 10 * time.Second, preset: 3 * time.Second, wantTimeout: 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &rest.Config{Host: "https://127.0.0.1:1", Timeout: tt.preset}
			got, err := restConfig(config.HAConfig{RenewDeadline: tt.renew}, Options{RESTConfig: in})
			if err != nil {
				t.Fatal(err)
			}
			if got.Timeout != tt.wantTimeout {
				t.Errorf("Timeout = %v, want %v", got.Timeout, tt.wantTimeout)
			}
			if !strings.HasSuffix(got.UserAgent, "/"+userAgent) {
				t.Errorf("UserAgent = %q, want it to end in /%s", got.UserAgent, userAgent)
			}
			if in.Timeout != tt.preset || in.UserAgent != "" {
				t.Error("the caller's rest.Config was modified")
			}
		})
	}
}

func TestNewLeadership(t *testing.T) {
	l, err := NewLeadership(config.HAConfig{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.(*Standalone); !ok {
		t.Errorf("HA disabled: got %T, want *Standalone", l)
	}
	cfg := testConfig("ns", "lease", "me")
	l, err = NewLeadership(cfg, Options{RESTConfig: &rest.Config{Host: "https://127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.(*Elector); !ok {
		t.Errorf("HA enabled: got %T, want *Elector", l)
	}
}

func TestObservingLock(t *testing.T) {
	tests := []struct {
		name       string
		holder     string
		mode       fakeMode
		wantRecord bool
	}{
		{name: "renew", holder: "me", wantRecord: true},
		{name: "failed renew", holder: "me", mode: fakeFail},
		{name: "release", holder: ""},
		{name: "someone else's record", holder: "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &fakeStore{mode: tt.mode}
			m := newMetrics(prometheus.NewRegistry())
			l := newObservingLock(&fakeLock{id: "me", store: store}, testLogger(t, "me"), m, func() bool { return true })
			before := time.Now()
			_ = l.Update(context.Background(), rl.LeaderElectionRecord{HolderIdentity: tt.holder})
			last := l.lastRenew()
			metric := testutil.ToFloat64(m.lastRenew)
			select {
			case <-l.renewed:
				if !tt.wantRecord {
					t.Error("renewal signalled")
				}
			default:
				if tt.wantRecord {
					t.Error("renewal not signalled")
				}
			}
			if !tt.wantRecord {
				if !last.IsZero() || metric != 0 {
					t.Errorf("recorded a renewal: last %v, metric %v", last, metric)
				}
				return
			}
			if last.Before(before) || last.After(time.Now()) {
				t.Errorf("last renew %v not within the call", last)
			}
			if want := float64(last.UnixNano()) / 1e9; metric != want {
				t.Errorf("last renew metric = %v, want %v", metric, want)
			}
		})
	}
}

func TestObservingLockVisibleSince(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC)
	rec := func(holder string, renew time.Duration) rl.LeaderElectionRecord {
		return rl.LeaderElectionRecord{
			HolderIdentity:       holder,
			LeaseDurationSeconds: 3,
			AcquireTime:          metav1.NewTime(base),
			RenewTime:            metav1.NewTime(base.Add(renew)),
		}
	}
	tests := []struct {
		name   string
		writes []rl.LeaderElectionRecord
		// want is the index of the write whose start followers count from.
		want int
	}{
		{name: "acquire", writes: []rl.LeaderElectionRecord{rec("me", 0)}, want: 0},
		{name: "renew in the same second", writes: []rl.LeaderElectionRecord{rec("me", 0), rec("me", 400*time.Millisecond)}, want: 0},
		{name: "renew in the next second", writes: []rl.LeaderElectionRecord{rec("me", 0), rec("me", 400*time.Millisecond), rec("me", 1100*time.Millisecond)}, want: 2},
		{name: "acquire again after a release", writes: []rl.LeaderElectionRecord{rec("me", 0), rec("", 100*time.Millisecond), rec("me", 0)}, want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newObservingLock(&fakeLock{id: "me", store: &fakeStore{}}, testLogger(t, "me"), newMetrics(nil), func() bool { return true })
			starts := make([]time.Time, len(tt.writes))
			for i, w := range tt.writes {
				time.Sleep(time.Millisecond) // distinct start times
				if err := l.Update(context.Background(), w); err != nil {
					t.Fatal(err)
				}
				starts[i] = l.lastRenew()
			}
			if got := l.visibleSince(); !got.Equal(starts[tt.want]) {
				t.Errorf("visibleSince = write %d's start, want write %d's", slices.IndexFunc(starts, got.Equal), tt.want)
			}
		})
	}
}

// TestElectorStopsAtRenewDeadline cuts a leader off from a fake API server
// and checks that its term ends RenewDeadline after the last renew started:
// the watchdog's bound, earlier than client-go's renew loop alone would give
// up (RetryPeriod later at best).
func TestElectorStopsAtRenewDeadline(t *testing.T) {
	tests := []struct {
		name string
		mode fakeMode
	}{
		{name: "requests fail", mode: fakeFail},
		{name: "requests hang", mode: fakeHang},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &fakeStore{}
			reg := prometheus.NewRegistry()
			e, err := newElector(testConfig("ns", "lease", "a"), Options{Logger: testLogger(t, "a"), Registerer: reg}, &fakeLock{id: "a", store: store})
			if err != nil {
				t.Fatal(err)
			}
			c := run(t, "a", e)
			c.termStarted(t, 1, 5*time.Second)
			// Let it renew a few times first.
			time.Sleep(3 * testRetry)
			if !e.IsLeader() || testutil.ToFloat64(e.metrics.leader) != 1 {
				t.Fatal("not leading after acquiring")
			}
			store.setMode(tt.mode)
			term := c.termEnded(t, 1, 2*testLease)
			visible := e.lock.visibleSince()
			stopAfter := term.end.Sub(visible)
			t.Logf("stopped %v after the last renew followers could see started, %v after the last renew",
				stopAfter, term.end.Sub(e.lock.lastRenew()))
			if stopAfter < testRenew || stopAfter > testRenew+timerSlack {
				t.Errorf("stopped %v after the last visible renew, want within %v after the renew deadline %v", stopAfter, timerSlack, testRenew)
			}
			if e.IsLeader() || testutil.ToFloat64(e.metrics.leader) != 0 {
				t.Error("still reports leading after the term ended")
			}
			if got := c.stoppedCalls(); got != 1 {
				t.Errorf("OnStoppedLeading called %d times, want 1", got)
			}

			// Once the API server answers again, Run enters the election
			// again and leads a new term.
			store.setMode(fakeOK)
			c.termStarted(t, 2, testRenew+2*testLease)
			if got := testutil.ToFloat64(e.metrics.transitions); got != 3 {
				t.Errorf("transitions = %v, want 3 (on, off, on)", got)
			}
		})
	}
}

// TestElectorShutdown checks that cancelling Run ends the term, calls
// OnStoppedLeading once, waits for OnStartedLeading and releases the lease.
func TestElectorShutdown(t *testing.T) {
	store := &fakeStore{}
	e, err := newElector(testConfig("ns", "lease", "a"), Options{Logger: testLogger(t, "a")}, &fakeLock{id: "a", store: store})
	if err != nil {
		t.Fatal(err)
	}
	returned := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var callbackDone time.Time
	runDone := make(chan time.Time)
	stopped := 0
	go func() {
		e.Run(ctx, Callbacks{
			OnStartedLeading: func(ctx context.Context) {
				close(returned)
				<-ctx.Done()
				time.Sleep(100 * time.Millisecond) // a slow writer winding down
				callbackDone = time.Now()
			},
			OnStoppedLeading: func() { stopped++ },
		})
		runDone <- time.Now()
	}()
	<-returned
	if store.holder() != "a" {
		t.Fatalf("lease holder = %q, want a", store.holder())
	}
	cancel()
	done := <-runDone
	if done.Before(callbackDone) {
		t.Error("Run returned before OnStartedLeading did")
	}
	if stopped != 1 {
		t.Errorf("OnStoppedLeading called %d times, want 1", stopped)
	}
	if e.IsLeader() {
		t.Error("IsLeader after Run returned")
	}
	if h := store.holder(); h != "" {
		t.Errorf("lease holder after shutdown = %q, want released", h)
	}
}

// TestElectorHandoverFake runs two candidates on one fake lease: one leads,
// and when it stops the other takes over without overlap.
func TestElectorHandoverFake(t *testing.T) {
	store := &fakeStore{}
	var cs []*candidate
	for _, id := range []string{"a", "b"} {
		e, err := newElector(testConfig("ns", "lease", id), Options{Logger: testLogger(t, id)}, &fakeLock{id: id, store: store})
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, run(t, id, e))
	}
	watchLeaders(t, cs...)
	waitFor(t, 5*time.Second, "someone leads", func() bool { return cs[0].leading() || cs[1].leading() })
	leader, follower := cs[0], cs[1]
	if !leader.leading() {
		leader, follower = follower, leader
	}
	leader.stop()
	follower.termStarted(t, 1, 2*testLease)
	assertNoOverlap(t, cs...)
}

func checkErr(tb testing.TB, err error, want string) {
	tb.Helper()
	switch {
	case want == "" && err != nil:
		tb.Errorf("unexpected error: %v", err)
	case want != "" && err == nil:
		tb.Errorf("got no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		tb.Errorf("error %q does not contain %q", err, want)
	}
}
