package config

import (
	"reflect"
	"slices"
	"testing"
)

// Issue #12 point 3: the kinds are read off MonitorSpec's kind-block
// fields, so the list, the blocks and the YAML keys cannot drift: each
// kind block found gives exactly its kind, under its YAML key, and the
// kinds we ship are all found.
func TestKindTable(t *testing.T) {
	for _, want := range []string{"cloudns", "dns", "http", "tcp"} {
		if !slices.Contains(Kinds, want) {
			t.Errorf("Kinds = %v lacks %q", Kinds, want)
		}
	}
	if !slices.IsSorted(Kinds) || len(slices.Compact(slices.Clone(Kinds))) != len(Kinds) {
		t.Errorf("Kinds = %v: not sorted and unique", Kinds)
	}
	st := reflect.TypeFor[MonitorSpec]()
	for _, k := range kindTable {
		f := st.Field(k.field)
		if f.Tag.Get("koanf") != k.name || k.name == "" {
			t.Errorf("kind %q is field %s with key %q", k.name, f.Name, f.Tag.Get("koanf"))
		}
		var m MonitorSpec
		reflect.ValueOf(&m).Elem().Field(k.field).Set(reflect.New(f.Type.Elem()))
		blocks := m.kindBlocks()
		if _, ok := blocks[k.name]; len(blocks) != 1 || !ok {
			t.Errorf("MonitorSpec.%s set: kindBlocks = %v, want only %q", f.Name, blocks, k.name)
		}
	}
	// A block type that validates but is not a kind (metric) is not one.
	if slices.Contains(Kinds, "metric") {
		t.Error("metric is not a kind")
	}
	if blocks := (&MonitorSpec{}).kindBlocks(); len(blocks) != 0 {
		t.Errorf("an empty MonitorSpec has blocks %v", blocks)
	}
}
