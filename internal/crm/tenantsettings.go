package crm

import (
	"context"
	"database/sql"
	"strings"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/tenant"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/viewer"
)

// TenantSettingsInput changes the viewer's tenant; nil fields are kept.
type TenantSettingsInput struct {
	Name *string
	// Country is an ISO 3166-1 alpha-2 code; "" clears it (the server's
	// CONECRM_PHONE_REGION then applies).
	Country *string
}

// msgCountry is the message of a refused country code.
const msgCountry = "must be an ISO 3166-1 alpha-2 country code such as US, CA or FR"

// checkCountry validates an optional country into v and returns it in
// canonical form ("" for none).
func checkCountry(v *fault.Validation, field string, country *string) string {
	if country == nil || strings.TrimSpace(*country) == "" {
		return ""
	}
	c, ok := ParseCountry(*country)
	if !ok {
		v.Add(field, msgCountry)
	}
	return c
}

// UpdateTenant changes the viewer's tenant (needs settings.manage) and
// emits tenant.updated. The country is the region in which phone numbers
// written without a country code are read; when the tenant's region
// changes, the lookup keys of all its customers' phones are recomputed in
// the same transaction, so that when the answer arrives the phone lookup
// and search find every number in its new form, and a customer write
// waiting on the tenant's row (tenantRegion) keys its phones in the new
// region.
func (s *Service) UpdateTenant(ctx context.Context, in TenantSettingsInput) (*ent.Tenant, error) {
	if err := Require(ctx, PermSettingsManage); err != nil {
		return nil, err
	}
	var v fault.Validation
	if in.Name != nil {
		checkName(&v, "name", in.Name, true)
	}
	country := checkCountry(&v, "country", in.Country)
	if err := v.Err(); err != nil {
		return nil, err
	}
	tid := viewer.FromContext(ctx).TenantID
	sys := tenancy.Bypass(ctx)
	var out *ent.Tenant
	// A Service bound to the transaction: the re-keying's batches join it.
	err := s.InTx(ctx, func(b *Service, _ *ent.Client, _ *sql.Tx) error {
		tx := b.db
		cur, err := tx.Tenant.Query().Where(tenant.ID(tid)).Modify(pgLock).Only(sys)
		if err != nil {
			return err
		}
		upd := tx.Tenant.UpdateOneID(tid)
		if in.Name != nil {
			upd.SetName(strings.TrimSpace(*in.Name))
		}
		if in.Country != nil {
			upd.SetCountry(country)
		}
		if out, err = upd.Save(sys); err != nil {
			return err
		}
		if err := b.emitChange(ctx, tx, RecordTenant, "updated", tid,
			fields{"name": cur.Name, "country": nonEmpty(cur.Country)},
			fields{"name": out.Name, "country": nonEmpty(out.Country)}); err != nil {
			return err
		}
		if out.PhoneKeyRegion == regionOf(out.Country) {
			return nil
		}
		if _, err := b.rekeyTenant(ctx, tid); err != nil {
			return err
		}
		out, err = tx.Tenant.Get(sys, tid)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}
