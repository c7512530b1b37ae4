// Package config loads, validates and defaults statussync's configuration.
//
// Layers, lowest first: the built-in defaults (Default), the YAML file, then
// STATUSSYNC_ environment variables ("__" separates levels, so
// STATUSSYNC_CACHET__URL sets cachet.url), then secret files (token_file,
// password_file), which are read on every load and so on every reload.
//
// Loading is strict: an unknown key is an error naming its full path, and
// every problem is reported at once, each naming the key path and the
// monitor or component it belongs to. Everything that can be compiled
// (regexps, URLs, cron specs, templates, TLS files) is compiled at load, so
// nothing fails for configuration reasons at run time.
package config

import (
	"time"

	"github.com/robfig/cron/v3"
)

// Config is the whole statussync configuration.
type Config struct {
	Cachet     CachetConfig    `koanf:"cachet"`
	CloudNS    CloudNSConfig   `koanf:"cloudns"`
	Defaults   MonitorDefaults `koanf:"defaults"`
	Monitors   []MonitorSpec   `koanf:"monitors"`
	Components []ComponentSpec `koanf:"components"`
	HA         HAConfig        `koanf:"ha"`
	// Connectivity is the self-connectivity guard.
	Connectivity ConnectivityConfig `koanf:"connectivity"`

	// Checksum identifies the loaded configuration (file, environment and
	// secret files); a reload with an unchanged checksum is skipped.
	Checksum string `koanf:"-"`
	// IgnoredEnv names the STATUSSYNC_ variables Load skipped because
	// Kubernetes injects them for a Service (service links), for a debug
	// note; they are never configuration.
	IgnoredEnv []string `koanf:"-"`

	// rawKeys are the key paths the loaded layers set, list items
	// included ("monitors[0].failures_before_down"), so that the defaults
	// pass can tell an explicit 0 from an unset key; nil for a Config
	// built by hand. Load drops them once validated (at 10,000 monitors
	// they were ~6 MB) and keeps only explicitZero: the keys the defaults
	// pass found set to their zero value, which is all that validating
	// the loaded Config again needs to reach the same answers.
	rawKeys      map[string]bool
	explicitZero map[string]bool
}

// CachetConfig says where the status page is and how to reach it. With no
// URL, statussync runs in dry-run mode: it decides and logs, but writes
// nothing.
type CachetConfig struct {
	// URL is the API base including any path prefix, e.g.
	// https://status.example.org/api.
	URL       string        `koanf:"url"`
	Token     Secret        `koanf:"token"`
	TokenFile string        `koanf:"token_file"`
	Timeout   time.Duration `koanf:"timeout"`
	// RateLimit is in requests per second; Cachet allows 300 per minute.
	RateLimit float64   `koanf:"rate_limit"`
	TLS       TLSConfig `koanf:"tls"`
	// DryRun decides and logs every change but writes nothing, even with a URL.
	DryRun bool `koanf:"dry_run"`
	// ResyncInterval is how often the reconciler re-reads Cachet's state
	// even when nothing changed, to repair drift.
	ResyncInterval time.Duration `koanf:"resync_interval"`
	// RespectManualChanges leaves a status a person set by hand since
	// statussync's last write alone until statussync's own desired state
	// changes.
	RespectManualChanges bool `koanf:"respect_manual_changes"`
	// ManualOverrideMax bounds how long such a status is respected,
	// counted from the component's updated_at in Cachet; then the desired
	// status is written again. 0 respects it until the desired state
	// changes.
	ManualOverrideMax time.Duration `koanf:"manual_override_max"`
	// Backoff bounds the delay between reconcile attempts while Cachet
	// fails (it doubles from Min up to Max).
	Backoff BackoffConfig `koanf:"backoff"`
	// Timezone is Cachet's APP_TIMEZONE (an IANA name, default UTC): Cachet
	// renders timestamps without an offset, in that zone.
	Timezone string `koanf:"timezone"`

	location *time.Location
	// tokenFromFile: Token was read from TokenFile (not set inline).
	tokenFromFile bool
}

// BackoffConfig bounds an exponential backoff.
type BackoffConfig struct {
	Min time.Duration `koanf:"min"`
	Max time.Duration `koanf:"max"`
}

// Location is Timezone, loaded at validation.
func (c CachetConfig) Location() *time.Location {
	if c.location == nil {
		return time.UTC
	}
	return c.location
}

// Enabled reports whether statussync writes to Cachet.
func (c CachetConfig) Enabled() bool { return c.URL != "" && !c.DryRun }

// CloudNSConfig holds the ClouDNS account that cloudns monitors read.
// Exactly one identity (auth_id, sub_auth_id, sub_auth_user) is used.
type CloudNSConfig struct {
	URL          string        `koanf:"url"`
	AuthID       int           `koanf:"auth_id"`
	SubAuthID    int           `koanf:"sub_auth_id"`
	SubAuthUser  string        `koanf:"sub_auth_user"`
	Password     Secret        `koanf:"password"`
	PasswordFile string        `koanf:"password_file"`
	PollInterval time.Duration `koanf:"poll_interval"`
	Timeout      time.Duration `koanf:"timeout"`
	// RateLimit is in requests per second; ClouDNS allows 20 per IP.
	RateLimit float64 `koanf:"rate_limit"`
	// Checks as code (statussync cloudns plan|apply): see cloudnschecks.go.
	ChecksFile                string `koanf:"checks_file"`
	ChecksPrune               bool   `koanf:"checks_prune"`
	ChecksDefaultNotification string `koanf:"checks_default_notification"`

	// passwordFromFile: Password was read from PasswordFile.
	passwordFromFile bool
}

// Configured reports whether credentials for ClouDNS are present.
func (c CloudNSConfig) Configured() bool {
	return (c.AuthID != 0 || c.SubAuthID != 0 || c.SubAuthUser != "") && c.Password != ""
}

// MonitorDefaults fill in what a monitor leaves unset.
type MonitorDefaults struct {
	Interval           time.Duration `koanf:"interval"`
	Timeout            time.Duration `koanf:"timeout"`
	FailuresBeforeDown int           `koanf:"failures_before_down"`
	SuccessesBeforeUp  int           `koanf:"successes_before_up"`
}

// Outage is how bad a down monitor is for its component.
type Outage string

// Outage levels.
const (
	OutageMajor   Outage = "major"
	OutagePartial Outage = "partial"
)

// MonitorSpec says how to check one thing. Exactly one kind block (http,
// tcp, dns, cloudns) is set.
type MonitorSpec struct {
	Name string `koanf:"name"`
	// Interval or Schedule (a cron spec, with @every/@hourly descriptors).
	Interval           time.Duration `koanf:"interval"`
	Schedule           string        `koanf:"schedule"`
	Timeout            time.Duration `koanf:"timeout"`
	FailuresBeforeDown int           `koanf:"failures_before_down"`
	SuccessesBeforeUp  int           `koanf:"successes_before_up"`
	// DegradedLatency turns a successful but slower result into degraded.
	DegradedLatency time.Duration `koanf:"degraded_latency"`
	// Outage is what a down result means for the component: major (default)
	// or partial.
	Outage Outage `koanf:"outage"`
	// Labels are added to this monitor's probe metrics.
	Labels map[string]string `koanf:"labels"`
	// Metric pushes this monitor's latency to a Cachet metric.
	Metric *MetricSpec `koanf:"metric"`

	HTTP    *HTTPProbe    `koanf:"http"`
	TCP     *TCPProbe     `koanf:"tcp"`
	DNS     *DNSProbe     `koanf:"dns"`
	CloudNS *CloudNSProbe `koanf:"cloudns"`

	// Kind is the name of the kind block that is set; filled by validation.
	Kind string `koanf:"-"`
	// Cron is the parsed Schedule, or nil when Interval is used.
	Cron cron.Schedule `koanf:"-"`
	// rawKind is the kind block the file named, set by Load; a block that
	// failed to decode is nil but was not forgotten by the user.
	rawKind string
	// Fingerprint changes whenever anything that shapes this monitor's
	// checks changes: its kind block, schedule, timeout, degraded latency
	// and labels (its own or inherited) and the contents of the files it
	// names. Thresholds, outage level and metric do not shape a check (the
	// engine reads them at each result), so changing them keeps the
	// monitor's instance and state across a reload.
	Fingerprint string `koanf:"-"`
	// filesDigest hashes the contents of the files this monitor names.
	filesDigest string
}

// kindValidator is implemented by every kind block: it checks and compiles
// the block, reporting problems under path (e.g. "monitors[0].http").
type kindValidator interface {
	validate(p *problems, path, object string)
	// kindBlock marks the type as a monitor kind's block (MetricSpec, say,
	// validates too but is not one); the kind table's test relies on it.
	kindBlock()
}

// Rule names how a component's monitors combine into its state.
type Rule string

// Aggregation rules.
const (
	RuleWorst  Rule = "worst"
	RuleQuorum Rule = "quorum"
	RuleAnyUp  Rule = "any_up"
)

// ComponentSpec is what the status page shows: one Cachet component built
// from one or more monitors.
type ComponentSpec struct {
	// Name matches the Cachet component by name when CachetID is 0.
	Name     string   `koanf:"name"`
	CachetID int      `koanf:"cachet_id"`
	Monitors []string `koanf:"monitors"`
	// Rule is worst (default), quorum or any_up.
	Rule Rule `koanf:"rule"`
	// Quorum is, with rule quorum, how many monitors must be down for the
	// component to be down.
	Quorum int `koanf:"quorum"`
	// StatusMap overrides what a state means on the page for this
	// component, e.g. {major_outage: partial_outage}.
	StatusMap map[string]string `koanf:"status_map"`
	// Incidents opts the component into incidents.
	Incidents IncidentSpec `koanf:"incidents"`
}
