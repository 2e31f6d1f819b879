package querybuilder

import (
	"testing"

	"github.com/conecrm/gateway/internal/registry"
)

// The registry says which entities are filterable; each has its fields and
// its finder here, and nothing else has.
func TestEveryFilterableEntityHasFields(t *testing.T) {
	entities := registry.Filterable()
	for _, e := range entities {
		if fieldsOf[e.Filter] == nil {
			t.Errorf("%s (%s) is filterable in the registry but has no fields in fieldsOf", e.Type, e.Filter)
		}
		if finders[e.Filter] == nil {
			t.Errorf("%s (%s) is filterable in the registry but has no finder", e.Type, e.Filter)
		}
	}
	if len(fieldsOf) != len(entities) || len(finders) != len(entities) {
		t.Errorf("fieldsOf has %d entities and finders %d; the registry has %d filterable", len(fieldsOf), len(finders), len(entities))
	}
}
