package rest

import (
	"errors"
	"net/http"

	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/querybuilder"
)

var _ = routes((*Server).filterRoutes)

func (s *Server) filterRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/filters", s.handle(PlainErrors, s.listFilters))
	mux.Handle("GET /api/filters/{entity}", s.handle(PlainErrors, s.entityFilters))
}

// entityFilters is one entry of GET /api/filters (the spec's EntityFilters2).
type entityFilters struct {
	Entity  string                    `json:"entity"`
	Filters []querybuilder.FilterInfo `json:"filters"`
}

// listFilters lists the filterable fields of every entity the viewer may
// list; the others are left out rather than failing the whole list.
func (s *Server) listFilters(w http.ResponseWriter, r *http.Request) error {
	out := []entityFilters{}
	for _, entity := range querybuilder.Entities() {
		c, err := s.svc.FilterCatalogue(r.Context(), entity)
		var e *fault.Error
		if errors.As(err, &e) && e.Code == fault.Forbidden {
			continue
		}
		if err != nil {
			return err
		}
		out = append(out, entityFilters{Entity: entity, Filters: c.Filters()})
	}
	writeJSON(w, http.StatusOK, struct {
		Data []entityFilters `json:"data"`
	}{out})
	return nil
}

func (s *Server) entityFilters(w http.ResponseWriter, r *http.Request) error {
	c, err := s.svc.FilterCatalogue(r.Context(), r.PathValue("entity"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c.Filters())
	return nil
}
