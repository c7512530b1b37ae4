package deploy

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The CI examples of deploy/ci (docs/cloudns-as-code.md): plan on merge
// requests, apply on the default branch, credentials from the CI's secrets,
// and a command line that the real binary accepts.

func readYAML(tb testing.TB, name string) map[string]any {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("ci", name))
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return m
}

func dig(m any, keys ...string) any {
	for _, k := range keys {
		mm, ok := m.(map[string]any)
		if !ok {
			return nil
		}
		m = mm[k]
	}
	return m
}

// commandAfterImage returns the statussync arguments of the docker run line
// in script: everything after "$STATUSSYNC_IMAGE" up to the redirection.
func commandAfterImage(tb testing.TB, script string) []string {
	tb.Helper()
	_, rest, ok := strings.Cut(script, `"$STATUSSYNC_IMAGE"`)
	if !ok {
		tb.Fatalf("no docker run of $STATUSSYNC_IMAGE in:\n%s", script)
	}
	rest, _, _ = strings.Cut(rest, "\n")
	rest, _, _ = strings.Cut(rest, ">")
	return strings.Fields(rest)
}

func TestGitHubWorkflowPlansOnPullRequestsAndAppliesOnMain(t *testing.T) {
	w := readYAML(t, "github-actions-cloudns.yml")
	if w["on"] == nil {
		w["on"] = w["true"] // YAML 1.1 reads the bare key on as a boolean
	}
	if dig(w, "on", "pull_request") == nil || !strings.Contains(toString(dig(w, "on", "push", "branches")), "main") {
		t.Errorf("triggers: %v", w["on"])
	}
	for _, k := range []string{"STATUSSYNC_CLOUDNS__AUTH_ID", "STATUSSYNC_CLOUDNS__PASSWORD"} {
		if v := toString(dig(w, "env", k)); !strings.HasPrefix(v, "${{ secrets.") {
			t.Errorf("env %s = %q, want a secret", k, v)
		}
	}
	plan, apply := dig(w, "jobs", "plan"), dig(w, "jobs", "apply")
	if !strings.Contains(toString(dig(plan, "if")), "pull_request") || !strings.Contains(toString(dig(apply, "if")), "push") {
		t.Errorf("job conditions: plan %v, apply %v", dig(plan, "if"), dig(apply, "if"))
	}
	planRun := stepRun(t, plan)
	if got := commandAfterImage(t, planRun); got[0] != "cloudns" || got[1] != "plan" {
		t.Errorf("plan job runs %v", got)
	}
	if !strings.Contains(planRun, "GITHUB_STEP_SUMMARY") {
		t.Error("plan is not in the job summary")
	}
	if got := commandAfterImage(t, stepRun(t, apply)); got[0] != "cloudns" || got[1] != "apply" {
		t.Errorf("apply job runs %v", got)
	}
	runCICommand(t, commandAfterImage(t, planRun), 2)
}

func TestGitLabJobPlansOnMergeRequestsAndAppliesOnDefaultBranch(t *testing.T) {
	g := readYAML(t, "gitlab-ci-cloudns.yml")
	plan, apply := dig(g, "cloudns-plan"), dig(g, "cloudns-apply")
	if !strings.Contains(toString(dig(plan, "rules")), "merge_request_event") || !strings.Contains(toString(dig(apply, "rules")), "$CI_DEFAULT_BRANCH") {
		t.Errorf("rules: plan %v, apply %v", dig(plan, "rules"), dig(apply, "rules"))
	}
	planScript, applyScript := toString(dig(plan, "script")), toString(dig(apply, "script"))
	if got := commandAfterImage(t, planScript); got[0] != "cloudns" || got[1] != "plan" {
		t.Errorf("plan job runs %v", got)
	}
	if got := commandAfterImage(t, applyScript); got[0] != "cloudns" || got[1] != "apply" {
		t.Errorf("apply job runs %v", got)
	}
	for _, s := range []string{planScript, applyScript} {
		if strings.Contains(s, "$STATUSSYNC_CLOUDNS__PASSWORD") {
			t.Error("the password is expanded on the command line instead of passed by name")
		}
	}
	runCICommand(t, commandAfterImage(t, planScript), 2)
}

func stepRun(tb testing.TB, job any) string {
	tb.Helper()
	steps, _ := dig(job, "steps").([]any)
	for _, s := range steps {
		if r := toString(dig(s, "run")); r != "" {
			return r
		}
	}
	tb.Fatal("job has no run step")
	return ""
}

func toString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	}
	b, _ := yaml.Marshal(v)
	return string(b)
}

// runCICommand runs the job's statussync arguments with the real binary in
// a directory laid out like the repository (the CI configuration and a
// checks file), against a ClouDNS stand-in holding no checks, and checks
// the exit code and that no secret is printed.
func runCICommand(t *testing.T, args []string, wantCode int) {
	t.Helper()
	const password, mail = "ci-secret-password-42", "oncall@example.pagerduty.com"
	var sawAuth bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.PostForm.Get("auth-password") == password && r.PostForm.Get("auth-id") == "1234" && r.URL.RawQuery == "" {
			sawAuth = true
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{}")) // an empty account (the API's page past the end)
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfg, err := os.ReadFile(filepath.Join("ci", "statussync-cloudns.yml"))
	if err != nil {
		t.Fatal(err)
	}
	checks := "- {name: www.example.org, check_type: 18, host: www.example.org, ip: www.example.org, port: 443, path: /}\n"
	if err := errors.Join(os.WriteFile(filepath.Join(dir, "statussync-cloudns.yml"), cfg, 0o600),
		os.WriteFile(filepath.Join(dir, "monitors.yaml"), []byte(checks), 0o600)); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(statussyncBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = []string{"STATUSSYNC_CLOUDNS__AUTH_ID=1234", "STATUSSYNC_CLOUDNS__PASSWORD=" + password,
		"PAGERDUTY_EMAIL=" + mail, "STATUSSYNC_CLOUDNS__URL=" + srv.URL}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	all := out.String() + errOut.String()
	if code != wantCode || !regexp.MustCompile(`Plan: 1 to create`).MatchString(all) || !sawAuth {
		t.Errorf("%v: exit %d (want %d), credentials seen in the form: %v\n%s", args, code, wantCode, sawAuth, all)
	}
	for _, s := range []string{password, mail} {
		if strings.Contains(all, s) {
			t.Errorf("output shows %q:\n%s", s, all)
		}
	}
}
