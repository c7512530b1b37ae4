package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/statussync/statussync/cachet"
	"github.com/statussync/statussync/config"
	"github.com/statussync/statussync/internal/app"
)

// checkCachet verifies, without writing anything, what `run` will need
// from Cachet: that it accepts the token (reads need none, so a bad token
// would otherwise show only at the first write, in an outage) and that
// every component resolves to one Cachet component, by cachet_id or by
// name. It returns the problems, each naming what it is about, and
// warnings: a Cachet that cannot be reached is a warning, as an
// unreachable ClouDNS is. Nothing is checked without cachet.url.
func checkCachet(ctx context.Context, cfg *config.Config) (problems, warnings []string) {
	cc := cfg.Cachet
	if cc.URL == "" {
		return nil, nil
	}
	client, err := cachet.New(app.CachetOptions(cc))
	if err != nil {
		return []string{fmt.Sprintf("cachet: %v", err)}, nil
	}
	defer client.CloseIdleConnections()

	if cc.Token.Reveal() != "" || !cc.DryRun {
		state, err := client.CheckToken(ctx)
		switch state {
		case cachet.TokenValid:
		case cachet.TokenInvalid:
			problems = append(problems, "cachet.token: Cachet refuses it (401: wrong, revoked or expired); every write would fail. Create one as in docs/cachet-token.md")
		case cachet.TokenMissing:
			problems = append(problems, "cachet.token: not set, and this Cachet requires one for writes (docs/cachet-token.md)")
		case cachet.TokenNotRequired:
			warnings = append(warnings, "cachet.token: no auth required: this Cachet accepts writes without a token (the 2024-10 core), so anyone who can reach its API can change the page")
		default:
			// Like an unreachable ClouDNS: no information, not a verdict
			// (check also runs where Cachet cannot be reached, e.g. in CI).
			warnings = append(warnings, fmt.Sprintf("cachet.url: could not verify the token nor the components: %v", err))
			return problems, warnings
		}
	}

	page, err := client.ListComponents(ctx, cachet.ComponentFilter{})
	if err != nil {
		return problems, append(warnings, fmt.Sprintf("cachet.url: could not list the components to verify them: %v", err))
	}
	byName := map[string][]cachet.Component{}
	for _, c := range page {
		byName[c.Name] = append(byName[c.Name], c)
	}
	for i, spec := range cfg.Components {
		where := fmt.Sprintf("components[%d] %q", i, spec.Name)
		if spec.CachetID != 0 {
			c, err := client.GetComponent(ctx, spec.CachetID)
			var apiErr *cachet.APIError
			switch {
			case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound:
				problems = append(problems, fmt.Sprintf("%s: cachet_id %d: no such component on %s", where, spec.CachetID, cc.URL))
			case err != nil:
				problems = append(problems, fmt.Sprintf("%s: cachet_id %d: %v", where, spec.CachetID, err))
			case c.Name != spec.Name:
				warnings = append(warnings, fmt.Sprintf("%s: cachet_id %d is named %q on the page (the name here is only a label)", where, spec.CachetID, c.Name))
			}
			continue
		}
		switch found := byName[spec.Name]; len(found) {
		case 1:
		case 0:
			msg := fmt.Sprintf("%s: no Cachet component has this name (set cachet_id, or create it in Cachet)", where)
			for _, c := range page {
				if strings.EqualFold(c.Name, spec.Name) {
					msg += fmt.Sprintf("; component %d is named %q", c.ID, c.Name)
					break
				}
			}
			problems = append(problems, msg)
		default:
			ids := make([]string, len(found))
			for j, c := range found {
				ids[j] = fmt.Sprint(c.ID)
			}
			problems = append(problems, fmt.Sprintf("%s: %d Cachet components have this name (ids %s); set cachet_id", where, len(found), strings.Join(ids, ", ")))
		}
	}
	return problems, warnings
}

// cachetCheckTimeout bounds checkCachet.
func cachetCheckTimeout(cfg *config.Config) time.Duration {
	return 3*cfg.Cachet.Timeout + 5*time.Second
}

// reportCachetCheck runs checkCachet and prints its findings; it returns
// exitError when Cachet would refuse what `run` does.
func reportCachetCheck(cfg *config.Config, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(context.Background(), cachetCheckTimeout(cfg))
	defer cancel()
	problems, warnings := checkCachet(ctx, cfg)
	for _, w := range warnings {
		_, _ = fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if len(problems) > 0 {
		_, _ = fmt.Fprintf(stderr, "cachet does not match the configuration (%d problems):\n", len(problems))
		for _, p := range problems {
			_, _ = fmt.Fprintf(stderr, "  %s\n", p)
		}
		return exitError
	}
	return exitOK
}
