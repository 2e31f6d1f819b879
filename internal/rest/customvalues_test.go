package rest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/customfieldvalue"
	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// customFieldValues are written through the REST task and account bodies
// as through the lead one: checked against the entity's custom fields,
// a refused value names its field and writes nothing.
func TestRESTCustomFieldValuesOnTasksAndAccounts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		sys := tenancy.Bypass(context.Background())
		admin := storetest.UserID(t, db, resttest.Admin)
		field := func(entity, name string) string {
			var f struct{ ID string }
			s.Expect(t, http.StatusOK, http.MethodPost, "/api/custom-field", resttest.Admin,
				map[string]any{"entity": entity, "fieldName": name, "fieldType": "number"}).JSON(t, &f)
			return f.ID
		}
		taskField, accountField := field("task", "restAttempts"), field("account", "restFleetCount")
		stored := func(record, f string) []string {
			var out []string
			for _, v := range db.CustomFieldValue.Query().Where(customfieldvalue.RecordIDEQ(uuid.MustParse(record))).AllX(sys) {
				if v.FieldID.String() == f {
					out = append(out, v.Value)
				}
			}
			return out
		}

		var tk struct{ ID string }
		s.Expect(t, http.StatusOK, http.MethodPost, "/api/task", resttest.Admin, map[string]any{
			"title": "Call", "assignee": admin, "customFieldValues": []any{map[string]any{"field": map[string]any{"id": taskField}, "value": "2"}},
		}).JSON(t, &tk)
		if got := stored(tk.ID, taskField); len(got) != 1 || got[0] != "2" {
			t.Fatalf("task values %v", got)
		}
		res := s.Expect(t, http.StatusBadRequest, http.MethodPatch, "/api/task/"+tk.ID, resttest.Admin, map[string]any{
			"title": "Changed", "customFieldValues": []any{map[string]any{"field": map[string]any{"id": taskField}, "value": "many"}},
		})
		if !strings.Contains(string(res.Body), "customFieldValues[0].value") {
			t.Fatalf("400 body %s", res.Body)
		}
		if got := stored(tk.ID, taskField); len(got) != 1 || got[0] != "2" {
			t.Fatalf("a refused PATCH changed the values: %v", got)
		}
		s.Expect(t, http.StatusBadRequest, http.MethodPatch, "/api/task/"+tk.ID, resttest.Admin, map[string]any{
			"customFieldValues": []any{map[string]any{"field": map[string]any{"id": accountField}, "value": "3"}},
		})

		var a struct{ ID string }
		s.Expect(t, http.StatusOK, http.MethodPost, "/api/account", resttest.Admin, map[string]any{
			"name": "Fleet Co", "customFieldValues": []any{map[string]any{"field": map[string]any{"id": accountField}, "value": "40"}},
		}).JSON(t, &a)
		s.Expect(t, http.StatusOK, http.MethodPatch, "/api/account/"+a.ID, resttest.Admin, map[string]any{
			"customFieldValues": []any{map[string]any{"field": map[string]any{"id": accountField}, "value": "41"}},
		})
		if got := stored(a.ID, accountField); len(got) != 1 || got[0] != "41" {
			t.Fatalf("account values %v", got)
		}
	})
}
