package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const importTestdata = "../../internal/importer/testdata"

// importAndCheck runs `statussync import ARGS`, writes its output to a file
// and runs `statussync check` on it, with the Cachet token in a file the
// environment names, as a deployment would provide it.
func importAndCheck(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), append([]string{"import"}, args...), nil, &out, &errb); code != exitOK {
		t.Fatalf("import %v = %d:\n%s", args, code, errb.String())
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "statussync.yml")
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(cfgPath, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(token, []byte("cachet-3-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var checkOut, checkErr bytes.Buffer
	code := run(context.Background(), []string{"check", "--config.file", cfgPath}, []string{"STATUSSYNC_CACHET__TOKEN_FILE=" + token}, &checkOut, &checkErr)
	if code != exitOK || !strings.HasPrefix(checkOut.String(), "configuration ok:") {
		t.Fatalf("check of the imported configuration = %d:\n%s%s\n%s", code, checkOut.String(), checkErr.String(), out.String())
	}
	return out.String(), errb.String()
}

func TestImportCachetMonitor(t *testing.T) {
	for _, tc := range []struct {
		fixture  string
		warnings []string // on stderr
		yaml     []string // in the output
	}{
		{
			fixture:  "upstream-example.yml",
			warnings: []string{"warning: api.url:", "warning: slack_webhook:", "imported 2 monitors and 2 components"},
			yaml:     []string{"url: https://demo.cachethq.io/api\n", "token_file: /run/secrets/cachet/token", "# WARNING: monitors[0].threshold:"},
		},
		{
			fixture:  "upstream-example.json",
			warnings: []string{"warning: api.token: not copied", "imported 2 monitors and 2 components"},
			yaml:     []string{"query_type: MX", "fail_if_none_matches_regexp:"},
		},
		{
			fixture:  "fork-strings.json",
			warnings: []string{`warning: monitors[5].type: "icmp" monitors are not supported`, "imported 6 monitors and 3 components"},
			yaml:     []string{"address: api.shop.example.org:443", "url: https://shop.example.org/healthz", "rule: quorum", "enabled: false"},
		},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			out, errOut := importAndCheck(t, "cachet-monitor", filepath.Join(importTestdata, "cachet-monitor", tc.fixture))
			for _, w := range tc.warnings {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			for _, y := range tc.yaml {
				if !strings.Contains(out, y) {
					t.Errorf("output lacks %q:\n%s", y, out)
				}
			}
			for _, token := range []string{"9yMHsdioQosnyVK4iCVR", "c2VjcmV0LWNhY2hldC10b2tlbg=="} {
				if strings.Contains(out, token) || strings.Contains(errOut, token) {
					t.Errorf("the Cachet token %s leaked into the output", token)
				}
			}
		})
	}
}

func TestImportCachetMonitorTokenFile(t *testing.T) {
	var out, errb bytes.Buffer
	fixture := filepath.Join(importTestdata, "cachet-monitor", "upstream-v1.json")
	// Flags may follow the file.
	code := run(context.Background(), []string{"import", "cachet-monitor", fixture, "--token-file", "/etc/statussync/cachet-token"}, nil, &out, &errb)
	if code != exitOK || !strings.Contains(out.String(), "token_file: /etc/statussync/cachet-token\n") {
		t.Errorf("import --token-file = %d:\n%s%s", code, out.String(), errb.String())
	}
}

func TestImportBlackbox(t *testing.T) {
	dir := filepath.Join(importTestdata, "blackbox")
	out, errOut := importAndCheck(t, "blackbox", "--modules", filepath.Join(dir, "blackbox.yml"),
		"--targets", filepath.Join(dir, "targets.txt"), "--module", "http_2xx", "--interval", "30s")
	for _, want := range []string{"interval: 30s", "- name: example.org/health", "protocol: ip4", "query_type: SOA"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, want := range []string{`warning: modules.icmp.prober: "icmp" probes are not supported`, "warning: modules.http_gzip.http.compression:", "imported 16 monitors and 16 components"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}

	out, _ = importAndCheck(t, "blackbox", "--modules", filepath.Join(dir, "blackbox.yml"),
		"--targets", filepath.Join(dir, "file_sd.json"), "--no-components")
	if strings.Contains(out, "components:") || !strings.Contains(out, "team: mail") {
		t.Errorf("--no-components with file_sd:\n%s", out)
	}
}

func TestImportErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	broken := write("broken.json", `{"api": {"url": `)
	list := write("list.yml", "- a\n- b\n")
	modules := write("modules.yml", "modules:\n  http_2xx:\n    prober: http\n    http:\n      tls_config:\n        ca_file: "+filepath.Join(dir, "missing-ca.pem")+"\n")
	targets := write("targets.txt", "https://example.org\n")

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no source", nil, exitUsage, "usage:"},
		{"help", []string{"-h"}, exitOK, "usage:"},
		{"unknown source", []string{"uptime-kuma", "x"}, exitUsage, `unknown import source "uptime-kuma"`},
		{"no file", []string{"cachet-monitor"}, exitUsage, "want one FILE, got 0"},
		{"two files", []string{"cachet-monitor", broken, list}, exitUsage, "want one FILE, got 2"},
		{"missing file", []string{"cachet-monitor", filepath.Join(dir, "nope.json")}, exitError, "no such file"},
		{"unparseable", []string{"cachet-monitor", broken}, exitError, "parse as JSON"},
		{"not a mapping", []string{"cachet-monitor", list}, exitError, "the top level must be a mapping"},
		{"blackbox without targets", []string{"blackbox", "--modules", modules}, exitUsage, "--modules and --targets are required"},
		{"blackbox bad interval", []string{"blackbox", "--modules", modules, "--targets", targets, "--interval", "10ms"}, exitUsage, "must be at least 1s"},
		{"blackbox modules unparseable", []string{"blackbox", "--modules", list, "--targets", targets}, exitError, "blackbox modules:"},
		// The output names a CA file that does not exist here: it is
		// printed, but does not load, and the exit code says so.
		{"output does not load", []string{"blackbox", "--modules", modules, "--targets", targets}, exitError, "does not load here (1 problems)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), append([]string{"import"}, tc.args...), nil, &out, &errb)
			if code != tc.code || !strings.Contains(errb.String(), tc.stderr) {
				t.Errorf("import %v = %d, stderr:\n%s\nwant %d and %q", tc.args, code, errb.String(), tc.code, tc.stderr)
			}
		})
	}
}
