// Command bench measures what statussync costs and how it behaves at scale
// (issue #8), prints one Markdown table and writes BENCHMARKS.md:
//
//	go run ./bench                       every benchmark (about 10 minutes)
//	go run ./bench -only probe,cloudns   some of them
//	go run ./bench -scale-duration 5m    a longer scale run
//
// Everything runs on 127.0.0.1: the statussync binary is built from this
// checkout and run as a child process (so that its RSS and CPU are its
// own), against Cachet and ClouDNS fakes and HTTP targets served by this
// process. The probe-cost benchmark runs the http monitor in this process
// against a target served by a child process, for the same reason.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// row is one line of the results table.
type row struct {
	name, measured, target, verdict string
}

// bench is one benchmark: it returns table rows and notes for the report.
type bench struct {
	name string
	run  func(ctx context.Context, env *env) ([]row, []string, error)
}

var benches = []bench{
	{"probe", runProbeCost},
	{"costs", runCosts},
	{"scale", runScale},
	{"writes", runWrites},
	{"detect", runDetect},
	{"cloudns", runCloudNS},
}

// env is what the benchmarks share.
type env struct {
	root   string // module root
	binary string // statussync built from root
	tmp    string
	opts   options
}

type options struct {
	only          string
	out           string
	scaleDuration time.Duration
	scaleWarmup   time.Duration
	scaleMonitors int
	probeN        int
	probeRounds   int
	probeProfile  string
	scaleEnv      string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve-target" {
		serveTarget() // the probe benchmark's target, in a child process
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "profile-scale" {
		if err := profileScale(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench profile-scale:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	flag.StringVar(&o.only, "only", "", "comma-separated benchmarks to run: probe, costs, scale, writes, detect, cloudns (default all)")
	flag.StringVar(&o.out, "out", "BENCHMARKS.md", "report file, relative to the module root; empty for none")
	flag.DurationVar(&o.scaleDuration, "scale-duration", 3*time.Minute, "measured part of the scale run")
	flag.DurationVar(&o.scaleWarmup, "scale-warmup", 75*time.Second, "unmeasured start of the scale run (first checks, first reconcile)")
	flag.IntVar(&o.scaleMonitors, "scale-monitors", 10000, "monitors in the scale run")
	flag.StringVar(&o.scaleEnv, "scale-env", "", "extra environment of the scale run's statussync, comma-separated (e.g. GOMEMLIMIT=200MiB)")
	flag.IntVar(&o.probeN, "probe-n", 1500, "probes per block in the probe-cost benchmark")
	flag.IntVar(&o.probeRounds, "probe-rounds", 6, "interleaved rounds of blocks in the probe-cost benchmark")
	flag.StringVar(&o.probeProfile, "probe-cpuprofile", "", "write a CPU profile of the statussync probe blocks (plain HTTP) to this file")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "statussync-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	e := &env{root: root, tmp: tmp, opts: o, binary: filepath.Join(tmp, "statussync")}
	logf("building %s", e.binary)
	build := exec.CommandContext(ctx, "go", "build", "-o", e.binary, "./cmd/statussync")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, out)
	}

	selected := map[string]bool{}
	for _, n := range strings.Split(o.only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			selected[n] = true
		}
	}
	var rows []row
	var notes []string
	start := time.Now()
	for _, b := range benches {
		if len(selected) > 0 && !selected[b.name] {
			continue
		}
		logf("== %s", b.name)
		t0 := time.Now()
		r, n, err := b.run(ctx, e)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%s: %w", b.name, err)
			}
			// One failing benchmark must not lose the others' figures.
			logf("%s failed: %v", b.name, err)
			r = []row{{name: b.name, measured: "failed: " + err.Error(), target: "-", verdict: "**failed**"}}
		}
		logf("%s done in %v", b.name, time.Since(t0).Round(time.Second))
		rows = append(rows, r...)
		notes = append(notes, n...)
	}
	table := renderTable(rows)
	fmt.Println()
	fmt.Println(table)
	if o.out == "" {
		return nil
	}
	report := renderReport(table, notes, time.Since(start))
	path := filepath.Join(root, o.out)
	if err := os.WriteFile(path, []byte(report), 0o644); err != nil {
		return err
	}
	logf("wrote %s", path)
	return nil
}

func renderTable(rows []row) string {
	var b strings.Builder
	b.WriteString("| Benchmark | Measured | Target | Result |\n|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.name, r.measured, r.target, r.verdict)
	}
	return b.String()
}

func renderReport(table string, notes []string, took time.Duration) string {
	var b strings.Builder
	b.WriteString("# Benchmarks\n\n")
	b.WriteString("Generated by `go run ./bench")
	if len(os.Args) > 1 {
		b.WriteString(" " + strings.Join(os.Args[1:], " "))
	}
	b.WriteString("` (harness: [bench/](bench/), method: [docs/benchmarks.md](docs/benchmarks.md)); do not edit by hand.\n\n")
	fmt.Fprintf(&b, "- Date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- CPU: %s, %d cores (GOMAXPROCS %d)\n", cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Fprintf(&b, "- Go: %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&b, "- Load average at the end: %s (the machine was shared with other test runs)\n", loadAverage())
	fmt.Fprintf(&b, "- Run time: %v\n\n", took.Round(time.Second))
	b.WriteString(table)
	if len(notes) > 0 {
		b.WriteString("\n## Notes\n\n")
		for _, n := range notes {
			b.WriteString("- " + n + "\n")
		}
	}
	return b.String()
}

// cpuModel reads the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// moduleRoot finds the directory of go.mod from the working directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

var logOut io.Writer = os.Stderr

func logf(format string, args ...any) {
	fmt.Fprintf(logOut, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// verdict formats a "lower is better" comparison.
func verdict(got, limit float64, unit string) string {
	if got <= limit {
		return "met"
	}
	return fmt.Sprintf("**missed** by %.3g%s (%.0f%%)", got-limit, unit, 100*(got-limit)/limit)
}
