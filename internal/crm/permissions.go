package crm

import "github.com/conecrm/gateway/internal/registry"

// Permission names, the catalogue seeded into the permissions table. The
// read permissions are the entity registry's (internal/registry).
// Roles hold permissions, users hold roles; ADMIN users hold them all.
const (
	PermAccountRead       = registry.PermAccountRead
	PermAccountWrite      = "account.write"
	PermAccountDelete     = "account.delete"
	PermContactRead       = registry.PermContactRead
	PermContactWrite      = "contact.write"
	PermContactDelete     = "contact.delete"
	PermLeadRead          = registry.PermLeadRead
	PermLeadCreate        = "lead.create"
	PermLeadCopy          = "lead.copy"
	PermLeadWrite         = "lead.write"
	PermLeadDelete        = "lead.delete"
	PermTaskRead          = registry.PermTaskRead
	PermTaskWrite         = "task.write"
	PermTaskDelete        = "task.delete"
	PermEventRead         = registry.PermEventRead
	PermEventWrite        = "event.write"
	PermEventDelete       = "event.delete"
	PermStageRead         = registry.PermStageRead
	PermStageManage       = "stage.manage"
	PermAutomationRead    = registry.PermAutomationRead
	PermAutomationManage  = "automation.manage"
	PermCustomFieldRead   = registry.PermCustomFieldRead
	PermCustomFieldManage = "custom_field.manage"
	PermCustomLabelRead   = registry.PermCustomLabelRead
	PermCustomLabelManage = "custom_label.manage"
	PermSavedFilterRead   = registry.PermSavedFilterRead
	PermSavedFilterWrite  = "saved_filter.write"
	PermProductRead       = registry.PermProductRead
	PermUserRead          = registry.PermUserRead
	PermSettingsRead      = registry.PermSettingsRead
	PermUserManage        = "user.manage"
	PermSettingsManage    = "settings.manage"
	PermProductManage     = "product.manage"
	PermAPIKeyManage      = registry.PermAPIKeyManage
	PermWebhookManage     = registry.PermWebhookManage
	PermNoteRead          = registry.PermNoteRead
	PermNoteWrite         = "note.write"
)

// Catalogue describes every permission; it is seeded and documented.
var Catalogue = []struct{ Name, Description string }{
	{PermAccountRead, "List and view accounts"},
	{PermAccountWrite, "Create and update accounts"},
	{PermAccountDelete, "Delete accounts"},
	{PermContactRead, "List, search and view contacts"},
	{PermContactWrite, "Create and update contacts"},
	{PermContactDelete, "Delete contacts"},
	{PermLeadRead, "List and view leads"},
	{PermLeadCreate, "Create leads"},
	{PermLeadCopy, "Copy a lead to another contact"},
	{PermLeadWrite, "Update leads"},
	{PermLeadDelete, "Delete leads"},
	{PermTaskRead, "List and view tasks"},
	{PermTaskWrite, "Create tasks; update tasks assigned to or created by oneself (any task for MANAGER)"},
	{PermTaskDelete, "Delete tasks assigned to or created by oneself (any task for MANAGER)"},
	{PermEventRead, "List and view appointments and follow-ups"},
	{PermEventWrite, "Create appointments and follow-ups; update and complete those assigned to or created by oneself (any for MANAGER)"},
	{PermEventDelete, "Delete appointments and follow-ups assigned to or created by oneself (any for MANAGER)"},
	{PermStageRead, "List and view connection stages"},
	{PermStageManage, "Create, update and delete connection stages"},
	{PermAutomationRead, "List and view automations"},
	{PermAutomationManage, "Create, update, duplicate and delete automations"},
	{PermCustomFieldRead, "List custom fields"},
	{PermCustomFieldManage, "Create, update and delete custom fields"},
	{PermCustomLabelRead, "List custom labels"},
	{PermCustomLabelManage, "Create, update and delete custom labels"},
	{PermSavedFilterRead, "List and view saved filters (own and shared)"},
	{PermSavedFilterWrite, "Create saved filters; update and delete one's own"},
	{PermProductRead, "List and view products"},
	{PermUserRead, "List users, security groups and organisation data"},
	{PermSettingsRead, "Read franchises, departments, pipelines, statuses and sources"},
	{PermUserManage, "Create, update, deactivate, reactivate and delete users; manage roles and security groups"},
	{PermSettingsManage, "Create, update, deactivate and delete franchises, departments, sources and statuses; change the tenant's name and country"},
	{PermProductManage, "Create, update, deactivate and delete products and product groups"},
	{PermAPIKeyManage, "List, create and revoke API keys of the tenant's users"},
	{PermWebhookManage, "Create, update and delete webhook endpoints; read their delivery attempts"},
	{PermNoteRead, "List and view the notes on leads"},
	{PermNoteWrite, "Write notes on leads; edit and delete one's own (any note for MANAGER)"},
}

// DefaultRoles are the roles each new tenant gets, by the user type they are
// given to. ADMIN users hold every permission whatever their roles say.
var DefaultRoles = map[string][]string{
	"Administrator": nil, // all permissions
	"Manager": {
		PermAccountRead, PermAccountWrite, PermAccountDelete, PermContactRead, PermContactWrite,
		PermContactDelete, PermLeadRead, PermLeadCreate, PermLeadCopy, PermLeadWrite, PermLeadDelete, PermTaskRead, PermTaskWrite,
		PermTaskDelete, PermEventRead, PermEventWrite, PermEventDelete, PermStageRead, PermStageManage, PermAutomationRead,
		PermAutomationManage, PermCustomFieldRead, PermCustomFieldManage, PermCustomLabelRead,
		PermCustomLabelManage, PermSavedFilterRead, PermSavedFilterWrite, PermProductRead,
		PermUserRead, PermSettingsRead, PermNoteRead, PermNoteWrite,
	},
	"User": {
		PermAccountRead, PermAccountWrite, PermContactRead, PermContactWrite, PermLeadRead,
		PermLeadCreate, PermLeadCopy, PermTaskRead, PermTaskWrite, PermTaskDelete, PermEventRead,
		PermEventWrite, PermEventDelete, PermStageRead, PermAutomationRead, PermCustomFieldRead, PermCustomLabelRead,
		PermSavedFilterRead, PermSavedFilterWrite, PermProductRead, PermUserRead, PermSettingsRead,
		PermNoteRead, PermNoteWrite,
	},
}

// RoleForUserType names the default role a user of that type is given.
var RoleForUserType = map[string]string{"ADMIN": "Administrator", "MANAGER": "Manager", "USER": "User"}
