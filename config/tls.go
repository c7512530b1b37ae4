package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
)

// TLSConfig configures a TLS client. Verification is on unless
// insecure_skip_verify says otherwise.
type TLSConfig struct {
	InsecureSkipVerify bool   `koanf:"insecure_skip_verify"`
	CAFile             string `koanf:"ca_file"`
	CertFile           string `koanf:"cert_file"`
	KeyFile            string `koanf:"key_file"`
	ServerName         string `koanf:"server_name"`
	// MinVersion is one of TLS10, TLS11, TLS12, TLS13 (blackbox's spelling);
	// the default is TLS12, as Go's and blackbox's.
	MinVersion string `koanf:"min_version"`
	// MaxVersion caps the version offered, e.g. to check that a server still
	// accepts TLS12; the default is Go's maximum (TLS13).
	MaxVersion string `koanf:"max_version"`

	// What readFiles read; unreadable when a file could not be (already
	// reported).
	caPEM, certPEM, keyPEM []byte
	unreadable             bool

	built *tls.Config
}

// defaultTLS is what an empty TLSConfig compiles to. Never modify it.
var defaultTLS = &tls.Config{MinVersion: tls.VersionTLS12}

// isEmpty reports whether nothing is configured.
func (c *TLSConfig) isEmpty() bool {
	return !c.InsecureSkipVerify && c.CAFile == "" && c.CertFile == "" && c.KeyFile == "" &&
		c.ServerName == "" && c.MinVersion == "" && c.MaxVersion == ""
}

// tlsVersions maps blackbox_exporter's spelling of TLS versions.
var tlsVersions = map[string]uint16{
	"TLS10": tls.VersionTLS10,
	"TLS11": tls.VersionTLS11,
	"TLS12": tls.VersionTLS12,
	"TLS13": tls.VersionTLS13,
}

// Build returns the *tls.Config compiled at load time. It is nil only for a
// TLSConfig that was never validated; callers then get Go's defaults.
func (c *TLSConfig) Build() *tls.Config {
	if c == nil || c.built == nil {
		return nil
	}
	return c.built.Clone()
}

// compile builds the tls.Config from the files readFiles read, so that a
// bad CA or key fails at load and never at probe time.
func (c *TLSConfig) compile() error {
	if c.unreadable {
		return nil // reported by readFiles
	}
	if c.isEmpty() {
		// Most monitors set nothing: they share one compiled default
		// (Build hands out clones), instead of ~550 bytes each.
		c.built = defaultTLS
		return nil
	}
	cfg := &tls.Config{
		InsecureSkipVerify: c.InsecureSkipVerify, //nolint:gosec // opt-in, off by default
		ServerName:         c.ServerName,
		MinVersion:         tls.VersionTLS12,
	}
	if c.MinVersion != "" {
		v, ok := tlsVersions[c.MinVersion]
		if !ok {
			return fmt.Errorf("min_version %q is not one of TLS10, TLS11, TLS12, TLS13", c.MinVersion)
		}
		cfg.MinVersion = v
	}
	if c.MaxVersion != "" {
		v, ok := tlsVersions[c.MaxVersion]
		if !ok {
			return fmt.Errorf("max_version %q is not one of TLS10, TLS11, TLS12, TLS13", c.MaxVersion)
		}
		if v < cfg.MinVersion {
			return fmt.Errorf("max_version %s is below min_version", c.MaxVersion)
		}
		cfg.MaxVersion = v
	}
	if c.CAFile != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(c.caPEM) {
			return fmt.Errorf("ca_file %s: no PEM certificate found", c.CAFile)
		}
		cfg.RootCAs = pool
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return fmt.Errorf("cert_file and key_file must be set together")
	}
	if c.CertFile != "" {
		cert, err := tls.X509KeyPair(c.certPEM, c.keyPEM)
		if err != nil {
			return fmt.Errorf("cert_file/key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	c.built = cfg
	return nil
}
