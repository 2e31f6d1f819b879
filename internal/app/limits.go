package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/conecrm/gateway/internal/httpx"
	"github.com/conecrm/gateway/internal/metrics"
	"github.com/conecrm/gateway/internal/viewer"
)

// Limits bound the volume of requests one instance serves. They are kept
// in this process's memory: behind a load balancer each instance enforces
// them on its own share. A zero rate or cap turns that limit off.
type Limits struct {
	// UserRate and UserBurst: a token bucket per authenticated user
	// (requests per second, bucket size).
	UserRate  float64
	UserBurst int
	// TenantRate and TenantBurst: a token bucket per tenant.
	TenantRate  float64
	TenantBurst int
	// AuthFailures per minute per client address: past it, requests from
	// that address are refused before their token is looked at.
	AuthFailures int
	// MaxInFlight caps the requests being served at once (load shedding).
	MaxInFlight int
	// RequestTimeout is every request's deadline, carried by its context
	// into SQL.
	RequestTimeout time.Duration
	// TrustedProxies are the addresses of the reverse proxies in front of
	// this instance. A request from one of them is attributed to the
	// rightmost X-Forwarded-For address that is not itself a trusted proxy;
	// any other request to its connection's address (a client cannot forge
	// its way out of the failed-authentication limit).
	TrustedProxies []netip.Prefix
	// The HTTP server's own timeouts: reading a request's headers, reading
	// all of it (past it the body read fails: 408), writing its answer, and
	// keeping an idle connection.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
}

// DefaultLimits are the production defaults (CONECRM_RATE_*,
// CONECRM_REQUEST_TIMEOUT).
func DefaultLimits() Limits {
	return Limits{UserRate: 20, UserBurst: 100, TenantRate: 200, TenantBurst: 400,
		AuthFailures: 20, MaxInFlight: 128, RequestTimeout: 15 * time.Second,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
}

// LimitsFromEnv returns DefaultLimits with the values set in the
// environment. Rates and caps may be 0 (off); the timeout is a Go
// duration ("15s").
func LimitsFromEnv(getenv func(string) string) (Limits, error) {
	l := DefaultLimits()
	floats := map[string]*float64{"CONECRM_RATE_USER": &l.UserRate, "CONECRM_RATE_TENANT": &l.TenantRate}
	ints := map[string]*int{
		"CONECRM_RATE_USER_BURST":    &l.UserBurst,
		"CONECRM_RATE_TENANT_BURST":  &l.TenantBurst,
		"CONECRM_RATE_AUTH_FAILURES": &l.AuthFailures,
		"CONECRM_RATE_MAX_IN_FLIGHT": &l.MaxInFlight,
	}
	for name, dst := range floats {
		if v := getenv(name); v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
				return l, fmt.Errorf("%s must be a number ≥ 0 (requests per second), not %q", name, v)
			}
			*dst = f
		}
	}
	for name, dst := range ints {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return l, fmt.Errorf("%s must be an integer ≥ 0, not %q", name, v)
			}
			*dst = n
		}
	}
	durations := []struct {
		name string
		dst  *time.Duration
	}{
		{"CONECRM_REQUEST_TIMEOUT", &l.RequestTimeout},
		{"CONECRM_HTTP_READ_HEADER_TIMEOUT", &l.ReadHeaderTimeout},
		{"CONECRM_HTTP_READ_TIMEOUT", &l.ReadTimeout},
		{"CONECRM_HTTP_WRITE_TIMEOUT", &l.WriteTimeout},
		{"CONECRM_HTTP_IDLE_TIMEOUT", &l.IdleTimeout},
	}
	for _, d := range durations {
		if v := getenv(d.name); v != "" {
			t, err := time.ParseDuration(v)
			if err != nil || t <= 0 {
				return l, fmt.Errorf("%s must be a positive duration such as 15s, not %q", d.name, v)
			}
			*d.dst = t
		}
	}
	// An answer must be writable after the deadline's own error.
	if l.WriteTimeout <= l.RequestTimeout {
		return l, fmt.Errorf("CONECRM_HTTP_WRITE_TIMEOUT (%s) must be longer than CONECRM_REQUEST_TIMEOUT (%s)", l.WriteTimeout, l.RequestTimeout)
	}
	if v := getenv("CONECRM_TRUSTED_PROXIES"); v != "" {
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			p, err := netip.ParsePrefix(f)
			if err != nil {
				a, aerr := netip.ParseAddr(f)
				if aerr != nil {
					return l, fmt.Errorf("CONECRM_TRUSTED_PROXIES: %q is neither an address nor a CIDR prefix", f)
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			l.TrustedProxies = append(l.TrustedProxies, p.Masked())
		}
	}
	for _, b := range []struct {
		rate  float64
		burst int
		name  string
	}{{l.UserRate, l.UserBurst, "CONECRM_RATE_USER_BURST"}, {l.TenantRate, l.TenantBurst, "CONECRM_RATE_TENANT_BURST"}} {
		if b.rate > 0 && b.burst < 1 {
			return l, fmt.Errorf("%s must be at least 1 while its rate is set", b.name)
		}
	}
	return l, nil
}

// refuse answers a request the limits turn away, in the transport's shape:
// a GraphQL error with a code on /graphql, {"error": …} elsewhere.
func refuse(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration, code, msg string) {
	secs := max(1, int(math.Ceil(retryAfter.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	if r.URL.Path == "/graphql" {
		httpx.WriteJSON(w, status, map[string]any{"errors": []any{map[string]any{
			"message": msg, "extensions": map[string]any{"code": code},
		}}})
		return
	}
	httpx.WriteJSON(w, status, map[string]string{"error": msg})
}

// shedLoad answers 503 when MaxInFlight requests are already being
// served; it runs before authentication, so shedding costs no SQL. route
// names a shed request's route for the metrics (no mux sees it).
func shedLoad(n int, route func(*http.Request) string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if n <= 0 {
			return next
		}
		slots := make(chan struct{}, n)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isLive(r) { // held open for hours: bounded per user by the GraphQL layer instead
				next.ServeHTTP(w, r)
				return
			}
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
				next.ServeHTTP(w, r)
			default:
				metrics.SetRoute(r.Context(), route(r))
				refuse(w, r, http.StatusServiceUnavailable, time.Second, "SERVER_BUSY", "the server is busy; retry shortly")
			}
		})
	}
}

// withDeadline gives every request its deadline; the context carries it
// into every SQL statement, which the drivers cancel when it passes.
func withDeadline(d time.Duration, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if d <= 0 {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isLive(r) { // a live connection; each event's reads are short
				next.ServeHTTP(w, r)
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
			if errors.Is(ctx.Err(), context.DeadlineExceeded) && r.Context().Err() == nil {
				log.WarnContext(ctx, "request deadline exceeded: its work was canceled",
					"request_id", httpx.RequestID(ctx), "method", r.Method, "path", r.URL.Path, "timeout", d.String())
			}
		})
	}
}

// buckets holds one token bucket per key, forgetting keys idle for longer
// than it takes to refill (a fresh bucket is then the same thing).
type buckets struct {
	mu    sync.Mutex
	rate  rate.Limit
	burst int
	m     map[string]*bucket
	swept time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

func newBuckets(r float64, burst int) *buckets {
	return &buckets{rate: rate.Limit(r), burst: burst, m: map[string]*bucket{}}
}

func (b *buckets) get(key string, now time.Time) *rate.Limiter {
	b.mu.Lock()
	defer b.mu.Unlock()
	refill := time.Duration(float64(b.burst)/float64(b.rate)*float64(time.Second)) + time.Minute
	if now.Sub(b.swept) > refill {
		for k, e := range b.m {
			if now.Sub(e.last) > refill {
				delete(b.m, k)
			}
		}
		b.swept = now
	}
	e := b.m[key]
	if e == nil {
		e = &bucket{lim: rate.NewLimiter(b.rate, b.burst)}
		b.m[key] = e
	}
	e.last = now
	return e.lim
}

// setRateHeaders writes the IETF draft RateLimit fields of lim: its
// size, what is left, and the seconds until it is full again.
func setRateHeaders(h http.Header, lim *rate.Limiter, now time.Time) {
	left := max(0, lim.TokensAt(now))
	reset := (float64(lim.Burst()) - left) / float64(lim.Limit())
	h.Set("RateLimit-Limit", strconv.Itoa(lim.Burst()))
	h.Set("RateLimit-Remaining", strconv.Itoa(int(left)))
	h.Set("RateLimit-Reset", strconv.Itoa(int(math.Ceil(reset))))
	h.Set("RateLimit-Policy", fmt.Sprintf("%d;w=%d", lim.Burst(), max(1, int(math.Ceil(float64(lim.Burst())/float64(lim.Limit()))))))
}

// rateLimit applies the per-user and per-tenant token buckets to an
// authenticated request (it runs after authentication, whatever the
// credential, and keys on the viewer). A request takes a token from both
// buckets or from neither.
func rateLimit(l Limits) func(http.Handler) http.Handler {
	var users, tenants *buckets
	if l.UserRate > 0 {
		users = newBuckets(l.UserRate, l.UserBurst)
	}
	if l.TenantRate > 0 {
		tenants = newBuckets(l.TenantRate, l.TenantBurst)
	}
	return func(next http.Handler) http.Handler {
		if users == nil && tenants == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			v := viewer.FromContext(r.Context())
			if v == nil {
				next.ServeHTTP(w, r)
				return
			}
			now := time.Now()
			var taken []*rate.Reservation
			for _, k := range []struct {
				b    *buckets
				key  string
				what string
			}{{users, v.UserID.String(), "user"}, {tenants, v.TenantID.String(), "tenant"}} {
				if k.b == nil {
					continue
				}
				lim := k.b.get(k.key, now)
				res := lim.ReserveN(now, 1)
				if delay := res.DelayFrom(now); delay > 0 {
					res.CancelAt(now)
					metrics.RateLimitRejections.WithLabelValues(k.what).Inc()
					for _, t := range taken {
						t.CancelAt(now)
					}
					setRateHeaders(w.Header(), lim, now)
					refuse(w, r, http.StatusTooManyRequests, delay, "RATE_LIMITED",
						"too many requests for this "+k.what+"; retry after the time in Retry-After")
					return
				}
				taken = append(taken, res)
				if len(taken) == 1 { // the first bucket (the user's) is the one a client sees
					setRateHeaders(w.Header(), lim, now)
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// authFailures limits failed authentications per client address: each
// 401 takes a token; an address with none left is refused (429) before
// its credentials are checked, so guessing tokens is slow.
type authFailures struct {
	b       *buckets
	proxies []netip.Prefix
}

func newAuthFailures(l Limits) *authFailures {
	if l.AuthFailures <= 0 {
		return nil
	}
	return &authFailures{newBuckets(float64(l.AuthFailures)/60, l.AuthFailures), l.TrustedProxies}
}

// clientAddr is the address r came from: its connection's, or behind
// trusted proxies the rightmost X-Forwarded-For entry they did not add
// (entries left of it are the client's own word).
func clientAddr(r *http.Request, proxies []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if len(proxies) == 0 { // no address is trusted: nothing to parse
		return host
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !trusted(addr, proxies) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop: stop at the last address vouched for
		}
		addr = hop.Unmap()
		if !trusted(addr, proxies) {
			break
		}
	}
	return addr.String()
}

func trusted(a netip.Addr, proxies []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (a *authFailures) guard(next http.Handler) http.Handler {
	if a == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		lim := a.b.get(clientAddr(r, a.proxies), now)
		if lim.TokensAt(now) < 1 {
			res := lim.ReserveN(now, 1)
			delay := res.DelayFrom(now)
			res.CancelAt(now)
			metrics.RateLimitRejections.WithLabelValues("auth_failures").Inc()
			refuse(w, r, http.StatusTooManyRequests, delay, "RATE_LIMITED", "too many failed authentications from this address; retry later")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// failed records a refused authentication of r.
func (a *authFailures) failed(r *http.Request) {
	if a != nil {
		a.b.get(clientAddr(r, a.proxies), time.Now()).Allow()
	}
}
