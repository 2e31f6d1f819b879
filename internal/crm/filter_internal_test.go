package crm

import (
	"testing"

	"github.com/conecrm/gateway/internal/registry"
)

// The registry says which entities are filterable; each has its finder
// here, and nothing else has.
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

// Each filterable entity declares its query-builder fields with its
// finder (filterable): at least one, each name once (the catalogue finds
// a field by name, so a duplicate would shadow the other), and no entity
// the registry does not call filterable has any.
func TestEveryFilterableEntityHasFields(t *testing.T) {
	entities := registry.Filterable()
	for _, e := range entities {
		fields := filterFields[e.Filter]
		if len(fields) == 0 {
			t.Errorf("%s (%s) is filterable in the registry but declares no filter fields", e.Type, e.Filter)
		}
		seen := map[string]bool{}
		for _, f := range fields {
			if seen[f.Name] {
				t.Errorf("%s declares the filter field %q twice", e.Filter, f.Name)
			}
			seen[f.Name] = true
		}
	}
	if len(filterFields) != len(entities) {
		t.Errorf("filterFields has %d entities; the registry has %d filterable", len(filterFields), len(entities))
	}
}
