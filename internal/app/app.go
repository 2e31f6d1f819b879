// Package app assembles the HTTP server: middleware, health checks, the
// playground, and the two transports (REST under /api, GraphQL at /graphql)
// behind authentication.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/conecrm/gateway/internal/auth"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/httpx"
	"github.com/conecrm/gateway/internal/idempotency"
	"github.com/conecrm/gateway/internal/metrics"
	"github.com/conecrm/gateway/internal/playground"
	"github.com/conecrm/gateway/internal/rest/openapi"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/viewer"
)

// Config is what the HTTP layer needs to know.
type Config struct {
	Production bool
	BodyLimit  int64 // bytes; 0 means 1 MiB
	Logger     *slog.Logger
	Verifier   *auth.Verifier
	// Limits of request volume and time; the zero value turns them off
	// (server.go passes LimitsFromEnv).
	Limits Limits
	// Idempotency tunes the Idempotency-Key layer (its Logger is Logger).
	Idempotency idempotency.Config
	// CORSOrigins may call the API from a browser page (ParseCORSOrigins);
	// empty allows no other origin.
	CORSOrigins []string
	// ViewerCache is the most viewers kept in memory (crm.ViewerCache,
	// CONECRM_VIEWER_CACHE): 0 means DefaultViewerCache, a negative value
	// turns the cache off (one statement per authenticated request).
	ViewerCache int
}

// New returns the gateway's HTTP handler over db. routes are the
// authenticated transports by mux pattern (e.g. "/api/" → REST,
// "/graphql" → GraphQL); server.go wires them, tests may mount a subset.
func New(cfg Config, db *store.DB, routes map[string]http.Handler) http.Handler {
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = 1 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := db.Ready(ctx); err != nil {
			cfg.Logger.WarnContext(r.Context(), "database not ready", "err", err)
			httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	// The OpenAPI document is documentation: SDK generators and API
	// explorers fetch it without credentials.
	mux.HandleFunc("GET /api/doc.json", func(w http.ResponseWriter, r *http.Request) {
		doc, err := openapi.JSON()
		if err != nil { // only a broken embedded document; its test catches that
			cfg.Logger.ErrorContext(r.Context(), "openapi document", "request_id", httpx.RequestID(r.Context()), "err", err)
			httpx.WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal server error", "requestId": httpx.RequestID(r.Context())})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	})
	pg := playground.Handler()
	mux.Handle("GET /playground", pg)
	mux.Handle("GET /playground/", pg)

	failures := newAuthFailures(cfg.Limits)
	cache := viewerCache(cfg, db)
	keys := auth.WithAPIKeys(crm.APIKeyPrefix, keyResolver(cfg.Logger, db, cache))
	resolve := resolver(cfg.Logger, db, cache)
	authn := auth.Middleware(cfg.Verifier, resolve, func(w http.ResponseWriter, r *http.Request, status int, msg string) {
		if status == http.StatusUnauthorized {
			failures.failed(r)
		}
		writeAuthError(w, r, status, msg)
	}, keys)
	// A GraphQL websocket authenticates in its connection_init message
	// (browsers cannot set headers on one), with the same checks.
	authn = orWebSocket(authn, auth.NewAuthenticator(cfg.Verifier, resolve, keys))
	perViewer := rateLimit(cfg.Limits)
	cfg.Idempotency.Logger = cfg.Logger
	idem := idempotency.Middleware(db, cfg.Idempotency)
	route := routeOf(mux, routes)
	for pattern, h := range routes {
		mux.Handle(pattern, nameRoute(pattern, h, failures.guard(authn(perViewer(idem(metrics.Route(h)))))))
	}
	// metrics sits inside logRequests, whose statement counter it reads;
	// the mux's own pattern labels the routes that are not transports.
	return chain(metrics.Route(mux), requestID, apiHeaders, logRequests(cfg.Logger), metrics.Middleware, recoverPanics(cfg.Logger), corsHandler(cfg.CORSOrigins),
		shedLoad(cfg.Limits.MaxInFlight, route), withDeadline(cfg.Limits.RequestTimeout, cfg.Logger), limitBody(cfg.BodyLimit))
}

// router is a transport that is a mux, such as REST: it names its own
// routes.
type router interface {
	Handler(*http.Request) (http.Handler, string)
}

// routeOf names the route a request would take: the pattern of the
// innermost mux that matches it.
func routeOf(mux *http.ServeMux, routes map[string]http.Handler) func(*http.Request) string {
	return func(r *http.Request) string {
		_, pattern := mux.Handler(r)
		return innerRoute(pattern, routes[pattern], r)
	}
}

// innerRoute is the route of r, which mux pattern routes to transport.
func innerRoute(pattern string, transport http.Handler, r *http.Request) string {
	if inner, ok := transport.(router); ok {
		if _, p := inner.Handler(r); p != "" {
			return p
		}
	}
	return pattern
}

// nameRoute labels the requests the mux routes to transport by pattern with
// their route (routeOf's, without matching the mux's patterns again) before
// the limits and authentication, which may refuse them, run.
func nameRoute(pattern string, transport, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		metrics.SetRoute(r.Context(), innerRoute(pattern, transport, r))
		next.ServeHTTP(w, r)
	})
}

// viewerCache returns the instance's viewer cache (nil when cfg turns it
// off). On PostgreSQL it starts db's listener for the other processes'
// changes (stopped by db.Close) and waits a little for it: until it
// listens, viewers are read on every request.
func viewerCache(cfg Config, db *store.DB) *crm.ViewerCache {
	n := cfg.ViewerCache
	if n < 0 {
		return nil
	}
	if n == 0 {
		n = DefaultViewerCache
	}
	db.ListenAuthChanges(context.Background(), cfg.Logger, 5*time.Second)
	return crm.NewViewerCache(db.AuthWatch(), n)
}

// resolver turns verified claims into the viewer, through cache when there
// is one. A user who is unknown, inactive, deleted or not of the token's
// tenant makes the token invalid (401); any other failure — the database
// is down — is logged and passed on, so the middleware answers 503 and a
// good token is not reported bad.
func resolver(log *slog.Logger, db *store.DB, cache *crm.ViewerCache) auth.Resolver {
	resolve := crm.ResolveViewer
	if cache != nil {
		resolve = cache.Resolve
	}
	return func(ctx context.Context, c auth.Claims) (*viewer.Viewer, error) {
		v, err := resolve(ctx, db.Client, c.UserID, c.TenantID, c.IssuedAt)
		if err == nil {
			return v, nil
		}
		if e := crm.AsError(err); e.Code == fault.NotFound {
			return nil, fmt.Errorf("%w: %w", auth.ErrInvalidToken, err)
		}
		log.ErrorContext(ctx, "cannot resolve the token's user", "request_id", httpx.RequestID(ctx), "err", err)
		return nil, err
	}
}

// keyResolver is resolver for API keys (crm.ResolveAPIKey): an unknown,
// revoked or expired key, or one of an inactive user, is an invalid token.
func keyResolver(log *slog.Logger, db *store.DB, cache *crm.ViewerCache) auth.KeyResolver {
	resolve := crm.ResolveAPIKey
	if cache != nil {
		resolve = cache.ResolveAPIKey
	}
	return func(ctx context.Context, secret string) (*viewer.Viewer, error) {
		v, err := resolve(ctx, db.Client, secret)
		if err == nil {
			return v, nil
		}
		if e := crm.AsError(err); e.Code == fault.NotFound {
			return nil, fmt.Errorf("%w: %w", auth.ErrInvalidToken, err)
		}
		log.ErrorContext(ctx, "cannot resolve the API key", "request_id", httpx.RequestID(ctx), "err", err)
		return nil, err
	}
}

// writeAuthError answers the authentication middleware's refusals:
// {"error": msg}, plus the request id on a 5xx so it can be quoted. On
// /graphql the body is a GraphQL response instead, so GraphQL clients surface
// the refusal as an error with a code rather than a transport failure.
func writeAuthError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Path == "/graphql" {
		ext := map[string]string{"code": "UNAUTHENTICATED"}
		if status >= http.StatusInternalServerError {
			ext = map[string]string{"code": "SERVICE_UNAVAILABLE", "requestId": httpx.RequestID(r.Context())}
		}
		httpx.WriteJSON(w, status, map[string]any{"errors": []any{map[string]any{"message": msg, "extensions": ext}}})
		return
	}
	body := map[string]string{"error": msg}
	if status >= http.StatusInternalServerError {
		body["requestId"] = httpx.RequestID(r.Context())
	}
	httpx.WriteJSON(w, status, body)
}
