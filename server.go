// Command conecrm is the ConeCRM gateway: GraphQL and the REST compatibility
// layer over the multi-tenant CRM model.
//
//	conecrm [serve]                 run the server (default)
//	conecrm migrate                 create or update the schema
//	conecrm seed --demo             add the demo data set
//	conecrm seed --tenants N ...    add benchmark-sized data
//	conecrm token --email E         print a token for a user
//	conecrm tenant create --name N --domain D --admin-email E [--country C]
//	                                onboard a customer, print a token for its admin
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/nyaruka/phonenumbers"

	"github.com/conecrm/gateway/ent/schema"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/app"
	"github.com/conecrm/gateway/internal/auth"
	"github.com/conecrm/gateway/internal/automation"
	"github.com/conecrm/gateway/internal/bench"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/idempotency"
	"github.com/conecrm/gateway/internal/live"
	"github.com/conecrm/gateway/internal/metrics"
	"github.com/conecrm/gateway/internal/rest"
	"github.com/conecrm/gateway/internal/seed"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/tracing"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "conecrm:", err)
		os.Exit(1)
	}
}

// config is the process configuration, from the environment and flags.
type config struct {
	Addr        string // CONECRM_ADDR
	DatabaseURL string // CONECRM_DATABASE_URL: postgres://… or an SQLite file
	DataDir     string // CONECRM_DATA_DIR: the embedded database and dev secret
	Env         string // CONECRM_ENV: development | production
	BodyLimit   int64
	Auth        auth.Config
	GraphQL     graph.Limits  // CONECRM_GRAPHQL_MAX_*
	Limits      app.Limits    // CONECRM_RATE_*, CONECRM_REQUEST_TIMEOUT
	Bench       bool          // CONECRM_BENCH=1: mount the benchmark floor (internal/bench)
	DB          store.Options // CONECRM_DB_*
	Idempotency idempotency.Config
	MetricsAddr string   // CONECRM_METRICS_ADDR: Prometheus listener, "off" for none
	Tracing     bool     // OTEL_EXPORTER_OTLP_ENDPOINT (or _TRACES_ENDPOINT) is set
	CORSOrigins []string // CONECRM_CORS_ORIGINS; default: none in production, localhost dev servers in development
	Automation  automation.Config
	Live        graph.SubscriptionLimits // CONECRM_SUBSCRIPTION*
	GC          app.GCPolicy             // CONECRM_GC_PERCENT, CONECRM_GC_MIN_HEAP: the collector's policy; zero leaves the runtime's (GOGC)
	ViewerCache int                      // CONECRM_VIEWER_CACHE, as app.Config.ViewerCache
	TxRetries   int                      // CONECRM_TX_RETRIES, as crm.Service.SetTxRetries
}

func (c config) production() bool { return c.Env == "production" }

func loadConfig(getenv func(string) string, fs *flag.FlagSet, args []string) (config, error) {
	c := config{
		Addr:        or(getenv("CONECRM_ADDR"), "127.0.0.1:8080"),
		DatabaseURL: getenv("CONECRM_DATABASE_URL"),
		DataDir:     or(getenv("CONECRM_DATA_DIR"), "data"),
		Env:         or(getenv("CONECRM_ENV"), "development"),
		MetricsAddr: or(getenv("CONECRM_METRICS_ADDR"), "127.0.0.1:9464"),
		Tracing:     tracing.Configured(getenv),
		BodyLimit:   1 << 20,
		Bench:       getenv(bench.EnvFlag) == "1",
		TxRetries:   crm.DefaultTxRetries,
	}
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (CONECRM_ADDR)")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "postgres:// URL or SQLite file (CONECRM_DATABASE_URL)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory of the embedded database (CONECRM_DATA_DIR)")
	fs.StringVar(&c.Env, "env", c.Env, "development or production (CONECRM_ENV)")
	fs.Int64Var(&c.BodyLimit, "body-limit", c.BodyLimit, "maximum request body in bytes")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.Env != "development" && c.Env != "production" {
		return c, fmt.Errorf("CONECRM_ENV must be development or production, not %q", c.Env)
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = filepath.Join(c.DataDir, "conecrm.db")
	}
	a, err := auth.ConfigFromEnv(getenv)
	if err != nil {
		return c, err
	}
	c.Auth = a
	if c.GraphQL, err = graph.LimitsFromEnv(getenv); err != nil {
		return c, err
	}
	if c.Limits, err = app.LimitsFromEnv(getenv); err != nil {
		return c, err
	}
	if v := getenv("CONECRM_REST_MAX_EMBEDDED"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("CONECRM_REST_MAX_EMBEDDED must be a positive integer, not %q", v)
		}
		crm.MaxEmbedded = n
	}
	if v := getenv("CONECRM_FILTER_MAX_OPTIONS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("CONECRM_FILTER_MAX_OPTIONS must be a positive integer, not %q", v)
		}
		crm.MaxFilterOptions = n
	}
	if v := getenv("CONECRM_PHONE_REGION"); v != "" {
		region := strings.ToUpper(v)
		if phonenumbers.GetCountryCodeForRegion(region) == 0 {
			return c, fmt.Errorf("CONECRM_PHONE_REGION must be a region libphonenumber knows (US, CA, FR…), not %q", v)
		}
		schema.PhoneRegion = region
	}
	if v := getenv("CONECRM_TX_RETRIES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 10 {
			return c, fmt.Errorf("CONECRM_TX_RETRIES must be an integer from 0 to 10, not %q", v)
		}
		c.TxRetries = n
	}
	if v := getenv("CONECRM_PHONE_BACKFILL_BATCH"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("CONECRM_PHONE_BACKFILL_BATCH must be a positive integer, not %q", v)
		}
		crm.PhoneBackfillBatch = n
	}
	if store.IsPostgres(c.DatabaseURL) {
		// A backstop for the context deadline, which already cancels statements.
		c.DatabaseURL = store.WithStatementTimeout(c.DatabaseURL, c.Limits.RequestTimeout)
	}
	if c.DB, err = store.OptionsFromEnv(getenv); err != nil {
		return c, err
	}
	if c.Idempotency, err = idempotency.ConfigFromEnv(getenv); err != nil {
		return c, err
	}
	if c.CORSOrigins, err = app.ParseCORSOrigins(getenv("CONECRM_CORS_ORIGINS")); err != nil {
		return c, err
	}
	if getenv("CONECRM_CORS_ORIGINS") == "" && !c.production() {
		c.CORSOrigins = app.DevCORSOrigins
	}
	if c.Automation, err = automation.ConfigFromEnv(getenv); err != nil {
		return c, err
	}
	if c.Live, err = graph.SubscriptionLimitsFromEnv(getenv); err != nil {
		return c, err
	}
	if c.GC, err = app.GCPolicyFromEnv(getenv); err != nil {
		return c, err
	}
	if c.ViewerCache, err = app.ViewerCacheFromEnv(getenv); err != nil {
		return c, err
	}
	return c, nil
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// keyMaterial makes sure tokens can be verified: in development a random
// HS256 secret is generated once and kept in the data directory; in
// production the server refuses to start without configured keys.
func keyMaterial(c *config) error {
	if len(c.Auth.Secret) > 0 || c.Auth.PublicKeyFile != "" || c.Auth.JWKSFile != "" {
		return nil
	}
	if c.production() {
		return errors.New("production needs key material: set CONECRM_JWT_SECRET (32+ bytes), CONECRM_JWT_PUBLIC_KEY or CONECRM_JWT_JWKS")
	}
	path := filepath.Join(c.DataDir, "jwt-secret")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= auth.MinSecretLen {
		c.Auth.Secret = []byte(strings.TrimSpace(string(b)))
		return nil
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return err
	}
	secret := hex.EncodeToString(raw[:])
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return err
	}
	c.Auth.Secret = []byte(secret)
	return nil
}

func newLogger(c config, w io.Writer) *slog.Logger {
	var h slog.Handler = slog.NewTextHandler(w, nil)
	if c.production() {
		h = slog.NewJSONHandler(w, nil)
	}
	if c.Tracing {
		h = tracing.LogHandler(h)
	}
	return slog.New(h)
}

// options are the subcommands' flags.
type options struct {
	demo    bool
	tenants int
	sizes   seed.Sizes
	email   string
	ttl     time.Duration
	tenant  crm.TenantInput
}

// invocation is what a subcommand runs with: the configuration, the open and
// migrated database, its flags and the process's output.
type invocation struct {
	config
	db             *store.DB
	log            *slog.Logger
	getenv         func(string) string
	opts           options
	stdout, stderr io.Writer
}

// subcommand is one line of the command table: its name as typed, its
// flags, and what it does once the database is open and migrated.
type subcommand struct {
	name  string
	flags func(*flag.FlagSet, *options)
	run   func(context.Context, *invocation) error
}

// commands are the subcommands; the first is the default.
var commands = []subcommand{
	{"serve", nil, serveCommand},
	{"migrate", nil, migrateCommand},
	{"seed", seedFlags, seedCommand},
	{"token", tokenFlags, tokenCommand},
	{"tenant create", tenantFlags, tenantCommand},
}

// lookup finds the subcommand args start with and returns the rest.
func lookup(args []string) (subcommand, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return commands[0], args, nil
	}
	names := make([]string, len(commands))
	for i, c := range commands {
		words := strings.Fields(c.name)
		if len(args) >= len(words) && slices.Equal(args[:len(words)], words) {
			return c, args[len(words):], nil
		}
		names[i] = c.name
	}
	return subcommand{}, nil, fmt.Errorf("unknown command %q (%s)", strings.Join(args[:min(2, len(args))], " "), strings.Join(names, ", "))
}

// run executes one subcommand; main only wires it to the process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd, args, err := lookup(args)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	e := &invocation{getenv: getenv, stdout: stdout, stderr: stderr}
	if cmd.flags != nil {
		cmd.flags(fs, &e.opts)
	}
	if e.config, err = loadConfig(getenv, fs, args); err != nil {
		return err
	}
	e.log = newLogger(e.config, stderr)
	app.ApplyGC(e.GC)
	if err := keyMaterial(&e.config); err != nil {
		return err
	}
	db, err := store.OpenWait(ctx, e.DatabaseURL, e.DB, e.log)
	if err != nil {
		return err
	}
	defer db.Close()
	e.db = db
	if err := db.Migrate(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if err := crm.EnsurePermissions(ctx, db.Client); err != nil {
		return fmt.Errorf("migrate: permission catalogue: %w", err)
	}
	if err := crm.MarkDefaultRoles(ctx, db.Client); err != nil {
		return fmt.Errorf("migrate: default roles: %w", err)
	}
	// Permissions the catalogue gained since a tenant was made reach its
	// default roles, once.
	if n, err := crm.NewService(db.Client).OfferNewPermissions(ctx); err != nil {
		return fmt.Errorf("migrate: new permissions: %w", err)
	} else if n > 0 {
		e.log.Info("new catalogue permissions granted to default roles", "roles", n)
	}
	// Phone keys computed before E.164 keys or in another region.
	if n, err := crm.NewService(db.Client).BackfillPhoneKeys(ctx); err != nil {
		return fmt.Errorf("migrate: phone keys: %w", err)
	} else if n > 0 {
		e.log.Info("phone lookup keys back-filled", "customers", n)
	}
	return cmd.run(ctx, e)
}

func migrateCommand(ctx context.Context, e *invocation) error {
	if err := e.db.Analyze(ctx); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	fmt.Fprintln(e.stdout, "schema is up to date")
	return nil
}

func seedFlags(fs *flag.FlagSet, o *options) {
	fs.BoolVar(&o.demo, "demo", false, "add the demo data set")
	fs.IntVar(&o.tenants, "tenants", 0, "benchmark: number of tenants")
	fs.IntVar(&o.sizes.Accounts, "accounts", 1000, "benchmark: accounts per tenant")
	fs.IntVar(&o.sizes.ContactsPerAccount, "contacts-per-account", 3, "benchmark: contacts per account")
	fs.IntVar(&o.sizes.Leads, "leads", 2000, "benchmark: leads per tenant")
	fs.IntVar(&o.sizes.Tasks, "tasks", 1000, "benchmark: tasks per tenant")
}

func seedCommand(ctx context.Context, e *invocation) error {
	o := e.opts
	if o.demo == (o.tenants > 0) {
		return errors.New("seed: give either --demo or --tenants N")
	}
	start := time.Now()
	var err error
	if o.demo {
		err = seed.Demo(ctx, e.db.Client, e.stderr)
	} else {
		err = seed.Bench(ctx, e.db.Client, o.tenants, o.sizes, e.stderr)
	}
	if err != nil {
		return err
	}
	// Bulk inserts leave the planner statistics describing the old data.
	if err := e.db.Analyze(ctx); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	fmt.Fprintf(e.stdout, "seeded in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

func tokenFlags(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.email, "email", "", "email of the user the token is for")
	fs.DurationVar(&o.ttl, "ttl", 24*time.Hour, "token lifetime")
}

func tokenCommand(ctx context.Context, e *invocation) error {
	tok, err := mintToken(ctx, e.config, e.db, e.opts.email, e.opts.ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, tok)
	return nil
}

func tenantFlags(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.tenant.Name, "name", "", "the tenant's name")
	fs.StringVar(&o.tenant.Domain, "domain", "", "the tenant's email domain (its identity: a second create is a no-op)")
	fs.StringVar(&o.tenant.AdminEmail, "admin-email", "", "email of the tenant's first ADMIN user")
	fs.StringVar(&o.tenant.AdminFirstname, "admin-firstname", "", "the admin's first name")
	fs.StringVar(&o.tenant.AdminLastname, "admin-lastname", "", "the admin's last name")
	fs.StringVar(&o.tenant.Country, "country", "", "ISO 3166-1 alpha-2 country: the region of phone numbers without a country code (default CONECRM_PHONE_REGION)")
	fs.DurationVar(&o.ttl, "ttl", 24*time.Hour, "lifetime of the printed token")
}

func tenantCommand(ctx context.Context, e *invocation) error {
	return createTenant(ctx, e.config, e.db, e.opts.tenant, e.opts.ttl, e.stdout, e.stderr)
}

func serveCommand(ctx context.Context, e *invocation) error {
	stopTracing, err := tracing.Setup(ctx, e.getenv)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = stopTracing(sctx)
	}()
	return serve(ctx, e.config, e.db, e.log)
}

func mintToken(ctx context.Context, c config, db *store.DB, email string, ttl time.Duration) (string, error) {
	if email == "" {
		return "", errors.New("token: --email is required")
	}
	if len(c.Auth.Secret) == 0 {
		return "", errors.New("token: minting needs CONECRM_JWT_SECRET (tokens for RS256/ES256 come from your identity provider)")
	}
	u, err := db.User.Query().Where(user.Email(email), user.IsActive(true)).Only(tenancy.Bypass(ctx))
	if err != nil {
		return "", fmt.Errorf("token: no active user %q", email)
	}
	return mint(c, u.ID, u.TenantID, ttl)
}

// mint issues an HS256 token with the configured iss and aud, so that it
// passes the server's own checks.
func mint(c config, userID, tenantID uuid.UUID, ttl time.Duration) (string, error) {
	var opts []auth.MintOption
	if c.Auth.Issuer != "" {
		opts = append(opts, auth.WithIssuer(c.Auth.Issuer))
	}
	if c.Auth.Audience != "" {
		opts = append(opts, auth.WithAudience(c.Auth.Audience))
	}
	return auth.Mint(c.Auth.Secret, userID, tenantID, ttl, opts...)
}

// createTenant onboards a customer (crm.Service.CreateTenant) and prints a
// token for its first administrator on stdout, what happened on stderr.
func createTenant(ctx context.Context, c config, db *store.DB, in crm.TenantInput, ttl time.Duration, stdout, stderr io.Writer) error {
	res, err := crm.NewService(db.Client).CreateTenant(ctx, in)
	if err != nil {
		return fmt.Errorf("tenant create: %w", err)
	}
	what := "created"
	if !res.Created {
		what = "already exists (nothing changed)"
	}
	fmt.Fprintf(stderr, "tenant %q (%s, id %s) %s; administrator %s (id %s)\n",
		res.Tenant.Name, res.Tenant.Domain, res.Tenant.ID, what, res.Admin.Email, res.Admin.ID)
	if len(c.Auth.Secret) == 0 {
		fmt.Fprintln(stderr, "no CONECRM_JWT_SECRET: issue the administrator's token from your identity provider (sub = the user id, tid = the tenant id)")
		return nil
	}
	tok, err := mint(c, res.Admin.ID, res.Tenant.ID, ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

func serve(ctx context.Context, c config, db *store.DB, log *slog.Logger) error {
	// Production never gets the demo tenants and their ADMIN users.
	if db.New && !store.IsPostgres(c.DatabaseURL) && !c.production() {
		log.Info("new embedded database: adding the demo data set")
		if err := seed.Demo(ctx, db.Client, io.Discard); err != nil {
			return fmt.Errorf("seed demo data: %w", err)
		}
		if err := db.Analyze(ctx); err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
	}
	verifier, err := auth.NewVerifier(c.Auth)
	if err != nil {
		return err
	}
	metrics.RegisterDB(db)
	if c.MetricsAddr != "off" {
		// Metrics are secondary: a busy port is reported, not fatal.
		if addr, err := metrics.Serve(ctx, c.MetricsAddr); err != nil {
			log.Error("metrics listener not started (CONECRM_METRICS_ADDR)", "addr", c.MetricsAddr, "err", err)
		} else {
			log.Info("metrics", "addr", "http://"+addr+"/metrics")
		}
	}
	// The automation runtime works jobs while the server serves; it is
	// the event sink of the one domain service both transports share.
	svc := crm.NewService(db.Client)
	svc.SetTxRetries(c.TxRetries, log)
	ac := c.Automation
	ac.Logger = log
	ac.Records = rest.RecordShape // a webhook delivery carries its record in the REST shape
	// Subscriptions hear of every committed change, this instance's and
	// (PostgreSQL) the other instances'.
	bus := live.New(db, c.DatabaseURL, svc, c.Live.Buffer, log)
	bus.SetReplay(c.Live.ReplayWindow, c.Live.ReplayMax)
	if err := bus.Start(ctx); err != nil {
		return fmt.Errorf("start live notifications: %w", err)
	}
	defer bus.Stop()
	ac.RunChanged = bus.PublishRun
	rt, err := automation.New(db, svc, ac)
	if err != nil {
		return err
	}
	if err := rt.Start(ctx); err != nil {
		return fmt.Errorf("start automation runtime: %w", err)
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := rt.Stop(stopCtx); err != nil {
			log.Error("automation runtime stop", "err", err)
		}
	}()
	routes := app.Routes(db.Client, svc, app.Transports{Logger: log, Production: c.production(), GraphQL: c.GraphQL,
		Automation: rt, Live: bus, Subscriptions: c.Live})
	handler := app.New(app.Config{Production: c.production(), BodyLimit: c.BodyLimit, Logger: log, Verifier: verifier,
		Limits: c.Limits, Idempotency: c.Idempotency, CORSOrigins: c.CORSOrigins, ViewerCache: c.ViewerCache}, db, routes)
	if c.Bench {
		log.Warn("benchmark mode: the floor endpoints under /bench/ are mounted")
		mux := http.NewServeMux()
		mux.Handle("/bench/", bench.Handler(verifier, db))
		mux.Handle("/", handler)
		handler = mux
	}
	handler = tracing.Middleware(handler)
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	log.Info("listening", "addr", ln.Addr().String(), "playground", base+"/playground", "env", c.Env)
	// In development, hand a newcomer a signed-in playground: the page moves
	// the token from the URL fragment (never sent to a server) into its
	// headers before its first request.
	if !c.production() && len(c.Auth.Secret) > 0 {
		if tok, err := mintToken(ctx, c, db, "admin@demo-motors.test", 24*time.Hour); err == nil {
			log.Info("demo token for admin@demo-motors.test: open the playground signed in",
				"playground", base+"/playground#token="+tok, "token", tok)
		}
	}
	return serveUntilDone(ctx, ln, handler, c.Limits, log)
}

// serveUntilDone serves on ln until ctx is done, then stops accepting and
// lets in-flight requests finish (up to 20 s) before returning.
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler, l app.Limits, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
