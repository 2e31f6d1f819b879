package store

import (
	"context"
	"database/sql/driver"
	"io"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// The end of a read's context interrupts it on SQLite without a goroutine.
//
// modernc.org/sqlite watches the context of every call that has a Done
// channel with a goroutine of its own (interruptOnDone: a goroutine, a
// channel and a progress handler set and cleared per statement) — on the
// single-node request that was ~3 % of the process's CPU, for statements
// that take tens of microseconds and are almost never cancelled. For the
// reads outside transactions (the statement cache's SELECTs) the driver
// is given the context without its cancellation instead, and the
// connection watches the real one with context.AfterFunc, which costs no
// goroutine until the context ends: then it sets the connection's flag,
// which a progress handler returns to SQLite every sqliteProgressOps
// virtual-machine steps (so an end that lands before the statement starts,
// when SQLite would clear an interrupt, still stops it), and calls
// sqlite3_interrupt, which stops it between steps of long operations too.
// The watch lasts until the statement's rows are closed, so a slow scan is
// interrupted between rows too (modernc watches only its first step).
//
// Writes and everything inside a transaction keep the driver's own path:
// a wait for the write lock (busy_timeout) ends with the context only
// there. A read outside a transaction waits for a lock only while SQLite
// recovers the WAL (the first connection after a crash); that wait is
// bounded by busy_timeout alone.
type sqliteWatch struct {
	db  uintptr      // the connection's sqlite3 handle
	tls *libc.TLS    // for installing the progress handler (our calls only)
	ctl atomic.Int32 // 1 once the watched context ended; the progress handler's answer

	mu     sync.Mutex
	gen    uint64      // moves at every watch and unwatch: an old watch's callback is void
	stop   func() bool // the armed context.AfterFunc
	closed bool
}

// sqliteProgressOps is how many virtual-machine steps SQLite runs between
// calls of the progress handler (modernc's own choice).
const sqliteProgressOps = 1000

// sqliteWatches finds a connection's watch from its handle, for the
// progress handler.
var sqliteWatches sync.Map // uintptr -> *sqliteWatch

func sqliteProgress(_ *libc.TLS, db uintptr) int32 {
	if w, ok := sqliteWatches.Load(db); ok {
		return w.(*sqliteWatch).ctl.Load()
	}
	return 0
}

// sqliteProgressFunc is sqliteProgress as SQLite's C code calls it (a Go
// func value's pointer, as modernc passes its own callbacks).
var sqliteProgressFunc = *(*uintptr)(unsafe.Pointer(&struct {
	f func(*libc.TLS, uintptr) int32
}{sqliteProgress}))

// newSQLiteWatch returns the watch of a modernc connection, or nil when
// its handle cannot be read (another driver version: the connection then
// keeps the driver's own watch; TestSQLiteReadsAreWatchedWithoutAGoroutine
// fails).
func newSQLiteWatch(c driver.Conn) *sqliteWatch {
	v := reflect.ValueOf(c)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	f := v.Elem().FieldByName("db")
	if !f.IsValid() || f.Kind() != reflect.Uintptr || f.Uint() == 0 {
		return nil
	}
	w := &sqliteWatch{db: uintptr(f.Uint()), tls: libc.NewTLS()}
	sqliteWatches.Store(w.db, w)
	return w
}

// watch makes the end of ctx stop the connection's statement, until
// unwatch. It returns ctx's error, without watching, when ctx has ended.
func (w *sqliteWatch) watch(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Set on every watch: the driver's own watch, on a call that had one,
	// clears the handler when it ends.
	sqlite3.Xsqlite3_progress_handler(w.tls, w.db, sqliteProgressOps, sqliteProgressFunc, w.db)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.gen++
	gen := w.gen
	w.stop = context.AfterFunc(ctx, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.gen != gen || w.closed {
			return
		}
		w.ctl.Store(1)
		// A TLS of its own: this runs beside the statement, which may be
		// using the connection's (sqlite3_interrupt is one atomic store
		// today, as modernc notes for its own call).
		tls := libc.NewTLS()
		sqlite3.Xsqlite3_interrupt(tls, w.db)
		tls.Close()
	})
	return nil
}

// unwatch ends the watch: once it returns, the context's end stops
// nothing on this connection.
func (w *sqliteWatch) unwatch() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stop != nil {
		w.stop()
		w.stop = nil
	}
	w.gen++
	w.ctl.Store(0)
}

// close forgets the connection (before the driver closes it).
func (w *sqliteWatch) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stop != nil {
		w.stop()
		w.stop = nil
	}
	w.closed = true
	sqliteWatches.Delete(w.db)
	w.tls.Close()
}

// handoff is the context of a cached ent read, as database/sql sees it:
// its Done channel is the statement's until the connection has taken over
// watching it (SQLite: stmt.watchedQuery; PostgreSQL: the socket's watch,
// stmt.QueryContext), then nil.
//
// database/sql reads a query's Done channel twice: to give up waiting for
// a connection of the pool, and, once the driver returned the rows, to
// decide whether to watch them with a goroutine of its own (Rows.
// initContextClose: a context.WithCancel and a goroutine per query, which
// closes the rows when the context ends). The connection's watch already
// interrupts those rows, so the second read is answered with nil. This
// bends "successive calls to Done return the same value" in one place
// only, where the one reader that can see the change is database/sql
// between those two reads; Err, Deadline and Value stay the statement's.
type handoff struct {
	context.Context
	taken atomic.Bool
}

func (h *handoff) Done() <-chan struct{} {
	if h.taken.Load() {
		return nil
	}
	return h.Context.Done()
}

// plainRead reports whether q is a statement the watch may serve: a
// SELECT (ent's reads all are; a WITH may write).
func plainRead(q string) bool {
	return strings.HasPrefix(q, "SELECT ")
}

// watchedRows ends its connection's watch when closed. It forwards the
// column metadata database/sql asks a driver's rows for.
type watchedRows struct {
	driver.Rows
	w   *sqliteWatch
	ctx context.Context // the statement's
}

// Next reports an interrupted step as the end of the statement's context
// (what database/sql's own watch reported).
func (r *watchedRows) Next(dest []driver.Value) error {
	err := r.Rows.Next(dest)
	if err != nil && err != io.EOF {
		return ended(r.ctx, err)
	}
	return err
}

func (r *watchedRows) Close() error {
	err := r.Rows.Close()
	r.w.unwatch()
	return err
}

func (r *watchedRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *watchedRows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *watchedRows) ColumnTypeNullable(i int) (bool, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *watchedRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

func (r *watchedRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}
