// Package store opens the database behind the gateway: the embedded SQLite
// file by default, PostgreSQL when given a postgres:// URL. It also migrates
// the schema and counts the SQL statements a request issues.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/lib/pq"  // PostgreSQL driver
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
}

// IsPostgres reports whether url names a PostgreSQL database.
func IsPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// Open opens url: a postgres:// URL, or a path to an SQLite file.
func Open(ctx context.Context, url string) (*DB, error) {
	var (
		db      *sql.DB
		d       string
		created bool
		err     error
	)
	if IsPostgres(url) {
		d = dialect.Postgres
		db, err = sql.Open("postgres", url)
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(10)
	} else {
		d = dialect.SQLite
		if err := os.MkdirAll(filepath.Dir(url), 0o755); err != nil {
			return nil, fmt.Errorf("store: create data directory: %w", err)
		}
		if _, statErr := os.Stat(url); os.IsNotExist(statErr) {
			created = true
		}
		// WAL lets readers run beside the writer; immediate transactions take
		// the write lock up front so concurrent writers queue on busy_timeout
		// instead of failing on a lock upgrade.
		dsn := "file:" + url + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
			"&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate&_time_format=sqlite"
		db, err = sql.Open("sqlite", dsn)
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(8)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	counter := &Counter{}
	drv := counter.wrap(entsql.OpenDB(d, db))
	return &DB{Client: ent.NewClient(ent.Driver(drv)), SQL: db, Dialect: d, Counter: counter, New: created}, nil
}

// Migrate creates or updates the schema; running it again changes nothing.
func (db *DB) Migrate(ctx context.Context) error {
	return db.Schema.Create(ctx, migrate.WithForeignKeys(true), schema.WithHooks(indexJoinTables))
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

// Ready reports whether the database answers.
func (db *DB) Ready(ctx context.Context) error { return db.SQL.PingContext(ctx) }
