package ha

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/statussync/statussync/cachet/cachettest"
	"github.com/statussync/statussync/internal/ha/kubetest"
)

// The replicas' election timings, as in internal/ha's tests: the 1s
// between renew deadline and lease duration is the margin every handover
// assertion leans on.
const (
	leaseDuration = 3 * time.Second
	renewDeadline = 2 * time.Second
	retryPeriod   = 500 * time.Millisecond
	jitterFactor  = 1.2 // client-go's leaderelection.JitterFactor
	// timerSlack is how late a loaded machine may run a replica's timers.
	timerSlack = 250 * time.Millisecond
	// readInFlight is how long after a term ended a Cachet read that the
	// replica had sent before may still reach the fake's handler (a resync
	// may be under way when a term ends). Writes get only logTruncation:
	// in these tests no write is due when a term ends (the leader is
	// killed, or cut off with the page up to date), so a write the fake
	// receives after the end was sent after it.
	readInFlight = 250 * time.Millisecond
	// logTruncation is the precision of slog's timestamps.
	logTruncation = time.Millisecond
	// leaseName is the lease deploy/kubernetes/role.yaml grants.
	leaseName = "statussync"
)

// takeoverBound is how long after the leader's last renew the follower
// takes over at the latest when the leader is gone: it sees that renew
// within one jittered retry period, counts the lease duration from then,
// and acquires at its first jittered retry after that; plus a second for a
// loaded machine.
const takeoverBound = leaseDuration + time.Duration(2*(1+jitterFactor)*float64(retryPeriod)) + time.Second

// cluster is what two replicas share: a namespace on the API server with
// statussync's service account and leader-election Role as deployed, one
// Cachet fake that knows both replicas' tokens, one target, and one
// configuration file.
type cluster struct {
	srv       *kubetest.Server
	ns        string
	saToken   string
	dir       string
	cachet    *cachettest.Server
	component int // the Cachet component's id
	target    *target
	cfgPath   string
}

// Each replica's Cachet token, so that the fake's request log tells them
// apart.
const (
	tokenA = "replica-a-cachet-token"
	tokenB = "replica-b-cachet-token"
)

// newCluster prepares namespace ns on srv and everything the replicas
// share.
func newCluster(tb testing.TB, srv *kubetest.Server, ns string) *cluster {
	tb.Helper()
	c := &cluster{srv: srv, ns: ns, dir: tb.TempDir()}
	srv.CreateNamespace(tb, ns)
	applyDeployRBAC(tb, srv, ns)
	c.saToken = srv.ServiceAccountToken(tb, ns, "statussync")

	c.cachet = cachettest.New(tb, cachettest.WithToken(tokenA, "*"), cachettest.WithToken(tokenB, "*"))
	c.component = c.cachet.AddComponent("Web", cachettest.StatusOperational).ID
	c.target = newTarget(tb)
	c.cfgPath = filepath.Join(c.dir, "statussync.yml")
	writeFile(tb, c.cfgPath, fmt.Sprintf(`
ha:
  enabled: true
  lease_name: %s
  lease_namespace: %s
  lease_duration: %v
  renew_deadline: %v
  retry_period: %v
cachet: {url: %q, timeout: 1s, resync_interval: 5s, backoff: {min: 50ms, max: 400ms}}
defaults: {interval: 100ms, timeout: 80ms, failures_before_down: 2, successes_before_up: 2}
monitors:
  - {name: web, http: {url: %q}}
components:
  - {name: Web, cachet_id: %d, monitors: [web], incidents: {enabled: true}}
`, leaseName, ns, leaseDuration, renewDeadline, retryPeriod, c.cachet.URL(), c.target.URL, c.component))
	return c
}

// applyDeployRBAC creates the service account, Role and RoleBinding of
// deploy/kubernetes in ns, as kustomize would: the replicas lead with
// exactly the permissions a deployment grants them.
func applyDeployRBAC(tb testing.TB, srv *kubetest.Server, ns string) {
	tb.Helper()
	ctx := context.Background()
	admin := srv.Admin(tb)
	for _, file := range []string{"serviceaccount.yaml", "role.yaml", "rolebinding.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "deploy", "kubernetes", file))
		if err != nil {
			tb.Fatal(err)
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(data, nil, nil)
		if err != nil {
			tb.Fatalf("decode %s: %v", file, err)
		}
		switch o := obj.(type) {
		case *corev1.ServiceAccount:
			o.Namespace = ns
			_, err = admin.CoreV1().ServiceAccounts(ns).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.Role:
			o.Namespace = ns
			_, err = admin.RbacV1().Roles(ns).Create(ctx, o, metav1.CreateOptions{})
		case *rbacv1.RoleBinding:
			o.Namespace = ns
			for i := range o.Subjects {
				if o.Subjects[i].Kind == rbacv1.ServiceAccountKind {
					o.Subjects[i].Namespace = ns
				}
			}
			_, err = admin.RbacV1().RoleBindings(ns).Create(ctx, o, metav1.CreateOptions{})
		default:
			tb.Fatalf("%s: unexpected %T", file, obj)
		}
		if err != nil {
			tb.Fatalf("create %s in %s: %v", file, ns, err)
		}
	}
}

// start runs a replica whose kubeconfig reaches the API server through a
// proxy of its own, in Forward mode until the test cuts it.
func (c *cluster) start(tb testing.TB, name, cachetToken string) *replica {
	tb.Helper()
	proxy := kubetest.NewProxy(tb, c.srv.Host())
	kubeconfig := filepath.Join(c.dir, name+".kubeconfig")
	writeFile(tb, kubeconfig, fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
  - name: kubetest
    cluster: {server: "https://%s", certificate-authority: %q}
users:
  - name: statussync
    user: {token: %q}
contexts:
  - name: kubetest
    context: {cluster: kubetest, user: statussync, namespace: %s}
current-context: kubetest
`, proxy.Addr(), c.srv.CAFile, c.saToken, c.ns))
	return startReplica(tb, name, c.cfgPath, cachetToken, kubeconfig, proxy)
}

// lease returns the Lease as the API server has it.
func (c *cluster) lease(tb testing.TB) *coordinationv1.Lease {
	tb.Helper()
	l, err := c.srv.Admin(tb).CoordinationV1().Leases(c.ns).Get(context.Background(), leaseName, metav1.GetOptions{})
	if err != nil {
		tb.Fatalf("get lease %s/%s: %v", c.ns, leaseName, err)
	}
	return l
}

func holder(l *coordinationv1.Lease) string {
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

func renewTime(tb testing.TB, l *coordinationv1.Lease) time.Time {
	tb.Helper()
	if l.Spec.RenewTime == nil {
		tb.Fatalf("lease %s has no renew time", l.Name)
	}
	return l.Spec.RenewTime.Time
}

// status is the component's baseline status on the page.
func (c *cluster) status() int {
	comp, _ := c.cachet.Component(c.component)
	return comp.Status
}

// openIncidents counts the incidents that are not fixed.
func (c *cluster) openIncidents() int {
	n := 0
	for _, in := range c.cachet.Incidents() {
		if in.Status != cachettest.IncidentFixed {
			n++
		}
	}
	return n
}

// fixedUpdates counts the "fixed" updates of incident id.
func (c *cluster) fixedUpdates(id int) int {
	n := 0
	for _, u := range c.cachet.IncidentUpdates(id) {
		if u.Status == cachettest.IncidentFixed {
			n++
		}
	}
	return n
}

// pageState describes the page for failure messages.
func (c *cluster) pageState() string {
	var incs []string
	for _, in := range c.cachet.Incidents() {
		incs = append(incs, fmt.Sprintf("#%d status %d", in.ID, in.Status))
	}
	return fmt.Sprintf("component status %d, incidents [%s]", c.status(), strings.Join(incs, ", "))
}

// target is a local HTTP service whose health the test controls.
type target struct {
	*httptest.Server
	down atomic.Bool
}

func newTarget(tb testing.TB) *target {
	tb.Helper()
	t := &target{}
	t.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if t.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_, _ = fmt.Fprintln(w, "ok")
	}))
	tb.Cleanup(t.Close)
	return t
}

func writeFile(tb testing.TB, path, body string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
}

// leaderSample is one round of scraping every replica's /metrics.
type leaderSample struct {
	at time.Time
	// leading per replica, in watch order: 1 or 0 as scraped, -1 when the
	// scrape failed (a killed replica).
	leading []int
}

// leaderWatch scrapes statussync_leader from every replica every 20ms
// until the test ends, and fails the test if two replicas ever reported
// leading in the same round. A round's scrapes are milliseconds apart,
// while a handover leaves a second between one leader stopping and the
// next starting, so a legitimate handover never shows as two leaders.
type leaderWatch struct {
	rs []*replica

	mu      sync.Mutex
	samples []leaderSample
}

func watchLeaders(tb testing.TB, rs ...*replica) *leaderWatch {
	tb.Helper()
	w := &leaderWatch{rs: rs}
	tr := &http.Transport{}
	client := &http.Client{Transport: tr, Timeout: time.Second}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		ticker := time.NewTicker(20 * time.Millisecond)
		defer ticker.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ticker.C:
			}
			s := leaderSample{at: time.Now(), leading: make([]int, len(rs))}
			for i, r := range rs {
				on, err := r.leading(client)
				switch {
				case err != nil:
					s.leading[i] = -1
				case on:
					s.leading[i] = 1
				}
			}
			w.mu.Lock()
			w.samples = append(w.samples, s)
			w.mu.Unlock()
		}
	}()
	tb.Cleanup(func() {
		close(stop)
		<-done
		tr.CloseIdleConnections()
		var both []string
		for _, s := range w.all() {
			if leaders := w.leadersIn(s); len(leaders) > 1 && len(both) < 5 {
				both = append(both, s.at.Format(stamp)+" "+strings.Join(leaders, "+"))
			}
		}
		if len(both) > 0 {
			tb.Errorf("statussync_leader was 1 on more than one replica at once: %v", both)
		}
	})
	return w
}

func (w *leaderWatch) all() []leaderSample {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]leaderSample(nil), w.samples...)
}

func (w *leaderWatch) leadersIn(s leaderSample) []string {
	var out []string
	for i, v := range s.leading {
		if v == 1 {
			out = append(out, w.rs[i].name)
		}
	}
	return out
}

// since returns the samples taken at or after t.
func (w *leaderWatch) since(t time.Time) []leaderSample {
	all := w.all()
	i := sort.Search(len(all), func(i int) bool { return !all[i].at.Before(t) })
	return all[i:]
}

// everLed reports whether r was ever seen leading at or after t.
func (w *leaderWatch) everLed(r *replica, t time.Time) bool {
	for _, s := range w.since(t) {
		for i, v := range s.leading {
			if v == 1 && w.rs[i] == r {
				return true
			}
		}
	}
	return false
}

// awaitLeader waits until the metrics show exactly one leader and returns
// it and the other replica.
func (w *leaderWatch) awaitLeader(tb testing.TB, limit time.Duration) (leader, follower *replica) {
	tb.Helper()
	eventually(tb, limit, "one replica to lead", func() bool {
		all := w.all()
		if len(all) == 0 {
			return false
		}
		last := all[len(all)-1]
		if l := w.leadersIn(last); len(l) == 1 && !containsUnknown(last) {
			for _, r := range w.rs {
				if r.name == l[0] {
					leader = r
				} else {
					follower = r
				}
			}
			return true
		}
		return false
	})
	return leader, follower
}

func containsUnknown(s leaderSample) bool {
	for _, v := range s.leading {
		if v < 0 {
			return true
		}
	}
	return false
}

// auditRequests runs checkRequests on everything the Cachet fake received
// when tb's test ends, however it ends, before the replicas are stopped.
// Call it after starting them.
func auditRequests(tb testing.TB, c *cluster, rs ...*replica) {
	tb.Helper()
	tb.Cleanup(func() { checkRequests(tb, c.cachet.Requests(), rs...) })
}

// checkRequests holds every request the Cachet fake received against the
// replicas' leadership terms (from their logs): each must carry the token
// of a replica that led when the fake received it (a read may also arrive
// up to readInFlight after the term ended, sent before); none may arrive
// while another replica leads; and the terms of different replicas must not
// overlap.
func checkRequests(tb testing.TB, reqs []cachettest.Request, rs ...*replica) {
	tb.Helper()
	terms := map[*replica][]term{}
	var all []term
	for _, r := range rs {
		terms[r] = r.terms()
		all = append(all, terms[r]...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].start.Before(all[j].start) })
	for i := 1; i < len(all); i++ {
		if prev, cur := all[i-1], all[i]; prev.replica != cur.replica && (prev.end.IsZero() || cur.start.Before(prev.end)) {
			tb.Errorf("terms overlap: %v; %v", prev, cur)
		}
	}

	bad := 0
	for _, req := range reqs {
		who := sender(req, rs...)
		desc := fmt.Sprintf("%s %s at %s", req.Method, req.Path, req.Time.Format(stamp))
		if who == nil && cachettest.IsTokenCheck(req) && req.Header.Get("Authorization") == "" {
			// The token check asks once without a token, to tell a core
			// that requires auth from one without (cachet.CheckToken), and
			// then, as this fake requires auth, with the token: that one is
			// audited per token. The tokenless one counts as the leader's
			// of the moment, and must come inside a term.
			who = leaderAt(req.Time, terms)
		}
		if who == nil {
			tb.Errorf("%s carried no replica's token", desc)
			continue
		}
		slack := logTruncation
		if !isWrite(req.Method) {
			slack = readInFlight
		}
		own := false
		for _, tm := range terms[who] {
			if !req.Time.Before(tm.start) && (tm.end.IsZero() || !req.Time.After(tm.end.Add(slack))) {
				own = true
			}
		}
		if !own && bad < 10 {
			bad++
			tb.Errorf("%s sent %s while it did not lead (its terms: %v)", who.name, desc, terms[who])
		}
		for _, r := range rs {
			if r == who {
				continue
			}
			for _, tm := range terms[r] {
				if !req.Time.Before(tm.start) && (tm.end.IsZero() || req.Time.Before(tm.end)) && bad < 10 {
					bad++
					tb.Errorf("%s sent %s while %s led (%v)", who.name, desc, r.name, tm)
				}
			}
		}
	}
	if tb.Failed() {
		tb.Logf("terms: %v", all)
		tb.Logf("Cachet requests:\n%s", requestLog(reqs, rs...))
	}
}

// leaderAt returns the replica whose term holds t, nil if none.
func leaderAt(t time.Time, terms map[*replica][]term) *replica {
	for r, ts := range terms {
		for _, tm := range ts {
			if !t.Before(tm.start) && (tm.end.IsZero() || !t.After(tm.end.Add(logTruncation))) {
				return r
			}
		}
	}
	return nil
}

// sender returns the replica whose token req carried, nil if none.
func sender(req cachettest.Request, rs ...*replica) *replica {
	for _, r := range rs {
		if req.Header.Get("Authorization") == "Bearer "+r.token {
			return r
		}
	}
	return nil
}

// writesBy returns the writes among reqs by replica name.
func writesBy(reqs []cachettest.Request, rs ...*replica) map[string][]cachettest.Request {
	writes := map[string][]cachettest.Request{}
	for _, req := range reqs {
		if r := sender(req, rs...); r != nil && isWrite(req.Method) {
			writes[r.name] = append(writes[r.name], req)
		}
	}
	return writes
}

func isWrite(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// requestLog lists requests with the replica that sent each.
func requestLog(reqs []cachettest.Request, rs ...*replica) string {
	var b strings.Builder
	for _, req := range reqs {
		who := "?"
		if r := sender(req, rs...); r != nil {
			who = r.name
		}
		fmt.Fprintf(&b, "%s %-9s %-6s %s -> %d\n", req.Time.Format(stamp), who, req.Method, req.Path, req.StatusCode)
	}
	return b.String()
}

// writeSummary describes the writes by replica, for the test log.
func writeSummary(writes map[string][]cachettest.Request) string {
	var parts []string
	for _, name := range []string{"replica-a", "replica-b"} {
		var ws []string
		for _, w := range writes[name] {
			ws = append(ws, w.Method+" "+w.Path)
		}
		parts = append(parts, fmt.Sprintf("%s: %d [%s]", name, len(ws), strings.Join(ws, ", ")))
	}
	return strings.Join(parts, "; ")
}

// httpClient returns a client whose connections close when tb's test ends.
func httpClient(tb testing.TB) *http.Client {
	tb.Helper()
	tr := &http.Transport{}
	tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 2 * time.Second}
}
