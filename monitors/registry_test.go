package monitors

import (
	"maps"
	"slices"
	"testing"

	"github.com/statussync/statussync/config"
)

// TestRegistryMatchesConfigKinds keeps the registry equal to config.Kinds,
// which derives from config's kind table: a kind without a constructor, or
// a constructor for a kind config does not know, fails here.
func TestRegistryMatchesConfigKinds(t *testing.T) {
	if got := slices.Sorted(maps.Keys(registry)); !slices.Equal(got, config.Kinds) {
		t.Errorf("registry kinds %v, config.Kinds %v", got, config.Kinds)
	}
}
