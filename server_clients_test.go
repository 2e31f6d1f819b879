package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// startServer runs the real server (run "serve") with the demo data set on
// SQLite and returns its base URL and an admin token.
func startServer(t *testing.T, extra map[string]string) (base, token string) {
	t.Helper()
	e := map[string]string{"CONECRM_DATA_DIR": t.TempDir(), "CONECRM_ADDR": freeAddr(t)}
	for k, v := range extra {
		e[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, env(e), io.Discard, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	base = "http://" + e["CONECRM_ADDR"]
	waitHealthy(t, base)
	var tok bytes.Buffer
	if err := run(context.Background(), []string{"token", "--email", "admin@demo-motors.test"}, env(e), &tok, io.Discard); err != nil {
		t.Fatal(err)
	}
	return base, strings.TrimSpace(tok.String())
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
	base, token := startServer(t, map[string]string{"CONECRM_CORS_ORIGINS": "https://app.example.test, " + front})
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

func TestCORSOriginsConfiguration(t *testing.T) {
	load := func(e map[string]string) (config, error) {
		return loadConfig(env(e), flag.NewFlagSet("serve", flag.ContinueOnError), nil)
	}
	c, err := load(map[string]string{"CONECRM_ENV": "production"})
	if err != nil || len(c.CORSOrigins) != 0 {
		t.Fatalf("production default: %v %v, want no origin", c.CORSOrigins, err)
	}
	c, err = load(nil)
	if err != nil || !slices.Contains(c.CORSOrigins, "http://localhost:5173") {
		t.Fatalf("development default: %v %v, want the localhost dev servers", c.CORSOrigins, err)
	}
	c, err = load(map[string]string{"CONECRM_ENV": "production", "CONECRM_CORS_ORIGINS": "https://crm.example.com/, https://*.example.org"})
	if err != nil || !slices.Equal(c.CORSOrigins, []string{"https://crm.example.com", "https://*.example.org"}) {
		t.Fatalf("explicit list: %v %v", c.CORSOrigins, err)
	}
	for _, bad := range []string{"crm.example.com", "https://crm.example.com/app", "ftp://x.example", "https://"} {
		if _, err := load(map[string]string{"CONECRM_CORS_ORIGINS": bad}); err == nil {
			t.Errorf("CONECRM_CORS_ORIGINS=%q accepted", bad)
		}
	}
}

func TestGraphQLRefusalsAreGraphQLShaped(t *testing.T) {
	base, _ := startServer(t, nil)
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
