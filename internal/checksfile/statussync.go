package checksfile

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ImportCheck is one check to mirror on the status page.
type ImportCheck struct {
	Name string
	// ID selects the check by id instead of name when not 0 (used for
	// checks whose name is not unique in an account).
	ID int64
}

// ImportOptions shape the statussync configuration that Import writes.
type ImportOptions struct {
	// Source names the input in the header comment.
	Source string
	// ChecksFile, if set, becomes cloudns.checks_file.
	ChecksFile string
	// URL is written only when set (the default API needs none).
	URL string
	// Exactly one identity should be set.
	AuthID      int
	SubAuthID   int
	SubAuthUser string
	// PasswordFile becomes cloudns.password_file.
	PasswordFile string
}

// Import returns a statussync configuration with one cloudns monitor per
// check, selected by the check's name, and one component per monitor, both
// named like the check. It leaves grouping to the user and says so.
func Import(checks []ImportCheck, o ImportOptions) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# statussync configuration imported from %s by `statussync import cloudns`.\n", oneLine(o.Source))
	b.WriteString(`# One cloudns monitor per ClouDNS check, found by the check's name, and one
# component per monitor, named like the check. Grouping is left to you: to
# show several checks as one component, list their monitors under one
# component and delete the others (docs/cloudns-as-code.md). Add a cachet
# block to write to your status page (docs/configuration.md).
cloudns:
`)
	if o.URL != "" {
		fmt.Fprintf(&b, "  url: %s\n", q(o.URL))
	}
	switch {
	case o.AuthID != 0:
		fmt.Fprintf(&b, "  auth_id: %d\n", o.AuthID)
	case o.SubAuthID != 0:
		fmt.Fprintf(&b, "  sub_auth_id: %d\n", o.SubAuthID)
	case o.SubAuthUser != "":
		fmt.Fprintf(&b, "  sub_auth_user: %s\n", q(o.SubAuthUser))
	}
	if o.PasswordFile != "" {
		fmt.Fprintf(&b, "  password_file: %s\n", q(o.PasswordFile))
	}
	if o.ChecksFile != "" {
		b.WriteString("  # The same file declares the checks: statussync cloudns plan|apply push it.\n")
		fmt.Fprintf(&b, "  checks_file: %s\n", q(o.ChecksFile))
	}
	if len(checks) == 0 {
		b.WriteString("monitors: []\ncomponents: []\n")
		return []byte(b.String())
	}
	b.WriteString("monitors:\n")
	names := make([]string, len(checks))
	for i, c := range checks {
		names[i] = c.Name
		sel := "check_name: " + q(c.Name)
		if c.ID != 0 {
			names[i] = fmt.Sprintf("%s (id %d)", c.Name, c.ID)
			sel = fmt.Sprintf("check_id: %d", c.ID)
		}
		fmt.Fprintf(&b, "  - name: %s\n    cloudns: {%s}\n", q(names[i]), sel)
	}
	b.WriteString("components:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  - name: %s\n    monitors: [%s]\n", q(n), q(n))
	}
	return []byte(b.String())
}

// q renders s as a YAML double-quoted string.
func q(s string) string {
	n := yaml.Node{Kind: yaml.ScalarNode, Style: yaml.DoubleQuotedStyle, Value: s}
	out, err := yaml.Marshal(&n)
	if err != nil {
		return fmt.Sprintf("%q", s)
	}
	return strings.TrimSuffix(string(out), "\n")
}

func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}
