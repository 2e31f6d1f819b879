package app_test

import (
	"strings"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/internal/crm"
)

// The administration mutations (schema/admin.graphqls) in the GraphQL
// permission matrix and docs/permissions.md.
func init() { graphqlMutations = append(graphqlMutations, adminMutations...) }

func (f *tenantFixture) email(prefix string) string {
	return strings.ReplaceAll(f.name(prefix), " ", "") + "@demo-motors.test"
}

func (f *tenantFixture) inactiveUser() uuid.UUID {
	id := f.newUser(strings.ReplaceAll(f.name("probeinactive"), " ", ""), user.UserTypeUSER)
	f.must(f.db.User.UpdateOneID(id).SetIsActive(false).Exec(f.sys))
	return id
}

func (f *tenantFixture) activeUser() uuid.UUID {
	return f.newUser(strings.ReplaceAll(f.name("probeactive"), " ", ""), user.UserTypeUSER)
}

func (f *tenantFixture) newRole() uuid.UUID {
	r, err := f.db.Role.Create().SetTenantID(f.id).SetName(f.name("Probe role")).Save(f.sys)
	f.must(err)
	return r.ID
}

func (f *tenantFixture) newGroup() uuid.UUID {
	g, err := f.db.SecurityGroup.Create().SetTenantID(f.id).SetName(f.name("Probe group")).Save(f.sys)
	f.must(err)
	return g.ID
}

func (f *tenantFixture) newFranchise() uuid.UUID {
	x, err := f.db.Franchise.Create().SetTenantID(f.id).SetName(f.name("Probe franchise")).SetCode("P").Save(f.sys)
	f.must(err)
	return x.ID
}

func (f *tenantFixture) newDepartment() uuid.UUID {
	x, err := f.db.Department.Create().SetTenantID(f.id).SetName(f.name("Probe department")).SetFranchiseID(f.franchise).Save(f.sys)
	f.must(err)
	return x.ID
}

func (f *tenantFixture) newSource() uuid.UUID {
	x, err := f.db.Source.Create().SetTenantID(f.id).SetName(f.name("Probe source")).Save(f.sys)
	f.must(err)
	return x.ID
}

func (f *tenantFixture) newStatus() uuid.UUID {
	x, err := f.db.Status.Create().SetTenantID(f.id).SetName(f.name("Probe status")).Save(f.sys)
	f.must(err)
	return x.ID
}

func (f *tenantFixture) newProduct() uuid.UUID {
	x, err := f.db.Product.Create().SetTenantID(f.id).SetName(f.name("Probe product")).Save(f.sys)
	f.must(err)
	return x.ID
}

func (f *tenantFixture) newProductGroup() uuid.UUID {
	x, err := f.db.ProductGroup.Create().SetTenantID(f.id).SetName(f.name("Probe product group")).Save(f.sys)
	f.must(err)
	return x.ID
}

// named is the input {"name": <a fresh name>}.
func named(prefix string) func(*tenantFixture, actor) any {
	return func(f *tenantFixture, _ actor) any { return map[string]any{"name": f.name(prefix)} }
}

// crud is the create, update and delete mutations of an entity managed
// with perm, whose inputs need only a name (plus extra on create).
func crud(entity, perm string, extra func(*tenantFixture) map[string]any, target func(*tenantFixture) uuid.UUID) []gqlMutation {
	in := entity + "Input!"
	return []gqlMutation{
		{name: "create" + entity, perm: perm, op: create(in, "create"+entity, "{ id }", func(f *tenantFixture, a actor) any {
			m := map[string]any{"name": f.name("GraphQL " + entity)}
			if extra != nil {
				for k, v := range extra(f) {
					m[k] = v
				}
			}
			return m
		})},
		{name: "update" + entity, perm: perm, op: withID(in, "update"+entity, "{ id }",
			func(f *tenantFixture, _ actor) uuid.UUID { return target(f) }, named("Renamed "+entity))},
		{name: "delete" + entity, perm: perm, op: withID("", "delete"+entity, "",
			func(f *tenantFixture, _ actor) uuid.UUID { return target(f) }, nil)},
	}
}

var adminMutations = func() []gqlMutation {
	byID := func(get func(*tenantFixture) uuid.UUID) func(*tenantFixture, actor) uuid.UUID {
		return func(f *tenantFixture, _ actor) uuid.UUID { return get(f) }
	}
	ms := []gqlMutation{
		{name: "createUser", perm: crm.PermUserManage, op: create("UserInput!", "createUser", "{ id }",
			func(f *tenantFixture, _ actor) any { return map[string]any{"email": f.email("gqluser")} })},
		{name: "updateUser", perm: crm.PermUserManage, op: withID("UserInput!", "updateUser", "{ id }",
			byID((*tenantFixture).activeUser), func(f *tenantFixture, _ actor) any { return map[string]any{"firstname": "Renamed"} })},
		{name: "deactivateUser", perm: crm.PermUserManage, op: withID("", "deactivateUser", "{ id }", byID((*tenantFixture).activeUser), nil)},
		{name: "reactivateUser", perm: crm.PermUserManage, op: withID("", "reactivateUser", "{ id }", byID((*tenantFixture).inactiveUser), nil)},
		{name: "deleteUser", perm: crm.PermUserManage, op: withID("", "deleteUser", "", byID((*tenantFixture).activeUser), nil)},
	}
	ms = append(ms, crud("Role", crm.PermUserManage, nil, (*tenantFixture).newRole)...)
	ms = append(ms, crud("SecurityGroup", crm.PermUserManage, nil, (*tenantFixture).newGroup)...)
	ms = append(ms, crud("Franchise", crm.PermSettingsManage, nil, (*tenantFixture).newFranchise)...)
	ms = append(ms, crud("Department", crm.PermSettingsManage,
		func(f *tenantFixture) map[string]any { return map[string]any{"franchiseID": f.franchise} }, (*tenantFixture).newDepartment)...)
	ms = append(ms, crud("Source", crm.PermSettingsManage, nil, (*tenantFixture).newSource)...)
	ms = append(ms, crud("Status", crm.PermSettingsManage, nil, (*tenantFixture).newStatus)...)
	ms = append(ms, crud("Product", crm.PermProductManage, nil, (*tenantFixture).newProduct)...)
	ms = append(ms, crud("ProductGroup", crm.PermProductManage, nil, (*tenantFixture).newProductGroup)...)
	return ms
}()
