package model

import "github.com/conecrm/gateway/ent"

// WebhookEndpointWithSecret is an endpoint with its secret, answered only
// when the secret is made.
type WebhookEndpointWithSecret struct {
	Endpoint *ent.WebhookEndpoint `json:"endpoint,omitempty"`
	Secret   string               `json:"secret"`
}
