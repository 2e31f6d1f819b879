package rest

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
)

// The reference names the id {id} for GET and {filter} for PATCH and
// DELETE; it is one path here (OpenAPI allows no two templates of it).
var _ = routes((*Server).savedFilterRoutes)

func (s *Server) savedFilterRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/saved-filter", s.handle(PlainErrors, s.listSavedFilters))
	mux.Handle("POST /api/saved-filter", s.handle(PlainErrors, s.createSavedFilter))
	mux.Handle("GET /api/saved-filter/{id}", s.handle(PlainErrors, s.getSavedFilter))
	mux.Handle("PATCH /api/saved-filter/{id}", s.handle(PlainErrors, s.updateSavedFilter))
	mux.Handle("DELETE /api/saved-filter/{id}", s.handle(PlainErrors, s.deleteSavedFilter))
}

// SavedFilter is the spec's SavedFilter.
type SavedFilter struct {
	ID      uuid.UUID `json:"id"`
	Name    string    `json:"name"`
	Module  string    `json:"module"`
	Value   string    `json:"value"`
	Owner   IDRef     `json:"owner"`
	Private bool      `json:"private"`
}

func savedFilterOf(f *ent.SavedFilter) SavedFilter {
	return SavedFilter{ID: f.ID, Name: f.Name, Module: f.Module, Value: f.Value, Owner: IDRef{ID: f.OwnerID}, Private: f.Private}
}

// savedFilterInput is the create and update body. value is documented as
// a JSON-encoded string; the query object itself is accepted too.
type savedFilterInput struct {
	Name    *string         `json:"name"`
	Module  *string         `json:"module"`
	Value   json.RawMessage `json:"value"`
	Private *bool           `json:"private"`
}

func (in savedFilterInput) domain() (crm.SavedFilterInput, error) {
	out := crm.SavedFilterInput{Name: in.Name, Module: in.Module, Private: in.Private}
	raw := bytes.TrimSpace(in.Value)
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return out, fault.FieldError("value", "must be a string")
		}
		out.Value = &s
	case raw[0] == '{':
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return out, fault.FieldError("value", "must be a JSON-encoded query")
		}
		s := buf.String()
		out.Value = &s
	default:
		return out, fault.FieldError("value", "must be a JSON-encoded query (a string or an object)")
	}
	return out, nil
}

func (s *Server) savedFilters() crm.SavedFilters { return s.svc.SavedFilters() }

func (s *Server) listSavedFilters(w http.ResponseWriter, r *http.Request) error {
	rows, err := s.savedFilters().List(r.Context())
	if err != nil {
		return err
	}
	out := make([]SavedFilter, 0, len(rows))
	for _, f := range rows {
		out = append(out, savedFilterOf(f))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getSavedFilter(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	f, err := s.savedFilters().Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, savedFilterOf(f))
	return nil
}

func (s *Server) createSavedFilter(w http.ResponseWriter, r *http.Request) error {
	var body savedFilterInput
	if err := decode(r, &body); err != nil {
		return err
	}
	in, err := body.domain()
	if err != nil {
		return err
	}
	f, err := s.savedFilters().Create(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, savedFilterOf(f))
	return nil
}

func (s *Server) updateSavedFilter(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var body savedFilterInput
	if err := decode(r, &body); err != nil {
		return err
	}
	in, err := body.domain()
	if err != nil {
		return err
	}
	f, err := s.savedFilters().Update(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, savedFilterOf(f))
	return nil
}

func (s *Server) deleteSavedFilter(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.savedFilters().Delete(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
