package rest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/conecrm/gateway/internal/ids"
	"github.com/conecrm/gateway/internal/registry"
)

// A resource mounts itself (routes, in its own file): no list in New to
// edit. Every REST resource the registry names has routes at its path or
// at an id below it.
func TestEveryRegisteredResourceIsMounted(t *testing.T) {
	s, mux := &Server{}, http.NewServeMux()
	for _, register := range routeGroups {
		register(s, mux)
	}
	resources := 0
	for _, e := range registry.Entities {
		if e.REST == "" {
			continue
		}
		resources++
		mounted := false
		for _, path := range []string{e.REST, e.REST + "/" + ids.New(e.Code).String()} {
			for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
				if _, pattern := mux.Handler(httptest.NewRequest(m, path, nil)); pattern != "" {
					mounted = true
				}
			}
		}
		if !mounted {
			t.Errorf("%s: no route at %s: add var _ = routes((*Server).…Routes) to its file", e.Type, e.REST)
		}
	}
	if resources < 10 {
		t.Errorf("only %d REST resources in the registry", resources)
	}
}
