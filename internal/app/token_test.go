package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/statussync/statussync/cachet/cachettest"
)

// TestCachetTokenCheckedAtStartAndOnReload: a wrong token shows in /readyz
// and in statussync_cachet_token_state at start, before any write was
// needed; fixing it (a reload) shows valid; nothing is written to Cachet.
func TestCachetTokenCheckedAtStartAndOnReload(t *testing.T) {
	srv := cachettest.New(t, cachettest.WithToken("1|goodTokenValue", "*"))
	comp := srv.AddComponent("Web", 1)
	target := newTarget(t)
	path := filepath.Join(t.TempDir(), "statussync.yml")
	writeCfg := func(token string) {
		cfg := fmt.Sprintf(`
cachet: {url: %q, token: %q, timeout: 2s}
defaults: {interval: 100ms, timeout: 80ms}
monitors:
  - {name: web, http: {url: %q}}
components:
  - {name: Web, cachet_id: %d, monitors: [web]}
`, srv.URL(), token, target.URL, comp.ID)
		if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeCfg("2|wrongTokenValue")
	a, err := New(Options{ConfigFile: path, ListenAddress: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()
	addr, err := a.Addr(ctx)
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + addr.String()

	eventually(t, "/readyz to report the wrong token", func() bool {
		code, body := get(t, url+"/readyz")
		return code == http.StatusOK && strings.Contains(body, "cachet token: INVALID")
	})
	_, body := get(t, url+"/metrics")
	for _, want := range []string{
		`statussync_cachet_token_state{state="invalid"} 1`,
		`statussync_cachet_token_state{state="valid"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "wrongTokenValue") {
		t.Error("the token leaked into /metrics")
	}
	if _, body := get(t, url+"/readyz"); strings.Contains(body, "wrongTokenValue") {
		t.Error("the token leaked into /readyz")
	}

	writeCfg("1|goodTokenValue")
	if code, msg := post(t, url+"/-/reload"); code != http.StatusOK {
		t.Fatalf("reload: %d %s", code, msg)
	}
	eventually(t, "/readyz to report the fixed token", func() bool {
		_, body := get(t, url+"/readyz")
		return strings.Contains(body, "cachet token: valid")
	})
	_, body = get(t, url+"/metrics")
	if !strings.Contains(body, `statussync_cachet_token_state{state="valid"} 1`) {
		t.Error("metric does not show the valid token")
	}
	for _, w := range srv.Writes() {
		t.Errorf("unexpected write %s %s (%d)", w.Method, w.Path, w.StatusCode)
	}
	checks := 0
	for _, r := range srv.Requests() {
		if cachettest.IsTokenCheck(r) {
			checks++
		}
	}
	if checks == 0 {
		t.Error("no token check reached Cachet")
	}
}
