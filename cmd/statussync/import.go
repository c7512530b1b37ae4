package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/internal/importer"
	"github.com/statussync/statussync/monitors"
)

const importUsage = `usage:
  statussync import cachet-monitor [--token-file PATH] FILE
  statussync import blackbox --modules blackbox.yml --targets FILE [--module NAME] [--interval 30s] [--no-components]
  statussync import cloudns [--auth-id N | --sub-auth-id N | --sub-auth-user U] [--password-file PATH] FILE
  statussync import cloudns --from-account [--config.file FILE]

Prints an equivalent statussync configuration on stdout and every item that
could not be imported as it was on stderr (also as # WARNING comments in the
output). Exit 0 when the output loads, 1 when an input cannot be read or the
output does not load on this machine, 2 for usage errors.
Guides: docs/migration-cachet-monitor.md, docs/migration-blackbox.md,
docs/cloudns-as-code.md.
`

// runImport converts another tool's configuration into statussync's. Only
// `import cloudns --from-account` uses the network (the context) and the
// environment (for its configuration).
func runImport(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		_, _ = fmt.Fprint(stderr, importUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			return exitOK
		}
		return exitUsage
	}
	var (
		res  *importer.Result
		code int
	)
	switch args[0] {
	case "cachet-monitor":
		res, code = importCachetMonitor(args[1:], stderr)
	case "blackbox":
		res, code = importBlackbox(args[1:], stderr)
	case "cloudns":
		res, code = importCloudNS(ctx, args[1:], environ, stderr)
	default:
		_, _ = fmt.Fprintf(stderr, "unknown import source %q\n\n%s", args[0], importUsage)
		return exitUsage
	}
	if res == nil {
		return code
	}
	_, _ = stdout.Write(res.YAML)
	for _, w := range res.Warnings {
		_, _ = fmt.Fprintf(stderr, "warning: %v\n", w)
	}
	cfg, problems := checkImported(res.YAML)
	if len(problems) > 0 {
		_, _ = fmt.Fprintf(stderr, "the imported configuration does not load here (%d problems):\n", len(problems))
		for _, p := range problems {
			_, _ = fmt.Fprintf(stderr, "  %v\n", p)
		}
		return exitError
	}
	_, _ = fmt.Fprintf(stderr, "imported %d monitors and %d components with %d warnings; review them, then run: statussync check --config.file FILE\n",
		len(cfg.Monitors), len(cfg.Components), len(res.Warnings))
	return exitOK
}

func importCachetMonitor(args []string, stderr io.Writer) (*importer.Result, int) {
	fs := flag.NewFlagSet("statussync import cachet-monitor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tokenFile := fs.String("token-file", importer.DefaultTokenFile, "where statussync is to read the Cachet API token from")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, flagExit(err)
	}
	if len(files) != 1 {
		_, _ = fmt.Fprintf(stderr, "statussync import cachet-monitor: want one FILE, got %d\n\n%s", len(files), importUsage)
		return nil, exitUsage
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		_, _ = fmt.Fprintln(stderr, err)
		return nil, exitError
	}
	res, err := importer.CachetMonitor(data, importer.CachetMonitorOptions{Source: filepath.Base(files[0]), TokenFile: *tokenFile})
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "%s: %v\n", files[0], err)
		return nil, exitError
	}
	return res, exitOK
}

func importBlackbox(args []string, stderr io.Writer) (*importer.Result, int) {
	fs := flag.NewFlagSet("statussync import blackbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modulesFile := fs.String("modules", "", "blackbox_exporter configuration (blackbox.yml)")
	targetsFile := fs.String("targets", "", `targets: lines of "TARGET" or "MODULE TARGET", or Prometheus file_sd JSON/YAML`)
	module := fs.String("module", "", "module for targets that name none (default: the only module)")
	interval := fs.Duration("interval", 0, "check interval, e.g. your Prometheus scrape_interval (default: statussync's 60s)")
	noComponents := fs.Bool("no-components", false, "import monitors only, no component per target")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return nil, flagExit(err)
	}
	if *modulesFile == "" || *targetsFile == "" || len(rest) > 0 {
		_, _ = fmt.Fprintf(stderr, "statussync import blackbox: --modules and --targets are required, and nothing else\n\n%s", importUsage)
		return nil, exitUsage
	}
	if *interval < 0 || (*interval > 0 && *interval < time.Second) {
		_, _ = fmt.Fprintf(stderr, "statussync import blackbox: --interval %v must be at least 1s\n", *interval)
		return nil, exitUsage
	}
	modules, err := os.ReadFile(*modulesFile)
	if err != nil {
		_, _ = fmt.Fprintln(stderr, err)
		return nil, exitError
	}
	targets, err := os.ReadFile(*targetsFile)
	if err != nil {
		_, _ = fmt.Fprintln(stderr, err)
		return nil, exitError
	}
	res, err := importer.Blackbox(modules, targets, importer.BlackboxOptions{
		Source:       filepath.Base(*modulesFile) + " and " + filepath.Base(*targetsFile),
		Module:       *module,
		Interval:     *interval,
		NoComponents: *noComponents,
	})
	if err != nil {
		_, _ = fmt.Fprintln(stderr, err)
		return nil, exitError
	}
	return res, exitOK
}

// parseInterspersed parses flags given before or after the positional
// arguments, which it returns.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// checkImported loads the imported configuration as `statussync check`
// would, monitors built included. The Cachet token file it names usually
// exists only where statussync will run, so a placeholder stands in for it
// (through the environment, which overrides the file's token_file); every
// other file the configuration names must exist here.
func checkImported(out []byte) (*config.Config, []error) {
	dir, err := os.MkdirTemp("", "statussync-import-")
	if err != nil {
		return nil, []error{err}
	}
	defer func() { _ = os.RemoveAll(dir) }()
	path := filepath.Join(dir, "statussync.yml")
	token := filepath.Join(dir, "token")
	if err := errors.Join(os.WriteFile(path, out, 0o600), os.WriteFile(token, []byte("placeholder\n"), 0o600)); err != nil {
		return nil, []error{err}
	}
	// Only the placeholders: the user's STATUSSYNC_ variables describe their
	// deployment, not the file being checked. The ClouDNS password file of
	// `import cloudns` is a secret of the target machine too.
	cfg, err := config.Load(path, []string{config.EnvPrefix + "CACHET__TOKEN_FILE=" + token, config.EnvPrefix + "CLOUDNS__PASSWORD_FILE=" + token})
	if err != nil {
		return nil, config.Problems(err)
	}
	// cloudns monitors need the poller they share (built without a request).
	poller, err := newPoller(cfg)
	if err != nil {
		return nil, []error{err}
	}
	if poller != nil {
		defer poller.Close()
	}
	var problems []error
	for _, spec := range cfg.Monitors {
		if _, err := monitors.New(spec, monitors.Deps{CloudNS: poller}); err != nil {
			problems = append(problems, err)
		}
	}
	return cfg, problems
}
