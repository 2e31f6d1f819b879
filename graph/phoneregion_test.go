package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/contact"
	"github.com/conecrm/gateway/ent/outboxevent"
	"github.com/conecrm/gateway/ent/schema"
	"github.com/conecrm/gateway/ent/tenant"
	"github.com/conecrm/gateway/graph"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/rest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/apptest"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// startBoth serves /graphql and the REST /api/ over one domain service.
func startBoth(t *testing.T, db *store.DB) (*apptest.Server, *crm.Service) {
	t.Helper()
	svc := crm.NewService(db.Client)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return apptest.Start(t, db, map[string]http.Handler{
		"/graphql": graph.NewHandler(graph.Config{Client: db.Client, CRM: svc, Logger: log}),
		"/api/":    rest.New(svc, log),
	}), svc
}

// byPhone returns the ids of the contacts GET /api/contact/phone/{phone}
// answers for email.
func byPhone(t *testing.T, s *apptest.Server, email, phone string) []string {
	t.Helper()
	res := s.Do(http.MethodGet, "/api/contact/phone/"+url.PathEscape(phone), email, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("phone %q: %d %s", phone, res.Status, res.Body)
	}
	var cs []struct{ ID string }
	res.JSON(t, &cs)
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ids
}

// A tenant's country is the region of its national phone numbers: set
// through updateTenant, validated, and the tenant's stored phones are
// re-keyed in the same transaction, so the phone lookup (REST) finds them
// in their new international form at once; another tenant keeps its own.
func TestTenantCountryIsThePhoneRegion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := startBoth(t, db)
		ctx := tenancy.Bypass(context.Background())
		tid := storetest.TenantID(t, db, "demo-motors.test")

		// A Paris number written the French way, while the tenant has no
		// country: it is read in the server's region (US) and not found
		// by its international form.
		r := query(t, s, admin, `mutation { createContact(input: {firstName: "Amélie", mobilePhone: "01 42 68 53 00"}) { id } }`, nil)
		var created struct{ CreateContact struct{ ID string } }
		r.into(t, &created)
		paris := created.CreateContact.ID
		if slices.Contains(byPhone(t, s, admin, "+33 1 42 68 53 00"), paris) {
			t.Fatal("a national number is read as French in a tenant without a country")
		}

		t.Run("refused: no permission, not a country", func(t *testing.T) {
			before := storetest.TakeSnapshot(t, db)
			r := query(t, s, user, `mutation { updateTenant(input: {country: "FR"}) { country } }`, nil)
			if r.code() != "FORBIDDEN" {
				t.Fatalf("USER: %+v", r.Errors)
			}
			for _, bad := range []string{"UK", "EU", "FRA", "F1", "ZZ"} {
				r := query(t, s, admin, `mutation($c: String) { updateTenant(input: {country: $c, name: "Renamed"}) { country } }`, map[string]any{"c": bad})
				if r.code() != "BAD_USER_INPUT" {
					t.Fatalf("country %q: %+v", bad, r.Errors)
				}
				if _, ok := r.Errors[0].Extensions["fields"].(map[string]any)["input.country"]; !ok {
					t.Fatalf("country %q: fields %v", bad, r.Errors[0].Extensions)
				}
			}
			r = query(t, s, admin, `mutation { updateTenant(input: {name: " "}) { name } }`, nil)
			if _, ok := r.Errors[0].Extensions["fields"].(map[string]any)["input.name"]; !ok {
				t.Fatalf("blank name: %+v", r.Errors)
			}
			storetest.NothingWritten(t, db, before)
		})

		t.Run("setting the country re-keys the tenant's phones in its transaction", func(t *testing.T) {
			r := query(t, s, admin, `mutation { updateTenant(input: {country: "fr"}) { id name country } }`, nil)
			var data struct {
				UpdateTenant struct{ ID, Name, Country string }
			}
			r.into(t, &data)
			if data.UpdateTenant.Country != "FR" || data.UpdateTenant.ID != tid.String() || data.UpdateTenant.Name == "" {
				t.Fatalf("answer %+v", data)
			}
			for _, phone := range []string{"+33 1 42 68 53 00", "+33142685300", "0142685300", "01.42.68.53.00"} {
				if !slices.Contains(byPhone(t, s, admin, phone), paris) {
					t.Errorf("%q does not find the contact after the country change", phone)
				}
			}
			ev := db.OutboxEvent.Query().Where(outboxevent.SubjectID(tid), outboxevent.Topic("tenant.updated")).OnlyX(ctx)
			changes := ev.Payload["changes"].(map[string]any)
			if c := changes["country"].(map[string]any); c["before"] != nil || c["after"] != "FR" || len(changes) != 1 {
				t.Fatalf("event changes %v", changes)
			}
			if got := db.Tenant.Query().Where(tenant.ID(tid)).OnlyX(ctx); got.Country != "FR" || got.PhoneKeyRegion != "FR" {
				t.Fatalf("stored %q, keys in %q", got.Country, got.PhoneKeyRegion)
			}
			// A write after the change keys in the new region too, and
			// search compares phone-like words in it.
			r = query(t, s, admin, `mutation { createContact(input: {firstName: "Bastien", workPhone: "06 12 34 56 78"}) { id } }`, nil)
			r.into(t, &created)
			if !slices.Contains(byPhone(t, s, admin, "+33 6 12 34 56 78"), created.CreateContact.ID) {
				t.Error("a contact written after the change is not found by its international form")
			}
			var list []struct{ ID string }
			s.Do(http.MethodGet, "/api/contact?limit=100&search="+url.QueryEscape("06 12 34"), admin, nil).JSON(t, &list)
			if !slices.ContainsFunc(list, func(c struct{ ID string }) bool { return c.ID == created.CreateContact.ID }) {
				t.Errorf("search by a national prefix does not find the contact: %v", list)
			}
			// Another tenant still reads national numbers as American.
			other := db.Contact.Query().Where(contact.TenantIDNEQ(tid), contact.MobilePhoneNotNil(), contact.MobilePhoneDigitsHasPrefix("1")).FirstX(ctx)
			if !slices.Contains(byPhone(t, s, otherAdmin, "+"+other.MobilePhoneDigits), other.ID.String()) ||
				other.MobilePhoneDigits != schema.PhoneKey(*other.MobilePhone, "US") {
				t.Errorf("the other tenant's contact %s (%q → %q) lost its US key", other.ID, *other.MobilePhone, other.MobilePhoneDigits)
			}
		})

		t.Run("clearing the country goes back to the server's region", func(t *testing.T) {
			r := query(t, s, admin, `mutation { updateTenant(input: {country: ""}) { country } }`, nil)
			var data struct{ UpdateTenant struct{ Country string } }
			r.into(t, &data)
			if data.UpdateTenant.Country != "" {
				t.Fatalf("answer %+v", data)
			}
			if slices.Contains(byPhone(t, s, admin, "+33 1 42 68 53 00"), paris) {
				t.Error("still keyed as French")
			}
			if !slices.Contains(byPhone(t, s, admin, "01 42 68 53 00"), paris) {
				t.Error("not found as written")
			}
		})
	})
}

// A customer write reads its tenant's region under a share lock
// (PostgreSQL), so a country change waits for it and re-keys what it
// wrote, and a write after the change sees the new country: however
// creates and country changes interleave, every stored key is the
// phone's key in the final region.
func TestPhoneKeysFollowConcurrentCountryChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := startBoth(t, db)
		ctx := tenancy.Bypass(context.Background())
		tid := storetest.TenantID(t, db, "demo-motors.test")
		tok := s.Token(admin)
		post := func(q string, vars map[string]any) error {
			res, err := gqlDo(s, tok, q, vars)
			if err != nil {
				return err
			}
			if len(res.Errors) > 0 {
				return fmt.Errorf("%+v", res.Errors)
			}
			return nil
		}
		const writers, perWriter = 4, 6
		var wg sync.WaitGroup
		errs := make(chan error, writers*perWriter+8)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perWriter {
					errs <- post(`mutation($p: String) { createContact(input: {firstName: "Race", homePhone: $p}) { id } }`,
						map[string]any{"p": fmt.Sprintf("04 %02d 12 34 %02d", 70+w, 10+i)})
				}
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, c := range []string{"FR", "BE", "FR", "", "FR"} {
				errs <- post(`mutation($c: String) { updateTenant(input: {country: $c}) { country } }`, map[string]any{"c": c})
			}
		}()
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		region := db.Tenant.Query().Where(tenant.ID(tid)).OnlyX(ctx).Country
		rows := db.Contact.Query().Where(contact.TenantID(tid), contact.FirstName("Race")).AllX(ctx)
		if len(rows) != writers*perWriter {
			t.Fatalf("%d contacts", len(rows))
		}
		for _, c := range rows {
			if want := schema.PhoneKey(*c.HomePhone, region); c.HomePhoneDigits != want {
				t.Errorf("%q keyed %q, want %q in %s", *c.HomePhone, c.HomePhoneDigits, want, region)
			}
		}
	})
}

// Rows whose keys are missing or were computed before keys were E.164
// (a database from before, where no tenant records its keys' region) are
// re-keyed by the back-fill every start runs, in batches, idempotently;
// the phone lookup then finds them.
func TestPhoneKeyBackfill(t *testing.T) {
	saved := crm.PhoneBackfillBatch
	crm.PhoneBackfillBatch = 3 // several batches per tenant and table
	t.Cleanup(func() { crm.PhoneBackfillBatch = saved })
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, svc := startBoth(t, db)
		ctx := tenancy.Bypass(context.Background())
		tid := storetest.TenantID(t, db, "demo-motors.test")
		if n, err := svc.BackfillPhoneKeys(ctx); err != nil || n != 0 {
			t.Fatalf("a seeded database needs no back-fill: %d, %v", n, err)
		}
		// The state of a database from before: keys missing, or digits only.
		phones := db.Contact.Query().Where(contact.TenantID(tid), contact.MobilePhoneNotNil()).Order(contact.ByID()).Limit(8).AllX(ctx)
		if len(phones) < 8 {
			t.Fatalf("%d seeded contacts with a mobile phone", len(phones))
		}
		var stale []uuid.UUID
		for i, c := range phones {
			key := ""
			if i%2 == 1 {
				key = schema.PhoneDigits(*c.MobilePhone)
			}
			if _, err := db.ExecContext(ctx, `UPDATE contacts SET mobile_phone_digits = $1 WHERE id = $2`, key, c.ID); err != nil {
				t.Fatal(err)
			}
			stale = append(stale, c.ID)
		}
		// A contact whose keys were never written.
		raw := db.Contact.Create().SetTenantID(tid).SetFirstName("Legacy").SetWorkPhone("(253) 555-0147").SaveX(ctx).ID
		if _, err := db.ExecContext(ctx, `UPDATE contacts SET work_phone_digits = '' WHERE id = $1`, raw); err != nil {
			t.Fatal(err)
		}
		stale = append(stale, raw)
		if _, err := db.ExecContext(ctx, `UPDATE tenants SET phone_key_region = ''`); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(byPhone(t, s, admin, "+1 253 555 0147"), raw.String()) {
			t.Fatal("a row without keys is found before the back-fill")
		}

		n, err := svc.BackfillPhoneKeys(ctx)
		if err != nil || n != len(stale) {
			t.Fatalf("back-fill: %d rows, %v; want %d", n, err, len(stale))
		}
		for _, c := range phones {
			got := db.Contact.GetX(ctx, c.ID)
			if got.MobilePhoneDigits != schema.PhoneKey(*c.MobilePhone, "US") || !sameTime(got.DateModified, c.DateModified) {
				t.Errorf("contact %s: key %q, modified %v → %v", c.ID, got.MobilePhoneDigits, c.DateModified, got.DateModified)
			}
			if !slices.Contains(byPhone(t, s, admin, "+"+got.MobilePhoneDigits), c.ID.String()) {
				t.Errorf("%q does not find contact %s", *c.MobilePhone, c.ID)
			}
		}
		if !slices.Contains(byPhone(t, s, admin, "+1 253 555 0147"), raw.String()) {
			t.Error("the row written without keys is not found after the back-fill")
		}
		for _, tn := range db.Tenant.Query().AllX(ctx) {
			if tn.PhoneKeyRegion != "US" {
				t.Errorf("tenant %s keys recorded in %q", tn.Domain, tn.PhoneKeyRegion)
			}
		}
		if n, err := svc.BackfillPhoneKeys(ctx); err != nil || n != 0 {
			t.Fatalf("second run: %d rows, %v", n, err)
		}
		if got := db.OutboxEvent.Query().Where(outboxevent.SubjectIDIn(stale...)).CountX(ctx); got != 0 {
			t.Errorf("re-keying emitted %d events", got)
		}
	})
}

func sameTime(a, b *time.Time) bool { return (a == nil) == (b == nil) && (a == nil || a.Equal(*b)) }

// gqlDo posts a GraphQL operation with the bearer token tok; safe from
// several goroutines (no testing.T).
func gqlDo(s *apptest.Server, tok, q string, vars map[string]any) (*result, error) {
	body, err := json.Marshal(map[string]any{"query": q, "variables": vars})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := s.Client().Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	r := &result{Status: res.StatusCode}
	if err := json.NewDecoder(res.Body).Decode(r); err != nil {
		return nil, fmt.Errorf("status %d: %w", res.StatusCode, err)
	}
	return r, nil
}
