package main

import (
	"fmt"
	"io"

	"github.com/statussync/statussync/config"
)

// checkChecksFile is `statussync check`'s part for cloudns.checks_file: the
// file must be valid (environment variables are not needed here), and every
// cloudns monitor that selects its check by name should name a check the
// file declares, since the file is what creates it. A missing declaration is
// a warning: the check may be managed by hand. It returns exitError when the
// file is invalid.
func checkChecksFile(cfg *config.Config, stderr io.Writer) int {
	if cfg.CloudNS.ChecksFile == "" {
		return exitOK
	}
	f, err := loadChecksFile(cfg.CloudNS.ChecksFile, nil, "", false)
	if err != nil {
		_, _ = fmt.Fprint(stderr, err)
		return exitError
	}
	for i, m := range cfg.Monitors {
		if m.CloudNS == nil || m.CloudNS.CheckName == "" || f.Has(m.CloudNS.CheckName) {
			continue
		}
		p := config.Problem{
			Path:   fmt.Sprintf("monitors[%d].cloudns.check_name", i),
			Object: fmt.Sprintf("monitor %q", m.Name),
			Msg:    fmt.Sprintf("check %q is not declared in the checks file %s (cloudns.checks_file)", m.CloudNS.CheckName, cfg.CloudNS.ChecksFile),
		}
		_, _ = fmt.Fprintf(stderr, "warning: %s\n", p.Error())
	}
	return exitOK
}
