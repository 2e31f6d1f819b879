package metrics_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/metrics"
	"github.com/conecrm/gateway/internal/rest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/apptest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

func scrape(t *testing.T) string {
	t.Helper()
	addr, err := metrics.Serve(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", res.StatusCode)
	}
	return string(b)
}

func TestRequestsAreCountedByRouteOperationAndStatus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		svc := crm.NewService(db.Client)
		s := apptest.Start(t, db, map[string]http.Handler{
			"/api/":    rest.New(svc, log),
			"/graphql": graph.NewHandler(graph.Config{Client: db.Client, CRM: svc, Logger: log}),
		})
		metrics.RegisterDB(db)
		const admin = "admin@demo-motors.test"
		s.Do(http.MethodGet, "/api/account", admin, nil)
		s.Do(http.MethodGet, "/api/automation/01900000-0000-7000-8000-000000000000", admin, nil)
		s.Do(http.MethodGet, "/api/no-such-route/123", admin, nil)
		s.Do(http.MethodPost, "/graphql", admin, map[string]any{"query": "query ListAccounts { accounts(first: 2) { totalCount } }", "operationName": "ListAccounts"})
		s.Do(http.MethodGet, "/healthz", "", nil)
		metrics.RateLimitRejections.WithLabelValues("test").Inc()
		metrics.Jobs.WithLabelValues("webhook", "completed").Inc()
		closed := metrics.SubscriptionOpened()
		closed()
		closed() // a second call changes nothing

		out := scrape(t)
		for _, want := range []string{
			`conecrm_http_requests_total{operation="",route="GET /api/account",status="200"}`,
			`conecrm_http_requests_total{operation="",route="GET /api/automation/{automation}",status="404"}`,
			`conecrm_http_requests_total{operation="",route="unmatched",status="404"}`,
			`conecrm_http_requests_total{operation="ListAccounts",route="/graphql",status="200"}`,
			`conecrm_http_requests_total{operation="",route="GET /healthz",status="200"}`,
			`conecrm_http_request_duration_seconds_bucket{operation="ListAccounts",route="/graphql",le="+Inf"}`,
			`conecrm_sql_statements_per_request_count{route="GET /api/account"}`,
			`go_sql_max_open_connections{db_name="conecrm"}`,
			`conecrm_db_connect_attempts_total`,
			`conecrm_viewer_cache_live 1`,
			`conecrm_viewer_cache_invalidations_total{scope="all"}`,
			`conecrm_viewer_cache_invalidations_total{scope="tenant"}`,
			`conecrm_viewer_reads_total`,
			`conecrm_rate_limit_rejections_total{scope="test"}`,
			`conecrm_jobs_total{kind="webhook",outcome="completed"}`,
			`conecrm_subscription_connections 0`,
			`conecrm_http_requests_in_flight`,
			`conecrm_tx_conflicts_total{outcome="retried"}`,
			`conecrm_tx_conflicts_total{outcome="gave_up"}`,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		if t.Failed() {
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, "conecrm_http_requests_total") {
					t.Log(l)
				}
			}
		}
	})
}

func TestOperationNamesAreBounded(t *testing.T) {
	// Names from clients are free text: a malformed one is "other".
	handler := metrics.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		metrics.SetOperation(r.Context(), "bad name{}")
	}))
	handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil))
	if out := scrape(t); !strings.Contains(out, `operation="other",route="unmatched"`) {
		t.Fatal("a malformed operation name was exported as is")
	}
}
