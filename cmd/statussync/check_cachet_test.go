package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/statussync/statussync/cachet/cachettest"
	"github.com/statussync/statussync/internal/testkit"
)

// TestCheckVerifiesCachet: check (without --offline) asks Cachet whether
// it takes the token and resolves every component, naming each one that
// does not; it writes nothing.
func TestCheckVerifiesCachet(t *testing.T) {
	srv := cachettest.New(t, cachettest.WithToken("1|goodTokenValue", "*"))
	web := srv.AddComponent("Website", 1)
	srv.AddComponent("GitLab", 1)
	srv.AddComponent("Twin", 1)
	srv.AddComponent("Twin", 1)
	target := testkit.Listener(t)

	cfg := func(token, components string) string {
		return writeFile(t, fmt.Sprintf(`
cachet: {url: %q, token: %q, timeout: 2s}
monitors:
  - {name: a, tcp: {address: %q}}
components:
%s`, srv.URL(), token, target, components))
	}
	good := "  - {name: Web, cachet_id: " + fmt.Sprint(web.ID) + ", monitors: [a]}\n  - {name: GitLab, monitors: [a]}\n"

	t.Run("all good", func(t *testing.T) {
		code, out, errOut := runCmd(t, "check", "--config.file", cfg("1|goodTokenValue", good))
		if code != 0 || !strings.HasPrefix(out, "configuration ok:") {
			t.Fatalf("check = %d\n%s%s", code, out, errOut)
		}
		if !strings.Contains(errOut, `components[0] "Web": cachet_id `+fmt.Sprint(web.ID)+` is named "Website"`) {
			t.Errorf("no warning about the label differing from the page's name:\n%s", errOut)
		}
	})
	t.Run("wrong token", func(t *testing.T) {
		code, _, errOut := runCmd(t, "check", "--config.file", cfg("2|wrongTokenValue", good))
		if code != 1 || !strings.Contains(errOut, "cachet.token: Cachet refuses it (401") {
			t.Fatalf("check with a wrong token = %d\n%s", code, errOut)
		}
		if strings.Contains(errOut, "wrongTokenValue") {
			t.Error("the token leaked")
		}
	})
	t.Run("components that do not resolve", func(t *testing.T) {
		code, _, errOut := runCmd(t, "check", "--config.file", cfg("1|goodTokenValue",
			"  - {name: Gone, cachet_id: 999, monitors: [a]}\n  - {name: gitlab, monitors: [a]}\n  - {name: Twin, monitors: [a]}\n  - {name: Website, monitors: [a]}\n"))
		if code != 1 {
			t.Fatalf("check = %d, want 1\n%s", code, errOut)
		}
		for _, want := range []string{
			`components[0] "Gone": cachet_id 999: no such component`,
			`components[1] "gitlab": no Cachet component has this name`,
			`named "GitLab"`,
			`components[2] "Twin": 2 Cachet components have this name`,
		} {
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr lacks %q:\n%s", want, errOut)
			}
		}
		if strings.Contains(errOut, `"Website"`) {
			t.Errorf("a component that resolves was reported:\n%s", errOut)
		}
	})
	t.Run("offline asks nothing", func(t *testing.T) {
		before := len(srv.Requests())
		if code, _, errOut := runCmd(t, "check", "--offline", "--config.file", cfg("2|wrongTokenValue", good)); code != 0 {
			t.Fatalf("check --offline = %d\n%s", code, errOut)
		}
		if n := len(srv.Requests()) - before; n != 0 {
			t.Errorf("check --offline sent %d requests to Cachet", n)
		}
	})
	for _, w := range srv.Writes() {
		t.Errorf("check wrote to Cachet: %s %s", w.Method, w.Path)
	}
	t.Run("unreachable cachet is a warning", func(t *testing.T) {
		p := writeFile(t, fmt.Sprintf("cachet: {url: \"http://%s/api\", token: x, timeout: 1s}\nmonitors:\n  - {name: a, tcp: {address: %q}}\n", testkit.ClosedAddr(t), target))
		code, _, errOut := runCmd(t, "check", "--config.file", p)
		if code != 0 || !strings.Contains(errOut, "warning: cachet.url: could not verify the token") {
			t.Fatalf("check with Cachet down = %d\n%s", code, errOut)
		}
	})
}
