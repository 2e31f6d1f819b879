package automation_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/automationrun"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/task"
	rt "github.com/conecrm/gateway/internal/automation"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
	"github.com/conecrm/gateway/internal/viewer"
)

// TestBenchmarkEventToAction creates CONECRM_AUTOMATION_BENCH leads (1,000
// in docs/automation.md) at CONECRM_AUTOMATION_BENCH_RATE leads per second
// (default 100), each running one automation (lead.created → createTask),
// and reports the event-to-action latency (the task's creation minus the
// lead's) and the throughput. Off unless CONECRM_AUTOMATION_BENCH is set.
func TestBenchmarkEventToAction(t *testing.T) {
	total, _ := strconv.Atoi(os.Getenv("CONECRM_AUTOMATION_BENCH"))
	if total <= 0 {
		t.Skip("set CONECRM_AUTOMATION_BENCH=1000 to run the automation benchmark")
	}
	rate, _ := strconv.Atoi(os.Getenv("CONECRM_AUTOMATION_BENCH_RATE"))
	if rate <= 0 {
		rate = 100
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		cfg := testConfig()
		cfg.PollInterval = rt.DefaultConfig().PollInterval
		e := start(t, db, &cfg)
		svc := crm.NewService(db.Client)
		_, err := rt.New(db, svc, cfg) // the writers' service enqueues; e.rt works
		e.must(err)
		n, ed := chain(node("t", "createTask", map[string]any{"title": "Bench"}))
		id := e.automation("Bench", "lead.created", nil, n, ed)
		u := storetest.UserID(t, db, admin)
		ctx := viewer.NewContext(context.Background(), &viewer.Viewer{UserID: u, TenantID: e.tid, Type: viewer.TypeAdmin})
		body := e.newLead("x", "DT")
		ref := func(k string) *uuid.UUID {
			v := uuid.MustParse(body[k].(map[string]any)["id"].(string))
			return &v
		}
		began := time.Now()
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for i := 0; i < total; i++ {
			<-tick.C
			sem <- struct{}{}
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				defer func() { <-sem }()
				subject := fmt.Sprintf("Bench %04d", i)
				if _, err := svc.CreateLead(ctx, crm.LeadInput{Subject: &subject, DepartmentID: ref("department"),
					ContactID: ref("contact"), SourceID: ref("source"), FranchiseID: ref("franchise")}); err != nil {
					t.Error(err)
				}
			}(i)
		}
		wg.Wait()
		created := time.Since(began)
		e.eventually("every run", 5*time.Minute, func() bool {
			n, err := db.AutomationRun.Query().Where(automationrun.AutomationID(id), automationrun.StatusEQ(automationrun.StatusDONE)).Count(e.ctx)
			e.must(err)
			return n == total
		})
		leads, err := db.Lead.Query().Where(lead.SubjectHasPrefix("Bench ")).All(e.ctx)
		e.must(err)
		tasks, err := db.Task.Query().Where(task.Title("Bench")).All(e.ctx)
		e.must(err)
		at := map[uuid.UUID]time.Time{}
		for _, tk := range tasks {
			at[*tk.ConnectionID] = tk.DateCreated
		}
		var lat []time.Duration
		var last time.Time
		for _, l := range leads {
			done := at[l.ID]
			lat = append(lat, done.Sub(l.DateCreated))
			if done.After(last) {
				last = done
			}
		}
		slices.Sort(lat)
		pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(float64(len(lat))*p))] }
		elapsed := last.Sub(began)
		t.Logf("%s: %d leads offered at %d/s (written in %s: %.0f/s); event→action latency p50 %s p90 %s p99 %s max %s; throughput %.0f actions/s",
			db.Dialect, total, rate, created.Round(time.Millisecond), float64(total)/created.Seconds(),
			pct(0.5).Round(time.Millisecond), pct(0.9).Round(time.Millisecond), pct(0.99).Round(time.Millisecond),
			lat[len(lat)-1].Round(time.Millisecond), float64(total)/elapsed.Seconds())
	})
}
