package graph_test

import (
	"testing"

	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

func TestRootConnectionsTakeTheQueryBuilderFilter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		count := func(r *result) int {
			t.Helper()
			var data struct{ Leads struct{ TotalCount int } }
			r.into(t, &data)
			return data.Leads.TotalCount
		}
		all := count(query(t, s, admin, `{ leads { totalCount } }`, nil))
		filter := map[string]any{"combinator": "and", "rules": []any{
			map[string]any{"field": "subject", "operator": "contains", "value": "for 1"},
		}}
		some := count(query(t, s, admin, `query($f: Map) { leads(filter: $f) { totalCount } }`, map[string]any{"f": filter}))
		if some == 0 || some >= all {
			t.Fatalf("filter kept %d of %d leads", some, all)
		}

		t.Run("a saved filter applies the same query", func(t *testing.T) {
			r := query(t, s, admin, `mutation($v: String!) { createSavedFilter(input: {name: "for 1", module: "lead", value: $v}) { id } }`,
				map[string]any{"v": `{"combinator":"and","rules":[{"field":"subject","operator":"contains","value":"for 1"}]}`})
			var created struct{ CreateSavedFilter struct{ ID string } }
			r.into(t, &created)
			got := count(query(t, s, admin, `query($id: ID) { leads(savedFilter: $id) { totalCount } }`,
				map[string]any{"id": created.CreateSavedFilter.ID}))
			if got != some {
				t.Errorf("saved filter kept %d leads, the same filter inline %d", got, some)
			}
		})

		t.Run("a bad rule is BAD_USER_INPUT on the filter argument", func(t *testing.T) {
			bad := map[string]any{"combinator": "and", "rules": []any{map[string]any{"field": "nope", "operator": "=", "value": "x"}}}
			r := query(t, s, admin, `query($f: Map) { leads(filter: $f) { totalCount } }`, map[string]any{"f": bad})
			if r.code() != "BAD_USER_INPUT" {
				t.Fatalf("errors %+v", r.Errors)
			}
			for name := range r.Errors[0].Extensions["fields"].(map[string]any) {
				if len(name) < 7 || name[:7] != "filter." {
					t.Errorf("field %q is not under filter.", name)
				}
			}
		})

		t.Run("filterConfig lists the catalogue", func(t *testing.T) {
			r := query(t, s, admin, `{ filterConfig(entity: "lead") }`, nil)
			var data struct {
				FilterConfig struct {
					Fields []struct {
						Name, ValueEditorType string
						Values                []struct{ Name, Label string }
					}
				}
			}
			r.into(t, &data)
			if len(data.FilterConfig.Fields) == 0 {
				t.Fatalf("no fields: %s", r.Data)
			}
			// Relation fields offer their records as options (id, label),
			// as GET /api/query-builder/config does (tested in internal/rest).
			for _, f := range data.FilterConfig.Fields {
				if f.Name == "stage" && (f.ValueEditorType != "select" || len(f.Values) == 0 || f.Values[0].Label == "") {
					t.Errorf("stage: %+v", f)
				}
			}
			if r := query(t, s, admin, `{ filterConfig(entity: "nope") }`, nil); r.code() != "NOT_FOUND" {
				t.Errorf("unknown entity: %+v", r.Errors)
			}
		})
	})
}
