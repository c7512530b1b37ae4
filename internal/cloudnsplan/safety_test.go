package cloudnsplan_test

import (
	"context"
	"strings"
	"testing"

	"github.com/statussync/statussync/cloudns/cloudnstest"
	"github.com/statussync/statussync/internal/cloudnsplan"
)

// TestWebhookTokensStayOutOfThePlan: a webhook set by hand in the panel,
// which the file does not name, is about to be removed; its URL carries the
// token in the path (as Slack's and Discord's do) and the plan is a CI job's
// public log, so only scheme and host are shown. A webhook the file spells
// out is shown without its user info and query.
func TestWebhookTokensStayOutOfThePlan(t *testing.T) {
	t.Parallel()
	const (
		handSet = "https://hooks.slack.com/services/T0ABC/B0DEF/s3cr3tSlackT0ken"
		literal = "https://alice:hookpw@hooks.example.org/cloudns/down?token=qs-secret"
	)
	k := newKit(t)
	f := loadFile(t, []byte("- {name: a, check_type: 18, ip: a.example.org, host: a.example.org, port: 443, notifications: {type: webhook-down, value: \""+literal+"\"}}\n"))
	id := k.srv.AddCheck(cloudnstest.Check{Name: "a", Type: 18, IP: "a.example.org", Host: "a.example.org", Port: 443,
		Region: "nam", Period: 300, StatusChangeChecks: 2})
	k.srv.AddNotification(id, "webhook-down", handSet)
	p := k.plan(t, f, false)
	text := render(t, p)
	var js strings.Builder
	if err := p.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	r, err := cloudnsplan.Apply(context.Background(), k.client, p)
	if err != nil {
		t.Fatal(err)
	}
	var report strings.Builder
	_ = r.WriteText(&report)
	for what, out := range map[string]string{"plan": text, "json plan": js.String(), "report": report.String()} {
		for _, secret := range []string{"s3cr3tSlackT0ken", "T0ABC", "alice", "hookpw", "qs-secret"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s shows %q:\n%s", what, secret, out)
			}
		}
	}
	for _, want := range []string{
		"notification + webhook-down https://hooks.example.org/cloudns/down?REDACTED",
		"notification - webhook-down https://hooks.slack.com/… (id ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %q:\n%s", want, text)
		}
	}
	// What is sent is the real value, not what is shown.
	if c, _ := k.srv.Check(id); len(c.Notifications) != 1 || c.Notifications[0].Value != literal {
		t.Errorf("notifications after apply: %+v", c.Notifications)
	}
}

// TestPruneRefusesAnEmptyFile: an empty checks file with prune would delete
// every check of the account; it is refused without a write. Without prune
// the same file is a plan that keeps everything.
func TestPruneRefusesAnEmptyFile(t *testing.T) {
	t.Parallel()
	k := newKit(t)
	k.srv.Seed(3)
	f := loadFile(t, []byte("[]\n"))
	_, err := cloudnsplan.Compute(context.Background(), k.client, f, cloudnsplan.Options{Prune: true})
	if err == nil || !strings.Contains(err.Error(), "declares no checks: with prune, apply would delete all 3 checks") {
		t.Fatalf("err = %v", err)
	}
	if len(k.writes()) != 0 || len(k.srv.Checks()) != 3 {
		t.Fatalf("writes %+v", k.writes())
	}
	if p := k.plan(t, f, false); p.HasChanges() || p.Kept() != 3 {
		t.Errorf("plan without prune: %+v", p.Changes)
	}
}

// TestAccountSideFormsAreNotDifferences: values the account reports in
// another form than the file writes them (a path with its leading slash,
// words in upper case, a host name with the root dot) are the same value;
// a plan that called them changes would update on every run.
func TestAccountSideFormsAreNotDifferences(t *testing.T) {
	t.Parallel()
	k := newKit(t, cloudnstest.WithExtraFields())
	f := loadFile(t, []byte("- {name: a, check_type: 18, ip: a.example.org, host: a.example.org, port: 443, path: \"/admin?x=1\", http_status_code: 200, notifications: []}\n"))
	k.srv.AddCheck(cloudnstest.Check{Name: "a", Type: 18, IP: "A.example.org.", Host: "a.example.org", Port: 443,
		Path: "/admin?x=1", Region: "NAM", Period: 300, StatusChangeChecks: 2, HTTPStatusCode: "200", Timeout: "5",
		HTTPRequestType: "get", ContentMatch: "EXACT", IPType: "2"})
	p := k.plan(t, f, false)
	if text := render(t, p); p.HasChanges() || len(p.Unreported) != 0 {
		t.Fatalf("plan (unreported %v):\n%s", p.Unreported, text)
	}
}
