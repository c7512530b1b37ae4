package cachet

import (
	"context"
	"log/slog"
	"sync/atomic"
)

// countingHandler counts warning records; it lets tests observe retries.
type countingHandler struct{ warnings *atomic.Int32 }

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level == slog.LevelWarn && r.Message == "retrying cachet request" {
		h.warnings.Add(1)
	}
	return nil
}

func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countingHandler) WithGroup(string) slog.Handler      { return h }

func newCountingLogger(n *atomic.Int32) *slog.Logger { return slog.New(countingHandler{warnings: n}) }
