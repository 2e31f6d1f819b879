// Package apptest runs the gateway's HTTP stack on httptest against a
// storetest database and speaks to it as the seeded users, so transport
// tests go through real HTTP, real authentication and a real database.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/app"
	"github.com/conecrm/gateway/internal/auth"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// Secret is the HS256 secret test servers verify tokens with.
var Secret = []byte("apptest-secret-apptest-secret-0123456789")

// Server is a running test server.
type Server struct {
	*httptest.Server
	DB *store.DB
	t  *testing.T
}

// Start serves routes (mux pattern → handler, mounted behind authentication)
// over db with the production middleware stack.
func Start(t *testing.T, db *store.DB, routes map[string]http.Handler) *Server {
	t.Helper()
	return StartConfig(t, db, app.Config{}, routes)
}

// StartConfig is Start with cfg (e.g. Limits, a Logger to read); the
// verifier is filled in, and the logger when cfg has none.
func StartConfig(t *testing.T, db *store.DB, cfg app.Config, routes map[string]http.Handler) *Server {
	t.Helper()
	v, err := auth.NewVerifier(auth.Config{Secret: Secret})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		if testing.Verbose() {
			cfg.Logger = slog.New(slog.NewTextHandler(&testWriter{t}, nil))
		}
	}
	cfg.Verifier = v
	h := app.New(cfg, db, routes)
	s := &Server{Server: httptest.NewServer(h), DB: db, t: t}
	t.Cleanup(s.Close)
	return s
}

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(b)))
	return len(b), nil
}

// Token returns a valid token for the seeded user with that email.
func (s *Server) Token(email string) string {
	s.t.Helper()
	tok, err := auth.Mint(Secret, storetest.UserID(s.t, s.DB, email), tenantOf(s.t, s.DB, email), time.Hour)
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

func tenantOf(t *testing.T, db *store.DB, email string) uuid.UUID {
	for i := len(email) - 1; i >= 0; i-- {
		if email[i] == '@' {
			return storetest.TenantID(t, db, email[i+1:])
		}
	}
	t.Fatalf("bad email %q", email)
	return uuid.Nil
}

// Response is a received response with its body read.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test when it is not JSON.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("response body is not JSON (%v): %s", err, r.Body)
	}
}

// Do sends a request as the user with email (no Authorization header when
// email is ""). body is sent as is when it is a string or []byte, else as JSON.
func (s *Server) Do(method, path, email string, body any) *Response {
	s.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, s.URL+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if email != "" {
		req.Header.Set("Authorization", "Bearer "+s.Token(email))
	}
	return s.Send(req)
}

// Send sends a prepared request.
func (s *Server) Send(req *http.Request) *Response {
	s.t.Helper()
	res, err := s.Client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return &Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// Statements returns how many SQL statements the database has run so far;
// take the difference around a request to count its statements.
func (s *Server) Statements() int64 { return s.DB.Counter.Total() }
