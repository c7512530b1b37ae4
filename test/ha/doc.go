// Package ha holds statussync's two-process HA acceptance tests (issue #9).
// It has no code of its own: its tests build the statussync binary once,
// run two replicas of it against a real kube-apiserver and etcd (package
// internal/ha/kubetest; the tests skip without them, or fail with
// KUBE_TESTENV_REQUIRED=1), one Cachet fake and a local target whose health
// the test controls, and then kill or cut off the leader.
//
// Every replica has its own Cachet token, so the fake's request log names
// the replica behind each request, and its own kubeconfig, which reaches the
// API server through its own kubetest.Proxy, so that one replica can be cut
// off. Both authenticate as one service account bound only to the Role in
// deploy/kubernetes/role.yaml.
//
// The central check, checkRequests (run when each test ends), holds each replica's requests to
// Cachet against its leadership terms as its own logs record them: a
// replica talks to Cachet only while it leads (allowing a request already
// on the wire when its term ended), and never while the other replica leads.
//
// Timings are compressed as in internal/ha's tests: a 3s lease, 2s renew
// deadline and 500ms retry period; checks every 100ms with two failures or
// successes to decide.
package ha
