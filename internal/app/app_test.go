package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/statussync/statussync/internal/testkit"
)

func get(tb testing.TB, url string) (int, string) {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func post(tb testing.TB, url string) (int, string) {
	tb.Helper()
	resp, err := http.Post(url, "text/plain", nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func metricLine(body, prefix string) string {
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, prefix+" ") {
			return l
		}
	}
	return ""
}

func TestServiceEndToEnd(t *testing.T) {
	up, down := testkit.Listener(t), testkit.ClosedAddr(t)
	cfgPath := filepath.Join(t.TempDir(), "statussync.yml")
	writeConfig := func(body string) {
		if err := os.WriteFile(cfgPath, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	base := fmt.Sprintf(`
defaults: {interval: 200ms, timeout: 100ms, failures_before_down: 1, successes_before_up: 1}
monitors:
  - {name: up, tcp: {address: %q}}
  - {name: down, tcp: {address: %q}}
components:
  - {name: Service, monitors: [up, down], rule: any_up}
`, up, down)
	writeConfig(base)

	logs := &testkit.SyncBuffer{}
	a, err := New(Options{
		ConfigFile:    cfgPath,
		ListenAddress: "127.0.0.1:0",
		Logger:        slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ReloadDetail:  true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	addr, err := a.Addr(ctx)
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + addr.String()

	if code, _ := get(t, url+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d", code)
	}
	eventually(t, "/readyz", func() bool { code, _ := get(t, url+"/readyz"); return code == http.StatusOK })
	eventually(t, "both probe results in /metrics", func() bool {
		_, body := get(t, url+"/metrics")
		return metricLine(body, `probe_success{monitor="up"}`) == `probe_success{monitor="up"} 1` &&
			metricLine(body, `probe_success{monitor="down"}`) == `probe_success{monitor="down"} 0`
	})
	_, body := get(t, url+"/metrics")
	for _, want := range []string{
		"statussync_build_info{",
		"statussync_config_last_reload_successful 1",
		"statussync_config_last_reload_success_timestamp_seconds ",
		"go_goroutines ",
		"process_start_time_seconds ",
		`statussync_monitor_checks_total{monitor="down",result="down"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// A valid reload that removes a monitor: its series disappear.
	writeConfig(strings.Replace(base, "rule: any_up", "rule: worst", 1) + "\n# reloaded\n")
	if code, msg := post(t, url+"/-/reload"); code != http.StatusOK {
		t.Fatalf("valid reload: %d %s", code, msg)
	}
	writeConfig(fmt.Sprintf(`
defaults: {interval: 200ms, timeout: 100ms}
monitors:
  - {name: up, tcp: {address: %q}}
`, up))
	if code, msg := post(t, url+"/-/reload"); code != http.StatusOK {
		t.Fatalf("valid reload: %d %s", code, msg)
	}
	_, body = get(t, url+"/metrics")
	if strings.Contains(body, `monitor="down"`) {
		t.Error("series of the removed monitor survived the reload")
	}
	if metricLine(body, "statussync_config_last_reload_successful") != "statussync_config_last_reload_successful 1" {
		t.Error("reload gauge not 1 after a valid reload")
	}

	// An invalid reload: rejected with every problem, gauge 0, old
	// configuration still running.
	writeConfig(`
monitors:
  - {name: up, interval: 1s, timeout: 2s, tcp: {address: "127.0.0.1:1"}}
  - {name: up, bogus: 1, tcp: {address: "127.0.0.1:1"}}
`)
	code, msg := post(t, url+"/-/reload")
	if code != http.StatusInternalServerError ||
		!strings.Contains(msg, `monitors[0].timeout (monitor "up"): 2s must be less than interval 1s`) ||
		!strings.Contains(msg, `monitors[1].bogus (monitor "up"): unknown key`) {
		t.Errorf("invalid reload answered %d:\n%s", code, msg)
	}
	_, body = get(t, url+"/metrics")
	if metricLine(body, "statussync_config_last_reload_successful") != "statussync_config_last_reload_successful 0" {
		t.Error("reload gauge not 0 after an invalid reload")
	}
	checks := func() string {
		_, b := get(t, url+"/metrics")
		return metricLine(b, `statussync_monitor_checks_total{monitor="up",result="up"}`)
	}
	before := checks()
	eventually(t, "the old configuration to keep checking", func() bool { return checks() != before })
	if strings.Count(logs.String(), "configuration reload failed") < 2 {
		t.Error("each problem of the invalid reload must be logged")
	}

	// Shutdown within the bound, cleanly.
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(ShutdownTimeout + time.Second):
		t.Fatal("shutdown exceeded its bound")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("shutdown took %v with nothing slow running", took)
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Error("server still answering after shutdown")
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yml")
	if err := os.WriteFile(path, []byte("monitors: [{name: x}]\nnope: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := New(Options{ConfigFile: path, ListenAddress: "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "nope: unknown key") || !strings.Contains(err.Error(), "needs one kind block") {
		t.Errorf("err = %v", err)
	}
}
