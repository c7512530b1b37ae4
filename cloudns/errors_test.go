package cloudns

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestKindFromDescription(t *testing.T) {
	tests := []struct {
		desc string
		want ErrorKind
	}{
		// Exact documented texts.
		{"Invalid authentication, incorrect auth-id or auth-password.", KindAuth},
		{"Invalid authentication, incorrect sub-auth-id, sub-auth-user or auth-password.", KindAuth},
		{"Invalid authentication, incorrect user ID or password.", KindAuth},
		{"You don't have permission to do that.", KindPermission},
		{"Invalid id param.", KindNotFound},
		{"Invalid monitoring check.", KindNotFound},
		// Rate limit: text inferred from an issue title.
		{"Request blocked, 203.0.113.9 is sending more than 20 requests per second.", KindRateLimited},
		{"Request blocked, 2001:db8::1 is sending more than 600 requests per minute.", KindRateLimited},
		// Fallbacks on fragments.
		{"invalid authentication (new wording)", KindAuth},
		{"You do not have permission for monitoring.", KindPermission},
		{"Missing or invalid required parameter 'page'.", KindOther},
		{"Invalid period.", KindOther},
		{"", KindOther},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			if got := kindFromDescription(tt.desc); got != tt.want {
				t.Errorf("kindFromDescription(%q) = %v, want %v", tt.desc, got, tt.want)
			}
		})
	}
}

func TestParseFailure(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantFail bool
		wantDesc string
	}{
		{"failed", `{"status":"Failed","statusDescription":"Invalid id param."}`, true, "Invalid id param."},
		{"failed lowercase, padded description", `{"status":"failed","statusDescription":"  x  "}`, true, "x"},
		{"statusMessage variant", `{"status":"Failed","statusMessage":"y"}`, true, "y"},
		{"zero variant", `{"status":"0","statusDescription":"Invalid period."}`, true, "Invalid period."},
		{"numeric zero variant", `{"status":0,"statusDescription":"Invalid period."}`, true, "Invalid period."},
		{"failed without description", `{"status":"Failed"}`, true, ""},
		{"success", `{"status":"Success","statusDescription":"Success login."}`, false, ""},
		{"down check object", `{"id":"1","status":"0","statusDescription":"z"}`, false, ""},
		{"down check without description", `{"status":"0","name":"a"}`, false, ""},
		{"check list", `{"1":{"id":"1","status":"Failed"}}`, false, ""},
		{"empty", `{}`, false, ""},
		{"array", `[]`, false, ""},
		{"number", `3`, false, ""},
		{"not json", `<html>`, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fail, desc := parseFailure([]byte(tt.body))
			if fail != tt.wantFail || desc != tt.wantDesc {
				t.Errorf("parseFailure(%s) = %v, %q; want %v, %q", tt.body, fail, desc, tt.wantFail, tt.wantDesc)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	for k := range ErrorKind(len(kindNames)) {
		want := k == KindTransport || k == KindServer || k == KindRateLimited
		t.Run(k.String(), func(t *testing.T) {
			err := fmt.Errorf("wrapped: %w", &Error{Kind: k, Operation: opListChecks})
			if got := retryable(err); got != want {
				t.Errorf("retryable(%v) = %v, want %v", k, got, want)
			}
		})
	}
	t.Run("plain error", func(t *testing.T) {
		if retryable(errors.New("x")) {
			t.Error("a plain error must not be retried")
		}
	})
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{"failure body", &Error{Kind: KindAuth, Operation: opLogin, Message: "Invalid authentication, incorrect auth-id or auth-password.", HTTPStatus: 200},
			"login: auth: Invalid authentication, incorrect auth-id or auth-password."},
		{"server", &Error{Kind: KindServer, Operation: opListChecks, HTTPStatus: 503}, "list_checks: http_5xx (http 503)"},
		{"transport", &Error{Kind: KindTransport, Operation: opGetCheck, Err: errors.New("connection reset")}, "get_check: transport: connection reset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestKindOf(t *testing.T) {
	wrapped := fmt.Errorf("cloudns: list checks page 2: %w", &Error{Kind: KindRateLimited, Err: context.Canceled})
	if got := KindOf(wrapped); got != KindRateLimited {
		t.Errorf("KindOf = %v", got)
	}
	if !errors.Is(wrapped, context.Canceled) {
		t.Error("Error must unwrap to its cause")
	}
	if got := KindOf(errors.New("x")); got != KindOther {
		t.Errorf("KindOf(plain) = %v", got)
	}
}

func TestScrub(t *testing.T) {
	base := &url.Error{Op: "Post", URL: "https://h/x?auth-password=s3cret", Err: context.DeadlineExceeded}
	err := scrub(base, "s3cret")
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("scrubbed error still shows the secret: %v", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Error("scrub must keep the chain")
	}
	clean := errors.New("nothing here")
	if scrub(clean, "s3cret") != clean {
		t.Error("scrub must not wrap errors without the secret")
	}
	if scrub(clean, "") != clean {
		t.Error("an empty secret must not redact anything")
	}
	if got := redact("Invalid authentication", "c"); got != "Invalid authentication" {
		t.Errorf("a one-letter secret garbled the text: %q", got)
	}
	if got := redact("echo s3cret back", "s3cret"); got != "echo <redacted> back" {
		t.Errorf("redact = %q", got)
	}
}
