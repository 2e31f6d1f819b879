package rest

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/google/uuid"
)

var (
	_ = routes((*Server).noteRoutes)
	_ = filterShape("note", func(_ context.Context, _ *Server, rows []*ent.Note) (any, error) { return notes(rows), nil })
)

func (s *Server) noteRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/note", s.handle(PlainErrors, s.listNotes))
	mux.Handle("POST /api/note", s.handle(PlainErrors, s.createNote))
	mux.Handle("PATCH /api/note/{id}", s.handle(PlainErrors, s.updateNote))
	mux.Handle("DELETE /api/note/{id}", s.handle(PlainErrors, s.deleteNote))
}

// Note is a note on a lead; lead and author are references.
type Note struct {
	BaseRecord
	Lead   IDRef  `json:"lead"`
	Author IDRef  `json:"author"`
	Text   string `json:"text"`
}

func notes(ns []*ent.Note) []Note {
	out := make([]Note, len(ns))
	for i, n := range ns {
		out[i] = noteOf(n)
	}
	return out
}

func noteOf(n *ent.Note) Note {
	return Note{
		BaseRecord: baseRecord(audit{n.ID, n.DateCreated, n.CreatedByID, n.DateModified, n.ModifiedByID,
			n.IsDeleted, n.DateDeleted, n.DeletedByID, n.Dtype}),
		Lead: IDRef{ID: n.LeadID}, Author: IDRef{ID: n.AuthorID}, Text: n.Text,
	}
}

// noteBody is the create body.
type noteBody struct {
	Lead *Ref   `json:"lead"`
	Text string `json:"text"`
}

// noteUpdate is the update body. The lead is fixed once written: it may
// be sent (clients send whole records back) but must be the note's own;
// null or another lead is a 400 on "lead", never silently ignored.
type noteUpdate struct {
	Lead json.RawMessage `json:"lead"`
	Text string          `json:"text"`
}

// listNotes answers GET /api/note?lead={id}: the lead's notes, newest first.
func (s *Server) listNotes(w http.ResponseWriter, r *http.Request) error {
	lead, err := optionalID(r.URL.Query(), "lead")
	if err != nil {
		return err
	}
	if lead == nil {
		return fault.FieldError("lead", "is required")
	}
	ns, err := s.svc.LeadNotes(r.Context(), *lead)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, notes(ns))
	return nil
}

func (s *Server) createNote(w http.ResponseWriter, r *http.Request) error {
	var in noteBody
	if err := decode(r, &in); err != nil {
		return err
	}
	lead, err := parseRef("lead", in.Lead)
	if err != nil {
		return err
	}
	if lead == nil {
		return fault.FieldError("lead", "is required")
	}
	n, err := s.svc.CreateNote(r.Context(), *lead, in.Text)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, noteOf(n))
	return nil
}

func (s *Server) updateNote(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in noteUpdate
	if err := decode(r, &in); err != nil {
		return err
	}
	var lead *uuid.UUID
	if len(in.Lead) > 0 {
		var ref *Ref
		if err := json.Unmarshal(in.Lead, &ref); err != nil {
			return fault.FieldError("lead", "must be a reference {\"id\": …}")
		}
		if ref == nil {
			return fault.FieldError("lead", "a note cannot move to another lead")
		}
		if lead, err = parseRef("lead", ref); err != nil {
			return err
		}
	}
	n, err := s.svc.UpdateNote(r.Context(), id, in.Text, lead)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, noteOf(n))
	return nil
}

func (s *Server) deleteNote(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteNote(r.Context(), id); err != nil {
		return err
	}
	// As the other deletes: the body of a success is JSON null.
	writeJSON(w, http.StatusOK, nil)
	return nil
}
