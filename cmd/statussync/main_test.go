package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/statussync/statussync/cloudns/cloudnstest"
	"github.com/statussync/statussync/internal/testkit"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, nil, &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheck(t *testing.T) {
	good := writeFile(t, "monitors:\n  - {name: a, tcp: {address: \"127.0.0.1:1\"}}\n  - {name: b, tcp: {address: \"127.0.0.1:2\"}}\ncomponents:\n  - {name: A, monitors: [a, b]}\n")
	code, out, _ := runCmd(t, "check", "--config.file", good)
	if code != 0 || strings.TrimSpace(out) != "configuration ok: 2 monitors (2 tcp), 1 components, cachet: dry run" {
		t.Errorf("check good = %d %q", code, out)
	}

	bad := writeFile(t, "monitors:\n  - {name: a, timeout: 5s, interval: 1s, tcp: {address: nope}}\nextra: 1\n")
	code, _, errOut := runCmd(t, "check", "--config.file", bad)
	if code != 1 {
		t.Errorf("check bad exit = %d, want 1", code)
	}
	for _, want := range []string{"(3 problems)", "extra: unknown key", "must be less than interval", "must be host:port"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("check output lacks %q:\n%s", want, errOut)
		}
	}
}

func TestCheckReadsConfigFileFromEnvironment(t *testing.T) {
	p := writeFile(t, "monitors:\n  - {name: a, tcp: {address: \"127.0.0.1:1\"}}\n")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"check"}, []string{"STATUSSYNC_CONFIG_FILE=" + p}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "1 monitors") {
		t.Errorf("check via env = %d %q %q", code, out.String(), errb.String())
	}
}

func TestVersionAndUsage(t *testing.T) {
	if code, out, _ := runCmd(t, "version"); code != 0 || !strings.HasPrefix(out, "statussync ") {
		t.Errorf("version = %d %q", code, out)
	}
	if code, _, errOut := runCmd(t, "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command = %d %q", code, errOut)
	}
	if code, _, _ := runCmd(t, "run", "--log.format", "xml"); code != 2 {
		t.Errorf("bad --log.format exit = %d, want 2", code)
	}
}

func TestProbe(t *testing.T) {
	open, closedAddr := testkit.Listener(t), testkit.ClosedAddr(t)
	p := writeFile(t, "monitors:\n  - {name: open, tcp: {address: \""+open+"\"}}\n  - {name: shut, tcp: {address: \""+closedAddr+"\"}}\n")

	code, out, _ := runCmd(t, "probe", "--config.file", p)
	if code != exitProbeBad {
		t.Errorf("probe with a down monitor exit = %d, want %d", code, exitProbeBad)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "MONITOR") ||
		!strings.Contains(lines[1], "open") || !strings.Contains(lines[1], "up") ||
		!strings.Contains(lines[2], "shut") || !strings.Contains(lines[2], "down") {
		t.Errorf("probe table:\n%s", out)
	}

	code, out, _ = runCmd(t, "probe", "--config.file", p, "--monitor", "open")
	if code != 0 || strings.Contains(out, "shut") {
		t.Errorf("probe --monitor open = %d:\n%s", code, out)
	}
	if code, _, _ := runCmd(t, "probe", "--config.file", p, "--monitor", "nope"); code != exitUsage {
		t.Errorf("probe of an unknown monitor exit = %d", code)
	}
}

// TestQuickstart runs the README's first command in-process: it must serve
// /metrics and log one up and one down monitor within a few seconds, then
// stop cleanly.
func TestQuickstart(t *testing.T) {
	if ln, err := net.Listen("tcp", "127.0.0.1:9470"); err != nil {
		t.Skipf("port 9470, which the quickstart probes, is busy: %v", err)
	} else {
		_ = ln.Close()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &testkit.SyncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--config.file", "../../deploy/examples/quickstart.yaml", "--web.listen-address", "127.0.0.1:9470"}, nil, &bytes.Buffer{}, logs)
	}()
	deadline := time.Now().Add(15 * time.Second)
	for !(strings.Contains(logs.String(), `"monitor":"statussync-self","from":"unknown","to":"up"`) &&
		strings.Contains(logs.String(), `"monitor":"closed-port","from":"unknown","to":"down"`)) {
		if time.Now().After(deadline) {
			t.Fatalf("no up and down monitor logged:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := http.Get("http://127.0.0.1:9470/metrics")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/metrics = %d", resp.StatusCode)
	}
	if !strings.Contains(logs.String(), "dry run: would update component") {
		t.Error("dry run did not log the component changes it would write")
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d after SIGTERM-equivalent", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("quickstart did not stop")
	}
}

func TestCheckAndProbeWithCloudNS(t *testing.T) {
	srv := cloudnstest.New(t)
	srv.AddIdentity(cloudnstest.Identity{AuthID: 4242, Password: "cloudns-pw-for-test"})
	srv.AddCheck(cloudnstest.Check{Name: "mail-smtp", IP: "192.0.2.10", Port: 25, Status: cloudnstest.StatusDown})
	srv.AddCheck(cloudnstest.Check{Name: "web", IP: "192.0.2.11", Status: cloudnstest.StatusUp})
	p := writeFile(t, `
cloudns: {url: "`+srv.URL()+`", auth_id: 4242, password: cloudns-pw-for-test, poll_interval: 10s, timeout: 2s}
monitors:
  - {name: mail, cloudns: {check_name: mail-smtp}}
  - {name: web, cloudns: {check_name: web}}
  - {name: gone, cloudns: {check_name: decommissioned}}
`)
	code, out, errOut := runCmd(t, "check", "--config.file", p)
	if code != 0 || !strings.Contains(out, "3 monitors (3 cloudns)") {
		t.Errorf("check = %d %q", code, out)
	}
	if !strings.Contains(errOut, `warning: monitors[2].cloudns.check_name (monitor "gone"): no ClouDNS check named "decommissioned"`) ||
		strings.Contains(errOut, "mail-smtp") {
		t.Errorf("check warnings:\n%s", errOut)
	}

	code, out, _ = runCmd(t, "probe", "--config.file", p)
	if code != exitProbeBad {
		t.Errorf("probe exit = %d, want %d (mail is down)", code, exitProbeBad)
	}
	for _, want := range []string{"ClouDNS check down", "ClouDNS check up", "ClouDNS check not found"} {
		if !strings.Contains(out, want) {
			t.Errorf("probe output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out+errOut, "cloudns-pw-for-test") {
		t.Error("the ClouDNS password was printed")
	}
}

func TestCheckOfflineMakesNoClouDNSCall(t *testing.T) {
	srv := cloudnstest.New(t)
	srv.AddIdentity(cloudnstest.Identity{AuthID: 4242, Password: "pw-offline-test"})
	p := writeFile(t, "cloudns: {url: \""+srv.URL()+"\", auth_id: 4242, password: pw-offline-test}\nmonitors:\n  - {name: gone, cloudns: {check_name: nope}}\n")
	code, _, errOut := runCmd(t, "check", "--offline", "--config.file", p)
	if code != 0 || strings.Contains(errOut, "warning") || srv.CallCount("") != 0 {
		t.Errorf("check --offline = %d, %q, %d ClouDNS calls", code, errOut, srv.CallCount(""))
	}
}
