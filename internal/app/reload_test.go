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
