package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/statussync/statussync/internal/testkit"
)

// startReloadable runs an App on a loopback port with the configuration in body
// and returns its base URL, a function rewriting the file, and its logs.
func startReloadable(t *testing.T, body string, opts Options) (url string, rewrite func(string), logs *testkit.SyncBuffer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "statussync.yml")
	rewrite = func(b string) {
		if err := os.WriteFile(path, []byte(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rewrite(body)
	logs = &testkit.SyncBuffer{}
	opts.ConfigFile, opts.ListenAddress = path, "127.0.0.1:0"
	opts.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	addr, err := a.Addr(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return "http://" + addr.String(), rewrite, logs
}

// Issue #15 point 7 and #13 point 13: POST /-/reload says what happened
// (applied, unchanged, rejected); a rejected reload answers an
// unauthenticated caller with a count only unless --web.reload-detail, and
// a password inside a URL reaches neither the answer nor the log.
func TestReloadAnswers(t *testing.T) {
	const password = "hunter2-canary"
	good := fmt.Sprintf("defaults: {interval: 1s, timeout: 500ms}\nmonitors:\n  - {name: a, tcp: {address: %q}}\n", testkit.Listener(t))
	bad := good + "  - {name: b, http: {url: 'http://user:" + password + "@exa mple.org/'}}\n  - {name: c, bogus: 1, tcp: {address: '127.0.0.1:1'}}\n"

	for _, detail := range []bool{false, true} {
		t.Run(fmt.Sprintf("detail=%v", detail), func(t *testing.T) {
			url, rewrite, logs := startReloadable(t, good, Options{ReloadDetail: detail})
			if code, body := post(t, url+"/-/reload"); code != http.StatusOK || body != "unchanged\n" {
				t.Errorf("reload of the same file = %d %q, want 200 unchanged", code, body)
			}
			rewrite(good + "# edited\n")
			if code, body := post(t, url+"/-/reload"); code != http.StatusOK || body != "applied\n" {
				t.Errorf("reload of an edited file = %d %q, want 200 applied", code, body)
			}
			rewrite(bad)
			code, body := post(t, url+"/-/reload")
			if code != http.StatusInternalServerError || !strings.HasPrefix(body, "rejected") {
				t.Errorf("reload of an invalid file = %d %q, want 500 rejected", code, body)
			}
			hasDetail := strings.Contains(body, "monitors[2].bogus")
			if hasDetail != detail {
				t.Errorf("detail=%v but the answer is:\n%s", detail, body)
			}
			if detail && !strings.Contains(body, `monitors[1].http.url (monitor "b"): is not a valid URL`) {
				t.Errorf("the URL problem is missing from the detailed answer:\n%s", body)
			}
			if !detail && !strings.Contains(body, "2 problem") {
				t.Errorf("the summary does not count the problems: %s", body)
			}
			if strings.Contains(body, password) || strings.Contains(logs.String(), password) {
				t.Errorf("the URL's password leaked:\nanswer: %s\nlogs: %s", body, logs.String())
			}
			if !strings.Contains(logs.String(), "monitors[1].http.url") {
				t.Error("the log lacks the rejected reload's problems")
			}
		})
	}
}

// Issue #15 point 7: a dry run's logs say it is one: no "writing to Cachet
// and polling ClouDNS" when nothing is written or polled, and no
// cachet_id=0 for a component matched by name.
func TestDryRunLogsTellTheTruth(t *testing.T) {
	body := fmt.Sprintf("defaults: {interval: 200ms, timeout: 100ms, failures_before_down: 1}\n"+
		"monitors:\n  - {name: down, tcp: {address: %q}}\ncomponents:\n  - {name: Web, monitors: [down]}\n", testkit.ClosedAddr(t))
	_, _, logs := startReloadable(t, body, Options{})
	eventually(t, "the dry run's decision", func() bool { return strings.Contains(logs.String(), "dry run: would update component") })
	eventually(t, "leadership", func() bool { return strings.Contains(logs.String(), `"msg":"leading`) })
	for _, bad := range []string{"writing to Cachet", "polling ClouDNS", `"cachet_id":0`} {
		if strings.Contains(logs.String(), bad) {
			t.Errorf("the dry run's logs say %s:\n%s", bad, logs.String())
		}
	}
}

// Issue #12's acceptance: a reload that changes only
// defaults.failures_before_down keeps every monitor's state (the
// fingerprint no longer covers thresholds, which the engine reads at each
// result).
func TestReloadOfThresholdsKeepsMonitorState(t *testing.T) {
	up, down := testkit.Listener(t), testkit.ClosedAddr(t)
	body := fmt.Sprintf("defaults: {interval: 200ms, timeout: 100ms, failures_before_down: 1, successes_before_up: 1}\n"+
		"monitors:\n  - {name: up, tcp: {address: %q}}\n  - {name: down, tcp: {address: %q}}\n  - {name: down2, successes_before_up: 2, tcp: {address: %q}}\n"+
		"components:\n  - {name: C, monitors: [up, down, down2]}\n", up, down, down)
	url, rewrite, logs := startReloadable(t, body, Options{})
	eventually(t, "every monitor decided", func() bool {
		l := logs.String()
		return strings.Contains(l, `"monitor":"down","from":"unknown","to":"down"`) &&
			strings.Contains(l, `"monitor":"down2","from":"unknown","to":"down"`) &&
			strings.Contains(l, `"monitor":"up","from":"unknown","to":"up"`)
	})
	rewrite(strings.Replace(body, "failures_before_down: 1", "failures_before_down: 4", 1))
	if code, answer := post(t, url+"/-/reload"); code != http.StatusOK || answer != "applied\n" {
		t.Fatalf("reload = %d %q", code, answer)
	}
	if !strings.Contains(logs.String(), `"state_kept":3`) {
		t.Errorf("the reload did not keep all 3 monitors' state:\n%s", logs.String())
	}
}

// Issue #13 point 9: a rotated bearer_token_file is used after a reload.
// The target accepts the old and the new token while the file rotates,
// then only the new one; the monitor must stay up.
func TestReloadUsesRotatedTokenFile(t *testing.T) {
	var accepted atomic.Value
	accepted.Store([]string{"Bearer tok-1"})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !slices.Contains(accepted.Load().([]string), r.Header.Get("Authorization")) {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	tokenFile := filepath.Join(t.TempDir(), "token")
	writeToken := func(tok string) {
		if err := os.WriteFile(tokenFile, []byte(tok+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeToken("tok-1")
	body := fmt.Sprintf("defaults: {interval: 100ms, timeout: 80ms, failures_before_down: 1, successes_before_up: 1}\n"+
		"monitors:\n  - {name: api, http: {url: %q, bearer_token_file: %q}}\n", srv.URL, tokenFile)
	url, _, logs := startReloadable(t, body, Options{})
	eventually(t, "the monitor up with the first token", func() bool {
		return strings.Contains(logs.String(), `"monitor":"api","from":"unknown","to":"up"`)
	})

	accepted.Store([]string{"Bearer tok-1", "Bearer tok-2"})
	writeToken("tok-2")
	if code, answer := post(t, url+"/-/reload"); code != http.StatusOK || answer != "applied\n" {
		t.Fatalf("reload after the rotation = %d %q", code, answer)
	}
	accepted.Store([]string{"Bearer tok-2"})
	mark := len(logs.String())
	time.Sleep(600 * time.Millisecond) // several checks with only the new token accepted
	if after := logs.String()[mark:]; strings.Contains(after, `"monitor":"api","from":"up","to":"down"`) {
		t.Errorf("the monitor went down after the rotation: it still sends the old token\n%s", after)
	}
}
