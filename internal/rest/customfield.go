package rest

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/crm"
)

var _ = routes((*Server).customFieldRoutes)

func (s *Server) customFieldRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/custom-field", s.handle(PlainErrors, s.listCustomFields))
	mux.Handle("POST /api/custom-field", s.handle(PlainErrors, s.createCustomField))
	mux.Handle("GET /api/custom-field/{entity}", s.handle(PlainErrors, s.listCustomFields))
	mux.Handle("PATCH /api/custom-field/{customField}", s.handle(PlainErrors, s.updateCustomField))
	mux.Handle("DELETE /api/custom-field/{customField}", s.handle(PlainErrors, s.deleteCustomField))
}

// CustomField is the spec's CustomField plus its id, which the update and
// delete routes need.
type CustomField struct {
	ID        uuid.UUID `json:"id"`
	Entity    string    `json:"entity"`
	FieldName string    `json:"fieldName"`
	FieldType string    `json:"fieldType"`
	Options   string    `json:"options"`
}

func customFieldOf(f *ent.CustomField) CustomField {
	return CustomField{ID: f.ID, Entity: string(f.Entity), FieldName: f.FieldName, FieldType: string(f.FieldType), Options: f.Options}
}

// customFieldInput is the CustomField request body.
type customFieldInput struct {
	Entity    *string `json:"entity"`
	FieldName *string `json:"fieldName"`
	FieldType *string `json:"fieldType"`
	Options   *string `json:"options"`
}

func (in customFieldInput) crm() crm.CustomFieldInput {
	return crm.CustomFieldInput{Entity: in.Entity, FieldName: in.FieldName, FieldType: in.FieldType, Options: in.Options}
}

// listCustomFields serves both lists: all fields, or one entity's when the
// path has {entity}.
func (s *Server) listCustomFields(w http.ResponseWriter, r *http.Request) error {
	rows, err := s.svc.ListCustomFields(r.Context(), r.PathValue("entity"))
	if err != nil {
		return err
	}
	out := make([]CustomField, 0, len(rows))
	for _, f := range rows {
		out = append(out, customFieldOf(f))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) createCustomField(w http.ResponseWriter, r *http.Request) error {
	var in customFieldInput
	if err := decode(r, &in); err != nil {
		return err
	}
	f, err := s.svc.CreateCustomField(r.Context(), in.crm())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, customFieldOf(f))
	return nil
}

func (s *Server) updateCustomField(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "customField")
	if err != nil {
		return err
	}
	var in customFieldInput
	if err := decode(r, &in); err != nil {
		return err
	}
	f, err := s.svc.UpdateCustomField(r.Context(), id, in.crm())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, customFieldOf(f))
	return nil
}

func (s *Server) deleteCustomField(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "customField")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteCustomField(r.Context(), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, nil)
	return nil
}
