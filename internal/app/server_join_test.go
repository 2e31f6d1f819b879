package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	entaccount "github.com/conecrm/gateway/ent/account"
	entcontact "github.com/conecrm/gateway/ent/contact"
	entlead "github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/internal/auth"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/authtest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// Eager-loaded to-one edges are read by LEFT JOINs of their parent's
// statement (ent/template/join.tmpl) with the target query's own
// interceptor predicates. Whatever the viewer and the rows, the answers are
// the ones the separate eager loads give: the same requests through a
// gateway that never joins (ent.WithoutJoins) answer the same bytes, on
// both transports — for viewers with every permission, with the owner
// rule, without the edges' read permissions and without any — over a
// soft-deleted contact, another tenant's account and creator behind a
// lead's foreign keys, and selections nested under a joined edge.
func TestJoinedEdgesAnswerAsTheirOwnQueries(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fx := newFixture(t, db)
		f, other := fx.demo, fx.other

		// A lead whose contact is soft-deleted.
		gone, err := db.Contact.Create().SetTenantID(f.id).SetFirstName("Gone").SetLastName("Contact").Save(f.sys)
		f.must(err)
		deletedContact, err := db.Lead.Create().SetTenantID(f.id).SetSubject(f.name("Join: deleted contact")).SetContactID(gone.ID).
			SetDepartmentID(f.department).SetFranchiseID(f.franchise).SetSourceID(f.source).Save(f.sys)
		f.must(err)
		f.must(db.Contact.DeleteOneID(gone.ID).Exec(f.sys))
		// A lead whose account and creator are another tenant's (written
		// raw: no write path of the gateway lets them in).
		foreign := f.newLead()
		f.must(db.Lead.UpdateOneID(foreign).SetAccountID(other.newAccount()).Exec(f.sys))
		f.must(db.Lead.UpdateOneID(foreign).SetStageID(f.newStage()).Exec(f.sys))
		f.must(db.Task.UpdateOneID(f.newTask(f.admin, f.user.id)).SetConnectionID(foreign).Exec(f.sys))
		execSQL(t, db, "UPDATE leads SET created_by_id = $1 WHERE id = $2", other.admin.id, foreign)
		viewers := []actor{
			f.admin, f.manager, f.user, f.noRole,
			f.roleUser("join-leads-only", []string{crm.PermLeadRead}),
			f.roleUser("join-no-users", []string{crm.PermLeadRead, crm.PermContactRead, crm.PermAccountRead, crm.PermTaskRead}),
		}

		joined := startGateway(t, db)
		separate := &gateway{Server: authtest.Start(t, db, auth.Config{Secret: authtest.Secret}, withoutJoins(routes(db, slog.New(slog.NewTextHandler(io.Discard, nil))))), t: t}

		lead := `id subject contact { firstName lastName } account { name } stage { name }
			assignees { displayName } createdBy { displayName }`
		graphql := []string{
			`{ leads(first: 50) { edges { node { ` + lead + ` } } } }`,
			// Nested selections under to-one edges (their own loads).
			`{ leads(first: 50) { edges { node { id contact { firstName createdBy { displayName } accounts { name } }
				account { name primaryContact { firstName } } stage { name createdBy { displayName } } } } } }`,
			`{ tasks(first: 50) { edges { node { title contact { firstName } account { name }
				connection { subject contact { lastName } account { name } } } } } }`,
			`{ accounts(first: 20) { edges { node { name primaryContact { firstName createdBy { displayName } }
				contacts { firstName leads(first: 3) { edges { node { subject stage { name } createdBy { displayName } } } } } } } } }`,
			`{ users(first: 50) { edges { node { displayName settings { dueDateDisplayType user { displayName } createdBy { displayName } } } } } }`,
		}
		for _, id := range []uuid.UUID{deletedContact.ID, foreign, f.lead} {
			graphql = append(graphql, `{ node(id: "`+id.String()+`") { ... on Lead { `+lead+` } } }`)
		}
		rest := []string{"/api/account", "/api/contact", "/api/note", "/api/stage",
			"/api/contact/" + f.contact.String() + "/lead/open", "/api/contact/" + gone.ID.String() + "/lead/open"}

		for _, v := range viewers {
			for _, q := range graphql {
				a, b := joined.do(v, http.MethodPost, "/graphql", map[string]any{"query": q}), separate.do(v, http.MethodPost, "/graphql", map[string]any{"query": q})
				if a.Status != b.Status || !bytes.Equal(a.Body, b.Body) {
					t.Errorf("%s: %s\njoined:   %d %s\nseparate: %d %s", v.name, q, a.Status, a.Body, b.Status, b.Body)
				}
			}
			for _, path := range rest {
				a, b := joined.do(v, http.MethodGet, path, nil), separate.do(v, http.MethodGet, path, nil)
				if a.Status != b.Status || !bytes.Equal(a.Body, b.Body) {
					t.Errorf("%s: GET %s\njoined:   %d %s\nseparate: %d %s", v.name, path, a.Status, a.Body, b.Status, b.Body)
				}
			}
		}

		// What the answers are: a row the edge's own query would not
		// return is null, and the joins did happen.
		var out struct {
			Data map[string]*struct {
				Contact, Account, CreatedBy *struct{ FirstName, Name, DisplayName string }
				Stage                       *struct{ Name string }
			}
		}
		for _, id := range []uuid.UUID{deletedContact.ID, foreign} {
			res := joined.do(f.admin, http.MethodPost, "/graphql", map[string]any{"query": `{ node(id: "` + id.String() + `") { ... on Lead { ` + lead + ` } } }`})
			if err := json.Unmarshal(res.Body, &out); err != nil || out.Data["node"] == nil {
				t.Fatalf("node %s: %s", id, res.Body)
			}
			n := out.Data["node"]
			switch id {
			case deletedContact.ID:
				if n.Contact != nil {
					t.Errorf("a soft-deleted contact is read through a lead: %s", res.Body)
				}
			case foreign:
				if n.Account != nil || n.CreatedBy != nil || n.Stage == nil || n.Contact == nil {
					t.Errorf("another tenant's account or creator is read through a lead (or the own stage/contact is not): %s", res.Body)
				}
			}
		}
		screen := map[string]any{"query": graphql[0]}
		before := db.Counter.Total()
		joined.do(f.admin, http.MethodPost, "/graphql", screen)
		withJoins := db.Counter.Total() - before
		before = db.Counter.Total()
		separate.do(f.admin, http.MethodPost, "/graphql", screen)
		if without := db.Counter.Total() - before; withJoins != without-4 {
			t.Errorf("the lead screen cost %d statements joined and %d separately, want 4 fewer (contact, account, stage, createdBy)", withJoins, without)
		}
	})
}

// withoutJoins makes every route's queries load each edge separately.
func withoutJoins(routes map[string]http.Handler) map[string]http.Handler {
	out := make(map[string]http.Handler, len(routes))
	for p, h := range routes {
		out[p] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r.WithContext(ent.WithoutJoins(r.Context())))
		})
	}
	return out
}

// The joins run the edge's interceptors with the query's own context, so
// tenancy.WithDeleted, tenancy.Bypass and registry.Unchecked mean for a
// joined edge what they mean for its separate load: a soft-deleted contact
// is read with WithDeleted, another tenant's account under Bypass, and a
// viewer without contact.read reads it Unchecked — in one statement.
func TestJoinedEdgesHonourTheQueryContext(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fx := newFixture(t, db)
		f, other := fx.demo, fx.other
		gone, err := db.Contact.Create().SetTenantID(f.id).SetFirstName("Gone").SetLastName("Contact").Save(f.sys)
		f.must(err)
		l := f.newLead()
		f.must(db.Lead.UpdateOneID(l).SetContactID(gone.ID).SetAccountID(other.newAccount()).Exec(f.sys))
		f.must(db.Contact.DeleteOneID(gone.ID).Exec(f.sys))
		leadsOnly := f.roleUser("join-ctx-leads-only", []string{crm.PermLeadRead})

		for _, c := range []struct {
			name             string
			ctx              context.Context
			contact, account bool // read
			err              bool
		}{
			{"viewer", storetest.AsID(t, db, f.admin.id), false, false, false},
			{"viewer WithDeleted", tenancy.WithDeleted(storetest.AsID(t, db, f.admin.id)), true, false, false},
			{"Bypass", tenancy.Bypass(context.Background()), false, true, false},
			{"Bypass WithDeleted", tenancy.WithDeleted(tenancy.Bypass(context.Background())), true, true, false},
			{"no contact.read", storetest.AsID(t, db, leadsOnly.id), false, false, true},
			{"no contact.read, Unchecked", registry.Unchecked(storetest.AsID(t, db, leadsOnly.id)), false, false, false},
			{"no contact.read, Unchecked WithDeleted", tenancy.WithDeleted(registry.Unchecked(storetest.AsID(t, db, leadsOnly.id))), true, false, false},
		} {
			read := func(ctx context.Context) (*ent.Lead, int64, error) {
				before := db.Counter.Total()
				n, err := db.Lead.Query().Where(entlead.ID(l)).WithContact().WithAccount().Only(ctx)
				return n, db.Counter.Total() - before, err
			}
			joined, statements, err := read(c.ctx)
			separate, _, serr := read(ent.WithoutJoins(c.ctx))
			if (err != nil) != c.err || (serr != nil) != c.err {
				t.Errorf("%s: joined %v, separate %v, want an error: %v", c.name, err, serr, c.err)
				continue
			}
			if c.err {
				continue
			}
			if got := joined.Edges.Contact != nil; got != c.contact || (separate.Edges.Contact != nil) != c.contact {
				t.Errorf("%s: contact read joined %v, separately %v, want %v", c.name, got, separate.Edges.Contact != nil, c.contact)
			}
			if got := joined.Edges.Account != nil; got != c.account || (separate.Edges.Account != nil) != c.account {
				t.Errorf("%s: account read joined %v, separately %v, want %v", c.name, got, separate.Edges.Account != nil, c.account)
			}
			if _, err := joined.Edges.ContactOrErr(); err != nil && !ent.IsNotFound(err) {
				t.Errorf("%s: the joined contact edge is not loaded: %v", c.name, err)
			}
			if statements != 1 {
				t.Errorf("%s: a lead with its contact and account cost %d statements, want 1", c.name, statements)
			}
		}
	})
}

// An edge query that is more than its predicates is loaded by a statement
// of its own, with the same answer: a nested eager load, a limit, a
// predicate that joins; a predicate with a subquery is still a condition
// and is joined.
func TestEdgesThatCannotBeJoinedAreLoadedAlone(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := storetest.As(t, db, "admin@demo-motors.test")
		for _, c := range []struct {
			name       string
			opt        func(*ent.ContactQuery)
			statements int64 // with joins
		}{
			{"subquery predicate", func(q *ent.ContactQuery) { q.Where(entcontact.HasAccounts()) }, 1},
			{"nested eager load", func(q *ent.ContactQuery) { q.WithAccounts() }, 3},
			{"limit", func(q *ent.ContactQuery) { q.Limit(1000) }, 2},
			{"joining predicate", func(q *ent.ContactQuery) {
				q.Where(func(s *entsql.Selector) {
					a := entsql.Table(entaccount.Table)
					s.Join(a).On(s.C(entcontact.FieldID), a.C(entaccount.FieldPrimaryContactID))
				})
			}, 2},
		} {
			read := func(ctx context.Context) ([]*ent.Lead, int64) {
				before := db.Counter.Total()
				ls, err := db.Lead.Query().Order(entlead.ByID()).Limit(20).WithContact(c.opt).All(ctx)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				return ls, db.Counter.Total() - before
			}
			joined, n := read(ctx)
			separate, _ := read(ent.WithoutJoins(ctx))
			if n != c.statements {
				t.Errorf("%s: %d statements, want %d", c.name, n, c.statements)
			}
			for i := range joined {
				a, b := joined[i].Edges.Contact, separate[i].Edges.Contact
				if (a == nil) != (b == nil) || a != nil && (a.ID != b.ID || a.LastName != b.LastName || len(a.Edges.Accounts) != len(b.Edges.Accounts)) {
					t.Errorf("%s: lead %s has contact %+v joined, %+v separately", c.name, joined[i].ID, a, b)
				}
			}
		}
	})
}
