package rest

import (
	"testing"

	"github.com/conecrm/gateway/internal/registry"
)

// Each filterable entity of the registry has its REST shape for the filter
// route, and nothing else has.
func TestEveryFilterableEntityHasAShape(t *testing.T) {
	entities := registry.Filterable()
	for _, e := range entities {
		if filterShapes[e.Filter] == nil {
			t.Errorf("%s (%s) is filterable in the registry but the filter route has no shape for it", e.Type, e.Filter)
		}
	}
	if len(filterShapes) != len(entities) {
		t.Errorf("%d filter shapes, %d filterable entities in the registry", len(filterShapes), len(entities))
	}
}
