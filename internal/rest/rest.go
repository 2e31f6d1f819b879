package rest

import (
	"context"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/registry"
)

// Server holds what every handler needs: the domain service and a logger
// for the causes of 500s.
type Server struct {
	svc *crm.Service
	log *slog.Logger
}

// routeGroups are the functions that register a route group, each added by
// its group's own file (var _ = routes((*Server).widgetRoutes)), so a new
// resource mounts itself: TestEveryRegisteredResourceIsMounted checks that
// each REST resource of internal/registry has its routes.
var routeGroups []func(*Server, *http.ServeMux)

func routes(register func(*Server, *http.ServeMux)) bool {
	routeGroups = append(routeGroups, register)
	return true
}

// New returns the REST compatibility layer. Mount it at "/api/" behind
// authentication (server.go's routes); log may be nil (slog.Default).
func New(svc *crm.Service, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{svc: svc, log: log}
	mux := http.NewServeMux()
	for _, register := range routeGroups {
		register(s, mux)
	}
	// Unknown /api paths answer JSON like every other error of the layer.
	mux.Handle("/api/", s.handle(PlainErrors, func(w http.ResponseWriter, r *http.Request) error {
		if allow := allowed(mux, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: "method " + r.Method + " is not allowed here"})
			return nil
		}
		return fault.Errorf(fault.NotFound, "No route found for %q", r.Method+" "+r.URL.Path)
	}))
	return requireJSON(mux)
}

// allowed returns the methods another route serves r's path with: the
// catch-all above hides the mux's own 405.
func allowed(mux *http.ServeMux, r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "/api/" && pattern != "" {
			out = append(out, m)
			if m == http.MethodGet {
				out = append(out, http.MethodHead)
			}
		}
	}
	return out
}

// requireJSON refuses a write whose body is not declared JSON (415): the
// routes read JSON only, and a form or text body must not pass for it
// (a cross-site form cannot send application/json).
func requireJSON(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
			if r.ContentLength == 0 {
				break // no body: nothing to misread
			}
			if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
				writeJSON(w, http.StatusUnsupportedMediaType, errorBody{Error: "Content-Type must be application/json"})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// handlerFunc is a route handler: it writes its success response itself and
// returns every failure as an error, which handle maps to a status and body.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts h, answering its errors in style (the route's documented
// error body shape).
func (s *Server) handle(style ErrorStyle, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r.WithContext(readPolicy(r))); err != nil {
			s.writeError(w, r, style, err)
		}
	})
}

// readPolicy returns the context a REST request reads under. A write is
// checked by its own permission; what it reads to validate its input and
// the record it answers (with what that embeds) are the domain layer's
// reads, not the viewer's. A read route answers its resource: the records
// the resource embeds (registry.Entity.Embeds, listed in
// docs/permissions.md) are read with the route's permission; anything
// else needs its own.
func readPolicy(r *http.Request) context.Context {
	ctx := r.Context()
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !strings.HasPrefix(r.URL.Path, "/api/query-builder/") {
		return registry.Unchecked(ctx)
	}
	var best *registry.Entity
	for i := range registry.Entities {
		e := &registry.Entities[i]
		if e.REST != "" && (r.URL.Path == e.REST || strings.HasPrefix(r.URL.Path, e.REST+"/")) &&
			(best == nil || len(e.REST) > len(best.REST)) {
			best = e
		}
	}
	return registry.Embedding(ctx, best)
}
