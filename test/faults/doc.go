// Package faults is statussync's fault-injection suite (issue #8). It has no
// code of its own: its tests run the fully wired service (internal/app on
// 127.0.0.1:0) or the built binary against the Cachet and ClouDNS fakes and
// local targets, inject faults, and check that the status page ends up
// right and that nothing was lost, duplicated, leaked or left running.
//
// Every test is bounded in time and runs in CI as part of
// `go test -race ./...`. Real minutes are compressed into seconds by
// scaling every interval together (check interval, client timeout,
// reconcile backoff, resync): the reconciler's behaviour depends on the
// order of events (desires, failed passes, the fault ending), which the
// scaling keeps, not on absolute durations. Each test says what it
// compressed.
package faults
