package chaos_test

import (
	"bufio"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq"
)

// cluster is a PostgreSQL cluster of the test's own (.ci/pg-throwaway.sh
// with a private state file): the test restarts and freezes it.
type cluster struct {
	t             *testing.T
	state         string
	dir, bin, url string
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	f, err := os.CreateTemp("", "conecrm-pgstate-chaos-")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	c := &cluster{t: t, state: f.Name()}
	script := filepath.Join(moduleRoot(), ".ci", "pg-throwaway.sh")
	t.Cleanup(func() {
		cmd := exec.Command("bash", script, "stop")
		cmd.Env = append(os.Environ(), "CONECRM_PG_STATE="+c.state)
		_ = cmd.Run()
		os.Remove(c.state)
	})
	cmd := exec.Command("bash", script, "start")
	cmd.Env = append(os.Environ(), "CONECRM_PG_STATE="+c.state)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("start a PostgreSQL cluster: %v", err)
	}
	c.url = strings.TrimSpace(string(out))
	b, err := os.ReadFile(c.state)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(l, "=")
		switch k {
		case "DIR":
			c.dir = v
		case "BIN":
			c.bin = v
		}
	}
	// The throwaway cluster acknowledges commits before their WAL is
	// written (synchronous_commit = off); an immediate restart would lose
	// them. Production runs with it on, and so does this test. (fsync off
	// stays: the machine does not crash, the written WAL survives.)
	db := c.open()
	defer db.Close()
	if _, err := db.Exec(`ALTER SYSTEM SET synchronous_commit = on`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`SELECT pg_reload_conf()`); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *cluster) open() *sql.DB {
	db, err := sql.Open("postgres", c.url)
	if err != nil {
		c.t.Fatal(err)
	}
	return db
}

// pgCtl runs pg_ctl as the cluster's owner.
func (c *cluster) pgCtl(args ...string) {
	c.t.Helper()
	args = append([]string{"-D", filepath.Join(c.dir, "data"), "-l", filepath.Join(c.dir, "postgres.log"), "-w", "-t", "60"}, args...)
	cmd := exec.Command(filepath.Join(c.bin, "pg_ctl"), args...)
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(c.bin, "pg_ctl")}, args...)...)
	}
	cmd.Dir = "/"
	// A file, not a pipe: the postmaster must not hold our pipe open.
	out, err := os.CreateTemp("", "conecrm-chaos-pgctl-")
	if err != nil {
		c.t.Fatal(err)
	}
	defer os.Remove(out.Name())
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(out.Name())
		c.t.Fatalf("pg_ctl %s: %v\n%s", strings.Join(args, " "), err, b)
	}
}

// processes are the postmaster's pid and its children's.
func (c *cluster) processes() []int {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, "data", "postmaster.pid"))
	if err != nil {
		c.t.Fatal(err)
	}
	pm, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil {
		c.t.Fatal(err)
	}
	pids := []int{pm}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := os.Open(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "PPid:"); ok {
				if ppid, _ := strconv.Atoi(strings.TrimSpace(v)); ppid == pm {
					pids = append(pids, pid)
				}
				break
			}
		}
		f.Close()
	}
	return pids
}

func signal(t *testing.T, pids []int, sig syscall.Signal) {
	t.Helper()
	for _, p := range pids {
		if err := syscall.Kill(p, sig); err != nil && err != syscall.ESRCH {
			t.Fatalf("kill %d: %v", p, err)
		}
	}
}

// rows reads the accounts the load wrote: name → ids.
func (c *cluster) rows(prefix string) map[string][]string {
	c.t.Helper()
	db := c.open()
	defer db.Close()
	out := map[string][]string{}
	rs, err := db.Query(`SELECT name, id::text FROM accounts WHERE name LIKE $1`, prefix+"-%")
	if err != nil {
		c.t.Fatal(err)
	}
	defer rs.Close()
	for rs.Next() {
		var name, id string
		if err := rs.Scan(&name, &id); err != nil {
			c.t.Fatal(err)
		}
		out[name] = append(out[name], id)
	}
	if err := rs.Err(); err != nil {
		c.t.Fatal(err)
	}
	return out
}

// The gateway as a process under write load while its PostgreSQL is
// restarted (fast, immediate), frozen for 10 s (SIGSTOP of the postmaster
// and its backends) and while the gateway itself is killed with SIGKILL:
// no acknowledged write is lost, no retried key writes twice, requests
// fail within their deadline during the freeze, and the first write
// succeeds within a second of each recovery.
func TestPostgresFaults(t *testing.T) {
	if os.Getenv("CONECRM_TEST_DATABASE_URL") == "" {
		t.Skip("PostgreSQL tests are off (CONECRM_TEST_DATABASE_URL unset)")
	}
	c := startCluster(t)
	g := newGateway(t, map[string]string{"CONECRM_DATABASE_URL": c.url, "CONECRM_ENV": "development",
		"CONECRM_DATA_DIR": t.TempDir()}, false)
	g.run("migrate")
	g.run("seed", "--demo")
	token := g.run("token", "--email", admin)
	g.start()

	l := newLoad(t, g, token, "chaos-pg")
	l.begin()
	time.Sleep(time.Second)
	var phases []phase
	for round := range rounds() {
		suffix := ""
		if rounds() > 1 {
			suffix = fmt.Sprintf(" #%d", round+1)
		}

		at := time.Now()
		c.pgCtl("restart", "-m", "fast")
		phases = append(phases, l.measure("pg restart -m fast"+suffix, at, time.Now()))
		time.Sleep(time.Second)

		at = time.Now()
		c.pgCtl("restart", "-m", "immediate")
		phases = append(phases, l.measure("pg restart -m immediate"+suffix, at, time.Now()))
		time.Sleep(time.Second)

		pids := c.processes()
		at = time.Now()
		signal(t, pids, syscall.SIGSTOP)
		readyDuring := -1
		time.Sleep(3 * time.Second)
		start := time.Now()
		readyDuring = g.ready()
		readyTook := time.Since(start)
		time.Sleep(10*time.Second - time.Since(at))
		signal(t, pids, syscall.SIGCONT)
		p := l.measure("pg frozen 10 s"+suffix, at, time.Now())
		phases = append(phases, p)
		t.Logf("during the freeze /readyz answered %d in %s", readyDuring, readyTook.Round(time.Millisecond))
		if readyDuring != 503 || readyTook > 2*time.Second+slack {
			t.Errorf("/readyz during the freeze: %d after %s, want 503 within 2 s", readyDuring, readyTook)
		}
		if p.failed == 0 {
			t.Errorf("no request failed during a 10 s freeze")
		}
		if p.slowestFailure > requestTimeout+slack {
			t.Errorf("during the freeze a request took %s to fail, deadline %s", p.slowestFailure, requestTimeout)
		}
		time.Sleep(time.Second)

		at = time.Now()
		g.kill9()
		g.start()
		phases = append(phases, l.measure("gateway kill -9 + restart"+suffix, at, time.Now()))
		time.Sleep(time.Second)
	}
	l.end()
	l.resolve()
	for _, p := range phases {
		l.check(p)
	}
	l.verify(c.rows("chaos-pg"))
}
