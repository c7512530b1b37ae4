package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/statussync/statussync/cloudns/cloudnstest"
	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/internal/checksfile"
	"github.com/statussync/statussync/monitors"
)

const (
	cloudnsTestPassword = "cloudns-pw-for-test-0123"
	checksFixture       = "../../internal/checksfile/testdata/checks-36.yaml"
)

func runEnv(t *testing.T, environ []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, environ, &out, &errb)
	return code, out.String(), errb.String()
}

func writeNamed(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func newCloudNSFake(t *testing.T) *cloudnstest.Server {
	t.Helper()
	srv := cloudnstest.New(t)
	srv.AddIdentity(cloudnstest.Identity{AuthID: 4242, Password: cloudnsTestPassword})
	return srv
}

// TestCloudNSPlanApplyCommands runs the commands as CI would: plan exits 2
// with changes, apply 0, plan again 0; secrets appear nowhere.
func TestCloudNSPlanApplyCommands(t *testing.T) {
	t.Parallel()
	srv := newCloudNSFake(t)
	dir := t.TempDir()
	checks := writeNamed(t, dir, "checks.yaml", `
- name: www.example.org
  check_type: 18
  host: www.example.org
  ip: www.example.org
  port: 443
  path: /status?full
  http_status_code: 200
- name: Mail submission
  check_type: 15
  host: smtp.example.org
  ip: smtp.example.org
  port: 587
  notifications: {type: mail, value: MAIL_ALERTS, is_env_var: true}
`)
	cfg := writeNamed(t, dir, "statussync.yml", `
cloudns:
  url: "`+srv.URL()+`"
  auth_id: 4242
  checks_file: "`+checks+`"
  checks_default_notification: "mail:$PAGERDUTY_EMAIL"
`)
	env := []string{"STATUSSYNC_CLOUDNS__PASSWORD=" + cloudnsTestPassword, "PAGERDUTY_EMAIL=pd@example.org", "MAIL_ALERTS=mail-team@example.org"}
	secrets := []string{cloudnsTestPassword, "pd@example.org", "mail-team@example.org"}
	noSecrets := func(what, s string) {
		t.Helper()
		for _, sec := range secrets {
			if strings.Contains(s, sec) {
				t.Errorf("%s shows %q:\n%s", what, sec, s)
			}
		}
	}

	code, out, errOut := runEnv(t, env, "cloudns", "plan", "--config.file", cfg)
	noSecrets("plan", out+errOut)
	if code != exitChanges || !strings.Contains(out, "Plan: 2 to create, 0 to update, 0 to delete.") ||
		!strings.Contains(out, "notification + mail $PAGERDUTY_EMAIL") || !strings.Contains(out, "notification + mail $MAIL_ALERTS") {
		t.Fatalf("plan = %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runEnv(t, env, "cloudns", "apply", "--config.file", cfg, "--output", "json")
	noSecrets("apply", out+errOut)
	var applied struct {
		Plan   struct{ Creates int }   `json:"plan"`
		Report struct{ Done []string } `json:"report"`
	}
	if err := json.Unmarshal([]byte(out), &applied); err != nil || code != exitOK || applied.Plan.Creates != 2 || len(applied.Report.Done) != 4 {
		t.Fatalf("apply = %d %v\n%s\n%s", code, err, out, errOut)
	}
	code, out, errOut = runEnv(t, env, "cloudns", "apply", "--config.file", cfg)
	if code != exitOK || !strings.Contains(out, "Nothing to do.") || strings.Contains(out, "Apply complete") {
		t.Fatalf("second apply = %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runEnv(t, env, "cloudns", "plan", "--config.file", cfg, "--output", "json")
	noSecrets("json plan", out+errOut)
	var js struct {
		HasChanges bool `json:"has_changes"`
		Creates    int  `json:"creates"`
	}
	if err := json.Unmarshal([]byte(out), &js); err != nil || code != exitOK || js.HasChanges {
		t.Fatalf("json plan = %d %v\n%s\n%s", code, err, out, errOut)
	}
	for _, c := range srv.Calls() {
		if c.CredentialsInURL {
			t.Errorf("%s sent credentials in the URL", c.Path)
		}
	}

	// Errors exit 1 and say what is wrong.
	code, _, errOut = runEnv(t, env[:2], "cloudns", "plan", "--config.file", cfg)
	if code != exitError || !strings.Contains(errOut, `checks[1] ("Mail submission").notifications.value: environment variable MAIL_ALERTS is not set`) {
		t.Errorf("plan without MAIL_ALERTS = %d\n%s", code, errOut)
	}
	code, _, errOut = runEnv(t, append([]string{"STATUSSYNC_CLOUDNS__PASSWORD=wrong-password"}, env[1:]...), "cloudns", "plan", "--config.file", cfg)
	if code != exitError || !strings.Contains(errOut, cloudnstest.TextAuthFailed) {
		t.Errorf("plan with a wrong password = %d\n%s", code, errOut)
	}
	if code, _, _ := runEnv(t, env, "cloudns", "destroy"); code != exitError {
		t.Errorf("unknown cloudns subcommand exit = %d", code)
	}
	if code, _, _ := runEnv(t, env, "cloudns", "plan", "--config.file", cfg, "extra"); code != exitError {
		t.Errorf("extra argument exit = %d", code)
	}
	if code, _, _ := runEnv(t, env, "cloudns", "plan", "--bogus"); code != exitError {
		t.Errorf("unknown flag exit = %d, want 1 (2 means changes)", code)
	}
}

// TestImportCloudNSFile: each entry of the 36-check fixture becomes one
// cloudns monitor that finds its check by name (against an account holding
// those checks), with a component each; the output passes check --offline.
func TestImportCloudNSFile(t *testing.T) {
	t.Parallel()
	fixture, err := filepath.Abs(checksFixture)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runEnv(t, nil, "import", "cloudns", "--auth-id", "4242", fixture)
	if code != exitOK {
		t.Fatalf("import = %d\n%s", code, errOut)
	}
	dir := t.TempDir()
	imported := writeNamed(t, dir, "statussync.yml", out)
	if !strings.Contains(out, "Grouping is left to you") {
		t.Errorf("output does not say grouping is left to the user:\n%s", out)
	}

	pwFile := writeNamed(t, dir, "pw", cloudnsTestPassword+"\n")
	env := []string{"STATUSSYNC_CLOUDNS__PASSWORD_FILE=" + pwFile}
	code, checkOut, checkErr := runEnv(t, env, "check", "--offline", "--config.file", imported)
	if code != exitOK || checkErr != "" || !strings.Contains(checkOut, "36 monitors (36 cloudns), 36 components") {
		t.Fatalf("check --offline = %d\n%s\n%s", code, checkOut, checkErr)
	}

	data, _ := os.ReadFile(fixture)
	file, err := checksfile.Parse(data, "checks-36.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv := newCloudNSFake(t)
	for _, e := range file.Entries {
		srv.AddCheck(cloudnstest.Check{Name: e.Name, Type: e.Type, IP: e.Params["ip"], Status: cloudnstest.StatusUp})
	}
	// A check of the account that the file does not declare: no monitor.
	srv.AddCheck(cloudnstest.Check{Name: "hand-made", IP: "192.0.2.1"})
	cfg, err := config.Load(imported, append(env, "STATUSSYNC_CLOUDNS__URL="+srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Monitors) != len(file.Entries) || len(cfg.Components) != len(file.Entries) {
		t.Fatalf("%d monitors and %d components for %d entries", len(cfg.Monitors), len(cfg.Components), len(file.Entries))
	}
	for i, e := range file.Entries {
		m, c := cfg.Monitors[i], cfg.Components[i]
		if m.Name != e.Name || m.CloudNS == nil || m.CloudNS.CheckName != e.Name {
			t.Errorf("%s: monitor %+v", e.Where(), m)
		}
		if c.Name != e.Name || len(c.Monitors) != 1 || c.Monitors[0] != e.Name {
			t.Errorf("%s: component %+v", e.Where(), c)
		}
	}
	poller, err := newPoller(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer poller.Close()
	warnings, err := monitors.CheckCloudNSMonitors(context.Background(), cfg, poller)
	if err != nil || len(warnings) != 0 {
		t.Fatalf("monitors do not find their checks: %v %q", err, warnings)
	}
}

// TestImportCloudNSFromAccount reads the account's check list; names that
// are not unique are selected by id, with a warning.
func TestImportCloudNSFromAccount(t *testing.T) {
	t.Parallel()
	srv := newCloudNSFake(t)
	srv.AddCheck(cloudnstest.Check{Name: "Flathub API", IP: "flathub.example.org"})
	srv.AddCheck(cloudnstest.Check{Name: "smtp relay", Type: 15, IP: "smtp.example.org", Port: 25})
	twin := srv.AddCheck(cloudnstest.Check{Name: "twin", IP: "a.example.org"})
	srv.AddCheck(cloudnstest.Check{Name: "twin", IP: "b.example.org"})
	dir := t.TempDir()
	pw := writeNamed(t, dir, "pw", cloudnsTestPassword)
	cfg := writeNamed(t, dir, "c.yml", "cloudns: {url: \""+srv.URL()+"\", auth_id: 4242, password_file: \""+pw+"\"}\n")
	code, out, errOut := runEnv(t, nil, "import", "cloudns", "--from-account", "--config.file", cfg)
	if code != exitOK {
		t.Fatalf("import --from-account = %d\n%s", code, errOut)
	}
	for _, want := range []string{`cloudns: {check_name: "Flathub API"}`, `cloudns: {check_name: "smtp relay"}`, "check_id: 9903", "check_id: 9904", "auth_id: 4242"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "2 checks are named \"twin\"") || twin != 9903 {
		t.Errorf("no warning about the twins:\n%s", errOut)
	}
	if code, _, errOut := runEnv(t, nil, "import", "cloudns", checksFixture); code != exitUsage || !strings.Contains(errOut, "--auth-id") {
		t.Errorf("import without an identity = %d\n%s", code, errOut)
	}
}

// TestCheckWarnsAboutUndeclaredChecks: a cloudns monitor naming a check the
// checks file does not declare is a warning; an invalid checks file fails.
func TestCheckWarnsAboutUndeclaredChecks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	checks := writeNamed(t, dir, "checks.yaml", "- {name: www.example.org, check_type: 18, ip: www.example.org, port: 443}\n")
	cfg := writeNamed(t, dir, "c.yml", `
cloudns: {auth_id: 1, password: pw-for-check, checks_file: "`+checks+`"}
monitors:
  - {name: web, cloudns: {check_name: www.example.org}}
  - {name: mail, cloudns: {check_name: mail-smtp}}
`)
	code, _, errOut := runEnv(t, nil, "check", "--offline", "--config.file", cfg)
	want := `warning: monitors[1].cloudns.check_name (monitor "mail"): check "mail-smtp" is not declared in the checks file`
	if code != exitOK || !strings.Contains(errOut, want) || strings.Contains(errOut, "www.example.org") {
		t.Errorf("check = %d\n%s", code, errOut)
	}
	if err := os.WriteFile(checks, []byte("- {name: www.example.org, check_type: 18, ip: www.example.org, colour: blue}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runEnv(t, nil, "check", "--offline", "--config.file", cfg)
	if code != exitError || !strings.Contains(errOut, `checks[0] ("www.example.org").colour: unknown key`) {
		t.Errorf("check with an invalid checks file = %d\n%s", code, errOut)
	}
}
