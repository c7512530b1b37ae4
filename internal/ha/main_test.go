package ha

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"k8s.io/client-go/rest"
)

// Environment of a child process that runs one Elector, so that a test can
// kill -9 a leader: see startChild.
const (
	envChild      = "STATUSSYNC_HA_TEST_CHILD"
	envChildURL   = "STATUSSYNC_HA_TEST_URL"
	envChildCA    = "STATUSSYNC_HA_TEST_CA"
	envChildToken = "STATUSSYNC_HA_TEST_TOKEN"
	envChildNS    = "STATUSSYNC_HA_TEST_NAMESPACE"
	envChildLease = "STATUSSYNC_HA_TEST_LEASE"
)

func TestMain(m *testing.M) {
	if id := os.Getenv(envChild); id != "" {
		os.Exit(childMain(id))
	}
	os.Exit(m.Run())
}

// childMain runs an Elector until SIGTERM, printing "leading" and
// "stopped" as its terms start and end.
func childMain(id string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	cfg := testConfig(os.Getenv(envChildNS), os.Getenv(envChildLease), id)
	e, err := New(cfg, Options{
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
		RESTConfig: &rest.Config{
			Host:            os.Getenv(envChildURL),
			BearerToken:     os.Getenv(envChildToken),
			TLSClientConfig: rest.TLSClientConfig{CAFile: os.Getenv(envChildCA)},
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	e.Run(ctx, Callbacks{
		OnStartedLeading: func(ctx context.Context) {
			fmt.Println("leading")
			<-ctx.Done()
		},
		OnStoppedLeading: func() { fmt.Println("stopped") },
	})
	return 0
}
