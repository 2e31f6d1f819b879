package rest_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

type stageBody struct {
	ID   string
	Name string
}

// stageNamed finds a stage through GET /api/stage as user as.
func stageNamed(t *testing.T, s *resttest.Server, as, name string) stageBody {
	t.Helper()
	var stages []stageBody
	decodeOK(t, s, http.MethodGet, "/api/stage", as, nil, http.StatusOK, &stages)
	for _, st := range stages {
		if st.Name == name {
			return st
		}
	}
	t.Fatalf("no stage %q among %v", name, stages)
	return stageBody{}
}

func TestStageRoutes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		var created stageBody
		decodeOK(t, s, http.MethodPost, "/api/stage", asManager,
			map[string]any{"id": uuid.NewString(), "name": "Negotiation"}, http.StatusCreated, &created)
		if created.Name != "Negotiation" || created.ID == "" {
			t.Fatalf("created %+v", created)
		}
		mine := "/api/stage/" + created.ID
		used := "/api/stage/" + stageNamed(t, s, asUser, "New").ID // first stage of the pipeline
		unused := "/api/stage/" + stageNamed(t, s, asUser, "Unused").ID
		foreignStage := stageNamed(t, s, asOther, "Unused")
		foreign := "/api/stage/" + foreignStage.ID

		runRouteCases(t, s, append([]routeCase{
			{"the list holds the seeded and the new stages", "GET", "/api/stage", asUser, nil, 200, `"name":"Negotiation"`},
			{"an id sent on create is ignored", "GET", mine, asUser, nil, 200, created.ID},
			{"create needs a name", "POST", "/api/stage", asManager, `{}`, 400, "name"},
			{"a blank name is rejected", "POST", "/api/stage", asManager, `{"name":"  "}`, 400, "name"},
			{"a name of the wrong type is rejected", "POST", "/api/stage", asManager, `{"name":5}`, 400, "name"},
			{"malformed JSON is rejected", "POST", "/api/stage", asManager, `{"name":`, 400, "body"},
			{"a USER cannot create", "POST", "/api/stage", asUser, `{"name":"x"}`, 403, "Access denied"},
			{"rename", "PATCH", mine, asManager, `{"name":"Closing"}`, 200, `"name":"Closing"`},
			{"rename keeps the stage", "GET", mine, asUser, nil, 200, `"name":"Closing"`},
			{"an empty patch changes nothing", "PATCH", mine, asManager, `{}`, 200, `"name":"Closing"`},
			{"a blank rename is rejected", "PATCH", mine, asManager, `{"name":""}`, 400, "name"},
			{"a USER cannot rename", "PATCH", mine, asUser, `{"name":"x"}`, 403, ""},
			{"an unknown stage is not found", "GET", "/api/stage/" + uuid.NewString(), asUser, nil, 404, ""},
			{"a non-UUID id is not found", "GET", "/api/stage/42", asUser, nil, 404, ""},
			{"another tenant's stage is not found", "GET", foreign, asUser, nil, 404, ""},
			{"another tenant's stage cannot be renamed", "PATCH", foreign, asAdmin, `{"name":"Hijacked"}`, 404, ""},
			{"another tenant's stage cannot be deleted", "DELETE", foreign, asAdmin, nil, 404, ""},
			{"an unknown stage cannot be renamed", "PATCH", "/api/stage/" + uuid.NewString(), asAdmin, `{"name":"x"}`, 404, ""},
			{"an unknown stage cannot be deleted", "DELETE", "/api/stage/" + uuid.NewString(), asAdmin, nil, 404, ""},
			{"a stage in use cannot be deleted", "DELETE", used, asAdmin, nil, 400, "used in connections or pipelines"},
			{"a USER cannot delete", "DELETE", unused, asUser, nil, 403, ""},
			{"an unused stage is deleted", "DELETE", unused, asManager, nil, 204, ""},
			{"a deleted stage is gone", "GET", unused, asUser, nil, 404, ""},
			{"a deleted stage cannot be deleted again", "DELETE", unused, asManager, nil, 404, ""},
		}, unauthenticated(
			[2]string{"GET", "/api/stage"}, [2]string{"POST", "/api/stage"}, [2]string{"GET", mine},
			[2]string{"PATCH", mine}, [2]string{"DELETE", mine},
		)...))

		if got := stageNamed(t, s, asOther, "Unused"); got != foreignStage {
			t.Fatalf("another tenant's stage changed: %+v", got)
		}
		stageNamed(t, s, asUser, "New") // the used stage survived
	})
}
