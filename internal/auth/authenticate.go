package auth

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/conecrm/gateway/internal/viewer"
)

// Authenticator checks a bearer credential exactly as Middleware does and
// returns its viewer and when it expires (zero when it does not: an API
// key). An error wrapping ErrInvalidToken means the credential is bad; any
// other means it could not be checked (the database is down).
type Authenticator func(ctx context.Context, raw string) (*viewer.Viewer, time.Time, error)

// NewAuthenticator returns the Authenticator of Middleware(v, resolve, _, opts...).
func NewAuthenticator(v *Verifier, resolve Resolver, opts ...Option) Authenticator {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return func(ctx context.Context, raw string) (*viewer.Viewer, time.Time, error) {
		if raw == "" {
			return nil, time.Time{}, ErrInvalidToken
		}
		if o.keys != nil && strings.HasPrefix(raw, o.keyPrefix) {
			vw, err := o.keys(ctx, raw)
			if err != nil {
				return nil, time.Time{}, err
			}
			if vw == nil {
				return nil, time.Time{}, ErrInvalidToken
			}
			return vw, time.Time{}, nil
		}
		claims, err := v.Verify(ctx, raw)
		if err != nil {
			return nil, time.Time{}, err
		}
		vw, err := resolve(ctx, claims)
		if err != nil {
			return nil, time.Time{}, err
		}
		// Fail closed on a nil viewer, and never let a resolver bug put a
		// different user or tenant in the context than the token names.
		if vw == nil || vw.UserID != claims.UserID || vw.TenantID != claims.TenantID {
			return nil, time.Time{}, ErrInvalidToken
		}
		return vw, claims.ExpiresAt, nil
	}
}

type authenticatorKey struct{}

// WithAuthenticator hands a to the handler of a request that authenticates
// later than its headers: a GraphQL websocket sends its token in
// connection_init.
func WithAuthenticator(ctx context.Context, a Authenticator) context.Context {
	return context.WithValue(ctx, authenticatorKey{}, a)
}

// AuthenticatorFrom returns the Authenticator WithAuthenticator put in ctx.
func AuthenticatorFrom(ctx context.Context) (Authenticator, error) {
	a, ok := ctx.Value(authenticatorKey{}).(Authenticator)
	if !ok {
		return nil, errors.New("auth: no authenticator in the context")
	}
	return a, nil
}
