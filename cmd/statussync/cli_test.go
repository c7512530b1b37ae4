package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/statussync/statussync/internal/testkit"
)

// Issue #15 point 5: unknown commands and stray arguments are usage errors,
// never a daemon start or a silently wider probe; --help lists the
// commands and --version works.
func TestCLIStrictness(t *testing.T) {
	p := writeFile(t, "monitors:\n  - {name: a, tcp: {address: \"127.0.0.1:1\"}}\n")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // in stdout+stderr
	}{
		{"unknown command", []string{"chek"}, exitUsage, `unknown command "chek"`},
		{"unknown command after flags", []string{"--config.file", p, "chek"}, exitUsage, `unknown command or unexpected argument "chek"`},
		{"stray argument to probe", []string{"probe", "--config.file", p, "web-1"}, exitUsage, `unexpected argument "web-1"`},
		{"stray argument to check", []string{"check", "--config.file", p, "extra"}, exitUsage, `statussync check: unexpected argument "extra"`},
		{"stray argument to version", []string{"version", "now"}, exitUsage, `unexpected argument "now"`},
		{"--help lists the commands", []string{"--help"}, exitOK, "check     load and validate"},
		{"-h lists the commands", []string{"-h"}, exitOK, "probe     run monitors once"},
		{"--version", []string{"--version"}, exitOK, "statussync "},
		{"--log.level lists the levels", []string{"run", "--log.level", "verbose"}, exitUsage, `--log.level "verbose" must be one of debug, info, warn, error`},
		{"a command's -h has its usage line", []string{"check", "-h"}, exitOK, "usage: statussync check [flags]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, tc.args...)
			if code != tc.code || !strings.Contains(out+errOut, tc.want) {
				t.Errorf("statussync %s = exit %d, want %d with %q\nstdout: %s\nstderr: %s", strings.Join(tc.args, " "), code, tc.code, tc.want, out, errOut)
			}
			if tc.code == exitUsage && !strings.Contains(errOut, "usage: statussync") {
				t.Errorf("a usage error without a usage line:\n%s", errOut)
			}
		})
	}
}

// Repeated --monitor probes every monitor named; an unknown one is an
// error listing the names that exist.
func TestProbeSeveralMonitors(t *testing.T) {
	open, shut := testkit.Listener(t), testkit.ClosedAddr(t)
	p := writeFile(t, "monitors:\n  - {name: a, tcp: {address: \""+open+"\"}}\n  - {name: b, tcp: {address: \""+open+"\"}}\n  - {name: c, tcp: {address: \""+shut+"\"}}\n")
	code, out, errOut := runCmd(t, "probe", "--config.file", p, "--monitor", "a", "--monitor", "b")
	if code != exitOK || !strings.Contains(out, "\na ") || !strings.Contains(out, "\nb ") || strings.Contains(out, "\nc ") {
		t.Errorf("probe --monitor a --monitor b = %d:\n%s%s", code, out, errOut)
	}
	code, _, errOut = runCmd(t, "probe", "--config.file", p, "--monitor", "a", "--monitor", "nope")
	if code != exitUsage || !strings.Contains(errOut, `no monitor named "nope"; the monitors are: a, b, c`) {
		t.Errorf("probe --monitor nope = %d: %s", code, errOut)
	}
}

// Issue #15 point 7: probe never writes, so it must not need the Cachet
// token file; and #13 point 13: probe --monitor prints no URL password.
func TestProbeNeedsNoCachetToken(t *testing.T) {
	open := testkit.Listener(t)
	p := writeFile(t, "cachet: {url: 'https://status.example.org/api', token_file: /nonexistent/token}\n"+
		"monitors:\n  - {name: a, tcp: {address: \""+open+"\"}}\n")
	code, out, errOut := runCmd(t, "probe", "--config.file", p)
	if code != exitOK || !strings.Contains(out, "\na ") {
		t.Errorf("probe with an unreadable cachet.token_file = %d:\n%s%s", code, out, errOut)
	}
	if code, _, _ := runCmd(t, "check", "--offline", "--config.file", p); code != exitError {
		t.Errorf("check must still require the token file; exit %d", code)
	}
}

func TestProbeRedactsURLPassword(t *testing.T) {
	const pw = "probe-canary-pw"
	p := writeFile(t, "monitors:\n  - {name: a, timeout: 2s, http: {url: 'http://user:"+pw+"@"+testkit.ClosedAddr(t)+"/'}}\n")
	_, out, errOut := runCmd(t, "probe", "--config.file", p, "--monitor", "a")
	if strings.Contains(out+errOut, pw) {
		t.Errorf("probe --monitor printed the URL's password:\n%s%s", out, errOut)
	}
	if !strings.Contains(out, "user:xxxxx@") {
		t.Errorf("probe --monitor should show the redacted URL:\n%s", out)
	}
}

// Issue #15 point 6: an empty configuration is a warning, not a silent ok.
func TestCheckWarnsAboutNothingToCheck(t *testing.T) {
	empty := writeFile(t, "cachet: {dry_run: true}\n")
	code, _, errOut := runCmd(t, "check", "--config.file", empty)
	if code != exitOK || !strings.Contains(errOut, "warning: ") || !strings.Contains(errOut, "has no monitors") {
		t.Errorf("check of a file without monitors = %d: %q", code, errOut)
	}
	code, _, errOut = runCmd(t, "check")
	if code != exitOK || !strings.Contains(errOut, "warning: no --config.file") {
		t.Errorf("check without --config.file = %d: %q", code, errOut)
	}
}

// Issue #15 point 7: JSON and text logs write a latency in the same unit.
func TestLogsUseOneUnitForDurations(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		var b strings.Builder
		c := commonFlags{logLevel: "info", logFormat: format}
		logger, err := c.logger(&b)
		if err != nil {
			t.Fatal(err)
		}
		logger.Info("check result", "latency", 1500*time.Millisecond)
		if !strings.Contains(b.String(), "1.5s") {
			t.Errorf("%s log writes a latency of 1.5s as: %s", format, b.String())
		}
	}
}

// Issue #15 point 6: `run` without --config.file, or with a file that has
// no monitors, says so instead of starting silently.
func TestRunWarnsAboutNothingToCheck(t *testing.T) {
	empty := writeFile(t, "cachet: {dry_run: true}\n")
	for _, args := range [][]string{
		{"run", "--web.listen-address", "127.0.0.1:0"},
		{"run", "--web.listen-address", "127.0.0.1:0", "--config.file", empty},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		logs := &testkit.SyncBuffer{}
		code := run(ctx, args, nil, &bytes.Buffer{}, logs)
		cancel()
		if code != exitOK || !strings.Contains(logs.String(), `"level":"WARN"`) ||
			!(strings.Contains(logs.String(), "no --config.file") || strings.Contains(logs.String(), "has no monitors")) {
			t.Errorf("statussync %s = exit %d, want a warning:\n%s", strings.Join(args, " "), code, logs.String())
		}
	}
}
