package store_test

import (
	"context"
	"errors"
	"io"
	"slices"
	"strconv"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/ent/contact"
	"github.com/conecrm/gateway/ent/schema"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/seed"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
	"github.com/conecrm/gateway/internal/viewer"
)

func TestQueriesSeeOnlyTheViewersTenant(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := storetest.As(t, db, "admin@demo-motors.test")
		b := storetest.As(t, db, "admin@northwind-auto.test")
		all, err := db.Account.Query().Count(tenancy.Bypass(a))
		if err != nil {
			t.Fatal(err)
		}
		mine := db.Account.Query().AllX(a)
		if len(mine) == 0 || len(mine)*2 != all {
			t.Fatalf("tenant A sees %d of %d accounts, want half", len(mine), all)
		}
		tidA := storetest.TenantID(t, db, "demo-motors.test")
		for _, acc := range mine {
			if acc.TenantID != tidA {
				t.Fatalf("tenant A read account %s of tenant %s", acc.ID, acc.TenantID)
			}
		}
		// B asking for A's row by id: not found, also through edges.
		if _, err := db.Account.Get(b, mine[0].ID); !ent.IsNotFound(err) {
			t.Fatalf("B reading A's account: err = %v, want not found", err)
		}
		n, err := db.Contact.Query().Where(contact.HasAccountsWith(account.ID(mine[0].ID))).Count(b)
		if err != nil || n != 0 {
			t.Fatalf("B reaches A's contacts through an edge: n=%d err=%v", n, err)
		}
	})
}

func TestWritesNamingAnotherTenantsRowsFail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := storetest.As(t, db, "admin@demo-motors.test")
		b := storetest.As(t, db, "admin@northwind-auto.test")
		theirs := db.Contact.Query().FirstX(b)
		mine := db.Account.Query().FirstX(a)
		before := storetest.TakeSnapshot(t, db)

		err := db.Contact.UpdateOneID(theirs.ID).SetFirstName("Hijacked").Exec(a)
		if !ent.IsNotFound(err) {
			t.Fatalf("update of B's contact by A: err = %v, want not found", err)
		}
		if err := db.Contact.DeleteOneID(theirs.ID).Exec(a); !ent.IsNotFound(err) {
			t.Fatalf("delete of B's contact by A: err = %v, want not found", err)
		}
		if err := db.Account.UpdateOneID(mine.ID).AddContactIDs(theirs.ID).Exec(a); !errors.Is(err, schema.ErrCrossTenant) {
			t.Fatalf("linking B's contact to A's account: err = %v, want ErrCrossTenant", err)
		}
		err = db.Lead.Create().SetSubject("x").SetContactID(theirs.ID).Exec(a)
		if !errors.Is(err, schema.ErrCrossTenant) {
			t.Fatalf("lead of A on B's contact: err = %v, want ErrCrossTenant", err)
		}
		tidB := storetest.TenantID(t, db, "northwind-auto.test")
		if err := db.Account.Create().SetName("x").SetTenantID(tidB).Exec(a); !errors.Is(err, schema.ErrCrossTenant) {
			t.Fatalf("A creating a row in B: err = %v, want ErrCrossTenant", err)
		}
		storetest.NothingWritten(t, db, before)
	})
}

func TestDataLayerRefusesWorkWithoutAViewer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Account.Query().All(ctx); !errors.Is(err, tenancy.ErrNoViewer) {
			t.Fatalf("query without viewer: err = %v", err)
		}
		if err := db.Account.Create().SetName("x").Exec(ctx); !errors.Is(err, tenancy.ErrNoViewer) {
			t.Fatalf("create without viewer: err = %v", err)
		}
	})
}

func TestCreatesAreStampedAndUpdatesAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := storetest.As(t, db, "manager@demo-motors.test")
		v := viewer.FromContext(a)
		acc := db.Account.Create().SetName("Audit Co").SaveX(a)
		if acc.TenantID != v.TenantID || acc.CreatedByID == nil || *acc.CreatedByID != v.UserID {
			t.Fatalf("create not stamped: tenant %s created by %v", acc.TenantID, acc.CreatedByID)
		}
		if acc.DateCreated.IsZero() || acc.Dtype != "account" || acc.DateModified != nil {
			t.Fatalf("audit fields on create: %+v", acc)
		}
		if acc.ID.Version() != 7 || registry.TableOf(acc.ID) != "accounts" {
			t.Fatalf("id %s: version %d table %q", acc.ID, acc.ID.Version(), registry.TableOf(acc.ID))
		}
		u := storetest.As(t, db, "user@demo-motors.test")
		acc = db.Account.UpdateOneID(acc.ID).SetName("Audit Inc").SaveX(u)
		if acc.ModifiedByID == nil || *acc.ModifiedByID != viewer.FromContext(u).UserID || acc.DateModified == nil {
			t.Fatalf("update not audited: %+v", acc)
		}
	})
}

func TestDeleteIsSoftAndRecordsWhoAndWhen(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := storetest.As(t, db, "admin@demo-motors.test")
		acc := db.Account.Query().FirstX(a)
		db.Account.DeleteOneID(acc.ID).ExecX(a)
		if _, err := db.Account.Get(a, acc.ID); !ent.IsNotFound(err) {
			t.Fatalf("deleted account still visible: %v", err)
		}
		if err := db.Account.DeleteOneID(acc.ID).Exec(a); !ent.IsNotFound(err) {
			t.Fatalf("second delete: err = %v, want not found", err)
		}
		gone := db.Account.GetX(tenancy.WithDeleted(a), acc.ID)
		if !gone.IsDeleted || gone.DateDeleted == nil || gone.DeletedByID == nil || *gone.DeletedByID != viewer.FromContext(a).UserID {
			t.Fatalf("soft delete not recorded: %+v", gone)
		}
	})
}

func TestPhoneDigitsFollowThePhones(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := storetest.As(t, db, "admin@demo-motors.test")
		c := db.Contact.Create().SetFirstName("P").SetMobilePhone("+1 (514) 555-0100").SaveX(a)
		if c.MobilePhoneDigits != "15145550100" {
			t.Fatalf("digits = %q", c.MobilePhoneDigits)
		}
		c = db.Contact.UpdateOneID(c.ID).ClearMobilePhone().SaveX(a)
		if c.MobilePhoneDigits != "" {
			t.Fatalf("digits after clear = %q", c.MobilePhoneDigits)
		}
	})
}

func TestMigrationIsIdempotent(t *testing.T) {
	for _, d := range []string{dialect.SQLite, dialect.Postgres} {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, storetest.URL(t, d))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for i := 0; i < 3; i++ {
				if err := db.Migrate(ctx); err != nil {
					t.Fatalf("migration %d: %v", i+1, err)
				}
			}
		})
	}
}

func TestSeedingIsDeterministic(t *testing.T) {
	for _, d := range []string{dialect.SQLite, dialect.Postgres} {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			var snapshots [2][]string
			for i := range snapshots {
				db, err := store.Open(ctx, storetest.URL(t, d))
				if err != nil {
					t.Fatal(err)
				}
				if err := db.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				if err := seed.Fill(ctx, db.Client, seed.DemoTenants, storetest.Sizes, io.Discard); err != nil {
					t.Fatal(err)
				}
				snapshots[i] = snapshot(t, db)
				db.Close()
			}
			if !slices.Equal(snapshots[0], snapshots[1]) {
				t.Fatalf("two seedings differ")
			}
			if len(snapshots[0]) < 2*(storetest.Sizes.Accounts+storetest.Sizes.Leads) {
				t.Fatalf("snapshot too small: %d rows", len(snapshots[0]))
			}
		})
	}
}

// snapshot lists the seeded content that does not depend on ids or clocks.
func snapshot(t *testing.T, db *store.DB) []string {
	ctx := tenancy.Bypass(context.Background())
	var rows []string
	for _, a := range db.Account.Query().WithContacts().WithPrimaryContact().AllX(ctx) {
		rows = append(rows, "account "+a.Name+" "+a.Edges.PrimaryContact.LastName+" "+itoa(len(a.Edges.Contacts)))
	}
	for _, c := range db.Contact.Query().AllX(ctx) {
		rows = append(rows, "contact "+*c.PrimaryEmail+" "+*c.MobilePhone)
	}
	for _, l := range db.Lead.Query().WithStage().WithAssignees().AllX(ctx) {
		rows = append(rows, "lead "+l.Subject+" "+l.Edges.Stage.Name+" "+l.DueDate.String()+" "+itoa(len(l.Edges.Assignees)))
	}
	slices.Sort(rows)
	return rows
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestJoinTablesAreIndexedFromBothSides(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q := "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'account_contacts_contact_id'"
		if db.Dialect == dialect.Postgres {
			q = "SELECT count(*) FROM pg_indexes WHERE indexname = 'account_contacts_contact_id'"
		}
		for i := 0; i < 2; i++ { // and migrating again keeps it
			var n int
			if err := db.SQL.QueryRowContext(ctx, q).Scan(&n); err != nil || n != 1 {
				t.Fatalf("index on account_contacts(contact_id): n=%d err=%v", n, err)
			}
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		}
	})
}
