package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// What a load keeps per monitor and component is what 10,000 monitors
// cost in memory (issue #18): these tests pin the sharing that keeps it
// small, and that sharing never mixes up two monitors' settings.

func loadYAML(t *testing.T, text string) *Config {
	t.Helper()
	file := filepath.Join(t.TempDir(), "config.yml")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestComponentsShareCompiledTemplates(t *testing.T) {
	cfg := loadYAML(t, `
monitors:
  - {name: a, http: {url: "http://a/"}}
components:
  - {name: one, monitors: [a], incidents: {enabled: true}}
  - {name: two, monitors: [a], incidents: {enabled: true}}
  - {name: own, monitors: [a], incidents: {enabled: true, templates: {name: "{{.Component}} is down ({{.Status}})"}}}
`)
	one, two, own := cfg.Components[0].Incidents, cfg.Components[1].Incidents, cfg.Components[2].Incidents
	if reflect.ValueOf(one.compiled).Pointer() != reflect.ValueOf(two.compiled).Pointer() {
		t.Error("two components with the default templates compiled them twice")
	}
	if reflect.ValueOf(one.compiled).Pointer() == reflect.ValueOf(own.compiled).Pointer() {
		t.Fatal("a component with its own template shares the defaults' compiled set")
	}
	d := IncidentData{Component: "X", Status: "major outage"}
	gotDefault, err := one.Render("name", d)
	if err != nil {
		t.Fatal(err)
	}
	gotOwn, err := own.Render("name", d)
	if err != nil {
		t.Fatal(err)
	}
	if gotOwn != "X is down (major outage)" || gotDefault == gotOwn {
		t.Errorf("rendered %q (default) and %q (own template)", gotDefault, gotOwn)
	}
	// The other four templates of "own" are the defaults.
	for _, which := range []string{"investigating", "update", "resolved", "missed"} {
		a, errA := one.Render(which, d)
		b, errB := own.Render(which, d)
		if errA != nil || errB != nil || a != b {
			t.Errorf("%s: %q, %v vs %q, %v", which, a, errA, b, errB)
		}
	}
}

func TestBadTemplateIsNotShared(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.yml")
	text := `
monitors:
  - {name: a, http: {url: "http://a/"}}
components:
  - {name: one, monitors: [a], incidents: {enabled: true, templates: {name: "{{.Nope}}"}}}
  - {name: two, monitors: [a], incidents: {enabled: true, templates: {name: "{{.Nope}}"}}}
`
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(file, nil)
	if err == nil {
		t.Fatal("a template naming a missing field loaded")
	}
	// Each component reports its own problem.
	for _, path := range []string{"components[0].incidents.templates.name", "components[1].incidents.templates.name"} {
		if !strings.Contains(err.Error(), path) {
			t.Errorf("error does not name %s:\n%v", path, err)
		}
	}
}

// TestEmptyTLSConfigIsShared: monitors without a tls_config share one
// compiled default; any setting gives a monitor its own.
func TestEmptyTLSConfigIsShared(t *testing.T) {
	var a, b TLSConfig
	if err := a.compile(); err != nil {
		t.Fatal(err)
	}
	if err := b.compile(); err != nil {
		t.Fatal(err)
	}
	if a.built != b.built || a.built != defaultTLS {
		t.Error("empty TLS configurations were compiled separately")
	}
	if c := a.Build(); c == defaultTLS || c.MinVersion != defaultTLS.MinVersion || c.InsecureSkipVerify {
		t.Errorf("Build handed out the shared config or a different one: %+v", c)
	}
	// Every exported field makes the configuration non-empty, so a field
	// added later cannot be silently ignored by the sharing.
	typ := reflect.TypeOf(TLSConfig{})
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		var c TLSConfig
		v := reflect.ValueOf(&c).Elem().Field(i)
		switch v.Kind() {
		case reflect.Bool:
			v.SetBool(true)
		case reflect.String:
			v.SetString("x")
		default:
			t.Fatalf("field %s of kind %s: teach this test and isEmpty about it", f.Name, v.Kind())
		}
		if c.isEmpty() {
			t.Errorf("a TLSConfig with only %s set counts as empty", f.Name)
		}
	}
}

// TestLoadDropsRawKeysButRevalidatesAlike: the key set Load needs for
// explicit zeros is not kept (it was ~6 MB at 10,000 monitors), and a
// loaded configuration validated again keeps an explicit zero.
func TestLoadDropsRawKeysButRevalidatesAlike(t *testing.T) {
	cfg := loadYAML(t, `
monitors:
  - {name: zero, http: {url: "http://a/", max_redirects: 0}}
  - {name: unset, http: {url: "http://b/"}}
`)
	if cfg.rawKeys != nil {
		t.Errorf("Load kept %d raw keys", len(cfg.rawKeys))
	}
	if got := cfg.Monitors[0].HTTP.MaxRedirects; got != 0 {
		t.Fatalf("explicit max_redirects 0 loaded as %d", got)
	}
	want := cfg.Monitors[1].HTTP.MaxRedirects
	if want == 0 {
		t.Fatal("unset max_redirects has no default")
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := cfg.Monitors[0].HTTP.MaxRedirects; got != 0 {
		t.Errorf("validating again turned the explicit 0 into %d", got)
	}
	if got := cfg.Monitors[1].HTTP.MaxRedirects; got != want {
		t.Errorf("validating again changed the default %d to %d", want, got)
	}
}
