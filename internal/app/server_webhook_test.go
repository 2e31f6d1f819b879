package app_test

import "github.com/google/uuid"

// newWebhook makes a webhook endpoint of the tenant (for the permission matrix).
func (f *tenantFixture) newWebhook() uuid.UUID {
	e, err := f.db.WebhookEndpoint.Create().SetTenantID(f.id).SetURL("https://example.com/" + f.name("hook")).
		SetSecret(f.name("secret")).SetEvents([]string{"lead.created"}).Save(f.sys)
	f.must(err)
	return e.ID
}
