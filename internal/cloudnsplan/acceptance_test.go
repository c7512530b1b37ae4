package cloudnsplan_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/statussync/statussync/cloudns"
	"github.com/statussync/statussync/cloudns/cloudnstest"
	"github.com/statussync/statussync/internal/checksfile"
	"github.com/statussync/statussync/internal/cloudnsplan"
)

const (
	testAuthID   = 4242
	testPassword = "cloudns-pw-0123456789"
	pagerduty    = "oncall@example.pagerduty.com"
	flathubPD    = "flathub@example.pagerduty.com"
	fixture      = "../checksfile/testdata/checks-36.yaml"
)

var testEnv = []string{"PAGERDUTY_EMAIL=" + pagerduty, "FLATHUB_PAGERDUTY_EMAIL=" + flathubPD}

// writePaths are the endpoints that change the account.
var writePaths = []string{
	cloudnstest.PathCreate, cloudnstest.PathUpdate, cloudnstest.PathDelete,
	cloudnstest.PathAddNotif, cloudnstest.PathDeleteNotif,
}

type kit struct {
	srv    *cloudnstest.Server
	client *cloudns.Client
}

func newKit(t *testing.T, opts ...cloudnstest.Option) *kit {
	t.Helper()
	// The fake's per-IP limit stays on: the client's own limiter (20/s, the
	// documented maximum) must keep under it.
	srv := cloudnstest.New(t, opts...)
	srv.AddIdentity(cloudnstest.Identity{AuthID: testAuthID, Password: testPassword})
	co := cloudns.DefaultOptions()
	co.BaseURL, co.AuthID, co.Password, co.RateLimit = srv.URL(), testAuthID, testPassword, 19
	c, err := cloudns.New(co)
	if err != nil {
		t.Fatal(err)
	}
	return &kit{srv: srv, client: c}
}

// loadFile parses and resolves a checks file with the test environment and
// the default notification mail:$PAGERDUTY_EMAIL.
func loadFile(t *testing.T, data []byte) *checksfile.File {
	t.Helper()
	f, err := checksfile.Parse(data, "checks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	def, err := checksfile.ParseDefaultNotification("mail:$PAGERDUTY_EMAIL")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Resolve(testEnv, def); err != nil {
		t.Fatal(err)
	}
	return f
}

func readFixture(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func (k *kit) plan(t *testing.T, f *checksfile.File, prune bool) *cloudnsplan.Plan {
	t.Helper()
	p, err := cloudnsplan.Compute(context.Background(), k.client, f, cloudnsplan.Options{Prune: prune})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (k *kit) writes() []cloudnstest.Call {
	var out []cloudnstest.Call
	for _, c := range k.srv.Calls() {
		if slices.Contains(writePaths, c.Path) {
			out = append(out, c)
		}
	}
	return out
}

// assertAccountEqualsFile checks every check of the account against the
// file, from the fake's own state, not through the client.
func assertAccountEqualsFile(t *testing.T, srv *cloudnstest.Server, f *checksfile.File) {
	t.Helper()
	checks := srv.Checks()
	if len(checks) != len(f.Entries) {
		t.Fatalf("account has %d checks, file %d", len(checks), len(f.Entries))
	}
	byName := map[string]cloudnstest.Check{}
	for _, c := range checks {
		byName[c.Name] = c
	}
	for _, e := range f.Entries {
		c, ok := byName[e.Name]
		if !ok {
			t.Errorf("%s: not in the account", e.Where())
			continue
		}
		got := map[string]string{
			"ip": c.IP, "host": c.Host, "path": c.Path, "monitoring_region": c.Region,
			"check_period": strconv.Itoa(c.Period), "status_change_checks": strconv.Itoa(c.StatusChangeChecks),
			"state": map[bool]string{true: "0", false: "1"}[c.Paused], "content": c.Content,
			"http_status_code": c.HTTPStatusCode, "timeout": c.Timeout, "ip_type": c.IPType,
			"http_request_type": c.HTTPRequestType, "content_match": c.ContentMatch,
			"connection_security": c.ConnectionSecurity,
		}
		if c.Port != 0 {
			got["port"] = strconv.Itoa(c.Port)
		}
		if c.Type != e.Type {
			t.Errorf("%s: check_type %d, want %d", e.Where(), c.Type, e.Type)
		}
		for k, want := range e.Params {
			if got[k] != strings.TrimPrefix(want, "/") {
				t.Errorf("%s: %s = %q, want %q", e.Where(), k, got[k], want)
			}
		}
		var gotN, wantN []string
		for _, n := range c.Notifications {
			gotN = append(gotN, n.Type+" "+n.Value)
		}
		for _, n := range e.Notifications {
			wantN = append(wantN, n.Type+" "+n.Value)
		}
		slices.Sort(gotN)
		slices.Sort(wantN)
		if !slices.Equal(gotN, wantN) {
			t.Errorf("%s: notifications %q, want %q", e.Where(), gotN, wantN)
		}
	}
}

// assertNoSecrets fails if text shows the password or a notification value
// read from an environment variable.
func assertNoSecrets(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range []string{testPassword, pagerduty, flathubPD} {
		if strings.Contains(text, s) {
			t.Errorf("%s shows the secret %q:\n%s", what, s, text)
		}
	}
}

func render(t *testing.T, p *cloudnsplan.Plan) string {
	t.Helper()
	var text, js bytes.Buffer
	if err := p.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := p.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	assertNoSecrets(t, "plan", text.String())
	assertNoSecrets(t, "json plan", js.String())
	var decoded map[string]any
	if err := json.Unmarshal(js.Bytes(), &decoded); err != nil {
		t.Fatalf("json plan does not decode: %v", err)
	}
	return text.String()
}

// TestAcceptance walks issue #17's acceptance list in order on one account.
func TestAcceptance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := newKit(t)
	data := readFixture(t)
	f := loadFile(t, data)
	if len(f.Entries) != 36 {
		t.Fatalf("fixture has %d entries", len(f.Entries))
	}

	t.Run("empty account: plan shows 36 creates", func(t *testing.T) {
		p := k.plan(t, f, false)
		text := render(t, p)
		if p.Count(cloudnsplan.ActionCreate) != 36 || p.Count(cloudnsplan.ActionUpdate) != 0 || p.Count(cloudnsplan.ActionDelete) != 0 || !p.HasChanges() {
			t.Fatalf("plan:\n%s", text)
		}
		for _, want := range []string{
			`+ create "Flathub API" (web)`,
			`    path: "api/v2/status"`,
			`    path: "pub/app/v3.0/app-3.0.0-RC1.tar.xz?mirrorlist"`,
			`notification + mail $FLATHUB_PAGERDUTY_EMAIL`,
			`notification + mail ops@example.org`,
			`notification + webhook-down https://hooks.example.org/cloudns/down`,
			`Plan: 36 to create, 0 to update, 0 to delete.`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("plan lacks %q:\n%s", want, text)
			}
		}
		if n := len(k.writes()); n != 0 {
			t.Errorf("plan made %d write calls", n)
		}
	})

	t.Run("apply: the account equals the file", func(t *testing.T) {
		k.srv.ResetCalls()
		p := k.plan(t, f, false)
		r, err := cloudnsplan.Apply(ctx, k.client, p)
		if err != nil {
			t.Fatalf("apply: %v\n%+v", err, r)
		}
		var out bytes.Buffer
		_ = r.WriteText(&out)
		assertNoSecrets(t, "apply report", out.String())
		assertAccountEqualsFile(t, k.srv, f)
		for _, c := range k.srv.Calls() {
			if c.CredentialsInURL || c.Method != "POST" || !strings.HasPrefix(c.ContentType, "application/x-www-form-urlencoded") {
				t.Errorf("call %s %s: credentials in URL %v, content type %q", c.Method, c.Path, c.CredentialsInURL, c.ContentType)
			}
		}
		if got := k.srv.CallCount(cloudnstest.PathCreate); got != 36 {
			t.Errorf("%d create calls, want 36", got)
		}
	})

	t.Run("plan again: nothing to change and no write call", func(t *testing.T) {
		k.srv.ResetCalls()
		p := k.plan(t, f, false)
		text := render(t, p)
		if p.HasChanges() || !strings.Contains(text, "Nothing to do") {
			t.Fatalf("second plan has changes:\n%s", text)
		}
		r, err := cloudnsplan.Apply(ctx, k.client, p)
		if err != nil || r.Writes != 0 {
			t.Fatalf("second apply: %v, %d writes", err, r.Writes)
		}
		if w := k.writes(); len(w) != 0 {
			t.Fatalf("second plan and apply made %d write calls: %+v", len(w), w)
		}
	})

	t.Run("one field changed: exactly one update call with that field", func(t *testing.T) {
		changed := bytes.Replace(data, []byte("  path: /api/v2/status\n  http_status_code: 200\n  check_period: 60"),
			[]byte("  path: /api/v2/status\n  http_status_code: 200\n  check_period: 120"), 1)
		if bytes.Equal(changed, data) {
			t.Fatal("fixture edit did not apply")
		}
		f2 := loadFile(t, changed)
		k.srv.ResetCalls()
		p := k.plan(t, f2, false)
		text := render(t, p)
		if !strings.Contains(text, `check_period: "60" → "120"`) || p.Count(cloudnsplan.ActionUpdate) != 1 {
			t.Fatalf("plan:\n%s", text)
		}
		var upd cloudnsplan.Change
		for _, c := range p.Changes {
			if c.Action == cloudnsplan.ActionUpdate {
				upd = c
			}
		}
		if upd.Name != "Flathub API" || len(upd.Fields) != 1 || upd.Fields[0].Key != "check_period" {
			t.Fatalf("update = %+v", upd)
		}
		if _, err := cloudnsplan.Apply(ctx, k.client, p); err != nil {
			t.Fatal(err)
		}
		w := k.writes()
		if len(w) != 1 || w[0].Path != cloudnstest.PathUpdate {
			t.Fatalf("write calls %+v, want one update", w)
		}
		if w[0].Params.Get("check_period") != "120" || w[0].Params.Get("id") != strconv.FormatInt(upd.ID, 10) || w[0].Params.Get("name") != "Flathub API" {
			t.Errorf("update params %v", w[0].Params)
		}
		assertAccountEqualsFile(t, k.srv, f2)
		// Back to the fixture for the next steps.
		if _, err := cloudnsplan.Apply(ctx, k.client, k.plan(t, f, false)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("extra check: shown, deleted only with prune", func(t *testing.T) {
		extra := k.srv.AddCheck(cloudnstest.Check{Name: "old-host.example.org", IP: "old-host.example.org", Port: 443})
		k.srv.ResetCalls()
		p := k.plan(t, f, false)
		text := render(t, p)
		if !strings.Contains(text, `! not in the file: "old-host.example.org" (id `+strconv.FormatInt(extra, 10)) || p.HasChanges() {
			t.Fatalf("plan without prune:\n%s", text)
		}
		if _, err := cloudnsplan.Apply(ctx, k.client, p); err != nil {
			t.Fatal(err)
		}
		if _, ok := k.srv.Check(extra); !ok || len(k.writes()) != 0 {
			t.Fatalf("apply without prune deleted or wrote: %+v", k.writes())
		}
		p = k.plan(t, f, true)
		text = render(t, p)
		if !strings.Contains(text, `- delete "old-host.example.org"`) || !p.HasChanges() {
			t.Fatalf("plan with prune:\n%s", text)
		}
		if _, err := cloudnsplan.Apply(ctx, k.client, p); err != nil {
			t.Fatal(err)
		}
		if _, ok := k.srv.Check(extra); ok {
			t.Error("prune did not delete the extra check")
		}
		if w := k.writes(); len(w) != 1 || w[0].Path != cloudnstest.PathDelete {
			t.Errorf("writes %+v, want one delete", w)
		}
		assertAccountEqualsFile(t, k.srv, f)
	})
}

// TestApplyStopsAtFirstFailureAndRerunFinishes: a call failing midway is
// named with ClouDNS's statusDescription, nothing after it is attempted, and
// a second apply finishes the job.
func TestApplyStopsAtFirstFailureAndRerunFinishes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := newKit(t)
	f := loadFile(t, readFixture(t))
	const desc = "You have reached the limit of your monitoring checks."
	k.srv.Inject(cloudnstest.Fault{Path: cloudnstest.PathCreate, Params: url.Values{"name": {"Flathub API"}}, Body: cloudnstest.FailedBody(desc)})

	r, err := cloudnsplan.Apply(ctx, k.client, k.plan(t, f, false))
	if err == nil {
		t.Fatal("apply succeeded through a failed call")
	}
	var out bytes.Buffer
	_ = r.WriteText(&out)
	text := out.String()
	if !strings.Contains(text, `FAILED: create check "Flathub API": ClouDNS said "`+desc+`"`) {
		t.Errorf("report does not name the call and ClouDNS's text:\n%s", text)
	}
	if len(r.Done) == 0 || len(r.NotDone) == 0 || !strings.Contains(text, "not done: ") {
		t.Errorf("report lacks done or not-done steps:\n%s", text)
	}
	for _, d := range r.NotDone {
		if strings.Contains(d, `"Flathub API"`) && strings.HasPrefix(d, "create") {
			t.Errorf("failed step listed as not done too: %s", d)
		}
	}
	assertNoSecrets(t, "failure report", text)
	if n := len(k.srv.Checks()); n != len(r.Done)-countPrefix(r.Done, "add notification") {
		t.Errorf("account has %d checks, report says %d created", n, len(r.Done)-countPrefix(r.Done, "add notification"))
	}

	if r, err := cloudnsplan.Apply(ctx, k.client, k.plan(t, f, false)); err != nil {
		t.Fatalf("re-run: %v\n%+v", err, r)
	}
	assertAccountEqualsFile(t, k.srv, f)
	if k.plan(t, f, false).HasChanges() {
		t.Error("changes left after the re-run")
	}
}

func countPrefix(list []string, prefix string) (n int) {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

// TestIdempotentWhateverTheAPIEchoes: numbers as JSON numbers or strings,
// pages as arrays, the inferred per-type keys reported or not, create's
// answer with or without the id: apply then plan finds nothing to change.
func TestIdempotentWhateverTheAPIEchoes(t *testing.T) {
	t.Parallel()
	full := loadFile(t, readFixture(t))
	small := &checksfile.File{Source: full.Source, Entries: slices.Clone(full.Entries[:12])}
	for _, tc := range []struct {
		name       string
		opts       []cloudnstest.Option
		unreported bool
	}{
		{"confirmed keys only", nil, true},
		{"extra keys as numbers, array pages", []cloudnstest.Option{cloudnstest.WithExtraFields(), cloudnstest.WithNumbers(cloudnstest.NumbersAsNumbers), cloudnstest.WithArrayPages()}, false},
		{"no id in create's answer, [] past the end", []cloudnstest.Option{cloudnstest.WithoutCreateID(), cloudnstest.WithEmptyPage("[]"), cloudnstest.WithExtraFields()}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := newKit(t, tc.opts...)
			if _, err := cloudnsplan.Apply(context.Background(), k.client, k.plan(t, small, false)); err != nil {
				t.Fatal(err)
			}
			assertAccountEqualsFile(t, k.srv, small)
			k.srv.ResetCalls()
			p := k.plan(t, small, false)
			if text := render(t, p); p.HasChanges() {
				t.Fatalf("plan after apply:\n%s", text)
			}
			if (len(p.Unreported) > 0) != tc.unreported {
				t.Errorf("unreported fields %v", p.Unreported)
			}
			if w := k.writes(); len(w) != 0 {
				t.Errorf("plan wrote: %+v", w)
			}
		})
	}
}

// TestNotificationsChangeAddsBeforeRemoving: a check whose notification
// changes gets the new one before the old one goes, so it is never without.
func TestNotificationsChangeAddsBeforeRemoving(t *testing.T) {
	k := newKit(t)
	f := loadFile(t, []byte("- {name: a, check_type: 18, ip: a.example.org, host: a.example.org, port: 443, notifications: {type: mail, value: new@example.org}}\n"))
	id := k.srv.AddCheck(cloudnstest.Check{Name: "a", Type: 18, IP: "a.example.org", Host: "a.example.org", Port: 443,
		Region: "nam", Period: 300, StatusChangeChecks: 2})
	k.srv.AddNotification(id, "mail", "old@example.org")
	k.srv.AddNotification(id, "telegram", "bot message") // not expressible in the file: kept
	p := k.plan(t, f, false)
	text := render(t, p)
	for _, want := range []string{"notification + mail new@example.org", "notification - mail old@example.org"} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "telegram") {
		t.Errorf("plan touches the telegram notification:\n%s", text)
	}
	k.srv.ResetCalls()
	if _, err := cloudnsplan.Apply(context.Background(), k.client, p); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, c := range k.writes() {
		paths = append(paths, c.Path)
	}
	add := slices.Index(paths, cloudnstest.PathAddNotif)
	del := slices.Index(paths, cloudnstest.PathDeleteNotif)
	if add < 0 || del < 0 || add > del {
		t.Errorf("write order %v: the new notification must come before the old one goes", paths)
	}
	c, _ := k.srv.Check(id)
	if len(c.Notifications) != 2 || c.Notifications[0].Type != "telegram" || c.Notifications[1].Value != "new@example.org" {
		t.Errorf("notifications after apply: %+v", c.Notifications)
	}
}

// TestDuplicateNamesInTheAccountAreAnError: the plan refuses to guess.
func TestDuplicateNamesInTheAccountAreAnError(t *testing.T) {
	k := newKit(t)
	k.srv.AddCheck(cloudnstest.Check{Name: "twin", IP: "a.example.org"})
	k.srv.AddCheck(cloudnstest.Check{Name: "twin", IP: "b.example.org"})
	f := loadFile(t, []byte("- {name: twin, check_type: 17, ip: a.example.org}\n"))
	_, err := cloudnsplan.Compute(context.Background(), k.client, f, cloudnsplan.Options{})
	if err == nil || !strings.Contains(err.Error(), `"twin" (ids 9901, 9902)`) {
		t.Fatalf("err = %v", err)
	}
}

// TestHandEditsShowAsDifferences: a path and a region changed by hand in the
// panel are shown field by field and reverted by one update; values that
// only differ in form (a leading slash, a number as a string, a host name's
// case, legacy check type 5 for web) are not differences.
func TestHandEditsShowAsDifferences(t *testing.T) {
	k := newKit(t)
	f := loadFile(t, []byte("- {name: Flathub website, check_type: 5, host: flathub.example.org, ip: flathub.example.org, port: \"443\", check_period: 60, notifications: []}\n"))
	id := k.srv.AddCheck(cloudnstest.Check{Name: "Flathub website", Type: 18, IP: "Flathub.example.org", Host: "flathub.example.org",
		Port: 443, Path: "admin", Region: "global", Period: 60, StatusChangeChecks: 2})
	p := k.plan(t, f, false)
	text := render(t, p)
	for _, want := range []string{`path: "admin" → ""`, `monitoring_region: "global" → "nam"`} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %q:\n%s", want, text)
		}
	}
	if len(p.Changes) != 1 || len(p.Changes[0].Fields) != 2 {
		t.Fatalf("changes %+v\n%s", p.Changes, text)
	}
	if _, err := cloudnsplan.Apply(context.Background(), k.client, p); err != nil {
		t.Fatal(err)
	}
	if c, _ := k.srv.Check(id); c.Path != "" || c.Region != "nam" {
		t.Errorf("after apply %+v", c)
	}
	if p := k.plan(t, f, false); p.HasChanges() {
		t.Errorf("changes left: %+v", p.Changes)
	}
}
