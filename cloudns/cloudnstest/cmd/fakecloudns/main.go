// Command fakecloudns serves the cloudnstest fake of the ClouDNS monitoring
// API for local trials of statussync:
//
//	go run ./cloudns/cloudnstest/cmd/fakecloudns --auth-id 1001 --password secret --seed 250 --down 3
//
// Point the cloudns client's base URL at http://<listen>. The fake holds its
// state in memory only.
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
	"syscall"
	"time"

	"github.com/statussync/statussync/cloudns/cloudnstest"
)

const shutdownTimeout = 5 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr))
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("fakecloudns", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		listen      = fs.String("listen", "127.0.0.1:8053", "address to listen on")
		authID      = fs.Int("auth-id", 0, "API user id to accept")
		subAuthID   = fs.Int("sub-auth-id", 0, "API sub-user id to accept")
		subAuthUser = fs.String("sub-auth-user", "", "API sub-user name to accept")
		password    = fs.String("password", os.Getenv("FAKECLOUDNS_PASSWORD"), "password of the identity (default $FAKECLOUDNS_PASSWORD)")
		seed        = fs.Int("seed", 10, "number of web checks to create, all up")
		down        = fs.Int("down", 0, "number of the seeded checks to mark down")
		paused      = fs.Int("paused", 0, "number of the seeded checks, after the down ones, to pause")
		rateLimit   = fs.Int("rate-limit", cloudnstest.DefaultRateLimit, "per-IP requests per second before the rate-limit failure; 0 disables")
		emptyArray  = fs.Bool("empty-array", false, "answer [] instead of {} for empty pages")
	)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	if *password == "" || (*authID == 0 && *subAuthID == 0 && *subAuthUser == "") {
		fmt.Fprintln(stderr, "fakecloudns: need --password and at least one of --auth-id, --sub-auth-id, --sub-auth-user")
		return 2
	}
	if *down+*paused > *seed {
		fmt.Fprintln(stderr, "fakecloudns: --down plus --paused exceeds --seed")
		return 2
	}

	opts := []cloudnstest.Option{cloudnstest.WithRateLimit(*rateLimit)}
	if *emptyArray {
		opts = append(opts, cloudnstest.WithEmptyPage("[]"))
	}
	fake := cloudnstest.NewServer(opts...)
	defer fake.Close()
	if *authID != 0 {
		fake.AddIdentity(cloudnstest.Identity{AuthID: *authID, Password: *password})
	}
	if *subAuthID != 0 {
		fake.AddIdentity(cloudnstest.Identity{SubAuthID: *subAuthID, Password: *password})
	}
	if *subAuthUser != "" {
		fake.AddIdentity(cloudnstest.Identity{SubAuthUser: *subAuthUser, Password: *password})
	}
	ids := fake.Seed(*seed)
	for _, id := range ids[:*down] {
		fake.SetCheckStatus(id, cloudnstest.StatusDown)
	}
	for _, id := range ids[*down : *down+*paused] {
		fake.PauseCheck(id)
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "fakecloudns: %v\n", err)
		return 1
	}
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("fake cloudns listening", "addr", ln.Addr().String(), "checks", *seed, "down", *down, "paused", *paused)

	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "fakecloudns: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	fake.Close() // releases requests held by latency
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "fakecloudns: shutdown: %v\n", err)
		return 1
	}
	logger.Info("fake cloudns stopped")
	return 0
}
