package crm

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/webhookattempt"
	"github.com/conecrm/gateway/ent/webhookendpoint"
	"github.com/conecrm/gateway/internal/fault"
)

// WebhookTopics returns the events a webhook endpoint may subscribe to:
// each CRM record type × created/updated/deleted, and the lifecycle events
// (docs/events.md describes every payload). Readable with webhook.manage.
func (s *Service) WebhookTopics(ctx context.Context) ([]string, error) {
	if err := Require(ctx, PermWebhookManage); err != nil {
		return nil, err
	}
	return slices.Clone(webhookTopics), nil
}

var webhookTopics = func() []string {
	var out []string
	for _, t := range []string{RecordAccount, RecordContact, RecordLead, RecordTask, RecordAppointment, RecordFollowUp, RecordPipeline} {
		out = append(out, t+".created", t+".updated", t+".deleted")
	}
	return append(out, TopicLeadStageChanged, TopicLeadStatusChanged, TopicLeadAssigned, TopicTaskCompleted)
}()

// RecordWebhookEndpoint is the record type of a webhook endpoint's own
// events (webhookEndpoint.created, .updated, .secret_rotated, .deleted):
// configuration, not deliverable to webhooks. They never carry the secret.
const RecordWebhookEndpoint = "webhookEndpoint"

// webhookSnapshot is an endpoint's fields as its events report them.
func webhookSnapshot(e *ent.WebhookEndpoint) fields {
	return fields{"url": e.URL, "description": e.Description, "events": e.Events, "isActive": e.IsActive,
		"disabledReason": e.DisabledReason}
}

// IsWebhookTopic reports whether topic can be delivered to webhooks.
func IsWebhookTopic(topic string) bool { return slices.Contains(webhookTopics, topic) }

// WebhookEndpointInput is an endpoint create or update; on update a nil
// field keeps its value.
type WebhookEndpointInput struct {
	URL         *string
	Events      []string // nil: unchanged
	Description *string
	// Active switches deliveries on or off; switching an endpoint on again
	// clears its disabled reason and failure count.
	Active *bool
}

// maxWebhookURL bounds the URL (it is stored and echoed in every listing).
const maxWebhookURL = 2000

func (in WebhookEndpointInput) check(create bool) error {
	var v fault.Validation
	switch {
	case in.URL == nil:
		if create {
			v.Add("url", "is required")
		}
	default:
		u, err := url.Parse(strings.TrimSpace(*in.URL))
		switch {
		case len(*in.URL) > maxWebhookURL:
			v.Add("url", "must be at most 2000 characters")
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			v.Add("url", "must be an absolute http or https URL")
		case u.User != nil:
			v.Add("url", "must not carry credentials (the deliveries are signed with the endpoint's secret)")
		}
	}
	switch {
	case in.Events == nil:
		if create {
			v.Add("events", "is required: one or more of webhookEventTypes")
		}
	case len(in.Events) == 0:
		v.Add("events", "must name at least one event type")
	default:
		for _, e := range in.Events {
			if !IsWebhookTopic(e) {
				v.Add("events", "unknown event type "+quote(e)+" (see webhookEventTypes)")
			}
		}
	}
	if in.Description != nil && len(*in.Description) > 500 {
		v.Add("description", "must be at most 500 characters")
	}
	return v.Err()
}

func quote(s string) string { return `"` + s + `"` }

func sortedTopics(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}

// newWebhookSecret returns 32 random bytes, URL-safe base64: the HMAC key
// of an endpoint's signatures.
func newWebhookSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// WebhookEndpoints returns the tenant's endpoints, oldest first.
func (s *Service) WebhookEndpoints(ctx context.Context) ([]*ent.WebhookEndpoint, error) {
	if err := Require(ctx, PermWebhookManage); err != nil {
		return nil, err
	}
	rows, err := s.db.WebhookEndpoint.Query().Order(webhookendpoint.ByDateCreated(), webhookendpoint.ByID()).All(ctx)
	if err != nil {
		return nil, AsError(err)
	}
	return rows, nil
}

// WebhookEndpoint returns one endpoint; NotFound when unknown or another tenant's.
func (s *Service) WebhookEndpoint(ctx context.Context, id uuid.UUID) (*ent.WebhookEndpoint, error) {
	if err := Require(ctx, PermWebhookManage); err != nil {
		return nil, err
	}
	e, err := s.db.WebhookEndpoint.Get(ctx, id)
	if err != nil {
		return nil, AsError(err)
	}
	return e, nil
}

// WebhookAttempts returns an endpoint's delivery attempts, newest first, at
// most limit (1…500) of them.
func (s *Service) WebhookAttempts(ctx context.Context, id uuid.UUID, limit int) ([]*ent.WebhookAttempt, error) {
	if _, err := s.WebhookEndpoint(ctx, id); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		return nil, fault.FieldError("limit", "must be between 1 and 500")
	}
	rows, err := s.db.WebhookAttempt.Query().Where(webhookattempt.EndpointID(id)).
		Order(webhookattempt.ByDateCreated(sql.OrderDesc()), webhookattempt.ByID(sql.OrderDesc())).Limit(limit).All(ctx)
	if err != nil {
		return nil, AsError(err)
	}
	return rows, nil
}

// CreateWebhookEndpoint creates an endpoint with a new secret and returns
// both: the secret is never shown again (RotateWebhookSecret makes a new one).
func (s *Service) CreateWebhookEndpoint(ctx context.Context, in WebhookEndpointInput) (*ent.WebhookEndpoint, string, error) {
	if err := Require(ctx, PermWebhookManage); err != nil {
		return nil, "", err
	}
	if err := in.check(true); err != nil {
		return nil, "", err
	}
	secret, err := newWebhookSecret()
	if err != nil {
		return nil, "", AsError(err)
	}
	var out *ent.WebhookEndpoint
	err = s.inTx(ctx, func(tx *ent.Client) error {
		created, err := tx.WebhookEndpoint.Create().SetURL(strings.TrimSpace(*in.URL)).SetSecret(secret).
			SetEvents(sortedTopics(in.Events)).SetNillableDescription(in.Description).
			SetNillableIsActive(in.Active).Save(ctx)
		if err != nil {
			return err
		}
		out = created
		return s.emitChange(ctx, tx, RecordWebhookEndpoint, "created", created.ID, nil, webhookSnapshot(created))
	})
	if err != nil {
		return nil, "", err
	}
	return out.Unwrap(), secret, nil
}

// UpdateWebhookEndpoint changes the given fields of an endpoint.
func (s *Service) UpdateWebhookEndpoint(ctx context.Context, id uuid.UUID, in WebhookEndpointInput) (*ent.WebhookEndpoint, error) {
	if err := Require(ctx, PermWebhookManage); err != nil {
		return nil, err
	}
	if err := in.check(false); err != nil {
		return nil, err
	}
	var out *ent.WebhookEndpoint
	err := s.inTx(ctx, func(tx *ent.Client) error {
		cur, err := tx.WebhookEndpoint.Get(ctx, id)
		if err != nil {
			return err
		}
		upd := tx.WebhookEndpoint.UpdateOne(cur)
		if in.URL != nil {
			upd.SetURL(strings.TrimSpace(*in.URL))
		}
		if in.Events != nil {
			upd.SetEvents(sortedTopics(in.Events))
		}
		if in.Description != nil {
			upd.SetDescription(*in.Description)
		}
		if in.Active != nil {
			upd.SetIsActive(*in.Active)
			if *in.Active {
				upd.SetDisabledReason("").ClearDisabledAt().SetConsecutiveFailures(0)
			}
		}
		if out, err = upd.Save(ctx); err != nil {
			return err
		}
		return s.emitChange(ctx, tx, RecordWebhookEndpoint, "updated", id, webhookSnapshot(cur), webhookSnapshot(out))
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// RotateWebhookSecret gives an endpoint a new secret and returns it (shown
// once); deliveries from now on are signed with it.
func (s *Service) RotateWebhookSecret(ctx context.Context, id uuid.UUID) (*ent.WebhookEndpoint, string, error) {
	if err := Require(ctx, PermWebhookManage); err != nil {
		return nil, "", err
	}
	secret, err := newWebhookSecret()
	if err != nil {
		return nil, "", AsError(err)
	}
	var out *ent.WebhookEndpoint
	err = s.inTx(ctx, func(tx *ent.Client) error {
		if out, err = tx.WebhookEndpoint.UpdateOneID(id).SetSecret(secret).Save(ctx); err != nil {
			return err
		}
		// Says that the secret changed, never what it is.
		return s.emit(ctx, tx, Event{Topic: RecordWebhookEndpoint + ".secret_rotated", RecordType: RecordWebhookEndpoint, RecordID: id})
	})
	if err != nil {
		return nil, "", err
	}
	return out.Unwrap(), secret, nil
}

// DeleteWebhookEndpoint deletes an endpoint (soft); its pending deliveries
// are dropped when their turn comes.
func (s *Service) DeleteWebhookEndpoint(ctx context.Context, id uuid.UUID) error {
	if err := Require(ctx, PermWebhookManage); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *ent.Client) error {
		cur, err := tx.WebhookEndpoint.Get(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.WebhookEndpoint.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		return s.emitChange(ctx, tx, RecordWebhookEndpoint, "deleted", id, webhookSnapshot(cur), nil)
	})
}

// DisableFailingWebhookEndpoint switches endpoint id off with reason and
// emits webhookEndpoint.updated. System work of the delivery worker
// (internal/automation), after too many failed attempts in a row: ctx is
// its system viewer, so no permission is asked.
func (s *Service) DisableFailingWebhookEndpoint(ctx context.Context, id uuid.UUID, reason string) error {
	return s.inTx(ctx, func(tx *ent.Client) error {
		cur, err := tx.WebhookEndpoint.Get(ctx, id)
		if err != nil {
			return err
		}
		out, err := tx.WebhookEndpoint.UpdateOne(cur).SetIsActive(false).SetDisabledAt(time.Now().UTC()).
			SetDisabledReason(reason).Save(ctx)
		if err != nil {
			return err
		}
		return s.emitChange(ctx, tx, RecordWebhookEndpoint, "updated", id, webhookSnapshot(cur), webhookSnapshot(out))
	})
}
