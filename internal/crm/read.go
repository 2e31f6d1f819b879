package crm

import (
	"context"
	"sort"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/ent/appointment"
	"github.com/conecrm/gateway/ent/automation"
	"github.com/conecrm/gateway/ent/automationrun"
	"github.com/conecrm/gateway/ent/automationrunstep"
	"github.com/conecrm/gateway/ent/connectionstage"
	"github.com/conecrm/gateway/ent/connectionthirdpartyid"
	"github.com/conecrm/gateway/ent/contact"
	"github.com/conecrm/gateway/ent/creditassessment"
	"github.com/conecrm/gateway/ent/customerthirdpartyid"
	"github.com/conecrm/gateway/ent/customfield"
	"github.com/conecrm/gateway/ent/customfieldvalue"
	"github.com/conecrm/gateway/ent/customlabel"
	"github.com/conecrm/gateway/ent/department"
	"github.com/conecrm/gateway/ent/followup"
	"github.com/conecrm/gateway/ent/franchise"
	"github.com/conecrm/gateway/ent/incentive"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/leadpackage"
	"github.com/conecrm/gateway/ent/leadproduct"
	"github.com/conecrm/gateway/ent/outboundmessage"
	"github.com/conecrm/gateway/ent/packageprice"
	"github.com/conecrm/gateway/ent/permission"
	"github.com/conecrm/gateway/ent/pipeline"
	"github.com/conecrm/gateway/ent/pipelinestage"
	"github.com/conecrm/gateway/ent/product"
	"github.com/conecrm/gateway/ent/productgroup"
	"github.com/conecrm/gateway/ent/productthirdpartyid"
	"github.com/conecrm/gateway/ent/role"
	"github.com/conecrm/gateway/ent/savedfilter"
	"github.com/conecrm/gateway/ent/schema"
	"github.com/conecrm/gateway/ent/securitygroup"
	"github.com/conecrm/gateway/ent/source"
	"github.com/conecrm/gateway/ent/status"
	"github.com/conecrm/gateway/ent/survey"
	"github.com/conecrm/gateway/ent/task"
	"github.com/conecrm/gateway/ent/tenant"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/ent/usersettings"
	"github.com/conecrm/gateway/ent/userthirdpartyid"
	"github.com/conecrm/gateway/internal/viewer"
)

// readPermission is the permission that lets a viewer read the rows of a
// table directly (a root list or a lookup by id). Rows that belong to a
// parent (a lead's products, a customer's third-party ids…) are read with
// the parent's permission.
var readPermission = map[string]string{
	account.Table:                PermAccountRead,
	customerthirdpartyid.Table:   PermAccountRead,
	contact.Table:                PermContactRead,
	lead.Table:                   PermLeadRead,
	connectionthirdpartyid.Table: PermLeadRead,
	leadproduct.Table:            PermLeadRead,
	creditassessment.Table:       PermLeadRead,
	incentive.Table:              PermLeadRead,
	leadpackage.Table:            PermLeadRead,
	packageprice.Table:           PermLeadRead,
	survey.Table:                 PermLeadRead,
	task.Table:                   PermTaskRead,
	appointment.Table:            PermEventRead,
	followup.Table:               PermEventRead,
	connectionstage.Table:        PermStageRead,
	pipelinestage.Table:          PermStageRead,
	automation.Table:             PermAutomationRead,
	automationrun.Table:          PermAutomationRead,
	automationrunstep.Table:      PermAutomationRead,
	outboundmessage.Table:        PermAutomationRead,
	customfield.Table:            PermCustomFieldRead,
	customfieldvalue.Table:       PermCustomFieldRead,
	customlabel.Table:            PermCustomLabelRead,
	savedfilter.Table:            PermSavedFilterRead,
	product.Table:                PermProductRead,
	productgroup.Table:           PermProductRead,
	productthirdpartyid.Table:    PermProductRead,
	user.Table:                   PermUserRead,
	userthirdpartyid.Table:       PermUserRead,
	usersettings.Table:           PermUserRead,
	securitygroup.Table:          PermUserRead,
	role.Table:                   PermUserRead,
	permission.Table:             PermUserRead,
	franchise.Table:              PermSettingsRead,
	department.Table:             PermSettingsRead,
	pipeline.Table:               PermSettingsRead,
	status.Table:                 PermSettingsRead,
	source.Table:                 PermSettingsRead,
}

// RequireRead returns Forbidden unless the viewer may read rows of table
// directly. A table outside the catalogue is readable by nobody.
func RequireRead(ctx context.Context, table string) error {
	p, ok := readPermission[table]
	if !ok {
		return &Error{Code: Forbidden, Message: "Access denied"}
	}
	return Require(ctx, p)
}

// CheckLookup vets a lookup of a record by id alone (GraphQL node/nodes):
// the id's type says its table, which the viewer must be allowed to read.
// An id of no known type, or of another tenant (the tenants table is not
// tenant-scoped, so that is checked here), is NotFound, exactly like an id
// that exists nowhere; rows of other tenants are hidden by the data layer.
func CheckLookup(ctx context.Context, id uuid.UUID) (table string, err error) {
	table = schema.TableOf(id)
	switch {
	case table == "":
		return "", &Error{Code: NotFound, Message: "not found"}
	case table == tenant.Table:
		if v := viewer.FromContext(ctx); v == nil || v.TenantID != id {
			return "", &Error{Code: NotFound, Message: "not found"}
		}
		return table, nil
	}
	return table, RequireRead(ctx, table)
}

// Permissions returns the names of the permissions v holds, sorted: ADMIN
// users hold the whole catalogue.
func Permissions(v *viewer.Viewer) []string {
	var names []string
	for _, p := range Catalogue {
		if v.Can(p.Name) {
			names = append(names, p.Name)
		}
	}
	sort.Strings(names)
	return names
}
