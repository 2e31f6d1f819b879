package rest

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
)

// API keys are the gateway's own routes (no reference counterpart); the
// GraphQL apiKeys / createApiKey / revokeApiKey fields do the same.
var _ = routes((*Server).apiKeyRoutes)

func (s *Server) apiKeyRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/api-key", s.handle(PlainErrors, s.listAPIKeys))
	mux.Handle("POST /api/api-key", s.handle(PlainErrors, s.createAPIKey))
	mux.Handle("DELETE /api/api-key/{key}", s.handle(PlainErrors, s.revokeAPIKey))
}

// APIKey is an API key without its secret.
type APIKey struct {
	ID          uuid.UUID  `json:"id"`
	Name        string     `json:"name"`
	Prefix      string     `json:"prefix"`
	User        IDRef      `json:"user"`
	Role        *IDRef     `json:"role"`
	DateCreated time.Time  `json:"dateCreated"`
	ExpiresAt   *time.Time `json:"expiresAt"`
	LastUsedAt  *time.Time `json:"lastUsedAt"`
	RevokedAt   *time.Time `json:"revokedAt"`
}

// CreatedAPIKey is the answer to a create: the key and its secret, shown once.
type CreatedAPIKey struct {
	APIKey
	Secret string `json:"secret"`
}

func apiKeyOf(k *ent.APIKey) APIKey {
	out := APIKey{ID: k.ID, Name: k.Name, Prefix: k.Prefix, User: IDRef{ID: k.UserID}, DateCreated: k.DateCreated.UTC(),
		ExpiresAt: utcPtr(k.ExpiresAt), LastUsedAt: utcPtr(k.LastUsedAt), RevokedAt: utcPtr(k.RevokedAt)}
	if k.RoleID != nil {
		out.Role = &IDRef{ID: *k.RoleID}
	}
	return out
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

type apiKeyInput struct {
	Name      string     `json:"name"`
	UserID    *uuid.UUID `json:"userId"`
	RoleID    *uuid.UUID `json:"roleId"`
	ExpiresAt *string    `json:"expiresAt"`
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.svc.APIKeys(r.Context())
	if err != nil {
		return err
	}
	out := make([]APIKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, apiKeyOf(k))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	var in apiKeyInput
	if err := decode(r, &in); err != nil {
		return err
	}
	ki := crm.APIKeyInput{Name: in.Name, UserID: in.UserID, RoleID: in.RoleID}
	if in.ExpiresAt != nil {
		t, err := time.Parse(time.RFC3339, *in.ExpiresAt)
		if err != nil {
			return fault.FieldError("expiresAt", "must be an RFC 3339 date-time")
		}
		ki.ExpiresAt = &t
	}
	k, secret, err := s.svc.CreateAPIKey(r.Context(), ki)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, CreatedAPIKey{APIKey: apiKeyOf(k), Secret: secret})
	return nil
}

// revokeAPIKey answers the revoked key: revocation keeps the record (with
// its revokedAt), so the list still shows it.
func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "key")
	if err != nil {
		return err
	}
	k, err := s.svc.RevokeAPIKey(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, apiKeyOf(k))
	return nil
}
