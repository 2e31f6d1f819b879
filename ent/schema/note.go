package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// Note is free text a user writes on a lead. Its author is the user who
// wrote it (set by internal/crm, never taken from the client).
type Note struct{ ent.Schema }

func (Note) Mixin() []ent.Mixin { return []ent.Mixin{Record("Note", "note")} }

func (Note) Fields() []ent.Field {
	return []ent.Field{
		field.Text("text").NotEmpty(),
		field.UUID("lead_id", uuid.UUID{}).Immutable(),
		field.UUID("author_id", uuid.UUID{}).Immutable(),
	}
}

func (Note) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("lead", Lead.Type).Field("lead_id").Unique().Required().Immutable(),
		edge.To("author", User.Type).Field("author_id").Unique().Required().Immutable(),
	}
}

// A lead's notes are listed newest first.
func (Note) Indexes() []ent.Index { return []ent.Index{index.Fields("lead_id", "date_created")} }

func (Note) Annotations() []schema.Annotation { return rootList() }
