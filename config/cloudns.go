package config

// CloudNSProbe is the cloudns monitor kind: it mirrors one check of the
// ClouDNS monitoring service, selected by id or by name.
type CloudNSProbe struct {
	CheckID   int64  `koanf:"check_id"`
	CheckName string `koanf:"check_name"`
}

func (c *CloudNSProbe) validate(p *problems, path, object string) {
	if (c.CheckID == 0) == (c.CheckName == "") {
		p.add(path, object, "exactly one of check_id and check_name must be set")
	}
}
