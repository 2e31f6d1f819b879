package graph_test

import (
	"context"
	"testing"

	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// updateLead writes the lead's third-party ids (the spec's
// Connection.thirdPartyIds): the answer lists them; a blank id is
// BAD_USER_INPUT naming input.thirdPartyIds[0].thirdPartyID.
func TestUpdateLeadWritesThirdPartyIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		tid := storetest.TenantID(t, db, "demo-motors.test")
		l := db.Lead.Query().Where(lead.TenantID(tid)).FirstIDX(tenancy.Bypass(context.Background()))
		r := query(t, s, admin, `mutation($id: ID!) { updateLead(id: $id, input: {thirdPartyIds: [{systemName: "dms", thirdPartyID: "L-7", metadata: "{}"}]}) {
			thirdPartyIds { systemName thirdPartyID metadata } } }`, map[string]any{"id": l})
		var data struct {
			UpdateLead struct {
				ThirdPartyIds []struct{ SystemName, ThirdPartyID, Metadata string }
			}
		}
		r.into(t, &data)
		if ids := data.UpdateLead.ThirdPartyIds; len(ids) != 1 || ids[0].SystemName != "dms" || ids[0].ThirdPartyID != "L-7" || ids[0].Metadata != "{}" {
			t.Fatalf("answer %+v", data)
		}
		r = query(t, s, admin, `mutation($id: ID!) { updateLead(id: $id, input: {thirdPartyIds: [{systemName: "dms", thirdPartyID: " "}]}) { id } }`,
			map[string]any{"id": l})
		if r.code() != "BAD_USER_INPUT" {
			t.Fatalf("errors %+v", r.Errors)
		}
		if _, ok := r.Errors[0].Extensions["fields"].(map[string]any)["input.thirdPartyIds[0].thirdPartyID"]; !ok {
			t.Fatalf("fields %v", r.Errors[0].Extensions)
		}
	})
}
