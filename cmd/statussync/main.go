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
	"strings"
	"syscall"

	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/internal/app"
	"github.com/statussync/statussync/internal/buildinfo"
)

func main() {
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
  version   print the version

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
	fs.StringVar(&c.configFile, "config.file", lookupEnv(environ, config.EnvConfigFile),
		"configuration file (env "+config.EnvConfigFile+"); with none, the built-in defaults")
	fs.StringVar(&c.logLevel, "log.level", "info", "log level: debug, info, warn, error")
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

func (c *commonFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("--log.level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.logFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log.format %q must be json or text", c.logFormat)
}

func runDaemon(ctx context.Context, args, environ []string, stderr io.Writer) int {
	var c commonFlags
	fs := newFlagSet("run", stderr, &c, environ)
	listen := fs.String("web.listen-address", ":9470", "address for /metrics, /healthz, /readyz and /-/reload")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	logger, err := c.logger(stderr)
	if err != nil {
		_, _ = fmt.Fprintln(stderr, err)
		return exitUsage
	}
	bi := buildinfo.Get()
	logger.Info("starting statussync", "version", bi.Version, "revision", bi.Revision, "config_file", c.configFile)
	a, err := app.New(app.Options{
		ConfigFile:    c.configFile,
		ListenAddress: *listen,
		Environ:       environ,
		Logger:        logger,
		HandleSIGHUP:  true,
	})
	if err != nil {
		for _, p := range config.Problems(err) {
			logger.Error("invalid configuration", "err", p)
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
