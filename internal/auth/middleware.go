package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/conecrm/gateway/internal/viewer"
)

// Resolver loads the user named by verified claims and builds its viewer. It
// must check that the user exists, is active, is not deleted and belongs to
// c.TenantID, and return an error wrapping ErrInvalidToken otherwise.
//
// Any other error means the user could not be looked up (the database is
// down, the request was cancelled…): the middleware answers 503, not 401, so
// an outage is never mistaken for a bad token and clients do not throw away
// credentials that are still good. The Resolver logs such errors itself; the
// response carries no detail.
type Resolver func(ctx context.Context, c Claims) (*viewer.Viewer, error)

// ErrorWriter writes an error response. The middleware has already set the
// WWW-Authenticate header when it calls one.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, status int, msg string)

// Response messages. They are fixed strings so no verification detail reaches
// the client.
const (
	MsgMissingToken = "missing bearer token"
	MsgInvalidToken = "invalid token"
	MsgUnavailable  = "service unavailable"
)

// KeyResolver returns the viewer of an API key secret (a bearer credential
// that is not a JWT), with the same error contract as Resolver: an error
// wrapping ErrInvalidToken for an unknown, revoked or expired key, any other
// error when the key could not be looked up.
type KeyResolver func(ctx context.Context, secret string) (*viewer.Viewer, error)

// Option configures Middleware.
type Option func(*options)

type options struct {
	keyPrefix string
	keys      KeyResolver
}

// WithAPIKeys makes bearer credentials starting with prefix API keys,
// resolved by keys instead of verified as JWTs.
func WithAPIKeys(prefix string, keys KeyResolver) Option {
	return func(o *options) { o.keyPrefix, o.keys = prefix, keys }
}

// Middleware authenticates every request with a bearer token and puts the
// resolved viewer into the request context (viewer.NewContext).
//
//   - no Authorization header, or another scheme: 401 MsgMissingToken,
//     WWW-Authenticate: Bearer
//   - a verification failure, a resolver error wrapping ErrInvalidToken, or
//     a resolver answer that does not match the token: 401 MsgInvalidToken,
//     WWW-Authenticate: Bearer error="invalid_token"
//   - any other resolver error: 503 MsgUnavailable, no WWW-Authenticate
//
// onError may be nil, in which case WriteError is used.
func Middleware(v *Verifier, resolve Resolver, onError ErrorWriter, opts ...Option) func(http.Handler) http.Handler {
	if v == nil || resolve == nil {
		panic("auth.Middleware: nil Verifier or Resolver")
	}
	if onError == nil {
		onError = WriteError
	}
	authenticate := NewAuthenticator(v, resolve, opts...)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw, present, ok := bearerToken(r)
			if !present {
				w.Header().Set("WWW-Authenticate", "Bearer")
				onError(w, r, http.StatusUnauthorized, MsgMissingToken)
				return
			}
			invalid := func() {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
				onError(w, r, http.StatusUnauthorized, MsgInvalidToken)
			}
			if !ok {
				invalid()
				return
			}
			ctx := r.Context()
			vw, _, err := authenticate(ctx, raw)
			if err != nil && !errors.Is(err, ErrInvalidToken) {
				w.Header().Set("Retry-After", "1")
				onError(w, r, http.StatusServiceUnavailable, MsgUnavailable)
				return
			}
			if err != nil {
				invalid()
				return
			}
			next.ServeHTTP(w, r.WithContext(viewer.NewContext(ctx, vw)))
		})
	}
}

// bearerToken extracts the token of an "Authorization: Bearer <token>"
// header; the scheme is case-insensitive (RFC 9110 §11.1). present is false
// when no bearer credentials were sent at all; ok is false when they were
// sent but are malformed (empty, or several Authorization headers).
func bearerToken(r *http.Request) (raw string, present, ok bool) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return "", false, false
	}
	if len(values) > 1 {
		return "", true, false
	}
	scheme, rest, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false, false
	}
	raw = strings.TrimLeft(rest, " ")
	return raw, true, raw != ""
}

// WriteError is the default ErrorWriter: a JSON body {"error": msg}.
func WriteError(w http.ResponseWriter, _ *http.Request, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Error string `json:"error"`
	}{msg})
}
