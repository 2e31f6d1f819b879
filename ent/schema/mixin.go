package schema

import (
	"fmt"
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/ids"
	"github.com/conecrm/gateway/internal/registry"
)

// record is the spec's IdEntity + BaseRecord for a tenant-owned row: a typed
// UUIDv7 id, the tenant, audit fields, the soft-delete columns and dtype.
// Its interceptor and hooks are what make tenancy impossible to forget:
//   - every query and update/delete is filtered to the viewer's tenant and,
//     unless tenancy.WithDeleted, to rows that are not soft-deleted;
//   - creates are stamped with the viewer's tenant; a different one is denied;
//   - every edge a write adds must point at a live row of the same tenant;
//   - deletes become updates that record who deleted the row and when.
type record struct {
	mixin.Schema
	entity string
	typ    uint16
	table  string
	dtype  string
}

// Record returns the mixin for a tenant-owned entity, by its ent type name,
// whose dtype is dtype. Its table and the type code its ids carry are the
// entity registry's (internal/registry), so an entity must be registered
// before it can be generated.
func Record(entity, dtype string) ent.Mixin {
	e := registry.ByType(entity)
	if e == nil {
		panic(fmt.Sprintf("schema: %s is not in internal/registry.Entities", entity))
	}
	return record{entity: entity, typ: e.Code, table: e.Table, dtype: dtype}
}

func (r record) Annotations() []schema.Annotation {
	return []schema.Annotation{entsql.Annotation{Table: r.table}}
}

func (r record) Fields() []ent.Field {
	typ := r.typ
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(func() uuid.UUID { return ids.New(typ) }).Immutable(),
		field.UUID("tenant_id", uuid.UUID{}).Immutable().Annotations(entgql.Skip()),
		field.Time("date_created").Default(now).Immutable().Annotations(entgql.OrderField("DATE_CREATED")),
		field.UUID("created_by_id", uuid.UUID{}).Optional().Nillable().Immutable().Annotations(entgql.Skip()),
		field.Time("date_modified").Optional().Nillable().Annotations(entgql.OrderField("DATE_MODIFIED")),
		field.UUID("modified_by_id", uuid.UUID{}).Optional().Nillable().Annotations(entgql.Skip()),
		field.Bool("is_deleted").Default(false).Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.Time("date_deleted").Optional().Nillable().Annotations(entgql.Skip(entgql.SkipWhereInput)),
		field.UUID("deleted_by_id", uuid.UUID{}).Optional().Nillable().Annotations(entgql.Skip()),
		field.String("dtype").Default(r.dtype).Immutable().Annotations(entgql.Skip(entgql.SkipWhereInput)),
	}
}

// auditEdges are the columns naming the user who created, last modified and
// deleted a row (stamped by the hooks in policy.go from the viewer), and the
// name of their inverse on User (see Edges).
var auditEdges = []struct{ edge, field, inverse string }{
	{"created_by", "created_by_id", "created_users"},
	{"modified_by", "modified_by_id", "modified_users"},
	{"deleted_by", "deleted_by_id", "deleted_users"},
}

// Edges makes the audit columns edges to User, so GraphQL's field
// collection eager-loads the selected ones: one statement per level, through
// User's interceptor (the viewer's tenant, live users, user.read). The hooks
// stamp them; no client writes them, so they have no where-input, and no
// foreign key (internal/store leaves it out: the columns predate the edges).
// A User's own audit edges have an inverse (skipped by GraphQL): a unique
// edge from a type to itself without one is ent's two-way O2O, which would
// also stamp the creator as created by the new user.
func (r record) Edges() []ent.Edge {
	skip := entgql.Skip(entgql.SkipWhereInput)
	var edges []ent.Edge
	for _, a := range auditEdges {
		switch {
		case r.entity == "User":
			e := edge.From(a.edge, User.Type).Ref(a.inverse).Field(a.field).Unique().Annotations(skip)
			if a.edge == "created_by" {
				e = e.Immutable()
			}
			edges = append(edges, e, edge.To(a.inverse, User.Type).Annotations(entgql.Skip()))
		default:
			e := edge.To(a.edge, User.Type).Field(a.field).Unique().Annotations(skip)
			if a.edge == "created_by" {
				e = e.Immutable()
			}
			edges = append(edges, e)
		}
	}
	return edges
}

// The date_created index stays without the id: with it, SQLite planned the
// bench floor's lead page (five joins, ORDER BY id LIMIT 50) as a sort of
// every lead of the tenant through this index instead of a walk of the
// primary key that stops after the page (1 instead of 800 req/s).
func (record) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "date_created")}
}

// sortIndex is the index of a tenant's rows in the order of column, then
// id: the order of a list sorted by column (ids break ties). Without the
// id SQLite sorts what the index returns for the last term; with
// statistics but no samples (store.AnalysisLimit), in a database of one
// tenant, it then prefers to read the whole table and sort it than to walk
// the index and stop after the page (an account page: 10 ms instead of
// 0.7 ms; store's migration drops the index it replaces, named without
// "_id").
func sortIndex(column string) ent.Index {
	return index.Fields("tenant_id", column, "id")
}

func now() time.Time { return time.Now().UTC() }
