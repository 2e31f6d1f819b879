package schema

import (
	"context"
	"errors"
	"fmt"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	gen "github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/viewer"
)

func (r record) Interceptors() []ent.Interceptor {
	return []ent.Interceptor{
		ent.TraverseFunc(func(ctx context.Context, q ent.Query) error {
			c, ok := q.(conds)
			if !ok {
				return fmt.Errorf("schema: unexpected query type %T", q)
			}
			if err := readable(ctx, r.table, c); err != nil {
				return err
			}
			return scope(ctx, c)
		}),
	}
}

// readPolicy is the read check alone, for the global tables.
func readPolicy(table string) []ent.Interceptor {
	return []ent.Interceptor{
		ent.TraverseFunc(func(ctx context.Context, q ent.Query) error {
			c, ok := q.(conds)
			if !ok {
				return fmt.Errorf("schema: unexpected query type %T", q)
			}
			return readable(ctx, table, c)
		}),
	}
}

// conds is what the policy restricts, by equality conditions. A query
// keeps them described (ent/template/shapes.tmpl), so a statement made of
// such conditions is rendered once per shape.
type conds interface {
	WhereEQ(column string, value any)
}

// mutationConds restricts an update/delete mutation by the same
// conditions.
type mutationConds struct {
	m interface{ WhereP(...func(*sql.Selector)) }
}

func (c mutationConds) WhereEQ(column string, value any) { c.m.WhereP(sql.FieldEQ(column, value)) }

// readable applies the registry's read policy (internal/registry) to a
// query of table: the read permission first, so a forbidden query fails
// before any SQL whatever path built it (root, edge, eager load, loader,
// node, filter subquery); then the owner rule of per-user rows.
func readable(ctx context.Context, table string, q conds) error {
	if err := registry.CheckRead(ctx, table); err != nil {
		return err
	}
	if column, user, ok := registry.Owner(ctx, table); ok {
		q.WhereEQ(column, user)
	}
	return nil
}

// scope restricts q (a query or an update/delete mutation) to the viewer's
// tenant and to live rows.
func scope(ctx context.Context, q conds) error {
	live := !tenancy.IncludesDeleted(ctx)
	if tenancy.IsBypassed(ctx) {
		if live {
			q.WhereEQ("is_deleted", false)
		}
		return nil
	}
	v := viewer.FromContext(ctx)
	if v == nil {
		return tenancy.ErrNoViewer
	}
	if live {
		q.WhereEQ("is_deleted", false)
	}
	q.WhereEQ("tenant_id", v.TenantID)
	return nil
}

// mutation is what every generated mutation of a record offers.
type mutation interface {
	ent.Mutation
	WhereP(...func(*sql.Selector))
	SetOp(ent.Op)
	Client() *gen.Client
}

func (r record) Hooks() []ent.Hook {
	return []ent.Hook{
		func(next ent.Mutator) ent.Mutator {
			return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
				mx, ok := m.(mutation)
				if !ok {
					return nil, fmt.Errorf("schema: unexpected mutation type %T", m)
				}
				v := viewer.FromContext(ctx)
				if v == nil && !tenancy.IsBypassed(ctx) {
					return nil, tenancy.ErrNoViewer
				}
				if m.Op().Is(ent.OpCreate) {
					if err := stampCreate(ctx, mx, v); err != nil {
						return nil, err
					}
				} else {
					if err := scope(ctx, mutationConds{mx}); err != nil {
						return nil, err
					}
				}
				if m.Op().Is(ent.OpDelete | ent.OpDeleteOne) {
					return softDelete(ctx, mx, v)
				}
				if m.Op().Is(ent.OpUpdate | ent.OpUpdateOne) {
					_ = mx.SetField("date_modified", now())
					if v != nil {
						_ = mx.SetField("modified_by_id", v.UserID)
					}
				}
				// System work under tenancy.Bypass (seeding) is trusted: it
				// writes whole tenants in batches and skips the per-row check.
				if !tenancy.IsBypassed(ctx) {
					if err := checkReferences(ctx, mx); err != nil {
						return nil, err
					}
					// Its rows and added edges are all of the viewer's
					// tenant (above): a write of the viewer tables then
					// ends only that tenant's cached viewers (internal/
					// store's write detector reads the mark).
					ctx = tenancy.WithWriteTenant(ctx, v.TenantID)
				}
				return next.Mutate(ctx, m)
			})
		},
	}
}

func stampCreate(ctx context.Context, m mutation, v *viewer.Viewer) error {
	if _, set := m.Field("date_created"); !set {
		_ = m.SetField("date_created", now())
	}
	if v == nil { // bypass: system work sets the tenant itself
		if _, set := m.Field("tenant_id"); !set {
			return fmt.Errorf("schema: %s created without tenant", m.Type())
		}
		return nil
	}
	if t, set := m.Field("tenant_id"); set && t.(uuid.UUID) != v.TenantID {
		return ErrCrossTenant
	}
	_ = m.SetField("tenant_id", v.TenantID)
	if _, set := m.Field("created_by_id"); !set {
		_ = m.SetField("created_by_id", v.UserID)
	}
	return nil
}

// ErrCrossTenant is returned for a write that names a row of another tenant
// (or one that does not exist): callers answer it as "not found".
var ErrCrossTenant = errors.New("schema: referenced record not found")

func softDelete(ctx context.Context, m mutation, v *viewer.Viewer) (ent.Value, error) {
	m.SetOp(ent.OpUpdate)
	_ = m.SetField("is_deleted", true)
	_ = m.SetField("date_deleted", now())
	if v != nil {
		_ = m.SetField("deleted_by_id", v.UserID)
	}
	return m.Client().Mutate(ctx, m)
}

// isAuditEdge reports whether name is one of the audit edges, which the
// hooks stamp from the viewer itself: checking them would cost a statement
// per write and prove nothing.
func isAuditEdge(name string) bool {
	for _, a := range auditEdges {
		if a.edge == name {
			return true
		}
	}
	return false
}

// checkReferences verifies that every other edge the write adds points at a live
// row visible to the caller (same tenant, not deleted). Rows are counted
// through the normal, scoped query path: one statement per target table.
func checkReferences(ctx context.Context, m mutation) error {
	byTable := map[string]map[uuid.UUID]bool{}
	for _, name := range m.AddedEdges() {
		if isAuditEdge(name) {
			continue
		}
		for _, id := range m.AddedIDs(name) {
			u, ok := id.(uuid.UUID)
			if !ok {
				continue
			}
			t := registry.TableOf(u)
			if t == "" {
				return ErrCrossTenant
			}
			if byTable[t] == nil {
				byTable[t] = map[uuid.UUID]bool{}
			}
			byTable[t][u] = true
		}
	}
	for t, set := range byTable {
		list := make([]uuid.UUID, 0, len(set))
		for u := range set {
			list = append(list, u)
		}
		// Existence, not reading: the viewer's read permissions are not asked.
		n, err := m.Client().CountVisible(registry.Unchecked(ctx), t, list)
		if err != nil {
			return err
		}
		if n != len(list) {
			return ErrCrossTenant
		}
	}
	return nil
}
