// Package importer turns the configuration of the tools statussync replaces,
// cachet-monitor and the Prometheus blackbox_exporter, into a commented
// statussync configuration.
//
// The importers are pure functions: they take the input files' bytes and
// return the YAML together with a list of warnings. Nothing is dropped
// silently: every input key is either mapped to statussync's configuration
// or reported as a Warning, and each warning also appears as a
// "# WARNING:" comment at the spot in the YAML it concerns. Secrets that
// statussync should read from a file (the Cachet API token) are never copied
// into the output, nor into warnings.
//
// The mapping and its semantic differences are documented for users in
// docs/migration-cachet-monitor.md and docs/migration-blackbox.md.
package importer
