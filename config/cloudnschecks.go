package config

import "github.com/statussync/statussync/internal/checksfile"

// The checks-as-code keys of the cloudns block (docs/cloudns-as-code.md):
//
//   - checks_file: the ClouDNS checks file that `statussync cloudns
//     plan|apply` push to the account, and that `statussync check` compares
//     the cloudns monitors' check names with. Relative paths are relative to
//     the working directory, like password_file. The daemon does not read it.
//   - checks_prune: apply deletes checks the file does not declare (as
//     --prune does).
//   - checks_default_notification: "TYPE:VALUE" or "TYPE:$ENV_VAR", the
//     notification of entries that have no notifications key.
func (c *Config) validateCloudNSChecks(p *problems) {
	if d := c.CloudNS.ChecksDefaultNotification; d != "" {
		if _, err := checksfile.ParseDefaultNotification(d); err != nil {
			p.add("cloudns.checks_default_notification", "", "%v", err)
		}
	}
}
