package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"serves until canceled", []string{"--listen", "127.0.0.1:0", "--auth-id", "1", "--password", "p", "--seed", "5", "--down", "2", "--paused", "1"}, 0, "fake cloudns stopped"},
		{"no identity", []string{"--password", "p"}, 2, "need --password"},
		{"no password", []string{"--auth-id", "1", "--password", ""}, 2, "need --password"},
		{"too many down", []string{"--auth-id", "1", "--password", "p", "--seed", "2", "--down", "3"}, 2, "exceeds --seed"},
		{"bad flag", []string{"--nope"}, 2, "flag provided but not defined"},
		{"bad address", []string{"--listen", "256.0.0.1:1", "--auth-id", "1", "--password", "p"}, 1, "fakecloudns:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			var stderr bytes.Buffer
			if code := run(ctx, tt.args, &stderr); code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr lacks %q: %s", tt.wantErr, stderr.String())
			}
		})
	}
}
