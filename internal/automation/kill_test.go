package automation_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/conecrm/gateway/ent/automationrun"
	"github.com/conecrm/gateway/ent/delayedautomation"
	rt "github.com/conecrm/gateway/internal/automation"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

const helperEnv = "CONECRM_AUTOMATION_TEST_WORKER_DB"

// TestWorkerProcess is not a test: run by TestDelaySurvivesKill as a child
// process (the test binary itself), it works automation jobs on the
// database named by the environment until it is killed.
func TestWorkerProcess(t *testing.T) {
	url := os.Getenv(helperEnv)
	if url == "" {
		t.Skip("helper process for TestDelaySurvivesKill")
	}
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	r, err := rt.New(db, crm.NewService(db.Client), testConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("worker ready\n")
	select {}
}

// worker starts a worker process on db and returns it once it works jobs.
func worker(t *testing.T, url string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWorkerProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+url)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ready := make(chan bool)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "worker ready") {
				ready <- true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		t.Fatal("the worker process did not start")
	}
	return cmd
}

// A process working a run is killed with SIGKILL while the run waits on a
// delay; another process started afterwards finishes the run once.
func TestDelaySurvivesKill(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		url := storetest.DBURL(t, db)
		e := start(t, db, nil)
		// This process only writes: its runtime stops, the children work.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e.must(e.rt.Stop(ctx))
		first := worker(t, url)
		n, ed := chain(
			node("wait", "delay", map[string]any{"amount": 3, "unit": "seconds"}),
			node("t", "createTask", map[string]any{"title": "After kill -9"}),
		)
		id := e.automation("Killed", "lead.created", nil, n, ed)
		leadID := e.createLead("Survivor", "DT")
		e.eventually("the waiting run", 30*time.Second, func() bool {
			r := e.runs(id)
			return len(r) == 1 && r[0].Status == automationrun.StatusWAITING
		})
		e.must(first.Process.Kill()) // SIGKILL: no graceful stop
		_ = first.Wait()
		pending, err := db.DelayedAutomation.Query().Where(delayedautomation.AutomationID(id), delayedautomation.DoneAtIsNil()).Count(e.ctx)
		e.must(err)
		if pending != 1 || e.tasksOf(leadID, "After kill -9") != 0 {
			t.Fatalf("after kill: %d pending, %d tasks", pending, e.tasksOf(leadID, "After kill -9"))
		}
		worker(t, url)
		e.finished(id, 1)
		if got := e.tasksOf(leadID, "After kill -9"); got != 1 {
			t.Fatalf("%d tasks after the restart, want 1", got)
		}
	})
}
