package config

// CloudNSProbe is the cloudns monitor kind: it mirrors one check of the
// ClouDNS monitoring service, selected by id or by name, from the account
// poll that all cloudns monitors share (see cloudns.poll_interval and
// docs/cloudns.md).
type CloudNSProbe struct {
	// CheckID selects the check by its ClouDNS id.
	CheckID int64 `koanf:"check_id"`
	// CheckName selects the check by name. ClouDNS does not make names
	// unique: a name that matches several checks selects none, and the
	// monitor stays unknown until check_id is used instead.
	CheckName string `koanf:"check_name"`
}

func (*CloudNSProbe) kindBlock() {}

func (c *CloudNSProbe) validate(p *problems, path, object string) {
	if (c.CheckID == 0) == (c.CheckName == "") {
		p.add(path, object, "exactly one of check_id and check_name must be set")
	}
	if c.CheckID < 0 {
		p.add(path+".check_id", object, "%d must be positive", c.CheckID)
	}
}
