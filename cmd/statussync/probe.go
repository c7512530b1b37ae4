package main

import (
	"context"
	"fmt"
	"io"
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
	only := fs.String("monitor", "", "probe only this monitor and print its details")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	logger, err := c.logger(stderr)
	if err != nil {
		_, _ = fmt.Fprintln(stderr, err)
		return exitUsage
	}
	cfg, err := config.Load(c.configFile, environ)
	if err != nil {
		for _, p := range config.Problems(err) {
			_, _ = fmt.Fprintf(stderr, "  %v\n", p)
		}
		return exitError
	}
	specs := cfg.Monitors
	if *only != "" {
		specs = nil
		for _, m := range cfg.Monitors {
			if m.Name == *only {
				specs = append(specs, m)
			}
		}
		if len(specs) == 0 {
			_, _ = fmt.Fprintf(stderr, "no monitor named %q\n", *only)
			return exitUsage
		}
	}

	poller, err := newPoller(cfg)
	if err != nil {
		_, _ = fmt.Fprintln(stderr, err)
		return exitError
	}
	if poller != nil {
		defer poller.Close()
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
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", spec.Name, spec.Kind, r.Status, r.Latency.Round(time.Millisecond), r.Reason)
		if r.Status == monitors.StatusDown {
			code = exitProbeBad
		}
	}
	_ = tw.Flush()
	if *only != "" {
		r := results[0]
		if r.Err != nil {
			_, _ = fmt.Fprintf(stdout, "\nerror: %v\n", r.Err)
		}
		if len(r.Details) > 0 {
			_, _ = fmt.Fprintln(stdout)
			dw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
			for _, d := range r.Details {
				_, _ = fmt.Fprintf(dw, "%s:\t%s\n", d.Key, d.Value)
			}
			_ = dw.Flush()
		}
	}
	return code
}
