package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestEveryKeyIsDocumented walks the schema and expects each key outside
// the probe kind blocks (documented in docs/probes.md) in
// docs/configuration.md, so a new key cannot ship undocumented.
func TestEveryKeyIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	skip := map[reflect.Type]bool{
		reflect.TypeOf(HTTPProbe{}): true, reflect.TypeOf(TCPProbe{}): true,
		reflect.TypeOf(DNSProbe{}): true, reflect.TypeOf(TLSConfig{}): true,
		reflect.TypeOf(CloudNSProbe{}): true,
	}
	var walk func(t reflect.Type, path string)
	var missing []string
	walk = func(typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || skip[typ] {
			return
		}
		for i := range typ.NumField() {
			f := typ.Field(i)
			tag := f.Tag.Get("koanf")
			if tag == "" || tag == "-" {
				continue
			}
			if !strings.Contains(string(doc), "`"+tag) && !strings.Contains(string(doc), "."+tag+"`") && !strings.Contains(string(doc), tag+"`") {
				missing = append(missing, path+tag)
			}
			walk(f.Type, path+tag+".")
		}
	}
	walk(reflect.TypeOf(Config{}), "")
	if len(missing) > 0 {
		t.Errorf("docs/configuration.md does not mention: %s", strings.Join(missing, ", "))
	}
}
