package store

import (
	"context"
	"strconv"
	"strings"

	"entgo.io/ent/dialect"
)

// migrateTables creates the tables that live beside the ent model: they
// belong to infrastructure (internal/idempotency), not to the CRM domain.
func (db *DB) migrateTables(ctx context.Context) error {
	blob := "BLOB"
	if db.Dialect == dialect.Postgres {
		blob = "BYTEA"
	}
	for _, q := range []string{
		// One row per (tenant, user, key); times are Unix milliseconds.
		`CREATE TABLE IF NOT EXISTS idempotency_keys (
			tenant_id TEXT NOT NULL,
			user_id TEXT NOT NULL,
			idem_key TEXT NOT NULL,
			request_hash TEXT NOT NULL,
			owner TEXT NOT NULL,
			done SMALLINT NOT NULL DEFAULT 0,
			committed SMALLINT NOT NULL DEFAULT 0,
			status INTEGER NOT NULL DEFAULT 0,
			headers TEXT NOT NULL DEFAULT '',
			body ` + blob + `,
			created_at BIGINT NOT NULL,
			locked_until BIGINT NOT NULL,
			PRIMARY KEY (tenant_id, user_id, idem_key))`,
		`CREATE INDEX IF NOT EXISTS idempotency_keys_created_at ON idempotency_keys (created_at)`,
	} {
		if _, err := db.SQL.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// Rebind turns the ? placeholders of a hand-written statement into the
// dialect's ($1, $2… on PostgreSQL).
func (db *DB) Rebind(q string) string {
	if db.Dialect != dialect.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
