package cloudns

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrorKind classifies a failed call. Its String form is a bounded label
// value, used in metrics.
type ErrorKind int

// Error kinds. The zero value is KindOther.
const (
	// KindOther is a ClouDNS failure whose text matches no known kind.
	KindOther ErrorKind = iota
	// KindAuth is a rejected identity or password.
	KindAuth
	// KindPermission is an identity without the right to the call (for
	// example a sub-user whose monitoring-check limit is 0).
	KindPermission
	// KindRateLimited is ClouDNS's per-IP request limit (or an HTTP 429 from
	// something in between).
	KindRateLimited
	// KindNotFound is an unknown check id.
	KindNotFound
	// KindServer is an HTTP 5xx response.
	KindServer
	// KindHTTP is any other unexpected HTTP status (ClouDNS answers 200 even
	// for failures, so this is usually a proxy, a redirect or a wrong URL).
	KindHTTP
	// KindTransport is a network failure: no HTTP response was received.
	KindTransport
	// KindCanceled means the caller's context ended (or would have ended
	// while waiting for the client-side rate limiter).
	KindCanceled
	// KindBadResponse is a 200 response whose body could not be understood.
	KindBadResponse
)

var kindNames = [...]string{
	KindOther:       "other",
	KindAuth:        "auth",
	KindPermission:  "permission",
	KindRateLimited: "rate_limited",
	KindNotFound:    "not_found",
	KindServer:      "http_5xx",
	KindHTTP:        "http_other",
	KindTransport:   "transport",
	KindCanceled:    "canceled",
	KindBadResponse: "bad_response",
}

// String returns the kind's metric label value.
func (k ErrorKind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind_%d", int(k))
}

// Error is a failed ClouDNS call. Retrieve it with errors.As. Its text never
// contains the password.
type Error struct {
	// Kind classifies the failure.
	Kind ErrorKind
	// Operation is the call that failed, as in the metrics' operation label
	// (for example "list_checks").
	Operation string
	// Message is ClouDNS's statusDescription (or statusMessage), trimmed; it
	// is empty when the failure was not a ClouDNS failure body.
	Message string
	// HTTPStatus is the response status code, or 0 if there was no response.
	HTTPStatus int
	// Err is the underlying transport or decoding error, if any.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Operation)
	b.WriteString(": ")
	b.WriteString(e.Kind.String())
	if e.HTTPStatus != 0 && e.HTTPStatus != http.StatusOK {
		fmt.Fprintf(&b, " (http %d)", e.HTTPStatus)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of the first *Error in err's chain, or KindOther if
// there is none. It lets callers label a failed poll without type switches.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindOther
}

// Failure texts that ClouDNS documents (reference §1.5, §2.1, §2.5, §2.8).
// Matching is on the exact text first, then on a fragment, so that small
// wording changes still land in the right kind.
var exactKinds = map[string]ErrorKind{
	"Invalid authentication, incorrect auth-id or auth-password.":                    KindAuth,
	"Invalid authentication, incorrect sub-auth-id, sub-auth-user or auth-password.": KindAuth,
	"Invalid authentication, incorrect user ID or password.":                         KindAuth,
	"You don't have permission to do that.":                                          KindPermission,
	"Invalid id param.":                                                              KindNotFound,
	"Invalid monitoring check.":                                                      KindNotFound,
}

// kindFromDescription maps a ClouDNS failure text to a kind.
func kindFromDescription(desc string) ErrorKind {
	if k, ok := exactKinds[desc]; ok {
		return k
	}
	l := strings.ToLower(desc)
	switch {
	case strings.Contains(l, "invalid authentication"),
		strings.Contains(l, "auth-password"):
		return KindAuth
	// The rate-limit text is only known from an issue title quoting it:
	// "Request blocked, <IP> is sending more than 20 requests per second."
	// Per-minute and per-hour limits presumably use the same pattern.
	case strings.HasPrefix(l, "request blocked"),
		strings.Contains(l, "requests per second"),
		strings.Contains(l, "requests per minute"),
		strings.Contains(l, "requests per hour"):
		return KindRateLimited
	case strings.Contains(l, "permission"):
		return KindPermission
	}
	return KindOther
}

// parseFailure reports whether body is a ClouDNS failure envelope and returns
// its description. Failures come with HTTP 200 as
// {"status":"Failed","statusDescription":"..."}; one monitoring call documents
// {"status":"0",...} instead. A check object may itself carry "status":"0"
// (down), so the "0" form only counts when it has a description and no id.
func parseFailure(body []byte) (bool, string) {
	b := bytes.TrimSpace(body)
	if len(b) == 0 || b[0] != '{' {
		return false, ""
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return false, ""
	}
	status, ok := parseString(m["status"])
	if !ok {
		return false, ""
	}
	desc, hasDesc := parseString(m["statusDescription"])
	if !hasDesc {
		desc, hasDesc = parseString(m["statusMessage"])
	}
	desc = strings.TrimSpace(desc)
	if strings.EqualFold(strings.TrimSpace(status), "failed") {
		return true, desc
	}
	_, hasID := m["id"]
	if strings.TrimSpace(status) == "0" && hasDesc && !hasID {
		return true, desc
	}
	return false, ""
}

// retryable is the client's whole retry policy: transport errors, 5xx and
// rate limits are worth another attempt; authentication, permission, unknown
// ids, bad responses and other ClouDNS failures are not, since repeating the
// same request cannot change them (and repeating bad credentials invites a
// block).
func retryable(err error) bool {
	switch KindOf(err) {
	case KindTransport, KindServer, KindRateLimited:
		return true
	}
	return false
}

// redactingError hides a secret in an error's text while keeping the chain
// intact for errors.Is and errors.As.
type redactingError struct {
	err    error
	secret string
}

func (r *redactingError) Error() string { return redact(r.err.Error(), r.secret) }
func (r *redactingError) Unwrap() error { return r.err }

// scrub returns err, wrapped so that its text cannot show secret. The
// password only travels in request bodies, which net/http never quotes in
// errors; this is a second line of defence, not the first.
func scrub(err error, secret string) error {
	if err == nil || len(secret) < minRedactLen || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redactingError{err: err, secret: secret}
}

// minRedactLen is the shortest secret redact hides. A shorter one cannot be
// told apart from ordinary text: hiding every "c" would garble each message
// while protecting nothing a guesser would not find at once.
const minRedactLen = 4

func redact(s, secret string) string {
	if len(secret) < minRedactLen {
		return s
	}
	return strings.ReplaceAll(s, secret, "<redacted>")
}
