package crm

import (
	"context"
	"net/mail"
	"regexp"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/permission"
	"github.com/conecrm/gateway/ent/status"
	"github.com/conecrm/gateway/ent/tenant"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/viewer"
)

// What every tenant starts with, whether created by `conecrm tenant create`
// or by the demo seeding: the default roles (DefaultRoles), one pipeline of
// stages, the statuses of each kind and the common lead sources.
var (
	DefaultPipeline = "Sales pipeline"
	DefaultStages   = []string{"New", "Contacted", "Appointment set", "Negotiation", "Delivered"}
	DefaultStatuses = []struct {
		Name string
		Kind status.Kind
	}{{"Open", status.KindOPEN}, {"Closed", status.KindCLOSED}, {"Lost", status.KindLOST}, {"Sold", status.KindSOLD}}
	DefaultSources = []string{"Website", "Walk-in", "Phone", "Referral", "Marketplace"}
)

// TenantDefaults are the ids of the records CreateTenantDefaults wrote.
type TenantDefaults struct {
	Pipeline uuid.UUID
	Stages   []uuid.UUID // in pipeline order
	Statuses map[status.Kind]uuid.UUID
	Sources  []uuid.UUID
	Roles    map[string]uuid.UUID // by name
}

// EnsurePermissions makes sure every permission of the catalogue has its
// row (the permissions table is global); new catalogue entries appear in
// existing databases on the next start.
func EnsurePermissions(ctx context.Context, db *ent.Client) error {
	ctx = tenancy.Bypass(ctx)
	have, err := db.Permission.Query().Select(permission.FieldName).Strings(ctx)
	if err != nil {
		return err
	}
	var missing []*ent.PermissionCreate
	for _, p := range Catalogue {
		if !slices.Contains(have, p.Name) {
			missing = append(missing, db.Permission.Create().SetName(p.Name).SetDescription(p.Description))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return db.Permission.CreateBulk(missing...).Exec(ctx)
}

// MarkDefaultRoles flags as default (not deletable) the roles named like
// the default roles in tenants that have no default role yet: those made
// before roles carried the flag. Tenants made since have theirs flagged, so
// after the first start this changes nothing — and then writes nothing: an
// UPDATE of roles, even of no row, fires the statement-level trigger that
// empties every instance's viewer cache (store.AuthTables).
func MarkDefaultRoles(ctx context.Context, db *ent.Client) error {
	const unmarked = `FROM roles WHERE NOT is_default AND NOT is_deleted AND name IN ('Administrator', 'Manager', 'User')
  AND tenant_id NOT IN (SELECT tenant_id FROM roles WHERE is_default)`
	rows, err := db.QueryContext(ctx, `SELECT EXISTS (SELECT 1 `+unmarked+`)`)
	if err != nil {
		return err
	}
	var found bool
	for rows.Next() {
		err = rows.Scan(&found)
	}
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err != nil || !found {
		return err
	}
	_, err = db.ExecContext(ctx, `UPDATE roles SET is_default = true WHERE id IN (SELECT id `+unmarked+`)`)
	return err
}

// CreateTenantDefaults writes tenant tid's default roles, pipeline, stages,
// statuses and sources with tx (system work under tenancy.Bypass, or as a
// viewer of that tenant), and records the catalogue as offered to the
// tenant (OfferNewPermissions). The permission rows must exist
// (EnsurePermissions).
func CreateTenantDefaults(ctx context.Context, tx *ent.Client, tid uuid.UUID) (*TenantDefaults, error) {
	d := &TenantDefaults{Statuses: map[status.Kind]uuid.UUID{}, Roles: map[string]uuid.UUID{}}
	perms, err := tx.Permission.Query().All(ctx)
	if err != nil {
		return nil, err
	}
	permID := map[string]uuid.UUID{}
	for _, p := range perms {
		permID[p.Name] = p.ID
	}
	for _, name := range []string{"Administrator", "Manager", "User"} {
		names := DefaultRoles[name]
		if names == nil {
			for _, p := range Catalogue {
				names = append(names, p.Name)
			}
		}
		pids := make([]uuid.UUID, 0, len(names))
		for _, n := range names {
			pids = append(pids, permID[n])
		}
		r, err := tx.Role.Create().SetTenantID(tid).SetName(name).SetIsDefault(true).AddPermissionIDs(pids...).Save(ctx)
		if err != nil {
			return nil, err
		}
		d.Roles[name] = r.ID
	}
	// The whole catalogue has been offered to these roles (OfferNewPermissions).
	if err := tx.Tenant.UpdateOneID(tid).SetOfferedPermissions(catalogueNames()).Exec(tenancy.Bypass(ctx)); err != nil {
		return nil, err
	}
	pl, err := tx.Pipeline.Create().SetTenantID(tid).SetName(DefaultPipeline).Save(ctx)
	if err != nil {
		return nil, err
	}
	d.Pipeline = pl.ID
	stages := make([]*ent.ConnectionStageCreate, len(DefaultStages))
	for i, name := range DefaultStages {
		stages[i] = tx.ConnectionStage.Create().SetTenantID(tid).SetName(name)
	}
	created, err := tx.ConnectionStage.CreateBulk(stages...).Save(ctx)
	if err != nil {
		return nil, err
	}
	places := make([]*ent.PipelineStageCreate, len(created))
	for i, st := range created {
		d.Stages = append(d.Stages, st.ID)
		places[i] = tx.PipelineStage.Create().SetTenantID(tid).SetPipelineID(pl.ID).SetStageID(st.ID).SetPosition(i)
	}
	if err := tx.PipelineStage.CreateBulk(places...).Exec(ctx); err != nil {
		return nil, err
	}
	statuses := make([]*ent.StatusCreate, len(DefaultStatuses))
	for i, s := range DefaultStatuses {
		statuses[i] = tx.Status.Create().SetTenantID(tid).SetName(s.Name).SetKind(s.Kind).SetPosition(i)
	}
	sts, err := tx.Status.CreateBulk(statuses...).Save(ctx)
	if err != nil {
		return nil, err
	}
	for _, st := range sts {
		d.Statuses[st.Kind] = st.ID
	}
	sources := make([]*ent.SourceCreate, len(DefaultSources))
	for i, name := range DefaultSources {
		sources[i] = tx.Source.Create().SetTenantID(tid).SetName(name)
	}
	srcs, err := tx.Source.CreateBulk(sources...).Save(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range srcs {
		d.Sources = append(d.Sources, s.ID)
	}
	return d, nil
}

// TenantInput is what an operator gives `conecrm tenant create`.
type TenantInput struct {
	Name, Domain, AdminEmail string
	AdminFirstname           string // optional
	AdminLastname            string // optional
	Country                  string // optional, ISO 3166-1 alpha-2 (the phone region)
}

// TenantResult is a created (or, on a repeated call, found) tenant and its
// first administrator.
type TenantResult struct {
	Tenant  *ent.Tenant
	Admin   *ent.User
	Created bool
}

var domainPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$`)

// CreateTenant onboards a customer: the tenant, its defaults
// (CreateTenantDefaults, no demo records) and its first ADMIN user, in one
// transaction with a tenant.created event. It is operator work, not offered
// to API users. It is idempotent on the domain: when a tenant of that
// domain exists, nothing is written and the result names it and its
// administrator with AdminEmail (Created false); a different email that is
// not an active administrator of it is a Conflict.
func (s *Service) CreateTenant(ctx context.Context, in TenantInput) (*TenantResult, error) {
	in.Name, in.Domain = strings.TrimSpace(in.Name), strings.ToLower(strings.TrimSpace(in.Domain))
	in.AdminEmail = strings.ToLower(strings.TrimSpace(in.AdminEmail))
	var v fault.Validation
	checkName(&v, "name", &in.Name, true)
	if !domainPattern.MatchString(in.Domain) || len(in.Domain) > maxNameLength {
		v.Add("domain", "must be a domain name such as example.com")
	}
	if a, err := mail.ParseAddress(in.AdminEmail); err != nil || a.Address != in.AdminEmail || len(in.AdminEmail) > maxNameLength {
		v.Add("adminEmail", "must be an email address")
	}
	country := checkCountry(&v, "country", &in.Country)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := EnsurePermissions(ctx, s.db); err != nil {
		return nil, AsError(err)
	}
	sys := tenancy.Bypass(ctx)
	var res TenantResult
	err := s.inTx(sys, func(tx *ent.Client) error {
		res = TenantResult{} // an attempt run again (inTx) starts from nothing
		t, err := tx.Tenant.Query().Where(tenant.Domain(in.Domain)).Only(sys)
		if err == nil {
			res.Tenant = t
			res.Admin, err = tx.User.Query().Where(user.TenantID(t.ID), user.Email(in.AdminEmail),
				user.UserTypeEQ(user.UserTypeADMIN), user.IsActive(true)).Only(sys)
			if ent.IsNotFound(err) {
				return fault.Errorf(fault.Conflict, "tenant %s already exists and %s is not one of its active administrators", in.Domain, in.AdminEmail)
			}
			return err
		}
		if !ent.IsNotFound(err) {
			return err
		}
		// No customer yet: its phone keys are trivially in its region.
		t, err = tx.Tenant.Create().SetName(in.Name).SetDomain(in.Domain).
			SetCountry(country).SetPhoneKeyRegion(regionOf(country)).Save(sys)
		if err != nil {
			return err
		}
		// The first administrator exists before anything else, so the rest
		// of the tenant is written, audited and announced as theirs.
		admin, err := tx.User.Create().SetTenantID(t.ID).SetEmail(in.AdminEmail).SetUsername(in.AdminEmail).
			SetNillableFirstname(nonEmpty(in.AdminFirstname)).SetNillableLastname(nonEmpty(in.AdminLastname)).
			SetDisplayName(displayName(in.AdminFirstname, in.AdminLastname, in.AdminEmail)).
			SetUserType(user.UserTypeADMIN).Save(sys)
		if err != nil {
			return err
		}
		as := viewer.NewContext(ctx, &viewer.Viewer{UserID: admin.ID, TenantID: t.ID, Type: viewer.TypeAdmin})
		d, err := CreateTenantDefaults(as, tx, t.ID)
		if err != nil {
			return err
		}
		if err := tx.User.UpdateOne(admin).AddRoleIDs(d.Roles["Administrator"]).Exec(as); err != nil {
			return err
		}
		if err := tx.UserSettings.Create().SetUserID(admin.ID).Exec(as); err != nil {
			return err
		}
		res = TenantResult{Tenant: t, Admin: admin, Created: true}
		return s.emitChange(as, tx, RecordTenant, "created", t.ID, nil,
			fields{"name": t.Name, "domain": t.Domain, "country": nonEmpty(t.Country), "adminId": admin.ID.String()})
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

func nonEmpty(s string) *string {
	if s = strings.TrimSpace(s); s == "" {
		return nil
	}
	return &s
}

// displayName is "First Last", or the email when neither is given.
func displayName(first, last, email string) string {
	if n := strings.TrimSpace(strings.TrimSpace(first) + " " + strings.TrimSpace(last)); n != "" {
		return n
	}
	return email
}
