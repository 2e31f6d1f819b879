package app_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/conecrm/gateway/internal/app"
	"github.com/conecrm/gateway/internal/testing/apptest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// startServer serves the gateway (New over Routes, with the given CORS
// origins) on the demo data set and returns its base URL and an admin token.
func startServer(t *testing.T, origins ...string) (base, token string) {
	t.Helper()
	db := storetest.Open(t, "sqlite3")
	s := apptest.StartConfig(t, db, app.Config{CORSOrigins: origins}, routes(db, slog.New(slog.NewTextHandler(io.Discard, nil))))
	return s.URL, s.Token("admin@demo-motors.test")
}

func send(t *testing.T, method, url string, header map[string]string, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func TestCORSPreflightIsAnsweredBeforeAuthentication(t *testing.T) {
	const front = "http://front.example.test:5173"
	base, token := startServer(t, "https://app.example.test", front)
	for _, path := range []string{"/graphql", "/api/account", "/api/lead"} {
		res, _ := send(t, http.MethodOptions, base+path, map[string]string{
			"Origin":                         front,
			"Access-Control-Request-Method":  http.MethodPost,
			"Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
		}, "")
		if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != front {
			t.Fatalf("preflight %s: %d %v", path, res.StatusCode, res.Header)
		}
		allowed := strings.ToLower(res.Header.Get("Access-Control-Allow-Headers"))
		for _, h := range []string{"authorization", "content-type", "idempotency-key"} {
			if !strings.Contains(allowed, h) {
				t.Errorf("preflight %s: %s not allowed (%q)", path, h, allowed)
			}
		}
		if res.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("credentials allowed: bearer tokens need no cookies")
		}
		// An origin not on the list gets no grant (the browser then blocks the call).
		res, _ = send(t, http.MethodOptions, base+path, map[string]string{
			"Origin": "http://evil.example.test", "Access-Control-Request-Method": http.MethodPost,
		}, "")
		if res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("preflight %s from an unlisted origin granted: %v", path, res.Header)
		}
	}

	// The actual request carries the grant and exposes the request id.
	res, body := send(t, http.MethodPost, base+"/graphql", map[string]string{
		"Origin": front, "Authorization": "Bearer " + token, "Content-Type": "application/json",
	}, `{"query":"{ __typename }"}`)
	if res.StatusCode != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != front ||
		!strings.Contains(res.Header.Get("Access-Control-Expose-Headers"), "X-Request-Id") {
		t.Fatalf("POST /graphql from %s: %d %v %s", front, res.StatusCode, res.Header, body)
	}
	// So does a refusal, so a browser script can read why.
	res, _ = send(t, http.MethodGet, base+"/api/account", map[string]string{"Origin": front}, "")
	if res.StatusCode != http.StatusUnauthorized || res.Header.Get("Access-Control-Allow-Origin") != front {
		t.Fatalf("GET /api/account without a token from %s: %d %v", front, res.StatusCode, res.Header)
	}
}

func TestGraphQLRefusalsAreGraphQLShaped(t *testing.T) {
	base, _ := startServer(t)
	for name, auth := range map[string]string{"missing": "", "bad": "Bearer not-a-token"} {
		h := map[string]string{"Content-Type": "application/json"}
		if auth != "" {
			h["Authorization"] = auth
		}
		res, body := send(t, http.MethodPost, base+"/graphql", h, `{"query":"{ __typename }"}`)
		var got struct {
			Errors []struct {
				Message    string
				Extensions struct{ Code string }
			}
		}
		if err := json.Unmarshal(body, &got); err != nil || res.StatusCode != http.StatusUnauthorized ||
			len(got.Errors) != 1 || got.Errors[0].Extensions.Code != "UNAUTHENTICATED" || got.Errors[0].Message == "" ||
			res.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("%s token: %d %s", name, res.StatusCode, body)
		}
	}
	// REST keeps its documented {"error"} body.
	res, body := send(t, http.MethodGet, base+"/api/account", nil, "")
	if res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(string(body), `{"error":`) {
		t.Fatalf("REST refusal: %d %s", res.StatusCode, body)
	}
	// The OpenAPI document is documentation: no token needed.
	res, body = send(t, http.MethodGet, base+"/api/doc.json", nil, "")
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"openapi":"3.1.0"`) {
		t.Fatalf("GET /api/doc.json without a token: %d %.200s", res.StatusCode, body)
	}
}
