package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/conecrm/gateway/ent/migrate"
	"github.com/conecrm/gateway/internal/store"
)

// Snapshot is a fingerprint of every table: row count, deleted rows and
// the latest creation and modification. Every write through ent stamps
// date_created or date_modified, so two equal snapshots mean nothing was
// written in between.
type Snapshot map[string]string

// TakeSnapshot fingerprints every table of db in one statement.
func TakeSnapshot(t testing.TB, db *store.DB) Snapshot {
	t.Helper()
	var parts []string
	for _, tbl := range migrate.Tables {
		cols := map[string]bool{}
		for _, c := range tbl.Columns {
			cols[c.Name] = true
		}
		expr := func(col, agg string) string {
			if !cols[col] {
				return "''"
			}
			return "CAST(" + agg + " AS TEXT)"
		}
		parts = append(parts, fmt.Sprintf("SELECT '%s', CAST(COUNT(*) AS TEXT), %s, %s, %s FROM %s",
			tbl.Name, expr("is_deleted", "SUM(CASE WHEN is_deleted THEN 1 ELSE 0 END)"),
			expr("date_created", "MAX(date_created)"), expr("date_modified", "MAX(date_modified)"),
			`"`+strings.ReplaceAll(tbl.Name, `"`, `""`)+`"`))
	}
	rows, err := db.SQL.QueryContext(context.Background(), strings.Join(parts, " UNION ALL "))
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	defer rows.Close()
	s := Snapshot{}
	for rows.Next() {
		var name string
		var n, del, created, modified sql.NullString
		if err := rows.Scan(&name, &n, &del, &created, &modified); err != nil {
			t.Fatal(err)
		}
		s[name] = strings.Join([]string{n.String, del.String, created.String, modified.String}, "|")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return s
}

// Diff names the tables whose fingerprint changed from s to o.
func (s Snapshot) Diff(o Snapshot) []string {
	var changed []string
	for _, k := range slices.Sorted(maps.Keys(s)) {
		if s[k] != o[k] {
			changed = append(changed, fmt.Sprintf("%s: %s → %s", k, s[k], o[k]))
		}
	}
	return changed
}

// NothingWritten fails t when db changed since before: the one check that a
// refused request (bad input, another tenant, a missing permission) left
// every table as it was.
func NothingWritten(t testing.TB, db *store.DB, before Snapshot) {
	t.Helper()
	if d := before.Diff(TakeSnapshot(t, db)); len(d) > 0 {
		t.Errorf("the refused request wrote to the database:\n%s", strings.Join(d, "\n"))
	}
}
