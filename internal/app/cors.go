package app

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/rs/cors"
)

// DevCORSOrigins are the origins allowed by default in development: the
// usual front-end dev servers (Vite, Create React App / Next.js, Angular) on
// localhost. Production allows no origin unless CONECRM_CORS_ORIGINS says so.
var DevCORSOrigins = []string{
	"http://localhost:5173", "http://127.0.0.1:5173",
	"http://localhost:3000", "http://127.0.0.1:3000",
	"http://localhost:4200", "http://127.0.0.1:4200",
}

// ParseCORSOrigins reads CONECRM_CORS_ORIGINS: a comma-separated list of
// origins (scheme://host[:port], one `*` wildcard allowed in the host, e.g.
// https://*.example.com), or "*" for any origin. Anything else is an error
// at startup rather than an allow-list that silently matches nothing.
func ParseCORSOrigins(s string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(s, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if o == "*" {
			out = append(out, o)
			continue
		}
		u, err := url.Parse(strings.Replace(o, "*", "x", 1))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("CONECRM_CORS_ORIGINS: %q is not an origin like https://app.example.com", o)
		}
		out = append(out, strings.TrimSuffix(o, "/"))
	}
	return out, nil
}

// corsHandler answers CORS preflights itself — before authentication, which
// a preflight never carries credentials for — and adds the Access-Control
// headers to the actual responses of allowed origins. Credentials are bearer
// headers, never cookies, so Access-Control-Allow-Credentials stays off.
func corsHandler(origins []string) func(http.Handler) http.Handler {
	if len(origins) == 0 {
		return func(h http.Handler) http.Handler { return h }
	}
	c := cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete},
		AllowedHeaders: []string{"Authorization", "Content-Type", "Idempotency-Key", "X-Request-Id"},
		// What a browser script may read of a response: the request id to
		// quote, and why a call was refused or should be retried.
		ExposedHeaders: []string{"X-Request-Id", "WWW-Authenticate", "Retry-After",
			"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy"},
		MaxAge: 600,
	})
	return c.Handler
}
