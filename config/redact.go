package config

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
)

// RedactedPassword replaces the password of a URL's userinfo wherever
// statussync prints a URL (Go's url.URL.Redacted uses the same).
const RedactedPassword = "xxxxx"

// urlUserinfo finds the userinfo of URLs inside free text: the scheme, then
// everything up to an "@" before the host's end.
var urlUserinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.\-]*://)([^/?#@\s"'` + "`" + `]+)@`)

// RedactURLs hides the userinfo of every URL in s: user:password becomes
// user:xxxxx, and a bare userinfo (often a token, as in
// https://TOKEN@host) becomes xxxxx. It works on text that does not parse
// as a URL, such as a parse error quoting the URL it rejected.
func RedactURLs(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return urlUserinfo.ReplaceAllStringFunc(s, func(m string) string {
		sub := urlUserinfo.FindStringSubmatch(m)
		user, _, hasPassword := strings.Cut(sub[2], ":")
		if !hasPassword {
			return sub[1] + RedactedPassword + "@"
		}
		return sub[1] + user + ":" + RedactedPassword + "@"
	})
}

// RedactURL is RedactURLs for one URL.
func RedactURL(s string) string { return RedactURLs(s) }

// urlProblem describes why a URL did not parse without repeating the URL
// (url.Parse's error quotes it whole, password included).
func urlProblem(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return "is not a valid URL: " + ue.Err.Error()
	}
	return RedactURLs(err.Error())
}

// checkURL parses raw as an absolute URL with one of schemes and a host,
// reporting a problem at key otherwise; it returns nil on a problem. The
// messages never repeat a password.
func checkURL(p *problems, key, object, raw string, schemes ...string) *url.URL {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		p.add(key, object, "%s", urlProblem(err))
	case !strings.Contains(raw, "://"):
		shown := strings.TrimPrefix(RedactURL("x://"+raw), "x://")
		p.add(key, object, "%q has no scheme: write %s://%s", shown, schemes[len(schemes)-1], shown)
	case !slicesContains(schemes, u.Scheme):
		p.add(key, object, "scheme %q must be %s", u.Scheme, orList(schemes))
	case u.Host == "":
		p.add(key, object, "has no host")
	default:
		return u
	}
	return nil
}

func slicesContains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// orList joins "a", "b", "c" as "a, b or c".
func orList(list []string) string {
	if len(list) < 2 {
		return strings.Join(list, "")
	}
	return strings.Join(list[:len(list)-1], ", ") + " or " + list[len(list)-1]
}
