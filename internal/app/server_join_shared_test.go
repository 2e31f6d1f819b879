package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	entlead "github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/internal/auth"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/authtest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// Rows that join the same relation share one node (ent/template/join.tmpl),
// as the rows of a separate eager load always did: the lead screen's 50
// rows join 1 creator and a handful of stages. A shared node answers every
// parent alike, its nested selections too — a loader-backed field
// (customFieldValues) resolved under each parent, nested eager loads (which
// keep the edge's separate load) — and the same bytes as without joins.
func TestJoinedEdgesAreOneNodePerID(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fx := newFixture(t, db)
		f := fx.demo
		account := f.newAccount()
		stage := f.newStage()
		field, err := db.CustomField.Create().SetTenantID(f.id).SetEntity("account").
			SetFieldName(strings.ReplaceAll(f.name("shared_field"), " ", "_")).SetFieldType("text").Save(f.sys)
		f.must(err)
		f.must(db.CustomFieldValue.Create().SetTenantID(f.id).SetFieldID(field.ID).SetRecordID(account).SetValue("shared value").Exec(f.sys))
		var ids []uuid.UUID
		for range 4 {
			l, err := db.Lead.Create().SetTenantID(f.id).SetSubject(f.name("Shared")).SetContactID(f.contact).SetAccountID(account).
				SetStageID(stage).SetCreatedByID(f.admin.id).SetDepartmentID(f.department).SetFranchiseID(f.franchise).SetSourceID(f.source).Save(f.sys)
			f.must(err)
			ids = append(ids, l.ID)
		}

		// In ent: one node per id, joined or loaded separately.
		ctx := storetest.AsID(t, db, f.admin.id)
		for name, ctx := range map[string]context.Context{"joined": ctx, "separate": ent.WithoutJoins(ctx)} {
			leads, err := db.Lead.Query().Where(entlead.IDIn(ids...)).WithContact().WithAccount().WithStage().WithCreatedBy().All(ctx)
			f.must(err)
			if len(leads) != len(ids) {
				t.Fatalf("%s: %d leads, want %d", name, len(leads), len(ids))
			}
			first := leads[0].Edges
			if first.Account == nil || first.Account.ID != account || first.Stage == nil || first.Stage.ID != stage ||
				first.CreatedBy == nil || first.CreatedBy.ID != f.admin.id || first.Contact == nil || first.Contact.ID != f.contact {
				t.Fatalf("%s: the first lead's relations: %+v", name, first)
			}
			for _, l := range leads[1:] {
				if l.Edges.Account != first.Account || l.Edges.Stage != first.Stage || l.Edges.CreatedBy != first.CreatedBy || l.Edges.Contact != first.Contact {
					t.Errorf("%s: lead %s has its own copy of a relation another lead shares", name, l.ID)
				}
			}
		}

		// Through HTTP: every parent answers the same, and as without joins.
		joined := startGateway(t, db)
		separate := &gateway{Server: authtest.Start(t, db, auth.Config{Secret: authtest.Secret}, withoutJoins(routes(db, slog.New(slog.NewTextHandler(io.Discard, nil))))), t: t}
		where := `where: {idIn: ["` + ids[0].String() + `", "` + ids[1].String() + `", "` + ids[2].String() + `", "` + ids[3].String() + `"]}`
		for _, q := range []string{
			// Joined and shared: account with a loader-backed field.
			`{ leads(first: 10, ` + where + `) { edges { node { id account { id name customFieldValues { value } }
				stage { id name } createdBy { id displayName isGroup } contact { id firstName } } } } }`,
			// Nested eager loads under the relations (their separate loads).
			`{ leads(first: 10, ` + where + `) { edges { node { id account { name customFieldValues { value } createdBy { displayName } }
				stage { name createdBy { displayName } } contact { firstName accounts { name } } createdBy { displayName } } } } }`,
		} {
			a := joined.do(f.admin, http.MethodPost, "/graphql", map[string]any{"query": q})
			b := separate.do(f.admin, http.MethodPost, "/graphql", map[string]any{"query": q})
			if a.Status != http.StatusOK || !bytes.Equal(a.Body, b.Body) {
				t.Errorf("%s\njoined:   %d %s\nseparate: %d %s", q, a.Status, a.Body, b.Status, b.Body)
			}
			var out struct {
				Data struct {
					Leads struct {
						Edges []struct {
							Node map[string]json.RawMessage
						}
					}
				}
				Errors []any
			}
			if err := json.Unmarshal(a.Body, &out); err != nil || len(out.Errors) > 0 || len(out.Data.Leads.Edges) != len(ids) {
				t.Fatalf("%s: %s", q, a.Body)
			}
			first := out.Data.Leads.Edges[0].Node
			if !bytes.Contains(first["account"], []byte(`"shared value"`)) {
				t.Errorf("the shared account lacks its custom field value: %s", first["account"])
			}
			for _, e := range out.Data.Leads.Edges[1:] {
				for _, k := range []string{"account", "stage", "createdBy", "contact"} {
					if !bytes.Equal(e.Node[k], first[k]) {
						t.Errorf("%s answers differently for two parents: %s, %s", k, first[k], e.Node[k])
					}
				}
			}
		}
	})
}

// The executor resolves eager-loaded object fields inline, without
// gqlgen's per-field closures (graph/gqlgen, objects.go), and a list's
// elements with field contexts allocated per list: an error below them
// still carries its whole path — the list indexes, every object field —
// and nulls only its own field.
func TestErrorsBelowInlineFieldsCarryTheirPath(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fx := newFixture(t, db)
		f := fx.demo
		account := f.newAccount()
		for range 2 {
			_, err := db.Lead.Create().SetTenantID(f.id).SetSubject(f.name("Path")).SetContactID(f.contact).SetAccountID(account).
				SetCreatedByID(f.admin.id).SetDepartmentID(f.department).SetFranchiseID(f.franchise).SetSourceID(f.source).Save(f.sys)
			f.must(err)
		}
		noUsers := f.roleUser("path-no-users", []string{crm.PermLeadRead, crm.PermContactRead, crm.PermAccountRead})
		g := startGateway(t, db)
		res, out := g.graphql(noUsers, `{ leads(first: 100, where: {accountID: "`+account.String()+`"}) { edges { node { subject account { name createdBy { displayName } } } } } }`, nil)
		var data struct {
			Edges []struct {
				Node struct {
					Subject string
					Account *struct {
						Name      string
						CreatedBy *struct{ DisplayName string }
					}
				}
			}
		}
		if err := json.Unmarshal(out.Data["leads"], &data); err != nil || len(data.Edges) != 2 {
			t.Fatalf("%d %s", res.Status, res.Body)
		}
		var paths []string
		for _, e := range out.Errors {
			if e.Extensions["code"] == "FORBIDDEN" {
				paths = append(paths, fmt.Sprint(e.Path))
			}
		}
		want := []string{"[leads edges 0 node account createdBy]", "[leads edges 1 node account createdBy]"}
		if !slices.Equal(paths, want) {
			t.Errorf("FORBIDDEN at %v, want %v: %s", paths, want, res.Body)
		}
		for _, e := range data.Edges {
			if e.Node.Subject == "" || e.Node.Account == nil || e.Node.Account.Name == "" || e.Node.Account.CreatedBy != nil {
				t.Errorf("a lead without users' permission: %+v, want its account with a null createdBy: %s", e.Node, res.Body)
			}
		}
	})
}
