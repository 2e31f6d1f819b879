package chaos_test

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// tmpfsSize bounds the filesystem of the SQLite data directory: the demo
// database and its WAL fit with room to spare, a filler file takes the
// rest.
const tmpfsSize = "96m"

// dataDir mounts a small tmpfs for the database, owned by the user the
// gateway runs as.
func dataDir(t *testing.T) (mnt, data string) {
	t.Helper()
	mnt, err := os.MkdirTemp("/tmp", "conecrm-chaos-sqlite-")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+tmpfsSize+",mode=0755", "tmpfs", mnt).CombinedOutput(); err != nil {
		os.Remove(mnt)
		t.Fatalf("mount a %s tmpfs for the full-disk fault (the tests run as root in CI): %v %s", tmpfsSize, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", mnt, err, out)
			return
		}
		os.Remove(mnt)
	})
	data = filepath.Join(mnt, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(data, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	return mnt, data
}

// fill writes a file until the filesystem has no room left.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			t.Fatal(err)
		}
	}
	// The last partial pages too.
	small := make([]byte, 512)
	for {
		if _, err := f.Write(small); err != nil {
			break
		}
	}
}

// chmodTree sets the modes of dir (dirMode) and its files (fileMode).
func chmodTree(t *testing.T, dir string, dirMode, fileMode os.FileMode) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.Chmod(p, dirMode)
		}
		return os.Chmod(p, fileMode)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// sqliteRows reads the accounts the load wrote (gateway stopped).
func sqliteRows(t *testing.T, file, prefix string) map[string][]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+file+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rs, err := db.Query(`SELECT name, id FROM accounts WHERE name LIKE ?`, prefix+"-%")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	out := map[string][]string{}
	for rs.Next() {
		var name, id string
		if err := rs.Scan(&name, &id); err != nil {
			t.Fatal(err)
		}
		out[name] = append(out[name], id)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The gateway as a process (an unprivileged user, so permissions bind it)
// on SQLite under write load, while it is killed with SIGKILL, its disk
// fills up and its data directory turns read-only, each then undone: no
// acknowledged write is lost, no retried key writes twice, and it writes
// again within a second of each recovery without a restart.
func TestSQLiteFaults(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts a size-limited tmpfs (full disk) and runs the gateway as another user (read-only directory)")
	}
	mnt, data := dataDir(t)
	g := newGateway(t, map[string]string{
		"CONECRM_DATA_DIR": data, "CONECRM_ENV": "development",
		// Connections live a second, so the read-only directory reaches
		// new connections within the test (open files keep their write
		// access after a chmod; in production connections are renewed
		// over minutes).
		"CONECRM_DB_CONN_MAX_LIFETIME": "1s", "CONECRM_DB_CONN_MAX_IDLE_TIME": "1s",
	}, true)
	g.start() // a new embedded database: migrated and seeded with the demo data
	token := g.run("token", "--email", admin)

	l := newLoad(t, g, token, "chaos-sqlite")
	l.begin()
	time.Sleep(time.Second)
	var phases []phase
	for round := range rounds() {
		suffix := ""
		if rounds() > 1 {
			suffix = fmt.Sprintf(" #%d", round+1)
		}

		at := time.Now()
		g.kill9()
		g.start()
		phases = append(phases, l.measure("gateway kill -9 + restart"+suffix, at, time.Now()))
		time.Sleep(time.Second)

		// Full disk: writes fail once SQLite needs a page it cannot get.
		filler := filepath.Join(mnt, "filler")
		at = time.Now()
		fill(t, filler)
		if !waitFor(20*time.Second, func() bool { return l.failedSince(at) >= 3 }) {
			t.Errorf("the disk is full, yet writes did not fail within 20 s")
		}
		time.Sleep(time.Second)
		readyFull := g.ready()
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
		phases = append(phases, l.measure("disk full, then freed"+suffix, at, time.Now()))
		// The probe's one-row write may still fit in pages SQLite holds;
		// the free-space check says what real writes meet.
		if readyFull != http.StatusServiceUnavailable {
			t.Errorf("/readyz with a full disk: %d, want 503", readyFull)
		}
		time.Sleep(time.Second)

		// Read-only data directory (and files), then writable again.
		at = time.Now()
		chmodTree(t, data, 0o500, 0o400)
		if !waitFor(20*time.Second, func() bool { return l.failedSince(at) >= 3 }) {
			t.Errorf("the data directory is read-only, yet writes did not fail within 20 s")
		}
		time.Sleep(time.Second)
		readyRO := g.ready()
		chmodTree(t, data, 0o700, 0o600)
		phases = append(phases, l.measure("data dir read-only, then rw"+suffix, at, time.Now()))
		if readyRO != 503 {
			t.Errorf("/readyz with a read-only directory: %d, want 503", readyRO)
		}
		time.Sleep(time.Second)
	}
	l.end()
	l.resolve()
	g.stop()
	for _, p := range phases {
		l.check(p)
	}
	l.verify(sqliteRows(t, filepath.Join(data, "conecrm.db"), "chaos-sqlite"))
}
