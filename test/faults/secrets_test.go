package faults

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/statussync/statussync/cachet/cachettest"
	"github.com/statussync/statussync/cloudns/cloudnstest"
)

// Canaries: every secret statussync holds, each distinctive, each starting
// with "CANARY" so that a truncated or half-redacted copy is found too.
const (
	canaryCachetToken = "42|CANARYcachetTOKEN7f1e9x"
	canaryCloudNS     = "CANARYcloudnsPASS3b8d"
	canaryBasic       = "CANARYbasicPASS5c2a"
	canaryBasicFile   = "CANARYbasicFILE0d7e"
	canaryBearer      = "CANARYbearerTOKEN9e4f"
	canaryBearerFile  = "CANARYbearerFILE61ab"
	leakUser          = "leakuser"
)

// leakForms returns what must never appear: the canary marker, and the
// base64 forms a header or a dump would carry (basic auth credentials, and
// any canary inside a base64 blob at each of the three alignments).
func leakForms() []string {
	forms := []string{"CANARY"}
	b64 := func(s string) {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding} {
			for shift := range 3 {
				e := enc.EncodeToString([]byte(strings.Repeat("x", shift) + s))
				// Drop the characters that depend on the neighbours.
				if mid := e[4 : len(e)-4]; len(mid) >= 8 {
					forms = append(forms, mid)
				}
			}
		}
	}
	for _, s := range []string{canaryCachetToken, canaryCloudNS, canaryBasic, canaryBasicFile, canaryBearer, canaryBearerFile,
		leakUser + ":" + canaryBasic, leakUser + ":" + canaryBasicFile} {
		b64(s)
	}
	return forms
}

// assertNoLeak fails tb if text holds any form of any canary.
func assertNoLeak(tb testing.TB, where, text string) {
	tb.Helper()
	for _, f := range leakForms() {
		if i := strings.Index(text, f); i >= 0 {
			tb.Errorf("%s leaks a secret (%q) at: %q", where, f, text[max(0, i-150):min(len(text), i+len(f)+80)])
			return
		}
	}
}

// echoTarget answers with the request's headers and form in its body and
// its Authorization header in a response header: a target (or a proxy)
// that hands every credential back.
func echoTarget(tb testing.TB) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		headers := map[string]string{}
		for k, v := range r.Header {
			headers[k] = strings.Join(v, ", ")
		}
		w.Header().Set("X-Echo-Authorization", r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/500") {
			w.WriteHeader(http.StatusInternalServerError)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"headers": headers, "form": r.Form, "url": r.URL.String()})
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// leakConfig is the configuration of TestSecretsNeverLeak: the Cachet token
// and the ClouDNS password come from the environment, the probe secrets
// from the file inline and from files.
func leakConfig(tb testing.TB, cachetURL, cloudnsURL, echoURL string, cachetID int) string {
	tb.Helper()
	dir := tb.TempDir()
	basicFile, bearerFile := filepath.Join(dir, "basic"), filepath.Join(dir, "bearer")
	writeFile(tb, basicFile, canaryBasicFile+"\n")
	writeFile(tb, bearerFile, canaryBearerFile+"\n")
	return fmt.Sprintf(`
cachet: {url: %[1]q, timeout: 500ms, rate_limit: 5, resync_interval: 5s, backoff: {min: 50ms, max: 200ms}}
cloudns: {url: %[2]q, auth_id: 1234, poll_interval: 10s, timeout: 1s}
defaults: {interval: 300ms, timeout: 250ms, failures_before_down: 1, successes_before_up: 1}
monitors:
  - name: basic-json
    http:
      url: %[3]q
      basic_auth: {username: %[5]s, password: %[6]q}
      fail_if_body_json_not_matches: [{path: headers.Authorization, op: eq, value: nope}]
  - name: basic-file-500
    http:
      url: %[4]q
      basic_auth: {username: %[5]s, password_file: %[7]q}
      fail_if_body_not_matches_regexp: ["^nope$"]
  - name: bearer-header
    http:
      url: %[3]q
      bearer_token: %[8]q
      fail_if_header_not_matches: [{header: X-Echo-Authorization, regexp: "^nope$"}]
  - name: bearer-file-body
    http:
      url: %[3]q
      bearer_token_file: %[9]q
      fail_if_body_matches_regexp: ["Bearer"]
  - name: mail
    cloudns: {check_id: 1}
components:
  - {name: Web, cachet_id: %[10]d, monitors: [basic-json, basic-file-500, bearer-header, bearer-file-body], incidents: {enabled: true}}
  - {name: Mail, monitors: [mail]}
`, cachetURL, cloudnsURL, echoURL+"/ok", echoURL+"/500", leakUser, canaryBasic, basicFile, canaryBearer, bearerFile, cachetID)
}

// TestSecretsNeverLeak runs the whole service with a distinctive value in
// every secret (the Cachet token and the ClouDNS password from the
// environment, basic-auth passwords and bearer tokens inline and from
// files) against upstreams that fail and echo credentials back: Cachet
// answers 401, then 500 with the Authorization header in its message,
// then 500, then works; ClouDNS answers a failure quoting the password,
// then an authentication failure; every target echoes its request headers
// in its body and a response header, and fails an assertion on them. None
// of the secrets, nor their base64 forms, may appear in the debug logs,
// /metrics, a failed reload's answer, or the output of `check` and
// `probe` (the built binary, at debug level).
func TestSecretsNeverLeak(t *testing.T) {
	front := newCachetFront(t)
	front.SetAPIProtected(true) // reads need the token too: 401 everywhere
	web := front.AddComponent("Web", cachettest.StatusOperational).ID
	cloudns := cloudnstest.New(t)
	cloudns.AddIdentity(cloudnstest.Identity{AuthID: 1234, Password: "the-right-password"})
	cloudns.AddCheck(cloudnstest.Check{ID: 1, Name: "mail"})
	cloudns.FailNext(1, "Invalid authentication, auth-password "+canaryCloudNS+" is not right.")
	echo := echoTarget(t)
	cfg := leakConfig(t, front.URL(), cloudns.URL(), echo.URL, web)
	environ := []string{"STATUSSYNC_CACHET__TOKEN=" + canaryCachetToken, "STATUSSYNC_CLOUDNS__PASSWORD=" + canaryCloudNS}

	svc := startService(t, cfg, environ, slog.LevelDebug)
	eventually(t, 10*time.Second, "Cachet refusing the token", func() bool {
		for _, r := range front.Requests() {
			if r.StatusCode == http.StatusUnauthorized {
				return true
			}
		}
		return false
	})
	front.echoAuth.Store(true)
	eventually(t, 10*time.Second, "Cachet echoing the token", func() bool { return front.echoed.Load() >= 3 })
	front.echoAuth.Store(false)
	front.AddToken(canaryCachetToken, "*")
	front.FailNext(1<<30, http.StatusInternalServerError)
	time.Sleep(time.Second)
	front.FailNext(0, 0)
	eventually(t, 15*time.Second, "the outage on the page", func() bool {
		return front.status(web) == cachettest.StatusMajorOutage && len(front.Incidents()) == 1
	})
	eventually(t, 25*time.Second, "two failed ClouDNS polls, the second an authentication failure", func() bool {
		return svc.value("statussync_cloudns_poll_errors_total", "kind", "auth") >= 2
	})

	// A failed reload's answer, with the secrets in the broken file.
	broken := strings.Replace(cfg, "password_file:", "password: x, password_file:", 1) +
		"\n  - {name: x, http: {url: 'http://127.0.0.1:1', bearer_token: " + canaryBearer + "x, basic_auth: {username: u, password: " + canaryBasic + "y}}}\n"
	writeFile(t, svc.cfgPath, broken)
	code, body := httpPost(t, svc.base+"/-/reload")
	if code == http.StatusOK {
		t.Errorf("the broken reload succeeded: %s", body)
	}
	assertNoLeak(t, "the /-/reload answer", body)

	_, metrics := httpGet(t, svc.base+"/metrics")
	svc.stop()
	logs := svc.logs.String()
	for _, want := range []string{`"status":401`, `"status":500`, `"kind":"auth"`, `fail_if_header_not_matches`, `"msg":"incident opened"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs lack %s: the test did not drive the failure it checks", want)
		}
	}
	assertNoLeak(t, "the service's debug logs", logs)
	assertNoLeak(t, "/metrics", metrics)
	sent := false
	for _, r := range front.Requests() {
		sent = sent || r.Header.Get("Authorization") == "Bearer "+canaryCachetToken
	}
	if !sent {
		t.Error("the Cachet token was never sent: the test checks nothing")
	}

	// The binary: check on the broken file, probe on the good one.
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good.yml"), filepath.Join(dir, "bad.yml")
	writeFile(t, good, cfg)
	writeFile(t, bad, broken)
	c := startChild(t, environ, "check", "--config.file", bad, "--log.level", "debug")
	if code := c.Wait(t, 30*time.Second); code == 0 {
		t.Error("check passed the broken file")
	}
	assertNoLeak(t, "check's output", c.Out.String()+c.Logs.String())
	for _, p := range []struct{ monitor, shows string }{
		{"", "basic-json"},
		{"basic-json", "fail_if_body_json_not_matches"},
		{"basic-file-500", "HTTP 500"},
		{"bearer-header", "fail_if_header_not_matches"},
		{"bearer-file-body", "fail_if_body_matches_regexp"},
		{"mail", "auth"},
	} {
		args := []string{"probe", "--config.file", good, "--log.level", "debug"}
		if p.monitor != "" {
			args = append(args, "--monitor", p.monitor)
		}
		c := startChild(t, environ, args...)
		c.Wait(t, 60*time.Second)
		out := c.Out.String() + c.Logs.String()
		if !strings.Contains(out, p.shows) {
			t.Errorf("probe %s does not show %q, the failure it was given:\n%s", p.monitor, p.shows, tail(out, 20))
		}
		assertNoLeak(t, "the output of probe "+p.monitor, out)
	}
}

// httpPost posts nothing to a URL, keeping no connection.
func httpPost(tb testing.TB, u string) (int, string) {
	tb.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 60 * time.Second}).Post(u, "text/plain", nil)
	if err != nil {
		tb.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("POST %s: %v", u, err)
	}
	return resp.StatusCode, string(body)
}
