package rest

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
)

var _ = routes((*Server).customLabelRoutes)

func (s *Server) customLabelRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/custom-labels", s.handle(PlainErrors, s.listCustomLabels))
	mux.Handle("POST /api/custom-labels", s.handle(PlainErrors, s.createCustomLabel))
	mux.Handle("PATCH /api/custom-labels/{id}", s.handle(PlainErrors, s.updateCustomLabel))
	mux.Handle("DELETE /api/custom-labels/{id}", s.handle(PlainErrors, s.deleteCustomLabel))
}

// CustomLabel is the spec's CustomLabel.
type CustomLabel struct {
	BaseRecord
	Tenant TenantRef      `json:"tenant"`
	Value  map[string]any `json:"value"`
}

// TenantRef is the {id, name} a record embeds of its tenant.
type TenantRef struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

func customLabelOf(l *ent.CustomLabel, t *ent.Tenant) CustomLabel {
	value := l.Value
	if value == nil {
		value = map[string]any{}
	}
	return CustomLabel{
		BaseRecord: baseRecord(audit{l.ID, l.DateCreated, l.CreatedByID, l.DateModified, l.ModifiedByID,
			l.IsDeleted, l.DateDeleted, l.DeletedByID, l.Dtype}),
		Tenant: TenantRef{ID: t.ID, Name: t.Name},
		Value:  value,
	}
}

// customLabelInput is the label request body. Value stays undecoded JSON
// (any) so the domain decides what a valid value is.
type customLabelInput struct {
	Value any `json:"value"`
}

func (s *Server) listCustomLabels(w http.ResponseWriter, r *http.Request) error {
	rows, err := s.svc.CustomLabels(r.Context())
	if err != nil {
		return err
	}
	t, err := s.svc.ViewerTenant(r.Context())
	if err != nil {
		return err
	}
	out := make([]CustomLabel, 0, len(rows))
	for _, l := range rows {
		out = append(out, customLabelOf(l, t))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) createCustomLabel(w http.ResponseWriter, r *http.Request) error {
	var in customLabelInput
	if err := decode(r, &in); err != nil {
		return err
	}
	l, err := s.svc.CreateCustomLabel(r.Context(), in.Value)
	if err != nil {
		return err
	}
	return s.writeCustomLabel(w, r, l)
}

func (s *Server) updateCustomLabel(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var in customLabelInput
	if err := decode(r, &in); err != nil {
		return err
	}
	l, err := s.svc.UpdateCustomLabel(r.Context(), id, in.Value)
	if err != nil {
		return err
	}
	return s.writeCustomLabel(w, r, l)
}

func (s *Server) deleteCustomLabel(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteCustomLabel(r.Context(), id); err != nil {
		return err
	}
	// The documented body of a successful delete is JSON null.
	writeJSON(w, http.StatusOK, nil)
	return nil
}

func (s *Server) writeCustomLabel(w http.ResponseWriter, r *http.Request, l *ent.CustomLabel) error {
	t, err := s.svc.ViewerTenant(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, customLabelOf(l, t))
	return nil
}
