package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/statussync/statussync/cloudns"
	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/internal/checksfile"
	"github.com/statussync/statussync/internal/importer"
	"github.com/statussync/statussync/monitors"
)

// defaultCloudNSPasswordFile is where the imported configuration reads the
// ClouDNS password from (docs/configuration.md's example path).
const defaultCloudNSPasswordFile = "/run/secrets/cloudns/password"

// importCloudNS is `statussync import cloudns FILE` and `statussync import
// cloudns --from-account`: one cloudns monitor and one component per check.
func importCloudNS(ctx context.Context, args, environ []string, stderr io.Writer) (*importer.Result, int) {
	fs := flag.NewFlagSet("statussync import cloudns", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fromAccount := fs.Bool("from-account", false, "read the checks from the ClouDNS account of --config.file instead of a checks file")
	configFile := fs.String("config.file", lookupEnv(environ, config.EnvConfigFile), "with --from-account: the configuration holding the ClouDNS credentials")
	authID := fs.Int("auth-id", 0, "ClouDNS API user id to write (default: STATUSSYNC_CLOUDNS__AUTH_ID)")
	subAuthID := fs.Int("sub-auth-id", 0, "ClouDNS API sub-user id to write instead")
	subAuthUser := fs.String("sub-auth-user", "", "ClouDNS API sub-user name to write instead")
	passwordFile := fs.String("password-file", defaultCloudNSPasswordFile, "where statussync is to read the ClouDNS password from")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, flagExit(err)
	}
	usageErr := func(format string, args ...any) (*importer.Result, int) {
		_, _ = fmt.Fprintf(stderr, "statussync import cloudns: "+format+"\n\n%s", append(args, importUsage)...)
		return nil, exitUsage
	}
	opts := checksfile.ImportOptions{AuthID: *authID, SubAuthID: *subAuthID, SubAuthUser: *subAuthUser, PasswordFile: *passwordFile}
	var checks []checksfile.ImportCheck
	var warnings []importer.Warning
	switch {
	case *fromAccount && len(files) > 0:
		return usageErr("give either FILE or --from-account, not both")
	case *fromAccount:
		cfg, err := config.Load(*configFile, environ)
		if err != nil {
			for _, p := range config.Problems(err) {
				_, _ = fmt.Fprintf(stderr, "%v\n", p)
			}
			return nil, exitError
		}
		if !cfg.CloudNS.Configured() {
			_, _ = fmt.Fprintln(stderr, "statussync import cloudns --from-account: the configuration has no ClouDNS credentials (cloudns.auth_id and cloudns.password_file)")
			return nil, exitError
		}
		client, err := cloudns.New(monitors.CloudNSClientOptions(cfg.CloudNS))
		if err != nil {
			_, _ = fmt.Fprintln(stderr, err)
			return nil, exitError
		}
		defer client.CloseIdleConnections()
		list, err := client.ListAllChecks(ctx, cloudns.ListOptions{})
		if err != nil {
			_, _ = fmt.Fprintln(stderr, err)
			return nil, exitError
		}
		count := map[string]int{}
		for _, c := range list {
			count[c.Name]++
		}
		for _, c := range list {
			ic := checksfile.ImportCheck{Name: c.Name}
			if count[c.Name] > 1 {
				ic.ID = c.ID
				warnings = append(warnings, importer.Warning{Path: "check " + strconv.FormatInt(c.ID, 10),
					Msg: fmt.Sprintf("%d checks are named %q, so this monitor selects check_id %d; rename them to select by name", count[c.Name], c.Name, c.ID)})
			}
			checks = append(checks, ic)
		}
		opts.Source = "the ClouDNS account"
		if opts.AuthID == 0 && opts.SubAuthID == 0 && opts.SubAuthUser == "" {
			opts.AuthID, opts.SubAuthID, opts.SubAuthUser = cfg.CloudNS.AuthID, cfg.CloudNS.SubAuthID, cfg.CloudNS.SubAuthUser
		}
		if cfg.CloudNS.URL != config.Default().CloudNS.URL {
			opts.URL = cfg.CloudNS.URL
		}
		if cfg.CloudNS.PasswordFile != "" && *passwordFile == defaultCloudNSPasswordFile {
			opts.PasswordFile = cfg.CloudNS.PasswordFile
		}
	case len(files) != 1:
		return usageErr("want one FILE (or --from-account), got %d", len(files))
	default:
		// Environment variables are not needed to know the checks.
		f, err := loadChecksFile(files[0], nil, "", false)
		if err != nil {
			_, _ = fmt.Fprint(stderr, err)
			return nil, exitError
		}
		for _, e := range f.Entries {
			checks = append(checks, checksfile.ImportCheck{Name: e.Name})
		}
		opts.Source, opts.ChecksFile = files[0], files[0]
	}
	if opts.AuthID == 0 && opts.SubAuthID == 0 && opts.SubAuthUser == "" {
		env := func(k string) int { n, _ := strconv.Atoi(lookupEnv(environ, config.EnvPrefix+k)); return n }
		opts.AuthID, opts.SubAuthID = env("CLOUDNS__AUTH_ID"), env("CLOUDNS__SUB_AUTH_ID")
		opts.SubAuthUser = lookupEnv(environ, config.EnvPrefix+"CLOUDNS__SUB_AUTH_USER")
	}
	ids := 0
	for _, set := range []bool{opts.AuthID != 0, opts.SubAuthID != 0, opts.SubAuthUser != ""} {
		if set {
			ids++
		}
	}
	if ids != 1 {
		return usageErr("say which ClouDNS API user statussync reads the checks as: exactly one of --auth-id, --sub-auth-id, --sub-auth-user (or STATUSSYNC_CLOUDNS__AUTH_ID)")
	}
	return &importer.Result{YAML: checksfile.Import(checks, opts), Warnings: warnings}, exitOK
}
