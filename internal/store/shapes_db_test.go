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
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/ent/usersettings"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

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
		sys := tenancy.Bypass(context.Background())
		adminA := storetest.As(t, db, "admin@demo-motors.test")
		userA := storetest.As(t, db, "user@demo-motors.test")
		viewers := map[string]context.Context{
			"admin A":            adminA,
			"admin B":            storetest.As(t, db, "admin@northwind-auto.test"),
			"user A":             userA,
			"admin A, deleted":   tenancy.WithDeleted(adminA),
			"user A, unchecked":  registry.Unchecked(userA),
			"system":             sys,
			"system, deleted":    tenancy.WithDeleted(sys),
			"user A, deleted":    tenancy.WithDeleted(userA),
			"admin B, unchecked": registry.Unchecked(storetest.As(t, db, "admin@northwind-auto.test")),
		}
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
		names := []string{"admin A", "admin B", "user A", "admin A, deleted", "user A, unchecked", "system",
			"system, deleted", "user A, deleted", "admin B, unchecked"}
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

// spyDriver keeps the text and arguments of the last query sent.
type spyDriver struct {
	dialect.Driver
	query string
	args  []any
}

func (d *spyDriver) Query(ctx context.Context, query string, args, v any) error {
	d.query = query
	d.args = slices.Clone(args.([]any))
	return d.Driver.Query(ctx, query, args, v)
}

func (d *spyDriver) last() (string, []any) {
	q, a := d.query, d.args
	d.query, d.args = "", nil
	return q, a
}
