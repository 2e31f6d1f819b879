package rest

import (
	"log/slog"
	"net/http"

	"github.com/conecrm/gateway/internal/crm"
)

// Server holds what every handler needs: the domain service and a logger
// for the causes of 500s.
type Server struct {
	svc *crm.Service
	log *slog.Logger
}

// New returns the REST compatibility layer. Mount it at "/api/" behind
// authentication (server.go's routes); log may be nil (slog.Default).
func New(svc *crm.Service, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{svc: svc, log: log}
	mux := http.NewServeMux()
	// One register function per route group, each in its group's file.
	for _, register := range []func(*http.ServeMux){
		s.docRoutes,
		s.accountRoutes,
		s.contactRoutes,
		s.leadRoutes,
		s.taskRoutes,
		s.stageRoutes,
		s.customFieldRoutes,
		s.customLabelRoutes,
		s.automationRoutes,
		s.filterRoutes,
		s.queryBuilderRoutes,
		s.savedFilterRoutes,
	} {
		register(mux)
	}
	// Unknown /api paths answer JSON like every other error of the layer.
	mux.Handle("/api/", s.handle(PlainErrors, func(w http.ResponseWriter, r *http.Request) error {
		return crm.Errorf(crm.NotFound, "No route found for %q", r.Method+" "+r.URL.Path)
	}))
	return mux
}

// handlerFunc is a route handler: it writes its success response itself and
// returns every failure as an error, which handle maps to a status and body.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts h, answering its errors in style (the route's documented
// error body shape).
func (s *Server) handle(style ErrorStyle, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, style, err)
		}
	})
}
