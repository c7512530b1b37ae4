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
//   - its own watchdog: RenewDeadline after the start of the last successful
//     acquire or renew write.
//
// The watchdog is what makes the bound hold. client-go alone does not: it
// starts each renew window RetryPeriod after the previous success, so it can
// notice a failure as late as RetryPeriod+RenewDeadline after the last renew,
// and with ReleaseOnCancel it cancels the leader's context only after its
// release attempt, which may block for another RenewDeadline while the API
// server is unreachable.
//
// Another replica can only take the lease once it has seen the same Lease
// record unchanged for the lease duration, counted from when it observed the
// record, which is after the write reached the API server and so after the
// write started. client-go stores the duration in whole seconds, so the
// effective lease duration is LeaseDuration truncated to seconds, and New
// requires RenewDeadline to be shorter than that. Hence a leader cut off from
// the API server stops at most RenewDeadline after its last renew started,
// which is at least (effective LeaseDuration - RenewDeadline) before any
// other replica can lead. With client-go's defaults (15 s, 10 s, 2 s) the
// margin is 5 s. The measure assumes the replicas' clocks tick at the same
// rate, as client-go does; their wall clocks need not agree.
//
// Writes already in flight when the context is cancelled are the caller's to
// bound: use the leader context (or one derived from it) for every request to
// Cachet and ClouDNS so that cancellation aborts them.
package ha
