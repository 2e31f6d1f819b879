// Package resttest runs the REST layer over a storetest database for tests:
// every request goes through the real HTTP stack (apptest), and every
// response is validated against the served OpenAPI document — status,
// headers and body — so the document and the handlers cannot drift apart.
package resttest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/rest"
	"github.com/conecrm/gateway/internal/rest/openapi"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/apptest"
)

// Server is a running REST test server.
type Server struct {
	*apptest.Server
	t *testing.T
}

// Start serves the REST layer at /api/ over db.
func Start(t *testing.T, db *store.DB) *Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	h := rest.New(crm.NewService(db.Client), log)
	return &Server{Server: apptest.Start(t, db, map[string]http.Handler{"/api/": h}), t: t}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(b)))
	return len(b), nil
}

// Do sends a request as the user with email ("" sends no token; see
// apptest.Server.Do for body) and fails the test unless the response
// matches the OpenAPI document.
func (s *Server) Do(method, path, email string, body any) *apptest.Response {
	s.t.Helper()
	return s.do(s.t, method, path, email, body)
}

func (s *Server) do(t testing.TB, method, path, email string, body any) *apptest.Response {
	t.Helper()
	res := s.Server.Do(method, path, email, body)
	if err := Validate(method, path, res); err != nil {
		t.Fatalf("%s %s → %d: response does not match the OpenAPI document: %v\nbody: %s",
			method, path, res.Status, err, res.Body)
	}
	return res
}

type spec struct {
	doc    *openapi3.T
	router routers.Router
}

var loaded = sync.OnceValues(func() (*spec, error) {
	raw, err := openapi.JSON()
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, err
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &spec{doc: doc, router: router}, nil
})

// Document returns the parsed OpenAPI document, validated once per test
// binary.
func Document() (*openapi3.T, error) {
	s, err := loaded()
	if err != nil {
		return nil, err
	}
	return s.doc, nil
}

// Validate checks a response to method path against the document: the
// operation must exist, document the status, and the body must match the
// status's schema.
func Validate(method, path string, res *apptest.Response) error {
	s, err := loaded()
	if err != nil {
		return err
	}
	req, err := http.NewRequest(method, path, nil)
	if err != nil {
		return err
	}
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		return err
	}
	return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: res.Status,
		Header: res.Header,
		Body:   io.NopCloser(bytes.NewReader(res.Body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	})
}

// Seeded users of storetest databases: demo-motors.test is the caller's
// tenant in REST tests, northwind-auto.test the other one.
const (
	Admin      = "admin@demo-motors.test"
	Manager    = "manager@demo-motors.test"
	User       = "user@demo-motors.test" // a USER, member of the round-robin group
	Sales1     = "sales1@demo-motors.test"
	OtherAdmin = "admin@northwind-auto.test"
	NoToken    = ""
)

// Expect sends a request like Do and fails t (which may be a subtest of
// the one that started s) unless the response matches the document and has
// status want; it returns the response.
func (s *Server) Expect(t testing.TB, want int, method, path, email string, body any) *apptest.Response {
	t.Helper()
	res := s.do(t, method, path, email, body)
	if res.Status != want {
		t.Fatalf("%s %s as %q → %d %s; want %d", method, path, email, res.Status, res.Body, want)
	}
	return res
}
