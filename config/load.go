package config

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/rawbytes"
	"github.com/knadh/koanf/providers/structs"
	"github.com/knadh/koanf/v2"
)

// EnvPrefix starts every environment variable that overrides a key.
const EnvPrefix = "STATUSSYNC_"

// EnvConfigFile names the config file when --config.file is not given. It
// is a flag's stand-in, not a key, so the key overrides skip it.
const EnvConfigFile = EnvPrefix + "CONFIG_FILE"

// LoadOption changes what Load requires.
type LoadOption func(*loadOptions)

type loadOptions struct {
	withoutCachet bool
}

// WithoutCachetCredentials loads a configuration for a command that never
// writes to Cachet (probe): cachet.token_file is neither required nor read.
func WithoutCachetCredentials() LoadOption {
	return func(o *loadOptions) { o.withoutCachet = true }
}

// Load builds the configuration from the defaults, the YAML file at path
// (none if empty), the STATUSSYNC_ variables in environ and the secret files,
// then validates it. The error lists every problem found (see Problems).
func Load(path string, environ []string, opts ...LoadOption) (*Config, error) {
	var o loadOptions
	for _, opt := range opts {
		opt(&o)
	}
	k := koanf.New(".")
	if err := k.Load(structs.Provider(Default(), "koanf"), nil); err != nil {
		return nil, fmt.Errorf("load defaults: %w", err)
	}

	sum := sha256.New()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read config file: %w", err)
		}
		sum.Write(data)
		if err := k.Load(rawbytes.Provider(data), yaml.Parser()); err != nil {
			return nil, fmt.Errorf("parse config file %s: %s", path, yamlProblem(data, err))
		}
	}

	envKeys := map[string]string{} // key path -> variable name, for messages
	vars := slices.Clone(environ)
	sort.Strings(vars)
	var ignored []string
	for _, kv := range vars {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case isServiceLink(name):
			// Kubernetes's service links change with the Service's IP;
			// they are not configuration and must not trigger a reload.
			ignored = append(ignored, name)
		case strings.HasPrefix(kv, EnvPrefix):
			sum.Write([]byte(kv + "\n"))
		}
	}
	err := k.Load(env.Provider(".", env.Opt{
		Prefix:      EnvPrefix,
		EnvironFunc: func() []string { return vars },
		TransformFunc: func(name, value string) (string, any) {
			if name == EnvConfigFile || isServiceLink(name) {
				return "", nil
			}
			key := strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(name, EnvPrefix), "__", "."))
			envKeys[key] = name
			return key, value
		},
	}), nil)
	if err != nil {
		return nil, fmt.Errorf("load environment: %w", err)
	}

	var p problems
	raw := k.Raw()
	checkKeys(&p, reflect.TypeOf(Config{}), raw, "", "", envKeys)

	cfg := &Config{}
	md := &mapstructure.DecoderConfig{
		TagName: "koanf",
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			durationHook,
			mapstructure.TextUnmarshallerHookFunc(),
		),
		// Environment values are strings; weak typing turns "5" into 5
		// and "true" into true. Durations stay strict (durationHook).
		WeaklyTypedInput: true,
	}
	if err := k.UnmarshalWithConf("", cfg, koanf.UnmarshalConf{DecoderConfig: md}); err != nil {
		addDecodeErrors(&p, err, raw, envKeys)
	}
	// Semantic checks run even after decoding problems, so one pass reports
	// everything; only their findings at paths that already have a problem
	// (a value that failed to decode reads as zero) are dropped as noise.
	reported := len(p.errs)
	markRawKinds(cfg, raw)
	cfg.rawKeys = map[string]bool{}
	flattenKeys(raw, "", cfg.rawKeys)
	semantic := problems{digest: sum}
	if o.withoutCachet {
		// Nothing will be written: Cachet's credentials are not needed,
		// and an unset cachet.url needs none to be valid.
		cfg.Cachet.DryRun, cfg.Cachet.Token, cfg.Cachet.TokenFile = true, "", ""
	}
	cfg.applyDefaults(environ)
	cfg.readFiles(&semantic)
	cfg.validate(&semantic)
	for _, e := range semantic.errs {
		if !coveredBy(e.(*Problem).Path, p.errs[:reported]) {
			p.errs = append(p.errs, e)
		}
	}
	if len(p.errs) > 0 {
		return nil, p.err()
	}
	cfg.fingerprint(raw)
	cfg.rawKeys = nil
	cfg.IgnoredEnv = ignored
	cfg.Checksum = hex.EncodeToString(sum.Sum(nil))
	return cfg, nil
}

// durationHook parses durations, quoting a bad value in its error, and
// rejects bare numbers: YAML `timeout: 10` would otherwise decode as 10ns, a
// silent and dangerous misreading.
func durationHook(from, to reflect.Type, data any) (any, error) {
	if to != reflect.TypeOf(time.Duration(0)) || from == to {
		return data, nil
	}
	if str, ok := data.(string); ok {
		d, err := time.ParseDuration(str)
		if err != nil {
			return nil, fmt.Errorf("%q is not a duration, e.g. 30s, 5m or 1h30m", str)
		}
		return d, nil
	}
	switch from.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return nil, fmt.Errorf("%v is not a duration: give a unit, e.g. \"%vs\"", data, data)
	}
	return data, nil
}

// readSecretFiles replaces token_file and password_file by their contents.
// They are read on every load so that a rotated secret is picked up by a
// reload, and they feed the checksum so that rotation alone triggers one.
func (c *Config) readSecretFiles(p *problems) {
	read := func(path, key string, dst *Secret, fromFile *bool) {
		if path == "" {
			return
		}
		if *dst != "" && !*fromFile {
			p.add(key, "", "set either the secret or its file, not both")
			return
		}
		data, err := p.readFile(path)
		if err != nil {
			p.add(key, "", "%v", unwrapPathError(err))
			return
		}
		v := strings.TrimSpace(string(data))
		if v == "" {
			p.add(key, "", "file %s is empty", path)
			return
		}
		*dst, *fromFile = Secret(v), true
	}
	read(c.Cachet.TokenFile, "cachet.token_file", &c.Cachet.Token, &c.Cachet.tokenFromFile)
	read(c.CloudNS.PasswordFile, "cloudns.password_file", &c.CloudNS.Password, &c.CloudNS.passwordFromFile)
}

// unwrapPathError keeps os.PathError's useful parts without the "open"
// prefix duplication.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// checkKeys walks the raw configuration against the schema and reports every
// key the schema does not have. It runs before decoding, so unknown keys are
// reported even when another key in the same block has a bad value.
func checkKeys(p *problems, t reflect.Type, raw any, path, object string, envKeys map[string]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			return // a type error; decoding reports it
		}
		fields := map[string]reflect.Type{}
		for i := range t.NumField() {
			f := t.Field(i)
			if tag := f.Tag.Get("koanf"); tag != "" && tag != "-" {
				fields[tag] = f.Type
			}
		}
		keys := make([]string, 0, len(m))
		for key := range m {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		for _, key := range keys {
			full := joinPath(path, key)
			ft, known := fields[key]
			if !known {
				if t == reflect.TypeOf(MonitorSpec{}) {
					if _, isBlock := m[key].(map[string]any); isBlock {
						p.add(full, object, "unknown monitor kind %q (known kinds: %s)", key, strings.Join(Kinds, ", "))
						continue
					}
				}
				if name, fromEnv := envKeys[full]; fromEnv {
					p.add(full, object, "unknown key (set by environment variable %s)", name)
				} else {
					p.add(full, object, "unknown key")
				}
				continue
			}
			checkKeys(p, ft, m[key], full, object, envKeys)
		}
	case reflect.Slice:
		items, ok := raw.([]any)
		if !ok {
			return
		}
		for i, item := range items {
			itemPath := path + "[" + strconv.Itoa(i) + "]"
			checkKeys(p, t.Elem(), item, itemPath, objectFor(itemPath, item, object), envKeys)
		}
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// objectFor names the monitor or component a list item is, from its raw
// name, for error messages.
func objectFor(path string, item any, parent string) string {
	m, ok := item.(map[string]any)
	if !ok {
		return parent
	}
	name, _ := m["name"].(string)
	switch {
	case strings.HasPrefix(path, "monitors["):
		return fmt.Sprintf("monitor %q", name)
	case strings.HasPrefix(path, "components["):
		return fmt.Sprintf("component %q", name)
	}
	return parent
}

// addDecodeErrors turns mapstructure's joined errors into Problems with
// their key paths and owning objects.
func addDecodeErrors(p *problems, err error, raw map[string]any, envKeys map[string]string) {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			addDecodeErrors(p, e, raw, envKeys)
		}
		return
	}
	var de *mapstructure.DecodeError
	if !errors.As(err, &de) {
		p.add("", "", "%v", err)
		return
	}
	// A DecodeError may wrap a join of its children's errors.
	if inner := de.Unwrap(); inner != nil {
		if _, ok := inner.(interface{ Unwrap() []error }); ok {
			addDecodeErrors(p, inner, raw, envKeys)
			return
		}
		if _, ok := inner.(*mapstructure.DecodeError); ok {
			addDecodeErrors(p, inner, raw, envKeys)
			return
		}
	}
	msg := plainDecodeError(de.Unwrap())
	if name, fromEnv := envKeys[de.Name()]; fromEnv {
		msg += " (set by environment variable " + name + ")"
	}
	p.add(de.Name(), objectAt(de.Name(), raw), "%s", msg)
}

// objectAt finds the monitor or component that a key path such as
// "monitors[3].http.url" belongs to.
func objectAt(path string, raw map[string]any) string {
	for _, list := range []string{"monitors", "components"} {
		rest, ok := strings.CutPrefix(path, list+"[")
		if !ok {
			continue
		}
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return ""
		}
		i, err := strconv.Atoi(rest[:end])
		if err != nil {
			return ""
		}
		items, _ := raw[list].([]any)
		if i >= len(items) {
			return ""
		}
		return objectFor(list+"[", items[i], "")
	}
	return ""
}

// coveredBy reports whether path is, or is inside, a path already reported.
func coveredBy(path string, reported []error) bool {
	for _, e := range reported {
		pr, ok := e.(*Problem)
		if !ok {
			continue
		}
		if path == pr.Path || strings.HasPrefix(path, pr.Path+".") || strings.HasPrefix(path, pr.Path+"[") {
			return true
		}
	}
	return false
}

// notShaping are the monitor keys the engine reads at each result rather
// than the monitor at each check: changing them must not replace the
// monitor (and lose its state) on reload.
var notShaping = []string{"failures_before_down", "successes_before_up", "outage", "metric"}

// fingerprint sets each monitor's Fingerprint from what shapes its checks:
// its raw keys except notShaping, its effective schedule and timeout (which
// may come from the defaults block) and the contents of its files.
func (c *Config) fingerprint(raw map[string]any) {
	items, _ := raw["monitors"].([]any)
	for i := range c.Monitors {
		m := &c.Monitors[i]
		shaping := map[string]any{}
		if i < len(items) {
			if item, ok := items[i].(map[string]any); ok {
				for k, v := range item {
					if !slices.Contains(notShaping, k) {
						shaping[k] = v
					}
				}
			}
		}
		h := sha256.New()
		b, _ := json.Marshal(shaping) // map keys are sorted: stable
		h.Write(b)
		_, _ = fmt.Fprintf(h, "\x00%d\x00%s\x00%d\x00%s", m.Interval, m.Schedule, m.Timeout, m.filesDigest)
		m.Fingerprint = hex.EncodeToString(h.Sum(nil))[:16]
	}
}

// flattenKeys records every key path under raw, list items included.
func flattenKeys(raw any, path string, into map[string]bool) {
	switch v := raw.(type) {
	case map[string]any:
		for k, child := range v {
			p := joinPath(path, k)
			into[p] = true
			flattenKeys(child, p, into)
		}
	case []any:
		for i, child := range v {
			p := path + "[" + strconv.Itoa(i) + "]"
			into[p] = true
			flattenKeys(child, p, into)
		}
	}
}

// markRawKinds records which kind block each monitor named in the file.
func markRawKinds(c *Config, raw map[string]any) {
	items, _ := raw["monitors"].([]any)
	for i := range c.Monitors {
		if i >= len(items) {
			return
		}
		m, _ := items[i].(map[string]any)
		for _, k := range Kinds {
			if _, ok := m[k]; ok {
				c.Monitors[i].rawKind = k
			}
		}
	}
}
