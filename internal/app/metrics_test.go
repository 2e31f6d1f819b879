package app_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/conecrm/gateway/internal/app"
	"github.com/conecrm/gateway/internal/metrics"
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
	return string(b)
}

// value is the number of series in a scrape (0 when absent).
func value(t *testing.T, scrape, series string) int {
	t.Helper()
	for _, l := range strings.Split(scrape, "\n") {
		if rest, ok := strings.CutPrefix(l, series+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			return int(v)
		}
	}
	return 0
}

// Requests refused by the rate limits count in
// conecrm_rate_limit_rejections_total by scope, and requests shed by the
// in-flight cap carry the route they asked for (the transport mux's own
// pattern), not "unmatched".
func TestRefusalsAreMeasured(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		release := make(chan struct{})
		entered := make(chan struct{}, 1)
		rest := http.NewServeMux()
		rest.HandleFunc("GET /api/slow/{id}", func(w http.ResponseWriter, r *http.Request) {
			entered <- struct{}{}
			<-release
		})
		rest.Handle("GET /api/fast", ok)
		s := apptest.StartConfig(t, db, app.Config{Limits: app.Limits{MaxInFlight: 1, UserRate: 0.01, UserBurst: 2, AuthFailures: 1}},
			map[string]http.Handler{"/api/": rest})
		before := scrape(t)

		// Two requests pass the user's bucket, the third is refused.
		s.Do(http.MethodGet, "/api/fast", admin, nil)
		s.Do(http.MethodGet, "/api/fast", admin, nil)
		if r := s.Do(http.MethodGet, "/api/fast", admin, nil); r.Status != http.StatusTooManyRequests {
			t.Fatalf("third request: %d", r.Status)
		}
		// One request (another user's: the admin has no tokens left) holds
		// the only slot; the next is shed.
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/slow/1", nil)
		req.Header.Set("Authorization", "Bearer "+s.Token(manager))
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := http.DefaultClient.Do(req)
			if err == nil {
				res.Body.Close()
			}
		}()
		<-entered
		r := s.Do(http.MethodGet, "/api/slow/2", "", nil)
		close(release)
		wg.Wait()
		if r.Status != http.StatusServiceUnavailable {
			t.Fatalf("request past the in-flight cap: %d", r.Status)
		}

		// Last (it blocks this address): one failed authentication from this address, then refusals.
		for range 2 {
			req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/fast", nil)
			req.Header.Set("Authorization", "Bearer not.a.token")
			s.Send(req)
		}

		after := scrape(t)
		for series, want := range map[string]int{
			`conecrm_rate_limit_rejections_total{scope="user"}`:                                 1,
			`conecrm_rate_limit_rejections_total{scope="auth_failures"}`:                        1,
			`conecrm_http_requests_total{operation="",route="GET /api/slow/{id}",status="503"}`: 1,
			`conecrm_http_requests_total{operation="",route="GET /api/fast",status="429"}`:      2, // the user's bucket, then the address's failures
			`conecrm_http_requests_total{operation="",route="unmatched",status="503"}`:          0,
		} {
			if got := value(t, after, series) - value(t, before, series); got != want {
				t.Errorf("%s rose by %d, want %d", series, got, want)
			}
		}
	})
}
