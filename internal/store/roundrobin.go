package store

import (
	"context"
	"fmt"

	"database/sql"
	"time"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/roundrobincursor"
)

// migrateRoundRobinCursors carries the round-robin turns of a database
// migrated before they had a table of their own (the rr_cursor column of
// security_groups, ent/schema's RoundRobinCursor says why) over to
// round_robin_cursors and drops the column, in one transaction: every
// group goes on with the member whose turn it was. A database without the
// column has nothing to carry.
func (db *DB) migrateRoundRobinCursors(ctx context.Context) error {
	has := `SELECT count(*) FROM pragma_table_info('security_groups') WHERE name = 'rr_cursor'`
	if db.Dialect == dialect.Postgres {
		has = `SELECT count(*) FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = 'security_groups' AND column_name = 'rr_cursor'`
	}
	var n int
	if err := db.SQL.QueryRowContext(ctx, has).Scan(&n); err != nil || n == 0 {
		return err
	}
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := db.carryCursors(ctx, tx); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("round-robin cursors: %w", err)
	}
	return tx.Commit()
}

func (db *DB) carryCursors(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, tenant_id, rr_cursor FROM security_groups WHERE rr_cursor <> 0`)
	if err != nil {
		return err
	}
	type cursor struct {
		group, tenant uuid.UUID
		turn          int
	}
	var carried []cursor
	for rows.Next() {
		var c cursor
		if err := rows.Scan(&c.group, &c.tenant, &c.turn); err != nil {
			rows.Close()
			return err
		}
		carried = append(carried, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// A turn taken in the new table already is newer than the column's.
	insert := db.Rebind(`INSERT INTO round_robin_cursors (id, tenant_id, date_created, is_deleted, dtype, security_group_id, turn)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (security_group_id) DO NOTHING`)
	now := time.Now().UTC()
	for _, c := range carried {
		if _, err := tx.ExecContext(ctx, insert, roundrobincursor.DefaultID(), c.tenant, now, false,
			roundrobincursor.DefaultDtype, c.group, c.turn); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, `ALTER TABLE security_groups DROP COLUMN rr_cursor`)
	return err
}
