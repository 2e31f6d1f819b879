package rest_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// GET /api/stage lists stages in board order: by their position on the
// pipelines, then the stages on no pipeline in creation order.
func TestStageListIsInPipelineOrder(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		sys := tenancy.Bypass(context.Background())
		tid := storetest.TenantID(t, db, "demo-motors.test")
		create := func(name string) string {
			var st struct{ ID string }
			s.Expect(t, http.StatusCreated, http.MethodPost, "/api/stage", resttest.Admin, map[string]any{"name": name}).JSON(t, &st)
			return st.ID
		}
		first, second, loose := create("Order A"), create("Order B"), create("Order loose")
		pipe := db.Pipeline.Create().SetTenantID(tid).SetName("Order pipeline").SaveX(sys)
		// B before A on the board, both after every seeded placement.
		for i, id := range []string{second, first} {
			var st struct{ ID string }
			s.Expect(t, http.StatusOK, http.MethodGet, "/api/stage/"+id, resttest.Admin, nil).JSON(t, &st)
			db.PipelineStage.Create().SetTenantID(tid).SetPipelineID(pipe.ID).SetStageID(uuidOf(st.ID)).SetPosition(1000 + i).ExecX(sys)
		}
		var list []struct{ ID string }
		s.Expect(t, http.StatusOK, http.MethodGet, "/api/stage", resttest.Admin, nil).JSON(t, &list)
		at := func(id string) int {
			return slices.IndexFunc(list, func(x struct{ ID string }) bool { return x.ID == id })
		}
		if !(at(second) < at(first) && at(first) < at(loose)) || at(loose) != len(list)-1 {
			t.Fatalf("order: B %d, A %d, loose %d of %d", at(second), at(first), at(loose), len(list))
		}
	})
}

func uuidOf(s string) uuid.UUID { return uuid.MustParse(s) }
