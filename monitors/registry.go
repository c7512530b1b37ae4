package monitors

import "github.com/statussync/statussync/config"

// constructor builds one kind of monitor from its spec.
type constructor func(spec config.MonitorSpec, deps Deps) (Monitor, error)

// registry maps each kind in config.Kinds (read off config.MonitorSpec's
// kind blocks) to its constructor. It is an explicit map, not init()
// self-registration, so the constructors are visible in one place;
// TestRegistryMatchesConfigKinds keeps it equal to config.Kinds.
var registry = map[string]constructor{
	"cloudns": newCloudNSMonitor,
	"dns":     newDNSMonitor,
	"http":    newHTTPMonitor,
	"tcp":     newTCPMonitor,
}
