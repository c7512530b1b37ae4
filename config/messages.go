package config

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	yamlv3 "go.yaml.in/yaml/v3"
)

// plainDecodeError says in plain words what a value that failed to decode
// is and what the key wants, e.g. `"many" is not a whole number`, instead
// of mapstructure's "cannot parse value as 'int': strconv.ParseInt: invalid
// syntax". Secrets are never quoted.
func plainDecodeError(err error) string {
	var (
		expected reflect.Value
		value    any
	)
	var pe *mapstructure.ParseError
	var ue *mapstructure.UnconvertibleTypeError
	switch {
	case errors.As(err, &pe):
		expected, value = pe.Expected, pe.Value
	case errors.As(err, &ue):
		expected, value = ue.Expected, ue.Value
	default:
		return err.Error()
	}
	if !expected.IsValid() {
		return err.Error()
	}
	t := expected.Type()
	shown := "the value"
	if t != reflect.TypeOf(Secret("")) {
		switch v := value.(type) {
		case string:
			shown = fmt.Sprintf("%q", v)
		case map[string]any:
			shown = "a block of keys"
		case []any:
			shown = "a list"
		default:
			shown = fmt.Sprint(v)
		}
	}
	return shown + " is not " + typeInWords(t)
}

// typeInWords names a Go type as the configuration's reader knows it.
func typeInWords(t reflect.Type) string {
	if t == reflect.TypeOf(time.Duration(0)) {
		return "a duration, e.g. 30s, 5m or 1h30m"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "text"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a block of keys"
	case reflect.Pointer:
		return typeInWords(t.Elem())
	}
	return "a " + t.String()
}

// yamlProblem rewrites a YAML syntax error to carry the line and column
// where the document stops parsing. The YAML library reports only a line,
// often the start of the enclosing block rather than the broken one, so
// the place is found by parsing ever longer prefixes of the file: the
// first line whose prefix fails holds the error.
func yamlProblem(data []byte, err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "line ") && i > 0 {
		msg = msg[i+2:]
	}
	const maxLines = 5000 // beyond this, quadratic work is not worth it
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > maxLines {
		return err.Error()
	}
	end := 0
	for i, l := range lines {
		end += len(l)
		var v any
		if yamlv3.Unmarshal(data[:end], &v) == nil {
			continue
		}
		return fmt.Sprintf("line %d, column %d: %s", i+1, columnOf(l), msg)
	}
	return err.Error()
}

// columnOf points at the first tab in a line's indentation (YAML forbids
// them), else at its first character.
func columnOf(line []byte) int {
	for i, c := range line {
		switch c {
		case ' ':
			continue
		case '\t':
			return i + 1
		}
		return i + 1
	}
	return 1
}
