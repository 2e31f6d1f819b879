package app_test

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/conecrm/gateway/ent/role"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// permissionsDoc is the documented permission catalogue. It is generated;
// TestPermissionsDocumentIsUpToDate fails when it differs and rewrites it
// with CONECRM_UPDATE_DOCS=1.
const permissionsDoc = "../../docs/permissions.md"

// renderPermissionsDoc renders docs/permissions.md from the catalogue, the
// default roles and the route table the permission matrix tests.
func renderPermissionsDoc() string {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	roles := slices.Sorted(func(yield func(string) bool) {
		for r := range crm.DefaultRoles {
			if !yield(r) {
				return
			}
		}
	})
	// Administrator first, then by name.
	slices.SortStableFunc(roles, func(a, b string) int {
		return boolInt(crm.DefaultRoles[b] == nil) - boolInt(crm.DefaultRoles[a] == nil)
	})
	typeOf := map[string]string{}
	for typ, role := range crm.RoleForUserType {
		typeOf[role] = typ
	}
	grants := func(role, perm string) bool {
		return crm.DefaultRoles[role] == nil || slices.Contains(crm.DefaultRoles[role], perm)
	}

	p("# Permissions\n\n")
	p("<!-- Generated from internal/crm/permissions.go (Catalogue, DefaultRoles, RoleForUserType) and the\n")
	p("     route table of internal/app/server_permission_test.go. Do not edit: run\n")
	p("     CONECRM_UPDATE_DOCS=1 go test -run TestPermissionsDocumentIsUpToDate ./internal/app\n")
	p("     TestPermissionsDocumentIsUpToDate fails when this file is out of date. -->\n\n")
	p("Every `/api` and `/graphql` request is made by a user of one tenant (the token's `sub` and `tid`,\n")
	p("see the README's *Tokens* section). What that user may do is decided in three steps:\n\n")
	p("1. **Tenant.** Every query and write is scoped to the user's tenant by the data layer. A record\n")
	p("   of another tenant does not exist for them: naming it in a path, a body reference or a\n")
	p("   GraphQL argument answers exactly like an id that exists nowhere (404 for a path or a\n")
	p("   `node(id)`, the route's documented 400 for a reference in a body), and nothing is written.\n")
	p("2. **Permission.** Roles hold permissions, users hold roles; users of type `ADMIN` hold every\n")
	p("   permission whatever their roles. A missing permission answers `403 {\"error\": \"Access denied\"}`\n")
	p("   on REST and an error with `extensions.code` `FORBIDDEN` on GraphQL; nothing is written.\n")
	p("   A user without any role may do nothing but authenticate.\n")
	p("3. **Record rules** on top of the permission, for tasks and saved filters (below).\n\n")
	p("The permissions are data: the catalogue is seeded into the `permissions` table, and each new\n")
	p("tenant gets the default roles. Roles can be changed per tenant; a change applies from the\n")
	p("next request (the viewer is loaded for every request).\n\n")
	p("A permission added to the catalogue by a new release reaches existing tenants too: at the next\n")
	p("start (or `migrate`) each tenant's default roles whose defaults include it get it, once, with a\n")
	p("`role.updated` event without actor (system work). Each tenant records which catalogue\n")
	p("permissions it has been offered, so a permission an administrator took away from a role is\n")
	p("never given back. Tenants from before that record count what any of their roles holds as\n")
	p("offered (`crm.OfferNewPermissions`).\n\n")

	p("## Catalogue\n\n")
	p("| permission | allows |")
	for _, r := range roles {
		p(" %s (`%s`) |", r, typeOf[r])
	}
	p("\n|---|---|")
	for range roles {
		p(":-:|")
	}
	p("\n")
	for _, perm := range crm.Catalogue {
		p("| `%s` | %s |", perm.Name, perm.Description)
		for _, r := range roles {
			if grants(r, perm.Name) {
				p(" ✓ |")
			} else {
				p(" |")
			}
		}
		p("\n")
	}

	p("\n## Default roles\n\n")
	p("| role | given to users of type | permissions |\n|---|---|---|\n")
	for _, r := range roles {
		perms := "all (and `ADMIN` users hold all permissions whatever their roles)"
		if crm.DefaultRoles[r] != nil {
			names := make([]string, len(crm.DefaultRoles[r]))
			for i, n := range crm.DefaultRoles[r] {
				names[i] = "`" + n + "`"
			}
			perms = strings.Join(names, ", ")
		}
		p("| %s | `%s` | %s |\n", r, typeOf[r], perms)
	}

	p("\n## Record rules\n\n")
	p("- **Tasks, appointments and follow-ups.** A `USER` may update, complete or delete one only when it is assigned to them, or to a\n")
	p("  security group they are a member of, or when they created it; `MANAGER` and `ADMIN` users\n")
	p("  may update or delete any of the tenant. Otherwise `403 Access denied`.\n")
	p("- **Saved filters.** A filter is private (the default) or shared. A private filter is listed,\n")
	p("  read, changed and deleted by its owner only — whatever the other user's type. A shared\n")
	p("  filter is listed and read by every user of the tenant holding `saved_filter.read`, and\n")
	p("  changed or deleted by its owner only. The owner is always the user who created it.\n")
	p("- **Server-owned fields.** The id of a new record, its tenant, its owner, the audit fields\n")
	p("  (`dateCreated`, `createdBy`, `dateModified`, `modifiedBy`, `isDeleted`, `dateDeleted`,\n")
	p("  `deletedBy`) and `dtype` are set by the server; values sent by a client are ignored.\n")

	p("- **Private user data.** A `USER` reads only their own settings (`User.settings`) and\n")
	p("  third-party metadata (`User.thirdPartyIds`); other users' answer nothing. `MANAGER` and\n")
	p("  `ADMIN` users read everyone's.\n")

	p("\n## Reading records\n\n")
	p("Each type of record has one read permission (internal/registry), enforced by the data layer\n")
	p("on every query, so it holds for every route and field. Records that belong to a parent are read\n")
	p("with the parent's permission. A REST response embeds some records in its resource: those come\n")
	p("with the route's permission. A filter rule on a relation (`contact.lastName` on leads,\n")
	p("`assignees`, `custom.*`) needs the permission of the records it reads, else `400` naming the\n")
	p("rule; the filter catalogues list only the fields the user may use.\n\n")
	p("| type | read permission | REST resource | embeds |\n|---|---|---|---|\n")
	for _, e := range registry.Entities {
		perm := "system only"
		if e.Read != "" {
			perm = "`" + e.Read + "`"
			if e.AlsoRead != "" {
				perm += " or `" + e.AlsoRead + "`"
			}
		}
		rest := ""
		if e.REST != "" {
			rest = "`" + e.REST + "`"
		}
		p("| `%s` | %s | %s | %s |\n", e.GraphQLType(), perm, rest, strings.Join(e.Embeds, ", "))
	}

	p("\n## REST routes\n\n")
	p("| route | permission | also |\n|---|---|---|\n")
	for _, r := range restRoutes {
		perm := "any authenticated user"
		if r.perm != "" {
			perm = "`" + r.perm + "`"
		}
		var also []string
		for _, a := range r.also {
			also = append(also, "`"+a+"` (for a lead filter: the module's read permission, to check the query)")
		}
		if r.note != "" {
			also = append(also, r.note)
		}
		if r.rule != "" {
			also = append(also, "record rule ("+r.rule+")")
		}
		p("| `%s %s` | %s | %s |\n", r.method, r.pattern, perm, strings.Join(also, "; "))
	}
	p("| `GET /api/doc.json` | none (documentation, no token needed) | |\n")

	if len(graphqlMutations) > 0 {
		p("\n## GraphQL\n\n")
		p("Every field that returns records needs the read permission of their type, wherever it is:\n")
		p("a root list, `node`/`nodes`, an edge of another record (a lead's `contact`, an account's\n")
		p("`leads`), an audit user (`createdBy`), an assignee, custom field values. Without it the field\n")
		p("answers `null` with a `FORBIDDEN` error at its path and the rest of the response is intact.\n")
		p("A mutation's answer is the written record even to a user who may write but not read its\n")
		p("type; its relations follow the same rule. Mutations:\n\n")
		p("| mutation | permission | also |\n|---|---|---|\n")
		for _, m := range graphqlMutations {
			rule := ""
			if m.rule != "" {
				rule = "record rule (" + m.rule + ")"
			}
			p("| `%s` | `%s` | %s |\n", m.name, m.perm, rule)
		}
	}
	return b.String()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// docs/permissions.md is what the catalogue, the default roles and the
// route table say; CONECRM_UPDATE_DOCS=1 rewrites it.
func TestPermissionsDocumentIsUpToDate(t *testing.T) {
	t.Parallel()
	want := renderPermissionsDoc()
	if os.Getenv("CONECRM_UPDATE_DOCS") == "1" {
		if err := os.WriteFile(permissionsDoc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(permissionsDoc)
	if err != nil {
		t.Fatalf("%v: run CONECRM_UPDATE_DOCS=1 go test -run TestPermissionsDocumentIsUpToDate ./internal/app", err)
	}
	if string(got) != want {
		t.Fatalf("%s is out of date with internal/crm/permissions.go or the route table: run\n"+
			"CONECRM_UPDATE_DOCS=1 go test -run TestPermissionsDocumentIsUpToDate ./internal/app", permissionsDoc)
	}
}

// The catalogue is consistent: names are unique and well formed, every
// default role grants only catalogued permissions, every user type has a
// role, and every permission a route needs is catalogued.
func TestPermissionCatalogueIsConsistent(t *testing.T) {
	t.Parallel()
	name := regexp.MustCompile(`^[a-z_]+\.[a-z_]+$`)
	known := map[string]bool{}
	for _, p := range crm.Catalogue {
		if !name.MatchString(p.Name) || p.Description == "" {
			t.Errorf("permission %q (%q) is malformed", p.Name, p.Description)
		}
		if known[p.Name] {
			t.Errorf("permission %s is catalogued twice", p.Name)
		}
		known[p.Name] = true
	}
	for role, perms := range crm.DefaultRoles {
		for _, p := range perms {
			if !known[p] {
				t.Errorf("role %s grants %s, which is not in the catalogue", role, p)
			}
		}
	}
	for _, typ := range []string{"ADMIN", "MANAGER", "USER"} {
		if _, ok := crm.DefaultRoles[crm.RoleForUserType[typ]]; !ok {
			t.Errorf("user type %s has no default role", typ)
		}
	}
	if crm.DefaultRoles[crm.RoleForUserType["ADMIN"]] != nil {
		t.Error("the ADMIN role must hold the whole catalogue (nil)")
	}
	for _, r := range restRoutes {
		for _, p := range append([]string{r.perm}, r.also...) {
			if p != "" && !known[p] {
				t.Errorf("%s needs %s, which is not in the catalogue", r, p)
			}
		}
	}
	for _, m := range graphqlMutations {
		if !known[m.perm] {
			t.Errorf("mutation %s needs %s, which is not in the catalogue", m.name, m.perm)
		}
	}
}

// The seeded data is the catalogue: every permission in the permissions
// table, and every tenant's default roles granting exactly the documented
// permissions, on both databases.
func TestSeededPermissionsAndRolesAreTheCatalogue(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sys := f.demo.sys
		names, err := db.Permission.Query().Select("name").Strings(sys)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, p := range crm.Catalogue {
			want = append(want, p.Name)
		}
		slices.Sort(names)
		slices.Sort(want)
		if !slices.Equal(names, want) {
			t.Errorf("permissions table %v, want the catalogue %v", names, want)
		}
		for _, tf := range []*tenantFixture{f.demo, f.other} {
			for name, perms := range crm.DefaultRoles {
				if perms == nil {
					perms = want
				}
				r, err := db.Role.Query().Where(role.TenantID(tf.id), role.Name(name)).WithPermissions().Only(sys)
				if err != nil {
					t.Fatalf("role %s: %v", name, err)
				}
				var got []string
				for _, p := range r.Edges.Permissions {
					got = append(got, p.Name)
				}
				slices.Sort(got)
				exp := slices.Sorted(slices.Values(perms))
				if !slices.Equal(got, exp) {
					t.Errorf("tenant %s role %s grants %v, want %v", tf.id, name, got, exp)
				}
			}
		}
	})
}
