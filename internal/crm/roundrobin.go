package crm

import (
	"context"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/roundrobincursor"
)

// A round-robin group's turn lives in round_robin_cursors, not in
// security_groups: assigning a lead by round robin is routine work, and a
// write to security_groups (one of the tables viewers are read from,
// store.AuthTables) would end every cached viewer of every tenant, on
// every instance. Reading the group and its members, and locking its row,
// write nothing.

// takeTurn takes the next turn of group g (read in this transaction) and
// returns its position, not yet taken modulo the rotation: the group's
// cursor before the turn. Its row is created with the group's first turn.
func takeTurn(ctx context.Context, tx *ent.Client, g *ent.SecurityGroup) (int, error) {
	err := tx.RoundRobinCursor.Create().SetTenantID(g.TenantID).SetSecurityGroupID(g.ID).SetTurn(1).
		OnConflictColumns(roundrobincursor.FieldSecurityGroupID).
		Update(func(u *ent.RoundRobinCursorUpsert) { u.AddTurn(1) }).Exec(ctx)
	if err != nil {
		return 0, err
	}
	c, err := tx.RoundRobinCursor.Query().Where(roundrobincursor.SecurityGroupID(g.ID)).Only(ctx)
	if err != nil {
		return 0, err
	}
	return c.Turn - 1, nil
}

// turns returns the cursors of groups (0 for a group that never had a
// turn).
func turns(ctx context.Context, tx *ent.Client, groups []uuid.UUID) (map[uuid.UUID]int, error) {
	out := map[uuid.UUID]int{}
	if len(groups) == 0 {
		return out, nil
	}
	cs, err := tx.RoundRobinCursor.Query().Where(roundrobincursor.SecurityGroupIDIn(groups...)).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		out[c.SecurityGroupID] = c.Turn
	}
	return out, nil
}

// setTurn sets group g's cursor.
func setTurn(ctx context.Context, tx *ent.Client, g *ent.SecurityGroup, turn int) error {
	return tx.RoundRobinCursor.Create().SetTenantID(g.TenantID).SetSecurityGroupID(g.ID).SetTurn(turn).
		OnConflictColumns(roundrobincursor.FieldSecurityGroupID).
		Update(func(u *ent.RoundRobinCursorUpsert) { u.UpdateTurn() }).Exec(ctx)
}

// lockTurn locks a group's row while its turn is taken (PostgreSQL; SQLite's
// transactions hold the database's write lock from their start): a change
// of its members (keepTurns, which locks the rows first) then waits for
// the turn, or the turn for the change. NO KEY UPDATE, the lock an UPDATE
// of the row would take, writes no row version: no trigger fires.
func lockTurn(s *sql.Selector) {
	if s.Dialect() == dialect.Postgres {
		s.For(sql.LockNoKeyUpdate)
	}
}
