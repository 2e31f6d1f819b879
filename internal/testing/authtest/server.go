package authtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/conecrm/gateway/internal/app"
	"github.com/conecrm/gateway/internal/auth"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/apptest"
)

// Server is the gateway's HTTP stack (app.New, the production middleware
// and authentication) serving routes over db, verifying tokens with an
// arbitrary key configuration (apptest.Start always uses HS256).
type Server struct {
	*httptest.Server
	DB *store.DB
	t  testing.TB
}

// Start serves routes over db with the verifier of cfg.
func Start(t testing.TB, db *store.DB, cfg auth.Config, routes map[string]http.Handler) *Server {
	t.Helper()
	v, err := auth.NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var w io.Writer = io.Discard
	if testing.Verbose() {
		w = testLog{t}
	}
	h := app.New(app.Config{Logger: slog.New(slog.NewTextHandler(w, nil)), Verifier: v}, db, routes)
	s := &Server{Server: httptest.NewServer(h), DB: db, t: t}
	t.Cleanup(s.Close)
	return s
}

// testLog writes the server's log lines to the test log (with -v).
type testLog struct{ t testing.TB }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// Request is one request to an endpoint.
type Request struct {
	Method, Path string
	Body         string // sent as application/json when not empty
}

// Send sends r with the given Authorization header values (none when
// empty).
func (s *Server) Send(r Request, authorization ...string) *apptest.Response {
	s.t.Helper()
	return Send(s.t, s.Client(), s.URL, r, authorization...)
}

// Send sends r to the server at base with the given Authorization header
// values.
func Send(t testing.TB, c *http.Client, base string, r Request, authorization ...string) *apptest.Response {
	t.Helper()
	var body io.Reader
	if r.Body != "" {
		body = strings.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(context.Background(), r.Method, base+r.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.Body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, a := range authorization {
		req.Header.Add("Authorization", a)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &apptest.Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// Refused reports (as an error of t) how res differs from an authentication
// refusal: 401, the WWW-Authenticate challenge, and a JSON body that is
// exactly {"error": "<non-empty message>"} or, as /graphql answers, the
// GraphQL-shaped one RefusalBody accepts. It returns whether res was one.
func Refused(t testing.TB, res *apptest.Response, challenge string) bool {
	t.Helper()
	ok := true
	if res.Status != http.StatusUnauthorized {
		t.Errorf("status %d, want 401; body %s", res.Status, res.Body)
		ok = false
	}
	if got := res.Header.Values("WWW-Authenticate"); len(got) != 1 || got[0] != challenge {
		t.Errorf("WWW-Authenticate %q, want %q", got, challenge)
		ok = false
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want JSON", ct)
		ok = false
	}
	if RefusalBody("/api/", res.Body) != nil && RefusalBody("/graphql", res.Body) != nil {
		t.Errorf(`body %s, want {"error": "..."} or {"errors": [{"message": "...", "extensions": {"code": "UNAUTHENTICATED"}}]}`, res.Body)
		ok = false
	}
	return ok
}

// RefusalBody checks the body of a 401 to path: exactly {"error": msg} on
// REST, exactly {"errors": [{"message": msg, "extensions": {"code":
// "UNAUTHENTICATED"}}]} on /graphql, msg non-empty.
func RefusalBody(path string, b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if strings.HasPrefix(path, "/graphql") {
		var body struct {
			Errors []struct {
				Message    string `json:"message"`
				Extensions struct {
					Code string `json:"code"`
				} `json:"extensions"`
			} `json:"errors"`
		}
		if err := dec.Decode(&body); err != nil || len(body.Errors) != 1 || body.Errors[0].Message == "" ||
			body.Errors[0].Extensions.Code != "UNAUTHENTICATED" {
			return fmt.Errorf("body %s is not a GraphQL UNAUTHENTICATED error (%v)", b, err)
		}
		return nil
	}
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		return fmt.Errorf("body %q is not a JSON object: %v", b, err)
	}
	if msg, _ := body["error"].(string); len(body) != 1 || msg == "" {
		return fmt.Errorf(`body %s, want {"error": "..."}`, b)
	}
	return nil
}
