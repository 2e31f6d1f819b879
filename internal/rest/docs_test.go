package rest_test

import (
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		var doc struct {
			OpenAPI string `json:"openapi"`
			Paths   map[string]map[string]any
		}
		s.Expect(t, http.StatusOK, http.MethodGet, "/api/doc.json", resttest.User, nil).JSON(t, &doc)
		if doc.OpenAPI != "3.1.0" {
			t.Fatalf("openapi %q", doc.OpenAPI)
		}
		// Documentation needs no token.
		s.Expect(t, http.StatusOK, http.MethodGet, "/api/doc.json", resttest.NoToken, nil)

		// Every other documented operation is served, behind authentication.
		var ops []string
		for path, item := range doc.Paths {
			for method := range item {
				if method == "parameters" || path == "/api/doc.json" {
					continue
				}
				ops = append(ops, strings.ToUpper(method)+" "+path)
			}
		}
		sort.Strings(ops)
		for _, op := range ops {
			method, path, _ := strings.Cut(op, " ")
			path = strings.NewReplacer("{", "", "}", "").Replace(path) // any segment will do
			res := s.Server.Do(method, path, resttest.NoToken, nil)
			if res.Status != http.StatusUnauthorized {
				t.Errorf("%s: %d without a token, want 401", op, res.Status)
			}
		}
		if len(ops) < 12 {
			t.Errorf("only %d operations documented: %v", len(ops), ops)
		}
	})
}

func TestUnknownRoutesAnswerJSON404(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		res := s.Server.Do(http.MethodGet, "/api/no-such-route", resttest.User, nil)
		if res.Status != http.StatusNotFound || !strings.Contains(string(res.Body), `"error"`) {
			t.Fatalf("%d %s", res.Status, res.Body)
		}
	})
}
