package config

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// problems collects every validation failure of one load, so that a user
// fixing a config sees all of them at once rather than one per attempt.
type problems struct {
	errs []error
	// digest, when set, receives the contents of every file the
	// configuration names, so that rotating any of them (a token, a
	// password, a client certificate) changes the checksum and a reload is
	// not skipped.
	digest io.Writer
}

// readFile reads a file the configuration names and feeds the digest.
func (p *problems) readFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if p.digest != nil {
		_, _ = fmt.Fprintf(p.digest, "%s\x00%d\x00", path, len(data))
		_, _ = p.digest.Write(data)
	}
	return data, nil
}

// add records a problem at a key path. object names the monitor or
// component the path belongs to, or is empty for top-level keys.
func (p *problems) add(path, object, format string, args ...any) {
	// Messages quote values from the file; a URL among them must not
	// carry its password into check output, logs or a /-/reload answer.
	p.errs = append(p.errs, &Problem{Path: path, Object: object, Msg: RedactURLs(fmt.Sprintf(format, args...))})
}

func (p *problems) err() error { return errors.Join(p.errs...) }

// Problem is one configuration error. Errors returned by Load and Validate
// join any number of them; use Problems to list them.
type Problem struct {
	// Path is the full key path, e.g. "monitors[2].http.url".
	Path string
	// Object names the monitor or component at the path, e.g. `monitor "api"`.
	Object string
	// Msg says what is wrong.
	Msg string
}

func (p *Problem) Error() string {
	switch {
	case p.Path == "":
		return p.Msg
	case p.Object == "":
		return p.Path + ": " + p.Msg
	default:
		return p.Path + " (" + p.Object + "): " + p.Msg
	}
}

// Problems flattens an error returned by Load or Validate into its
// individual problems, in the order they were found. Errors that are not
// Problems (e.g. an unreadable file) are returned as they are.
func Problems(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, Problems(e)...)
		}
		return out
	}
	return []error{err}
}
