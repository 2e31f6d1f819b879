package store

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	"github.com/conecrm/gateway/internal/tenancy"
)

// SQLite's statistics are sqlite_stat1 only: with sqlite_stat4 samples,
// SQLite re-prepares every statement whose plan a bound value could change
// on each execution, so the prepared statements were parsed and planned
// every time (AnalysisLimit). ANALYZE, PRAGMA optimize and migrate keep it
// that way, and migrate drops the samples of a database analysed before.
func TestSQLiteStatisticsHaveNoSamples(t *testing.T) {
	ctx := tenancy.Bypass(context.Background())
	file := t.TempDir() + "/s.db"
	// A database analysed the old way: samples present.
	raw, err := sql.Open("sqlite", "file:"+file)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE things (id INTEGER PRIMARY KEY, kind TEXT NOT NULL)`,
		`CREATE INDEX things_kind ON things (kind)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 500 {
		if _, err := raw.Exec(`INSERT INTO things (kind) VALUES (?)`, fmt.Sprint("k", i%7)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.Exec(`ANALYZE`); err != nil {
		t.Fatal(err)
	}
	if n := count(t, raw, `SELECT count(*) FROM sqlite_stat4`); n == 0 {
		t.Fatal("the unlimited ANALYZE wrote no samples: the test no longer shows anything")
	}
	raw.Close()

	db, err := Open(ctx, file)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db.SQL, `SELECT count(*) FROM sqlite_stat4`); n != 0 {
		t.Errorf("migrate left %d sqlite_stat4 samples", n)
	}
	if n := count(t, db.SQL, `SELECT count(*) FROM sqlite_stat1 WHERE idx = 'things_kind'`); n != 1 {
		t.Errorf("migrate's analysis wrote %d stat1 rows for the index, want 1", n)
	}
	for _, q := range []string{`INSERT INTO things (kind) SELECT kind FROM things`, `ANALYZE`, `PRAGMA optimize`} {
		if _, err := db.SQL.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db.SQL, `SELECT count(*) FROM sqlite_stat4`); n != 0 {
			t.Errorf("%s wrote %d sqlite_stat4 samples", q, n)
		}
	}
	if err := db.Analyze(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db.SQL, `SELECT count(*) FROM sqlite_stat4`); n != 0 {
		t.Errorf("Analyze wrote %d sqlite_stat4 samples", n)
	}
}

func count(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Each SQLite connection caches DefaultSQLiteCacheKiB of pages unless
// CONECRM_DB_SQLITE_CACHE_KIB says otherwise (memory: docs/benchmarks.md).
func TestSQLitePageCachePerConnection(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		env  string
		want int
	}{{"", -DefaultSQLiteCacheKiB}, {"1024", -1024}} {
		o, err := OptionsFromEnv(func(k string) string {
			if k == "CONECRM_DB_SQLITE_CACHE_KIB" {
				return c.env
			}
			return ""
		})
		if err != nil {
			t.Fatal(err)
		}
		db, err := OpenWith(ctx, t.TempDir()+"/c.db", o)
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, db.SQL, `PRAGMA cache_size`); n != c.want {
			t.Errorf("CONECRM_DB_SQLITE_CACHE_KIB=%q: cache_size %d, want %d", c.env, n, c.want)
		}
		db.Close()
	}
	if _, err := OptionsFromEnv(func(k string) string {
		if k == "CONECRM_DB_SQLITE_CACHE_KIB" {
			return "-5"
		}
		return ""
	}); err == nil {
		t.Error("a negative cache size is accepted")
	}
}
