package graph_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/ent/connectionstage"
	"github.com/conecrm/gateway/ent/contact"
	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/ids"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// theirs returns a record id of the northwind tenant (query q), and an id
// of the same type that exists nowhere.
func theirs(t *testing.T, db *store.DB, q func(ctx context.Context, tid uuid.UUID) (uuid.UUID, error)) (other, unknown uuid.UUID) {
	t.Helper()
	ctx := tenancy.Bypass(context.Background())
	tid := storetest.TenantID(t, db, "northwind-auto.test")
	other, err := q(ctx, tid)
	if err != nil {
		t.Fatal(err)
	}
	return other, ids.New(ids.TypeOf(other))
}

// sameAnswer fails unless a and b are the same response once the ids they
// name are made equal.
func sameAnswer(t *testing.T, what string, a, b *result, ida, idb uuid.UUID) {
	t.Helper()
	ja, _ := json.Marshal(struct {
		S int
		D json.RawMessage
		E []gqlError
	}{a.Status, a.Data, a.Errors})
	jb, _ := json.Marshal(struct {
		S int
		D json.RawMessage
		E []gqlError
	}{b.Status, b.Data, b.Errors})
	if strings.ReplaceAll(string(ja), ida.String(), "ID") != strings.ReplaceAll(string(jb), idb.String(), "ID") {
		t.Errorf("%s: another tenant's id is answered differently from an unknown id:\n%s\n%s", what, ja, jb)
	}
	if len(a.Errors) == 0 && strings.Contains(string(a.Data), ida.String()) {
		t.Errorf("%s: another tenant's record leaked: %s", what, a.Data)
	}
}

func TestAnotherTenantsIDsAnswerLikeUnknownIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := start(t, db, graph.Config{})
		acc, unknownAcc := theirs(t, db, func(ctx context.Context, tid uuid.UUID) (uuid.UUID, error) {
			return db.Account.Query().Where(account.TenantID(tid)).FirstID(ctx)
		})
		con, unknownCon := theirs(t, db, func(ctx context.Context, tid uuid.UUID) (uuid.UUID, error) {
			return db.Contact.Query().Where(contact.TenantID(tid)).FirstID(ctx)
		})
		stage, unknownStage := theirs(t, db, func(ctx context.Context, tid uuid.UUID) (uuid.UUID, error) {
			return db.ConnectionStage.Query().Where(connectionstage.TenantID(tid)).FirstID(ctx)
		})
		tnt := storetest.TenantID(t, db, "northwind-auto.test")
		mine := storetest.TenantID(t, db, "demo-motors.test")

		cases := []struct {
			name       string
			query      string
			vars       func(id uuid.UUID) map[string]any
			other, unk uuid.UUID
		}{
			{"node", `query($id: ID!) { node(id: $id) { id ... on Account { name } } }`,
				func(id uuid.UUID) map[string]any { return map[string]any{"id": id} }, acc, unknownAcc},
			{"node of a tenant", `query($id: ID!) { node(id: $id) { id ... on Tenant { name } } }`,
				func(id uuid.UUID) map[string]any { return map[string]any{"id": id} }, tnt, ids.New(ids.TypeOf(tnt))},
			{"nodes", `query($id: ID!, $mine: ID!) { nodes(ids: [$mine, $id]) { id } }`,
				func(id uuid.UUID) map[string]any { return map[string]any{"id": id, "mine": mine} }, con, unknownCon},
			{"nested edge filter", `query($id: ID!) { accounts(where: {hasContactsWith: {id: $id}}) { totalCount edges { node { id } } } }`,
				func(id uuid.UUID) map[string]any { return map[string]any{"id": id} }, con, unknownCon},
			{"lead filter on a foreign key", `query($id: ID!) { leads(where: {contactID: $id}) { totalCount } }`,
				func(id uuid.UUID) map[string]any { return map[string]any{"id": id} }, con, unknownCon},
			{"update", `mutation($id: ID!) { updateAccount(id: $id, input: {name: "x"}) { id name } }`,
				func(id uuid.UUID) map[string]any { return map[string]any{"id": id} }, acc, unknownAcc},
			{"delete", `mutation($id: ID!) { deleteStage(id: $id) }`,
				func(id uuid.UUID) map[string]any { return map[string]any{"id": id} }, stage, unknownStage},
			{"reference in an input", `mutation($id: ID!) { createLead(input: {subject: "s", contactID: $id}) { id } }`,
				func(id uuid.UUID) map[string]any { return map[string]any{"id": id} }, con, unknownCon},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				a := query(t, s, admin, c.query, c.vars(c.other))
				b := query(t, s, admin, c.query, c.vars(c.unk))
				sameAnswer(t, c.name, a, b, c.other, c.unk)
			})
		}
		// The viewer's own tenant is a node.
		r := query(t, s, admin, `query($id: ID!) { node(id: $id) { ... on Tenant { domain } } }`, map[string]any{"id": mine})
		var data struct{ Node struct{ Domain string } }
		r.into(t, &data)
		if data.Node.Domain != "demo-motors.test" {
			t.Errorf("own tenant: %s", r.Data)
		}
	})
}
