package automation

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/webhookendpoint"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/tenancy"
)

// RecordRenderer returns a record as its REST shape, read by svc (a
// Service over the write's transaction) — the "record" of a webhook
// delivery. nil (no error) when the type has no REST shape. internal/rest
// provides it (rest.RecordShape); the runtime does not import the
// transports.
type RecordRenderer func(ctx context.Context, svc *crm.Service, recordType string, id uuid.UUID) (any, error)

// deliveryArgs is one domain event to deliver to one webhook endpoint. The
// body is rendered once, in the write's transaction, so it shows the record
// as that write left it whenever the delivery happens.
type deliveryArgs struct {
	EndpointID uuid.UUID `json:"endpointId" river:"unique"`
	EventID    uuid.UUID `json:"eventId" river:"unique"`
	TenantID   uuid.UUID `json:"tenantId"`
	Topic      string    `json:"topic"`
	Body       []byte    `json:"body"`
}

func (deliveryArgs) Kind() string { return "webhook.deliver" }

// Unique per (endpoint, event): a hook run twice for one event (it cannot
// be, but a job inserted twice could) still delivers once.
func (deliveryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// onEndpointEvent enqueues one delivery job per active endpoint of the
// event's tenant whose filter names the event, in the write's transaction
// (crm.Service.OnEvent): a rolled-back write delivers nothing, a committed
// one is never missed, whatever transport or automation made it.
func (rt *Runtime) onEndpointEvent(ctx context.Context, tx *ent.Client, ev crm.Event) error {
	if !crm.IsWebhookTopic(ev.Topic) || ev.TenantID == uuid.Nil {
		return nil
	}
	// The tenant is named explicitly: a write under tenancy.Bypass has no
	// scope, and another tenant's endpoint must never match.
	eps, err := tx.WebhookEndpoint.Query().
		Where(webhookendpoint.TenantID(ev.TenantID), webhookendpoint.IsActive(true)).
		Select(webhookendpoint.FieldID, webhookendpoint.FieldEvents).All(ctx)
	if err != nil {
		return err
	}
	var targets []uuid.UUID
	for _, ep := range eps {
		if slices.Contains(ep.Events, ev.Topic) {
			targets = append(targets, ep.ID)
		}
	}
	if len(targets) == 0 {
		return nil
	}
	body, err := rt.deliveryBody(ctx, tx, ev)
	if err != nil {
		return err
	}
	sqlTx := rt.svc.SQLTx(tx)
	if sqlTx == nil {
		return errors.New("automation: event emitted outside a transaction of the runtime's service")
	}
	jobs := make([]river.InsertManyParams, len(targets))
	for i, id := range targets {
		jobs[i] = river.InsertManyParams{Args: deliveryArgs{EndpointID: id, EventID: ev.ID, TenantID: ev.TenantID, Topic: ev.Topic, Body: body}}
	}
	_, err = rt.river.InsertManyTx(ctx, sqlTx, jobs)
	return err
}

// deliveryBody is the JSON a webhook receives (docs/webhooks.md).
func (rt *Runtime) deliveryBody(ctx context.Context, tx *ent.Client, ev crm.Event) ([]byte, error) {
	var record any
	if rt.cfg.Records != nil {
		// A deleted record is delivered as it was when deleted.
		r, err := rt.cfg.Records(tenancy.WithDeleted(ctx), crm.NewService(tx), ev.RecordType, ev.RecordID)
		if err != nil {
			return nil, fmt.Errorf("webhook: rendering %s %s: %w", ev.RecordType, ev.RecordID, err)
		}
		record = r
	}
	p := ev.Payload()
	body := map[string]any{
		"id":          ev.ID,
		"type":        ev.Topic,
		"tenantId":    p["tenantId"],
		"occurredAt":  p["occurredAt"],
		"actorId":     p["actorId"],
		"causationId": p["causationId"],
		"recordType":  ev.RecordType,
		"recordId":    ev.RecordID,
		"record":      record,
		"changes":     p["changes"],
	}
	if d, ok := p["data"]; ok {
		body["data"] = d
	}
	return json.Marshal(body)
}

type deliveryWorker struct {
	river.WorkerDefaults[deliveryArgs]
	rt *Runtime
}

// Work makes one attempt, records it, and lets River retry a failure with
// backoff. A refused destination is final; an endpoint that was deleted or
// switched off since drops its pending deliveries.
func (w *deliveryWorker) Work(ctx context.Context, job *river.Job[deliveryArgs]) error {
	a := job.Args
	sys := systemContext(ctx, a.TenantID, nil)
	ep, err := w.rt.db.WebhookEndpoint.Query().Where(webhookendpoint.ID(a.EndpointID)).Only(sys)
	if ent.IsNotFound(err) {
		return river.JobCancel(errors.New("the endpoint was deleted"))
	}
	if err != nil {
		return err
	}
	if !ep.IsActive {
		return river.JobCancel(errors.New("the endpoint is switched off"))
	}
	start := time.Now()
	res, postErr := w.rt.hooks.post(ctx, ep.URL, ep.Secret, a.EventID.String(), a.Body)
	took := time.Since(start)
	disabled, err := w.rt.recordAttempt(sys, a, job.Attempt, res, took, postErr)
	if err != nil {
		w.rt.log.ErrorContext(ctx, "cannot record a webhook attempt", "endpoint", a.EndpointID, "event", a.EventID, "err", err)
	}
	switch {
	case postErr == nil:
		return nil
	case errors.Is(postErr, errRefused), disabled:
		return river.JobCancel(postErr)
	}
	return postErr
}

// recordAttempt keeps the attempt and the endpoint's failure count in one
// transaction, switching the endpoint off with a reason once
// CONECRM_WEBHOOK_DISABLE_AFTER attempts in a row have failed.
func (rt *Runtime) recordAttempt(ctx context.Context, a deliveryArgs, n int, res response, took time.Duration, postErr error) (disabled bool, err error) {
	err = rt.svc.InTx(ctx, func(bound *crm.Service, tx *ent.Client, _ *sql.Tx) error {
		disabled = false // decided afresh if the transaction is run again (InTx)
		errText := ""
		if postErr != nil {
			errText = truncate(postErr.Error(), 2000)
		}
		if err := tx.WebhookAttempt.Create().SetEndpointID(a.EndpointID).SetEventID(a.EventID).SetTopic(a.Topic).
			SetAttempt(n).SetSucceeded(postErr == nil).SetStatusCode(res.status).
			SetDurationMs(int(took.Milliseconds())).SetResponse(res.snippet).SetError(errText).Exec(ctx); err != nil {
			return err
		}
		if postErr == nil {
			return tx.WebhookEndpoint.UpdateOneID(a.EndpointID).SetConsecutiveFailures(0).Exec(ctx)
		}
		ep, err := tx.WebhookEndpoint.UpdateOneID(a.EndpointID).AddConsecutiveFailures(1).Save(ctx)
		if err != nil {
			return err
		}
		if ep.IsActive && ep.ConsecutiveFailures >= rt.cfg.WebhookDisableAfter {
			disabled = true
			return bound.DisableFailingWebhookEndpoint(ctx, a.EndpointID, truncate(fmt.Sprintf(
				"disabled after %d failed delivery attempts in a row; the last: %s", ep.ConsecutiveFailures, errText), 2000))
		}
		return nil
	})
	if disabled && err == nil {
		rt.log.WarnContext(ctx, "webhook endpoint disabled after repeated failures", "endpoint", a.EndpointID, "tenant", a.TenantID)
	}
	return disabled, err
}
