package main

import (
	"context"
	"io"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/conecrm/gateway/ent/schema"
	"github.com/conecrm/gateway/ent/tenant"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// `tenant create --country` gives the tenant its phone region (a bad code
// is refused naming the field), and `migrate` — every start — re-keys
// phones whose keys were written before E.164 keys or are missing.
func TestTenantCountryAndPhoneKeyBackfillAtStart(t *testing.T) {
	for _, d := range []string{dialect.SQLite, dialect.Postgres} {
		t.Run(d, func(t *testing.T) {
			ctx := tenancy.Bypass(context.Background())
			vars := map[string]string{
				"CONECRM_DATABASE_URL": storetest.URL(t, d),
				"CONECRM_DATA_DIR":     t.TempDir(),
				"CONECRM_JWT_SECRET":   "phone-region-secret-phone-region-secret-01",
			}
			create := func(country string) error {
				return run(context.Background(), []string{"tenant", "create", "--name", "Lyon Autos", "--domain", "lyon-autos.example",
					"--admin-email", "chef@lyon-autos.example", "--country", country}, env(vars), io.Discard, io.Discard)
			}
			if err := create("UK"); err == nil || !strings.Contains(err.Error(), "country") {
				t.Fatalf("--country UK: %v", err)
			}
			if err := create("fr"); err != nil {
				t.Fatal(err)
			}
			db, err := store.Open(ctx, vars["CONECRM_DATABASE_URL"])
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			tn := db.Tenant.Query().Where(tenant.Domain("lyon-autos.example")).OnlyX(ctx)
			if tn.Country != "FR" || tn.PhoneKeyRegion != "FR" {
				t.Fatalf("tenant country %q, keys in %q", tn.Country, tn.PhoneKeyRegion)
			}
			c := db.Contact.Create().SetTenantID(tn.ID).SetFirstName("Zoé").SetMobilePhone("06 12 34 56 78").SaveX(ctx)
			if c.MobilePhoneDigits != "33612345678" {
				t.Fatalf("keyed %q in a French tenant", c.MobilePhoneDigits)
			}
			// A database from before: digits-only keys, no region recorded.
			if _, err := db.ExecContext(ctx, `UPDATE contacts SET mobile_phone_digits = '0612345678' WHERE id = $1`, c.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, `UPDATE tenants SET phone_key_region = ''`); err != nil {
				t.Fatal(err)
			}
			if err := run(context.Background(), []string{"migrate"}, env(vars), io.Discard, io.Discard); err != nil {
				t.Fatal(err)
			}
			if got := db.Contact.GetX(ctx, c.ID).MobilePhoneDigits; got != schema.PhoneKey("06 12 34 56 78", "FR") {
				t.Fatalf("after migrate: %q", got)
			}
			if got := db.Tenant.GetX(ctx, tn.ID).PhoneKeyRegion; got != "FR" {
				t.Fatalf("keys recorded in %q", got)
			}
			vars["CONECRM_PHONE_BACKFILL_BATCH"] = "0"
			if err := run(context.Background(), []string{"migrate"}, env(vars), io.Discard, io.Discard); err == nil ||
				!strings.Contains(err.Error(), "CONECRM_PHONE_BACKFILL_BATCH") {
				t.Fatalf("batch 0: %v", err)
			}
		})
	}
}
