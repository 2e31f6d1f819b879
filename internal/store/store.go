// Package store opens the database behind the gateway: the embedded SQLite
// file by default, PostgreSQL when given a postgres:// URL. It also migrates
// the schema and counts the SQL statements a request issues.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	"github.com/lib/pq"    // PostgreSQL driver
	_ "modernc.org/sqlite" // SQLite driver (pure Go)

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/migrate"
	_ "github.com/conecrm/gateway/ent/runtime" // schema hooks and interceptors
)

// DB is an open database: the ent client, the raw pool and the statement counter.
type DB struct {
	*ent.Client
	SQL     *sql.DB
	Dialect string // dialect.SQLite or dialect.Postgres
	Counter *Counter
	// New is true when the embedded SQLite file did not exist before Open.
	New bool

	stopOptimize func() // ends the periodic PRAGMA optimize (SQLite)
	prepared     *prepared
	gate         *gate  // PostgreSQL's connection backoff; nil on SQLite
	file         string // the SQLite file
	url          string // what Open was given (ListenAuthChanges connects to it)
	auth         *AuthWatch
}

// AuthWatch returns the watch over the tables viewers are read from.
func (db *DB) AuthWatch() *AuthWatch { return db.auth }

// IsPostgres reports whether url names a PostgreSQL database.
func IsPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// Open opens url (a postgres:// URL, or a path to an SQLite file) with
// DefaultOptions.
func Open(ctx context.Context, url string) (*DB, error) {
	return OpenWith(ctx, url, DefaultOptions())
}

// OpenWith opens url within the limits of o and checks that it answers.
func OpenWith(ctx context.Context, url string, o Options) (*DB, error) {
	var (
		db      *sql.DB
		d       string
		created bool
		g       *gate
	)
	o = o.withDefaults(IsPostgres(url))
	auth := newAuthWatch(IsPostgres(url))
	if IsPostgres(url) {
		d = dialect.Postgres
		c, err := pq.NewConnector(withTextResults(withConnectTimeout(url, o.ConnectTimeout)))
		if err != nil {
			return nil, err
		}
		c.Dialer(&dialer{d: net.Dialer{Timeout: o.ConnectTimeout, KeepAlive: 30 * time.Second}})
		g = &gate{min: o.RetryMin, max: o.RetryMax}
		db = sql.OpenDB(&pgConnector{pq: c, gate: g, auth: auth})
	} else {
		d = dialect.SQLite
		// The data is readable by the server's user only: directory 0700,
		// database file 0600 (SQLite gives its -wal and -shm files the
		// database file's mode).
		if err := os.MkdirAll(filepath.Dir(url), 0o700); err != nil {
			return nil, fmt.Errorf("store: create data directory: %w", err)
		}
		if _, statErr := os.Stat(url); os.IsNotExist(statErr) {
			created = true
			f, err := os.OpenFile(url, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return nil, fmt.Errorf("store: create database file: %w", err)
			}
			f.Close()
		}
		// WAL lets readers run beside the writer; immediate transactions take
		// the write lock up front so concurrent writers queue on busy_timeout
		// instead of failing on a lock upgrade.
		// optimize(0x10002) on every new connection analyses the tables
		// whose statistics are missing or stale (SQLite >= 3.46, with its own
		// analysis limit, so it stays cheap): without statistics SQLite plans
		// the joins and window functions of nested lists badly (seconds
		// instead of milliseconds on bench-sized data). analysis_limit,
		// set first, keeps every ANALYZE of the connection to sqlite_stat1
		// (see AnalysisLimit).
		dsn := "file:" + url + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
			"&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)" +
			"&_pragma=cache_size(-" + strconv.Itoa(o.SQLiteCacheKiB) + ")" +
			"&_pragma=analysis_limit(" + strconv.Itoa(AnalysisLimit) + ")&_pragma=optimize(0x10002)" +
			"&_txlock=immediate&_time_format=sqlite"
		reg, err := sql.Open("sqlite", "")
		if err != nil {
			return nil, err
		}
		drv := reg.Driver()
		reg.Close()
		sc := &sqliteConnector{dsn: dsn, drv: drv, open: map[uint64]int{}, auth: auth}
		db = sql.OpenDB(sc)
		pool, idle := db, o.MaxIdleConns
		sc.drop = func() { pool.SetMaxIdleConns(0); pool.SetMaxIdleConns(idle) }
	}
	db.SetMaxOpenConns(o.MaxOpenConns)
	db.SetMaxIdleConns(o.MaxIdleConns)
	db.SetConnMaxLifetime(o.ConnMaxLifetime)
	db.SetConnMaxIdleTime(o.ConnMaxIdleTime)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	counter := &Counter{}
	p := newPrepared(db, d == dialect.Postgres, max(o.StatementCache, 0), counter)
	drv := counter.wrap(entsql.OpenDB(d, db), p)
	if d == dialect.SQLite {
		// Outside the counter: its reads go through prepared statements.
		drv = textGuard{drv}
	}
	out := &DB{Client: ent.NewClient(ent.Driver(drv)), SQL: db, Dialect: d, Counter: counter, New: created, stopOptimize: func() {}, prepared: p, gate: g, file: url, url: url, auth: auth}
	if d == dialect.SQLite {
		out.stopOptimize = out.optimizeEvery(OptimizeInterval)
	}
	return out, nil
}

// AnalysisLimit is SQLite's analysis_limit on every connection: the rows
// ANALYZE reads per index, so high that it reads them all on any table of
// a CRM tenant. Any limit makes ANALYZE write sqlite_stat1 only, no
// sqlite_stat4 samples — and that is the point: with samples SQLite marks
// every statement whose plan a bound value could change as expired at each
// new binding and parses and plans it again on its next step, so the
// statements kept prepared (prepared.go) were re-prepared on every
// execution (30 % of the process's CPU on the single-node request, half of
// it the viewer's statement). ent binds every value, so the samples could
// only ever choose a plan per value; stat1's averages plan the same
// indexes (graph/plan_test.go).
const AnalysisLimit = 1 << 30

// OptimizeInterval is how often an open SQLite database re-checks its
// planner statistics (PRAGMA optimize), as SQLite recommends for
// long-lived connections; it is also run at Close.
const OptimizeInterval = time.Hour

// optimizeEvery runs PRAGMA optimize every d until the returned function is
// called. PostgreSQL needs nothing of the kind: autovacuum analyses.
func (db *DB) optimizeEvery(d time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_, _ = db.SQL.Exec("PRAGMA optimize")
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-finished
		})
	}
}

// Analyze gathers planner statistics for every table. Bulk seeding and
// migrate end with it: a freshly filled database otherwise has none
// (SQLite never gathers them by itself; PostgreSQL's autovacuum only after
// a while), and the first requests are planned blind.
func (db *DB) Analyze(ctx context.Context) error {
	_, err := db.SQL.ExecContext(ctx, "ANALYZE")
	return err
}

// Close stops the periodic optimization, lets SQLite update its statistics
// one last time and closes the database.
func (db *DB) Close() error {
	db.auth.stop()
	db.stopOptimize()
	db.prepared.close()
	if db.Dialect == dialect.SQLite {
		_, _ = db.SQL.Exec("PRAGMA optimize")
	}
	return db.Client.Close()
}

// schemaMu serialises migrations within the process: ent's schema
// migration (and noAuditForeignKeys) writes ent's global migrate.Tables,
// which the later steps read, so two databases migrated at once (parallel
// tests) crashed with concurrent map writes.
var schemaMu sync.Mutex

// Migrate creates or updates the schema; running it again changes nothing.
// River's tables are migrated with ours.
func (db *DB) Migrate(ctx context.Context) error {
	schemaMu.Lock()
	defer schemaMu.Unlock()
	// Through a driver of its own: atlas asserts its rows are *sql.Rows,
	// which the statement cache's are not on PostgreSQL (uuidRows).
	plain := migrate.NewSchema(entsql.OpenDB(db.Dialect, db.SQL))
	if err := plain.Create(ctx, migrate.WithForeignKeys(true), schema.WithHooks(indexJoinTables, noAuditForeignKeys)); err != nil {
		return err
	}
	if err := db.migrateTables(ctx); err != nil {
		return err
	}
	if err := db.migrateRoundRobinCursors(ctx); err != nil {
		return err
	}
	if err := db.dropReplacedSortIndexes(ctx); err != nil {
		return err
	}
	if err := db.dropStat4(ctx); err != nil {
		return err
	}
	if err := db.migrateAuthTriggers(ctx); err != nil {
		return err
	}
	return db.migrateRiver(ctx)
}

// noAuditForeignKeys leaves the audit edges (created_by, modified_by,
// deleted_by: ent/schema/mixin.go) and a lead's lifecycle users
// (first_modified_by, connection_closed_by, lost_by, first_open_by) without
// foreign keys, as their columns
// were before they became edges, so existing databases migrate unchanged:
// the hooks stamp them with the viewer, and a key would add a check on
// users to every write of every table.
func noAuditForeignKeys(next schema.Creator) schema.Creator {
	return schema.CreateFunc(func(ctx context.Context, tables ...*schema.Table) error {
		for _, t := range tables {
			keep := t.ForeignKeys[:0]
			for _, fk := range t.ForeignKeys {
				if len(fk.Columns) == 1 && fk.RefTable != nil && fk.RefTable.Name == "users" &&
					(audited[fk.Columns[0].Name] || t.Name == "leads" && leadUsers[fk.Columns[0].Name]) {
					continue
				}
				keep = append(keep, fk)
			}
			t.ForeignKeys = keep
		}
		return next.Create(ctx, tables...)
	})
}

var (
	audited   = map[string]bool{"created_by_id": true, "modified_by_id": true, "deleted_by_id": true}
	leadUsers = map[string]bool{"first_modified_by_id": true, "connection_closed_by_id": true, "lost_by_id": true, "first_open_by_id": true}
)

// dropReplacedSortIndexes drops the indexes the sort indexes replaced: a
// list's sort index ends with the id since (ent/schema's sortIndex), and
// ent names it like the one without the id plus "_id"; ent's migration
// creates the new index but leaves the old one, which every write would
// keep updating for nothing. A database that had them is analysed again:
// the new indexes have no statistics yet.
func (db *DB) dropReplacedSortIndexes(ctx context.Context) error {
	list := `SELECT name FROM sqlite_schema WHERE type = 'index'`
	if db.Dialect == dialect.Postgres {
		list = `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()`
	}
	rows, err := db.SQL.QueryContext(ctx, list)
	if err != nil {
		return err
	}
	existing := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		existing[n] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// An index the schema still declares is never dropped, whatever its
	// name: ent would create it again at every start.
	declared := map[string]bool{}
	for _, t := range migrate.Tables {
		for _, idx := range t.Indexes {
			declared[idx.Name] = true
		}
	}
	var drop []string
	for _, t := range migrate.Tables {
		for _, idx := range t.Indexes {
			n := len(idx.Columns)
			if old := strings.TrimSuffix(idx.Name, "_id"); n >= 3 && idx.Columns[n-1].Name == "id" && old != idx.Name && existing[old] && !declared[old] {
				drop = append(drop, old)
			}
			// The date_created indexes ended with the id for a while
			// (ent/schema's record mixin says why they no longer do).
			if strings.HasSuffix(idx.Name, "_date_created") && existing[idx.Name+"_id"] && !declared[idx.Name+"_id"] {
				drop = append(drop, idx.Name+"_id")
			}
		}
	}
	for _, name := range drop {
		if _, err := db.SQL.ExecContext(ctx, "DROP INDEX "+name); err != nil {
			return err
		}
	}
	if len(drop) > 0 {
		return db.Analyze(ctx)
	}
	return nil
}

// dropStat4 re-analyses an SQLite database that still holds sqlite_stat4
// samples (gathered before AnalysisLimit): the new statistics are stat1
// only, and the samples go.
func (db *DB) dropStat4(ctx context.Context) error {
	if db.Dialect != dialect.SQLite {
		return nil
	}
	var samples int
	err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat4'`).Scan(&samples)
	if err == nil && samples > 0 {
		err = db.SQL.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sqlite_stat4)`).Scan(&samples)
	}
	if err != nil || samples == 0 {
		return err
	}
	return db.Analyze(ctx)
}

// indexJoinTables adds an index on the second key column of every
// many-to-many join table. ent keys them (left, right), which serves only
// lookups from the left: contact → accounts, user → assigned leads or
// user → roles would scan the whole table without it.
func indexJoinTables(next schema.Creator) schema.Creator {
	return schema.CreateFunc(func(ctx context.Context, tables ...*schema.Table) error {
		for _, t := range tables {
			if len(t.PrimaryKey) != 2 || len(t.Columns) != 2 {
				continue
			}
			right := t.PrimaryKey[1]
			name := t.Name + "_" + right.Name
			if _, ok := t.Index(name); !ok {
				t.AddIndex(name, false, []string{right.Name})
			}
		}
		return next.Create(ctx, tables...)
	})
}
