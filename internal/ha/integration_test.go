package ha

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/statussync/statussync/internal/ha/kubetest"
)

// The tests below run against a real kube-apiserver and etcd (see package
// kubetest) and skip without them.

const testNamespace = "statussync"

func startServer(tb testing.TB) *kubetest.Server {
	tb.Helper()
	srv := kubetest.Start(tb)
	srv.CreateNamespace(tb, testNamespace)
	return srv
}

// startElector runs an Elector for lease in testNamespace as id.
func startElector(tb testing.TB, rc *rest.Config, id, lease string) (*candidate, *Elector) {
	tb.Helper()
	return startElectorIn(tb, rc, testNamespace, id, lease)
}

func startElectorIn(tb testing.TB, rc *rest.Config, ns, id, lease string) (*candidate, *Elector) {
	tb.Helper()
	e, err := New(testConfig(ns, lease, id), Options{
		Logger:     testLogger(tb, id),
		Registerer: prometheus.NewRegistry(),
		RESTConfig: rc,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return run(tb, id, e), e
}

func getLease(tb testing.TB, srv *kubetest.Server, ns, name string) *coordinationv1.Lease {
	tb.Helper()
	l, err := srv.Admin(tb).CoordinationV1().Leases(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		tb.Fatalf("get lease %s/%s: %v", ns, name, err)
	}
	return l
}

// leaseHolder returns the lease's holder, "" if it has none or does not
// exist yet.
func leaseHolder(tb testing.TB, srv *kubetest.Server, ns, name string) string {
	tb.Helper()
	l, err := srv.Admin(tb).CoordinationV1().Leases(ns).Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return ""
	}
	if err != nil {
		tb.Fatalf("get lease %s/%s: %v", ns, name, err)
	}
	return holder(l)
}

func holder(l *coordinationv1.Lease) string {
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// TestLeaseHandoverOnStop: of two replicas exactly one leads and keeps the
// lease; when it stops, it releases the lease and the other takes over at
// its next retry instead of waiting for the lease to expire.
func TestLeaseHandoverOnStop(t *testing.T) {
	srv := startServer(t)
	const lease = "handover"
	a, ea := startElector(t, srv.AdminConfig(), "a", lease)
	b, eb := startElector(t, srv.AdminConfig(), "b", lease)
	watchLeaders(t, a, b)
	waitFor(t, 2*testLease, "one of a and b leads", func() bool { return a.leading() || b.leading() })
	leader, follower, el, ef := a, b, ea, eb
	if !leader.leading() {
		leader, follower, el, ef = b, a, eb, ea
	}

	first := el.lock.lastRenew()
	time.Sleep(2 * testLease)
	if !leader.leading() || follower.leading() || len(follower.allTerms()) != 0 {
		t.Fatalf("leadership moved while %s renewed", leader.id)
	}
	if renewed := el.lock.lastRenew().Sub(first); renewed < testLease {
		t.Errorf("%s renewed only %v after acquiring, over %v", leader.id, renewed, 2*testLease)
	}
	if h := holder(getLease(t, srv, testNamespace, lease)); h != leader.id {
		t.Fatalf("lease holder = %q, want %q", h, leader.id)
	}

	leader.stop()
	stopped := time.Now()
	if h := holder(getLease(t, srv, testNamespace, lease)); h != "" && h != follower.id {
		t.Errorf("lease holder after %s stopped = %q, want released", leader.id, h)
	}
	term := follower.termStarted(t, 1, testLease)
	takeover := term.start.Sub(stopped)
	// Without the release it would wait for the lease to expire (3s).
	bound := time.Duration((1+testJitter)*float64(testRetry)) + time.Second
	t.Logf("%s took over %v after %s stopped", follower.id, takeover, leader.id)
	if takeover > bound {
		t.Errorf("takeover took %v, want at most %v (one jittered retry)", takeover, bound)
	}
	assertNoOverlap(t, a, b)
	for _, m := range []struct {
		e                   *Elector
		leader, transitions float64
	}{{el, 0, 2}, {ef, 1, 1}} {
		if got := testutil.ToFloat64(m.e.metrics.leader); got != m.leader {
			t.Errorf("%s: statussync_leader = %v, want %v", m.e.cfg.Identity, got, m.leader)
		}
		if got := testutil.ToFloat64(m.e.metrics.transitions); got != m.transitions {
			t.Errorf("%s: statussync_leader_transitions_total = %v, want %v", m.e.cfg.Identity, got, m.transitions)
		}
	}
}

// TestLeaseTakeoverAfterKill: a leader killed with SIGKILL releases
// nothing; the other replica takes over once the lease has expired, counted
// from the dead leader's last renew.
func TestLeaseTakeoverAfterKill(t *testing.T) {
	srv := startServer(t)
	const lease = "kill"
	child, lines := startChild(t, srv, lease, "child")
	waitFor(t, 2*testLease, "child leads", func() bool {
		return leaseHolder(t, srv, testNamespace, lease) == "child"
	})
	if line := <-lines; line != "leading" {
		t.Fatalf("child printed %q, want leading", line)
	}

	renewedBefore := getLease(t, srv, testNamespace, lease).Spec.RenewTime.Time
	b, _ := startElector(t, srv.AdminConfig(), "b", lease)
	// b must leave a lease alone while its holder renews it.
	time.Sleep(testLease + 2*testRetry)
	if len(b.allTerms()) != 0 {
		t.Fatal("b took the lease while child renewed it")
	}

	if err := child.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	killed := time.Now()
	l := getLease(t, srv, testNamespace, lease)
	if holder(l) != "child" {
		t.Fatalf("lease holder after kill = %q, want child (a killed leader releases nothing)", holder(l))
	}
	lastRenew := l.Spec.RenewTime.Time
	if !lastRenew.After(renewedBefore) {
		t.Errorf("child's last renew %v is not after %v: it did not renew while b waited", lastRenew, renewedBefore)
	}

	term := b.termStarted(t, 1, 2*testLease+5*time.Second)
	after := term.start.Sub(lastRenew)
	// b counts the lease from when it saw the record change. It compares
	// records with whole seconds, so it may have started counting at an
	// earlier renew in the same second, but not before that second began.
	lower := lastRenew.Truncate(time.Second).Add(testLease)
	// It sees the last renew at most one jittered retry after it was
	// written, and acquires at its first retry after expiry.
	upper := lastRenew.Add(testLease + time.Duration(2*(1+testJitter)*float64(testRetry)) + time.Second)
	t.Logf("b led %v after child's last renew, %v after the kill", after, term.start.Sub(killed))
	if term.start.Before(lower) || term.start.After(upper) {
		t.Errorf("b led %v after child's last renew, want from %v to %v after it",
			after, lower.Sub(lastRenew), upper.Sub(lastRenew))
	}
}

// startChild runs an Elector for lease in a child process (this test
// binary, see TestMain) so that it can be killed; lines carries what it
// prints.
func startChild(tb testing.TB, srv *kubetest.Server, lease, id string) (*exec.Cmd, <-chan string) {
	tb.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(),
		envChild+"="+id,
		envChildURL+"="+srv.URL,
		envChildCA+"="+srv.CAFile,
		envChildToken+"="+kubetest.AdminToken,
		envChildNS+"="+testNamespace,
		envChildLease+"="+lease,
	)
	stderr := filepath.Join(tb.TempDir(), "child.log")
	f, err := os.Create(stderr)
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = f
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.SysProcAttr = kubetest.SysProcAttr()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = f.Close()
		if tb.Failed() {
			data, _ := os.ReadFile(stderr)
			tb.Logf("child stderr:\n%s", data)
		}
	})
	return cmd, lines
}

// TestPartitionedLeaderStopsBeforeLeaseExpires cuts the leader off from the
// API server with a proxy in between: it must stop leading RenewDeadline
// after its last renew, before its lease expires and before the other
// replica takes over. When the network heals, the other replica keeps
// leading and the old leader follows.
func TestPartitionedLeaderStopsBeforeLeaseExpires(t *testing.T) {
	srv := startServer(t)
	tests := []struct {
		name string
		mode kubetest.Mode
	}{
		{name: "connections refused", mode: kubetest.Reset},
		{name: "packets dropped", mode: kubetest.Blackhole},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lease := "partition-" + string(rune('a'+i))
			proxy := kubetest.NewProxy(t, srv.Host())
			a, ea := startElector(t, srv.ConfigVia(proxy.Addr(), kubetest.AdminToken), "a", lease)
			a.termStarted(t, 1, 2*testLease)
			b, _ := startElector(t, srv.AdminConfig(), "b", lease)
			watchLeaders(t, a, b)
			time.Sleep(3 * testRetry)

			cut := time.Now()
			proxy.Set(tt.mode)
			termA := a.termEnded(t, 1, testLease+time.Second)
			last, visible := ea.lock.lastRenew(), ea.lock.visibleSince()
			if got, want := testutil.ToFloat64(ea.metrics.lastRenew), float64(last.UnixNano())/1e9; got != want {
				t.Errorf("statussync_leader_last_renew_timestamp_seconds = %v, want %v", got, want)
			}
			stopAfter := termA.end.Sub(visible)
			t.Logf("a stopped %v after the cut, %v after the renew b could last see started (%v after its last renew)",
				termA.end.Sub(cut), stopAfter, termA.end.Sub(last))
			if stopAfter > testRenew+timerSlack {
				t.Errorf("a stopped %v after its last visible renew, want within %v of the renew deadline %v", stopAfter, timerSlack, testRenew)
			}

			termB := b.termStarted(t, 1, testLease+5*time.Second)
			t.Logf("b led %v after a's last visible renew, %v after a stopped", termB.start.Sub(visible), termB.start.Sub(termA.end))
			if termB.start.Sub(visible) < testLease {
				t.Errorf("b led %v after a's last visible renew, before the lease duration %v", termB.start.Sub(visible), testLease)
			}
			assertNoOverlap(t, a, b)

			// Heal: a reaches the API server again and finds b leading.
			proxy.Set(kubetest.Forward)
			time.Sleep(2 * testLease)
			if ea.IsLeader() || len(a.allTerms()) != 1 || !b.leading() || len(b.allTerms()) != 1 {
				t.Fatalf("after healing: a leading %v (%d terms), b leading %v (%d terms); want b alone, unchanged",
					ea.IsLeader(), len(a.allTerms()), b.leading(), len(b.allTerms()))
			}
			if h := holder(getLease(t, srv, testNamespace, lease)); h != "b" {
				t.Errorf("lease holder = %q, want b", h)
			}
			// a is back in the election, not stuck: it takes over when b
			// steps down.
			b.stop()
			a.termStarted(t, 2, testLease)
			assertNoOverlap(t, a, b)
		})
	}
}

// TestRoleIsEnough: a service account bound only to RequiredRules in its
// namespace can lead, renew and release, and can do nothing else: not in
// its namespace, not in another.
func TestRoleIsEnough(t *testing.T) {
	srv := startServer(t)
	const other = "elsewhere"
	srv.CreateNamespace(t, other)
	ctx := context.Background()
	admin := srv.Admin(t)
	token := srv.ServiceAccountToken(t, testNamespace, "statussync")
	if _, err := admin.RbacV1().Roles(testNamespace).Create(ctx, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "statussync-leader-election"},
		Rules:      RequiredRules(),
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RbacV1().RoleBindings(testNamespace).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "statussync-leader-election"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "statussync", Namespace: testNamespace}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "statussync-leader-election"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sa := srv.Config(token)

	const lease = "statussync"
	c, e := startElector(t, sa, "pod-0", lease)
	c.termStarted(t, 1, 2*testLease)
	acquired := e.lock.lastRenew()
	waitFor(t, 3*testRetry, "pod-0 renews", func() bool { return e.lock.lastRenew().After(acquired) })
	c.stop()
	if h := holder(getLease(t, srv, testNamespace, lease)); h != "" {
		t.Errorf("lease holder after stop = %q, want released", h)
	}

	cs, err := kubernetes.NewForConfig(sa)
	if err != nil {
		t.Fatal(err)
	}
	leases := cs.CoordinationV1().Leases(testNamespace)
	newLease := func(name string) *coordinationv1.Lease {
		return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name}}
	}
	tests := []struct {
		name    string
		call    func() error
		allowed bool
	}{
		{"get own lease", func() error { _, err := leases.Get(ctx, lease, metav1.GetOptions{}); return err }, true},
		{"create lease", func() error { _, err := leases.Create(ctx, newLease("second"), metav1.CreateOptions{}); return err }, true},
		{"list leases", func() error { _, err := leases.List(ctx, metav1.ListOptions{}); return err }, false},
		{"watch leases", func() error {
			w, err := leases.Watch(ctx, metav1.ListOptions{})
			if err == nil {
				w.Stop()
			}
			return err
		}, false},
		{"patch lease", func() error {
			_, err := leases.Patch(ctx, lease, types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
			return err
		}, false},
		{"delete lease", func() error { return leases.Delete(ctx, lease, metav1.DeleteOptions{}) }, false},
		{"get lease elsewhere", func() error {
			_, err := cs.CoordinationV1().Leases(other).Get(ctx, lease, metav1.GetOptions{})
			return err
		}, false},
		{"create lease elsewhere", func() error {
			_, err := cs.CoordinationV1().Leases(other).Create(ctx, newLease(lease), metav1.CreateOptions{})
			return err
		}, false},
		{"get config map", func() error {
			_, err := cs.CoreV1().ConfigMaps(testNamespace).Get(ctx, "x", metav1.GetOptions{})
			return err
		}, false},
		{"create event", func() error {
			_, err := cs.CoreV1().Events(testNamespace).Create(ctx, &corev1.Event{
				ObjectMeta:     metav1.ObjectMeta{Name: "x"},
				InvolvedObject: corev1.ObjectReference{Kind: "Lease", Namespace: testNamespace, Name: lease},
			}, metav1.CreateOptions{})
			return err
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			switch {
			case tt.allowed && err != nil:
				t.Errorf("want allowed, got %v", err)
			case !tt.allowed && !apierrors.IsForbidden(err):
				t.Errorf("want forbidden, got %v", err)
			}
		})
	}

	t.Run("no leading elsewhere", func(t *testing.T) {
		c, _ := startElectorIn(t, sa, other, "pod-0", lease)
		time.Sleep(testLease)
		if len(c.allTerms()) != 0 {
			t.Error("led with a lease in a namespace the Role does not cover")
		}
		_, err := admin.CoordinationV1().Leases(other).Get(ctx, lease, metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			t.Errorf("lease in %s: want not found, got %v", other, err)
		}
	})
}
