package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// RoundRobinCursor is the turn of a round-robin security group: which
// member of its rotation gets the next lead. It used to be a column of
// security_groups (rr_cursor); it has a table of its own because every
// lead assigned by round robin moves it, and security_groups is one of the
// tables viewers are read from (store.AuthTables), whose every write ends
// every cached viewer of every tenant. The row is created with the group's
// first turn (internal/crm's takeTurn); migrate carried the old column's
// values over.
type RoundRobinCursor struct{ ent.Schema }

func (RoundRobinCursor) Mixin() []ent.Mixin {
	return []ent.Mixin{Record("RoundRobinCursor", "round_robin_cursor")}
}

func (RoundRobinCursor) Fields() []ent.Field {
	return []ent.Field{
		// No edge, so no foreign key and no reference check (a statement
		// per lead): the group was read, in the viewer's tenant, in the
		// same transaction, and groups are only ever soft-deleted.
		field.UUID("security_group_id", uuid.UUID{}).Immutable(),
		// Taken modulo the number of the group's active members: the
		// position in its rotation of the member whose turn is next.
		field.Int("turn").Default(0),
	}
}

func (RoundRobinCursor) Indexes() []ent.Index {
	return []ent.Index{index.Fields("security_group_id").Unique()}
}

func (RoundRobinCursor) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
