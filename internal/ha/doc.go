// Package ha decides which statussync replica writes to Cachet.
//
// Every replica probes and serves metrics; only the leader reconciles Cachet
// and polls ClouDNS. Leadership is a coordination.k8s.io/v1 Lease held through
// k8s.io/client-go's leaderelection with a LeaseLock and ReleaseOnCancel. When
// HA is disabled, [Standalone] is always the leader, so the caller has one code
// path: [Leadership.Run] with [Callbacks].
//
// # Stop writing before the lease can move
//
// The leader's writes are bounded by the context handed to
// [Callbacks.OnStartedLeading]. The Elector cancels that context at the
// earlier of
//
//   - client-go giving up the lease (a renew loop that failed for
//     RenewDeadline), and
//   - its own watchdog: RenewDeadline after the followers last saw the lease
//     renewed (below).
//
// The watchdog is what makes the bound hold. client-go alone does not: it
// starts each renew window RetryPeriod after the previous success, so it can
// notice a failure as late as RetryPeriod+RenewDeadline after the last renew,
// and with ReleaseOnCancel it cancels the leader's context only after its
// release attempt, which may block for another RenewDeadline while the API
// server is unreachable (4.5 s after the last renew, for a 3 s lease, in
// TestElectorStopsAtRenewDeadline without the watchdog).
//
// A follower may take the lease once it has seen the Lease record unchanged
// for the lease duration, counted on its own clock from when it saw the
// record change: after the write that changed it reached the API server, so
// after that write started. It compares records as JSON, where times have
// whole seconds, so a renewal in the same second as the one before looks
// unchanged and does not restart its count. The watchdog therefore counts
// from the start of the first write that left the record as followers now
// read it. client-go also stores the lease duration in whole seconds, so the
// effective duration is LeaseDuration truncated to seconds, and New requires
// RenewDeadline to be shorter than that.
//
// Hence a leader cut off from the API server stops at most RenewDeadline
// after the renew its followers last saw started, at least (effective
// LeaseDuration - RenewDeadline) before any other replica can lead: 5 s with
// client-go's defaults (15 s, 10 s, 2 s). Only the clocks' rates need to
// agree, not their readings. Because a follower may see a renewal only once
// a second, New also requires RenewDeadline to exceed RetryPeriod plus one
// second, so that a healthy leader never steps down.
//
// Writes already in flight when the context is cancelled are the caller's to
// bound: use the leader context (or one derived from it) for every request to
// Cachet and ClouDNS so that cancellation aborts them.
package ha
