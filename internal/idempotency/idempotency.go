// Package idempotency makes writes safe to retry. A client sends an
// Idempotency-Key header (any REST POST, a GraphQL mutation; GraphQL also
// takes extensions.idempotencyKey); the first answer is kept in the database
// with the key, the tenant and the user for 24 h, and a repeat gets that
// answer back without the write running again.
//
// The key is claimed in its own statement before the request runs, and
// marked "committed" inside the request's write transaction (a store commit
// hook) only while this request still owns the claim. So a claim whose owner
// died before committing can be taken over after its lease, and a taken-over
// request can no longer commit: a write happens at most once per key, on one
// instance or many, across restarts.
package idempotency

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"entgo.io/ent/dialect"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/conecrm/gateway/internal/httpx"
	"github.com/conecrm/gateway/internal/metrics"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/viewer"
)

// Header is the request header carrying the key.
const Header = "Idempotency-Key"

// ReplayedHeader is set on an answer served from the store.
const ReplayedHeader = "Idempotent-Replayed"

// Config tunes the middleware; zero values take the defaults.
type Config struct {
	// TTL is how long an answer is kept (24 h).
	TTL time.Duration
	// Lease is how long a claim protects a request in progress before a
	// repeat may take it over (CONECRM_IDEMPOTENCY_LEASE, 30 s). Taking
	// over never duplicates a write (see the package comment); a longer
	// lease only makes repeats of a request whose instance died wait longer.
	Lease time.Duration
	// Wait is how long a repeat of a request still in progress waits for
	// its answer before getting 409 (5 s).
	Wait   time.Duration
	Logger *slog.Logger
}

type middleware struct {
	db          *store.DB
	cfg         Config
	lastCleanup atomic.Int64
}

// Middleware returns the idempotency layer over the authenticated
// transports; it needs the viewer in the request context.
func Middleware(db *store.DB, cfg Config) func(http.Handler) http.Handler {
	if cfg.TTL <= 0 {
		cfg.TTL = 24 * time.Hour
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	m := &middleware{db: db, cfg: cfg}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { m.serve(w, r, next) })
	}
}

func validKey(k string) bool {
	if k == "" || len(k) > 255 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x21 || k[i] > 0x7e {
			return false
		}
	}
	return true
}

// keyOf returns the request's idempotency key and whether the request is
// one the layer guards, reading (and restoring) the body when needed.
func keyOf(r *http.Request) (key string, graphql bool, body []byte, err error) {
	if r.Method != http.MethodPost {
		return "", false, nil, nil
	}
	graphql = !strings.HasPrefix(r.URL.Path, "/api/")
	key = r.Header.Get(Header)
	if key == "" && !graphql {
		return "", false, nil, nil
	}
	body, err = io.ReadAll(r.Body)
	if err != nil {
		// Over the body limit: the transport must still see the failure.
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		return "", false, nil, err
	}
	r.Body = httpx.NewBody(body) // the GraphQL transport takes these bytes as they are
	if graphql {
		if key == "" && !mayNameKey(body) {
			return "", false, nil, nil // a query without a key: nothing to guard
		}
		var req struct {
			Query         string `json:"query"`
			OperationName string `json:"operationName"`
			Extensions    struct {
				IdempotencyKey string `json:"idempotencyKey"`
			} `json:"extensions"`
		}
		if json.Unmarshal(body, &req) != nil {
			return "", false, nil, nil // the GraphQL transport answers it
		}
		if key == "" {
			key = req.Extensions.IdempotencyKey
		}
		if key == "" || !isMutation(req.Query, req.OperationName) {
			return "", false, nil, nil
		}
	}
	return key, graphql, body, nil
}

// mayNameKey reports whether a GraphQL body could carry
// extensions.idempotencyKey, without decoding it (every query would be
// decoded twice otherwise): encoding/json matches member names without
// regard to case, Unicode folds included (the Kelvin sign is a K), and
// through escapes, so only a pure-ASCII body without escapes that does
// not hold the name in any case is known not to.
func mayNameKey(body []byte) bool {
	const name = "idempotencykey"
	for i, c := range body {
		if c >= utf8.RuneSelf || c == '\\' {
			return true
		}
		if (c|0x20) == name[0] && i+len(name) <= len(body) && asciiFold(body[i:i+len(name)], name) {
			return true
		}
	}
	return false
}

// asciiFold reports whether b equals the lower-case ASCII s, ignoring case.
func asciiFold(b []byte, s string) bool {
	for i := range len(s) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// isMutation reports whether the operation to run may be a mutation: a
// persisted query sent by hash alone counts as one.
func isMutation(query, name string) bool {
	if query == "" {
		return true
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return false // refused by the GraphQL layer, nothing to guard
	}
	var op *ast.OperationDefinition
	if name != "" {
		op = doc.Operations.ForName(name)
	} else if len(doc.Operations) == 1 {
		op = doc.Operations[0]
	}
	return op != nil && op.Operation == ast.Mutation
}

func (m *middleware) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	key, graphql, body, err := keyOf(r)
	if err != nil {
		next.ServeHTTP(w, r) // an oversized body: the transport answers it
		return
	}
	v := viewer.FromContext(r.Context())
	if key == "" || v == nil {
		next.ServeHTTP(w, r)
		return
	}
	if !validKey(key) {
		refuse(w, graphql, http.StatusBadRequest, "BAD_USER_INPUT", Header+" must be 1 to 255 printable ASCII characters")
		return
	}
	c := claim{tenant: v.TenantID.String(), user: v.UserID.String(), key: key, hash: RequestHash(r.Method, r.URL.RequestURI(), body), owner: newOwner()}
	m.cleanup(r.Context())

	ctx := r.Context()
	waitUntil := time.Now().Add(m.cfg.Wait)
	for pause := 20 * time.Millisecond; ; pause = min(2*pause, 250*time.Millisecond) {
		st, err := m.acquire(ctx, &c)
		if err != nil {
			m.cfg.Logger.ErrorContext(ctx, "idempotency: cannot claim the key", "err", err)
			refuse(w, graphql, http.StatusServiceUnavailable, "UNAVAILABLE", "service unavailable")
			return
		}
		switch st.outcome {
		case owned:
			metrics.Idempotency.WithLabelValues("executed").Inc()
			m.run(w, r, next, &c)
			return
		case mismatch:
			metrics.Idempotency.WithLabelValues("mismatch").Inc()
			refuse(w, graphql, http.StatusUnprocessableEntity, "IDEMPOTENCY_KEY_REUSED",
				Header+" was already used with a different request")
			return
		case replay:
			metrics.Idempotency.WithLabelValues("replayed").Inc()
			st.replay(w)
			return
		case lost:
			metrics.Idempotency.WithLabelValues("lost").Inc()
			refuse(w, graphql, http.StatusConflict, "IDEMPOTENCY_ANSWER_LOST",
				"the request with this "+Header+" was carried out, but its answer was not recorded")
			return
		case busy:
			if time.Now().Add(pause).After(waitUntil) {
				metrics.Idempotency.WithLabelValues("in_progress").Inc()
				w.Header().Set("Retry-After", "1")
				refuse(w, graphql, http.StatusConflict, "IDEMPOTENCY_KEY_IN_USE",
					"a request with this "+Header+" is still in progress; retry later")
				return
			}
			select {
			case <-time.After(pause):
			case <-ctx.Done(): // the request's deadline: the key is still in use
				metrics.Idempotency.WithLabelValues("in_progress").Inc()
				w.Header().Set("Retry-After", "1")
				refuse(w, graphql, http.StatusConflict, "IDEMPOTENCY_KEY_IN_USE",
					"a request with this "+Header+" is still in progress; retry later")
				return
			}
		}
	}
}

// RequestHash identifies a request for comparing repeats: method, path
// with query, body.
func RequestHash(method, uri string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(method + " " + uri + "\n"))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

type outcome int

const (
	owned    outcome = iota // this request runs
	mismatch                // same key, different request
	replay                  // the stored answer is returned
	busy                    // another request holds the key
	lost                    // carried out, answer not recorded, owner gone
)

type claim struct {
	tenant, user, key, hash, owner string
	committed                      atomic.Bool
}

type stored struct {
	outcome outcome
	status  int
	headers string
	body    []byte
}

func (s *stored) replay(w http.ResponseWriter) {
	var h map[string]string
	_ = json.Unmarshal([]byte(s.headers), &h)
	for k, v := range h {
		w.Header().Set(k, v)
	}
	w.Header().Set(ReplayedHeader, "true")
	w.WriteHeader(s.status)
	_, _ = w.Write(s.body)
}

func newOwner() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func nowMS() int64 { return time.Now().UnixMilli() }

// acquire claims the key, or reports what holds it.
func (m *middleware) acquire(ctx context.Context, c *claim) (*stored, error) {
	db := m.db
	now := nowMS()
	res, err := db.SQL.ExecContext(ctx, db.Rebind(`INSERT INTO idempotency_keys
		(tenant_id, user_id, idem_key, request_hash, owner, created_at, locked_until)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
		c.tenant, c.user, c.key, c.hash, c.owner, now, now+m.cfg.Lease.Milliseconds())
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return &stored{outcome: owned}, nil
	}
	var (
		s                    stored
		hash, owner          string
		done, committed      int
		created, lockedUntil int64
	)
	err = db.SQL.QueryRowContext(ctx, db.Rebind(`SELECT request_hash, owner, done, committed, status, headers, body, created_at, locked_until
		FROM idempotency_keys WHERE tenant_id = ? AND user_id = ? AND idem_key = ?`), c.tenant, c.user, c.key).
		Scan(&hash, &owner, &done, &committed, &s.status, &s.headers, &s.body, &created, &lockedUntil)
	if errors.Is(err, sql.ErrNoRows) { // expired and removed meanwhile
		return &stored{outcome: busy}, nil
	}
	if err != nil {
		return nil, err
	}
	switch {
	case created < now-m.cfg.TTL.Milliseconds():
		// Expired: forget it, then claim afresh.
		if _, err := db.SQL.ExecContext(ctx, db.Rebind(`DELETE FROM idempotency_keys
			WHERE tenant_id = ? AND user_id = ? AND idem_key = ? AND created_at = ?`), c.tenant, c.user, c.key, created); err != nil {
			return nil, err
		}
		return m.acquire(ctx, c)
	case hash != c.hash:
		return &stored{outcome: mismatch}, nil
	case done == 1:
		s.outcome = replay
		return &s, nil
	case lockedUntil > now:
		return &stored{outcome: busy}, nil
	case committed == 1:
		return &stored{outcome: lost}, nil
	}
	// The owner did not commit within its lease: take the claim over. Its
	// commit hook checks ownership in its own transaction, so it can no
	// longer write.
	res, err = db.SQL.ExecContext(ctx, db.Rebind(`UPDATE idempotency_keys SET owner = ?, locked_until = ?
		WHERE tenant_id = ? AND user_id = ? AND idem_key = ? AND owner = ? AND committed = 0 AND done = 0`),
		c.owner, now+m.cfg.Lease.Milliseconds(), c.tenant, c.user, c.key, owner)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return &stored{outcome: owned}, nil
	}
	return &stored{outcome: busy}, nil
}

// errNotOwner rolls back a write whose claim was taken over.
var errNotOwner = errors.New("idempotency: the key was taken over by a repeat of this request")

// run serves the request as the key's owner and records its answer.
func (m *middleware) run(w http.ResponseWriter, r *http.Request, next http.Handler, c *claim) {
	db := m.db
	hook := func(ctx context.Context, tx dialect.ExecQuerier) error {
		var res sql.Result
		if err := tx.Exec(ctx, db.Rebind(`UPDATE idempotency_keys SET committed = 1
			WHERE tenant_id = ? AND user_id = ? AND idem_key = ? AND owner = ?`),
			[]any{c.tenant, c.user, c.key, c.owner}, &res); err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errNotOwner
		}
		c.committed.Store(true)
		return nil
	}
	rec := &recorder{header: http.Header{}}
	next.ServeHTTP(rec, r.WithContext(store.WithCommitHook(r.Context(), hook)))
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	// Record the answer even when the client has gone: its retry wants it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	release := true
	if keep(c.committed.Load(), rec) {
		err := m.record(ctx, c, rec)
		// A transaction whose commit failed after its hook ran (a full
		// disk, a read-only file) wrote nothing: its key is released like
		// any failure's, so its retry runs again instead of replaying the
		// failure.
		release = errors.Is(err, errRolledBack)
		if err != nil && !release {
			m.cfg.Logger.ErrorContext(ctx, "idempotency: cannot record the answer", "key", c.key, "err", err)
		}
	}
	cancel()
	if release {
		// The failure is answered at once: when the database is what
		// failed (frozen, down), releasing the key could take as long
		// again. Until it is released a repeat waits, as for a request in
		// progress.
		go m.release(context.WithoutCancel(r.Context()), c)
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.body.Bytes())
}

// release frees c's key for a repeat, retrying while the database is
// unreachable (restarting, failed over): a repeat sent once it is back then
// runs within a pause instead of waiting out the lease, which frees the key
// in the end if the database stays away.
func (m *middleware) release(ctx context.Context, c *claim) {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Lease)
	defer cancel()
	db := m.db
	for pause := 50 * time.Millisecond; ; pause = min(2*pause, 500*time.Millisecond) {
		_, err := db.SQL.ExecContext(ctx, db.Rebind(`DELETE FROM idempotency_keys
			WHERE tenant_id = ? AND user_id = ? AND idem_key = ? AND owner = ? AND committed = 0`),
			c.tenant, c.user, c.key, c.owner)
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			m.cfg.Logger.WarnContext(ctx, "idempotency: cannot release the key; its lease will", "key", c.key, "err", err)
			return
		case <-time.After(pause):
		}
	}
}

// keep decides whether an answer is recorded: always after a commit;
// otherwise only a REST client error (deterministic, nothing written). A
// failure that wrote nothing (a 5xx, a GraphQL error) releases the key so
// a retry runs again.
func keep(committed bool, rec *recorder) bool {
	if committed {
		return true
	}
	if rec.status >= 500 {
		return false
	}
	var gql struct {
		Errors json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(rec.body.Bytes(), &gql) == nil && len(gql.Errors) > 0 && rec.status == http.StatusOK {
		return false
	}
	return true
}

// recordedHeaders are the handler's headers a replay repeats.
var recordedHeaders = []string{"Content-Type", "Location", "Cache-Control"}

// errRolledBack: the request's hook marked its claim committed, but its
// transaction did not commit (the claim row says so).
var errRolledBack = errors.New("the request's transaction did not commit")

func (m *middleware) record(ctx context.Context, c *claim, rec *recorder) error {
	h := map[string]string{}
	for _, k := range recordedHeaders {
		if v := rec.header.Get(k); v != "" {
			h[k] = v
		}
	}
	hj, _ := json.Marshal(h)
	committed := c.committed.Load()
	q := `UPDATE idempotency_keys SET done = 1, status = ?, headers = ?, body = ?
		WHERE tenant_id = ? AND user_id = ? AND idem_key = ? AND owner = ?`
	if committed {
		q += ` AND committed = 1`
	}
	res, err := m.db.SQL.ExecContext(ctx, m.db.Rebind(q),
		rec.status, string(hj), rec.body.Bytes(), c.tenant, c.user, c.key, c.owner)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		if committed {
			var owner string
			err := m.db.SQL.QueryRowContext(ctx, m.db.Rebind(`SELECT owner FROM idempotency_keys
				WHERE tenant_id = ? AND user_id = ? AND idem_key = ? AND committed = 0`), c.tenant, c.user, c.key).Scan(&owner)
			if err == nil && owner == c.owner {
				return errRolledBack
			}
		}
		return fmt.Errorf("claim of key %q was taken over", c.key)
	}
	return nil
}

// cleanup deletes expired keys, at most every ten minutes per instance.
func (m *middleware) cleanup(ctx context.Context) {
	last := m.lastCleanup.Load()
	now := nowMS()
	if now-last < (10*time.Minute).Milliseconds() || !m.lastCleanup.CompareAndSwap(last, now) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, err := m.db.SQL.ExecContext(ctx, m.db.Rebind(`DELETE FROM idempotency_keys WHERE created_at < ?`),
			now-m.cfg.TTL.Milliseconds()); err != nil {
			m.cfg.Logger.WarnContext(ctx, "idempotency: cleanup failed", "err", err)
		}
	}()
}

// refuse answers in the transport's error shape.
func refuse(w http.ResponseWriter, graphql bool, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	var v any = map[string]string{"error": msg}
	if graphql {
		v = map[string]any{"errors": []any{map[string]any{"message": msg, "extensions": map[string]string{"code": code}}}}
	}
	_ = json.NewEncoder(w).Encode(v)
}

// recorder buffers the answer so it can be recorded before it is sent.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// ConfigFromEnv reads CONECRM_IDEMPOTENCY_LEASE.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var c Config
	if s := getenv("CONECRM_IDEMPOTENCY_LEASE"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("CONECRM_IDEMPOTENCY_LEASE must be a positive duration such as 30s, not %q", s)
		}
		c.Lease = d
	}
	return c, nil
}
