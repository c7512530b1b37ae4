package faults

import (
	"os"
	"testing"

	"github.com/statussync/statussync/internal/testkit"
)

func TestMain(m *testing.M) { os.Exit(testkit.RunMain(m)) }

// child is one run of the statussync binary built from this checkout.
type child = testkit.Process

// startChild runs the binary with args and environ (nothing of the test's
// own environment is passed on). It does not wait for anything.
func startChild(tb testing.TB, environ []string, args ...string) *child {
	tb.Helper()
	return testkit.Start(tb, environ, args...)
}
