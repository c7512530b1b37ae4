package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/statussync/statussync/cloudns"
	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/internal/checksfile"
	"github.com/statussync/statussync/internal/cloudnsplan"
	"github.com/statussync/statussync/monitors"
)

const cloudnsUsage = `usage:
  statussync cloudns plan  [--config.file FILE] [--checks-file FILE] [--prune] [--output text|json]
  statussync cloudns apply [--config.file FILE] [--checks-file FILE] [--prune] [--output text|json]
  (apply --output json prints one object: {"plan": ..., "report": {done, failed, not_done, writes}})

plan compares the ClouDNS checks file (cloudns.checks_file) with the account
and prints what apply would create, update (old → new) and delete, and the
notifications it would add or remove. Exit 0: nothing to change; 2: changes;
1: error (usage errors included). apply carries the plan out and stops at the first failed call;
exit 0 when everything was done, 1 otherwise. Checks not in the file are
deleted only with --prune (or cloudns.checks_prune). Guide:
docs/cloudns-as-code.md.
`

// exitChanges is plan's exit code when apply would change something. Since
// CI jobs gate on it, usage errors of the cloudns commands exit 1 (not
// exitUsage, which is also 2).
const exitChanges = 2

// runCloudNS is `statussync cloudns plan|apply`.
func runCloudNS(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "plan" && args[0] != "apply") {
		_, _ = fmt.Fprint(stderr, cloudnsUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
			return exitOK
		}
		return exitError
	}
	sub := args[0]
	var c commonFlags
	fs := newFlagSet("cloudns "+sub, stderr, &c, environ)
	checksFile := fs.String("checks-file", "", "the checks file (default: cloudns.checks_file)")
	prune := fs.Bool("prune", false, "delete checks the file does not declare (default: cloudns.checks_prune)")
	output := fs.String("output", "text", "plan format: text or json")
	if err := fs.Parse(args[1:]); err != nil {
		if flagExit(err) == exitOK {
			return exitOK
		}
		return exitError
	}
	if fs.NArg() > 0 {
		_, _ = fmt.Fprintf(stderr, "statussync cloudns %s: unexpected argument %q\n\n%s", sub, fs.Arg(0), cloudnsUsage)
		return exitError
	}
	if *output != "text" && *output != "json" {
		_, _ = fmt.Fprintf(stderr, "statussync cloudns %s: --output %q must be text or json\n", sub, *output)
		return exitError
	}
	logger, err := c.logger(stderr)
	if err != nil {
		_, _ = fmt.Fprintln(stderr, err)
		return exitError
	}
	fail := func(format string, args ...any) int {
		_, _ = fmt.Fprintf(stderr, "statussync cloudns %s: %s\n", sub, fmt.Sprintf(format, args...))
		return exitError
	}
	cfg, err := config.Load(c.configFile, environ)
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "configuration is invalid:\n")
		for _, p := range config.Problems(err) {
			_, _ = fmt.Fprintf(stderr, "  %v\n", p)
		}
		return exitError
	}
	path := cfg.CloudNS.ChecksFile
	if *checksFile != "" {
		path = *checksFile
	}
	if path == "" {
		return fail("no checks file: set cloudns.checks_file or pass --checks-file")
	}
	file, err := loadChecksFile(path, environ, cfg.CloudNS.ChecksDefaultNotification, true)
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "%v", err)
		return exitError
	}
	if !cfg.CloudNS.Configured() {
		return fail("ClouDNS credentials are missing: set cloudns.auth_id (or sub_auth_id, sub_auth_user) and cloudns.password_file (or STATUSSYNC_CLOUDNS__PASSWORD)")
	}
	opts := monitors.CloudNSClientOptions(cfg.CloudNS)
	opts.Logger = logger
	client, err := cloudns.New(opts)
	if err != nil {
		return fail("%v", err)
	}
	defer client.CloseIdleConnections()

	plan, err := cloudnsplan.Compute(ctx, client, file, cloudnsplan.Options{Prune: *prune || cfg.CloudNS.ChecksPrune})
	if err != nil {
		return fail("%v", err)
	}
	jsonOut := *output == "json"
	switch {
	case jsonOut && sub == "plan":
		err = plan.WriteJSON(stdout)
	case jsonOut && !plan.HasChanges():
		err = writeJSON(stdout, map[string]any{"plan": plan.JSON(), "report": cloudnsplan.Report{Done: []string{}}})
	case !jsonOut:
		err = plan.WriteText(stdout)
	}
	if err != nil {
		return fail("%v", err)
	}
	if sub == "plan" {
		if plan.HasChanges() {
			return exitChanges
		}
		return exitOK
	}
	if !plan.HasChanges() {
		return exitOK
	}
	report, err := cloudnsplan.Apply(ctx, client, plan)
	if jsonOut {
		// One JSON object: the plan and what was done of it.
		if werr := writeJSON(stdout, map[string]any{"plan": plan.JSON(), "report": report}); werr != nil && err == nil {
			err = werr
		}
	} else {
		_, _ = fmt.Fprintln(stdout)
		_ = report.WriteText(stdout)
	}
	if err != nil {
		return exitError
	}
	return exitOK
}

// loadChecksFile reads and validates a checks file. With resolve, the
// environment variables its notifications name must be set and entries
// without notifications get defNotification ("TYPE:VALUE", may be empty).
// The error lists every problem, one per line.
func loadChecksFile(path string, environ []string, defNotification string, resolve bool) (*checksfile.File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.New("checks file: " + err.Error() + "\n")
	}
	f, err := checksfile.Parse(data, filepath.Base(path))
	if err == nil && resolve {
		var def *checksfile.Notification
		if defNotification != "" {
			def, err = checksfile.ParseDefaultNotification(defNotification)
		}
		if err == nil {
			err = f.Resolve(environ, def)
		}
	}
	if err != nil {
		problems := checksfile.Problems(err)
		msg := fmt.Sprintf("checks file %s is invalid (%d problems):\n", path, len(problems))
		for _, p := range problems {
			msg += fmt.Sprintf("  %v\n", p)
		}
		return nil, errors.New(msg)
	}
	return f, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
