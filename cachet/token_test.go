package cachet

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/statussync/statussync/cachet/cachettest"
)

// TestCheckTokenAgainstFake: a good token, a wrong one, a revoked one and
// none, against the fake that authenticates before it validates, as Cachet
// does; the check never changes the page.
func TestCheckTokenAgainstFake(t *testing.T) {
	srv := newFake(t)
	srv.AddToken("8|revokedLater", "*")
	srv.AddToken("9|readOnlyToken")
	tests := []struct {
		name  string
		token string
		want  TokenState
	}{
		{"good token", testToken, TokenValid},
		{"token without abilities is still authenticated", "9|readOnlyToken", TokenValid},
		{"wrong token", "1|wrongTokenValue", TokenInvalid},
		{"no token", "", TokenMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, srv.URL(), func(o *Options) { o.Token = tt.token })
			got, err := c.CheckToken(ctxT(t))
			if got != tt.want || err != nil {
				t.Fatalf("CheckToken = %s, %v; want %s, nil", got, err, tt.want)
			}
		})
	}
	t.Run("revoked token", func(t *testing.T) {
		c := newClient(t, srv.URL(), func(o *Options) { o.Token = "8|revokedLater" })
		if got, _ := c.CheckToken(ctxT(t)); got != TokenValid {
			t.Fatalf("before revocation: %s", got)
		}
		srv.RevokeToken("8|revokedLater")
		if got, err := c.CheckToken(ctxT(t)); got != TokenInvalid || err != nil {
			t.Fatalf("after revocation: %s, %v; want invalid", got, err)
		}
	})
	comps, err := newClient(t, srv.URL()).ListComponents(ctxT(t), ComponentFilter{})
	if err != nil || len(comps) != 0 {
		t.Errorf("the check created something: %v %v", comps, err)
	}
	for _, r := range srv.Requests() {
		if r.Method != http.MethodPost || r.StatusCode/100 != 4 {
			continue
		}
		if r.StatusCode != http.StatusUnauthorized && r.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s %s answered %d", r.Method, r.Path, r.StatusCode)
		}
	}
}

// lockedCore answers as the 2024-10 core did (observed-locked.md): no API
// authentication at all, so POST /components {} is 422 with or without a
// token, and a bad token writes like a good one.
func lockedCore(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/components" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = w.Write([]byte(`{"message":"The name field is required.","errors":{"name":["The name field is required."]}}`))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestCheckTokenNoAuthCore(t *testing.T) {
	srv := lockedCore(t)
	for _, token := range []string{testToken, "", "1|anythingGoes"} {
		c := newClient(t, srv.URL+"/api", func(o *Options) { o.Token = token })
		if got, err := c.CheckToken(ctxT(t)); got != TokenNotRequired || err != nil {
			t.Errorf("token %q: %s, %v; want not_required (no auth required, not a failure)", token, got, err)
		}
	}
}

// TestCheckTokenUnknown: when Cachet cannot answer, the check says so and
// does not call the token bad.
func TestCheckTokenUnknown(t *testing.T) {
	srv := newFake(t)
	srv.FailNext(1, http.StatusServiceUnavailable)
	c := newClient(t, srv.URL())
	got, err := c.CheckToken(ctxT(t))
	if got != TokenUnknown || err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("CheckToken with Cachet answering 503 = %s, %v; want unknown with the status", got, err)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Fatal("token in error")
	}
	srv.Close()
	if got, err := c.CheckToken(ctxT(t)); got != TokenUnknown || err == nil {
		t.Fatalf("CheckToken with Cachet down = %s, %v; want unknown", got, err)
	}
}

// TestCheckTokenEveryEra: the fake's era profiles, pinned to what the real
// cores answered, give the verdict each core would: the 2024-10 core has no
// API auth (not a failure), every later one authenticates.
func TestCheckTokenEveryEra(t *testing.T) {
	for _, p := range cachettest.Profiles() {
		t.Run(fmt.Sprint(p), func(t *testing.T) {
			srv := newFake(t, cachettest.WithProfile(p))
			want := map[string]TokenState{testToken: TokenValid, "1|wrongTokenValue": TokenInvalid}
			if p == cachettest.ProfileLocked {
				want = map[string]TokenState{testToken: TokenNotRequired, "1|wrongTokenValue": TokenNotRequired}
			}
			for token, w := range want {
				c := newClient(t, srv.URL(), func(o *Options) { o.Token = token })
				if got, err := c.CheckToken(ctxT(t)); got != w || err != nil {
					t.Errorf("token %q: %s, %v; want %s", token, got, err, w)
				}
			}
			if n := len(srv.Writes()); n != 0 {
				t.Errorf("%d writes", n)
			}
		})
	}
}
