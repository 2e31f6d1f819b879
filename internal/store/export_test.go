package store

import (
	"context"
	"log/slog"
	"time"
)

// PreparedTexts returns the query texts db keeps prepared.
func PreparedTexts(db *DB) []string {
	db.prepared.mu.Lock()
	defer db.prepared.mu.Unlock()
	out := make([]string, 0, len(db.prepared.stmts))
	for q := range db.prepared.stmts {
		out = append(out, q)
	}
	return out
}

// ListenAuthChangesThrough is ListenAuthChanges with the listener
// connecting to url (a proxy in front of db's server).
func ListenAuthChangesThrough(db *DB, url string, log *slog.Logger) {
	db.url = url
	db.ListenAuthChanges(context.Background(), log, 5*time.Second)
}

// WritesAuth exposes writesAuth.
var WritesAuth = writesAuth

// ClassifyAuth exposes classifyAuth.
var ClassifyAuth = classifyAuth

// AuthTriggerStatements returns the statements that create table's
// notification triggers.
func AuthTriggerStatements(table string) []string {
	for _, t := range authTableSpecs {
		if t.name == table {
			return authTriggerStatements(t)
		}
	}
	return nil
}
