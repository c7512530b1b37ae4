package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue #15 point 6: errors a person can act on. Each case is one mistake
// and must give exactly one problem, in plain words, naming where it is.
func TestMessagesAPersonCanActOn(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		env        []string
		want       string
	}{
		{
			name: "type error in plain words",
			file: "monitors:\n  - {name: a, failures_before_down: many, tcp: {address: '127.0.0.1:1'}}\n",
			want: `monitors[0].failures_before_down (monitor "a"): "many" is not a whole number`,
		},
		{
			name: "bool",
			file: "cachet: {dry_run: maybe}\n",
			want: `cachet.dry_run: "maybe" is not true or false`,
		},
		{
			name: "a failing environment override names its variable",
			env:  []string{"STATUSSYNC_CACHET__RATE_LIMIT=fast"},
			want: `cachet.rate_limit: "fast" is not a number (set by environment variable STATUSSYNC_CACHET__RATE_LIMIT)`,
		},
		{
			name: "a URL without a scheme says so",
			file: "cachet: {url: status.example.org/api, token: x}\n",
			want: `cachet.url: "status.example.org/api" has no scheme: write https://status.example.org/api`,
		},
		{
			name: "a host:port URL without a scheme says so too",
			file: "cachet: {url: 'status.example.org:8080', token: x}\n",
			want: `cachet.url: "status.example.org:8080" has no scheme`,
		},
		{
			name: "YAML syntax errors carry line and column",
			file: "monitors:\n  - name: a\n   tcp: {address: '127.0.0.1:1'}\n",
			want: "line 3, column 4: did not find expected '-' indicator",
		},
		{
			name: "a tab in the indentation is pointed at",
			file: "cachet:\n\ttimeout: 5s\n",
			want: "line 2, column 1:",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.file != "" {
				path = filepath.Join(t.TempDir(), "c.yml")
				if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Load(path, tc.env)
			problems := Problems(err)
			if len(problems) != 1 || !strings.Contains(problems[0].Error(), tc.want) {
				t.Fatalf("want exactly one problem containing\n  %s\ngot %d:\n  %v", tc.want, len(problems), err)
			}
		})
	}
}

// Issue #13 point 13: a URL's password never appears in a problem, whether
// the URL parses or not.
func TestProblemsRedactURLPasswords(t *testing.T) {
	const pw = "s3cret-in-url"
	for _, file := range []string{
		"cachet: {url: 'ftp://u:" + pw + "@status.example.org/api', token: x}\n",
		"cachet: {url: 'https://u:" + pw + "@status example.org/api', token: x}\n",
		"cloudns: {url: 'gopher://u:" + pw + "@api.cloudns.net'}\n",
		"monitors:\n  - {name: a, http: {url: 'https://u:" + pw + "@ex%zz.org/'}}\n",
		"monitors:\n  - {name: a, http: {url: 'https://x.org/', proxy_url: 'ftp://u:" + pw + "@proxy:3128'}}\n",
		"monitors:\n  - {name: a, http: {url: 'u:" + pw + "@x.org/'}}\n",
		"monitors:\n  - {name: a, http: {url: '" + pw + "@x.org/'}}\n",
	} {
		path := filepath.Join(t.TempDir(), "c.yml")
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path, nil)
		if err == nil {
			t.Errorf("%s: loaded", file)
			continue
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("the password leaked: %v", err)
		}
	}
}

func TestRedactURLs(t *testing.T) {
	for in, want := range map[string]string{
		`parse "https://u:pw@h st/": bad`:     `parse "https://u:xxxxx@h st/": bad`,
		"see https://tok@github.com/x and ok": "see https://xxxxx@github.com/x and ok",
		"mailto:someone@example.org":          "mailto:someone@example.org",
		"no url here @all":                    "no url here @all",
		"http://h/p?q=a@b":                    "http://h/p?q=a@b",
	} {
		if got := RedactURLs(in); got != want {
			t.Errorf("RedactURLs(%q) = %q, want %q", in, got, want)
		}
	}
}
