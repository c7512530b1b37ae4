package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/statussync/statussync/cachet/cachettest"
	"github.com/statussync/statussync/internal/testkit"
)

// Issue #15 point 8: the README opens with the quickstart and the test
// command, and its next paragraph tries statussync against the in-tree
// fake Cachet in three commands. This runs them: the fake (in-process, at
// the address the example's cachet.url is overridden to), statussync with
// the example file, and the stand-in service on 127.0.0.1:8099, started
// and stopped, while the component goes down, up and down on the page.
func TestReadmeFakeCachetTryout(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(readme), "```sh\n")
	if len(blocks) < 3 {
		t.Fatal("README.md needs two sh blocks at the top")
	}
	first := blocks[1][:strings.Index(blocks[1], "```")]
	if !strings.Contains(first, "deploy/examples/quickstart.yaml") || !strings.Contains(first, "./scripts/test.sh") {
		t.Errorf("README.md must open with the quickstart and ./scripts/test.sh:\n%s", first)
	}
	if strings.Contains(blocks[0], "##") || strings.Contains(blocks[1], "\n## ") {
		t.Error("the tryout must come before the first section")
	}
	tryout := strings.Split(strings.TrimSpace(blocks[2][:strings.Index(blocks[2], "```")]), "\n")
	want := []string{
		"go run ./cachet/cachettest/cmd/fakecachet --token 'demo:*' --component 'Demo service'",
		"go run ./cmd/statussync --config.file deploy/examples/fakecachet.yaml --log.format text",
		"go run ./cachet/cachettest/cmd/fakecachet --listen 127.0.0.1:8099",
	}
	if strings.Join(tryout, "\n") != strings.Join(want, "\n") {
		t.Fatalf("README.md's second sh block is\n%s\nwant the three commands this test runs:\n%s", strings.Join(tryout, "\n"), strings.Join(want, "\n"))
	}

	const service = "127.0.0.1:8099"
	if ln, err := net.Listen("tcp", service); err != nil {
		t.Skipf("%s, which the example watches, is busy: %v", service, err)
	} else {
		_ = ln.Close()
	}
	fake := cachettest.New(t, cachettest.WithToken("demo", "*"))
	comp := fake.AddComponent("Demo service", cachettest.StatusOperational)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &testkit.SyncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--config.file", "../../deploy/examples/fakecachet.yaml", "--log.format", "text", "--web.listen-address", "127.0.0.1:0"},
			[]string{"STATUSSYNC_CACHET__URL=" + fake.URL()}, &bytes.Buffer{}, logs)
	}()
	status := func(want int, what string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			c, _ := fake.Component(comp.ID)
			if c.Status == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: component status %d, want %d\n%s", what, c.Status, want, logs.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	status(cachettest.StatusMajorOutage, "before the service starts")
	ln, err := net.Listen("tcp", service)
	if err != nil {
		t.Fatal(err)
	}
	go testkit.AcceptAndClose(ln)
	status(cachettest.StatusOperational, "while the service runs")
	_ = ln.Close()
	status(cachettest.StatusMajorOutage, "after the service stopped")
	deadline := time.Now().Add(10 * time.Second)
	for len(fake.Incidents()) != 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(fake.Incidents()); n != 2 {
		t.Errorf("%d incidents, want 2 (one per outage)\n%s", n, logs.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("statussync exited %d", code)
	}
}
