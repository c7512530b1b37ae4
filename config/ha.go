package config

import "time"

// HAConfig runs statussync as several replicas with one writer, elected
// through a coordination.k8s.io/v1 Lease. Every replica probes and serves
// metrics; only the leader reconciles Cachet and polls ClouDNS.
type HAConfig struct {
	Enabled   bool   `koanf:"enabled"`
	LeaseName string `koanf:"lease_name"`
	// LeaseNamespace defaults to the pod's own namespace, read from the
	// service account mount.
	LeaseNamespace string `koanf:"lease_namespace"`
	// Identity defaults to $POD_NAME, else the host name.
	Identity      string        `koanf:"identity"`
	LeaseDuration time.Duration `koanf:"lease_duration"`
	RenewDeadline time.Duration `koanf:"renew_deadline"`
	RetryPeriod   time.Duration `koanf:"retry_period"`
	// Kubeconfig is for running outside a cluster; in a pod the service
	// account is used.
	Kubeconfig string `koanf:"kubeconfig"`
}

// serviceAccountNamespace is where a pod finds its namespace.
var serviceAccountNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// jitterFactor is client-go leaderelection's JitterFactor: the renew
// deadline must exceed it times the retry period.
const jitterFactor = 1.2

func (h *HAConfig) validate(p *problems) {
	if !h.Enabled {
		return
	}
	if h.LeaseName == "" {
		p.add("ha.lease_name", "", "is required")
	}
	if h.LeaseNamespace == "" {
		p.add("ha.lease_namespace", "", "not set, and not running in a pod (%s unreadable)", serviceAccountNamespace)
	}
	if h.Identity == "" {
		p.add("ha.identity", "", "not set, and neither POD_NAME nor the host name is available")
	}
	switch {
	case h.RetryPeriod <= 0:
		p.add("ha.retry_period", "", "must be positive")
	case float64(h.RenewDeadline) <= jitterFactor*float64(h.RetryPeriod):
		p.add("ha.renew_deadline", "", "%v must be more than %v times retry_period %v", h.RenewDeadline, jitterFactor, h.RetryPeriod)
	case h.RenewDeadline <= h.RetryPeriod+time.Second:
		// The leader stops writing at renew_deadline after its last renew
		// that others can see; renews land on whole seconds in the Lease,
		// so a renew deadline within a second of the retry period would
		// let that moment slip past a renew attempt.
		p.add("ha.renew_deadline", "", "%v must be more than retry_period %v plus 1s", h.RenewDeadline, h.RetryPeriod)
	case h.LeaseDuration.Truncate(time.Second) <= h.RenewDeadline:
		// The Lease stores whole seconds: what other replicas wait is the
		// truncated duration, and it must outlast the renew deadline.
		p.add("ha.lease_duration", "", "%v (%v as the Lease stores it) must be more than renew_deadline %v",
			h.LeaseDuration, h.LeaseDuration.Truncate(time.Second), h.RenewDeadline)
	}
}
