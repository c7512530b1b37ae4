package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseFlagsValues(t *testing.T) {
	tokens := []struct {
		in        string
		token     string
		abilities []string
	}{
		{"secret", "secret", []string{"*"}},
		{"secret:*", "secret", []string{"*"}},
		{"1|abc:components.manage, incidents.manage", "1|abc", []string{"components.manage", "incidents.manage"}},
	}
	for _, tt := range tokens {
		t.Run("token "+tt.in, func(t *testing.T) {
			tok, ab := parseToken(tt.in)
			if tok != tt.token || !slices.Equal(ab, tt.abilities) {
				t.Errorf("got %q %v", tok, ab)
			}
		})
	}
	components := []struct {
		in      string
		name    string
		status  int
		wantErr bool
	}{
		{"API", "API", 1, false},
		{"Web=4", "Web", 4, false},
		{"Web=9", "", 0, true},
		{"=1", "", 0, true},
	}
	for _, tt := range components {
		t.Run("component "+tt.in, func(t *testing.T) {
			name, status, err := parseComponent(tt.in)
			if (err != nil) != tt.wantErr || name != tt.name || status != tt.status {
				t.Errorf("got %q %d %v", name, status, err)
			}
		})
	}
}

func TestRunServesAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0", "--prefix", "/status/api", "--token", "sek:*", "--component", "API=4"}, outW, io.Discard)
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, outR) }()
	base := strings.TrimSpace(strings.TrimPrefix(line, "fake cachet api at "))
	if !strings.HasSuffix(base, "/status/api") {
		t.Fatalf("announced %q", line)
	}
	res, err := http.Get(base + "/components")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Data []struct {
			Attributes struct {
				Name   string `json:"name"`
				Status struct {
					Value int `json:"value"`
				} `json:"status"`
			} `json:"attributes"`
		} `json:"data"`
	}
	err = json.NewDecoder(res.Body).Decode(&body)
	res.Body.Close()
	if err != nil || len(body.Data) != 1 || body.Data[0].Attributes.Name != "API" || body.Data[0].Attributes.Status.Value != 4 {
		t.Fatalf("components = %+v, %v", body, err)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	if code := run(context.Background(), []string{"--component", "x=9"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
}
