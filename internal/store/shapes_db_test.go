package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/ent/contact"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/ent/usersettings"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// memoViewers are the viewers the shape memo's tests query as, in the
// order they take turns: two tenants' administrators, a USER under the
// owner rule, viewers shown deleted rows, the domain's unchecked reads and
// system work.
func memoViewers(t *testing.T, db *store.DB) (map[string]context.Context, []string) {
	sys := tenancy.Bypass(context.Background())
	adminA := storetest.As(t, db, "admin@demo-motors.test")
	adminB := storetest.As(t, db, "admin@northwind-auto.test")
	userA := storetest.As(t, db, "user@demo-motors.test")
	viewers := map[string]context.Context{
		"admin A":            adminA,
		"admin B":            adminB,
		"user A":             userA,
		"admin A, deleted":   tenancy.WithDeleted(adminA),
		"user A, unchecked":  registry.Unchecked(userA),
		"system":             sys,
		"system, deleted":    tenancy.WithDeleted(sys),
		"user A, deleted":    tenancy.WithDeleted(userA),
		"admin B, unchecked": registry.Unchecked(adminB),
	}
	return viewers, []string{"admin A", "admin B", "user A", "admin A, deleted", "user A, unchecked", "system",
		"system, deleted", "user A, deleted", "admin B, unchecked"}
}

// The node's statement is rendered once per shape (ent/template/
// shapes.tmpl) and sent with each query's own values. For viewers of two
// tenants, a USER under the owner rule, a viewer shown deleted rows, the
// domain's unchecked reads and system work, in turns (so every shape is
// served from the memo after its first query, whoever made it), it is
// exactly the statement and the arguments sqlgraph renders for the same
// query, with the same answer.
func TestNodeStatementsFromTheShapeMemoAreSQLGraphs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		spy := &spyDriver{Driver: entsql.OpenDB(db.Dialect, db.SQL)}
		c := ent.NewClient(ent.Driver(spy))
		viewers, names := memoViewers(t, db)
		adminA, sys := viewers["admin A"], viewers["system"]
		accounts := db.Account.Query().Order(account.ByID()).Limit(2).AllX(adminA)
		live, deleted := accounts[0].ID, accounts[1].ID
		if err := db.Account.DeleteOneID(deleted).Exec(adminA); err != nil {
			t.Fatal(err)
		}
		settingsOf := func(email string) uuid.UUID {
			return db.UserSettings.Query().Where(usersettings.HasUserWith(user.Email(email))).OnlyIDX(sys)
		}
		targets := []struct {
			table string
			id    uuid.UUID
			// the node's query as it was before the memo: its id an
			// undescribed predicate, so sqlgraph renders it
			rendered func(ctx context.Context, id uuid.UUID) (ent.Noder, error)
		}{
			{account.Table, live, func(ctx context.Context, id uuid.UUID) (ent.Noder, error) {
				return c.Account.Query().Where(account.ID(id)).Only(ctx)
			}},
			{account.Table, deleted, func(ctx context.Context, id uuid.UUID) (ent.Noder, error) {
				return c.Account.Query().Where(account.ID(id)).Only(ctx)
			}},
			{usersettings.Table, settingsOf("user@demo-motors.test"), func(ctx context.Context, id uuid.UUID) (ent.Noder, error) {
				return c.UserSettings.Query().Where(usersettings.ID(id)).Only(ctx)
			}},
			{usersettings.Table, settingsOf("manager@demo-motors.test"), func(ctx context.Context, id uuid.UUID) (ent.Noder, error) {
				return c.UserSettings.Query().Where(usersettings.ID(id)).Only(ctx)
			}},
		}
		found := map[string]bool{}
		for round := range 2 {
			for _, name := range names {
				ctx := viewers[name]
				for _, tg := range targets {
					got, gotErr := c.Noder(ctx, tg.id, ent.WithFixedNodeType(tg.table))
					gotQuery, gotArgs := spy.last()
					want, wantErr := tg.rendered(ctx, tg.id)
					wantQuery, wantArgs := spy.last()
					if gotErr != nil || wantErr != nil {
						gotQuery, wantQuery = "", "" // a forbidden read sends none
					}
					if gotQuery != wantQuery || !slices.Equal(gotArgs, wantArgs) {
						t.Errorf("round %d, %s, %s %s: sent %s %v, sqlgraph renders %s %v",
							round, name, tg.table, tg.id, gotQuery, gotArgs, wantQuery, wantArgs)
					}
					if !sameAnswer(got, gotErr, want, wantErr) {
						t.Errorf("round %d, %s, %s %s: answered %v, %v; sqlgraph's query %v, %v",
							round, name, tg.table, tg.id, got, gotErr, want, wantErr)
					}
					found[name+" "+tg.id.String()] = gotErr == nil
				}
			}
		}
		// The cases differ where the policy says they do.
		for _, c := range []struct {
			viewer string
			id     uuid.UUID
			found  bool
		}{
			{"admin A", live, true}, {"admin B", live, false}, {"admin A", deleted, false},
			{"admin A, deleted", deleted, true}, {"system", live, true}, {"system", deleted, false},
			{"system, deleted", deleted, true},
			{"user A", targets[2].id, true}, {"user A", targets[3].id, false},
			{"user A, unchecked", targets[3].id, true}, {"admin B, unchecked", live, false},
		} {
			if found[c.viewer+" "+c.id.String()] != c.found {
				t.Errorf("%s reading %s: found %v, want %v", c.viewer, c.id, !c.found, c.found)
			}
		}
		// And the memo serves them: the node costs far fewer allocations
		// than the query sqlgraph renders.
		memo := testing.AllocsPerRun(50, func() { _, _ = c.Noder(adminA, live, ent.WithFixedNodeType(account.Table)) })
		rendered := testing.AllocsPerRun(50, func() { _, _ = targets[0].rendered(adminA, live) })
		if memo > rendered-30 {
			t.Errorf("the node from the memo costs %.0f allocations, rendered %.0f: not served from the memo", memo, rendered)
		}
	})
}

// A page of leads with its to-one relations joined (the lead screen's
// statement: described conditions, order terms and joins) is rendered
// once per shape too. For the viewers of the node's test, in turns, with
// a lead whose contact is deleted (joined as NULLs unless the viewer is
// shown deleted rows), with and without a condition of the contacts' own,
// ascending and descending, by id and by subject then id, every statement
// sent is exactly what sqlgraph renders for the same query with its order
// undescribed, with the same answer.
func TestLeadPageStatementsFromTheShapeMemoAreSQLGraphs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		spy := &spyDriver{Driver: entsql.OpenDB(db.Dialect, db.SQL)}
		c := ent.NewClient(ent.Driver(spy))
		viewers, names := memoViewers(t, db)
		adminA := viewers["admin A"]
		withContact := db.Lead.Query().Where(lead.ContactIDNotNil()).Order(lead.ByID()).FirstX(adminA)
		if err := db.Contact.DeleteOneID(*withContact.ContactID).Exec(adminA); err != nil {
			t.Fatal(err)
		}
		// Two pages whose leads' conditions are the same and whose
		// contacts' are not: one asks for the contacts of one name only.
		named := db.Contact.GetX(adminA, *db.Lead.Query().Where(lead.ContactIDNotNil(), lead.ContactIDNEQ(*withContact.ContactID)).
			Order(lead.ByID()).FirstX(adminA).ContactID).LastName
		pages := []func(q *ent.LeadQuery) *ent.LeadQuery{
			func(q *ent.LeadQuery) *ent.LeadQuery {
				return q.WithContact().WithAccount().WithStage().WithCreatedBy().Limit(51)
			},
			func(q *ent.LeadQuery) *ent.LeadQuery {
				return q.WithContact(func(q *ent.ContactQuery) { q.WhereEQ(contact.FieldLastName, named) }).
					WithAccount().WithStage().WithCreatedBy().Limit(51)
			},
		}
		page := pages[0]
		orders := []struct {
			name     string
			memo     func(*ent.LeadQuery) *ent.LeadQuery
			rendered func(*ent.LeadQuery) *ent.LeadQuery
		}{
			{"id", func(q *ent.LeadQuery) *ent.LeadQuery { return q.OrderByColumn(lead.FieldID, false) },
				func(q *ent.LeadQuery) *ent.LeadQuery { return q.Order(lead.ByID()) }},
			{"id desc", func(q *ent.LeadQuery) *ent.LeadQuery { return q.OrderByColumn(lead.FieldID, true) },
				func(q *ent.LeadQuery) *ent.LeadQuery { return q.Order(lead.ByID(entsql.OrderDesc())) }},
			{"subject desc, id", func(q *ent.LeadQuery) *ent.LeadQuery {
				return q.OrderByColumn(lead.FieldSubject, true).OrderByColumn(lead.FieldID, false)
			}, func(q *ent.LeadQuery) *ent.LeadQuery {
				return q.Order(lead.BySubject(entsql.OrderDesc()), lead.ByID())
			}},
		}
		contactOf := map[string]bool{}
		for round := range 2 {
			for _, name := range names {
				ctx := viewers[name]
				for i, page := range pages {
					for _, o := range orders {
						got, gotErr := o.memo(page(c.Lead.Query())).All(ctx)
						gotSent := spy.sent()
						want, wantErr := o.rendered(page(c.Lead.Query())).All(ctx)
						wantSent := spy.sent()
						if !slices.EqualFunc(gotSent, wantSent, func(a, b sentQuery) bool {
							return a.query == b.query && slices.Equal(a.args, b.args)
						}) {
							t.Errorf("round %d, %s, page %d by %s: sent %v, sqlgraph renders %v", round, name, i, o.name, gotSent, wantSent)
						}
						if (gotErr == nil) != (wantErr == nil) || !samePage(got, want) {
							t.Errorf("round %d, %s, page %d by %s: answered %d leads, %v; sqlgraph's query %d, %v",
								round, name, i, o.name, len(got), gotErr, len(want), wantErr)
						}
						for _, l := range got {
							if i == 0 && l.ID == withContact.ID {
								contactOf[name] = l.Edges.Contact != nil
							}
						}
					}
				}
			}
		}
		// The deleted contact joins where the policy says it does.
		for name, want := range map[string]bool{"admin A": false, "admin A, deleted": true, "system": false, "system, deleted": true} {
			if got, ok := contactOf[name]; !ok || got != want {
				t.Errorf("%s: the lead with the deleted contact read (%v) with its contact %v, want %v", name, ok, got, want)
			}
		}
		if _, ok := contactOf["admin B"]; ok {
			t.Error("admin B read a lead of tenant A")
		}
		// And the memo serves them.
		memo := testing.AllocsPerRun(20, func() { _, _ = orders[0].memo(page(c.Lead.Query())).All(adminA) })
		rendered := testing.AllocsPerRun(20, func() { _, _ = orders[0].rendered(page(c.Lead.Query())).All(adminA) })
		if memo > rendered-100 {
			t.Errorf("the page from the memo costs %.0f allocations, rendered %.0f: not served from the memo", memo, rendered)
		}
	})
}

// samePage reports whether two pages are the same leads, in the same
// order, with the same relations.
func samePage(got, want []*ent.Lead) bool {
	return slices.EqualFunc(got, want, func(g, w *ent.Lead) bool {
		e, f := g.Edges, w.Edges
		return g.ID == w.ID && g.TenantID == w.TenantID && g.Subject == w.Subject &&
			sameEdge(e.Contact, f.Contact, func(n *ent.Contact) uuid.UUID { return n.ID }) &&
			sameEdge(e.Account, f.Account, func(n *ent.Account) uuid.UUID { return n.ID }) &&
			sameEdge(e.Stage, f.Stage, func(n *ent.ConnectionStage) uuid.UUID { return n.ID }) &&
			sameEdge(e.CreatedBy, f.CreatedBy, func(n *ent.User) uuid.UUID { return n.ID })
	})
}

func sameEdge[N any](a, b *N, id func(*N) uuid.UUID) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return id(a) == id(b)
}

func sameAnswer(got ent.Noder, gotErr error, want ent.Noder, wantErr error) bool {
	if gotErr != nil || wantErr != nil {
		var gf, wf *registry.ForbiddenError
		return ent.IsNotFound(gotErr) == ent.IsNotFound(wantErr) && errors.As(gotErr, &gf) == errors.As(wantErr, &wf) &&
			(gotErr == nil) == (wantErr == nil)
	}
	switch g := got.(type) {
	case *ent.Account:
		w, ok := want.(*ent.Account)
		return ok && g.ID == w.ID && g.TenantID == w.TenantID && g.Name == w.Name && g.IsDeleted == w.IsDeleted
	case *ent.UserSettings:
		w, ok := want.(*ent.UserSettings)
		return ok && g.ID == w.ID && g.TenantID == w.TenantID && g.FrontendState == w.FrontendState
	}
	return false
}

// spyDriver keeps the text and arguments of the queries sent.
type spyDriver struct {
	dialect.Driver
	queries []sentQuery
}

type sentQuery struct {
	query string
	args  []any
}

func (d *spyDriver) Query(ctx context.Context, query string, args, v any) error {
	d.queries = append(d.queries, sentQuery{query, slices.Clone(args.([]any))})
	return d.Driver.Query(ctx, query, args, v)
}

// last returns the last query sent and forgets them all.
func (d *spyDriver) last() (string, []any) {
	var q sentQuery
	if n := len(d.queries); n > 0 {
		q = d.queries[n-1]
	}
	d.queries = nil
	return q.query, q.args
}

// sent returns the queries sent and forgets them.
func (d *spyDriver) sent() []sentQuery {
	q := d.queries
	d.queries = nil
	return q
}
