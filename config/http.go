package config

import (
	"net/url"
)

// HTTPProbe is the http monitor kind, modelled on blackbox_exporter's http
// module.
type HTTPProbe struct {
	URL              string            `koanf:"url"`
	Method           string            `koanf:"method"`
	Headers          map[string]string `koanf:"headers"`
	ValidStatusCodes []int             `koanf:"valid_status_codes"`

	parsedURL *url.URL
}

// ParsedURL returns the URL parsed at load.
func (h *HTTPProbe) ParsedURL() *url.URL { return h.parsedURL }

func (h *HTTPProbe) validate(p *problems, path, object string) {
	u, err := url.Parse(h.URL)
	switch {
	case h.URL == "":
		p.add(path+".url", object, "is required")
	case err != nil:
		p.add(path+".url", object, "%v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		p.add(path+".url", object, "scheme %q must be http or https", u.Scheme)
	case u.Host == "":
		p.add(path+".url", object, "has no host")
	default:
		h.parsedURL = u
	}
	if h.Method == "" {
		h.Method = "GET"
	}
	for i, c := range h.ValidStatusCodes {
		if c < 100 || c > 599 {
			p.add(path+".valid_status_codes", object, "entry %d: %d is not an HTTP status code", i, c)
		}
	}
}
