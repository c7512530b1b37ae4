package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/statussync/statussync/cloudns/cloudnstest"
)

// TestCloudNSApplyFailureExitsOne: a call ClouDNS refuses midway makes
// apply exit 1 (a CI job must go red) and say which call failed with
// ClouDNS's own text, in text and in JSON; the re-run finishes the job.
func TestCloudNSApplyFailureExitsOne(t *testing.T) {
	t.Parallel()
	srv := newCloudNSFake(t)
	dir := t.TempDir()
	checks := writeNamed(t, dir, "checks.yaml", `
- {name: first, check_type: 17, ip: 192.0.2.1, notifications: []}
- {name: Flathub API, check_type: 18, host: flathub.example.org, ip: flathub.example.org, port: 443, notifications: []}
- {name: last, check_type: 17, ip: 192.0.2.3, notifications: []}
`)
	cfg := writeNamed(t, dir, "statussync.yml", "cloudns: {url: \""+srv.URL()+"\", auth_id: 4242, checks_file: \""+checks+"\"}\n")
	env := []string{"STATUSSYNC_CLOUDNS__PASSWORD=" + cloudnsTestPassword}
	const desc = "You have reached the limit of your monitoring checks."
	fail := cloudnstest.Fault{Path: cloudnstest.PathCreate, Params: map[string][]string{"name": {"Flathub API"}}, Body: cloudnstest.FailedBody(desc)}

	srv.Inject(fail)
	code, out, errOut := runEnv(t, env, "cloudns", "apply", "--config.file", cfg)
	if code != exitError || !strings.Contains(out, `FAILED: create check "Flathub API": ClouDNS said "`+desc+`"`) ||
		!strings.Contains(out, `not done: create check "last"`) || strings.Contains(out+errOut, cloudnsTestPassword) {
		t.Fatalf("apply = %d\n%s\n%s", code, out, errOut)
	}

	srv.Inject(fail)
	code, out, errOut = runEnv(t, env, "cloudns", "apply", "--config.file", cfg, "--output", "json")
	var js struct {
		Report struct {
			Failed  string   `json:"failed"`
			NotDone []string `json:"not_done"`
		} `json:"report"`
	}
	if err := json.Unmarshal([]byte(out), &js); err != nil || code != exitError || !strings.Contains(js.Report.Failed, desc) || len(js.Report.NotDone) != 1 {
		t.Fatalf("json apply = %d %v\n%s\n%s", code, err, out, errOut)
	}

	if code, out, errOut := runEnv(t, env, "cloudns", "apply", "--config.file", cfg); code != exitOK || !strings.Contains(out, "Apply complete: 2 steps done.") {
		t.Fatalf("re-run = %d\n%s\n%s", code, out, errOut)
	}
	if n := len(srv.Checks()); n != 3 {
		t.Errorf("account has %d checks after the re-run, want 3", n)
	}
}
