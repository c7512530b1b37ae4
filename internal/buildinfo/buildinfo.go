// Package buildinfo holds the version stamped into the binary at build time:
//
//	go build -ldflags "-X github.com/statussync/statussync/internal/buildinfo.Version=v1.2.3
//	  -X github.com/statussync/statussync/internal/buildinfo.Revision=$(git rev-parse HEAD)"
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Stamped at build time with -ldflags -X; see the package doc.
var (
	Version   = "dev"
	Revision  = ""
	BuildDate = ""
)

// Info is the build's identity.
type Info struct {
	Version, Revision, BuildDate, GoVersion string
}

// Get returns the stamped values, falling back to the VCS revision the Go
// toolchain records when none was stamped.
func Get() Info {
	i := Info{Version: Version, Revision: Revision, BuildDate: BuildDate, GoVersion: runtime.Version()}
	if i.Revision == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					i.Revision = s.Value
				}
			}
		}
	}
	if i.Revision == "" {
		i.Revision = "unknown"
	}
	return i
}
