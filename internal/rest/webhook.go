package rest

import (
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
)

var _ = routes((*Server).webhookRoutes)

func (s *Server) webhookRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/webhook/event-types", s.handle(PlainErrors, s.webhookEventTypes))
	mux.Handle("GET /api/webhook", s.handle(PlainErrors, s.listWebhooks))
	mux.Handle("POST /api/webhook", s.handle(PlainErrors, s.createWebhook))
	mux.Handle("GET /api/webhook/{webhook}", s.handle(PlainErrors, s.getWebhook))
	mux.Handle("PATCH /api/webhook/{webhook}", s.handle(PlainErrors, s.updateWebhook))
	mux.Handle("DELETE /api/webhook/{webhook}", s.handle(PlainErrors, s.deleteWebhook))
	mux.Handle("POST /api/webhook/{webhook}/rotate-secret", s.handle(PlainErrors, s.rotateWebhookSecret))
	mux.Handle("GET /api/webhook/{webhook}/attempts", s.handle(PlainErrors, s.webhookAttempts))
}

// Webhook is a webhook endpoint; Secret is only set in the answers that
// make one (create, rotate-secret).
type Webhook struct {
	BaseRecord
	URL                 string   `json:"url"`
	Description         string   `json:"description"`
	Events              []string `json:"events"`
	IsActive            bool     `json:"isActive"`
	DisabledReason      string   `json:"disabledReason"`
	DisabledAt          *Time    `json:"disabledAt"`
	ConsecutiveFailures int      `json:"consecutiveFailures"`
	Secret              string   `json:"secret,omitempty"`
}

func webhookOf(e *ent.WebhookEndpoint) Webhook {
	events := e.Events
	if events == nil {
		events = []string{}
	}
	return Webhook{
		BaseRecord: baseRecord(audit{e.ID, e.DateCreated, e.CreatedByID, e.DateModified, e.ModifiedByID,
			e.IsDeleted, e.DateDeleted, e.DeletedByID, e.Dtype}),
		URL: e.URL, Description: e.Description, Events: events, IsActive: e.IsActive,
		DisabledReason: e.DisabledReason, DisabledAt: timeOf(e.DisabledAt), ConsecutiveFailures: e.ConsecutiveFailures,
	}
}

// WebhookAttempt is one delivery attempt.
type WebhookAttempt struct {
	ID          uuid.UUID `json:"id"`
	EventID     uuid.UUID `json:"eventId"`
	Topic       string    `json:"topic"`
	Attempt     int       `json:"attempt"`
	Succeeded   bool      `json:"succeeded"`
	StatusCode  int       `json:"statusCode"`
	DurationMs  int       `json:"durationMs"`
	Response    string    `json:"response"`
	Error       string    `json:"error"`
	DateCreated time.Time `json:"dateCreated"`
}

type webhookBody struct {
	URL         *string  `json:"url"`
	Events      []string `json:"events"`
	Description *string  `json:"description"`
	IsActive    *bool    `json:"isActive"`
}

func (b webhookBody) input() crm.WebhookEndpointInput {
	return crm.WebhookEndpointInput{URL: b.URL, Events: b.Events, Description: b.Description, Active: b.IsActive}
}

func (s *Server) webhookEventTypes(w http.ResponseWriter, r *http.Request) error {
	topics, err := s.svc.WebhookTopics(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, topics)
	return nil
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	rows, err := s.svc.WebhookEndpoints(r.Context())
	if err != nil {
		return err
	}
	out := make([]Webhook, len(rows))
	for i, e := range rows {
		out[i] = webhookOf(e)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "webhook")
	if err != nil {
		return err
	}
	e, err := s.svc.WebhookEndpoint(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, webhookOf(e))
	return nil
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var b webhookBody
	if err := decode(r, &b); err != nil {
		return err
	}
	e, secret, err := s.svc.CreateWebhookEndpoint(r.Context(), b.input())
	if err != nil {
		return err
	}
	out := webhookOf(e)
	out.Secret = secret
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "webhook")
	if err != nil {
		return err
	}
	var b webhookBody
	if err := decode(r, &b); err != nil {
		return err
	}
	e, err := s.svc.UpdateWebhookEndpoint(r.Context(), id, b.input())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, webhookOf(e))
	return nil
}

func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "webhook")
	if err != nil {
		return err
	}
	e, secret, err := s.svc.RotateWebhookSecret(r.Context(), id)
	if err != nil {
		return err
	}
	out := webhookOf(e)
	out.Secret = secret
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "webhook")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteWebhookEndpoint(r.Context(), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, nil)
	return nil
}

func (s *Server) webhookAttempts(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "webhook")
	if err != nil {
		return err
	}
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil {
			return fault.FieldError("limit", "must be an integer")
		}
	}
	rows, err := s.svc.WebhookAttempts(r.Context(), id, limit)
	if err != nil {
		return err
	}
	out := make([]WebhookAttempt, len(rows))
	for i, a := range rows {
		out[i] = WebhookAttempt{ID: a.ID, EventID: a.EventID, Topic: a.Topic, Attempt: a.Attempt, Succeeded: a.Succeeded,
			StatusCode: a.StatusCode, DurationMs: a.DurationMs, Response: a.Response, Error: a.Error, DateCreated: a.DateCreated}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
