package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/monitors"
)

// runCheck loads and validates the configuration and prints a one-line
// summary, or every problem and exit code 1.
func runCheck(args, environ []string, stdout, stderr io.Writer) int {
	var c commonFlags
	fs := newFlagSet("check", stderr, &c, environ)
	offline := fs.Bool("offline", false, "do not contact ClouDNS or Cachet (their checks, the Cachet token and components are not verified)")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	cfg, err := config.Load(c.configFile, environ)
	if err != nil {
		printProblems(stderr, err)
		return exitError
	}
	// Build every monitor too (no network), so that whatever `run` would
	// refuse at start, `check` refuses first.
	poller, err := newPoller(cfg)
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "configuration is invalid:\n  %v\n", err)
		return exitError
	}
	if poller != nil {
		defer poller.Close()
	}
	var buildErrs []error
	for _, spec := range cfg.Monitors {
		if _, err := monitors.New(spec, monitors.Deps{CloudNS: poller}); err != nil {
			buildErrs = append(buildErrs, err)
		}
	}
	if len(buildErrs) > 0 {
		_, _ = fmt.Fprintf(stderr, "configuration is invalid (%d problems):\n", len(buildErrs))
		for _, e := range buildErrs {
			_, _ = fmt.Fprintf(stderr, "  %s\n", config.RedactURLs(e.Error()))
		}
		return exitError
	}
	if code := checkChecksFile(cfg, stderr); code != exitOK {
		return code
	}
	// With ClouDNS credentials at hand, look the configured checks up.
	if !*offline {
		ctx, cancel := context.WithTimeout(context.Background(), 2*cfg.CloudNS.PollInterval)
		defer cancel()
		warnings, err := monitors.CheckCloudNSMonitors(ctx, cfg, poller)
		if err != nil {
			_, _ = fmt.Fprintf(stderr, "warning: could not verify the cloudns checks: %v\n", err)
		}
		for _, w := range warnings {
			_, _ = fmt.Fprintf(stderr, "warning: %s\n", w)
		}
		if code := reportCachetCheck(cfg, stderr); code != exitOK {
			return code
		}
	}
	switch {
	case c.configFile == "":
		_, _ = fmt.Fprintf(stderr, "warning: no --config.file (or %s): this checked the built-in defaults, which check nothing\n", config.EnvConfigFile)
	case len(cfg.Monitors) == 0:
		_, _ = fmt.Fprintf(stderr, "warning: %s has no monitors: statussync would check nothing\n", c.configFile)
	}
	_, _ = fmt.Fprintln(stdout, summary(cfg))
	return exitOK
}

// printProblems lists every problem of a configuration Load rejected.
func printProblems(w io.Writer, err error) {
	problems := config.Problems(err)
	if len(problems) == 1 {
		_, _ = fmt.Fprintf(w, "configuration is invalid:\n")
	} else {
		_, _ = fmt.Fprintf(w, "configuration is invalid (%d problems):\n", len(problems))
	}
	for _, p := range problems {
		_, _ = fmt.Fprintf(w, "  %s\n", config.RedactURLs(p.Error()))
	}
}

// newPoller builds the ClouDNS poller the cloudns monitors of cfg share,
// or nil without any. Building it makes no request.
func newPoller(cfg *config.Config) (*monitors.CloudNSPoller, error) {
	for _, m := range cfg.Monitors {
		if m.CloudNS != nil {
			return monitors.NewCloudNSPoller(cfg.CloudNS, nil, monitors.NewCloudNSMetrics(prometheus.NewRegistry()))
		}
	}
	return nil, nil
}

// summary is the one line `check` prints for a valid configuration.
func summary(cfg *config.Config) string {
	kinds := map[string]int{}
	for _, m := range cfg.Monitors {
		kinds[m.Kind]++
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(kinds)) {
		parts = append(parts, fmt.Sprintf("%d %s", kinds[k], k))
	}
	mode := "writes to " + config.RedactURL(cfg.Cachet.URL)
	if !cfg.Cachet.Enabled() {
		mode = "dry run"
	}
	byKind := ""
	if len(parts) > 0 {
		byKind = " (" + strings.Join(parts, ", ") + ")"
	}
	return fmt.Sprintf("configuration ok: %d monitors%s, %d components, cachet: %s",
		len(cfg.Monitors), byKind, len(cfg.Components), mode)
}
