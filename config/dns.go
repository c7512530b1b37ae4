package config

// DNSProbe is the dns monitor kind, modelled on blackbox_exporter's dns
// module.
type DNSProbe struct {
	// Server is the resolver, host:port.
	Server    string `koanf:"server"`
	QueryName string `koanf:"query_name"`
	QueryType string `koanf:"query_type"`
}

func (d *DNSProbe) validate(p *problems, path, object string) {
	if d.Server == "" {
		p.add(path+".server", object, "is required")
	}
	if d.QueryName == "" {
		p.add(path+".query_name", object, "is required")
	}
	if d.QueryType == "" {
		d.QueryType = "A"
	}
}
