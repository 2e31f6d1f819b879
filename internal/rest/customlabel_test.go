package rest_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

type customLabelBody struct {
	ID        string
	IsDeleted bool
	CreatedBy *struct{ ID string }
	Tenant    struct{ ID, Name string }
	Value     map[string]any
}

// customLabels lists the labels as user as.
func customLabels(t *testing.T, s *resttest.Server, as string) []customLabelBody {
	t.Helper()
	var labels []customLabelBody
	decodeOK(t, s, http.MethodGet, "/api/custom-labels", as, nil, http.StatusOK, &labels)
	return labels
}

func TestCustomLabelRoutes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		var created customLabelBody
		decodeOK(t, s, http.MethodPost, "/api/custom-labels", asManager,
			map[string]any{"value": map[string]any{"lead": "Deal"}, "isDeleted": true, "id": uuid.NewString()},
			http.StatusOK, &created)
		if created.Value["lead"] != "Deal" || created.IsDeleted || created.Tenant.Name == "" ||
			created.CreatedBy == nil || created.CreatedBy.ID != storetest.UserID(t, db, asManager).String() {
			t.Fatalf("created %+v", created)
		}
		mine := "/api/custom-labels/" + created.ID
		foreignLabel := customLabels(t, s, asOther)[0]
		foreign := "/api/custom-labels/" + foreignLabel.ID

		runRouteCases(t, s, append([]routeCase{
			{"the list holds the seeded and the new label", "GET", "/api/custom-labels", asUser, nil, 200, `"lead":"Deal"`},
			{"a string value is rejected", "POST", "/api/custom-labels", asManager, `{"value":"Deal"}`, 400, `{"error":"value is required"}`},
			{"an array value is rejected", "POST", "/api/custom-labels", asManager, `{"value":["Deal"]}`, 400, `{"error":"value is required"}`},
			{"a null value is rejected", "POST", "/api/custom-labels", asManager, `{"value":null}`, 400, `{"error":"value is required"}`},
			{"a missing value is rejected", "POST", "/api/custom-labels", asManager, `{}`, 400, `{"error":"value is required"}`},
			{"malformed JSON is rejected", "POST", "/api/custom-labels", asManager, `{"value":{`, 400, "body"},
			{"a body that is not an object is rejected", "POST", "/api/custom-labels", asManager, `[]`, 400, "body"},
			{"a USER cannot create", "POST", "/api/custom-labels", asUser, `{"value":{}}`, 403, ""},
			{"update replaces the value", "PATCH", mine, asManager, `{"value":{"lead":"Opportunity"}}`, 200, `"value":{"lead":"Opportunity"}`},
			{"update needs an object value", "PATCH", mine, asManager, `{"value":42}`, 400, `{"error":"value is required"}`},
			{"a USER cannot update", "PATCH", mine, asUser, `{"value":{}}`, 403, ""},
			{"an unknown label cannot be updated", "PATCH", "/api/custom-labels/" + uuid.NewString(), asManager, `{"value":{}}`, 404, ""},
			{"a non-UUID id is not found", "PATCH", "/api/custom-labels/1", asManager, `{"value":{}}`, 404, ""},
			{"another tenant's label cannot be updated", "PATCH", foreign, asAdmin, `{"value":{"x":"y"}}`, 404, ""},
			{"another tenant's label cannot be deleted", "DELETE", foreign, asAdmin, nil, 404, ""},
			{"a USER cannot delete", "DELETE", mine, asUser, nil, 403, ""},
			{"delete answers null", "DELETE", mine, asManager, nil, 200, "null"},
			{"a deleted label cannot be deleted again", "DELETE", mine, asManager, nil, 404, ""},
			{"a deleted label cannot be updated", "PATCH", mine, asManager, `{"value":{}}`, 404, ""},
		}, unauthenticated(
			[2]string{"GET", "/api/custom-labels"}, [2]string{"POST", "/api/custom-labels"},
			[2]string{"PATCH", mine}, [2]string{"DELETE", mine},
		)...))

		if labels := customLabels(t, s, asUser); len(labels) != 1 || labels[0].ID == created.ID {
			t.Fatalf("after the delete only the seeded label should be listed: %+v", labels)
		}
		if got := customLabels(t, s, asOther)[0]; got.ID != foreignLabel.ID || got.Value["x"] != nil {
			t.Fatalf("another tenant's label changed: %+v", got)
		}
	})
}
