package store

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
