package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
	"modernc.org/sqlite"

	"github.com/conecrm/gateway/internal/tenancy"
)

// ErrUnavailable marks a connection refused without an attempt because the
// previous attempts failed and the backoff has not elapsed.
var ErrUnavailable = errors.New("database unavailable")

// gate spaces out connection attempts while the database is unreachable:
// after a failure, Connect fails at once (with the last error) until the
// backoff has elapsed; then one caller probes while the others keep failing
// fast. An outage thus costs about one attempt per RetryMax instead of one
// per request, and recovery is noticed within RetryMax.
type gate struct {
	min, max time.Duration

	mu      sync.Mutex
	failing bool
	backoff time.Duration
	next    time.Time
	lastErr error

	attempts, failures atomic.Int64
}

func (g *gate) enter() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.failing {
		now := time.Now()
		if now.Before(g.next) {
			return fmt.Errorf("%w (retrying in %s): %w", ErrUnavailable, g.next.Sub(now).Round(time.Millisecond), g.lastErr)
		}
		g.next = now.Add(g.backoff) // this caller is the probe
	}
	g.attempts.Add(1)
	return nil
}

func (g *gate) done(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err == nil {
		g.failing, g.backoff, g.lastErr = false, 0, nil
		return
	}
	g.failures.Add(1)
	if !g.failing {
		g.failing, g.backoff = true, g.min
	} else {
		g.backoff = min(2*g.backoff, g.max)
	}
	g.next, g.lastErr = time.Now().Add(g.backoff), err
}

// pgConnector opens lib/pq connections through the gate, over sockets that
// honour the context of the statement using them.
//
// lib/pq answers a cancelled context by sending a cancel request, but keeps
// waiting on the socket: against a frozen server (SIGSTOP, a network
// partition) the statement hangs until TCP gives up, whatever the request's
// deadline. Here the context's end also puts the socket's deadline in the
// past, so the blocked read fails at once and the connection is discarded.
type pgConnector struct {
	pq   *pq.Connector
	gate *gate
	auth *AuthWatch
}

type dialSlot struct {
	mu sync.Mutex
	nc *watchedConn
}

type dialSlotKey struct{}

type dialer struct{ d net.Dialer }

func (d *dialer) Dial(network, addr string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, addr)
}

func (d *dialer) DialTimeout(network, addr string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, network, addr)
}

func (d *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	nc, err := d.d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	w := &watchedConn{Conn: nc}
	if s, ok := ctx.Value(dialSlotKey{}).(*dialSlot); ok {
		s.mu.Lock()
		s.nc = w
		s.mu.Unlock()
	}
	return w, nil
}

func (c *pgConnector) Driver() driver.Driver { return c.pq.Driver() }

func (c *pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := c.gate.enter(); err != nil {
		return nil, err
	}
	slot := &dialSlot{}
	// The handshake is bounded by connect_timeout; a caller's earlier
	// deadline (a readiness check) cuts it short too.
	stop := context.AfterFunc(ctx, func() {
		slot.mu.Lock()
		defer slot.mu.Unlock()
		if slot.nc != nil {
			_ = slot.nc.Conn.SetDeadline(time.Unix(1, 0))
		}
	})
	inner, err := c.pq.Connect(context.WithValue(ctx, dialSlotKey{}, slot))
	stop()
	c.gate.done(err)
	if err != nil {
		return nil, err
	}
	if err := setSession(ctx, inner); err != nil {
		inner.Close()
		return nil, err
	}
	slot.mu.Lock()
	nc := slot.nc
	slot.mu.Unlock()
	if nc == nil { // a unix socket dialled elsewhere: nothing to watch
		return &conn{Conn: inner, auth: c.auth}, nil
	}
	_ = nc.Conn.SetDeadline(time.Time{})
	return &conn{Conn: inner, nc: nc, auth: c.auth}, nil
}

// sessionSettings is what every connection sets before its first
// statement (after the handshake, not as a startup parameter, which a
// pooler such as PgBouncer refuses).
//
// enable_memoize = off: PostgreSQL sizes the Memoize cache it may put in
// front of a nested loop's inner lookups for every row the outer side
// could return, not for the rows a LIMIT lets through, and builds (and
// zeroes) that hash table on every execution. Under the lead screen's page
// of 50 leads, whose joined contacts and accounts are primary-key lookups,
// that was a table for the 30,000 contacts of the bench data on every
// request: 40 % of the statement's execution (docs/benchmarks.md, session
// 7). The gateway's statements are pages and id lookups, which a cache of
// repeated keys cannot make much cheaper than a primary-key lookup.
const sessionSettings = "SET enable_memoize = off"

func setSession(ctx context.Context, c driver.Conn) error {
	ex, ok := c.(driver.ExecerContext)
	if !ok {
		return fmt.Errorf("store: %T cannot execute statements", c)
	}
	_, err := ex.ExecContext(ctx, sessionSettings, nil)
	return err
}

// watchedConn is a socket whose deadline follows the context of the
// statement currently using it.
type watchedConn struct {
	net.Conn
	mu   sync.Mutex
	gen  uint64
	stop func() bool
}

// watch makes the end of ctx interrupt any read or write on the socket,
// until the next watch or unwatch.
func (w *watchedConn) watch(ctx context.Context) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.release()
	if ctx.Done() == nil {
		return
	}
	gen := w.gen
	w.stop = context.AfterFunc(ctx, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.gen == gen {
			_ = w.Conn.SetDeadline(time.Unix(1, 0))
		}
	})
}

func (w *watchedConn) unwatch() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.release()
}

func (w *watchedConn) release() {
	if w.stop != nil {
		w.stop()
		w.stop = nil
	}
	w.gen++
	_ = w.Conn.SetDeadline(time.Time{})
}

// conn wraps a driver connection. On PostgreSQL it points the socket's
// deadline at each statement's context (nc); on SQLite it remembers errors
// that leave the connection unusable (a file that became read-only, a full
// disk, an I/O error) so the pool discards it instead of handing it out
// again: once the file is writable, fresh connections work.
//
// On both it tells auth of every statement that may have changed the
// tables viewers are read from (writesAuth): right after it, and again
// when its transaction ends — after the commit, which is what makes the
// change visible, and before anything the write's request answers. Every
// statement of the process goes through here (ent, hand-written SQL on
// DB.SQL, River, migrations, seeding), so no writer can bypass it. A
// statement whose context confines it to one tenant (tenancy.WriteTenant:
// an ent mutation under a viewer) moves that tenant's generation, any
// other every tenant's.
type conn struct {
	driver.Conn
	nc   *watchedConn
	sw   *sqliteWatch // SQLite: interrupts a plain read when its context ends (sqliteinterrupt.go)
	bad  atomic.Bool
	sq   *sqliteConnector // SQLite: the connector, and the generation opened in
	gen  uint64
	auth *AuthWatch
	// A connection serves one statement or transaction at a time
	// (database/sql's contract), so these need no lock.
	inTx  bool      // a transaction is open
	dirty authScope // the tenants whose AuthTables rows it changed
}

// authScope is whose viewers writes may have changed: every tenant's
// (all), or those of a few tenants.
type authScope struct {
	all     bool
	tenants []uuid.UUID
}

func (s *authScope) add(tenant uuid.UUID, known bool) {
	switch {
	case !known:
		s.all = true
	case !slices.Contains(s.tenants, tenant):
		s.tenants = append(s.tenants, tenant)
	}
}

// move moves the generations of s's tenants (of every one when all).
func (s *authScope) move(w *AuthWatch) {
	if s.all {
		w.Changed()
		return
	}
	for _, t := range s.tenants {
		w.ChangedTenant(t)
	}
}

func (s *authScope) reset() { s.all, s.tenants = false, s.tenants[:0] }

// writeScope is the tenant a statement run under ctx may have changed the
// viewers of: known only when ctx confines its writes to one tenant and
// the statement names no global table.
func writeScope(ctx context.Context, global bool) (uuid.UUID, bool) {
	if global {
		return uuid.Nil, false
	}
	return tenancy.WriteTenant(ctx)
}

// wrote notes that a statement that may change AuthTables ran under ctx
// (global: it names a table of no tenant).
func (c *conn) wrote(ctx context.Context, global bool) (uuid.UUID, bool) {
	if c.auth == nil {
		return uuid.Nil, false
	}
	t, known := writeScope(ctx, global)
	c.auth.changed(t, known)
	if c.inTx {
		c.dirty.add(t, known)
	}
	return t, known
}

// wroteRows is wrote for a write that returns rows (INSERT … RETURNING):
// outside a transaction it commits only once its rows are read, so the
// generation moves again when they are closed.
func (c *conn) wroteRows(ctx context.Context, global bool, r driver.Rows) driver.Rows {
	t, known := c.wrote(ctx, global)
	if r == nil || c.auth == nil {
		return r
	}
	return &authRows{Rows: r, auth: c.auth, tenant: t, known: known}
}

type authRows struct {
	driver.Rows
	auth   *AuthWatch
	tenant uuid.UUID
	known  bool
}

func (r *authRows) Close() error {
	err := r.Rows.Close()
	r.auth.changed(r.tenant, r.known)
	return err
}

// txEnded moves the generations again once a transaction that changed
// AuthTables has ended: a viewer read between the statement and the commit
// saw the old rows and must not be trusted.
func (c *conn) txEnded() {
	c.dirty.move(c.auth)
	c.inTx = false
	c.dirty.reset()
}

func (c *conn) use(ctx context.Context) {
	if c.nc != nil {
		c.nc.watch(ctx)
	}
}

func (c *conn) note(err error) error {
	if err != nil && c.sq != nil && sqliteBroken(err) {
		c.bad.Store(true)
		c.sq.broken(c.gen)
	}
	return err
}

// stale reports a connection of an SQLite generation that saw the file
// broken.
func (c *conn) stale() bool { return c.bad.Load() || c.sq != nil && c.sq.stale(c.gen) }

func (c *conn) Close() error {
	if c.sw != nil {
		c.sw.close()
	}
	err := c.Conn.Close()
	if c.sq != nil {
		c.sq.closed(c.gen)
	}
	return err
}

// ended makes a statement cut short by its context's end report that end
// (a socket timeout says nothing of the deadline that caused it).
func ended(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	return err
}

func (c *conn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	c.use(ctx)
	s, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, q)
	if err != nil {
		return nil, ended(ctx, c.note(err))
	}
	writes, global := classifyAuth(q)
	return &stmt{Stmt: s, c: c, writesAuth: writes, global: global, read: plainRead(q)}, nil
}

// stmt is a prepared statement of conn: each execution, which database/sql
// may run long after the statement was prepared, governs the socket with
// its own context.
//
// On PostgreSQL the driver gets a context without cancellation: lib/pq's
// prepared statements answer a cancelled context by waiting for a cancel
// request to go through, up to connect_timeout against a frozen server.
// The socket deadline ends the statement instead (the connection is then
// discarded); the server-side bound is the statement timeout.
type stmt struct {
	driver.Stmt
	c          *conn
	writesAuth bool // classified once, when prepared
	global     bool // it names a table of no tenant
	read       bool // a SELECT (plainRead)
}

func (s *stmt) driverContext(ctx context.Context) context.Context {
	if s.c.nc != nil {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.c.use(ctx)
	r, err := s.Stmt.(driver.StmtExecContext).ExecContext(s.driverContext(ctx), args)
	if s.writesAuth {
		s.c.wrote(ctx, s.global)
	}
	return r, ended(ctx, s.c.note(err))
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if w := s.c.sw; w != nil && s.read && !s.c.inTx && ctx.Done() != nil {
		return s.watchedQuery(ctx, w, args)
	}
	h, _ := ctx.(*handoff)
	if h != nil {
		ctx = h.Context
	}
	s.c.use(ctx)
	r, err := s.Stmt.(driver.StmtQueryContext).QueryContext(s.driverContext(ctx), args)
	if h != nil && err == nil && s.c.nc != nil {
		// The socket's watch interrupts these rows until the connection
		// returns to the pool (IsValid): database/sql need not watch them.
		h.taken.Store(true)
	}
	if s.writesAuth {
		r = s.c.wroteRows(ctx, s.global, r)
	}
	return r, ended(ctx, s.c.note(err))
}

// watchedQuery runs a plain SQLite read with the driver given ctx without
// its cancellation, and the connection's watch interrupting it when ctx
// ends (sqliteinterrupt.go), until its rows are closed.
//
// Given a handoff (prepared.query), it also tells database/sql not to
// watch the rows: the connection does.
func (s *stmt) watchedQuery(ctx context.Context, w *sqliteWatch, args []driver.NamedValue) (driver.Rows, error) {
	h, _ := ctx.(*handoff)
	if h != nil {
		ctx = h.Context
	}
	if err := w.watch(ctx); err != nil {
		return nil, err
	}
	r, err := s.Stmt.(driver.StmtQueryContext).QueryContext(context.WithoutCancel(ctx), args)
	if err != nil {
		w.unwatch()
		return nil, ended(ctx, s.c.note(err))
	}
	if h != nil {
		h.taken.Store(true)
	}
	return &watchedRows{Rows: r, w: w, ctx: ctx}, nil
}

func (s *stmt) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return s.c.CheckNamedValue(nv)
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.use(ctx)
	t, err := c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, ended(ctx, c.note(err))
	}
	c.inTx = true
	c.dirty.reset()
	return &tx{t, c}, nil
}

func (c *conn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	c.use(ctx)
	r, err := e.ExecContext(ctx, q, args)
	if writes, global := classifyAuth(q); writes {
		c.wrote(ctx, global)
	}
	return r, ended(ctx, c.note(err))
}

func (c *conn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	qc, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	c.use(ctx)
	r, err := qc.QueryContext(ctx, q, args)
	if writes, global := classifyAuth(q); writes {
		r = c.wroteRows(ctx, global, r)
	}
	return r, ended(ctx, c.note(err))
}

func (c *conn) Ping(ctx context.Context) error {
	p, ok := c.Conn.(driver.Pinger)
	if !ok {
		return nil
	}
	c.use(ctx)
	return ended(ctx, c.note(p.Ping(ctx)))
}

func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// ResetSession runs when the pool hands the connection out again.
func (c *conn) ResetSession(ctx context.Context) error {
	if c.stale() {
		return driver.ErrBadConn
	}
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

// IsValid is asked when the connection returns to the pool, its statement
// or transaction done: the socket's watch ends there, before the request's
// context does — a watch still armed when it ended would cost a goroutine
// (context.AfterFunc's) and a deadline set on an idle socket per request.
func (c *conn) IsValid() bool {
	if c.nc != nil {
		c.nc.unwatch()
	}
	if c.stale() {
		return false
	}
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

type tx struct {
	driver.Tx
	c *conn
}

func (t *tx) Commit() error {
	err := t.Tx.Commit()
	t.c.txEnded()
	return t.c.note(err)
}

func (t *tx) Rollback() error {
	err := t.Tx.Rollback()
	t.c.txEnded()
	return t.c.note(err)
}

// SQLite result codes (the primary code is the low byte of an extended one).
const (
	sqliteIOErr    = 10
	sqliteReadOnly = 8
	sqliteFull     = 13
	sqliteCantOpen = 14
	sqliteCorrupt  = 11
	sqliteNotADB   = 26
	sqliteBusy     = 5
	sqliteLocked   = 6
)

// sqliteBroken reports whether err leaves an SQLite connection unfit for
// reuse. A connection opened while the file was read-only stays read-only
// for life, and one that hit an I/O error may hold a stale view of the file.
func sqliteBroken(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() & 0xff {
	case sqliteIOErr, sqliteReadOnly, sqliteFull, sqliteCantOpen, sqliteCorrupt, sqliteNotADB:
		return true
	}
	return false
}

// IsStorageFull reports whether err is SQLite finding no room to write.
func IsStorageFull(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqliteFull
}

// sqliteConnector opens SQLite connections wrapped in conn.
//
// SQLite shares a file's locks and shared memory (-shm) among all the
// connections of a process: a connection opened beside one that found the
// file read-only inherits that read-only state, and keeps it alive. So the
// first storage error of a generation of connections ends the whole
// generation: its idle connections are closed at once (drop), the others
// as they return, and a new connection waits (a bounded while) until none
// of an older generation is open, so it opens the file afresh.
type sqliteConnector struct {
	dsn  string
	drv  driver.Driver // the registered "sqlite" driver, with its functions
	drop func()        // closes the pool's idle connections
	auth *AuthWatch

	mu   sync.Mutex
	gen  uint64
	open map[uint64]int // open connections by generation
}

// generationDrain bounds how long a new connection waits for the older
// generation's connections to close (a request holding one finishes first).
const generationDrain = 2 * time.Second

func (c *sqliteConnector) Driver() driver.Driver { return c.drv }

func (c *sqliteConnector) Connect(ctx context.Context) (driver.Conn, error) {
	deadline := time.Now().Add(generationDrain)
	for {
		c.mu.Lock()
		old := 0
		for g, n := range c.open {
			if g < c.gen {
				old += n
			}
		}
		if old == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			gen := c.gen
			c.open[gen]++
			c.mu.Unlock()
			inner, err := c.drv.Open(c.dsn)
			if err != nil {
				c.closed(gen)
				return nil, err
			}
			return &conn{Conn: inner, sq: c, gen: gen, auth: c.auth, sw: newSQLiteWatch(inner)}, nil
		}
		c.mu.Unlock()
		time.Sleep(2 * time.Millisecond)
	}
}

// broken ends generation gen (once).
func (c *sqliteConnector) broken(gen uint64) {
	c.mu.Lock()
	ended := gen == c.gen
	if ended {
		c.gen++
	}
	c.mu.Unlock()
	if ended && c.drop != nil {
		go c.drop()
	}
}

func (c *sqliteConnector) stale(gen uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return gen < c.gen
}

func (c *sqliteConnector) closed(gen uint64) {
	c.mu.Lock()
	if c.open[gen]--; c.open[gen] <= 0 {
		delete(c.open, gen)
	}
	c.mu.Unlock()
}
