package graph_test

import (
	"context"
	"testing"

	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// Pipeline.pipelineStages is in position order in any query, and account
// writes take thirdPartyIds.
func TestPipelineStagesOrderAndThirdPartyIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		sys := tenancy.Bypass(context.Background())
		tid := storetest.TenantID(t, db, "demo-motors.test")
		pipe := db.Pipeline.Create().SetTenantID(tid).SetName("Ordered").SaveX(sys)
		// Placements written in reverse position order.
		for i := range 4 {
			st := db.ConnectionStage.Create().SetTenantID(tid).SetName("ordered stage").SaveX(sys)
			db.PipelineStage.Create().SetTenantID(tid).SetPipelineID(pipe.ID).SetStageID(st.ID).SetPosition(3 - i).ExecX(sys)
		}
		for _, q := range []string{
			`query($id: ID!) { node(id: $id) { ... on Pipeline { pipelineStages { position } } } }`,
			`{ pipelines(first: 100) { edges { node { id pipelineStages { position } } } } }`,
		} {
			r := query(t, s, admin, q, map[string]any{"id": pipe.ID})
			var data struct {
				Node      struct{ PipelineStages []struct{ Position int } }
				Pipelines struct {
					Edges []struct {
						Node struct {
							ID             string
							PipelineStages []struct{ Position int }
						}
					}
				}
			}
			r.into(t, &data)
			stages := data.Node.PipelineStages
			for _, e := range data.Pipelines.Edges {
				if e.Node.ID == pipe.ID.String() {
					stages = e.Node.PipelineStages
				}
			}
			if len(stages) != 4 {
				t.Fatalf("%s: %d stages", q, len(stages))
			}
			for i, st := range stages {
				if st.Position != i {
					t.Fatalf("%s: positions %v, want 0..3 in order", q, stages)
				}
			}
		}

		r := query(t, s, admin, `mutation { createAccount(input: {name: "Ids Co", thirdPartyIds: [{systemName: "dms", thirdPartyID: "D-1"}],
			contacts: [{firstName: "Ida", thirdPartyIds: [{systemName: "dms", thirdPartyID: "C-1", metadata: "{}"}]}]}) {
			id thirdPartyIds { systemName thirdPartyID } contacts { thirdPartyIds { systemName thirdPartyID metadata } } } }`, nil)
		var acc struct {
			CreateAccount struct {
				ThirdPartyIds []struct{ SystemName, ThirdPartyID string }
				Contacts      []struct {
					ThirdPartyIds []struct{ SystemName, ThirdPartyID, Metadata string }
				}
			}
		}
		r.into(t, &acc)
		a := acc.CreateAccount
		if len(a.ThirdPartyIds) != 1 || a.ThirdPartyIds[0].ThirdPartyID != "D-1" || len(a.Contacts) != 1 ||
			len(a.Contacts[0].ThirdPartyIds) != 1 || a.Contacts[0].ThirdPartyIds[0].ThirdPartyID != "C-1" {
			t.Fatalf("account %+v", a)
		}
		r = query(t, s, admin, `mutation { createContact(input: {firstName: "X", thirdPartyIds: [{systemName: "", thirdPartyID: "1"}]}) { id } }`, nil)
		if r.code() != "BAD_USER_INPUT" {
			t.Fatalf("errors %+v", r.Errors)
		}
		if _, ok := r.Errors[0].Extensions["fields"].(map[string]any)["input.thirdPartyIds[0].systemName"]; !ok {
			t.Fatalf("fields %v", r.Errors[0].Extensions)
		}
	})
}
