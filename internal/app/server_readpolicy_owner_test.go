package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// A USER reads their own settings and third-party metadata and nobody
// else's, whatever the path (the user's edge, a users page, node(id) of the
// row itself); MANAGER and ADMIN read everyone's. The owner rule is the data
// layer's (the registry's Owner column), so every path obeys it at once.
func TestUserPrivateDataOwnerRule(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db).demo
		g := startGateway(t, db)
		// Each of the two USERs has settings with a private front-end state
		// and a third-party id.
		settings := map[uuid.UUID]uuid.UUID{}
		tpids := map[uuid.UUID]uuid.UUID{}
		for _, a := range []actor{f.user, f.sales1} {
			row, err := db.User.QuerySettings(db.User.GetX(f.sys, a.id)).Only(f.sys)
			f.must(err)
			f.must(db.UserSettings.UpdateOne(row).SetFrontendState("state-of-" + a.id.String()).Exec(f.sys))
			settings[a.id] = row.ID
			tp, err := db.UserThirdPartyID.Create().SetTenantID(f.id).SetUserID(a.id).SetSystemName("phone").
				SetThirdPartyID("ext-" + a.id.String()).SetMetadata("private-of-" + a.id.String()).Save(f.sys)
			f.must(err)
			tpids[a.id] = tp.ID
		}
		const userFields = `... on User { id settings { frontendState } thirdPartyIds { thirdPartyID metadata } }`
		read := func(as actor, q string, vars map[string]any) string {
			t.Helper()
			res, out := g.graphql(as, q, vars)
			// Another's row itself (node(id) of it) is unknown to the viewer.
			if c := out.codes(); res.Status != http.StatusOK || len(c) > 0 && (len(c) > 1 || c[0] != "NOT_FOUND") {
				t.Fatalf("%s as %s: %d %s", q, as.name, res.Status, res.Body)
			}
			return string(res.Body)
		}
		byNode := `query($id: ID!) { node(id: $id) { ` + userFields + ` } }`
		page := `{ users(first: 100) { edges { node { ` + userFields + ` } } } }`
		for _, c := range []struct {
			as       actor
			own      uuid.UUID
			readsAll bool
		}{{f.user, f.user.id, false}, {f.sales1, f.sales1.id, false}, {f.manager, uuid.Nil, true}, {f.admin, uuid.Nil, true}} {
			for _, owner := range []uuid.UUID{f.user.id, f.sales1.id} {
				visible := c.readsAll || owner == c.own
				state, meta := "state-of-"+owner.String(), "private-of-"+owner.String()
				for _, r := range []struct {
					got  string
					want []string
				}{
					{read(c.as, byNode, map[string]any{"id": owner}), []string{state, meta}},
					{read(c.as, page, nil), []string{state, meta}},
					{read(c.as, `query($id: ID!) { node(id: $id) { ... on UserSettings { frontendState } } }`,
						map[string]any{"id": settings[owner]}), []string{state}},
					{read(c.as, `query($id: ID!) { node(id: $id) { ... on UserThirdPartyID { metadata } } }`,
						map[string]any{"id": tpids[owner]}), []string{meta}},
				} {
					for _, p := range r.want {
						if strings.Contains(r.got, p) != visible {
							t.Errorf("%s reading %s: %q visible %v, want %v: %s", c.as.name, owner, p, !visible, visible, r.got)
						}
					}
				}
			}
		}
		// A USER's own user node answers their settings; another user's, null
		// settings and no third-party ids (not an error: the rows are not theirs).
		var out struct {
			Data struct {
				Node struct {
					Settings      *struct{ FrontendState string }
					ThirdPartyIds []any
				}
			}
		}
		res, _ := g.graphql(f.user, byNode, map[string]any{"id": f.sales1.id})
		if err := json.Unmarshal(res.Body, &out); err != nil || out.Data.Node.Settings != nil || len(out.Data.Node.ThirdPartyIds) != 0 {
			t.Fatalf("USER reading another user: %s", res.Body)
		}
		res, _ = g.graphql(f.user, byNode, map[string]any{"id": f.user.id})
		if err := json.Unmarshal(res.Body, &out); err != nil || out.Data.Node.Settings == nil || len(out.Data.Node.ThirdPartyIds) != 1 {
			t.Fatalf("USER reading themselves: %s", res.Body)
		}
	})
}
