package rest_test

import (
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/querybuilder"
	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
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
			// Every filterable entity of the registry (a USER reads them
			// all), in its order; the spec's six among them.
			if want := querybuilder.Entities(); !slices.Equal(entities, want) {
				t.Fatalf("entities %v, want %v", entities, want)
			}
			for _, e := range []string{"account", "contact", "lead", "task", "appointment", "followup"} {
				if !slices.Contains(entities, e) {
					t.Errorf("%s is not filterable", e)
				}
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
		t.Run("relation value options", func(t *testing.T) {
			type option struct{ Name, Label string }
			type config struct {
				Fields []struct {
					Name, ValueEditorType string
					Values                []option
				}
			}
			fieldsOf := func(as, entity string) map[string][]option {
				var cfg config
				decodeOK(t, s, "GET", "/api/query-builder/config/"+entity, as, nil, 200, &cfg)
				out := map[string][]option{}
				for _, f := range cfg.Fields {
					if len(f.Values) > 0 && f.ValueEditorType != "select" {
						t.Errorf("%s.%s: editor %s with %d values", entity, f.Name, f.ValueEditorType, len(f.Values))
					}
					out[f.Name] = f.Values
				}
				return out
			}
			demo := tenantData(t, db, "demo-motors.test")
			// label of each live record of the demo tenant, by id.
			labels := func(table, column string) map[string]string {
				rows, err := db.SQL.Query("SELECT id, "+column+" FROM "+table+" WHERE tenant_id = $1 AND is_deleted = false", demo.tid)
				demo.must(err)
				defer rows.Close()
				m := map[string]string{}
				for rows.Next() {
					var id uuid.UUID
					var label string
					demo.must(rows.Scan(&id, &label))
					m[id.String()] = label
				}
				return m
			}
			same := func(what string, got []option, want map[string]string) {
				t.Helper()
				if len(got) != len(want) || len(want) == 0 {
					t.Errorf("%s: %d options, want the tenant's %d", what, len(got), len(want))
				}
				for _, o := range got {
					if want[o.Name] != o.Label {
						t.Errorf("%s: option %+v is not a record of the tenant", what, o)
					}
				}
			}
			lead := fieldsOf(asUser, "lead")
			same("lead.stage", lead["stage"], labels("connection_stages", "name"))
			same("lead.status", lead["status"], labels("statuses", "name"))
			same("lead.source", lead["source"], labels("sources", "name"))
			same("lead.franchise", lead["franchise"], labels("franchises", "name"))
			same("lead.department", lead["department"], labels("departments", "name"))
			same("lead.assignees", lead["assignees"], labels("users", "email"))
			same("lead.soldBy", lead["soldBy"], labels("users", "email"))
			if len(lead["contact"]) != 0 || len(lead["account"]) != 0 {
				t.Errorf("customers offered as options: %d contacts, %d accounts", len(lead["contact"]), len(lead["account"]))
			}
			users, groups := labels("users", "email"), labels("security_groups", "name")
			for id, l := range groups {
				users[id] = l
			}
			same("task.assignee (users and groups)", fieldsOf(asUser, "task")["assignee"], users)
			// Another tenant's options are its own.
			for _, o := range fieldsOf(asOther, "lead")["stage"] {
				if _, ok := labels("connection_stages", "name")[o.Name]; ok {
					t.Fatalf("another tenant is offered the demo tenant's stage %+v", o)
				}
			}
			// An option's value is a valid rule value.
			st := lead["stage"][0]
			var b filterBody
			decodeOK(t, s, "POST", filterPath("lead", ""), asUser,
				`{"combinator":"and","rules":[{"field":"stage","operator":"=","value":"`+st.Name+`"}]}`, 200, &b)
			for _, l := range b.Data {
				if l["stage"].(map[string]any)["id"] != st.Name {
					t.Fatalf("stage = %s matched a lead on %v", st.Name, l["stage"])
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
