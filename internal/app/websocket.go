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

// orWebSocket lets a websocket upgrade of /graphql through without
// credentials, handing it authenticate instead: its handler checks the
// token of connection_init with it, and refuses the connection without one.
func orWebSocket(authn func(http.Handler) http.Handler, authenticate auth.Authenticator) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		checked := authn(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if IsWebSocket(r) && r.URL.Path == "/graphql" {
				next.ServeHTTP(w, r.WithContext(auth.WithAuthenticator(r.Context(), authenticate)))
				return
			}
			checked.ServeHTTP(w, r)
		})
	}
}
