package rest_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/ent/contact"
	"github.com/conecrm/gateway/ent/department"
	"github.com/conecrm/gateway/ent/franchise"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/predicate"
	"github.com/conecrm/gateway/ent/securitygroup"
	"github.com/conecrm/gateway/ent/source"
	"github.com/conecrm/gateway/ent/task"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// seeded reads the seeded rows of one tenant that the route tests name,
// bypassing tenancy the way only tests and system work may.
type seeded struct {
	t   *testing.T
	db  *store.DB
	ctx context.Context
	tid uuid.UUID
}

func tenantData(t *testing.T, db *store.DB, domain string) *seeded {
	return &seeded{t: t, db: db, ctx: tenancy.Bypass(context.Background()), tid: storetest.TenantID(t, db, domain)}
}

func (s *seeded) must(err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatal(err)
	}
}

func (s *seeded) contacts() []*ent.Contact {
	s.t.Helper()
	rows, err := s.db.Contact.Query().Where(contact.TenantID(s.tid)).Order(contact.ByID()).All(s.ctx)
	s.must(err)
	return rows
}

func (s *seeded) accounts() []*ent.Account {
	s.t.Helper()
	rows, err := s.db.Account.Query().Where(account.TenantID(s.tid)).Order(account.ByID()).All(s.ctx)
	s.must(err)
	return rows
}

func (s *seeded) franchise(code string) *ent.Franchise {
	s.t.Helper()
	f, err := s.db.Franchise.Query().Where(franchise.TenantID(s.tid), franchise.Code(code)).Only(s.ctx)
	s.must(err)
	return f
}

// salesDepartment is the franchise's department with a pipeline and the
// round-robin group.
func (s *seeded) salesDepartment(f *ent.Franchise) *ent.Department {
	s.t.Helper()
	d, err := s.db.Department.Query().Where(department.FranchiseID(f.ID), department.Name("Sales")).Only(s.ctx)
	s.must(err)
	return d
}

func (s *seeded) source() *ent.Source {
	s.t.Helper()
	src, err := s.db.Source.Query().Where(source.TenantID(s.tid)).Order(source.ByID()).First(s.ctx)
	s.must(err)
	return src
}

func (s *seeded) group() *ent.SecurityGroup {
	s.t.Helper()
	g, err := s.db.SecurityGroup.Query().Where(securitygroup.TenantID(s.tid)).Only(s.ctx)
	s.must(err)
	return g
}

func (s *seeded) lead() *ent.Lead {
	s.t.Helper()
	l, err := s.db.Lead.Query().Where(lead.TenantID(s.tid)).Order(lead.ByID()).First(s.ctx)
	s.must(err)
	return l
}

// taskAssignedTo returns a task of the tenant assigned to assignee and
// created by someone else than notBy.
func (s *seeded) taskAssignedTo(assignee, notBy uuid.UUID) *ent.Task {
	s.t.Helper()
	tk, err := s.db.Task.Query().Where(task.TenantID(s.tid), task.AssigneeID(assignee), task.CreatedByIDNEQ(notBy)).
		Order(task.ByID()).First(s.ctx)
	s.must(err)
	return tk
}

// withoutRoles adds a USER of the demo tenant holding no role at all, for
// the 403 paths, and returns its email.
func withoutRoles(t *testing.T, db *store.DB) string {
	t.Helper()
	s := tenantData(t, db, "demo-motors.test")
	const email = "norole@demo-motors.test"
	s.must(db.User.Create().SetTenantID(s.tid).SetUsername(email).SetEmail(email).Exec(s.ctx))
	return email
}

func leadOf(a *ent.Account) predicate.Lead   { return lead.AccountID(a.ID) }
func leadIn(f *ent.Franchise) predicate.Lead { return lead.FranchiseID(f.ID) }

func withDeleted(ctx context.Context) context.Context { return tenancy.WithDeleted(ctx) }

func mustUUID(t *testing.T, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
