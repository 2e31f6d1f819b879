package rest_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

type customFieldBody struct {
	ID        string
	Entity    string
	FieldName string
	FieldType string
	Options   string
}

// customFieldNamed finds a field through GET /api/custom-field/{entity}.
func customFieldNamed(t *testing.T, s *resttest.Server, as, entity, name string) customFieldBody {
	t.Helper()
	var fields []customFieldBody
	decodeOK(t, s, http.MethodGet, "/api/custom-field/"+entity, as, nil, http.StatusOK, &fields)
	for _, f := range fields {
		if f.FieldName == name {
			return f
		}
	}
	t.Fatalf("no %s custom field %q among %v", entity, name, fields)
	return customFieldBody{}
}

func TestCustomFieldRoutes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		var created customFieldBody
		decodeOK(t, s, http.MethodPost, "/api/custom-field", asManager, map[string]any{
			"entity": "lead", "fieldName": "colour", "fieldType": "select", "options": `{"choices":["red","blue"]}`,
		}, http.StatusOK, &created)
		if created.ID == "" || created.Entity != "lead" || created.FieldType != "select" || created.Options != `{"choices":["red","blue"]}` {
			t.Fatalf("created %+v", created)
		}
		mine := "/api/custom-field/" + created.ID
		budgetID := customFieldNamed(t, s, asUser, "lead", "budget").ID
		budget := "/api/custom-field/" + budgetID
		foreignField := customFieldNamed(t, s, asOther, "lead", "budget")
		foreign := "/api/custom-field/" + foreignField.ID

		runRouteCases(t, s, append([]routeCase{
			{"all fields are listed", "GET", "/api/custom-field", asUser, nil, 200, `"fieldName":"birthday"`},
			{"one entity's fields are listed", "GET", "/api/custom-field/lead", asUser, nil, 200, `"fieldName":"colour"`},
			{"an entity without fields lists none", "GET", "/api/custom-field/followup", asUser, nil, 200, "[]"},
			{"an unknown entity is a bad request", "GET", "/api/custom-field/invoice", asUser, nil, 400, "entity"},
			{"the options default to an empty object", "POST", "/api/custom-field", asAdmin,
				`{"entity":"task","fieldName":"room","fieldType":"text"}`, 200, `"options":"{}"`},
			{"a duplicate name of the entity is rejected", "POST", "/api/custom-field", asAdmin,
				`{"entity":"lead","fieldName":"budget","fieldType":"number"}`, 400, "fieldName"},
			{"the same name on another entity is fine", "POST", "/api/custom-field", asAdmin,
				`{"entity":"contact","fieldName":"budget","fieldType":"number"}`, 200, `"entity":"contact"`},
			{"an unknown entity cannot get fields", "POST", "/api/custom-field", asAdmin,
				`{"entity":"invoice","fieldName":"x","fieldType":"text"}`, 400, "entity"},
			{"an unknown type is rejected", "POST", "/api/custom-field", asAdmin,
				`{"entity":"lead","fieldName":"x","fieldType":"money"}`, 400, "fieldType"},
			{"a select field needs choices", "POST", "/api/custom-field", asAdmin,
				`{"entity":"lead","fieldName":"x","fieldType":"select","options":"{}"}`, 400, "options"},
			{"options must be JSON", "POST", "/api/custom-field", asAdmin,
				`{"entity":"lead","fieldName":"x","fieldType":"text","options":"{oops"}`, 400, "options"},
			{"options sent as an object are a wrong type", "POST", "/api/custom-field", asAdmin,
				`{"entity":"lead","fieldName":"x","fieldType":"text","options":{}}`, 400, "options"},
			{"the required fields are named", "POST", "/api/custom-field", asAdmin, `{}`, 400, "fieldName"},
			{"malformed JSON is rejected", "POST", "/api/custom-field", asAdmin, `[`, 400, "body"},
			{"a USER cannot create", "POST", "/api/custom-field", asUser,
				`{"entity":"lead","fieldName":"y","fieldType":"text"}`, 403, ""},
			{"rename and new choices", "PATCH", mine, asManager,
				`{"fieldName":"paint","options":"{\"choices\":[\"red\",\"green\"]}"}`, 200, `"fieldName":"paint"`},
			{"the type cannot change", "PATCH", mine, asManager, `{"fieldType":"text"}`, 400, "fieldType"},
			{"the entity cannot change", "PATCH", mine, asManager, `{"entity":"task"}`, 400, "entity"},
			{"a rename onto a live name is rejected", "PATCH", mine, asManager, `{"fieldName":"budget"}`, 400, "fieldName"},
			{"a wrong type in the patch is named", "PATCH", mine, asManager, `{"fieldName":true}`, 400, "fieldName"},
			{"a USER cannot update", "PATCH", mine, asUser, `{"fieldName":"z"}`, 403, ""},
			{"an unknown field cannot be updated", "PATCH", "/api/custom-field/" + uuid.NewString(), asAdmin, `{"fieldName":"z"}`, 404, ""},
			{"another tenant's field cannot be updated", "PATCH", foreign, asAdmin, `{"fieldName":"z"}`, 404, ""},
			{"another tenant's field cannot be deleted", "DELETE", foreign, asAdmin, nil, 404, ""},
			{"a non-UUID id is not found", "DELETE", "/api/custom-field/budget", asAdmin, nil, 404, ""},
			{"a USER cannot delete", "DELETE", budget, asUser, nil, 403, ""},
			{"delete answers null", "DELETE", budget, asManager, nil, 200, "null"},
			{"a deleted field cannot be deleted again", "DELETE", budget, asManager, nil, 404, ""},
			{"a deleted field's name is free again", "POST", "/api/custom-field", asAdmin,
				`{"entity":"lead","fieldName":"budget","fieldType":"number"}`, 200, `"fieldName":"budget"`},
		}, unauthenticated(
			[2]string{"GET", "/api/custom-field"}, [2]string{"POST", "/api/custom-field"},
			[2]string{"GET", "/api/custom-field/lead"}, [2]string{"PATCH", mine}, [2]string{"DELETE", mine},
		)...))

		if got := customFieldNamed(t, s, asOther, "lead", "budget"); got != foreignField {
			t.Fatalf("another tenant's field changed: %+v", got)
		}
		if got := customFieldNamed(t, s, asUser, "lead", "budget"); got.ID == budgetID {
			t.Fatal("the deleted field is still listed")
		}
		if got := customFieldNamed(t, s, asUser, "lead", "paint"); got.Options != `{"choices":["red","green"]}` || got.FieldType != "select" {
			t.Fatalf("failed updates changed the field: %+v", got)
		}
	})
}
