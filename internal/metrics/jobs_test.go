package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/conecrm/gateway/internal/metrics"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

type okArgs struct{}

func (okArgs) Kind() string { return "metrics_test_ok" }

type failArgs struct{}

func (failArgs) Kind() string { return "metrics_test_fail" }

type okWorker struct{ river.WorkerDefaults[okArgs] }

func (okWorker) Work(context.Context, *river.Job[okArgs]) error { return nil }

type failWorker struct{ river.WorkerDefaults[failArgs] }

func (failWorker) Work(context.Context, *river.Job[failArgs]) error { return errors.New("boom") }

// Jobs a River client works are counted by kind and outcome; the depth of
// its queues is read from the database at each scrape (jobs of a queue
// nobody works stay available).
func TestJobOutcomesAndQueueDepth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		workers := river.NewWorkers()
		river.AddWorker(workers, okWorker{})
		river.AddWorker(workers, failWorker{})
		c, err := river.NewClient(db.RiverDriver(), &river.Config{
			Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}},
			Workers:           workers,
			FetchPollInterval: 20 * time.Millisecond,
			FetchCooldown:     10 * time.Millisecond,
			MaxAttempts:       1,
			TestOnly:          true,
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = c.Stop(sctx)
		})
		metrics.WatchJobs(c, river.QueueDefault, "metrics_idle")
		before := scrape(t)
		done, _ := c.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
		for _, args := range []river.JobArgs{okArgs{}, okArgs{}, failArgs{}} {
			if _, err := c.Insert(ctx, args, nil); err != nil {
				t.Fatal(err)
			}
		}
		for range 3 {
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("the jobs were not worked")
			}
		}
		for range 4 {
			if _, err := c.Insert(ctx, okArgs{}, &river.InsertOpts{Queue: "metrics_idle"}); err != nil {
				t.Fatal(err)
			}
		}
		// The subscription that counts may run just after ours.
		deadline := time.Now().Add(5 * time.Second)
		for {
			out := scrape(t)
			ok := value(out, `conecrm_jobs_total{kind="metrics_test_ok",outcome="completed"}`)-value(before, `conecrm_jobs_total{kind="metrics_test_ok",outcome="completed"}`) == 2 &&
				value(out, `conecrm_jobs_total{kind="metrics_test_fail",outcome="discarded"}`)-value(before, `conecrm_jobs_total{kind="metrics_test_fail",outcome="discarded"}`) == 1
			if ok {
				for _, want := range []string{
					`conecrm_job_queue_depth{queue="metrics_idle"} 4`,
					`conecrm_job_queue_depth{queue="default"} 0`,
					`conecrm_jobs_running{queue="default"}`,
				} {
					if !strings.Contains(out, want) {
						t.Errorf("metrics lack %s", want)
					}
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("job outcomes not counted:\n%s", grep(out, "conecrm_job"))
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// value is the number on the line of series in a scrape (0 when absent).
func value(scrape, series string) float64 {
	for _, l := range strings.Split(scrape, "\n") {
		if rest, ok := strings.CutPrefix(l, series+" "); ok {
			var v float64
			_, _ = fmt.Sscan(rest, &v)
			return v
		}
	}
	return 0
}

func grep(scrape, prefix string) string {
	var out []string
	for _, l := range strings.Split(scrape, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
