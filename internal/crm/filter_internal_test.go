package crm

import (
	"testing"

	"github.com/conecrm/gateway/internal/registry"
)

// The registry says which entities are filterable; each has its finder
// here, and nothing else has (querybuilder's TestEveryFilterableEntityHasFields
// checks their fields).
func TestEveryFilterableEntityHasAFinder(t *testing.T) {
	entities := registry.Filterable()
	for _, e := range entities {
		if finders[e.Filter] == nil {
			t.Errorf("%s (%s) is filterable in the registry but has no finder", e.Type, e.Filter)
		}
	}
	if len(finders) != len(entities) {
		t.Errorf("finders has %d entities; the registry has %d filterable", len(finders), len(entities))
	}
}
