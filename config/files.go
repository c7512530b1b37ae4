package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
)

// readFiles is the one pass that reads the files a configuration names:
// the Cachet token and ClouDNS password files, and each monitor's bearer
// token, basic-auth password, request body and TLS CA, certificate and key.
// It runs on every load, before validation (which only checks and compiles
// what was read), so a reload sees rotated files.
//
// Every file feeds the configuration's checksum, and a monitor's files also
// feed its Fingerprint: a rotated token or certificate replaces the
// monitor's instance on reload instead of leaving it with the old secret.
func (c *Config) readFiles(p *problems) {
	c.readSecretFiles(p)
	if c.HA.Enabled && c.HA.Kubeconfig != "" {
		// client-go reads it at start; a missing one fails here instead.
		if _, err := os.Stat(c.HA.Kubeconfig); err != nil {
			p.add("ha.kubeconfig", "", "%v", unwrapPathError(err))
		}
	}
	c.Cachet.TLS.readFiles(p, "cachet.tls", "", nil)
	for i := range c.Monitors {
		m := &c.Monitors[i]
		path, obj := monitorPath(i), fmt.Sprintf("monitor %q", m.Name)
		h := sha256.New()
		if m.HTTP != nil {
			m.HTTP.readFiles(p, path+".http", obj, h)
			m.HTTP.TLSConfig.readFiles(p, path+".http.tls_config", obj, h)
		}
		if m.TCP != nil {
			m.TCP.TLSConfig.readFiles(p, path+".tcp.tls_config", obj, h)
		}
		m.filesDigest = hex.EncodeToString(h.Sum(nil))
	}
}

func monitorPath(i int) string { return fmt.Sprintf("monitors[%d]", i) }

// readFileAt reads a file named at key, feeding the checksum and, when not
// nil, a monitor's digest; it reports a problem when the file is unreadable.
func readFileAt(p *problems, key, object, path string, digest io.Writer) ([]byte, bool) {
	data, err := p.readFile(path)
	if err != nil {
		p.add(key, object, "%v", unwrapPathError(err))
		return nil, false
	}
	if digest != nil {
		_, _ = fmt.Fprintf(digest, "%s\x00%d\x00", key, len(data))
		_, _ = digest.Write(data)
	}
	return data, true
}

func (h *HTTPProbe) readFiles(p *problems, path, object string, digest io.Writer) {
	if h.BodyFile != "" && h.Body == "" { // both: validation says so
		if data, ok := readFileAt(p, path+".body_file", object, h.BodyFile, digest); ok {
			h.bodyFromFile = data
		}
	}
	if a := h.BasicAuth; a != nil && a.PasswordFile != "" && a.Password == "" {
		if data, ok := readFileAt(p, path+".basic_auth.password_file", object, a.PasswordFile, digest); ok {
			pw := Secret(strings.TrimSpace(string(data)))
			a.password = &pw
		}
	}
	if h.BearerTokenFile != "" && h.BearerToken == "" {
		if data, ok := readFileAt(p, path+".bearer_token_file", object, h.BearerTokenFile, digest); ok {
			tok := Secret(strings.TrimSpace(string(data)))
			h.bearerToken = &tok
		}
	}
}

// readFiles reads the PEM files; compile builds the tls.Config from them.
// A problem is reported under key (e.g. "cachet.tls").
func (c *TLSConfig) readFiles(p *problems, key, object string, digest io.Writer) {
	read := func(name, file string) []byte {
		if file == "" {
			return nil
		}
		data, err := p.readFile(file)
		if err != nil {
			p.add(key, object, "%s: %v", name, err)
			c.unreadable = true
			return nil
		}
		if digest != nil {
			_, _ = fmt.Fprintf(digest, "%s.%s\x00%d\x00", key, name, len(data))
			_, _ = digest.Write(data)
		}
		return data
	}
	c.caPEM = read("ca_file", c.CAFile)
	c.certPEM = read("cert_file", c.CertFile)
	c.keyPEM = read("key_file", c.KeyFile)
}
