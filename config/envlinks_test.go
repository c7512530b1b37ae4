package config

import (
	"strings"
	"testing"
)

// kubeletServiceLinks are the variables the kubelet injects into a pod for
// a Service named "statussync" with one named TCP port 9470 ("http"), as in
// deploy/kubernetes/service.yaml, plus a second Service "statussync-web"
// with an unnamed UDP port: Docker-link style and Kubernetes style.
var kubeletServiceLinks = []string{
	"STATUSSYNC_SERVICE_HOST=10.96.12.34",
	"STATUSSYNC_SERVICE_PORT=9470",
	"STATUSSYNC_SERVICE_PORT_HTTP=9470",
	"STATUSSYNC_PORT=tcp://10.96.12.34:9470",
	"STATUSSYNC_PORT_9470_TCP=tcp://10.96.12.34:9470",
	"STATUSSYNC_PORT_9470_TCP_PROTO=tcp",
	"STATUSSYNC_PORT_9470_TCP_PORT=9470",
	"STATUSSYNC_PORT_9470_TCP_ADDR=10.96.12.34",
	"STATUSSYNC_WEB_SERVICE_HOST=10.96.0.9",
	"STATUSSYNC_WEB_SERVICE_PORT=53",
	"STATUSSYNC_WEB_PORT=udp://10.96.0.9:53",
	"STATUSSYNC_WEB_PORT_53_UDP=udp://10.96.0.9:53",
	"STATUSSYNC_WEB_PORT_53_UDP_PROTO=udp",
	"STATUSSYNC_WEB_PORT_53_UDP_PORT=53",
	"STATUSSYNC_WEB_PORT_53_UDP_ADDR=10.96.0.9",
	"KUBERNETES_SERVICE_HOST=10.96.0.1",
	"KUBERNETES_PORT_443_TCP_ADDR=10.96.0.1",
}

// Issue #15: the shipped Deployment crash-looped because strict env loading
// took the service links Kubernetes injects for the Service "statussync" as
// unknown keys. They are skipped (and named for a debug note), while a real
// typo in an override is still an error.
func TestServiceLinksAreNotKeys(t *testing.T) {
	env := append([]string{"STATUSSYNC_CACHET__TIMEOUT=7s"}, kubeletServiceLinks...)
	cfg, err := Load("", env)
	if err != nil {
		t.Fatalf("service links rejected: %v", err)
	}
	if cfg.Cachet.Timeout.String() != "7s" {
		t.Errorf("override beside the links lost: cachet.timeout = %v", cfg.Cachet.Timeout)
	}
	var want int
	for _, kv := range kubeletServiceLinks {
		if strings.HasPrefix(kv, EnvPrefix) {
			want++
		}
	}
	if len(cfg.IgnoredEnv) != want {
		t.Errorf("IgnoredEnv = %v, want the %d STATUSSYNC_ links", cfg.IgnoredEnv, want)
	}
	// The links' values (the Service IP) are not configuration.
	plain, err := Load("", []string{"STATUSSYNC_CACHET__TIMEOUT=7s"})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Checksum != cfg.Checksum {
		t.Error("service links changed the checksum: a new Service IP would trigger a reload")
	}

	for _, typo := range []string{
		"STATUSSYNC_CACHET_URL=https://status.example.org/api", // one underscore
		"STATUSSYNC_CACHET__PORT=80",                           // nested: not a link
		"STATUSSYNC_CACHET__SERVICE_HOST=x",
		"STATUSSYNC_SERVICEHOST=x",
		"STATUSSYNC_PORT_9470=x", // no protocol: not what Kubernetes writes
	} {
		_, err := Load("", append([]string{typo}, kubeletServiceLinks...))
		name, _, _ := strings.Cut(typo, "=")
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: want an unknown key error naming it, got %v", name, err)
		}
	}
}
