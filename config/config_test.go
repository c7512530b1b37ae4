package config

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// wantOf reads the expected message from an invalid file's first line,
// "# want: <message>".
func wantOf(tb testing.TB, path string) string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan()
	want, ok := strings.CutPrefix(sc.Text(), "# want: ")
	if !ok {
		tb.Fatalf("%s: first line must be '# want: <message>'", path)
	}
	return want
}

// TestInvalidFiles loads each testdata/invalid-*.yml, one per validation
// rule, and expects exactly its one problem with exactly its message.
func TestInvalidFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid-*.yml")
	if err != nil || len(files) < 40 {
		t.Fatalf("expected at least 40 invalid-*.yml files, got %d (%v)", len(files), err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yml"), func(t *testing.T) {
			want := wantOf(t, file)
			cfg, err := Load(file, nil)
			if err == nil {
				t.Fatalf("loaded without error: %+v", cfg)
			}
			problems := Problems(err)
			if len(problems) != 1 || !strings.Contains(problems[0].Error(), want) {
				t.Fatalf("want exactly one problem containing\n  %s\ngot %d:\n  %v", want, len(problems), err)
			}
		})
	}
}

func TestManyProblemsAreAllReported(t *testing.T) {
	_, err := Load("testdata/many-problems.yml", []string{"STATUSSYNC_CACHET__TOKN=x"})
	got := err.Error()
	for _, want := range []string{
		`bogus_top_level: unknown key`,
		`cachet.tokn: unknown key (set by environment variable STATUSSYNC_CACHET__TOKN)`,
		`monitors[0].http.bogus (monitor "web"): unknown key`,
		`monitors[1].smtp (monitor "web"): unknown monitor kind "smtp"`,
		`cachet.timeout: 10 is not a duration`,
		`cachet.url: ends in /v1`,
		`monitors[0].timeout (monitor "web"): 40s must be less than interval 30s`,
		`monitors[0].http.url (monitor "web"): scheme "ftp" must be http or https`,
		`monitors[1].name (monitor "web"): duplicates monitors[0]`,
		`components[0].monitors[1] (component "GitLab"): unknown monitor "nope"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing problem %q", want)
		}
	}
	// cachet.timeout failed to decode; the "must be positive" it then
	// reads as is noise and must not be reported.
	if strings.Contains(got, "cachet.timeout: must be positive") {
		t.Errorf("a decode failure was reported twice:\n%v", got)
	}
	if t.Failed() {
		t.Logf("all problems:\n%v", got)
	}
}

func TestValidFull(t *testing.T) {
	cfg, err := Load("testdata/valid-full.yml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Cachet.Token.Reveal(); got != "not-a-real-token" {
		t.Errorf("token from token_file = %q", got)
	}
	kinds := map[string]string{}
	for _, m := range cfg.Monitors {
		kinds[m.Name] = m.Kind
	}
	want := map[string]string{"gitlab-web": "http", "gitlab-ssh": "tcp", "resolver": "dns", "mail": "cloudns"}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Errorf("kinds = %v, want %v", kinds, want)
	}
	ssh := cfg.Monitors[1]
	if ssh.Cron == nil || ssh.Interval != 0 || ssh.Timeout != 10*time.Second || ssh.Outage != OutagePartial {
		t.Errorf("gitlab-ssh = interval %v cron %v timeout %v outage %v", ssh.Interval, ssh.Cron, ssh.Timeout, ssh.Outage)
	}
	if got := cfg.Components[0].Rule; got != RuleWorst {
		t.Errorf("default rule = %q", got)
	}
}

func TestDefaultsApply(t *testing.T) {
	cfg := writeAndLoad(t, `
defaults: {interval: 20s, timeout: 5s, failures_before_down: 3}
monitors:
  - {name: a, tcp: {address: "127.0.0.1:1"}}
  - {name: b, interval: 2s, tcp: {address: "127.0.0.1:1"}}
`, nil)
	a, b := cfg.Monitors[0], cfg.Monitors[1]
	if a.Interval != 20*time.Second || a.Timeout != 5*time.Second || a.FailuresBeforeDown != 3 || a.SuccessesBeforeUp != 2 || a.Outage != OutageMajor {
		t.Errorf("a = %+v", a)
	}
	// b's interval is shorter than the default timeout: the default keeps
	// a margin below the interval instead of making the config invalid.
	if b.Timeout != 1800*time.Millisecond {
		t.Errorf("b.timeout = %v, want 1.8s", b.Timeout)
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	cfg := writeAndLoad(t, `
cachet: {url: https://file.example.org/api, dry_run: true}
defaults: {interval: 60s}
`, []string{
		"STATUSSYNC_CACHET__URL=https://env.example.org/api",
		"STATUSSYNC_DEFAULTS__INTERVAL=30s",
		"STATUSSYNC_DEFAULTS__FAILURES_BEFORE_DOWN=4",
		"STATUSSYNC_CLOUDNS__PASSWORD=12345",
		"STATUSSYNC_CONFIG_FILE=/ignored/because/it/is/the/flag",
		"OTHER_CACHET__URL=https://ignored.example.org",
	})
	if cfg.Cachet.URL != "https://env.example.org/api" {
		t.Errorf("cachet.url = %q, want the environment's", cfg.Cachet.URL)
	}
	if cfg.Defaults.Interval != 30*time.Second || cfg.Defaults.FailuresBeforeDown != 4 {
		t.Errorf("defaults = %+v", cfg.Defaults)
	}
	if cfg.CloudNS.Password.Reveal() != "12345" {
		t.Errorf("numeric password from env = %q", cfg.CloudNS.Password.Reveal())
	}
}

func TestNoFileIsTheDefaultDryRun(t *testing.T) {
	cfg, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Cachet.Enabled() || len(cfg.Monitors) != 0 {
		t.Errorf("default config = %+v", cfg)
	}
}

func TestUnreadableAndUnparsableFiles(t *testing.T) {
	if _, err := Load("testdata/does-not-exist.yml", nil); err == nil || !strings.Contains(err.Error(), "read config file") {
		t.Errorf("missing file: %v", err)
	}
	path := filepath.Join(t.TempDir(), "bad.yml")
	if err := os.WriteFile(path, []byte("monitors: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path, nil); err == nil || !strings.Contains(err.Error(), "parse config file") {
		t.Errorf("bad YAML: %v", err)
	}
}

func TestChecksumFollowsSecretFiles(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	write := func(s string) {
		if err := os.WriteFile(token, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("first\n")
	path := filepath.Join(dir, "c.yml")
	if err := os.WriteFile(path, []byte("cachet: {url: https://s.example.org/api, token_file: "+token+"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Load(path, nil)
	write("rotated\n")
	b, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Checksum != again.Checksum {
		t.Error("checksum changed without any change")
	}
	if a.Checksum == b.Checksum || b.Cachet.Token.Reveal() != "rotated" {
		t.Errorf("a rotated token file must change the checksum and the token (token %q)", b.Cachet.Token.Reveal())
	}
}

func TestFingerprint(t *testing.T) {
	base := "monitors:\n  - {name: a, tcp: {address: \"127.0.0.1:1\"}}\n  - {name: b, tcp: {address: \"127.0.0.1:2\"}}\n"
	x := writeAndLoad(t, base, nil)
	y := writeAndLoad(t, strings.Replace(base, "127.0.0.1:2", "127.0.0.1:3", 1), nil)
	z := writeAndLoad(t, "defaults: {interval: 30s}\n"+base, nil)
	if x.Monitors[0].Fingerprint != y.Monitors[0].Fingerprint {
		t.Error("unchanged monitor a got a new fingerprint")
	}
	if x.Monitors[1].Fingerprint == y.Monitors[1].Fingerprint {
		t.Error("changed monitor b kept its fingerprint")
	}
	if x.Monitors[0].Fingerprint == z.Monitors[0].Fingerprint {
		t.Error("a change of defaults must change every fingerprint")
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("hunter2-very-secret")
	type holder struct{ Token Secret }
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "token", s, "holder", holder{s})
	js, _ := json.Marshal(holder{s})
	for _, out := range []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x", s, s, s, s, s, s),
		fmt.Sprintf("%v %+v %#v", holder{s}, holder{s}, holder{s}),
		logs.String(), string(js),
	} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("secret leaked: %s", out)
		}
	}
	if s.Reveal() != "hunter2-very-secret" {
		t.Error("Reveal lost the value")
	}
}

func writeAndLoad(tb testing.TB, yaml string, environ []string) *Config {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "config.yml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		tb.Fatal(err)
	}
	cfg, err := Load(path, environ)
	if err != nil {
		tb.Fatalf("load: %v", err)
	}
	return cfg
}

func TestChecksumFollowsProbeFiles(t *testing.T) {
	dir := t.TempDir()
	bearer := filepath.Join(dir, "bearer")
	if err := os.WriteFile(bearer, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf("monitors:\n  - {name: api, http: {url: \"https://127.0.0.1/\", bearer_token_file: %q}}\n", bearer)
	path := filepath.Join(dir, "c.yml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bearer, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Checksum == b.Checksum {
		t.Error("rotating a probe's bearer_token_file must change the checksum, or the reload is skipped")
	}
}
