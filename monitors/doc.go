// Package monitors checks things: one file per monitor kind, all behind the
// Monitor interface. A monitor knows how to check one thing and nothing
// about Cachet; turning results into component states is the engine's job.
//
// Adding a kind touches three places:
//
//  1. a new file here, monitors/<kind>.go, with newXMonitor(spec
//     config.MonitorSpec, deps Deps) (Monitor, error), a compile-time
//     assertion var _ Monitor = (*xMonitor)(nil), and <kind>_test.go
//     against a real local server;
//  2. the kind's entry in the registry map in registry.go;
//  3. the kind block in config.MonitorSpec, config.Kinds, and its
//     validate method in config/<kind>.go.
//
// A kind reports its probe metrics by returning them in Result (a sample
// of blackbox-named gauges); the wrapper New adds records them, with
// probe_success, probe_duration_seconds and the check counters. A kind that
// needs a gauge not yet in probeFamilies (metrics.go) adds it there and to
// docs/metrics.md. Configuration keys are documented in docs/probes.md.
//
// Reasons are short and publishable (reasonFor in probe.go maps errors to
// them); Details carry everything else, in reading order, for
// `statussync probe`.
package monitors
