package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Issue #15 point 6: one mistake in the defaults block is one problem, not
// one more per monitor that inherits the value.
func TestOneMistakeInDefaultsIsOneProblem(t *testing.T) {
	monitors := "monitors:\n  - {name: a, tcp: {address: '127.0.0.1:1'}}\n  - {name: b, tcp: {address: '127.0.0.1:2'}}\n  - {name: c, schedule: '@every 1m', tcp: {address: '127.0.0.1:3'}}\n"
	for _, tc := range []struct {
		defaults string
		env      []string
		want     string
	}{
		{"defaults: {interval: 30}\n", nil, `defaults.interval: 30 is not a duration`},
		{"defaults: {interval: 0s}\n", nil, `defaults.interval: must be positive`},
		{"defaults: {timeout: 2m}\n", nil, `defaults.timeout: 2m0s must be less than interval 1m0s`},
		{"defaults: {failures_before_down: 0}\n", nil, `defaults.failures_before_down: 0 must be at least 1`},
		{"defaults: {successes_before_up: -1}\n", nil, `defaults.successes_before_up: -1 must be at least 1`},
		{"", []string{"STATUSSYNC_DEFAULTS__FAILURES_BEFORE_DOWN=two"}, `defaults.failures_before_down: "two" is not a whole number (set by environment variable STATUSSYNC_DEFAULTS__FAILURES_BEFORE_DOWN)`},
	} {
		t.Run(tc.want, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yml")
			if err := os.WriteFile(path, []byte(tc.defaults+monitors), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path, tc.env)
			problems := Problems(err)
			if len(problems) != 1 || !strings.Contains(problems[0].Error(), tc.want) {
				t.Fatalf("want exactly one problem containing\n  %s\ngot %d:\n  %v", tc.want, len(problems), err)
			}
		})
	}
}

// Issue #12 point 2: an explicit 0 where at least 1 is required is an
// error naming the key, never silently replaced by the default.
func TestExplicitZeroIsNotUnset(t *testing.T) {
	for key, want := range map[string]string{
		"failures_before_down: 0":       `monitors[0].failures_before_down (monitor "a"): 0 must be at least 1`,
		"successes_before_up: 0":        `monitors[0].successes_before_up (monitor "a"): 0 must be at least 1`,
		"timeout: 0s":                   `monitors[0].timeout (monitor "a"): 0s must be positive`,
		"interval: 0s":                  `monitors[0].interval (monitor "a"): 0s must be positive`,
		"metric: {id: 1, threshold: 0}": `monitors[0].metric.threshold (monitor "a"): 0 must be a factor of 60`,
	} {
		t.Run(key, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yml")
			body := "monitors:\n  - {name: a, " + key + ", tcp: {address: '127.0.0.1:1'}}\n"
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path, nil)
			problems := Problems(err)
			if len(problems) != 1 || !strings.Contains(problems[0].Error(), want) {
				t.Fatalf("want exactly one problem containing\n  %s\ngot %d:\n  %v", want, len(problems), err)
			}
		})
	}
	// Unset, the same keys take the defaults.
	cfg := writeAndLoad(t, "defaults: {failures_before_down: 3}\nmonitors:\n  - {name: a, metric: {id: 1}, http: {url: 'https://x.org/'}}\n", nil)
	m := cfg.Monitors[0]
	if m.FailuresBeforeDown != 3 || m.SuccessesBeforeUp != 2 || m.Metric.Threshold != 5 || m.HTTP.MaxRedirects != 10 || m.HTTP.Method != "GET" {
		t.Errorf("defaults not applied: %+v %+v", m, m.HTTP)
	}
}

// validate only checks and compiles: after the defaults pass and the file
// pass, it changes no key of the configuration (every kind, with every
// defaultable key left unset).
func TestValidationOnlyChecks(t *testing.T) {
	cfg := Default()
	cfg.Monitors = []MonitorSpec{
		{Name: "h", Metric: &MetricSpec{ID: 1}, HTTP: &HTTPProbe{URL: "https://x.org/"}},
		{Name: "d", DNS: &DNSProbe{Server: "127.0.0.1", QueryName: "x.org"}},
		{Name: "t", TCP: &TCPProbe{Address: "127.0.0.1:1"}},
		{Name: "c", Schedule: "@every 5m", CloudNS: &CloudNSProbe{CheckID: 1}},
	}
	cfg.CloudNS.AuthID, cfg.CloudNS.Password = 1, "x"
	cfg.Components = []ComponentSpec{{Name: "C", Monitors: []string{"h"}}}
	cfg.applyDefaults(nil)
	cfg.readFiles(&problems{})
	before := exported(cfg)
	var p problems
	cfg.validate(&p)
	if err := p.err(); err != nil {
		t.Fatal(err)
	}
	if after := exported(cfg); !reflect.DeepEqual(before, after) {
		t.Errorf("validate changed the configuration:\nbefore %+v\nafter  %+v", before, after)
	}
}

// exported is the configuration's monitors and components as a comparable
// value: the compiled forms (Kind, Cron) are validation's output, not keys.
func exported(c *Config) any {
	var out []any
	for _, m := range c.Monitors {
		m.Kind, m.Cron = "", nil
		b, _ := json.Marshal(m)
		out = append(out, string(b))
	}
	b, _ := json.Marshal(c.Components)
	return append(out, string(b))
}

// Issue #12 point 2 and its acceptance: the fingerprint covers what shapes
// a check only, so tuning thresholds keeps every monitor (and its state)
// across a reload, while a change of schedule does not.
func TestFingerprintCoversOnlyWhatShapesACheck(t *testing.T) {
	base := "monitors:\n  - {name: a, tcp: {address: '127.0.0.1:1'}}\n  - {name: b, interval: 30s, tcp: {address: '127.0.0.1:2'}}\n"
	x := writeAndLoad(t, base, nil)
	for _, same := range []string{
		"defaults: {failures_before_down: 5}\n" + base,
		"defaults: {successes_before_up: 4}\n" + base,
		strings.Replace(base, "{name: a,", "{name: a, failures_before_down: 3, successes_before_up: 3, outage: partial, metric: {name: m},", 1),
	} {
		y := writeAndLoad(t, same, nil)
		for i := range x.Monitors {
			if x.Monitors[i].Fingerprint != y.Monitors[i].Fingerprint {
				t.Errorf("monitor %s got a new fingerprint from a threshold change:\n%s", x.Monitors[i].Name, same)
			}
		}
	}
	z := writeAndLoad(t, "defaults: {interval: 2m}\n"+base, nil)
	if x.Monitors[0].Fingerprint == z.Monitors[0].Fingerprint {
		t.Error("a's interval (inherited) changed but its fingerprint did not")
	}
	if x.Monitors[1].Fingerprint != z.Monitors[1].Fingerprint {
		t.Error("b sets its own interval; defaults.interval does not shape it")
	}
	for _, different := range []string{
		strings.Replace(base, "{name: a,", "{name: a, degraded_latency: 1s,", 1),
		strings.Replace(base, "{name: a,", "{name: a, labels: {team: x},", 1),
		strings.Replace(base, "{name: a,", "{name: a, timeout: 3s,", 1),
	} {
		if writeAndLoad(t, different, nil).Monitors[0].Fingerprint == x.Monitors[0].Fingerprint {
			t.Errorf("a change that shapes a's checks kept its fingerprint:\n%s", different)
		}
	}
}

// Issue #13 point 9: a monitor's fingerprint covers the contents of every
// file it names, so rotating one replaces the instance (which holds the
// old secret) on reload; other monitors are untouched.
func TestFingerprintCoversFileContents(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	certA, keyA := selfSigned(t, "a")
	certB, keyB := selfSigned(t, "b")
	files := map[string]string{
		"bearer": "token-1", "password": "pw-1", "body": `{"q":1}`,
		"ca": certA, "cert": certA, "key": keyA,
	}
	rotated := map[string]string{
		"bearer": "token-2", "password": "pw-2", "body": `{"q":2}`,
		"ca": certB, "cert": certB, "key": keyB,
	}
	paths := map[string]string{}
	for name, content := range files {
		paths[name] = write(name, content)
	}
	cfgText := "monitors:\n" +
		"  - {name: bearer, http: {url: 'https://x.org/', bearer_token_file: " + paths["bearer"] + "}}\n" +
		"  - {name: password, http: {url: 'https://x.org/', basic_auth: {username: u, password_file: " + paths["password"] + "}}}\n" +
		"  - {name: body, http: {url: 'https://x.org/', method: POST, body_file: " + paths["body"] + "}}\n" +
		"  - {name: ca, http: {url: 'https://x.org/', tls_config: {ca_file: " + paths["ca"] + "}}}\n" +
		"  - {name: cert, tcp: {address: 'x.org:443', tls: true, tls_config: {cert_file: " + paths["cert"] + ", key_file: " + paths["key"] + "}}}\n" +
		"  - {name: key, http: {url: 'https://x.org/', tls_config: {cert_file: " + paths["cert"] + ", key_file: " + paths["key"] + "}}}\n" +
		"  - {name: plain, http: {url: 'https://x.org/'}}\n"
	before := writeAndLoad(t, cfgText, nil)
	for _, name := range []string{"bearer", "password", "body", "ca", "cert"} {
		write(name, rotated[name])
		if name == "cert" {
			write("key", rotated["key"]) // a pair rotates together
		}
		after := writeAndLoad(t, cfgText, nil)
		for i, m := range after.Monitors {
			old := before.Monitors[i]
			uses := m.Name == name || (name == "cert" && m.Name == "key")
			if changed := m.Fingerprint != old.Fingerprint; changed != uses {
				t.Errorf("after rotating %s: monitor %s fingerprint changed=%v, want %v", name, m.Name, changed, uses)
			}
		}
		before = after
	}
	if got := before.Monitors[0].HTTP.Token().Reveal(); got != "token-2" {
		t.Errorf("bearer token after rotation = %q", got)
	}
}

// selfSigned returns a PEM certificate and key.
func selfSigned(tb testing.TB, cn string) (certPEM, keyPEM string) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}))
}

// cachet.manual_override_max defaults to 4h; an explicit 0 (respect a
// manual status until the desired state changes) is kept, not defaulted.
func TestManualOverrideMax(t *testing.T) {
	if got := writeAndLoad(t, "cachet: {dry_run: true}\n", nil).Cachet.ManualOverrideMax; got != 4*time.Hour {
		t.Errorf("default: got %v, want 4h", got)
	}
	if got := writeAndLoad(t, "cachet: {manual_override_max: 0s}\n", nil).Cachet.ManualOverrideMax; got != 0 {
		t.Errorf("explicit 0: got %v", got)
	}
	if got := writeAndLoad(t, "cachet: {manual_override_max: 30m}\n", nil).Cachet.ManualOverrideMax; got != 30*time.Minute {
		t.Errorf("30m: got %v", got)
	}
}
