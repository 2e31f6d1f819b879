package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/viewer"
)

// serve runs one request through the middleware and reports the response and
// the viewer the next handler saw (nil when it was not reached).
func serve(t *testing.T, resolve Resolver, onError ErrorWriter, authz ...string) (*httptest.ResponseRecorder, *viewer.Viewer, bool) {
	t.Helper()
	hs, _, _ := verifiers(t)
	var (
		got     *viewer.Viewer
		reached bool
	)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached = true
		got = viewer.FromContext(r.Context())
		w.WriteHeader(http.StatusNoContent)
	})
	req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	for _, a := range authz {
		req.Header.Add("Authorization", a)
	}
	rec := httptest.NewRecorder()
	Middleware(hs, resolve, onError)(next).ServeHTTP(rec, req)
	return rec, got, reached
}

func resolveOK(_ context.Context, c Claims) (*viewer.Viewer, error) {
	return &viewer.Viewer{UserID: c.UserID, TenantID: c.TenantID, Type: viewer.TypeUser}, nil
}

func validToken(t *testing.T) string {
	t.Helper()
	tok, err := Mint(testSecret, testUser, testTenant, time.Hour, WithIssuer(testIssuer), WithAudience(testAudience))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestMiddlewareRejects(t *testing.T) {
	good := validToken(t)
	const (
		missing = `Bearer`
		invalid = `Bearer error="invalid_token"`
	)
	tests := []struct {
		name       string
		authz      []string
		resolve    Resolver
		wantHeader string
		wantMsg    string
	}{
		{"missing Authorization header", nil, resolveOK, missing, MsgMissingToken},
		{"Basic scheme counts as missing bearer token", []string{"Basic dXNlcjpwYXNz"}, resolveOK, missing, MsgMissingToken},
		{"token without scheme counts as missing bearer token", []string{good}, resolveOK, missing, MsgMissingToken},
		{"Bearer without token", []string{"Bearer "}, resolveOK, invalid, MsgInvalidToken},
		{"garbage token", []string{"Bearer garbage"}, resolveOK, invalid, MsgInvalidToken},
		{"tampered token", []string{"Bearer " + good + "x"}, resolveOK, invalid, MsgInvalidToken},
		{"two Authorization headers", []string{"Bearer " + good, "Bearer " + good}, resolveOK, invalid, MsgInvalidToken},
		{"resolver returns ErrInvalidToken", []string{"Bearer " + good},
			func(context.Context, Claims) (*viewer.Viewer, error) { return nil, ErrInvalidToken }, invalid, MsgInvalidToken},
		{"resolver wraps ErrInvalidToken", []string{"Bearer " + good},
			func(context.Context, Claims) (*viewer.Viewer, error) {
				return nil, fmt.Errorf("user not found: %w", ErrInvalidToken)
			}, invalid, MsgInvalidToken},
		{"resolver returns nil viewer", []string{"Bearer " + good},
			func(context.Context, Claims) (*viewer.Viewer, error) { return nil, nil }, invalid, MsgInvalidToken},
		{"resolver returns viewer of another tenant", []string{"Bearer " + good},
			func(_ context.Context, c Claims) (*viewer.Viewer, error) {
				return &viewer.Viewer{UserID: c.UserID, TenantID: uuid.New()}, nil
			}, invalid, MsgInvalidToken},
		{"resolver returns viewer of another user", []string{"Bearer " + good},
			func(_ context.Context, c Claims) (*viewer.Viewer, error) {
				return &viewer.Viewer{UserID: uuid.New(), TenantID: c.TenantID}, nil
			}, invalid, MsgInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, _, reached := serve(t, tt.resolve, nil, tt.authz...)
			if reached {
				t.Fatal("next handler reached")
			}
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("status = %d, want 401", rec.Code)
			}
			if h := rec.Header().Get("WWW-Authenticate"); h != tt.wantHeader {
				t.Errorf("WWW-Authenticate = %q, want %q", h, tt.wantHeader)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			var body map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if len(body) != 1 || body["error"] != tt.wantMsg {
				t.Errorf("body = %v, want {error: %q}", body, tt.wantMsg)
			}
		})
	}
}

func TestMiddlewarePutsViewerInContext(t *testing.T) {
	good := validToken(t)
	for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
		t.Run(scheme, func(t *testing.T) {
			rec, v, reached := serve(t, resolveOK, nil, scheme+" "+good)
			if !reached || rec.Code != http.StatusNoContent {
				t.Fatalf("status %d, reached %v, body %s", rec.Code, reached, rec.Body)
			}
			if v == nil || v.UserID != testUser || v.TenantID != testTenant {
				t.Errorf("viewer = %+v", v)
			}
		})
	}
}

func TestMiddlewareUsesCustomErrorWriter(t *testing.T) {
	var gotStatus int
	var gotMsg string
	onError := func(w http.ResponseWriter, _ *http.Request, status int, msg string) {
		gotStatus, gotMsg = status, msg
		w.WriteHeader(status)
	}
	rec, _, reached := serve(t, resolveOK, onError, "Bearer nope")
	if reached || gotStatus != http.StatusUnauthorized || gotMsg != MsgInvalidToken {
		t.Errorf("reached %v, status %d, msg %q", reached, gotStatus, gotMsg)
	}
	if h := rec.Header().Get("WWW-Authenticate"); h != `Bearer error="invalid_token"` {
		t.Errorf("WWW-Authenticate = %q", h)
	}
}

// A resolver that cannot look the user up (database down) must not make a
// good token look bad: 503 without a challenge, and no detail in the body.
func TestMiddlewareAnswers503WhenTheResolverFails(t *testing.T) {
	good := validToken(t)
	for name, err := range map[string]error{
		"driver error":      errors.New("pq: connection refused to 10.0.0.7:5432"),
		"context cancelled": context.Canceled,
	} {
		t.Run(name, func(t *testing.T) {
			rec, _, reached := serve(t, func(context.Context, Claims) (*viewer.Viewer, error) { return nil, err },
				nil, "Bearer "+good)
			if reached {
				t.Fatal("next handler reached")
			}
			if rec.Code != http.StatusServiceUnavailable {
				t.Errorf("status = %d, want 503", rec.Code)
			}
			if h := rec.Header().Get("WWW-Authenticate"); h != "" {
				t.Errorf("WWW-Authenticate = %q, want none: the token is not at fault", h)
			}
			var body map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if len(body) != 1 || body["error"] != MsgUnavailable {
				t.Errorf("body = %v, want {error: %q}", body, MsgUnavailable)
			}
		})
	}
}
