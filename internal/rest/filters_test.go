package rest_test

import (
	"slices"
	"testing"

	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/storetest"
)

type filterInfo struct {
	Field     string
	Type      string
	Label     string
	Operators []string
	Options   []string
}

func fieldNamed[T any](t *testing.T, list []T, name func(T) string, want string) T {
	t.Helper()
	for _, x := range list {
		if name(x) == want {
			return x
		}
	}
	t.Fatalf("no field %q", want)
	var zero T
	return zero
}

func TestFilterCatalogueRoutes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		// A custom field of the demo tenant only.
		s.Do("POST", "/api/custom-field", asAdmin, `{"entity":"lead","fieldName":"onlyDemo","fieldType":"text"}`)

		t.Run("all entities", func(t *testing.T) {
			var body struct {
				Data []struct {
					Entity  string
					Filters []filterInfo
				}
			}
			decodeOK(t, s, "GET", "/api/filters", asUser, nil, 200, &body)
			var entities []string
			for _, e := range body.Data {
				entities = append(entities, e.Entity)
			}
			if want := []string{"account", "contact", "lead", "task", "appointment", "followup"}; !slices.Equal(entities, want) {
				t.Fatalf("entities %v, want %v", entities, want)
			}
		})
		t.Run("one entity with its custom fields", func(t *testing.T) {
			var fs []filterInfo
			decodeOK(t, s, "GET", "/api/filters/lead", asUser, nil, 200, &fs)
			name := func(f filterInfo) string { return f.Field }
			budget := fieldNamed(t, fs, name, "custom.budget")
			if budget.Type != "number" || budget.Options != nil || !slices.Contains(budget.Operators, "between") {
				t.Errorf("custom.budget: %+v", budget)
			}
			financing := fieldNamed(t, fs, name, "custom.financing")
			if financing.Type != "enum" || !slices.Equal(financing.Options, []string{"cash", "loan", "lease"}) {
				t.Errorf("custom.financing: %+v", financing)
			}
			if kind := fieldNamed(t, fs, name, "status.kind"); !slices.Equal(kind.Operators, []string{"=", "!=", "null", "notNull", "in", "notIn"}) {
				t.Errorf("status.kind operators: %v", kind.Operators)
			}
			fieldNamed(t, fs, name, "custom.onlyDemo")
			var other []filterInfo
			decodeOK(t, s, "GET", "/api/filters/lead", asOther, nil, 200, &other)
			if slices.ContainsFunc(other, func(f filterInfo) bool { return f.Field == "custom.onlyDemo" }) {
				t.Error("another tenant sees the demo tenant's custom field")
			}
		})
		t.Run("react-querybuilder config", func(t *testing.T) {
			type option struct{ Name, Label string }
			var cfg struct {
				Fields []struct {
					Name, Label, Type, InputType, ValueEditorType string
					Values, Operators                             []option
					Sortable                                      bool
				}
				Operators []string
			}
			decodeOK(t, s, "GET", "/api/query-builder/config/lead", asUser, nil, 200, &cfg)
			if len(cfg.Operators) != 18 {
				t.Errorf("%d operators", len(cfg.Operators))
			}
			for _, f := range cfg.Fields {
				switch f.Name {
				case "custom.financing":
					if f.ValueEditorType != "select" || len(f.Values) != 3 || f.Values[0] != (option{"cash", "cash"}) {
						t.Errorf("custom.financing: %+v", f)
					}
				case "dueDate":
					if f.InputType != "datetime-local" || !f.Sortable || f.Label != "Due date" {
						t.Errorf("dueDate: %+v", f)
					}
				case "isQualified":
					if f.ValueEditorType != "checkbox" || len(f.Operators) != 4 || f.Operators[0] != (option{"=", "="}) {
						t.Errorf("isQualified: %+v", f)
					}
				}
			}
		})
		norole := withoutRoles(t, db)
		runRouteCases(t, s, append([]routeCase{
			{"unknown entity", "GET", "/api/filters/widget", asUser, nil, 404, `"error"`},
			{"unknown entity config", "GET", "/api/query-builder/config/widget", asUser, nil, 404, `"error"`},
			{"no read permission", "GET", "/api/filters/lead", norole, nil, 403, "Access denied"},
			{"no read permission config", "GET", "/api/query-builder/config/task", norole, nil, 403, "Access denied"},
			{"the list leaves out what one cannot read", "GET", "/api/filters", norole, nil, 200, `{"data":[]}`},
		}, unauthenticated(
			[2]string{"GET", "/api/filters"}, [2]string{"GET", "/api/filters/lead"},
			[2]string{"GET", "/api/query-builder/config/lead"})...))
	})
}
