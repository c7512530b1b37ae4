package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/monitors"
)

// runProbe runs the monitors once, now, and prints their results. It never
// writes to Cachet. With --monitor it prints that monitor's details (phase
// timings, certificates, the failing assertion) as blackbox's debug output
// does. Exit code 3 means some monitor is down.
func runProbe(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	var c commonFlags
	fs := newFlagSet("probe", stderr, &c, environ)
	var only names
	fs.Var(&only, "monitor", "probe only this monitor and print its details (repeat for several)")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	logger, err := c.logger(stderr)
	if err != nil {
		return usageError(stderr, "probe", err.Error())
	}
	// probe never writes, so it needs no Cachet token (file).
	cfg, err := config.Load(c.configFile, environ, config.WithoutCachetCredentials())
	if err != nil {
		printProblems(stderr, err)
		return exitError
	}
	specs, err := selectMonitors(cfg.Monitors, only)
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "statussync probe: %v\n", err)
		return exitUsage
	}

	poller, err := newPoller(cfg)
	if err != nil {
		_, _ = fmt.Fprintln(stderr, err)
		return exitError
	}
	if poller != nil {
		defer poller.Close()
		// One poll for every cloudns monitor to read; a failure shows in
		// their results.
		_ = poller.Poll(ctx)
	}
	results := make([]monitors.Result, len(specs))
	var wg sync.WaitGroup
	for i, spec := range specs {
		m, err := monitors.New(spec, monitors.Deps{Logger: logger, CloudNS: poller})
		if err != nil {
			_, _ = fmt.Fprintln(stderr, err)
			return exitError
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, spec.Timeout)
			defer cancel()
			results[i] = m.Check(ctx)
		})
	}
	wg.Wait()

	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "MONITOR\tKIND\tRESULT\tLATENCY\tREASON")
	code := exitOK
	for i, spec := range specs {
		r := results[i]
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", spec.Name, spec.Kind, r.Status, r.Latency.Round(time.Millisecond), config.RedactURLs(r.Reason))
		if r.Status == monitors.StatusDown {
			code = exitProbeBad
		}
	}
	_ = tw.Flush()
	if len(only) > 0 {
		for i, r := range results {
			if len(specs) > 1 {
				_, _ = fmt.Fprintf(stdout, "\n== %s\n", specs[i].Name)
			}
			if r.Err != nil {
				_, _ = fmt.Fprintf(stdout, "\nerror: %v\n", r.Err)
			}
			if len(r.Details) > 0 {
				_, _ = fmt.Fprintln(stdout)
				dw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
				for _, d := range r.Details {
					_, _ = fmt.Fprintf(dw, "%s:\t%s\n", d.Key, config.RedactURLs(d.Value))
				}
				_ = dw.Flush()
			}
		}
	}
	return code
}

// names is a repeatable string flag.
type names []string

func (n *names) String() string { return strings.Join(*n, ",") }

func (n *names) Set(v string) error {
	if v == "" {
		return errors.New("empty monitor name")
	}
	*n = append(*n, v)
	return nil
}

// selectMonitors returns the monitors named in only (all without any), in
// the order given; an unknown name is an error listing the names that exist.
func selectMonitors(all []config.MonitorSpec, only []string) ([]config.MonitorSpec, error) {
	if len(only) == 0 {
		return all, nil
	}
	byName := map[string]config.MonitorSpec{}
	var existing []string
	for _, m := range all {
		byName[m.Name] = m
		existing = append(existing, m.Name)
	}
	var specs []config.MonitorSpec
	var unknown []string
	for _, name := range only {
		m, ok := byName[name]
		switch {
		case !ok:
			unknown = append(unknown, fmt.Sprintf("%q", name))
		case !slices.ContainsFunc(specs, func(s config.MonitorSpec) bool { return s.Name == name }):
			specs = append(specs, m)
		}
	}
	if len(unknown) > 0 {
		if len(existing) == 0 {
			return nil, fmt.Errorf("no monitor named %s: the configuration has no monitors", strings.Join(unknown, ", "))
		}
		slices.Sort(existing)
		return nil, fmt.Errorf("no monitor named %s; the monitors are: %s", strings.Join(unknown, ", "), strings.Join(existing, ", "))
	}
	return specs, nil
}
