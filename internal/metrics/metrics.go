// Package metrics is the gateway's Prometheus instrumentation: HTTP
// requests by route, GraphQL operation and status, latencies, SQL statements
// per request, the database pool, and counters other parts of the gateway
// feed (rate-limit rejections, background jobs, subscriptions). They are
// served by Handler on their own listener (CONECRM_METRICS_ADDR), never on
// the public one.
package metrics

import (
	"context"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/httpx"
	"github.com/conecrm/gateway/internal/store"
)

// Registry holds every metric of the process (plus the Go runtime's and the
// process's own).
var Registry = prometheus.NewRegistry()

var (
	requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "conecrm_http_requests_total",
		Help: "HTTP requests by route (mux pattern), GraphQL operation name and status code.",
	}, []string{"route", "operation", "status"})
	latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "conecrm_http_request_duration_seconds",
		Help:    "HTTP request latency by route and GraphQL operation name.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"route", "operation"})
	statements = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "conecrm_sql_statements_per_request",
		Help:    "SQL statements issued by one HTTP request, by route.",
		Buckets: []float64{0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 100},
	}, []string{"route"})
	inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "conecrm_http_requests_in_flight",
		Help: "HTTP requests being served.",
	})

	// RateLimitRejections counts requests refused by a rate limit, by the
	// limit's scope (e.g. "ip", "user", "tenant"); the limiter increments it.
	RateLimitRejections = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "conecrm_rate_limit_rejections_total",
		Help: "Requests refused by a rate limit, by scope.",
	}, []string{"scope"})
	// Jobs counts worked background jobs by kind and outcome; WatchJobs
	// feeds it from a River client.
	Jobs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "conecrm_jobs_total",
		Help: "Background jobs worked by this instance, by kind and outcome (completed, failed: retried later, discarded: out of attempts, cancelled, snoozed, interrupted).",
	}, []string{"kind", "outcome"})
	// Subscriptions is the number of open GraphQL subscription connections:
	// the subscription transport calls Inc when one opens and Dec when it
	// closes (SubscriptionOpened does both).
	Subscriptions = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "conecrm_subscription_connections",
		Help: "Open GraphQL subscription (websocket) connections.",
	})
	// SubscriptionCloses counts the subscription connections the server
	// closed, by close code (4401 token expired, 4403 access revoked, 4008
	// slow consumer, …; docs/subscriptions.md).
	SubscriptionCloses = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "conecrm_subscription_closes_total",
		Help: "Subscription connections closed by the server, by close code.",
	}, []string{"code"})
	// LiveReplayed counts the changes an instance read back from the outbox
	// after its PostgreSQL listener reconnected (notifications sent during
	// the gap), by outcome: published, or already_seen (deduplicated).
	LiveReplayed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "conecrm_live_replayed_total",
		Help: "Changes replayed from the outbox after the notification listener reconnected, by outcome.",
	}, []string{"outcome"})
	// Idempotency counts requests carrying an Idempotency-Key by what became
	// of them: executed, replayed, mismatch (422), in_progress (409), lost (409).
	Idempotency = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "conecrm_idempotent_requests_total",
		Help: "Requests with an Idempotency-Key, by outcome.",
	}, []string{"outcome"})
)

// txConflictsHelp describes conecrm_tx_conflicts_total.
const txConflictsHelp = "Write transactions the database refused for a concurrent one (deadlock, serialization failure, " +
	"SQLite busy), by outcome: retried (run again), gave_up (still refused at the last attempt, or the request's " +
	"deadline came first: answered 503)."

func init() {
	Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		requests, latency, statements, inFlight,
		RateLimitRejections, Jobs, Subscriptions, SubscriptionCloses, LiveReplayed, Idempotency, queues,
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "conecrm_tx_conflicts_total", Help: txConflictsHelp, ConstLabels: prometheus.Labels{"outcome": "retried"},
		}, func() float64 { r, _ := crm.TxConflicts(); return float64(r) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "conecrm_tx_conflicts_total", Help: txConflictsHelp, ConstLabels: prometheus.Labels{"outcome": "gave_up"},
		}, func() float64 { _, g := crm.TxConflicts(); return float64(g) }),
	)
}

var registerDB sync.Once

// invalidationsHelp describes conecrm_viewer_cache_invalidations_total.
const invalidationsHelp = "Times cached viewers were dropped: scope=\"all\" every tenant's (system work, hand-written SQL, " +
	"the permission catalogue, the change listener reconnecting), scope=\"tenant\" one tenant's (an administrator's " +
	"write of its users, roles or groups, by this instance or, on PostgreSQL, another)."

// RegisterDB adds the pool statistics of db (go_sql_* with db_name="conecrm")
// and its connection attempts. Only the first database is registered: a
// process serves one.
func RegisterDB(db *store.DB) {
	registerDB.Do(func() {
		Registry.MustRegister(
			collectors.NewDBStatsCollector(db.SQL, "conecrm"),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "conecrm_viewer_cache_live",
				Help: "1 while the viewer cache may be used: always on SQLite; on PostgreSQL while its change listener listens (0: every request reads its viewer).",
			}, func() float64 {
				if db.AuthWatch().Live() {
					return 1
				}
				return 0
			}),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name:        "conecrm_viewer_cache_invalidations_total",
				Help:        invalidationsHelp,
				ConstLabels: prometheus.Labels{"scope": "all"},
			}, func() float64 { return float64(db.AuthWatch().Moves()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name:        "conecrm_viewer_cache_invalidations_total",
				Help:        invalidationsHelp,
				ConstLabels: prometheus.Labels{"scope": "tenant"},
			}, func() float64 { return float64(db.AuthWatch().TenantMoves()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "conecrm_viewer_reads_total",
				Help: "Viewers read from the database (one statement each): the viewer cache's misses, or every authenticated request while it is off or not live.",
			}, func() float64 { return float64(crm.ViewerReads()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "conecrm_db_connect_attempts_total",
				Help: "PostgreSQL connection attempts (backoff keeps this low during an outage).",
			}, func() float64 { a, _ := db.ConnectAttempts(); return float64(a) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "conecrm_db_connect_failures_total",
				Help: "PostgreSQL connection attempts that failed.",
			}, func() float64 { _, f := db.ConnectAttempts(); return float64(f) }),
		)
	})
}

// SubscriptionOpened counts an open subscription connection until the
// returned function is called (once, when the connection closes).
func SubscriptionOpened() (closed func()) {
	Subscriptions.Inc()
	var once sync.Once
	return func() { once.Do(Subscriptions.Dec) }
}

// Handler serves the registry in the Prometheus text format.
func Handler() http.Handler {
	return promhttp.HandlerFor(Registry, promhttp.HandlerOpts{})
}

// labels are filled in while a request is served: the route by Route and
// SetRoute, the operation by the GraphQL layer.
type labels struct {
	mu        sync.Mutex
	route     string
	operation string
	// depth counts the Route wrappers entered; rank is the route's
	// precision: the innermost mux's pattern wins, a SetRoute name beats the
	// pattern of the mux it was given inside.
	depth, rank int
}

// name makes route the request's route if it is more precise (rank).
func (l *labels) name(route string, rank int) {
	l.mu.Lock()
	if route != "" && rank > l.rank {
		l.route, l.rank = route, rank
	}
	l.mu.Unlock()
}

// labelsOf returns the labels of ctx's request, nil outside Middleware.
func labelsOf(ctx context.Context) *labels {
	if r := httpx.RequestOf(ctx); r != nil {
		l, _ := r.Metrics.(*labels)
		return l
	}
	return nil
}

// Middleware measures every request; Route supplies the route label. The
// labels are kept in the request's httpx.Request (made here when no
// middleware before made one), the status read from the writer it gets
// when that already records it.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		l := &labels{}
		req := httpx.RequestOf(r.Context())
		if req == nil {
			req = &httpx.Request{}
			r = r.WithContext(httpx.WithRequest(r.Context(), req))
		}
		req.Metrics = l
		sw, ok := w.(*httpx.StatusWriter)
		if !ok {
			sw = &httpx.StatusWriter{ResponseWriter: w}
		}
		inFlight.Inc()
		defer func() {
			inFlight.Dec()
			status := sw.Status
			if p := recover(); p != nil {
				status = http.StatusInternalServerError
				defer panic(p)
			}
			if status == 0 {
				status = http.StatusOK
			}
			l.mu.Lock()
			route, op := l.route, l.operation
			l.mu.Unlock()
			if route == "" || status == http.StatusNotFound && route == "/api/" {
				route = "unmatched"
			}
			s := seriesOf(seriesKey{route, op, status})
			s.requests.Inc()
			s.latency.Observe(time.Since(start).Seconds())
			s.statements.Observe(float64(store.Count(r.Context())))
		}()
		next.ServeHTTP(sw, r)
	})
}

// series are the three series a request is counted in, looked up once per
// label set: the vectors' WithLabelValues check and hash the labels on
// every call, three times per request.
type series struct {
	requests            prometheus.Counter
	latency, statements prometheus.Observer
}

type seriesKey struct {
	route, operation string
	status           int
}

var (
	seriesMu sync.RWMutex
	// As many entries as the vectors have children: routes are the muxes'
	// patterns, operation names bounded by SetOperation, statuses the
	// handlers'.
	seriesByKey = map[seriesKey]*series{}
)

func seriesOf(k seriesKey) *series {
	seriesMu.RLock()
	s := seriesByKey[k]
	seriesMu.RUnlock()
	if s != nil {
		return s
	}
	s = &series{
		requests:   requests.WithLabelValues(k.route, k.operation, strconv.Itoa(k.status)),
		latency:    latency.WithLabelValues(k.route, k.operation),
		statements: statements.WithLabelValues(k.route),
	}
	seriesMu.Lock()
	seriesByKey[k] = s
	seriesMu.Unlock()
	return s
}

// Route wraps a mux (the outer one, and a transport's own such as REST's):
// after it ran, the pattern that matched becomes the request's route label,
// the innermost mux's winning.
func Route(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := labelsOf(r.Context())
		if l == nil {
			next.ServeHTTP(w, r)
			return
		}
		l.mu.Lock()
		l.depth++
		depth := l.depth
		l.mu.Unlock()
		next.ServeHTTP(w, r)
		l.name(r.Pattern, 2*depth)
	})
}

var (
	opName  = regexp.MustCompile(`^[_A-Za-z][_0-9A-Za-z]{0,63}$`)
	opMu    sync.Mutex
	opNames = map[string]bool{}
)

// maxOperations bounds the distinct operation names exported: names come
// from clients, so past this many new ones are counted as "other".
const maxOperations = 500

// SetRoute names the request's route ahead of the mux that routes it, so
// requests refused on the way (load shedding, rate limits, authentication)
// carry the route they asked for. The pattern of a mux entered later wins;
// SetRoute's name beats the pattern of the mux it is given inside.
func SetRoute(ctx context.Context, route string) {
	if l := labelsOf(ctx); l != nil {
		l.mu.Lock()
		depth := l.depth
		l.mu.Unlock()
		l.name(route, 2*depth+1)
	}
}

// SetOperation names the GraphQL operation the request runs.
func SetOperation(ctx context.Context, name string) {
	l := labelsOf(ctx)
	if l == nil {
		return
	}
	switch {
	case name == "":
		name = "anonymous"
	case !opName.MatchString(name):
		name = "other"
	default:
		opMu.Lock()
		if !opNames[name] {
			if len(opNames) >= maxOperations {
				name = "other"
			} else {
				opNames[name] = true
			}
		}
		opMu.Unlock()
	}
	l.mu.Lock()
	l.operation = name
	l.mu.Unlock()
}

// Serve serves Handler on addr until ctx is done and returns the address
// it listens on. It is separate from the public listener so metrics stay
// reachable only where the operator exposes them.
func Serve(ctx context.Context, addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	context.AfterFunc(ctx, func() { _ = srv.Close() })
	return ln.Addr().String(), nil
}
