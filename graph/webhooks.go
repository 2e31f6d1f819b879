package graph

import (
	"context"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/graph/model"
)

// withSecret answers a mutation that made an endpoint's secret: the
// endpoint read as the viewer, and the secret, shown this once.
func withSecret(ctx context.Context, client *ent.Client, id uuid.UUID, secret string) (*model.WebhookEndpointWithSecret, error) {
	e, err := reload[*ent.WebhookEndpoint](ctx, client, id)
	if err != nil {
		return nil, err
	}
	return &model.WebhookEndpointWithSecret{Endpoint: e, Secret: secret}, nil
}

// nonNilStrings keeps a required list present: an empty list must be
// refused as empty, not taken for an omitted one.
func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
