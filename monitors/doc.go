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
//  2. its config spec: the block type in config/<kind>.go with its
//     validate and kindBlock methods (its defaults, if any, in
//     config/defaults.go), and its field in config.MonitorSpec, whose YAML
//     key is the kind's name. config's kind table is read off those
//     fields, so config.Kinds, validation's one-block rule and the
//     messages listing kinds follow by themselves;
//  3. the constructor's entry in the registry map in registry.go.
//
// TestRegistryMatchesConfigKinds fails until 3 matches 2, and config's
// TestEveryKeyIsDocumented until the kind's keys are in docs/probes.md.
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
