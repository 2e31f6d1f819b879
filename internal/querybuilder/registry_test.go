package querybuilder_test

import (
	"testing"

	"github.com/conecrm/gateway/internal/querybuilder"
	"github.com/conecrm/gateway/internal/registry"
)

// The registry says which entities are filterable; each has its fields
// here, and nothing else has (crm's TestEveryFilterableEntityHasAFinder
// checks the finders).
func TestEveryFilterableEntityHasFields(t *testing.T) {
	entities := registry.Filterable()
	for _, e := range entities {
		if querybuilder.FieldsOf(e.Filter) == nil {
			t.Errorf("%s (%s) is filterable in the registry but has no fields in fieldsOf", e.Type, e.Filter)
		}
	}
	if n := querybuilder.EntitiesWithFields(); n != len(entities) {
		t.Errorf("fieldsOf has %d entities; the registry has %d filterable", n, len(entities))
	}
}
