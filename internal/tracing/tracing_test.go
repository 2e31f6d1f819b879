package tracing_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/app"
	"github.com/conecrm/gateway/internal/auth"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/rest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/apptest"
	"github.com/conecrm/gateway/internal/testing/storetest"
	"github.com/conecrm/gateway/internal/tracing"
)

// Runs first: without an endpoint nothing is installed.
func TestTracingIsOffWithoutAnEndpoint(t *testing.T) {
	stop, err := tracing.Setup(context.Background(), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	defer stop(context.Background())
	h := http.NewServeMux()
	if tracing.Enabled() || tracing.Middleware(h) != http.Handler(h) {
		t.Fatal("tracing installed without OTEL_EXPORTER_OTLP_ENDPOINT")
	}
}

type collector struct {
	mu   sync.Mutex
	body bytes.Buffer
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.body.Write(b)
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
}

func TestSpansAreExportedAndLogsCarryTheTraceID(t *testing.T) {
	col := &collector{}
	otlp := httptest.NewServer(col)
	defer otlp.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.URL)
	stop, err := tracing.Setup(context.Background(), os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	var logs apptest.Logs
	log := slog.New(tracing.LogHandler(slog.NewTextHandler(&logs, nil)))
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		v, err := auth.NewVerifier(auth.Config{Secret: apptest.Secret})
		if err != nil {
			t.Fatal(err)
		}
		svc := crm.NewService(db.Client)
		h := tracing.Middleware(app.New(app.Config{Logger: log, Verifier: v}, db, map[string]http.Handler{
			"/api/":    rest.New(svc, log),
			"/graphql": graph.NewHandler(graph.Config{Client: db.Client, CRM: svc, Logger: log}),
		}))
		srv := httptest.NewServer(h)
		defer srv.Close()
		tok, err := auth.Mint(apptest.Secret, storetest.UserID(t, db, "admin@demo-motors.test"), storetest.TenantID(t, db, "demo-motors.test"), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/graphql", strings.NewReader(
			`{"query":"mutation AddAccount { createAccount(input: {name: \"Traced\"}) { id } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := stop(ctx); err != nil {
		t.Fatal(err)
	}
	col.mu.Lock()
	exported := col.body.String()
	col.mu.Unlock()
	for _, want := range []string{"graphql mutation AddAccount", "POST /graphql", "sql", "INSERT INTO"} {
		if !strings.Contains(exported, want) {
			t.Errorf("no span %q exported", want)
		}
	}
	if !strings.Contains(logs.String(), "trace_id=") {
		t.Errorf("request logs carry no trace id:\n%s", logs.String())
	}
}
