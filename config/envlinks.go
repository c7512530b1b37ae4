package config

import (
	"regexp"
	"strings"
)

// serviceLink matches the variables Kubernetes injects into every pod for
// every Service in its namespace (unless the pod sets enableServiceLinks:
// false), after the EnvPrefix: a Service named "statussync" (or
// "statussync-x") gives STATUSSYNC_SERVICE_HOST, STATUSSYNC_SERVICE_PORT,
// STATUSSYNC_SERVICE_PORT_<PORTNAME>, STATUSSYNC_PORT and
// STATUSSYNC_PORT_<n>_<PROTO>[_PROTO|_PORT|_ADDR]. Our own keys always
// nest with "__", so a name without it that matches can only be a link.
var serviceLink = regexp.MustCompile(`^([A-Z0-9_]+_)?(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT|PORT_[0-9]+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)$`)

// isServiceLink reports whether the environment variable name (with its
// EnvPrefix) is one Kubernetes injects for a Service, not a key override.
func isServiceLink(name string) bool {
	rest, ok := strings.CutPrefix(name, EnvPrefix)
	if !ok || strings.Contains(rest, "__") {
		return false
	}
	return rest == "SERVICE_HOST" || rest == "SERVICE_PORT" || rest == "PORT" || serviceLink.MatchString(rest)
}
