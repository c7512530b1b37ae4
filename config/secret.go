package config

import (
	"fmt"
	"log/slog"
)

// redacted is what a Secret prints as, wherever it is printed.
const redacted = "<secret>"

// Secret is a string that never prints itself: String, GoString, Format,
// MarshalText and LogValue all return "<secret>". Use Reveal to get the value
// for the one place that needs it (an Authorization header, a form field).
type Secret string

// String implements fmt.Stringer.
func (s Secret) String() string { return redacted }

// GoString implements fmt.GoStringer so %#v does not leak the value.
func (s Secret) GoString() string { return redacted }

// Format implements fmt.Formatter so every verb, %s %v %q %x included, prints
// the redacted form.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalText implements encoding.TextMarshaler (YAML, JSON and koanf dumps).
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// Reveal returns the secret value. Call it only where the value leaves the
// process towards the service it authenticates to.
func (s Secret) Reveal() string { return string(s) }
