// Command fakecachet runs the in-memory fake Cachet 3.x API of package
// cachettest on a local port, so that statussync can be tried without a
// real Cachet:
//
//	go run ./cachet/cachettest/cmd/fakecachet --token 'secret:*' --component API --component 'Web=1'
//
// then point statussync at http://127.0.0.1:8081/api with token "secret".
// State lives in memory and is lost on exit.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/statussync/statussync/cachet/cachettest"
)

const shutdownTimeout = 5 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fakecachet", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8081", "address to listen on")
	prefix := fs.String("prefix", cachettest.DefaultPrefix, `API path prefix, e.g. "/api" or "/status/api"`)
	rateLimit := fs.Int("rate-limit", 300, "requests per minute before 429 (0 disables)")
	latency := fs.Duration("latency", 0, "delay added to every response")
	protected := fs.Bool("protected", false, "require a token for reads too")
	legacy := fs.Bool("legacy-shapes", false, "serve the flat pre-2025 response shapes")
	profile := fs.String("profile", cachettest.ProfileCurrent.String(), "Cachet core era to behave like: "+profileNames())
	var tokens, components, metrics listFlag
	fs.Var(&tokens, "token", `bearer token and abilities, "token:*" or "token:components.manage,incidents.manage" (repeatable)`)
	fs.Var(&components, "component", `seed a component, "Name" or "Name=status" with status 1-6 (repeatable)`)
	fs.Var(&metrics, "metric", `seed a metric, "Name:suffix" or "Name:suffix:threshold" (repeatable)`)
	if err := fs.Parse(args); err != nil {
		return 2
	}

	prof, ok := parseProfile(*profile)
	if !ok {
		fmt.Fprintf(stderr, "fakecachet: unknown --profile %q, want one of %s\n", *profile, profileNames())
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	cfg := cachettest.Config{
		Profile:            prof,
		Prefix:             *prefix,
		Tokens:             map[string][]string{},
		RateLimitPerMinute: *rateLimit,
		APIProtected:       *protected,
		LegacyShapes:       *legacy,
		Logger:             logger,
	}
	for _, t := range tokens {
		tok, abilities := parseToken(t)
		if tok == "" {
			fmt.Fprintf(stderr, "fakecachet: --token needs a token before the colon\n")
			return 2
		}
		cfg.Tokens[tok] = abilities
		logger.Info("token configured", "abilities", strings.Join(abilities, ","))
	}
	srv := cachettest.NewServer(cfg)
	srv.SetLatency(*latency)
	for _, c := range components {
		name, status, err := parseComponent(c)
		if err != nil {
			fmt.Fprintf(stderr, "fakecachet: --component %q: %v\n", c, err)
			return 2
		}
		comp := srv.AddComponent(name, status)
		logger.Info("component seeded", "id", comp.ID, "name", comp.Name, "status", comp.Status)
	}
	for _, m := range metrics {
		parts := strings.Split(m, ":")
		if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
			fmt.Fprintf(stderr, "fakecachet: --metric %q: want Name:suffix[:threshold]\n", m)
			return 2
		}
		threshold := 0
		if len(parts) > 2 {
			var err error
			if threshold, err = strconv.Atoi(parts[2]); err != nil {
				fmt.Fprintf(stderr, "fakecachet: --metric %q: threshold: %v\n", m, err)
				return 2
			}
		}
		met := srv.AddMetric(parts[0], parts[1], threshold)
		logger.Info("metric seeded", "id", met.ID, "name", met.Name, "threshold", met.Threshold)
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "fakecachet: listen: %v\n", err)
		return 1
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(stdout, "fake cachet api at http://%s%s\n", ln.Addr(), srv.Prefix())

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "fakecachet: serve: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "fakecachet: shutdown: %v\n", err)
		return 1
	}
	return 0
}

// parseToken splits "token:abilities"; no colon means all abilities.
func parseToken(v string) (string, []string) {
	i := strings.LastIndex(v, ":")
	if i < 0 {
		return v, []string{"*"}
	}
	var abilities []string
	for _, a := range strings.Split(v[i+1:], ",") {
		if a = strings.TrimSpace(a); a != "" {
			abilities = append(abilities, a)
		}
	}
	return v[:i], abilities
}

// parseComponent reads "Name" or "Name=status".
func parseComponent(v string) (string, int, error) {
	name, st, ok := strings.Cut(v, "=")
	name = strings.TrimSpace(name)
	if name == "" {
		return "", 0, errors.New("empty name")
	}
	if !ok {
		return name, cachettest.StatusOperational, nil
	}
	status, err := strconv.Atoi(st)
	if err != nil || status < 1 || status > 6 {
		return "", 0, fmt.Errorf("status %q is not 1-6", st)
	}
	return name, status, nil
}

func profileNames() string {
	var names []string
	for _, p := range cachettest.Profiles() {
		names = append(names, p.String())
	}
	return strings.Join(names, ", ")
}

func parseProfile(name string) (cachettest.Profile, bool) {
	for _, p := range cachettest.Profiles() {
		if p.String() == name {
			return p, true
		}
	}
	return 0, false
}
