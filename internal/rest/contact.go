package rest

import (
	"context"
	"net/http"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/registry"
)

// The rows of the filter route (querybuilder.go).
var _ = filterShape("contact", func(_ context.Context, _ *Server, rows []*ent.Contact) (any, error) {
	return Contacts(rows), nil
})

var _ = routes((*Server).contactRoutes)

func (s *Server) contactRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/contact", s.handle(PlainErrors, s.listContacts))
	mux.Handle("GET /api/contact/{contact}/lead/open", s.handle(PlainErrors, s.openLeads))
	mux.Handle("GET /api/contact/phone/{phone}", s.handle(PlainErrors, s.contactsByPhone))
}

func (s *Server) listContacts(w http.ResponseWriter, r *http.Request) error {
	f, err := customerFilter(r, "start")
	if err != nil {
		return err
	}
	rows, err := s.svc.ListContacts(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, Contacts(rows))
	return nil
}

func (s *Server) openLeads(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "contact")
	if err != nil {
		return err
	}
	// The answer is leads: their embedded records come with them.
	rows, err := s.svc.OpenLeads(registry.Embedding(r.Context(), registry.ByType("Lead")), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, Leads(rows))
	return nil
}

func (s *Server) contactsByPhone(w http.ResponseWriter, r *http.Request) error {
	rows, err := s.svc.ContactsByPhone(r.Context(), r.PathValue("phone"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, Contacts(rows))
	return nil
}
