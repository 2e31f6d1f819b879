// Package automation runs the tenants' automations on River, a durable
// job queue in the gateway's own database (PostgreSQL or SQLite). A write's
// domain event enqueues a dispatch job in the write's transaction; dispatch
// enqueues one run job per matching automation (unique per automation and
// event); a run walks the automation's graph in one transaction, where each
// action's effects and the run's history commit together. Delays are
// scheduled jobs, webhooks and messages jobs of their own with River's
// retries. docs/automation.md describes the design and its measurements.
package automation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/automationrun"
	"github.com/conecrm/gateway/ent/delayedautomation"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/metrics"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/viewer"
)

// Config is the runtime's configuration; ConfigFromEnv documents each
// variable and its default.
type Config struct {
	Workers        int           // CONECRM_AUTOMATION_WORKERS
	PollInterval   time.Duration // CONECRM_AUTOMATION_POLL_INTERVAL
	MaxDepth       int           // CONECRM_AUTOMATION_MAX_DEPTH
	MaxAttempts    int           // CONECRM_AUTOMATION_MAX_ATTEMPTS
	RetryBase      time.Duration // CONECRM_AUTOMATION_RETRY_BASE
	WebhookTimeout time.Duration // CONECRM_WEBHOOK_TIMEOUT
	OutboundAllow  string        // CONECRM_OUTBOUND_ALLOW
	SMTPURL        string        // CONECRM_SMTP_URL
	// WebhookDisableAfter switches a webhook endpoint off after this many
	// failed delivery attempts in a row (CONECRM_WEBHOOK_DISABLE_AFTER).
	WebhookDisableAfter int
	// Records renders the record of a webhook delivery (rest.RecordShape);
	// nil delivers events without it.
	Records RecordRenderer
	// RunChanged is told, in the run's transaction, that a run started,
	// waits or ended (internal/live pushes it to subscriptions); nil: nobody.
	RunChanged func(ctx context.Context, tx *ent.Client, tenant, run, automation uuid.UUID) error
	Logger     *slog.Logger
}

// DefaultConfig is the configuration with every default.
func DefaultConfig() Config {
	return Config{
		Workers:        20,
		PollInterval:   100 * time.Millisecond,
		MaxDepth:       5,
		MaxAttempts:    8,
		RetryBase:      time.Second,
		WebhookTimeout: 10 * time.Second,
		// Eight attempts of one delivery span about four minutes at the
		// default base; twenty in a row means a receiver down for a while.
		WebhookDisableAfter: 20,
	}
}

// ConfigFromEnv reads the CONECRM_AUTOMATION_*, CONECRM_WEBHOOK_TIMEOUT,
// CONECRM_WEBHOOK_DISABLE_AFTER,
// CONECRM_OUTBOUND_ALLOW and CONECRM_SMTP_URL variables.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	ints := []struct {
		name string
		dst  *int
		min  int
	}{
		{"CONECRM_AUTOMATION_WORKERS", &c.Workers, 1},
		{"CONECRM_AUTOMATION_MAX_DEPTH", &c.MaxDepth, 1},
		{"CONECRM_AUTOMATION_MAX_ATTEMPTS", &c.MaxAttempts, 1},
		{"CONECRM_WEBHOOK_DISABLE_AFTER", &c.WebhookDisableAfter, 1},
	}
	for _, v := range ints {
		if s := getenv(v.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < v.min {
				return c, fmt.Errorf("%s must be an integer ≥ %d, not %q", v.name, v.min, s)
			}
			*v.dst = n
		}
	}
	durs := []struct {
		name string
		dst  *time.Duration
	}{
		{"CONECRM_AUTOMATION_POLL_INTERVAL", &c.PollInterval},
		{"CONECRM_AUTOMATION_RETRY_BASE", &c.RetryBase},
		{"CONECRM_WEBHOOK_TIMEOUT", &c.WebhookTimeout},
	}
	for _, v := range durs {
		if s := getenv(v.name); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 {
				return c, fmt.Errorf("%s must be a positive duration (e.g. 200ms), not %q", v.name, s)
			}
			*v.dst = d
		}
	}
	c.OutboundAllow = getenv("CONECRM_OUTBOUND_ALLOW")
	if _, err := parseAllow(c.OutboundAllow); err != nil {
		return c, err
	}
	c.SMTPURL = getenv("CONECRM_SMTP_URL")
	if c.SMTPURL != "" {
		if _, err := newSMTPSender(c.SMTPURL); err != nil {
			return c, err
		}
	}
	return c, nil
}

// Runtime is the automation engine of one gateway process: a River client
// with the automation workers. Any number of processes may share one
// PostgreSQL database; River hands each job to one of them.
type Runtime struct {
	db     *store.DB
	svc    *crm.Service
	cfg    Config
	log    *slog.Logger
	river  *river.Client[*sql.Tx]
	hooks  *webhookClient
	mailer Sender // nil: emails stay in the development mailbox
}

// New builds the runtime over db and registers it as svc's event hook, so
// every domain event svc emits enqueues its dispatch in the write's
// transaction. Call Start to work jobs (a process that only inserts jobs
// need not).
func New(db *store.DB, svc *crm.Service, cfg Config) (*Runtime, error) {
	def := DefaultConfig()
	if cfg.Workers <= 0 {
		cfg.Workers = def.Workers
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = def.PollInterval
	}
	if cfg.MaxDepth <= 0 {
		cfg.MaxDepth = def.MaxDepth
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = def.MaxAttempts
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = def.RetryBase
	}
	if cfg.WebhookTimeout <= 0 {
		cfg.WebhookTimeout = def.WebhookTimeout
	}
	if cfg.WebhookDisableAfter <= 0 {
		cfg.WebhookDisableAfter = def.WebhookDisableAfter
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	allow, err := parseAllow(cfg.OutboundAllow)
	if err != nil {
		return nil, err
	}
	rt := &Runtime{db: db, svc: svc, cfg: cfg, log: cfg.Logger, hooks: newWebhookClient(allow, cfg.WebhookTimeout)}
	if cfg.SMTPURL != "" {
		if rt.mailer, err = newSMTPSender(cfg.SMTPURL); err != nil {
			return nil, err
		}
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &dispatchWorker{rt: rt})
	river.AddWorker(workers, &runWorker{rt: rt})
	river.AddWorker(workers, &resumeWorker{rt: rt})
	river.AddWorker(workers, &webhookWorker{rt: rt})
	river.AddWorker(workers, &sendWorker{rt: rt})
	river.AddWorker(workers, &deliveryWorker{rt: rt})
	rt.river, err = river.NewClient(db.RiverDriver(), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:           workers,
		FetchPollInterval: cfg.PollInterval,
		FetchCooldown:     min(cfg.PollInterval, 50*time.Millisecond),
		MaxAttempts:       cfg.MaxAttempts,
		RetryPolicy:       &backoff{base: cfg.RetryBase},
		// A job whose process died (kill -9) is handed to another worker
		// after this long; the run's unique key keeps the redo single.
		RescueStuckJobsAfter: 2 * time.Minute,
		JobTimeout:           time.Minute,
		Logger:               cfg.Logger.With("component", "river"),
	})
	if err != nil {
		return nil, fmt.Errorf("automation: river client: %w", err)
	}
	svc.OnEvent(rt.onEvent)
	svc.OnEvent(rt.onEndpointEvent)
	return rt, nil
}

// Start starts working jobs until Stop (or ctx's end); their outcomes and
// the queue's depth are exported on /metrics.
func (rt *Runtime) Start(ctx context.Context) error {
	if err := rt.river.Start(ctx); err != nil {
		return err
	}
	metrics.WatchJobs(rt.river, river.QueueDefault)
	return nil
}

// Stop stops fetching jobs and waits for the running ones to finish (or
// ctx's end, then cancels them; they are retried later).
func (rt *Runtime) Stop(ctx context.Context) error {
	err := rt.river.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return rt.river.StopAndCancel(context.Background())
	}
	return err
}

// onEvent enqueues the dispatch of ev in the transaction of the write that
// emitted it (crm.Service.OnEvent). A deleted lead's pending delays are
// cancelled in that same transaction.
func (rt *Runtime) onEvent(ctx context.Context, tx *ent.Client, ev crm.Event) error {
	if ev.Topic == crm.TopicLeadDeleted {
		if err := cancelLeadDelays(ctx, tx, ev.RecordID); err != nil {
			return err
		}
	}
	if !isTrigger(ev.Topic) {
		return nil
	}
	sqlTx := rt.svc.SQLTx(tx)
	if sqlTx == nil {
		return errors.New("automation: event emitted outside a transaction of the runtime's service")
	}
	_, err := rt.river.InsertTx(ctx, sqlTx, dispatchArgs{EventID: ev.ID}, nil)
	return err
}

func cancelLeadDelays(ctx context.Context, tx *ent.Client, leadID uuid.UUID) error {
	if _, err := tx.DelayedAutomation.Delete().
		Where(delayedautomation.LeadID(leadID), delayedautomation.DoneAtIsNil()).Exec(ctx); err != nil {
		return err
	}
	return tx.AutomationRun.Update().Where(automationrun.LeadID(leadID), automationrun.StatusEQ(automationrun.StatusWAITING)).
		SetStatus(automationrun.StatusSTOPPED).SetReason("lead deleted during a delay").SetFinishedAt(time.Now().UTC()).Exec(ctx)
}

func isTrigger(topic string) bool {
	for _, t := range crm.AutomationTriggers() {
		if t == topic {
			return true
		}
	}
	return false
}

// systemContext acts inside tenant as the automation system: an ADMIN
// viewer (automations do what their author configured, whoever made the
// write) recorded as actor in the audit columns.
func systemContext(ctx context.Context, tenant uuid.UUID, actor *uuid.UUID) context.Context {
	v := &viewer.Viewer{TenantID: tenant, Type: viewer.TypeAdmin}
	if actor != nil {
		v.UserID = *actor
	}
	return viewer.NewContext(ctx, v)
}

// backoff is River's retry policy with a configurable base: base·2^(n-1)
// for the n-th retry, capped at an hour, so tests can retry in
// milliseconds while production waits seconds.
type backoff struct{ base time.Duration }

func (b *backoff) NextRetry(job *rivertype.JobRow) time.Time {
	n := max(len(job.Errors), 1)
	d := b.base << min(n-1, 20)
	if d > time.Hour || d <= 0 {
		d = time.Hour
	}
	return time.Now().Add(d)
}

func bypass(ctx context.Context) context.Context { return tenancy.Bypass(ctx) }

func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n]
	}
	return s
}
