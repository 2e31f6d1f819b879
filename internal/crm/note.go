package crm

import (
	"context"
	"strings"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/note"
	"github.com/conecrm/gateway/internal/fault"
	qb "github.com/conecrm/gateway/internal/querybuilder"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/viewer"
)

// RecordNote is the record type of a note's events (note.created,
// note.updated, note.deleted).
const RecordNote = "note"

// Filtered by the query builder (filter.go) by text, lead, author and
// dates: "notes mentioning financing written this week", a saved filter
// of a manager's team's notes.
var _ = filterable("note", noteFilterFields(), finder[*ent.Note](func(c *ent.Client) *ent.NoteQuery { return c.Note.Query() }))

// noteFilterFields are a note's query-builder fields.
func noteFilterFields() []qb.Field {
	fs := append([]qb.Field{qb.Str("text", note.FieldText)}, recordFields()...)
	return append(fs,
		qb.Ref("lead", note.FieldLeadID, leadTarget),
		qb.ToOne("lead.subject", qb.TypeString, note.FieldLeadID, leadTarget),
		qb.Ref("author", note.FieldAuthorID, userTarget),
	)
}

// maxNoteLen bounds a note's text (characters).
const maxNoteLen = 10000

// LeadNotes returns the live notes of a lead, newest first. An unknown
// lead (or another tenant's) is NotFound.
func (s *Service) LeadNotes(ctx context.Context, leadID uuid.UUID) ([]*ent.Note, error) {
	if err := Require(ctx, PermNoteRead); err != nil {
		return nil, err
	}
	// The lead's existence is the domain's check, not a read of the lead.
	if err := checkLead(registry.Unchecked(ctx), s.db, leadID); err != nil {
		return nil, err
	}
	notes, err := s.db.Note.Query().Where(note.LeadID(leadID)).
		Order(note.ByDateCreated(sql.OrderDesc()), note.ByID(sql.OrderDesc())).All(ctx)
	if err != nil {
		return nil, AsError(err)
	}
	return notes, nil
}

// CreateNote writes text on a lead as the viewer, its author.
func (s *Service) CreateNote(ctx context.Context, leadID uuid.UUID, text string) (*ent.Note, error) {
	if err := Require(ctx, PermNoteWrite); err != nil {
		return nil, err
	}
	if err := checkNoteText(text); err != nil {
		return nil, err
	}
	var out *ent.Note
	err := s.inTx(ctx, func(tx *ent.Client) error {
		if err := checkLead(ctx, tx, leadID); err != nil {
			return err
		}
		n, err := tx.Note.Create().SetLeadID(leadID).SetAuthorID(viewer.FromContext(ctx).UserID).SetText(text).Save(ctx)
		if err != nil {
			return err
		}
		out = n
		return s.emitChange(ctx, tx, RecordNote, "created", n.ID, nil, noteFields(n))
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// UpdateNote replaces a note's text. A USER may change only their own
// notes; MANAGER and ADMIN any of the tenant. A note never moves between
// leads: lead, when given (REST clients send whole records back), must be
// the note's own, else the update is Invalid on "lead" and changes nothing.
func (s *Service) UpdateNote(ctx context.Context, id uuid.UUID, text string, lead *uuid.UUID) (*ent.Note, error) {
	if err := Require(ctx, PermNoteWrite); err != nil {
		return nil, err
	}
	if err := checkNoteText(text); err != nil {
		return nil, err
	}
	var out *ent.Note
	err := s.inTx(ctx, func(tx *ent.Client) error {
		cur, err := ownNote(ctx, tx, id)
		if err != nil {
			return err
		}
		if lead != nil && *lead != cur.LeadID {
			return fault.FieldError("lead", "a note cannot move to another lead")
		}
		if out, err = tx.Note.UpdateOneID(id).SetText(text).Save(ctx); err != nil {
			return err
		}
		return s.emitChange(ctx, tx, RecordNote, "updated", id, noteFields(cur), noteFields(out))
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// DeleteNote soft-deletes a note, with UpdateNote's rule.
func (s *Service) DeleteNote(ctx context.Context, id uuid.UUID) error {
	if err := Require(ctx, PermNoteWrite); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *ent.Client) error {
		cur, err := ownNote(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := tx.Note.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		return s.emitChange(ctx, tx, RecordNote, "deleted", id, noteFields(cur), nil)
	})
}

// ownNote reads note id for a change by the viewer: the USER record rule
// with the author as the owner (a MANAGER or ADMIN may change any).
func ownNote(ctx context.Context, tx *ent.Client, id uuid.UUID) (*ent.Note, error) {
	n, err := tx.Note.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return n, recordRule(ctx, n.AuthorID, nil)
}

// checkLead answers Invalid naming "lead" when leadID is no live lead of
// the tenant.
func checkLead(ctx context.Context, db *ent.Client, leadID uuid.UUID) error {
	var v fault.Validation
	if err := checkRefs(ctx, db, &v, "lead", lead.Table, []uuid.UUID{leadID}); err != nil {
		return AsError(err)
	}
	return v.Err()
}

func checkNoteText(text string) error {
	switch {
	case strings.TrimSpace(text) == "":
		return fault.FieldError("text", msgBlank)
	case len([]rune(text)) > maxNoteLen:
		return fault.FieldError("text", "must be at most 10000 characters")
	}
	return nil
}

func noteFields(n *ent.Note) fields {
	return fields{"text": n.Text, "leadId": n.LeadID.String(), "authorId": n.AuthorID.String()}
}
