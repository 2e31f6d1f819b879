package automation_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// Routine work run as River jobs writes no table viewers are read from, so
// it keeps every cached viewer: an automation that assigns each new lead
// by round robin and gives it a task, the jobs' own bookkeeping included
// (River's statement that completes jobs names "users" in a comment: it
// used to move the viewer generation for every job on PostgreSQL).
func TestAutomationRunsKeepTheViewerGeneration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := start(t, db, nil)
		n, ed := chain(node("assign", "assignLead", map[string]any{"mode": "roundRobin"}),
			node("task", "createTask", map[string]any{"title": "Call back"}))
		a := e.automation("Round robin", "lead.created", nil, n, ed)
		moves := db.AuthWatch().Moves()
		for i := range 3 {
			e.createLead(fmt.Sprint("Routine ", i), "DT")
		}
		e.finished(a, 3)
		e.eventually("every job completed", 30*time.Second, func() bool {
			var open int
			e.must(db.SQL.QueryRow(`SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'discarded', 'cancelled')`).Scan(&open))
			return open == 0
		})
		var done int
		e.must(db.SQL.QueryRow(`SELECT count(*) FROM river_job WHERE state = 'completed'`).Scan(&done))
		if done == 0 {
			t.Fatal("no River job completed")
		}
		if now := db.AuthWatch().Moves(); now != moves {
			t.Errorf("the viewer generation moved %d times (%d jobs completed)", now-moves, done)
		}
	})
}
