package config

import (
	"cmp"
	"reflect"
	"slices"
)

// kindTable is the one table of monitor kinds, read off MonitorSpec: each
// pointer field whose type is a kind block (it has the kindBlock marker)
// is a kind, named by its YAML key. Kinds, the kind-block checks of
// validation, the messages that list kinds and the monitors registry's
// test all derive from it, so they cannot drift apart.
//
// Adding a kind therefore touches: its block type in config/<kind>.go
// (with validate and kindBlock methods) and its field in MonitorSpec; the
// new monitors/<kind>.go; and its constructor's entry in the monitors
// registry (see monitors/doc.go).
var kindTable = func() []kindEntry {
	var table []kindEntry
	blockType := reflect.TypeFor[kindValidator]()
	st := reflect.TypeFor[MonitorSpec]()
	for i := range st.NumField() {
		f := st.Field(i)
		if f.Type.Kind() == reflect.Pointer && f.Type.Implements(blockType) {
			table = append(table, kindEntry{name: f.Tag.Get("koanf"), field: i})
		}
	}
	slices.SortFunc(table, func(a, b kindEntry) int { return cmp.Compare(a.name, b.name) })
	return table
}()

// kindEntry is one kind: its name and its block's field in MonitorSpec.
type kindEntry struct {
	name  string
	field int
}

// Kinds lists the monitor kinds, sorted, from kindTable. The monitors
// registry has a constructor for each (a test in monitors checks it).
var Kinds = func() []string {
	names := make([]string, 0, len(kindTable))
	for _, k := range kindTable {
		names = append(names, k.name)
	}
	return names
}()

// kindBlocks returns the kind blocks that are set, by kind name.
func (m *MonitorSpec) kindBlocks() map[string]kindValidator {
	set := map[string]kindValidator{}
	v := reflect.ValueOf(m).Elem()
	for _, k := range kindTable {
		if f := v.Field(k.field); !f.IsNil() {
			set[k.name] = f.Interface().(kindValidator)
		}
	}
	return set
}
