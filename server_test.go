package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/outboxevent"
	"github.com/conecrm/gateway/ent/permission"
	"github.com/conecrm/gateway/ent/role"
	"github.com/conecrm/gateway/ent/schema"
	"github.com/conecrm/gateway/ent/tenant"
	"github.com/conecrm/gateway/internal/app"
	"github.com/conecrm/gateway/internal/auth"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/apptest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestFirstStartSeedsTheDemoDataAndLogsAToken(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var logs apptest.Logs
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, env(map[string]string{"CONECRM_DATA_DIR": dir, "CONECRM_ADDR": addr, "CONECRM_METRICS_ADDR": "127.0.0.1:0"}), io.Discard, &logs)
	}()
	waitHealthy(t, "http://"+addr)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	out := logs.String()
	if !strings.Contains(out, "demo token for admin@demo-motors.test") || !strings.Contains(out, "/playground#token=ey") {
		t.Fatalf("startup log lacks the token or the signed-in playground URL:\n%s", out)
	}
	secret, err := os.ReadFile(filepath.Join(dir, "jwt-secret"))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(dir, "jwt-secret")); st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode %v, want 0600", st.Mode().Perm())
	}
	// The token subcommand mints with the same kept secret.
	var tok bytes.Buffer
	if err := run(context.Background(), []string{"token", "--email", "user@northwind-auto.test", "--ttl", "1h"},
		env(map[string]string{"CONECRM_DATA_DIR": dir}), &tok, io.Discard); err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.Config{Secret: bytes.TrimSpace(secret)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), strings.TrimSpace(tok.String())); err != nil {
		t.Fatalf("printed token does not verify: %v", err)
	}
}

func waitHealthy(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("server did not become healthy")
}

func TestProductionRefusesToStartWithoutKeyMaterial(t *testing.T) {
	err := run(context.Background(), []string{"serve"},
		env(map[string]string{"CONECRM_ENV": "production", "CONECRM_DATA_DIR": t.TempDir()}), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "production needs key material") {
		t.Fatalf("err = %v", err)
	}
}

func TestBadConfigurationIsRejected(t *testing.T) {
	for name, e := range map[string]map[string]string{
		"unknown env":  {"CONECRM_ENV": "staging"},
		"short secret": {"CONECRM_JWT_SECRET": "too-short"},
		"no options":   {"CONECRM_FILTER_MAX_OPTIONS": "0"},
		"options":      {"CONECRM_FILTER_MAX_OPTIONS": "many"},
		"gc percent":   {"CONECRM_GC_PERCENT": "5"},
		"gc text":      {"CONECRM_GC_PERCENT": "low"},
		"gc min heap":  {"CONECRM_GC_MIN_HEAP": "lots"},
		"gc negative":  {"CONECRM_GC_MIN_HEAP": "-1"},
		"viewer cache": {"CONECRM_VIEWER_CACHE": "-1"},
		"cache text":   {"CONECRM_VIEWER_CACHE": "lots"},
		"statements":   {"CONECRM_DB_STATEMENT_CACHE": "-1"},
		"stmt text":    {"CONECRM_DB_STATEMENT_CACHE": "all"},
		"tx retries":   {"CONECRM_TX_RETRIES": "-1"},
		"tx forever":   {"CONECRM_TX_RETRIES": "100"},
	} {
		t.Run(name, func(t *testing.T) {
			e["CONECRM_DATA_DIR"] = t.TempDir()
			if err := run(context.Background(), []string{"migrate"}, env(e), io.Discard, io.Discard); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if err := run(context.Background(), []string{"frobnicate"}, env(nil), io.Discard, io.Discard); err == nil {
		t.Fatal("unknown subcommand accepted")
	}
}

// The process runs its collector at app.DefaultGCPercent with the heap
// goal never below app.DefaultGCMinHeapMiB unless CONECRM_GC_PERCENT and
// CONECRM_GC_MIN_HEAP say otherwise; an operator's GOGC, which the runtime
// applied at start, is left alone.
func TestCollectorTargetConfiguration(t *testing.T) {
	was := debug.SetGCPercent(100)
	defer func() {
		app.ApplyGC(app.GCPolicy{Percent: was}) // stops the tuner
		debug.SetGCPercent(was)
	}()
	for _, c := range []struct {
		env     map[string]string
		percent int    // the GC percent after the run
		goal    uint64 // or: the least heap goal after a collection (MiB)
	}{
		{env: map[string]string{}, goal: app.DefaultGCMinHeapMiB},
		{env: map[string]string{"CONECRM_GC_MIN_HEAP": "80"}, goal: 80},
		{env: map[string]string{"CONECRM_GC_MIN_HEAP": "0"}, percent: app.DefaultGCPercent},
		{env: map[string]string{"CONECRM_GC_PERCENT": "150", "CONECRM_GC_MIN_HEAP": "0"}, percent: 150},
		{env: map[string]string{"CONECRM_GC_PERCENT": "150", "GOGC": "200"}, percent: 100}, // as the runtime left it
	} {
		app.ApplyGC(app.GCPolicy{Percent: 100}) // a plain GOGC 100, no tuner
		c.env["CONECRM_DATA_DIR"] = t.TempDir()
		if err := run(context.Background(), []string{"migrate"}, env(c.env), io.Discard, io.Discard); err != nil {
			t.Fatal(err)
		}
		if c.percent > 0 {
			if got := readMetric("/gc/gogc:percent"); got != uint64(c.percent) {
				t.Errorf("%v: GC percent %d, want %d", c.env, got, c.percent)
			}
			continue
		}
		// The tuner runs after a collection, on the runtime's cleanup goroutine.
		for deadline := time.Now().Add(5 * time.Second); readMetric("/gc/heap/goal:bytes") < c.goal<<20 && time.Now().Before(deadline); {
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
		}
		if got := readMetric("/gc/heap/goal:bytes"); got < c.goal<<20 {
			t.Errorf("%v: heap goal %d MiB, want at least %d", c.env, got>>20, c.goal)
		}
	}
}

func readMetric(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func TestShutdownLetsInFlightRequestsFinish(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "finished")
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serveUntilDone(ctx, ln, h, app.DefaultLimits(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		res, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		got <- result{string(b), err}
	}()
	<-started
	cancel() // SIGTERM arrives while the request is in flight
	select {
	case err := <-done:
		t.Fatalf("server stopped before the in-flight request finished: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/new"); err == nil {
		t.Fatal("a new request was accepted during shutdown")
	}
	close(release)
	if r := <-got; r.err != nil || r.body != "finished" {
		t.Fatalf("in-flight request: body %q err %v", r.body, r.err)
	}
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// Production never seeds demo data (no demo ADMIN users in a new
// database), never logs a token, and keeps the data private: directory
// 0700, database file 0600.
func TestProductionStartsEmptyPrivateAndQuiet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var logs apptest.Logs
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, env(map[string]string{"CONECRM_DATA_DIR": dir, "CONECRM_ADDR": addr, "CONECRM_ENV": "production",
			"CONECRM_JWT_SECRET": "0123456789abcdef0123456789abcdef"}), io.Discard, &logs)
	}()
	waitHealthy(t, "http://"+addr)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if out := logs.String(); strings.Contains(out, "token") || strings.Contains(out, "eyJ") {
		t.Errorf("production log mentions a token:\n%s", out)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "conecrm.db"): 0o600} {
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %v", path, st.Mode().Perm(), err, want)
		}
	}
	db, err := store.Open(context.Background(), filepath.Join(dir, "conecrm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := db.User.Query().CountX(tenancy.Bypass(context.Background())); n != 0 {
		t.Errorf("production database was seeded: %d users", n)
	}
}

func TestCORSOriginsConfiguration(t *testing.T) {
	load := func(e map[string]string) (config, error) {
		return loadConfig(env(e), flag.NewFlagSet("serve", flag.ContinueOnError), nil)
	}
	c, err := load(map[string]string{"CONECRM_ENV": "production"})
	if err != nil || len(c.CORSOrigins) != 0 {
		t.Fatalf("production default: %v %v, want no origin", c.CORSOrigins, err)
	}
	c, err = load(nil)
	if err != nil || !slices.Contains(c.CORSOrigins, "http://localhost:5173") {
		t.Fatalf("development default: %v %v, want the localhost dev servers", c.CORSOrigins, err)
	}
	c, err = load(map[string]string{"CONECRM_ENV": "production", "CONECRM_CORS_ORIGINS": "https://crm.example.com/, https://*.example.org"})
	if err != nil || !slices.Equal(c.CORSOrigins, []string{"https://crm.example.com", "https://*.example.org"}) {
		t.Fatalf("explicit list: %v %v", c.CORSOrigins, err)
	}
	for _, bad := range []string{"crm.example.com", "https://crm.example.com/app", "ftp://x.example", "https://"} {
		if _, err := load(map[string]string{"CONECRM_CORS_ORIGINS": bad}); err == nil {
			t.Errorf("CONECRM_CORS_ORIGINS=%q accepted", bad)
		}
	}
}

// A new customer on a fresh database: `tenant create` makes the tenant, its
// defaults and its administrator and prints a token that works at once
// against the server; running it again changes nothing.
func TestOnboardingOnAFreshDatabase(t *testing.T) {
	for _, d := range []string{dialect.SQLite, dialect.Postgres} {
		t.Run(d, func(t *testing.T) {
			vars := map[string]string{
				"CONECRM_DATABASE_URL": storetest.URL(t, d),
				"CONECRM_DATA_DIR":     t.TempDir(),
				"CONECRM_JWT_SECRET":   "onboarding-secret-onboarding-secret-0123",
			}
			create := func(email string) (string, string, error) {
				var out, log bytes.Buffer
				err := run(context.Background(), []string{"tenant", "create", "--name", "Acme Cars", "--domain", "Acme-Cars.example",
					"--admin-email", email, "--admin-firstname", "Ann"}, env(vars), &out, &log)
				return strings.TrimSpace(out.String()), log.String(), err
			}
			tok, log, err := create("boss@acme-cars.example")
			if err != nil || !strings.Contains(log, "created") || !strings.HasPrefix(tok, "ey") {
				t.Fatalf("create: %v\n%s\n%s", err, log, tok)
			}
			again, log, err := create("Boss@acme-cars.example")
			if err != nil || !strings.Contains(log, "already exists") || again == "" {
				t.Fatalf("second create: %v\n%s", err, log)
			}
			if _, log, err := create("someone@acme-cars.example"); err == nil {
				t.Fatalf("a create naming another admin of an existing tenant succeeded:\n%s", log)
			}
			var out bytes.Buffer
			if err := run(context.Background(), []string{"tenant", "create", "--name", " ", "--domain", "nodot", "--admin-email", "x"},
				env(vars), &out, io.Discard); err == nil || !strings.Contains(err.Error(), "domain") || !strings.Contains(err.Error(), "adminEmail") {
				t.Fatalf("bad input: %v", err)
			}

			addr := freeAddr(t)
			vars["CONECRM_ADDR"] = addr
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- run(ctx, nil, env(vars), io.Discard, io.Discard) }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("serve: %v", err)
				}
			}()
			waitHealthy(t, "http://"+addr)

			body := `{"query":"{ viewer { permissions user { email displayName userType roles { name } } tenant { name domain } } stages { totalCount } statuses { totalCount } sources { totalCount } pipelines { totalCount } }"}`
			for _, token := range []string{tok, again} {
				req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/graphql", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+token)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := io.ReadAll(res.Body)
				res.Body.Close()
				var r struct {
					Data struct {
						Viewer struct {
							Permissions []string
							User        struct {
								Email, DisplayName, UserType string
								Roles                        []struct{ Name string }
							}
							Tenant struct{ Name, Domain string }
						}
						Stages, Statuses, Sources, Pipelines struct{ TotalCount int }
					}
					Errors []any
				}
				if err := json.Unmarshal(raw, &r); err != nil || res.StatusCode != http.StatusOK || len(r.Errors) > 0 {
					t.Fatalf("first query: %d %s", res.StatusCode, raw)
				}
				v := r.Data.Viewer
				if v.User.Email != "boss@acme-cars.example" || v.User.DisplayName != "Ann" || v.User.UserType != "ADMIN" ||
					len(v.User.Roles) != 1 || v.User.Roles[0].Name != "Administrator" ||
					v.Tenant.Name != "Acme Cars" || v.Tenant.Domain != "acme-cars.example" {
					t.Errorf("viewer %+v", v)
				}
				if !strings.Contains(strings.Join(v.Permissions, " "), "user.manage") {
					t.Errorf("permissions %v", v.Permissions)
				}
				// The demo's defaults without its records.
				if r.Data.Stages.TotalCount != 5 || r.Data.Statuses.TotalCount != 4 || r.Data.Sources.TotalCount != 5 ||
					r.Data.Pipelines.TotalCount != 1 {
					t.Errorf("defaults %+v", r.Data)
				}
			}
		})
	}
}

// `tenant create --country` gives the tenant its phone region (a bad code
// is refused naming the field), and `migrate` — every start — re-keys
// phones whose keys were written before E.164 keys or are missing.
func TestTenantCountryAndPhoneKeyBackfillAtStart(t *testing.T) {
	for _, d := range []string{dialect.SQLite, dialect.Postgres} {
		t.Run(d, func(t *testing.T) {
			ctx := tenancy.Bypass(context.Background())
			vars := map[string]string{
				"CONECRM_DATABASE_URL": storetest.URL(t, d),
				"CONECRM_DATA_DIR":     t.TempDir(),
				"CONECRM_JWT_SECRET":   "phone-region-secret-phone-region-secret-01",
			}
			create := func(country string) error {
				return run(context.Background(), []string{"tenant", "create", "--name", "Lyon Autos", "--domain", "lyon-autos.example",
					"--admin-email", "chef@lyon-autos.example", "--country", country}, env(vars), io.Discard, io.Discard)
			}
			if err := create("UK"); err == nil || !strings.Contains(err.Error(), "country") {
				t.Fatalf("--country UK: %v", err)
			}
			if err := create("fr"); err != nil {
				t.Fatal(err)
			}
			db, err := store.Open(ctx, vars["CONECRM_DATABASE_URL"])
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			tn := db.Tenant.Query().Where(tenant.Domain("lyon-autos.example")).OnlyX(ctx)
			if tn.Country != "FR" || tn.PhoneKeyRegion != "FR" {
				t.Fatalf("tenant country %q, keys in %q", tn.Country, tn.PhoneKeyRegion)
			}
			c := db.Contact.Create().SetTenantID(tn.ID).SetFirstName("Zoé").SetMobilePhone("06 12 34 56 78").SaveX(ctx)
			if c.MobilePhoneDigits != "33612345678" {
				t.Fatalf("keyed %q in a French tenant", c.MobilePhoneDigits)
			}
			// A database from before: digits-only keys, no region recorded.
			if _, err := db.ExecContext(ctx, `UPDATE contacts SET mobile_phone_digits = '0612345678' WHERE id = $1`, c.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, `UPDATE tenants SET phone_key_region = ''`); err != nil {
				t.Fatal(err)
			}
			if err := run(context.Background(), []string{"migrate"}, env(vars), io.Discard, io.Discard); err != nil {
				t.Fatal(err)
			}
			if got := db.Contact.GetX(ctx, c.ID).MobilePhoneDigits; got != schema.PhoneKey("06 12 34 56 78", "FR") {
				t.Fatalf("after migrate: %q", got)
			}
			if got := db.Tenant.GetX(ctx, tn.ID).PhoneKeyRegion; got != "FR" {
				t.Fatalf("keys recorded in %q", got)
			}
			vars["CONECRM_PHONE_BACKFILL_BATCH"] = "0"
			if err := run(context.Background(), []string{"migrate"}, env(vars), io.Discard, io.Discard); err == nil ||
				!strings.Contains(err.Error(), "CONECRM_PHONE_BACKFILL_BATCH") {
				t.Fatalf("batch 0: %v", err)
			}
		})
	}
}

// A permission the catalogue gains reaches existing tenants' default roles
// at the next start, once: a tenant made before it (its offered record
// lacks it) and one from before offers were recorded (no record; none of
// its roles holds it) get it on every default role whose defaults include
// it, with a role.updated event without actor; one an administrator took
// away afterwards stays away, and a second start writes nothing.
func TestNewCataloguePermissionsReachExistingTenantsOnce(t *testing.T) {
	for _, d := range []string{dialect.SQLite, dialect.Postgres} {
		t.Run(d, func(t *testing.T) {
			ctx := tenancy.Bypass(context.Background())
			vars := map[string]string{
				"CONECRM_DATABASE_URL": storetest.URL(t, d),
				"CONECRM_DATA_DIR":     t.TempDir(),
				"CONECRM_JWT_SECRET":   "offered-permissions-secret-0123456789ab",
			}
			for _, domain := range []string{"older.example", "legacy.example"} {
				if err := run(context.Background(), []string{"tenant", "create", "--name", domain, "--domain", domain,
					"--admin-email", "boss@" + domain}, env(vars), io.Discard, io.Discard); err != nil {
					t.Fatal(err)
				}
			}
			db, err := store.Open(ctx, vars["CONECRM_DATABASE_URL"])
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			added := []string{crm.PermNoteRead, crm.PermNoteWrite}
			notes := db.Permission.Query().Where(permission.NameIn(added...)).IDsX(ctx)
			var all []string
			for _, p := range crm.Catalogue {
				all = append(all, p.Name)
			}
			slices.Sort(all)
			older := db.Tenant.Query().Where(tenant.Domain("older.example")).OnlyX(ctx)
			legacy := db.Tenant.Query().Where(tenant.Domain("legacy.example")).OnlyX(ctx)
			if !slices.Equal(older.OfferedPermissions, all) {
				t.Fatalf("a new tenant was offered %v, want the catalogue", older.OfferedPermissions)
			}
			// The databases of before: the notes were not in the catalogue
			// when the tenants were made.
			for _, tn := range []*ent.Tenant{older, legacy} {
				for _, r := range db.Role.Query().Where(role.TenantID(tn.ID)).AllX(ctx) {
					db.Role.UpdateOne(r).RemovePermissionIDs(notes...).ExecX(ctx)
				}
			}
			db.Tenant.UpdateOne(older).SetOfferedPermissions(slices.DeleteFunc(slices.Clone(all), func(n string) bool {
				return slices.Contains(added, n)
			})).ExecX(ctx)
			db.Tenant.UpdateOne(legacy).ClearOfferedPermissions().ExecX(ctx)
			events := func(tn *ent.Tenant) []*ent.OutboxEvent {
				return db.OutboxEvent.Query().Where(outboxevent.TenantID(tn.ID), outboxevent.Topic("role.updated")).AllX(ctx)
			}

			if err := run(context.Background(), []string{"migrate"}, env(vars), io.Discard, io.Discard); err != nil {
				t.Fatal(err)
			}
			held := func(tn *ent.Tenant, name string) []string {
				r := db.Role.Query().Where(role.TenantID(tn.ID), role.Name(name)).WithPermissions().OnlyX(ctx)
				var got []string
				for _, p := range r.Edges.Permissions {
					if slices.Contains(added, p.Name) {
						got = append(got, p.Name)
					}
				}
				slices.Sort(got)
				return got
			}
			for _, tn := range []*ent.Tenant{older, legacy} {
				for _, name := range []string{"Administrator", "Manager", "User"} {
					if got := held(tn, name); !slices.Equal(got, added) {
						t.Errorf("%s %s holds %v of the new permissions, want %v", tn.Domain, name, got, added)
					}
				}
				evs := events(tn)
				if len(evs) != 3 {
					t.Fatalf("%s: %d role.updated events, want 3", tn.Domain, len(evs))
				}
				for _, ev := range evs {
					ch, _ := ev.Payload["changes"].(map[string]any)
					if ev.Payload["actorId"] != nil || ch["permissions"] == nil {
						t.Errorf("%s: event %v", tn.Domain, ev.Payload)
					}
				}
				if got := db.Tenant.GetX(ctx, tn.ID).OfferedPermissions; !slices.Equal(got, all) {
					t.Errorf("%s offered %v after the start, want the catalogue", tn.Domain, got)
				}
			}

			// An administrator takes note.write away from User: it stays
			// away, and a start with nothing new writes nothing.
			u := db.Role.Query().Where(role.TenantID(older.ID), role.Name("User")).OnlyX(ctx)
			db.Role.UpdateOne(u).RemovePermissionIDs(db.Permission.Query().Where(permission.Name(crm.PermNoteWrite)).OnlyIDX(ctx)).ExecX(ctx)
			before := storetest.TakeSnapshot(t, db)
			if err := run(context.Background(), []string{"migrate"}, env(vars), io.Discard, io.Discard); err != nil {
				t.Fatal(err)
			}
			storetest.NothingWritten(t, db, before)
			if got := held(older, "User"); !slices.Equal(got, []string{crm.PermNoteRead}) {
				t.Errorf("User holds %v after the administrator took note.write away and a restart", got)
			}
		})
	}
}

// The root is the command: server.go and this test. Wiring belongs to
// internal/app (app.Routes), cross-transport suites to internal/app's
// tests, so a new file here means something went to the wrong place.
func TestTheRootHoldsOnlyTheCommand(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(files, []string{"server.go", "server_test.go"}) {
		t.Fatalf("Go files in the root: %v; want server.go and server_test.go (cross-transport tests go to internal/app)", files)
	}
}
