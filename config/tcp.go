package config

import (
	"net"
)

// TCPProbe is the tcp monitor kind, modelled on blackbox_exporter's tcp
// module.
type TCPProbe struct {
	// Address is host:port.
	Address string `koanf:"address"`
}

func (t *TCPProbe) validate(p *problems, path, object string) {
	if t.Address == "" {
		p.add(path+".address", object, "is required")
		return
	}
	if _, port, err := net.SplitHostPort(t.Address); err != nil {
		p.add(path+".address", object, "%q must be host:port: %v", t.Address, err)
	} else if port == "" {
		p.add(path+".address", object, "%q has no port", t.Address)
	}
}
