package app

import (
	"net/http"
	"strings"

	"github.com/conecrm/gateway/internal/auth"
)

// IsWebSocket reports whether r asks to upgrade to a websocket: a live
// GraphQL connection, held open for as long as its subscriptions last.
func IsWebSocket(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// IsEventStream reports whether r asks /graphql for a subscription as
// Server-Sent Events: a stream held open like a websocket (the GraphQL
// layer serves nothing but subscriptions that way).
func IsEventStream(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == "/graphql" &&
		strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// isLive reports whether r is held open for as long as its subscriptions
// last: bounded per user by the GraphQL layer, not by the request deadline
// or the in-flight cap.
func isLive(r *http.Request) bool { return IsWebSocket(r) || IsEventStream(r) }

// orWebSocket lets a websocket upgrade of /graphql through without
// credentials, handing it authenticate instead: its handler checks the
// token of connection_init with it, and refuses the connection without one.
// An event stream is authenticated as any request and gets authenticate
// too, to check its token again while it lasts.
func orWebSocket(authn func(http.Handler) http.Handler, authenticate auth.Authenticator) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		checked := authn(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case IsWebSocket(r) && r.URL.Path == "/graphql":
				next.ServeHTTP(w, r.WithContext(auth.WithAuthenticator(r.Context(), authenticate)))
			case IsEventStream(r):
				checked.ServeHTTP(w, r.WithContext(auth.WithAuthenticator(r.Context(), authenticate)))
			default:
				checked.ServeHTTP(w, r)
			}
		})
	}
}
