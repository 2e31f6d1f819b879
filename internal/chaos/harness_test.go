package chaos_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// requestTimeout is the gateway's CONECRM_REQUEST_TIMEOUT: during a
	// freeze every request must fail within it.
	requestTimeout = 2 * time.Second
	// slack is what the assertions on time allow on top of their bound
	// for a loaded machine (the figures measured are logged).
	slack = time.Second
	// recoveryBound: the first write succeeds within this of the fault
	// ending.
	recoveryBound = time.Second
	// lease is the gateway's CONECRM_IDEMPOTENCY_LEASE: a key whose
	// request died with the gateway is taken over after it.
	lease  = 3 * time.Second
	secret = "chaos-test-secret-0123456789abcdef-0123456789abcdef"
	admin  = "admin@demo-motors.test"
	// nobody runs the gateway when the tests run as root, so file
	// permissions bind it.
	nobody = 65534
)

// full is set by `make chaos`: longer load, every scenario repeated.
var full = os.Getenv("CONECRM_CHAOS") == "full"

func rounds() int {
	if full {
		return 3
	}
	return 1
}

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// moduleRoot is the repository's root directory.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// gatewayBinary builds the gateway once per test binary, where an
// unprivileged user can run it.
func gatewayBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("/tmp", "conecrm-chaos-bin-")
		if buildErr != nil {
			return
		}
		if buildErr = os.Chmod(binDir, 0o755); buildErr != nil {
			return
		}
		goCmd, err := exec.LookPath("go")
		if err != nil {
			goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		binPath = filepath.Join(binDir, "conecrm")
		cmd := exec.Command(goCmd, "build", "-o", binPath, ".")
		cmd.Dir = moduleRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// gateway is the gateway as a process, restarted on the same address.
type gateway struct {
	t      *testing.T
	env    []string
	asUser bool // run as nobody (the tests run as root)
	addr   string
	log    *os.File
	cmd    *exec.Cmd
	exited chan error
}

func newGateway(t *testing.T, env map[string]string, asUser bool) *gateway {
	t.Helper()
	g := &gateway{t: t, asUser: asUser, addr: freePort(t)}
	base := map[string]string{
		"PATH":                          os.Getenv("PATH"),
		"CONECRM_ADDR":                  g.addr,
		"CONECRM_METRICS_ADDR":          freePort(t),
		"CONECRM_JWT_SECRET":            secret,
		"CONECRM_REQUEST_TIMEOUT":       requestTimeout.String(),
		"CONECRM_IDEMPOTENCY_LEASE":     lease.String(),
		"CONECRM_RATE_USER":             "0", // one user writes as fast as the test wants
		"CONECRM_RATE_TENANT":           "0",
		"CONECRM_AUTOMATION_WORKERS":    "2",
		"CONECRM_DB_CONNECT_TIMEOUT":    "1s",
		"CONECRM_DB_STARTUP_WAIT":       "60s",
		"CONECRM_AUTOMATION_RETRY_BASE": "100ms",
	}
	for k, v := range env {
		base[k] = v
	}
	for k, v := range base {
		g.env = append(g.env, k+"="+v)
	}
	f, err := os.CreateTemp("", "conecrm-chaos-gateway-*.log")
	if err != nil {
		t.Fatal(err)
	}
	g.log = f
	t.Cleanup(func() {
		g.stop()
		if t.Failed() {
			b, _ := os.ReadFile(f.Name())
			lines := strings.Split(string(b), "\n")
			t.Logf("gateway log (last 60 lines of %d):\n%s", len(lines), strings.Join(lines[max(0, len(lines)-60):], "\n"))
		}
		f.Close()
		os.Remove(f.Name())
	})
	return g
}

func (g *gateway) command(args ...string) *exec.Cmd {
	bin := gatewayBinary(g.t)
	cmd := exec.Command(bin, args...)
	if g.asUser {
		cmd = exec.Command("setpriv", append([]string{fmt.Sprintf("--reuid=%d", nobody), fmt.Sprintf("--regid=%d", nobody), "--clear-groups", "--", bin}, args...)...)
	}
	cmd.Env = g.env
	cmd.Dir = "/"
	return cmd
}

// run runs a one-off subcommand (migrate, seed, token) and returns its output.
func (g *gateway) run(args ...string) string {
	g.t.Helper()
	cmd := g.command(args...)
	cmd.Stderr = g.log
	out, err := cmd.Output()
	if err != nil {
		g.t.Fatalf("conecrm %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

func (g *gateway) url() string { return "http://" + g.addr }

// start starts the server and returns once /readyz answers 200.
func (g *gateway) start() {
	g.t.Helper()
	cmd := g.command("serve")
	cmd.Stdout, cmd.Stderr = g.log, g.log
	if err := cmd.Start(); err != nil {
		g.t.Fatal(err)
	}
	g.cmd, g.exited = cmd, make(chan error, 1)
	go func() { g.exited <- cmd.Wait() }()
	c := &http.Client{Timeout: 3 * time.Second}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-g.exited:
			g.exited <- err
			g.t.Fatalf("the gateway exited while starting: %v", err)
		default:
		}
		if res, err := c.Get(g.url() + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	g.t.Fatal("the gateway did not become ready within 90 s")
}

// kill9 kills the server with SIGKILL.
func (g *gateway) kill9() {
	g.t.Helper()
	if err := g.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		g.t.Fatal(err)
	}
	<-g.exited
	g.cmd = nil
}

// stop stops the server with SIGTERM (SIGKILL after 30 s).
func (g *gateway) stop() {
	if g.cmd == nil {
		return
	}
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.exited:
	case <-time.After(30 * time.Second):
		_ = g.cmd.Process.Kill()
		<-g.exited
	}
	g.cmd = nil
}

// ready reports /readyz's status (0 when it does not answer).
func (g *gateway) ready() int {
	c := &http.Client{Timeout: 3 * time.Second}
	res, err := c.Get(g.url() + "/readyz")
	if err != nil {
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// attempt is one request of the load.
type attempt struct {
	start, end time.Time
	status     int // 0: no HTTP answer
	ok         bool
}

// load writes accounts from several clients, each write with an
// Idempotency-Key retried until it is answered, and keeps the ledger of
// what was acknowledged.
type load struct {
	t      *testing.T
	g      *gateway
	token  string
	prefix string
	client *http.Client

	mu         sync.Mutex
	attempts   []attempt
	acked      map[string]string // account name (= key) → id answered
	lost       map[string]bool   // 409 "answer lost": written once, id unknown
	parked     []string          // keys in progress elsewhere, retried at the end
	unexpected []string
	seq        int

	stop chan struct{}
	wg   sync.WaitGroup
}

func newLoad(t *testing.T, g *gateway, token, prefix string) *load {
	return &load{
		t: t, g: g, token: token, prefix: prefix,
		// Longer than the request deadline, so a hung request shows.
		client: &http.Client{Timeout: 3 * requestTimeout},
		acked:  map[string]string{}, lost: map[string]bool{},
	}
}

// clients is the number of concurrent writers; each pauses between
// writes, so the load stays modest on a shared machine.
const clients = 4

const pace = 50 * time.Millisecond

func (l *load) begin() {
	l.stop = make(chan struct{})
	for range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				l.mu.Lock()
				l.seq++
				key := fmt.Sprintf("%s-%06d", l.prefix, l.seq)
				l.mu.Unlock()
				l.write(key, l.stop)
				time.Sleep(pace)
			}
		}()
	}
}

func (l *load) end() {
	close(l.stop)
	l.wg.Wait()
}

// write sends key's write until it is acknowledged, known lost, parked, or
// stop is closed (then it is parked).
func (l *load) write(key string, stop <-chan struct{}) (done bool) {
	for {
		select {
		case <-stop:
			l.park(key)
			return false
		default:
		}
		status, body := l.post(key)
		switch {
		case status == http.StatusOK:
			var a struct {
				ID string `json:"id"`
			}
			if json.Unmarshal(body, &a) != nil || a.ID == "" {
				l.fail("200 without an id for %s: %q", key, body)
				continue
			}
			l.mu.Lock()
			l.acked[key] = a.ID
			l.mu.Unlock()
			return true
		case status == http.StatusConflict && bytes.Contains(body, []byte("not recorded")):
			l.mu.Lock()
			l.lost[key] = true
			l.mu.Unlock()
			return true
		case status == http.StatusConflict:
			// Its first attempt still holds the key (here or in a killed
			// gateway, until the lease ends): come back to it later.
			l.park(key)
			return false
		case status == 0:
			// No answer: the gateway may have died with this request, whose
			// claim then holds the key until its lease ends, and a repeat
			// waits out its deadline. Like a client's retry queue, come back
			// to it later; meanwhile new writes show when service is back.
			l.park(key)
			return false
		case status >= 500 || status == http.StatusTooManyRequests:
			time.Sleep(pace)
		default:
			l.fail("unexpected answer for %s: %d %s", key, status, body)
			time.Sleep(pace)
		}
	}
}

func (l *load) park(key string) {
	l.mu.Lock()
	l.parked = append(l.parked, key)
	l.mu.Unlock()
}

func (l *load) fail(format string, args ...any) {
	l.mu.Lock()
	if len(l.unexpected) < 20 {
		l.unexpected = append(l.unexpected, fmt.Sprintf(format, args...))
	}
	l.mu.Unlock()
}

func (l *load) post(key string) (int, []byte) {
	body, _ := json.Marshal(map[string]string{"name": key})
	req, _ := http.NewRequest(http.MethodPost, l.g.url()+"/api/account", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+l.token)
	req.Header.Set("Idempotency-Key", key)
	a := attempt{start: time.Now()}
	res, err := l.client.Do(req)
	var out []byte
	if err == nil {
		out, _ = io.ReadAll(res.Body)
		res.Body.Close()
		a.status = res.StatusCode
		a.ok = res.StatusCode == http.StatusOK
	}
	a.end = time.Now()
	l.mu.Lock()
	l.attempts = append(l.attempts, a)
	l.mu.Unlock()
	return a.status, out
}

// resolve retries the parked keys until each is answered (their first
// attempts' leases end meanwhile).
func (l *load) resolve() {
	l.t.Helper()
	never := make(chan struct{})
	deadline := time.Now().Add(lease + 30*time.Second)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		keys := l.parked
		l.parked = nil
		l.mu.Unlock()
		if len(keys) == 0 {
			return
		}
		for _, k := range keys {
			l.write(k, never) // parks k again while it is in progress
		}
		time.Sleep(200 * time.Millisecond)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.parked) > 0 {
		l.t.Errorf("%d keys still in progress %s after the load: %v", len(l.parked), lease+30*time.Second, l.parked[:min(5, len(l.parked))])
	}
}

// phase is a fault and its measured consequences.
type phase struct {
	name               string
	faultAt, recovered time.Time
	failed             int           // failed attempts from the fault to 1 s past recovery
	firstOK            time.Duration // first acknowledged write after recovery
	slowestFailure     time.Duration // longest failed attempt started during the fault
}

// measure reads the attempts around a fault that began at faultAt and was
// lifted at recovered.
func (l *load) measure(name string, faultAt, recovered time.Time) phase {
	// Give the load a moment past recovery to show its first success.
	wait := time.Now().Add(5 * time.Second)
	for time.Now().Before(wait) {
		if l.firstOKAfter(recovered) >= 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	p := phase{name: name, faultAt: faultAt, recovered: recovered, firstOK: l.firstOKAfter(recovered)}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, a := range l.attempts {
		if a.ok || a.end.Before(faultAt) || a.start.After(recovered.Add(time.Second)) {
			continue
		}
		p.failed++
		if !a.start.Before(faultAt) && a.start.Before(recovered) {
			p.slowestFailure = max(p.slowestFailure, a.end.Sub(a.start))
		}
	}
	return p
}

// firstOKAfter is how long after t the first acknowledged write ended (-1:
// none yet).
func (l *load) firstOKAfter(t time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	first := time.Duration(-1)
	for _, a := range l.attempts {
		if a.ok && !a.end.Before(t) {
			if d := a.end.Sub(t); first < 0 || d < first {
				first = d
			}
		}
	}
	return first
}

// okSince counts acknowledged writes that ended after t.
func (l *load) okSince(t time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, a := range l.attempts {
		if a.ok && a.end.After(t) {
			n++
		}
	}
	return n
}

// failedSince counts failed attempts that ended after t.
func (l *load) failedSince(t time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, a := range l.attempts {
		if !a.ok && a.end.After(t) {
			n++
		}
	}
	return n
}

// waitFor waits until cond holds (true) or timeout passes (false).
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

// check asserts on a phase: the first write after recovery within
// recoveryBound (+ slack), and logs its figures.
func (l *load) check(p phase) {
	l.t.Helper()
	l.t.Logf("%-30s fault %6s, failed attempts %4d, slowest failure %6s, first acknowledged write %6s after recovery",
		p.name, p.recovered.Sub(p.faultAt).Round(time.Millisecond), p.failed, p.slowestFailure.Round(time.Millisecond), p.firstOK.Round(time.Millisecond))
	if p.firstOK < 0 {
		l.t.Errorf("%s: no acknowledged write after recovery", p.name)
	} else if p.firstOK > recoveryBound+slack {
		l.t.Errorf("%s: first acknowledged write %s after recovery, want ≤ %s", p.name, p.firstOK, recoveryBound)
	}
}

// verify compares the ledger with the rows in the database (name → ids):
// every acknowledged write is there with its id, a write whose answer was
// lost is there once, and no key wrote twice.
func (l *load) verify(rows map[string][]string) {
	l.t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	missing, dup := 0, 0
	for key, id := range l.acked {
		ids := rows[key]
		if len(ids) != 1 || ids[0] != id {
			missing++
			if missing <= 5 {
				l.t.Errorf("acknowledged write %s (id %s): rows %v", key, id, ids)
			}
		}
	}
	for key := range l.lost {
		if len(rows[key]) != 1 {
			l.t.Errorf("write %s whose answer was lost: %d rows", key, len(rows[key]))
		}
	}
	var names []string
	for name, ids := range rows {
		if len(ids) > 1 {
			dup++
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if dup > 0 {
		l.t.Errorf("%d keys wrote more than once: %v", dup, names[:min(5, len(names))])
	}
	for _, u := range l.unexpected {
		l.t.Error(u)
	}
	total := len(l.attempts)
	l.t.Logf("ledger: %d attempts, %d writes acknowledged, %d answers lost (written once), %d rows, %d acknowledged missing, %d duplicated",
		total, len(l.acked), len(l.lost), len(rows), missing, dup)
	if missing > 0 {
		l.t.Errorf("%d acknowledged writes lost", missing)
	}
}
