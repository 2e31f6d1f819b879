package crm

import (
	"context"
	"database/sql"
	"strings"

	entgo "entgo.io/ent"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
	"golang.org/x/text/language"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/ent/contact"
	"github.com/conecrm/gateway/ent/schema"
	"github.com/conecrm/gateway/ent/tenant"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/viewer"
)

// A customer's phone keys (schema.PhoneKey) are computed in the region of
// its tenant: the tenant's country, else the server's CONECRM_PHONE_REGION.
// The schema's hook asks this package for it, reading the tenant through
// the write's own transaction.
func init() { schema.TenantPhoneRegion = mutationPhoneRegion }

// ParseCountry returns code as an ISO 3166-1 alpha-2 country code in upper
// case, or false when it is not one ("UK", "EU", "ZZ", "USA" are not).
func ParseCountry(code string) (string, bool) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if len(code) != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z' {
		return "", false
	}
	r, err := language.ParseRegion(code)
	// Canonicalize turns retired codes into current ones (UK → GB), which
	// then differ from the input.
	if err != nil || !r.IsCountry() || r.Canonicalize().String() != code {
		return "", false
	}
	return code, true
}

// regionOf is the region in which a tenant with country reads national
// phone numbers.
func regionOf(country string) string {
	if country != "" {
		return country
	}
	return schema.PhoneRegion
}

// tenantRegion reads tenant tid's phone region with c. With lock, on
// PostgreSQL, the tenant's row is held FOR SHARE until the transaction
// ends: a country change (which re-keys the tenant's phones in its own
// transaction) then waits for this write, and a write that starts after
// it reads the new country, so no key is computed in a stale region.
// SQLite serialises writers anyway.
func tenantRegion(ctx context.Context, c *ent.Client, tid uuid.UUID, lock bool) (string, error) {
	country, err := c.Tenant.Query().Where(tenant.ID(tid)).Select(tenant.FieldCountry).
		Modify(func(s *entsql.Selector) {
			if lock && s.Dialect() == dialect.Postgres {
				s.ForShare()
			}
		}).String(tenancy.Bypass(ctx))
	if err != nil {
		return "", err
	}
	return regionOf(country), nil
}

// viewerRegion is the phone region of the viewer's tenant, for lookups.
func (s *Service) viewerRegion(ctx context.Context) (string, error) {
	v := viewer.FromContext(ctx)
	if v == nil {
		return schema.PhoneRegion, nil
	}
	r, err := tenantRegion(ctx, s.db, v.TenantID, false)
	if err != nil {
		return "", AsError(err)
	}
	return r, nil
}

// mutationPhoneRegion is schema.TenantPhoneRegion: the region of the
// tenant an account or contact mutation writes — the tenant_id it sets (a
// create), else the viewer's tenant, else (system work on one row) the
// row's.
func mutationPhoneRegion(ctx context.Context, m entgo.Mutation) (string, error) {
	cm, ok := m.(interface{ Client() *ent.Client })
	if !ok {
		return schema.PhoneRegion, nil
	}
	c := cm.Client()
	tid := uuid.Nil
	if v, ok := m.Field("tenant_id"); ok {
		tid, _ = v.(uuid.UUID)
	} else if vw := viewer.FromContext(ctx); vw != nil {
		tid = vw.TenantID
	} else if im, ok := m.(interface{ ID() (uuid.UUID, bool) }); ok {
		if id, ok := im.ID(); ok {
			var err error
			if tid, err = customerTenant(ctx, c, m, id); err != nil {
				return "", err
			}
		}
	}
	if tid == uuid.Nil {
		return schema.PhoneRegion, nil
	}
	return tenantRegion(ctx, c, tid, true)
}

// customerTenant reads the tenant of account or contact id.
func customerTenant(ctx context.Context, c *ent.Client, m entgo.Mutation, id uuid.UUID) (uuid.UUID, error) {
	sys := tenancy.WithDeleted(tenancy.Bypass(ctx))
	switch m.(type) {
	case *ent.AccountMutation:
		a, err := c.Account.Get(sys, id)
		if err != nil {
			return uuid.Nil, err
		}
		return a.TenantID, nil
	case *ent.ContactMutation:
		ct, err := c.Contact.Get(sys, id)
		if err != nil {
			return uuid.Nil, err
		}
		return ct.TenantID, nil
	}
	return uuid.Nil, nil
}

// PhoneBackfillBatch is how many customers the phone-key back-fill reads
// per statement, and at start-up per transaction
// (CONECRM_PHONE_BACKFILL_BATCH).
var PhoneBackfillBatch = 500

// BackfillPhoneKeys re-keys the phones of every tenant whose stored keys
// were not computed in its current region (tenants.phone_key_region):
// databases from before the keys were E.164 (no region recorded), tenants
// without a country after CONECRM_PHONE_REGION changed. Every start runs
// it; it is idempotent (a tenant whose keys are current costs nothing but
// its row in one query), and each batch of PhoneBackfillBatch customers is
// its own transaction, so writers wait at most for one batch. It returns
// how many customers' keys changed.
func (s *Service) BackfillPhoneKeys(ctx context.Context) (int, error) {
	sys := tenancy.Bypass(ctx)
	ts, err := s.db.Tenant.Query().Select(tenant.FieldID, tenant.FieldCountry, tenant.FieldPhoneKeyRegion).All(sys)
	if err != nil {
		return 0, AsError(err)
	}
	total := 0
	for _, t := range ts {
		if t.PhoneKeyRegion == regionOf(t.Country) {
			continue
		}
		n, err := s.rekeyTenant(sys, t.ID)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// rekeyTenant recomputes tenant tid's phone keys batch by batch, each in
// a transaction of its own (or all in the caller's when s is bound to
// one), then records the region as the keys'. Every batch reads the
// region as a write does (locked): a country change that commits between
// two batches has re-keyed every row itself, so the rows before it are
// right and the rows after it are keyed in the new region.
func (s *Service) rekeyTenant(ctx context.Context, tid uuid.UUID) (int, error) {
	total := 0
	for _, table := range []string{account.Table, contact.Table} {
		after := uuid.Nil
		for {
			var last uuid.UUID
			var changed int
			err := s.inTx(ctx, func(tx *ent.Client) error {
				region, err := tenantRegion(ctx, tx, tid, true)
				if err != nil {
					return err
				}
				last, changed, err = rekeyBatch(ctx, tx, s.SQLTx(tx), table, tid, after, region)
				return err
			})
			if err != nil {
				return total, err
			}
			total += changed
			if last == uuid.Nil {
				break
			}
			after = last
		}
	}
	err := s.inTx(ctx, func(tx *ent.Client) error {
		region, err := tenantRegion(ctx, tx, tid, true)
		if err != nil {
			return err
		}
		return tx.Tenant.UpdateOneID(tid).SetPhoneKeyRegion(region).Exec(tenancy.Bypass(ctx))
	})
	return total, err
}

// phoneRow is a customer's phones and their stored keys, in
// schema.PhoneFields order.
type phoneRow struct {
	id     uuid.UUID
	phones [3]*string
	keys   [3]string
}

// rekeyBatch re-keys the next PhoneBackfillBatch customers of tenant tid in
// table (accounts or contacts, deleted ones included) after id after, in
// region. It writes only the rows whose keys change, by plain UPDATEs of
// the key columns: re-keying is not an edit (no dateModified, no event).
// It returns the last id read (uuid.Nil when none was) and how many rows
// changed.
func rekeyBatch(ctx context.Context, tx *ent.Client, sqlTx *sql.Tx, table string, tid, after uuid.UUID, region string) (uuid.UUID, int, error) {
	if sqlTx == nil {
		return uuid.Nil, 0, fault.Errorf(fault.Internal, "re-keying phones needs a transaction")
	}
	sys := tenancy.WithDeleted(tenancy.Bypass(ctx))
	var rows []phoneRow
	switch table {
	case account.Table:
		as, err := tx.Account.Query().Where(account.TenantID(tid), account.IDGT(after)).Order(account.ByID()).
			Limit(PhoneBackfillBatch).Select(account.FieldID, account.FieldHomePhone, account.FieldWorkPhone,
			account.FieldMobilePhone, account.FieldHomePhoneDigits, account.FieldWorkPhoneDigits,
			account.FieldMobilePhoneDigits).All(sys)
		if err != nil {
			return uuid.Nil, 0, err
		}
		for _, a := range as {
			rows = append(rows, phoneRow{a.ID, [3]*string{a.HomePhone, a.WorkPhone, a.MobilePhone},
				[3]string{a.HomePhoneDigits, a.WorkPhoneDigits, a.MobilePhoneDigits}})
		}
	case contact.Table:
		cs, err := tx.Contact.Query().Where(contact.TenantID(tid), contact.IDGT(after)).Order(contact.ByID()).
			Limit(PhoneBackfillBatch).Select(contact.FieldID, contact.FieldHomePhone, contact.FieldWorkPhone,
			contact.FieldMobilePhone, contact.FieldHomePhoneDigits, contact.FieldWorkPhoneDigits,
			contact.FieldMobilePhoneDigits).All(sys)
		if err != nil {
			return uuid.Nil, 0, err
		}
		for _, c := range cs {
			rows = append(rows, phoneRow{c.ID, [3]*string{c.HomePhone, c.WorkPhone, c.MobilePhone},
				[3]string{c.HomePhoneDigits, c.WorkPhoneDigits, c.MobilePhoneDigits}})
		}
	}
	if len(rows) == 0 {
		return uuid.Nil, 0, nil
	}
	changed := 0
	for _, r := range rows {
		var keys [3]string
		for i, p := range r.phones {
			if p != nil {
				keys[i] = schema.PhoneKey(*p, region)
			}
		}
		if keys == r.keys {
			continue
		}
		// Both drivers bind $N positionally.
		if _, err := sqlTx.ExecContext(ctx, `UPDATE `+table+` SET home_phone_digits = $1, work_phone_digits = $2, mobile_phone_digits = $3 WHERE id = $4`,
			keys[0], keys[1], keys[2], r.id); err != nil {
			return uuid.Nil, 0, err
		}
		changed++
	}
	return rows[len(rows)-1].id, changed, nil
}
