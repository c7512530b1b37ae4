// Command statussync keeps a Cachet 3 status page honest: it runs HTTP, TCP
// and DNS probes and mirrors ClouDNS monitoring checks, decides each
// component's state and reconciles Cachet towards it.
package main

import (
	_ "time/tzdata" // Cachet timezones resolve in images without zoneinfo

	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"

	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/internal/app"
	"github.com/statussync/statussync/internal/buildinfo"
)

// defaultGCPercent is the garbage collector's target heap growth when GOGC
// is not set: statussync's live heap is almost all long-lived per-monitor
// state, so Go's default of 100 (collect when the heap has doubled) mostly
// buys memory nobody uses. At 10,000 monitors 50 took the peak RSS from 147
// to 129 MiB at the same CPU share (BENCHMARKS.md, docs/deploy.md).
const defaultGCPercent = 50

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

const usage = `usage: statussync [command] [flags]

commands:
  run       run the daemon (the default)
  check     load and validate the configuration
  probe     run monitors once now and print their results (no Cachet writes)
  import    convert a cachet-monitor, blackbox_exporter or ClouDNS checks configuration
  cloudns   plan or apply the ClouDNS checks file (checks as code)
  version   print the version (also --version)
  help      print this help (also --help)

Run 'statussync COMMAND -h' for a command's flags.
`

// Exit codes.
const (
	exitOK       = 0
	exitError    = 1
	exitUsage    = 2
	exitProbeBad = 3
)

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	cmd := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	// The top-level flags stand for their commands wherever they appear
	// first; `statussync --help` lists the commands, not run's flags.
	if cmd == "run" && len(args) > 0 {
		switch args[0] {
		case "-h", "-help", "--help":
			cmd, args = "help", args[1:]
		case "-version", "--version":
			cmd, args = "version", args[1:]
		}
	}
	switch cmd {
	case "run":
		return runDaemon(ctx, args, environ, stderr)
	case "check":
		return runCheck(args, environ, stdout, stderr)
	case "probe":
		return runProbe(ctx, args, environ, stdout, stderr)
	case "import":
		return runImport(ctx, args, environ, stdout, stderr)
	case "cloudns":
		return runCloudNS(ctx, args, environ, stdout, stderr)
	case "version":
		if len(args) > 0 {
			return usageError(stderr, "version", fmt.Sprintf("unexpected argument %q", args[0]))
		}
		bi := buildinfo.Get()
		_, _ = fmt.Fprintf(stdout, "statussync %s (revision %s, %s)\n", bi.Version, bi.Revision, bi.GoVersion)
		return exitOK
	case "help":
		_, _ = fmt.Fprint(stdout, usage)
		return exitOK
	default:
		_, _ = fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
}

// commonFlags are shared by every command that reads the configuration.
type commonFlags struct {
	configFile string
	logLevel   string
	logFormat  string
}

func newFlagSet(name string, stderr io.Writer, c *commonFlags, environ []string) *flag.FlagSet {
	fs := flag.NewFlagSet("statussync "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		_, _ = fmt.Fprintf(stderr, "usage: statussync %s [flags]\n\nflags:\n", name)
		fs.PrintDefaults()
		_, _ = fmt.Fprint(stderr, "\nRun 'statussync --help' for the list of commands.\n")
	}
	fs.StringVar(&c.configFile, "config.file", lookupEnv(environ, config.EnvConfigFile),
		"configuration file (env "+config.EnvConfigFile+"); with none, the built-in defaults")
	fs.StringVar(&c.logLevel, "log.level", "info", "log level: "+strings.Join(logLevels, ", "))
	fs.StringVar(&c.logFormat, "log.format", "json", "log format: json or text")
	return fs
}

func lookupEnv(environ []string, key string) string {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

// logLevels are the values --log.level takes.
var logLevels = []string{"debug", "info", "warn", "error"}

func (c *commonFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if !slices.Contains(logLevels, strings.ToLower(c.logLevel)) || level.UnmarshalText([]byte(c.logLevel)) != nil {
		return nil, fmt.Errorf("--log.level %q must be one of %s", c.logLevel, strings.Join(logLevels, ", "))
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: durationsAsText}
	switch c.logFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log.format %q must be json or text", c.logFormat)
}

// durationsAsText writes every duration the way the text handler does
// ("1.234s", "250ms") in both formats: slog's JSON handler would otherwise
// write nanoseconds, so the same log line would change unit with
// --log.format.
func durationsAsText(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}

func runDaemon(ctx context.Context, args, environ []string, stderr io.Writer) int {
	var c commonFlags
	fs := newFlagSet("run", stderr, &c, environ)
	listen := fs.String("web.listen-address", ":9470", "address for /metrics, /healthz, /readyz and /-/reload")
	reloadDetail := fs.Bool("web.reload-detail", false, "answer a rejected POST /-/reload with every problem (default: only their number; the log has them)")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	logger, err := c.logger(stderr)
	if err != nil {
		return usageError(stderr, "run", err.Error())
	}
	bi := buildinfo.Get()
	logger.Info("starting statussync", "version", bi.Version, "revision", bi.Revision, "config_file", c.configFile)
	if c.configFile == "" {
		logger.Warn("no --config.file (or " + config.EnvConfigFile + "): running the built-in defaults, which check nothing")
	}
	a, err := app.New(app.Options{
		ConfigFile:    c.configFile,
		ListenAddress: *listen,
		Environ:       environ,
		Logger:        logger,
		HandleSIGHUP:  true,
		ReloadDetail:  *reloadDetail,
	})
	if err != nil {
		for _, p := range config.Problems(err) {
			logger.Error("invalid configuration", "err", config.RedactURLs(p.Error()))
		}
		return exitError
	}
	if err := a.Run(ctx); err != nil {
		logger.Error("statussync stopped with an error", "err", err)
		return exitError
	}
	return exitOK
}

func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// parseFlags parses a command's flags and refuses anything left over: a
// stray word is a typo or a misplaced command (`statussync --log.level
// debug chek`, `probe web-1`), never something to ignore. ok is false when
// the command must exit with code.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		return flagExit(err), false
	}
	if fs.NArg() > 0 {
		name := strings.TrimPrefix(fs.Name(), "statussync ")
		what := "unexpected argument"
		if name == "run" {
			what = "unknown command or unexpected argument"
		}
		return usageError(stderr, name, fmt.Sprintf("%s %q", what, fs.Arg(0))), false
	}
	return 0, true
}

// usageError prints a usage problem with the command's usage line and
// returns the usage exit code.
func usageError(stderr io.Writer, cmd, msg string) int {
	_, _ = fmt.Fprintf(stderr, "statussync %s: %s\nusage: statussync %s [flags] (see 'statussync %s -h'; commands: 'statussync --help')\n", cmd, msg, cmd, cmd)
	return exitUsage
}
