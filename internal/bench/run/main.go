// Command run is the benchmark harness behind `make bench` (not part of
// `make test`). For each database it seeds the bench data set into a fresh
// database (`conecrm seed --tenants 1 …`, which ends with ANALYZE), starts
// the gateway binary with the floor endpoints (CONECRM_BENCH=1), and loads
// each query shape at each concurrency for a fixed duration with a Go load
// generator. It prints one Markdown table per database: req/s, p50/p99,
// SQL statements per request (the gateway's counter) and the server's peak
// RSS, with the floor's rows next to the shapes they are the floor of.
//
//	go run ./internal/bench/run -pg postgres://… [-sqlite] [-duration 5s] [-c 1,8,32] [-base DIR]
//	                            [-users N] [-writes R] [-admin-writes R]
//	                            [-pgo FILE|off] [-base-pgo FILE|off] [-pgo-out FILE]
//
// With -base, a second checkout (e.g. a worktree of main) is built and
// served side by side on the same data, and every cell runs on it right
// before the current build: an A/B comparison under the same load. Both
// are built as make build builds the release binary, with the committed
// PGO profile (-pgo); -base . -base-pgo off measures the profile itself.
// -pgo-out merges the CPU profiles of the gateway cells into the profile
// make pgo commits. Every
// row records the 1-minute load average at its end: on a shared machine the
// absolute numbers mean little without it.
// -users N rotates the requests over N users of the bench tenant (the
// admin and N-1 copies of its manager, made after seeding), so each
// authenticates as several users would; -writes R creates R leads per
// second during each gateway cell (REST, as the admin, in a department
// whose leads are assigned by round robin) and reports under the cell's
// row how often the viewer generation moved and how many viewers were read
// from the database: reads under routine writes. -admin-writes R adds a
// second tenant (`conecrm tenant create`, after seeding) whose administrator
// renames a user of it R times per second during each gateway cell: the
// bench tenant's reads under another tenant's administration.
package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	_ "github.com/lib/pq"
	_ "modernc.org/sqlite"

	"github.com/conecrm/gateway/internal/auth"
	typedids "github.com/conecrm/gateway/internal/ids"
	"github.com/conecrm/gateway/internal/registry"
)

// secret signs the harness's tokens; the server is started with it.
const secret = "bench-secret-bench-secret-bench-secret-0123"

const (
	recursiveQuery = `{ accounts(first: 50) { edges { node {
		name contacts { firstName accounts { name contacts { lastName accounts { name } } } } } } } }`
	leadScreenQuery = `{ leads(first: 50) { edges { node { id subject
		contact { firstName lastName } account { name } stage { name }
		assignees { displayName } createdBy { displayName } } } } }`
	nodeQuery = `query($id: ID!) { node(id: $id) { id ... on Account { name city } } }`
)

type shape struct {
	name string
	// req returns the shape's request maker for one server: what does not
	// change between requests (the GraphQL body, the URL) is built once, so
	// the load generator — which shares the machine's CPU with the server —
	// spends no more per request on a GraphQL shape than on its floor.
	req func(base, token string, ids *ids) func() *http.Request
}

type ids struct {
	account string
	tokens  []string // the readers' (-users): requests take them in turn
	lead    []byte   // the body of a lead assigned by round robin (-writes)
	// -admin-writes: the second tenant's administrator's token and a
	// user of that tenant it renames.
	otherAdmin, otherUser string
}

func gql(query string, vars map[string]any) func(base, token string, ids *ids) func() *http.Request {
	return func(base, token string, ids *ids) func() *http.Request {
		v := map[string]any{}
		for k, x := range vars {
			if x == "$account" {
				x = ids.account
			}
			v[k] = x
		}
		body, _ := json.Marshal(map[string]any{"query": query, "variables": v})
		url, auth := base+"/graphql", "Bearer "+token
		return func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Authorization", auth)
			return r
		}
	}
}

func get(path string) func(base, token string, ids *ids) func() *http.Request {
	return func(base, token string, ids *ids) func() *http.Request {
		url, auth := base+strings.ReplaceAll(path, "$account", ids.account), "Bearer "+token
		return func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, url, nil)
			r.Header.Set("Authorization", auth)
			return r
		}
	}
}

var shapes = []shape{
	{"single node by id", gql(nodeQuery, map[string]any{"id": "$account"})},
	{"  floor: single node", get("/bench/floor/node?id=$account")},
	{"lead screen (50 leads + 5 relations)", gql(leadScreenQuery, nil)},
	{"  floor: lead screen", get("/bench/floor/leads")},
	{"accounts→contacts→accounts→contacts (50)", gql(recursiveQuery, nil)},
	{"  floor: recursive", get("/bench/floor/recursive")},
	{"REST account list", get("/api/account")},
	{"  floor: REST account list", get("/bench/floor/accounts")},
}

func main() {
	var (
		pgURL    = flag.String("pg", os.Getenv("CONECRM_TEST_DATABASE_URL"), "PostgreSQL server URL (a fresh database is created on it); empty skips PostgreSQL")
		sqlite   = flag.Bool("sqlite", true, "also run on SQLite")
		duration = flag.Duration("duration", 5*time.Second, "load time per shape and concurrency")
		conc     = flag.String("c", "1,8,32", "concurrencies")
		accounts = flag.Int("accounts", 10000, "bench data: accounts")
		contacts = flag.Int("contacts-per-account", 3, "bench data: contacts per account")
		leads    = flag.Int("leads", 50000, "bench data: leads")
		tasks    = flag.Int("tasks", 1000, "bench data: tasks")
		only     = flag.String("only", "", "run only shapes whose name contains this")
		baseDir  = flag.String("base", "", "another checkout to build and run side by side (A/B), e.g. a worktree of main, or . (with -base-pgo off: PGO's effect)")
		pgo      = flag.String("pgo", defaultPGO, "the profile both builds are built with (go build -pgo, as make build does); off: none")
		basePGO  = flag.String("base-pgo", "", "the -base build's profile when not -pgo's; off: none")
		floors   = flag.Bool("floor", true, "run the floors (false: the gateway cells only, e.g. an A/B with -base)")
		pgoOut   = flag.String("pgo-out", "", "merge the CPU profiles of this build's gateway cells (floors skipped) into this file: the profile make pgo commits")
		profiles = flag.String("profile", "", "directory for a CPU profile (and a heap profile, -heap.pprof) of each gateway cell's first round (go tool pprof -top FILE)")
		rounds   = flag.Int("rounds", 0, "rounds per cell: its time is split into this many rounds, interleaved among the gateway(s) and the floor; the ratio to the floor is the median of the rounds' (0: one per second of -duration, at least 3)")
		keep     = flag.String("sqlite-seeded", "", "an SQLite file seeded once and kept: seeded there when missing, each run serves a copy (saves the seeding while iterating)")
		users    = flag.Int("users", 1, "requests rotate over this many users' tokens (the bench admin and copies of its manager)")
		writes   = flag.Float64("writes", 0, "leads created per second (REST, assigned by round robin) during each gateway cell")
		admin    = flag.Float64("admin-writes", 0, "renames per second of a user of a second tenant by its administrator (GraphQL updateUser) during each gateway cell")
	)
	flag.Parse()
	if *rounds <= 0 {
		*rounds = max(3, int(*duration/time.Second))
	}
	var cs []int
	for _, s := range strings.Split(*conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fatal(fmt.Errorf("bad -c %q", *conc))
		}
		cs = append(cs, n)
	}
	tmp, err := os.MkdirTemp("", "conecrm-bench-")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(tmp)
	if *pgoOut != "" {
		if *baseDir != "" {
			fatal(errors.New("-pgo-out profiles one build: no -base"))
		}
		if *profiles == "" {
			*profiles = filepath.Join(tmp, "profiles")
		}
	}
	// A relative profile is the current checkout's: the base builds in
	// another directory with the same file.
	if *basePGO == "" {
		*basePGO = *pgo
	}
	for _, p := range []*string{pgo, basePGO} {
		if *p != "off" && *p != "auto" {
			if *p, err = filepath.Abs(*p); err != nil {
				fatal(err)
			}
		}
	}
	bin := filepath.Join(tmp, "conecrm")
	step("building the gateway (-pgo=" + *pgo + ")")
	built, err := goBuild(".", bin, *pgo)
	if err != nil {
		fatal(err)
	}
	builds := []build{{"", bin}}
	var about []string
	if *baseDir != "" {
		step("building the base in " + *baseDir + " (-pgo=" + *basePGO + ")")
		baseBuilt, err := goBuild(*baseDir, filepath.Join(tmp, "conecrm-base"), *basePGO)
		if err != nil {
			fatal(err)
		}
		builds = []build{{"base: ", filepath.Join(tmp, "conecrm-base")}, builds[0]}
		about = append(about, fmt.Sprintf("A/B: rows marked \"base:\" are %s (%s; %s), run right before the same cell of this build (%s; %s).",
			*baseDir, revision(*baseDir), baseBuilt, revision("."), built))
	} else {
		about = append(about, fmt.Sprintf("Build: %s (%s).", revision("."), built))
	}
	seedArgs := []string{"seed", "--tenants", "1", "--accounts", strconv.Itoa(*accounts),
		"--contacts-per-account", strconv.Itoa(*contacts), "--leads", strconv.Itoa(*leads), "--tasks", strconv.Itoa(*tasks)}
	machine()
	for _, a := range about {
		fmt.Printf("\n%s\n", a)
	}
	fmt.Printf("\nData: 1 tenant, %d accounts × %d contacts, %d leads, %d tasks. %s per cell.\n",
		*accounts, *contacts, *leads, *tasks, *duration)
	var targets []target
	if *sqlite {
		targets = append(targets, target{"SQLite", filepath.Join(tmp, "bench.db")})
	}
	if *pgURL != "" {
		u, err := freshPG(*pgURL)
		if err != nil {
			fatal(err)
		}
		targets = append(targets, target{"PostgreSQL", u})
	}
	for _, t := range targets {
		step("seeding " + t.name)
		began := time.Now()
		seeded := t.url
		if *keep != "" && t.name == "SQLite" {
			seeded = *keep
		}
		if _, err := os.Stat(seeded); seeded == t.url || err != nil {
			// The first build seeds: with -base, the data as the base
			// leaves it; this build serves a copy and migrates it at
			// start as an upgrade would.
			// A kept file is seeded under another name and renamed when
			// complete, so a failed seed is not reused.
			into := seeded
			if seeded != t.url {
				into = seeded + ".seeding"
			}
			seed := command(builds[0].bin, seedArgs...)
			seed.Env, seed.Stderr = env(into, ""), nil
			if out, err := seed.CombinedOutput(); err != nil {
				fatal(fmt.Errorf("seed %s: %v\n%s", t.name, err, out))
			}
			if into != seeded {
				if err := os.Rename(into, seeded); err != nil {
					fatal(err)
				}
			}
		}
		if seeded != t.url {
			if _, err := copyFile(seeded, t.url); err != nil {
				fatal(err)
			}
		}
		if err := addReaders(t.url, *users-1); err != nil {
			fatal(err)
		}
		if *admin > 0 {
			if err := addOtherTenant(builds[0].bin, t.url); err != nil {
				fatal(err)
			}
		}
		fmt.Printf("\n## %s (seeded in %s)\n\n", t.name, time.Since(began).Round(time.Second))
		if *users > 1 || *writes > 0 || *admin > 0 {
			fmt.Printf("Requests as %d users in turn; %.1f leads per second written (round robin) during each gateway round; "+
				"%.1f renames per second by another tenant's administrator.\n\n", *users, *writes, *admin)
		}
		if err := runTarget(builds, t, cs, *duration, *rounds, *only, *profiles, !*floors || *pgoOut != "", mix{users: *users, writes: *writes, admin: *admin}); err != nil {
			fatal(err)
		}
	}
	if *pgoOut != "" {
		if err := mergeProfiles(*pgoOut, cpuProfiles); err != nil {
			fatal(err)
		}
	}
}

// defaultPGO is the committed profile (make pgo writes it, make build
// builds with it), relative to the repository's root.
const defaultPGO = "internal/bench/pgo/gateway.pgo"

// goBuild builds the gateway in dir into out with the profile pgo, as
// make build does, and says how: the profile, the binary's size and the
// build's time (with the build cache as found: a warm cache builds in
// seconds either way).
func goBuild(dir, out, pgo string) (string, error) {
	began := time.Now()
	c := command("go", "build", "-pgo="+pgo, "-o", out, ".")
	c.Dir = dir
	if err := c.Run(); err != nil {
		return "", fmt.Errorf("go build in %s: %w", dir, err)
	}
	took := time.Since(began)
	if err := rewrite(out); err != nil {
		return "", err
	}
	fi, err := os.Stat(out)
	if err != nil {
		return "", err
	}
	name := pgo
	if pgo != "off" && pgo != "auto" {
		if rel, err := filepath.Rel(".", pgo); err == nil && !strings.HasPrefix(rel, "..") {
			name = rel
		}
	}
	return fmt.Sprintf("-pgo=%s, %.1f MB, built in %s", name, float64(fi.Size())/(1<<20), took.Round(100*time.Millisecond)), nil
}

// rewrite writes the file at name again through plain writes. The linker
// writes its output through a memory mapping, which can leave the file in
// the page cache as large folios; a process then maps a whole folio where
// it touches one page, and the gateway's text counted 8–9 MB more resident
// (26.9 against 18.1 MB at start) than the same bytes copied (session 9):
// of two builds an A/B compares, one could read up to 9 MB of RSS more
// for nothing it does.
func rewrite(name string) error {
	b, err := os.ReadFile(name)
	if err != nil {
		return err
	}
	tmp := name + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	for rest := b; len(rest) > 0; {
		n, err := f.Write(rest[:min(len(rest), 64<<10)])
		if err != nil {
			f.Close()
			return err
		}
		rest = rest[n:]
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// cpuProfiles lists the CPU profiles written of this build's gateway
// cells (not the base's), for -pgo-out.
var cpuProfiles []string

// mergeProfiles merges the CPU profiles files into out (go tool pprof
// -proto: the samples added up, so each cell weighs by the CPU it used)
// and prints the profile's hottest functions.
func mergeProfiles(out string, files []string) error {
	if len(files) == 0 {
		return errors.New("-pgo-out: no CPU profile was written")
	}
	var merged bytes.Buffer
	c := command("go", append([]string{"tool", "pprof", "-proto"}, files...)...)
	c.Stdout = &merged
	if err := c.Run(); err != nil {
		return fmt.Errorf("merging the profiles: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(out, merged.Bytes(), 0o644); err != nil {
		return err
	}
	step(fmt.Sprintf("wrote %s: %d profiles merged, %d kB", out, len(files), merged.Len()/1024))
	top := command("go", "tool", "pprof", "-top", "-nodecount=25", out)
	top.Stdout = os.Stderr
	return top.Run()
}

type target struct{ name, url string }

// build is one gateway binary; label prefixes its rows.
type build struct{ label, bin string }

// server is a running build.
type server struct {
	build
	base string
	pid  int
}

// mix is the load beside the measured reads: -users and -writes.
type mix struct {
	users  int
	writes float64 // leads per second
	admin  float64 // another tenant's renames per second
	token  string  // the writer's (the admin's)
	lead   []byte
	ids    *ids
}

func runTarget(builds []build, t target, cs []int, d time.Duration, rounds int, only, profiles string, noFloors bool, m mix) error {
	var servers []server
	ownCopy := t.url
	if len(builds) > 1 {
		// This build serves its own copy of the database, taken before
		// either starts: what one build writes at start (its migration,
		// statistics) must not change what the other reads or writes.
		var err error
		if strings.HasPrefix(t.url, "postgres") {
			ownCopy, err = copyPG(t.url)
		} else {
			ownCopy, err = copyFile(t.url, t.url+".ab")
		}
		if err != nil {
			return err
		}
	}
	// Every gateway shape starts on freshly started servers: a process
	// keeps the memory of its busiest earlier cell (the floors' included,
	// which build their JSON inside SQLite), and the RSS column is the
	// shape's own peak (with its floor's: the floor runs in this build's
	// server, its rounds interleaved with the shape's).
	var running []*exec.Cmd
	stop := func() {
		for _, srv := range running {
			_ = srv.Process.Signal(os.Interrupt)
			_ = srv.Wait()
		}
		running, servers = nil, nil
	}
	defer stop()
	start := func() error {
		stop()
		for _, b := range builds {
			port, err := freePort()
			if err != nil {
				return err
			}
			addr := "127.0.0.1:" + strconv.Itoa(port)
			dbURL := t.url
			if b.label == "" {
				dbURL = ownCopy
			}
			srv := command(b.bin, "serve")
			srv.Env = env(dbURL, addr)
			srv.Stdout, srv.Stderr = io.Discard, io.Discard
			if err := srv.Start(); err != nil {
				return err
			}
			running = append(running, srv)
			s := server{b, "http://" + addr, srv.Process.Pid}
			if err := waitReady(s.base); err != nil {
				return err
			}
			servers = append(servers, s)
		}
		return nil
	}
	tok, ids, err := identity(t.url, m.users, m.admin > 0)
	if err != nil {
		return err
	}
	m.token, m.lead, m.ids = tok, ids.lead, ids
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}, Timeout: time.Minute}
	ratioHead := "ratio to floor"
	if len(builds) > 1 {
		ratioHead += "; ÷ base"
	}
	fmt.Println("| query | c | req/s | " + ratioHead + " | p50 ms | p99 ms | SQL/req | peak RSS MB | errors | load | CPU ms/req gw / db / client |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	// A gateway shape and the floor below it run together, on the same
	// freshly started servers, their rounds interleaved (see cell).
	for i := 0; i < len(shapes); i++ {
		gw := shapes[i]
		var floor *shape
		if i+1 < len(shapes) && strings.Contains(shapes[i+1].name, "floor") {
			floor = &shapes[i+1]
			i++
		}
		runGW := only == "" || strings.Contains(gw.name, only)
		runFloor := floor != nil && !noFloors && (only == "" || strings.Contains(floor.name, only))
		if !runGW && !runFloor {
			continue
		}
		if err := start(); err != nil {
			return err
		}
		// The participants of each cell: the base's gateway, this build's,
		// and the floor (the same code in both builds: served by this one).
		var parts []participant
		for _, srv := range servers {
			if runGW {
				parts = append(parts, participant{label: srv.label, shape: gw, srv: srv})
			}
		}
		if runFloor {
			parts = append(parts, participant{shape: *floor, srv: servers[len(servers)-1], floor: true})
		}
		// Warm up (connections, caches, the first plans); a floor must
		// answer what this build's gateway answers.
		var answer []byte
		for j := range parts {
			p := &parts[j]
			p.req = rotate(p.shape, p.srv.base, ids)
			var body []byte
			for range 3 {
				if body, err = fetch(client, p.req()); err != nil {
					return fmt.Errorf("%s%s: %w", p.label, p.shape.name, err)
				}
			}
			switch {
			case !p.floor && p.label == "":
				answer = body
			case p.floor && answer != nil:
				if d := jsonDiff(body, answer); d != "" {
					fmt.Fprintf(os.Stderr, "bench: %s: the floor's answer differs from the gateway's (floor vs gateway) at %s\n", p.shape.name, d)
					fmt.Printf("| %s: **answer differs from the gateway's** | | | | | | | | | | |\n", strings.TrimSpace(p.shape.name))
				}
			}
		}
		for _, c := range cs {
			for _, r := range cell(client, t, parts, c, d, rounds, profiles, m) {
				fmt.Printf("| %s%s | %d | %s | %s | %s |\n", r.label, r.name, c, r.rps, r.ratio, r.rest)
				if r.note != "" {
					fmt.Printf("| ↳ %s%s | | | | | | | | | | |\n", r.label, r.note)
				}
			}
		}
	}
	return nil
}

// participant is one row of a cell: a gateway shape on one build, or the
// floor.
type participant struct {
	label string // "base: " or ""
	shape shape
	srv   server
	floor bool
	req   func() *http.Request
}

// row is a participant's printed result; note, under it, what -users and
// -writes measured.
type row struct{ label, name, rps, ratio, rest, note string }

// rotate returns a request maker of shape on base that takes the readers'
// tokens in turn.
func rotate(s shape, base string, ids *ids) func() *http.Request {
	makers := make([]func() *http.Request, len(ids.tokens))
	for i, tok := range ids.tokens {
		makers[i] = s.req(base, tok, ids)
	}
	var next atomic.Uint64
	return func() *http.Request { return makers[int(next.Add(1)-1)%len(makers)]() }
}

// cell loads every participant at concurrency c for d in all, split into
// rounds interleaved among them (round r: each participant in turn, the
// order rotated by one every round so none always follows the same one).
// A participant's req/s, latencies and CPU are over all its rounds; a
// gateway's ratio to the floor is the median, over the rounds, of its
// req/s divided by the floor's in the same round. Background load on a
// shared machine comes and goes within seconds: measured one after the
// other, a floor and its gateway saw different machines (session 6: the
// SQLite single node's ratio 0.38–0.55× in repeats of one cell); in the
// same round they see nearly the same one, and the median drops a round
// that a burst hit unevenly.
func cell(client *http.Client, t target, parts []participant, c int, d time.Duration, rounds int, profiles string, m mix) []row {
	rounds = max(1, rounds)
	each := d / time.Duration(rounds)
	samples := make([][]sample, len(parts))
	for r := range rounds {
		for k := range parts {
			j := (k + r) % len(parts)
			p := parts[j]
			var (
				profiled, heaped chan struct{}
				file             string
			)
			if profiles != "" && !p.floor && r == 0 {
				// The first round's: the floor runs in the same process, so
				// a profile must not span its rounds.
				file = filepath.Join(profiles, fmt.Sprintf("%s-%s%s-c%d.pprof", t.name, p.label, p.shape.name, c))
				file = strings.NewReplacer(" ", "_", ":", "", "(", "", ")", "", "→", "-").Replace(file)
				profiled = profile(p.srv.base, file, each)
				heaped = heapProfile(p.srv.base, strings.TrimSuffix(file, ".pprof")+"-heap.pprof", each/2)
			}
			var w, aw *writer
			before := stats(client, p.srv.base)
			if m.writes > 0 && !p.floor {
				w = startWriter(client, m.writes, leadRequest(p.srv.base, m.token, m.lead))
			}
			if m.admin > 0 && !p.floor {
				aw = startWriter(client, m.admin, renameRequest(p.srv.base, m.ids))
			}
			s := load(client, p.srv.pid, postgresPIDs(t.url), p.srv.base, p.req, c, each)
			if w != nil {
				s.written, s.writeErrors = w.stop()
			}
			if aw != nil {
				s.renamed, s.renameErrors = aw.stop()
			}
			after := stats(client, p.srv.base)
			s.viewerReads, s.viewerMoves = after.ViewerReads-before.ViewerReads, after.ViewerMoves-before.ViewerMoves
			s.tenantMoves = after.ViewerTenantMoves - before.ViewerTenantMoves
			if before.ViewerReads < 0 || after.ViewerReads < 0 {
				s.viewerReads = -1
			}
			if before.ViewerTenantMoves < 0 || after.ViewerTenantMoves < 0 {
				s.tenantMoves = -1
			}
			samples[j] = append(samples[j], s)
			if profiled != nil {
				<-profiled
				<-heaped
				if _, err := os.Stat(file); err == nil && p.label == "" {
					cpuProfiles = append(cpuProfiles, file)
				}
			}
		}
	}
	floor, base := -1, -1
	for j, p := range parts {
		switch {
		case p.floor:
			floor = j
		case p.label != "":
			base = j
		}
	}
	rows := make([]row, len(parts))
	for j, p := range parts {
		r := summarize(samples[j], t.url)
		if p.floor {
			r.statements = "1" // hand-written, outside the gateway's counter
		}
		ratio := "–"
		if floor >= 0 && !p.floor {
			ratio = roundRatio(samples[j], samples[floor])
		}
		// This build's gateway against the base's, round by round: the
		// A/B's own measure (the floor, the same code in both, divides out).
		if base >= 0 && !p.floor && p.label == "" {
			ratio = strings.TrimPrefix(ratio+"; ", "–; ") + "÷ base " + roundRatio(samples[j], samples[base])
		}
		rows[j] = row{p.label, p.shape.name, fmt.Sprintf("%.0f", r.rps), ratio,
			fmt.Sprintf("%.1f | %.1f | %s | %.0f | %d | %s | %s", ms(r.p50), ms(r.p99), r.statements, r.rssMB, r.errors, loadavg1(), r.cpu), ""}
		if !p.floor && (m.writes > 0 || m.users > 1 || m.admin > 0) {
			rows[j].note = viewerLine(samples[j], m.writes > 0, m.admin > 0)
		}
	}
	return rows
}

// roundRatio is the median over the rounds of a's req/s divided by b's
// in the same round, each round's in brackets (sorted).
func roundRatio(a, b []sample) string {
	var rs []float64
	for i, s := range a {
		if f := b[i].rps(); f > 0 {
			rs = append(rs, s.rps()/f)
		}
	}
	if len(rs) == 0 {
		return "–"
	}
	slices.Sort(rs)
	out := fmt.Sprintf("**%.2f×**", median(rs))
	if len(rs) > 1 {
		each := make([]string, len(rs))
		for i, x := range rs {
			each[i] = fmt.Sprintf("%.2f", x)
		}
		out += " (" + strings.Join(each, ", ") + ")"
	}
	return out
}

func median(xs []float64) float64 {
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// copyFile copies the SQLite file src (closed: its WAL checkpointed) to
// dst and returns dst.
func copyFile(src, dst string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return "", err
	}
	return dst, out.Close()
}

// profile writes a CPU profile of the server, taken during the next d
// (whole seconds, at least one), to file; the channel closes when done.
func profile(base, file string, d time.Duration) chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		res, err := http.Get(fmt.Sprintf("%s/bench/pprof/profile?seconds=%d", base, max(1, int(d.Seconds()))))
		if err != nil {
			step("profile: " + err.Error())
			return
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return // a build without the profile endpoint
		}
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			step("profile: " + err.Error())
			return
		}
		f, err := os.Create(file)
		if err != nil {
			step("profile: " + err.Error())
			return
		}
		defer f.Close()
		_, _ = io.Copy(f, res.Body)
	}()
	return done
}

// heapProfile writes a heap profile of the server, taken after wait (in
// the middle of the cell, under load), to file; the channel closes when
// done.
func heapProfile(base, file string, wait time.Duration) chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(wait)
		res, err := http.Get(base + "/bench/pprof/heap")
		if err != nil {
			return
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return // a build without the heap endpoint
		}
		if f, err := os.Create(file); err == nil {
			_, _ = io.Copy(f, res.Body)
			f.Close()
		}
	}()
	return done
}

// loadavg1 is the machine's 1-minute load average.
func loadavg1() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// revision names the commit checked out in dir.
func revision(dir string) string {
	c := exec.Command("git", "-C", dir, "log", "-1", "--format=%h %s")
	out, err := c.Output()
	if err != nil {
		return "?"
	}
	s := strings.TrimSpace(string(out))
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}

type result struct {
	rps        float64
	p50, p99   time.Duration
	statements string
	rssMB      float64
	errors     int64
	cpu        string // CPU ms per request: gateway / database / load generator
}

// sample is what one round of load measured.
type sample struct {
	elapsed      time.Duration
	latencies    []time.Duration
	errors       int64
	peakKB       int64
	gw, db, self int64 // CPU ticks of the gateway, the database, the load generator
	statements   int64 // the gateway's statements in the round, -1 unknown
	// -users, -writes and -admin-writes: viewers read from the database
	// (-1 unknown), moves of every tenant's viewer generation and of one
	// tenant's (-1 unknown: a build before per-tenant generations), leads
	// written and failed, renames made and failed.
	viewerReads, viewerMoves, tenantMoves int64
	written, writeErrors                  int
	renamed, renameErrors                 int
}

func (s sample) rps() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(len(s.latencies)) / s.elapsed.Seconds()
}

// summarize adds up a participant's rounds.
func summarize(ss []sample, dbURL string) result {
	var (
		all                 []time.Duration
		elapsed             time.Duration
		errs, peak          int64
		gw, db, self, stmts int64
	)
	for _, s := range ss {
		all = append(all, s.latencies...)
		elapsed += s.elapsed
		errs += s.errors
		peak = max(peak, s.peakKB)
		gw, db, self = gw+s.gw, db+s.db, self+s.self
		if stmts >= 0 && s.statements >= 0 {
			stmts += s.statements
		} else {
			stmts = -1
		}
	}
	slices.Sort(all)
	r := result{errors: errs, rssMB: float64(peak) / 1024, statements: "–", cpu: "–"}
	n := len(all)
	if n == 0 {
		return r
	}
	r.rps = float64(n) / elapsed.Seconds()
	perReq := func(ticks int64) string {
		return fmt.Sprintf("%.2f", float64(ticks)*1000/clockTicks/float64(n))
	}
	r.cpu = perReq(gw)
	if strings.HasPrefix(dbURL, "postgres") {
		r.cpu += " / " + perReq(db)
	} else {
		r.cpu += " / –"
	}
	r.cpu += " / " + perReq(self)
	r.p50 = all[n/2]
	r.p99 = all[min(n-1, n*99/100)]
	if stmts >= 0 {
		r.statements = fmt.Sprintf("%.1f", float64(stmts)/float64(int64(n)+errs))
	}
	return r
}

// load runs c workers for d and measures them.
func load(client *http.Client, pid int, dbPIDs func() []int, base string, req func() *http.Request, c int, d time.Duration) sample {
	before := statements(client, base)
	pgBefore := map[int]int64{}
	for _, p := range dbPIDs() {
		pgBefore[p] = cpuTicks(p)
	}
	gw0, self0 := cpuTicks(pid), cpuTicks(os.Getpid())
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      atomic.Int64
		peak      atomic.Int64
		wg        sync.WaitGroup
	)
	stop := make(chan struct{})
	go func() { // RSS sampler
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if kb := rssKB(pid); kb > peak.Load() {
					peak.Store(kb)
				}
			}
		}
	}()
	deadline := time.Now().Add(d)
	began := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if err := once(client, req()); err != nil {
					errs.Add(1)
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(began)
	close(stop)
	gw1, self1 := cpuTicks(pid), cpuTicks(os.Getpid())
	// The pool opens connections during the round: a backend that was not
	// there before counts whole.
	var db int64
	for _, p := range dbPIDs() {
		db += cpuTicks(p) - pgBefore[p]
	}
	s := sample{elapsed: elapsed, latencies: latencies, errors: errs.Load(), peakKB: peak.Load(),
		gw: gw1 - gw0, db: db, self: self1 - self0, statements: -1}
	if after := statements(client, base); before >= 0 && after >= 0 {
		s.statements = after - before
	}
	return s
}

func once(client *http.Client, r *http.Request) error {
	_, err := fetch(client, r)
	return err
}

func fetch(client *http.Client, r *http.Request) ([]byte, error) {
	res, err := client.Do(r)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || bytes.Contains(body, []byte(`"errors"`)) {
		return nil, fmt.Errorf("status %d: %.300s", res.StatusCode, body)
	}
	return body, nil
}

// jsonDiff names the first place where two JSON documents differ, or "".
func jsonDiff(a, b []byte) string {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return "not JSON"
	}
	return firstDiff("", canonical(x), canonical(y))
}

// canonical returns v with every array sorted by its items' JSON, inner
// arrays first: the same items in any order compare equal (the gateway's
// plain lists are the first 10 by id, not ordered by it).
func canonical(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = canonical(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		keys := make(map[int]string, len(v))
		for i, x := range v {
			out[i] = canonical(x)
		}
		idx := make([]int, len(out))
		for i := range idx {
			idx[i] = i
			b, _ := json.Marshal(out[i])
			keys[i] = string(b)
		}
		slices.SortFunc(idx, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
		sorted := make([]any, len(out))
		for i, j := range idx {
			sorted[i] = out[j]
		}
		return sorted
	}
	return v
}

func firstDiff(path string, x, y any) string {
	switch x := x.(type) {
	case map[string]any:
		y, ok := y.(map[string]any)
		if !ok || len(x) != len(y) {
			return fmt.Sprintf("%s: %.200v vs %.200v", path, x, y)
		}
		for k, v := range x {
			if d := firstDiff(path+"."+k, v, y[k]); d != "" {
				return d
			}
		}
	case []any:
		y, ok := y.([]any)
		if !ok || len(x) != len(y) {
			return fmt.Sprintf("%s: %d items vs %.200v", path, len(x), y)
		}
		for i := range x {
			if d := firstDiff(fmt.Sprintf("%s[%d]", path, i), x[i], y[i]); d != "" {
				return d
			}
		}
	default:
		if !reflect.DeepEqual(x, y) {
			return fmt.Sprintf("%s: %v vs %v", path, x, y)
		}
	}
	return ""
}

// statements reads the gateway's statement counter (-1 if unavailable).
func statements(client *http.Client, base string) int64 { return stats(client, base).Statements }

// counters are the gateway's /bench/stats: statements, viewers read from
// the database, moves of every tenant's viewer generation and of one
// tenant's (-1: unavailable).
type counters struct{ Statements, ViewerReads, ViewerMoves, ViewerTenantMoves int64 }

func stats(client *http.Client, base string) counters {
	v := counters{-1, -1, -1, -1}
	res, err := client.Get(base + "/bench/stats")
	if err != nil {
		return v
	}
	defer res.Body.Close()
	if json.NewDecoder(res.Body).Decode(&v) != nil {
		return counters{-1, -1, -1, -1}
	}
	return v
}

// viewerLine describes what authentication cost over a participant's
// rounds (and what the writer wrote beside them).
func viewerLine(ss []sample, writes, admin bool) string {
	var (
		b                                  strings.Builder
		n, written, failed, renamed, fails int
		reads, moves, tenantMoves          int64
		elapsed                            time.Duration
	)
	for _, s := range ss {
		n += len(s.latencies)
		written, failed, elapsed = written+s.written, failed+s.writeErrors, elapsed+s.elapsed
		renamed, fails = renamed+s.renamed, fails+s.renameErrors
		moves += s.viewerMoves
		if tenantMoves >= 0 && s.tenantMoves >= 0 {
			tenantMoves += s.tenantMoves
		} else {
			tenantMoves = -1
		}
		if reads >= 0 && s.viewerReads >= 0 {
			reads += s.viewerReads
		} else {
			reads = -1
		}
	}
	if writes {
		fmt.Fprintf(&b, "%d leads written (%.1f/s, %d failed); ", written, float64(written)/elapsed.Seconds(), failed)
	}
	if admin {
		fmt.Fprintf(&b, "%d renames in another tenant (%.1f/s, %d failed); ", renamed, float64(renamed)/elapsed.Seconds(), fails)
	}
	if reads < 0 {
		return b.String() + "viewer counters unavailable"
	}
	fmt.Fprintf(&b, "viewer generation moved %d× for every tenant", moves)
	if tenantMoves >= 0 {
		fmt.Fprintf(&b, ", %d× for one", tenantMoves)
	}
	// Every request counts, the writers' too (a rename ends its own
	// tenant's viewers: its next one reads its administrator again).
	fmt.Fprintf(&b, "; %d viewers read: %.3f per request", reads, float64(reads)/float64(max(1, n+written+renamed)))
	return b.String()
}

// leadRequest returns a maker of the -writes requests: a lead assigned by
// round robin, as the bench admin.
func leadRequest(base, token string, body []byte) func() *http.Request {
	return func() *http.Request {
		r, _ := http.NewRequest(http.MethodPost, base+"/api/lead", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+token)
		return r
	}
}

// renameRequest returns a maker of the -admin-writes requests: the second
// tenant's administrator renames a user of that tenant, a new name each
// time.
func renameRequest(base string, ids *ids) func() *http.Request {
	var n atomic.Int64
	return func() *http.Request {
		body, _ := json.Marshal(map[string]any{
			"query":     `mutation($id: ID!, $name: String!) { updateUser(id: $id, input: {displayName: $name}) { id } }`,
			"variables": map[string]any{"id": ids.otherUser, "name": fmt.Sprintf("Renamed %d", n.Add(1))}})
		r, _ := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+ids.otherAdmin)
		return r
	}
}

// writer sends requests at a fixed rate until stopped.
type writer struct {
	done    chan struct{}
	wg      sync.WaitGroup
	ok, bad atomic.Int64
}

func startWriter(client *http.Client, perSecond float64, req func() *http.Request) *writer {
	w := &writer{done: make(chan struct{})}
	every := time.Duration(float64(time.Second) / perSecond)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		next := time.Now()
		for {
			next = next.Add(every)
			select {
			case <-w.done:
				return
			case <-time.After(time.Until(next)):
			}
			if _, err := fetch(client, req()); err != nil {
				if w.bad.Add(1) == 1 {
					step("writer: " + err.Error())
				}
				continue
			}
			w.ok.Add(1)
		}
	}()
	return w
}

// stop ends the writer; it returns the requests that succeeded and failed.
func (w *writer) stop() (written, failed int) {
	close(w.done)
	w.wg.Wait()
	return int(w.ok.Load()), int(w.bad.Load())
}

// identity mints a token for the bench tenant's admin, tokens for the
// readers (the admin and the copies addReaders made, users in all), and
// picks an account and what a lead assigned by round robin needs; with
// other, the second tenant's administrator's token and the user it renames
// (its own).
func identity(dbURL string, users int, other bool) (string, *ids, error) {
	db, err := openDB(dbURL)
	if err != nil {
		return "", nil, err
	}
	defer db.Close()
	var uid, tid, acc string
	if err := db.QueryRow(`SELECT id, tenant_id FROM users WHERE email LIKE 'admin@bench-%' LIMIT 1`).Scan(&uid, &tid); err != nil {
		return "", nil, fmt.Errorf("bench admin: %w", err)
	}
	if err := db.QueryRow(`SELECT id FROM accounts WHERE tenant_id = $1 ORDER BY id LIMIT 1 OFFSET 100`, tid).Scan(&acc); err != nil {
		return "", nil, fmt.Errorf("bench account: %w", err)
	}
	mint := func(user string) (string, error) {
		return auth.Mint([]byte(secret), uuid.MustParse(user), uuid.MustParse(tid), 2*time.Hour)
	}
	tok, err := mint(uid)
	if err != nil {
		return "", nil, err
	}
	out := &ids{account: acc, tokens: []string{tok}}
	rows, err := db.Query(`SELECT id FROM users WHERE tenant_id = $1 AND email LIKE 'reader%' ORDER BY email LIMIT $2`, tid, users-1)
	if err != nil {
		return "", nil, err
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return "", nil, err
		}
		t, err := mint(id)
		if err != nil {
			rows.Close()
			return "", nil, err
		}
		out.tokens = append(out.tokens, t)
	}
	rows.Close()
	if len(out.tokens) < users {
		return "", nil, fmt.Errorf("bench readers: %d of %d", len(out.tokens), users)
	}
	var dept, franchise, contact, source string
	if err := db.QueryRow(`SELECT id, franchise_id FROM departments WHERE tenant_id = $1 AND security_group_id IS NOT NULL
		AND franchise_id IS NOT NULL ORDER BY id LIMIT 1`, tid).Scan(&dept, &franchise); err != nil {
		return "", nil, fmt.Errorf("bench round-robin department: %w", err)
	}
	if err := db.QueryRow(`SELECT id FROM contacts WHERE tenant_id = $1 ORDER BY id LIMIT 1`, tid).Scan(&contact); err != nil {
		return "", nil, fmt.Errorf("bench contact: %w", err)
	}
	if err := db.QueryRow(`SELECT id FROM sources WHERE tenant_id = $1 ORDER BY id LIMIT 1`, tid).Scan(&source); err != nil {
		return "", nil, fmt.Errorf("bench source: %w", err)
	}
	ref := func(id string) map[string]string { return map[string]string{"id": id} }
	out.lead, _ = json.Marshal(map[string]any{"subject": "Bench lead", "department": ref(dept), "franchise": ref(franchise),
		"contact": ref(contact), "source": ref(source)})
	if other {
		var oid, otid string
		if err := db.QueryRow(`SELECT id, tenant_id FROM users WHERE email = $1`, otherAdminEmail).Scan(&oid, &otid); err != nil {
			return "", nil, fmt.Errorf("the other tenant's admin: %w", err)
		}
		t, err := auth.Mint([]byte(secret), uuid.MustParse(oid), uuid.MustParse(otid), 2*time.Hour)
		if err != nil {
			return "", nil, err
		}
		out.otherAdmin, out.otherUser = t, oid
	}
	return tok, out, nil
}

// otherAdminEmail is the administrator of the tenant addOtherTenant makes.
const otherAdminEmail = "admin@bench-other.test"

// addOtherTenant makes a second tenant (conecrm tenant create) for
// -admin-writes.
func addOtherTenant(bin, dbURL string) error {
	c := command(bin, "tenant", "create", "--name", "Bench other", "--domain", "bench-other.test", "--admin-email", otherAdminEmail)
	c.Env, c.Stderr = env(dbURL, ""), nil
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("tenant create: %v\n%s", err, out)
	}
	return nil
}

func openDB(dbURL string) (*sql.DB, error) {
	driver, dsn := "sqlite", "file:"+dbURL+"?_pragma=busy_timeout(10000)"
	if strings.HasPrefix(dbURL, "postgres") {
		driver, dsn = "postgres", dbURL
	}
	return sql.Open(driver, dsn)
}

// addReaders makes n more users of the bench tenant, copies of its manager
// (type, roles) named reader1@…, for -users.
func addReaders(dbURL string, n int) error {
	if n <= 0 {
		return nil
	}
	db, err := openDB(dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	var manager, domain string
	if err := db.QueryRow(`SELECT id, email FROM users WHERE email LIKE 'manager@bench-%' LIMIT 1`).Scan(&manager, &domain); err != nil {
		return fmt.Errorf("bench manager: %w", err)
	}
	_, domain, _ = strings.Cut(domain, "@")
	list := `SELECT name FROM pragma_table_info('users')`
	if strings.HasPrefix(dbURL, "postgres") {
		list = `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'users'`
	}
	rows, err := db.Query(list)
	if err != nil {
		return err
	}
	var cols, vals []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return err
		}
		cols = append(cols, c)
		switch c {
		case "id":
			vals = append(vals, "$1")
		case "username", "email":
			vals = append(vals, "$2")
		default:
			vals = append(vals, c)
		}
	}
	rows.Close()
	copyUser := `INSERT INTO users (` + strings.Join(cols, ", ") + `) SELECT ` + strings.Join(vals, ", ") + ` FROM users WHERE id = $3`
	for i := 1; i <= n; i++ {
		id := typedids.New(registry.ByType("User").Code)
		if _, err := db.Exec(copyUser, id, fmt.Sprintf("reader%04d@%s", i, domain), manager); err != nil {
			return fmt.Errorf("bench reader: %w", err)
		}
		if _, err := db.Exec(`INSERT INTO user_roles (user_id, role_id) SELECT $1, role_id FROM user_roles WHERE user_id = $2`, id, manager); err != nil {
			return fmt.Errorf("bench reader's roles: %w", err)
		}
	}
	return nil
}

// copyPG makes a copy of the PostgreSQL database u (no session may be
// connected to it) and returns its URL.
func copyPG(u string) (string, error) {
	p, err := url.Parse(u)
	if err != nil {
		return "", err
	}
	name := strings.TrimPrefix(p.Path, "/")
	p.Path = "/postgres" // not the template: it must have no session
	db, err := sql.Open("postgres", p.String())
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE " + name + "_ab TEMPLATE " + name); err != nil {
		return "", fmt.Errorf("copy %s: %w", name, err)
	}
	p.Path = "/" + name + "_ab"
	return p.String(), nil
}

// freshPG creates a new database on the server of u and returns its URL.
func freshPG(u string) (string, error) {
	db, err := sql.Open("postgres", u)
	if err != nil {
		return "", err
	}
	defer db.Close()
	name := fmt.Sprintf("bench_%d", time.Now().Unix())
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		return "", err
	}
	p, err := url.Parse(u)
	if err != nil {
		return "", err
	}
	p.Path = "/" + name
	return p.String(), nil
}

func env(dbURL, addr string) []string {
	// The harness measures the gateway, not its abuse limits: rate limits
	// and load shedding are off, and the complexity budget admits the
	// recursive shape with first: 50 (~560 k, above the 50 k default).
	e := append(os.Environ(), "CONECRM_DATABASE_URL="+dbURL, "CONECRM_JWT_SECRET="+secret,
		"CONECRM_ENV=production", "CONECRM_BENCH=1",
		"CONECRM_RATE_USER=0", "CONECRM_RATE_TENANT=0", "CONECRM_RATE_MAX_IN_FLIGHT=0",
		"CONECRM_GRAPHQL_MAX_COMPLEXITY=2000000")
	if addr != "" {
		e = append(e, "CONECRM_ADDR="+addr)
	}
	return e
}

func waitReady(base string) error {
	for range 600 {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("server not ready after 60 s")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's CPU times (100 on
// every Linux architecture Go supports).
const clockTicks = 100

// cpuTicks is the CPU time (user + system) the processes pids have used,
// in clock ticks (Linux; 0 for a process that is gone).
func cpuTicks(pids ...int) int64 {
	var sum int64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command name (which may hold spaces): state is
		// field 3, utime and stime fields 14 and 15.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		sum += u + st
	}
	return sum
}

// postgresPIDs lists the server processes of the PostgreSQL cluster at
// dbURL (its backends and background workers), whose CPU a cell counts as
// the database's; nil for SQLite, which runs inside the gateway.
func postgresPIDs(dbURL string) func() []int {
	if !strings.HasPrefix(dbURL, "postgres") {
		return func() []int { return nil }
	}
	return func() []int {
		db, err := sql.Open("postgres", dbURL)
		if err != nil {
			return nil
		}
		defer db.Close()
		rows, err := db.Query(`SELECT pid FROM pg_stat_activity`)
		if err != nil {
			return nil
		}
		defer rows.Close()
		var pids []int
		for rows.Next() {
			var pid int
			if rows.Scan(&pid) == nil {
				pids = append(pids, pid)
			}
		}
		return pids
	}
}

// rssKB is the resident set of pid in kB (Linux), 0 when unknown.
func rssKB(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}

// machine prints what the numbers were measured on.
func machine() {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	fmt.Printf("# Benchmark %s\n\nMachine: %s, %d CPUs (GOMAXPROCS %d), %s/%s, %s; load average before: %s.\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), model, runtime.NumCPU(), runtime.GOMAXPROCS(0),
		runtime.GOOS, runtime.GOARCH, runtime.Version(), load)
}

func command(name string, args ...string) *exec.Cmd {
	c := exec.CommandContext(context.Background(), name, args...)
	c.Stderr = os.Stderr
	return c
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func step(s string) { fmt.Fprintln(os.Stderr, "bench:", s) }

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
