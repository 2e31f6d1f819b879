// Package storetest gives tests a real, migrated and seeded database on
// every configured backend: SQLite always, PostgreSQL when
// CONECRM_TEST_DATABASE_URL is set. Each test gets its own copy, made from a
// template built once per test binary, so tests are isolated and fast.
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/tenant"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/seed"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/viewer"
)

// EnvURL names the PostgreSQL server tests use (a database on it that the
// role may create databases from).
const EnvURL = "CONECRM_TEST_DATABASE_URL"

// Sizes is the seeded data set of every test database: the two demo tenants,
// smaller than the demo so a copy is cheap.
var Sizes = seed.Sizes{Accounts: 8, ContactsPerAccount: 3, Leads: 30, Tasks: 12}

// Each runs fn once per backend, as subtests named "sqlite" and "postgres".
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, d := range []string{dialect.SQLite, dialect.Postgres} {
		t.Run(name(d), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

func name(d string) string {
	if d == dialect.Postgres {
		return "postgres"
	}
	return "sqlite"
}

// Open returns a fresh seeded database of dialect d, closed and removed when
// the test ends. A PostgreSQL test is skipped when EnvURL is unset.
func Open(t testing.TB, d string) *store.DB {
	t.Helper()
	ctx := context.Background()
	var target string
	if d == dialect.Postgres {
		base := os.Getenv(EnvURL)
		if base == "" {
			t.Skip(EnvURL + " is not set: PostgreSQL tests skipped")
		}
		tmpl, err := pgTemplate.get(func() (string, error) { return makePGTemplate(ctx, base) })
		if err != nil {
			t.Fatalf("postgres template: %v", err)
		}
		dbName := "t_" + strings.ReplaceAll(uuid.NewString(), "-", "")
		if err := pgExec(ctx, base, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", dbName, tmpl)); err != nil {
			t.Fatalf("create test database: %v", err)
		}
		t.Cleanup(func() { _ = pgExec(context.Background(), base, "DROP DATABASE IF EXISTS "+dbName+" WITH (FORCE)") })
		target = withDatabase(base, dbName)
	} else {
		tmpl, err := sqliteTemplate.get(makeSQLiteTemplate)
		if err != nil {
			t.Fatalf("sqlite template: %v", err)
		}
		target = filepath.Join(t.TempDir(), "test.db")
		if err := os.WriteFile(target, tmpl, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db, err := store.Open(ctx, target)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	urls.Store(db, target)
	t.Cleanup(func() { urls.Delete(db); db.Close() })
	return db
}

// urls maps each database Open returned to its address.
var urls sync.Map

// DBURL returns the address of a database Open returned, for a test that
// opens it a second time (a second gateway instance).
func DBURL(t testing.TB, db *store.DB) string {
	t.Helper()
	u, ok := urls.Load(db)
	if !ok {
		t.Fatal("storetest: database not opened by storetest.Open")
	}
	return u.(string)
}

// URL returns the address Open would hand to store.Open for a new,
// unseeded database of dialect d (for tests of migration and seeding).
func URL(t testing.TB, d string) string {
	t.Helper()
	if d != dialect.Postgres {
		return filepath.Join(t.TempDir(), "empty.db")
	}
	base := os.Getenv(EnvURL)
	if base == "" {
		t.Skip(EnvURL + " is not set: PostgreSQL tests skipped")
	}
	dbName := "e_" + strings.ReplaceAll(uuid.NewString(), "-", "")
	if err := pgExec(context.Background(), base, "CREATE DATABASE "+dbName); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() { _ = pgExec(context.Background(), base, "DROP DATABASE IF EXISTS "+dbName+" WITH (FORCE)") })
	return withDatabase(base, dbName)
}

// once memoizes a template's creation for the test binary.
type once[T any] struct {
	sync.Once
	v   T
	err error
}

func (o *once[T]) get(f func() (T, error)) (T, error) {
	o.Do(func() { o.v, o.err = f() })
	return o.v, o.err
}

var (
	pgTemplate     once[string] // a database name
	sqliteTemplate once[[]byte] // the file's bytes
)

func fill(ctx context.Context, target string) error {
	db, err := store.Open(ctx, target)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	if err := seed.Fill(ctx, db.Client, seed.DemoTenants, Sizes, io.Discard); err != nil {
		return err
	}
	return db.Analyze(ctx)
}

// makeSQLiteTemplate builds the seeded file once and keeps its bytes (about
// 1.4 MB) in memory: a test binary has no exit hook to remove a template
// file, and one per binary piled up in the temp dir.
func makeSQLiteTemplate() ([]byte, error) {
	dir, err := os.MkdirTemp("", "conecrm-tmpl-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "template.db")
	if err := fill(context.Background(), path); err != nil {
		return nil, err
	}
	// Fold the WAL into the main file so its bytes are the whole database.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE"); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

func makePGTemplate(ctx context.Context, base string) (string, error) {
	name := "tmpl_" + strings.ReplaceAll(uuid.NewString(), "-", "")
	if err := pgExec(ctx, base, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	if err := fill(ctx, withDatabase(base, name)); err != nil {
		return "", err
	}
	return name, nil
}

func pgExec(ctx context.Context, url, stmt string) error {
	db, err := sql.Open("postgres", url)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

// TenantID returns the id of the tenant with the given email domain.
func TenantID(t testing.TB, db *store.DB, domain string) uuid.UUID {
	t.Helper()
	id, err := db.Tenant.Query().Where(tenant.Domain(domain)).OnlyID(tenancy.Bypass(context.Background()))
	if err != nil {
		t.Fatalf("tenant %s: %v", domain, err)
	}
	return id
}

// As returns a context acting as the seeded user with email: the viewer
// the gateway resolves for that user on a request (crm.ResolveViewer: user
// type, the roles' permissions, groups). It is how tests act as a user
// below the transports.
func As(t testing.TB, db *store.DB, email string) context.Context {
	t.Helper()
	return AsID(t, db, UserID(t, db, email))
}

// AsID is As for the user with id (a user a test made, an HTTP test's
// actor).
func AsID(t testing.TB, db *store.DB, id uuid.UUID) context.Context {
	t.Helper()
	u, err := db.User.Get(tenancy.Bypass(context.Background()), id)
	if err != nil {
		t.Fatalf("user %s: %v", id, err)
	}
	v, err := crm.ResolveViewer(context.Background(), db.Client, u.ID, u.TenantID, time.Now())
	if err != nil {
		t.Fatalf("viewer %s: %v", u.Email, err)
	}
	return viewer.NewContext(context.Background(), v)
}

// UserID returns the id of the user with the given email.
func UserID(t testing.TB, db *store.DB, email string) uuid.UUID {
	t.Helper()
	id, err := db.User.Query().Where(user.Email(email)).OnlyID(tenancy.Bypass(context.Background()))
	if err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	return id
}
