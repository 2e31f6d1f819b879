package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/metrics"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/conecrm/gateway/internal/auth"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/live"
	"github.com/conecrm/gateway/internal/loader"
	"github.com/conecrm/gateway/internal/viewer"
)

// Close codes of a live connection (docs/subscriptions.md). graphql-ws
// does not reconnect after 4401, 4403 and 4429 by itself; it does after
// 4008.
const (
	CloseUnauthorized   = 4401 // no or bad token in connection_init, or it expired
	CloseForbidden      = 4403 // the user lost access (deactivated, deleted, key revoked)
	CloseTooMany        = 4429 // too many connections for this user
	CloseSlowConsumer   = 4008 // the client did not read its events fast enough
	closeUnavailable    = 1011 // the token could not be checked (the database is down)
	defaultPerConn      = 10
	defaultPerUser      = 5
	defaultBuffer       = 64
	defaultRecheck      = 30 * time.Second
	defaultPingInterval = 25 * time.Second
)

// SubscriptionLimits bound the live connections of one instance.
type SubscriptionLimits struct {
	PerConnection int           // CONECRM_SUBSCRIPTIONS_PER_CONNECTION: subscriptions one connection may run
	PerUser       int           // CONECRM_SUBSCRIPTION_CONNECTIONS_PER_USER: connections one user may hold open
	Buffer        int           // CONECRM_SUBSCRIPTION_BUFFER: changes queued per subscription before its connection is dropped
	Recheck       time.Duration // CONECRM_SUBSCRIPTION_RECHECK: how often a connection's credentials are checked again
	// The replay of the changes an instance's PostgreSQL listener missed
	// while reconnecting (live.Bus.SetReplay; zero: live's defaults).
	ReplayWindow time.Duration // CONECRM_SUBSCRIPTION_REPLAY_WINDOW: at most this old
	ReplayMax    int           // CONECRM_SUBSCRIPTION_REPLAY_MAX: at most this many
}

func (l SubscriptionLimits) orDefaults() SubscriptionLimits {
	if l.PerConnection <= 0 {
		l.PerConnection = defaultPerConn
	}
	if l.PerUser <= 0 {
		l.PerUser = defaultPerUser
	}
	if l.Buffer <= 0 {
		l.Buffer = defaultBuffer
	}
	if l.Recheck <= 0 {
		l.Recheck = defaultRecheck
	}
	return l
}

// SubscriptionLimitsFromEnv reads the CONECRM_SUBSCRIPTION* variables.
func SubscriptionLimitsFromEnv(getenv func(string) string) (SubscriptionLimits, error) {
	l := SubscriptionLimits{}.orDefaults()
	for _, v := range []struct {
		name string
		dst  *int
	}{
		{"CONECRM_SUBSCRIPTIONS_PER_CONNECTION", &l.PerConnection},
		{"CONECRM_SUBSCRIPTION_CONNECTIONS_PER_USER", &l.PerUser},
		{"CONECRM_SUBSCRIPTION_BUFFER", &l.Buffer},
		{"CONECRM_SUBSCRIPTION_REPLAY_MAX", &l.ReplayMax},
	} {
		if s := getenv(v.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				return l, fmt.Errorf("%s must be a positive integer, not %q", v.name, s)
			}
			*v.dst = n
		}
	}
	for _, v := range []struct {
		name string
		dst  *time.Duration
	}{
		{"CONECRM_SUBSCRIPTION_RECHECK", &l.Recheck},
		{"CONECRM_SUBSCRIPTION_REPLAY_WINDOW", &l.ReplayWindow},
	} {
		if s := getenv(v.name); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 {
				return l, fmt.Errorf("%s must be a positive duration, not %q", v.name, s)
			}
			*v.dst = d
		}
	}
	return l, nil
}

// liveConn is one live connection's state: a websocket, or an event
// stream (SSE) serving one subscription.
type liveConn struct {
	mu       sync.Mutex
	conn     transport.WebsocketConn
	stream   *http.ResponseController // an event stream's response; nil for a websocket
	closed   bool
	stop     context.CancelFunc
	user     uuid.UUID
	acquired bool
	counted  func() // ends this connection's share of the subscriptions gauge
	viewer   atomic.Pointer[viewer.Viewer]
	subs     atomic.Int32
}

type liveConnKey struct{}

func liveConnFrom(ctx context.Context) *liveConn {
	c, _ := ctx.Value(liveConnKey{}).(*liveConn)
	return c
}

// close ends the connection with code: the client learns why.
func (c *liveConn) close(code int, reason string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	conn, stop := c.conn, c.stop
	c.mu.Unlock()
	metrics.SubscriptionCloses.WithLabelValues(strconv.Itoa(code)).Inc()
	if conn != nil {
		_ = conn.WriteClose(code, reason)
		_ = conn.Close()
	}
	// An event stream has no close code: stop (below) ends it with
	// "event: complete"; a slow consumer's blocked write is cut now.
	if c.stream != nil && code == CloseSlowConsumer {
		_ = c.stream.SetWriteDeadline(time.Now())
	}
	if stop != nil {
		stop()
	}
}

// acceptor is gqlgen's coder/websocket adapter that also hands the
// connection to its liveConn, so the server can close it with a code of
// its own (gqlgen's own closes say 1000).
type acceptor struct {
	transport.CoderWebsocketImplementation
}

func (a acceptor) Accept(w http.ResponseWriter, r *http.Request, o transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	// A connection outlives the server's read and write timeouts.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	conn, err := a.CoderWebsocketImplementation.Accept(w, r, o)
	if err == nil {
		if c := liveConnFrom(r.Context()); c != nil {
			c.mu.Lock()
			c.conn = conn
			c.mu.Unlock()
		}
	}
	return conn, err
}

// users counts the open connections per user.
type users struct {
	mu  sync.Mutex
	max int
	n   map[uuid.UUID]int
}

func (u *users) acquire(id uuid.UUID) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.n[id] >= u.max {
		return false
	}
	u.n[id]++
	return true
}

func (u *users) release(id uuid.UUID) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.n[id]--; u.n[id] <= 0 {
		delete(u.n, id)
	}
}

// websocket is the graphql-transport-ws transport (and the legacy
// graphql-ws one gqlgen also speaks) with the connection's lifecycle.
func websocket(limits SubscriptionLimits, log *slog.Logger) (transport.Websocket, func(http.Handler) http.Handler) {
	u := &users{max: limits.PerUser, n: map[uuid.UUID]int{}}
	ws := transport.Websocket{
		Implementation:        acceptor{},
		KeepAlivePingInterval: defaultPingInterval,
		InitTimeout:           10 * time.Second,
		InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			c := liveConnFrom(ctx)
			authenticate, err := auth.AuthenticatorFrom(ctx)
			if c == nil || err != nil {
				return transport.WithWebsocketCloseCode(ctx, closeUnavailable), nil, errors.New("subscriptions are not available")
			}
			raw := bearer(p)
			v, exp, err := authenticate(ctx, raw)
			switch {
			case errors.Is(err, auth.ErrInvalidToken):
				return transport.WithWebsocketCloseCode(ctx, CloseUnauthorized), nil, errors.New(auth.MsgInvalidToken)
			case err != nil:
				log.ErrorContext(ctx, "subscription: cannot check the token", "err", err)
				return transport.WithWebsocketCloseCode(ctx, closeUnavailable), nil, errors.New(auth.MsgUnavailable)
			}
			if !u.acquire(v.UserID) {
				return transport.WithWebsocketCloseCode(ctx, CloseTooMany), nil,
					fmt.Errorf("too many connections for this user (at most %d)", limits.PerUser)
			}
			ctx, cancel := context.WithCancel(ctx)
			c.mu.Lock()
			c.stop, c.user, c.acquired, c.counted = cancel, v.UserID, true, metrics.SubscriptionOpened()
			c.mu.Unlock()
			c.viewer.Store(v)
			go watch(ctx, c, authenticate, raw, exp, limits.Recheck, log)
			return viewer.NewContext(ctx, v), nil, nil
		},
		CloseFunc: func(ctx context.Context, _ int) {
			c := liveConnFrom(ctx)
			if c == nil {
				return
			}
			c.mu.Lock()
			acquired, stop := c.acquired, c.stop
			c.acquired = false
			c.mu.Unlock()
			if acquired {
				u.release(c.user)
				c.counted()
			}
			if stop != nil {
				stop()
			}
		},
	}
	// Each upgrade gets its state before gqlgen accepts it; an event
	// stream gets its state, limits and checks here.
	withConn := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.Header.Get("Upgrade") != "":
				r = r.WithContext(context.WithValue(r.Context(), liveConnKey{}, &liveConn{}))
			case isEventStream(r):
				serveEventStream(w, r, next, u, limits, log)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	return ws, withConn
}

// isEventStream reports whether r asks for Server-Sent Events (gqlgen's
// transport.SSE: a POST accepting text/event-stream).
func isEventStream(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// serveEventStream serves one subscription as Server-Sent Events with the
// websocket's rules: the request was authenticated like any other (its
// Authorization header); the stream counts against the user's connections
// (429 past CONECRM_SUBSCRIPTION_CONNECTIONS_PER_USER); it ends ("event:
// complete") when the token expires or a re-check fails, and a slow
// consumer's is cut. Queries and mutations are refused (subscriptionsOnly):
// a stream is exempt from the request deadline.
func serveEventStream(w http.ResponseWriter, r *http.Request, next http.Handler, u *users, limits SubscriptionLimits, log *slog.Logger) {
	authenticate, err := auth.AuthenticatorFrom(r.Context())
	raw, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if err != nil || raw == "" {
		answer(w, http.StatusServiceUnavailable, "UNAVAILABLE", "subscriptions over text/event-stream are not available")
		return
	}
	// Once more, for the token's expiry (the middleware keeps it to itself).
	v, exp, err := authenticate(r.Context(), raw)
	switch {
	case errors.Is(err, auth.ErrInvalidToken):
		answer(w, http.StatusUnauthorized, "UNAUTHENTICATED", auth.MsgInvalidToken)
		return
	case err != nil:
		log.ErrorContext(r.Context(), "subscription: cannot check the token", "err", err)
		answer(w, http.StatusServiceUnavailable, "UNAVAILABLE", auth.MsgUnavailable)
		return
	}
	if !u.acquire(v.UserID) {
		answer(w, http.StatusTooManyRequests, "TOO_MANY_CONNECTIONS",
			fmt.Sprintf("too many connections for this user (at most %d)", limits.PerUser))
		return
	}
	defer u.release(v.UserID)
	defer metrics.SubscriptionOpened()()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	c := &liveConn{stream: rc, stop: cancel, user: v.UserID}
	c.viewer.Store(v)
	go watch(ctx, c, authenticate, raw, exp, limits.Recheck, log)
	next.ServeHTTP(w, r.WithContext(context.WithValue(viewer.NewContext(ctx, v), liveConnKey{}, c)))
}

// subscriptionsOnly refuses queries and mutations over an event stream,
// which is exempt from the request deadline.
func subscriptionsOnly(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if c := liveConnFrom(ctx); c != nil && c.stream != nil {
		if oc := graphql.GetOperationContext(ctx); oc.Operation != nil && oc.Operation.Operation != ast.Subscription {
			return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
				Message:    "text/event-stream serves subscriptions only; send queries and mutations as a plain POST",
				Extensions: map[string]any{"code": "BAD_REQUEST"},
			}}})
		}
	}
	return next(ctx)
}

// bearer reads the token of connection_init: {"Authorization": "Bearer
// <token>"} (also lower-case), or {"token": "<token>"}.
func bearer(p transport.InitPayload) string {
	if a := p.Authorization(); a != "" {
		if len(a) > 7 && (a[:7] == "Bearer " || a[:7] == "bearer ") {
			return a[7:]
		}
		return ""
	}
	return p.GetString("token")
}

// watch closes c when its token expires, and checks the credentials again
// every recheck: a deactivated or deleted user, a revoked key, loses the
// connection; a change of roles applies to the next event.
func watch(ctx context.Context, c *liveConn, authenticate auth.Authenticator, raw string, exp time.Time, recheck time.Duration, log *slog.Logger) {
	var expired <-chan time.Time
	if !exp.IsZero() {
		t := time.NewTimer(time.Until(exp))
		defer t.Stop()
		expired = t.C
	}
	tick := time.NewTicker(recheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-expired:
			c.close(CloseUnauthorized, "token expired")
			return
		case <-tick.C:
			v, _, err := authenticate(ctx, raw)
			switch {
			case errors.Is(err, auth.ErrInvalidToken):
				c.close(CloseForbidden, "access revoked")
				return
			case err != nil:
				log.WarnContext(ctx, "subscription: cannot check the token again; keeping the connection", "err", err)
			default:
				c.viewer.Store(v)
			}
		}
	}
}

// subscribe runs one subscription: notes of the viewer's tenant that match
// are turned into payloads by build, each read as the connection's current
// viewer with fresh loaders, and sent in order. A subscriber whose queue
// fills up loses its connection (CloseSlowConsumer).
func subscribe[T any](r *Resolver, ctx context.Context, match func(live.Note) bool,
	build func(ctx context.Context, n live.Note) (T, bool, error)) (<-chan T, error) {
	c := liveConnFrom(ctx)
	v := viewer.FromContext(ctx)
	if c == nil || r.live == nil || v == nil {
		return nil, fault.Errorf(fault.Invalid, "subscriptions run over a websocket (graphql-transport-ws) at /graphql")
	}
	if n := c.subs.Add(1); int(n) > r.subLimits.PerConnection {
		c.subs.Add(-1)
		return nil, fault.Errorf(fault.Invalid, "too many subscriptions on this connection (at most %d)", r.subLimits.PerConnection)
	}
	sub := r.live.Subscribe(v.TenantID, match, func() {
		go c.close(CloseSlowConsumer, "slow consumer: events were not read fast enough")
	})
	out := make(chan T)
	go func() {
		defer close(out)
		defer c.subs.Add(-1)
		defer r.live.Unsubscribe(sub)
		for {
			select {
			case <-ctx.Done():
				return
			case n := <-sub.C():
				ectx := viewer.NewContext(ctx, c.viewer.Load())
				ectx = loader.NewContext(ectx, loader.New(r.client, r.log))
				item, ok, err := build(noFieldContext{ectx}, n)
				if err != nil {
					r.log.ErrorContext(ctx, "subscription: cannot read a change", "event", n.Event, "err", err)
					continue
				}
				if !ok {
					continue
				}
				select {
				case out <- item:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// recordTypes maps the record types of events to their entities.
var recordTypes = map[string]string{
	crm.RecordLead: "Lead", crm.RecordAccount: "Account", crm.RecordContact: "Contact", crm.RecordTask: "Task",
	crm.RecordAppointment: "Appointment", crm.RecordFollowUp: "FollowUp", crm.RecordPipeline: "Pipeline",
}
