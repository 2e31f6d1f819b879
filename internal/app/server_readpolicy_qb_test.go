package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/querybuilder"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// Every query-builder field that reads records of another type (a relation
// path, a custom field's values) needs that type's read permission: a
// viewer holding every permission but it does not find the field in
// GET /api/filters/{entity}, GET /api/query-builder/config/{entity} or
// GraphQL's filterConfig, and a rule on it is a 400 (REST) or
// BAD_USER_INPUT (GraphQL) naming the rule and the permission; the
// entity's own fields stay usable.
func TestQueryBuilderRelationPathsNeedReadPermission(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db).demo
		g := startGateway(t, db)
		var all []string
		for _, p := range crm.Catalogue {
			all = append(all, p.Name)
		}
		admin := storetest.AsID(t, db, f.admin.id)
		without := map[string]actor{}
		covered := 0
		for _, e := range registry.Filterable() {
			c, err := crm.NewService(db.Client).FilterCatalogue(admin, e.Filter)
			if err != nil {
				t.Fatal(err)
			}
			for _, fld := range c.Fields() {
				for _, table := range fld.Reads() {
					perm := registry.ByTable(table).Read
					if perm == e.Read {
						continue
					}
					covered++
					t.Run(e.Filter+"/"+fld.Name+"/"+perm, func(t *testing.T) {
						a, ok := without[perm]
						if !ok {
							a = f.roleUser("qb-without-"+strings.ReplaceAll(perm, ".", "-"),
								slices.DeleteFunc(slices.Clone(all), func(p string) bool { return p == perm }))
							without[perm] = a
						}
						rule := map[string]any{"combinator": "and", "rules": []any{
							map[string]any{"field": fld.Name, "operator": "notNull"}}}
						if !slices.Contains(fld.Operators(), querybuilder.Operator("notNull")) {
							rule["rules"] = []any{map[string]any{"field": fld.Name, "operator": string(fld.Operators()[0]), "value": "x"}}
						}
						res := g.do(a, http.MethodPost, "/api/query-builder/filter/"+e.Filter, rule)
						if res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), perm) || !strings.Contains(string(res.Body), fld.Name) {
							t.Errorf("rule on %s without %s: %d %s; want 400 naming the field and %s", fld.Name, perm, res.Status, res.Body, perm)
						}
						gres, out := g.graphql(a, fmt.Sprintf(`query($f: Map) { %s(filter: $f) { totalCount } }`, e.Root), map[string]any{"f": rule})
						if !slices.Contains(out.codes(), "BAD_USER_INPUT") {
							t.Errorf("GraphQL %s filter on %s without %s: %s; want BAD_USER_INPUT", e.Root, fld.Name, perm, gres.Body)
						}
						for _, path := range []string{"/api/filters/" + e.Filter, "/api/query-builder/config/" + e.Filter} {
							res := g.do(a, http.MethodGet, path, nil)
							if res.Status != http.StatusOK {
								t.Fatalf("%s: %d %s", path, res.Status, res.Body)
							}
							if strings.Contains(string(res.Body), `"`+fld.Name+`"`) {
								t.Errorf("%s without %s lists %s", path, perm, fld.Name)
							}
						}
						gres, out = g.graphql(a, fmt.Sprintf(`{ filterConfig(entity: %q) }`, e.Filter), nil)
						var cfg struct {
							FilterConfig querybuilder.Config `json:"filterConfig"`
						}
						raw, _ := json.Marshal(out.Data)
						if len(out.Errors) > 0 || json.Unmarshal(raw, &cfg) != nil || len(cfg.FilterConfig.Fields) == 0 {
							t.Fatalf("filterConfig without %s: %s", perm, gres.Body)
						}
						for _, cf := range cfg.FilterConfig.Fields {
							if cf.Name == fld.Name {
								t.Errorf("filterConfig without %s lists %s", perm, fld.Name)
							}
						}
						// The entity's own fields are still usable.
						own := map[string]any{"combinator": "and", "rules": []any{
							map[string]any{"field": "dateCreated", "operator": "notNull"}}}
						if res := g.do(a, http.MethodPost, "/api/query-builder/filter/"+e.Filter, own); res.Status != http.StatusOK {
							t.Errorf("own field without %s: %d %s", perm, res.Status, res.Body)
						}
					})
				}
			}
		}
		if covered < 10 {
			t.Errorf("only %d relation paths covered", covered)
		}
	})
}
