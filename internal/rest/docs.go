package rest

import (
	"net/http"

	"github.com/conecrm/gateway/internal/rest/openapi"
)

func (s *Server) docRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/doc.json", s.handle(PlainErrors, func(w http.ResponseWriter, r *http.Request) error {
		doc, err := openapi.JSON()
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
		return nil
	}))
}
