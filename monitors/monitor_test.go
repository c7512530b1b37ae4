package monitors

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
)

// TestMonitorHandlerLogsAsWith: a monitor's records, with attributes and
// groups added later, read exactly as through Logger.With, and a disabled
// level stays disabled.
func TestMonitorHandlerLogsAsWith(t *testing.T) {
	log := func(l *slog.Logger) {
		l.Debug("hidden")
		l.Info("check", "status", "down")
		l.With("a", 1).WithGroup("g").Warn("slow", "took", 2)
	}
	var want, got bytes.Buffer
	opts := &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	log(slog.New(slog.NewJSONHandler(&want, opts)).With("monitor", "web", "kind", "http"))
	h := &monitorHandler{base: slog.NewJSONHandler(&got, opts), name: "web", kind: "http"}
	log(slog.New(h))
	if got.String() != want.String() || want.Len() == 0 {
		t.Errorf("got\n%s\nwant\n%s", got.String(), want.String())
	}
	if h.Enabled(context.Background(), slog.LevelDebug) {
		t.Error("debug enabled below the base handler's level")
	}
}
