package checksfile

import (
	"os"
	"strings"
	"testing"
)

func TestFixtureParses(t *testing.T) {
	data, err := os.ReadFile("testdata/checks-36.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(data, "checks-36.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Entries) != 36 {
		t.Fatalf("%d entries", len(f.Entries))
	}
	byName := map[string]Entry{}
	for _, e := range f.Entries {
		byName[e.Name] = e
	}
	for _, tc := range []struct{ name, key, want string }{
		{"idm.example.org", "path", "ipa/ui/"},
		{"paste.example.org", "path", "status"},
		{"download.example.net", "path", "pub/app/v3.0/app-3.0.0-RC1.tar.xz?mirrorlist"},
		{"mirror1.example.org", "path", ""},
		{"Flathub website", "path", ""},
		{"Flathub website", "content", ""},
		{"idm.example.org", "check_period", "60"},
		{"idm.example.org", "status_change_checks", "2"},
		{"idm.example.org", "monitoring_region", "nam"},
		{"idm.example.org", "state", "1"},
		{"idm.example.org", "ip_type", "2"},
		{"idm.example.org", "http_request_type", "GET"},
		{"idm.example.org", "content_match", "exact"},
		{"idm.example.org", "timeout", "5"},
		{"gitlab.example.org", "timeout", "10"},
		{"Flathub discourse", "monitoring_region", "eur"},
		{"smtp.example.org-relay", "connection_security", "2"},
		{"smtp.example.org-relay", "port", "25"},
		{"smtp.example.org-submission", "port", "587"},
		{"Mail exchanger ping", "check_period", "300"},
	} {
		if got, ok := byName[tc.name].Params[tc.key]; !ok || got != tc.want {
			t.Errorf("%s %s = %q (set %v), want %q", tc.name, tc.key, got, ok, tc.want)
		}
	}
	if _, ok := byName["smtp.example.org-relay"].Params["timeout"]; ok {
		t.Error("SMTP check got the web timeout default")
	}
	if _, ok := byName["Mail exchanger ping"].Params["http_request_type"]; ok {
		t.Error("ping check got web defaults")
	}
	// Notifications: a mapping, a list with an env var, an env var alone, none.
	if n := byName["cloud.example.org"].Notifications; len(n) != 1 || n[0].Value != "ops@example.org" {
		t.Errorf("mapping notification = %+v", n)
	}
	if n := byName["gitlab.example.org"].Notifications; len(n) != 2 || n[1].EnvVar != "PAGERDUTY_EMAIL" || n[1].Value != "" {
		t.Errorf("list notification = %+v", n)
	}
	if e := byName["idm.example.org"]; !e.DefaultNotifications || e.NotificationsManaged {
		t.Errorf("entry without notifications = %+v", e)
	}

	def, err := ParseDefaultNotification("mail:$PAGERDUTY_EMAIL")
	if err != nil {
		t.Fatal(err)
	}
	err = f.Resolve([]string{"PAGERDUTY_EMAIL=pd@example.org"}, def)
	if err == nil || !strings.Contains(err.Error(), `checks[7] ("Flathub API").notifications.value: environment variable FLATHUB_PAGERDUTY_EMAIL is not set`) {
		t.Fatalf("resolve without FLATHUB_PAGERDUTY_EMAIL: %v", err)
	}
	f, _ = Parse(data, "checks-36.yaml")
	if err := f.Resolve([]string{"PAGERDUTY_EMAIL=pd@example.org", "FLATHUB_PAGERDUTY_EMAIL=fh@example.org"}, def); err != nil {
		t.Fatal(err)
	}
	if n := f.Entries[0].Notifications; len(n) != 1 || n[0].Value != "pd@example.org" || n[0].Display() != "mail $PAGERDUTY_EMAIL" {
		t.Errorf("default notification = %+v", n)
	}
}

func TestParseErrorsNameEntryAndKey(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key", "- {name: a, check_type: 18, ip: a, colour: blue}", `checks.yaml:1: checks[0] ("a").colour: unknown key`},
		{"missing name", "- {check_type: 18, ip: a}", `checks[0] ("").name: is required`},
		{"missing type", "- {name: a, ip: a}", `checks[0] ("a").check_type: is required`},
		{"unsupported type", "- {name: a, check_type: 11, ip: a}", `checks[0] ("a").check_type: 11 is not a supported check type`},
		{"string port", "- {name: a, check_type: 18, ip: a, port: https}", `checks[0] ("a").port: "https" is not a whole number`},
		{"port range", "- {name: a, check_type: 18, ip: a, port: 70000}", `("a").port: 70000 is not a port`},
		{"path on smtp", "- {name: a, check_type: 15, ip: a, port: 25, path: /x}", `("a").path: does not apply to check_type 15 (smtp)`},
		{"missing ip", "- {name: a, check_type: 18}", `("a").ip: is required for check_type 18`},
		{"smtp without port", "- {name: a, check_type: 15, ip: a}", `("a").port: is required for check_type 15`},
		{"region", "- {name: a, check_type: 17, ip: a, monitoring_region: mars}", `("a").monitoring_region: "mars" is not a region`},
		{"duplicate", "- {name: a, check_type: 17, ip: a}\n- {name: a, check_type: 17, ip: b}", `checks[1] ("a").name: duplicate: checks[0]`},
		{"notification type", "- {name: a, check_type: 17, ip: a, notifications: {type: pager, value: x}}", `("a").notifications.type: "pager" is not one of`},
		{"notification key", "- {name: a, check_type: 17, ip: a, notifications: [{type: mail, value: a@b.org, to: x}]}", `("a").notifications[0].to: unknown key`},
		{"bad mail", "- {name: a, check_type: 17, ip: a, notifications: {type: mail, value: nobody}}", `("a").notifications.value: is not an e-mail address`},
		{"env var name", "- {name: a, check_type: 17, ip: a, notifications: {type: mail, value: not a var, is_env_var: true}}", `("a").notifications.value: "not a var" is not an environment variable name`},
		{"not a list", "name: a\ncheck_type: 18", `checks.yaml:1: file: must be a YAML list`},
		{"custom string without content", "- {name: a, check_type: 7, ip: a, port: 443}", `("a").content: is required for check_type 7`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "checks.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant %q", err, tc.want)
			}
		})
	}
}

func TestEmptyFileHasNoEntries(t *testing.T) {
	for _, s := range []string{"", "---\n", "[]\n"} {
		f, err := Parse([]byte(s), "x")
		if err != nil || len(f.Entries) != 0 {
			t.Errorf("%q: %v %+v", s, err, f)
		}
	}
}

// TestDefaultNotificationProblemsNameTheSetting: the default notification
// comes from the statussync configuration, not the file, so its problems
// name that setting rather than a place in the file.
func TestDefaultNotificationProblemsNameTheSetting(t *testing.T) {
	f, err := Parse([]byte("- {name: a, check_type: 17, ip: a.example.org}\n"), "checks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	def, err := ParseDefaultNotification("mail:$PAGERDUTY_EMAIL")
	if err != nil {
		t.Fatal(err)
	}
	err = f.Resolve(nil, def)
	want := "cloudns.checks_default_notification (for entries without notifications): environment variable PAGERDUTY_EMAIL is not set"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
}
