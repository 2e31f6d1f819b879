package querybuilder

import (
	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/ent/connectionstage"
	"github.com/conecrm/gateway/ent/contact"
	"github.com/conecrm/gateway/ent/department"
	"github.com/conecrm/gateway/ent/franchise"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/securitygroup"
	"github.com/conecrm/gateway/ent/source"
	"github.com/conecrm/gateway/ent/status"
	"github.com/conecrm/gateway/ent/task"
	"github.com/conecrm/gateway/ent/user"
)

// fieldsOf are the built-in fields of each filterable entity of the
// registry (internal/registry, whose Filter names them), named as the REST
// layer names them. The registry says which entities are filterable, their
// tables and read permissions; TestEveryFilterableEntityHasFields keeps the
// two in step.
var fieldsOf = map[string]func() []Field{
	"account": accountFields,
	"contact": contactFields,
	"lead":    leadFields,
	"task": func() []Field {
		return eventFields(enum("type", task.FieldType, true, "CALL", "MEETING", "OTHER", "SMS", "FOLLOW_UP", "REMINDER", "LINKEDIN_MESSAGE", "DM"))
	},
	"appointment": func() []Field {
		return eventFields(str("type", "type"), flag("noShow", "no_show"), flag("customerConfirmed", "customer_confirmed"),
			flag("canceled", "canceled"), optStr("url", "url"))
	},
	"followup": func() []Field { return eventFields(flag("fromAutomation", "from_automation")) },
}

// Related tables and the column a rule on the relation itself compares
// (besides the id): "stage = New" compares the stage's name.
var (
	stages      = target{connectionstage.Table, connectionstage.FieldName}
	statuses    = target{status.Table, status.FieldName}
	sources     = target{source.Table, source.FieldName}
	franchises  = target{franchise.Table, franchise.FieldName}
	departments = target{department.Table, department.FieldName}
	users       = target{user.Table, user.FieldEmail}
	groups      = target{securitygroup.Table, securitygroup.FieldName}
	contacts    = target{contact.Table, contact.FieldLastName}
	accounts    = target{account.Table, account.FieldName}
	leads       = target{lead.Table, lead.FieldSubject}
)

func recordFields() []Field {
	return []Field{instant("dateCreated", "date_created"), optInstant("dateModified", "date_modified")}
}

// customerFields are the BaseCustomer fields shared by accounts and contacts.
func customerFields() []Field {
	return []Field{
		optStr("primaryEmail", account.FieldPrimaryEmail), optStr("secondaryEmail", account.FieldSecondaryEmail),
		optStr("homePhone", account.FieldHomePhone), optStr("workPhone", account.FieldWorkPhone),
		optStr("workPhoneExtension", account.FieldWorkPhoneExtension), optStr("mobilePhone", account.FieldMobilePhone),
		optStr("address", account.FieldAddress), optStr("city", account.FieldCity),
		optStr("province", account.FieldProvince), optStr("postalCode", account.FieldPostalCode),
		optStr("country", account.FieldCountry), optStr("language", account.FieldLanguage),
		flag("isActive", account.FieldIsActive),
	}
}

func accountFields() []Field {
	members := &join{account.ContactsTable, account.ContactsPrimaryKey[0], account.ContactsPrimaryKey[1]}
	fs := []Field{str("name", account.FieldName)}
	fs = append(fs, customerFields()...)
	fs = append(fs, recordFields()...)
	return append(fs,
		ref("primaryContact", account.FieldPrimaryContactID, contacts),
		toOne("primaryContact.firstName", TypeString, account.FieldPrimaryContactID, target{contact.Table, contact.FieldFirstName}),
		toOne("primaryContact.lastName", TypeString, account.FieldPrimaryContactID, target{contact.Table, contact.FieldLastName}),
		toOne("primaryContact.primaryEmail", TypeString, account.FieldPrimaryContactID, target{contact.Table, contact.FieldPrimaryEmail}),
		toMany("contacts", members, contacts, true),
		toMany("contacts.firstName", members, target{contact.Table, contact.FieldFirstName}, false),
		toMany("contacts.primaryEmail", members, target{contact.Table, contact.FieldPrimaryEmail}, false),
	)
}

func contactFields() []Field {
	memberships := &join{account.ContactsTable, account.ContactsPrimaryKey[1], account.ContactsPrimaryKey[0]}
	fs := []Field{
		str("firstName", contact.FieldFirstName), str("lastName", contact.FieldLastName),
		optStr("companyName", contact.FieldCompanyName), optStr("civility", contact.FieldCivility),
		optStr("preferredMethodOfContact", contact.FieldPreferredMethodOfContact),
	}
	fs = append(fs, customerFields()...)
	fs = append(fs, recordFields()...)
	return append(fs, toMany("accounts", memberships, accounts, true))
}

func leadFields() []Field {
	assignees := &join{lead.AssigneesTable, lead.AssigneesPrimaryKey[0], lead.AssigneesPrimaryKey[1]}
	fs := []Field{
		str("subject", lead.FieldSubject), optStr("description", lead.FieldDescription),
		str("direction", lead.FieldDirection), flag("isQualified", lead.FieldIsQualified),
		optInstant("dueDate", lead.FieldDueDate), optNum("priority", lead.FieldPriority),
		optStr("category", lead.FieldCategory), optNum("automationDay", lead.FieldAutomationDay),
		num("visitCount", lead.FieldVisitCount), num("presaleVisitCount", lead.FieldPresaleVisitCount),
		num("postsaleVisitCount", lead.FieldPostsaleVisitCount),
		flag("isTakeOver", lead.FieldIsTakeOver), optInstant("takeOverDate", lead.FieldTakeOverDate),
		flag("isWalkAroundDone", lead.FieldIsWalkAroundDone), optInstant("walkAroundDate", lead.FieldWalkAroundDate),
		optFlag("offerMade", lead.FieldOfferMade), optInstant("offerMadeDate", lead.FieldOfferMadeDate),
		optInstant("soldDate", lead.FieldSoldDate), flag("customerInitiated", lead.FieldCustomerInitiated),
		optFlag("inTransit", lead.FieldInTransit), optFlag("cpo", lead.FieldCpo), optFlag("demo", lead.FieldDemo),
		optStr("formName", lead.FieldFormName), optStr("leadHandlingInstructions", lead.FieldLeadHandlingInstructions),
		optInstant("connectionClosedDate", lead.FieldConnectionClosedDate),
		optInstant("expectedDeliveryDate", lead.FieldExpectedDeliveryDate),
		optFlag("isLostApproved", lead.FieldIsLostApproved), optInstant("lostDate", lead.FieldLostDate),
		optInstant("firstOpenDate", lead.FieldFirstOpenDate),
		optFlag("testDriveDone", lead.FieldTestDriveDone), optInstant("testDriveDate", lead.FieldTestDriveDate),
		optFlag("orderPlaced", lead.FieldOrderPlaced), optInstant("orderDate", lead.FieldOrderDate),
		optFlag("tradeInAppraisalDone", lead.FieldTradeInAppraisalDone),
		optInstant("tradeInAppraisalDate", lead.FieldTradeInAppraisalDate),
		optFlag("creditApplicationSubmitted", lead.FieldCreditApplicationSubmitted),
		optInstant("creditApplicationSubmittedDate", lead.FieldCreditApplicationSubmittedDate),
		optStr("makeStr", lead.FieldMakeStr), optStr("modelStr", lead.FieldModelStr),
		optStr("yearStr", lead.FieldYearStr), optStr("trimStr", lead.FieldTrimStr),
		optStr("utmCampaign", lead.FieldUtmCampaign), optStr("utmSource", lead.FieldUtmSource),
	}
	fs = append(fs, recordFields()...)
	return append(fs,
		ref("stage", lead.FieldStageID, stages),
		ref("status", lead.FieldStatusID, statuses),
		toOne("status.kind", TypeEnum, lead.FieldStatusID, target{status.Table, status.FieldKind}, "OPEN", "CLOSED", "LOST", "SOLD"),
		ref("source", lead.FieldSourceID, sources),
		ref("franchise", lead.FieldFranchiseID, franchises),
		toOne("franchise.code", TypeString, lead.FieldFranchiseID, target{franchise.Table, franchise.FieldCode}),
		ref("department", lead.FieldDepartmentID, departments),
		ref("contact", lead.FieldContactID, contacts),
		toOne("contact.firstName", TypeString, lead.FieldContactID, target{contact.Table, contact.FieldFirstName}),
		toOne("contact.lastName", TypeString, lead.FieldContactID, target{contact.Table, contact.FieldLastName}),
		toOne("contact.primaryEmail", TypeString, lead.FieldContactID, target{contact.Table, contact.FieldPrimaryEmail}),
		toOne("contact.mobilePhone", TypeString, lead.FieldContactID, target{contact.Table, contact.FieldMobilePhone}),
		toOne("contact.city", TypeString, lead.FieldContactID, target{contact.Table, contact.FieldCity}),
		ref("account", lead.FieldAccountID, accounts),
		toOne("account.name", TypeString, lead.FieldAccountID, accounts),
		ref("soldBy", lead.FieldSoldByID, users),
		toMany("assignees", assignees, users, true),
	)
}

// eventFields are the EventBase fields of tasks, appointments and
// follow-ups (their tables share the column names), then extra.
func eventFields(extra ...Field) []Field {
	fs := []Field{
		str("title", task.FieldTitle), str("note", task.FieldNote),
		optInstant("start", task.FieldStart), optInstant("end", task.FieldEnd),
		flag("taskDone", task.FieldTaskDone), flag("notified", task.FieldNotified), optFlag("edited", task.FieldEdited),
	}
	fs = append(fs, extra...)
	fs = append(fs, recordFields()...)
	return append(fs,
		// The assignee is a security object: a user (by email) or a group (by name).
		ref("assignee", task.FieldAssigneeID, users, groups),
		ref("connection", task.FieldConnectionID, leads),
		toOne("connection.subject", TypeString, task.FieldConnectionID, leads),
		ref("contact", task.FieldContactID, contacts),
		toOne("contact.lastName", TypeString, task.FieldContactID, target{contact.Table, contact.FieldLastName}),
		ref("account", task.FieldAccountID, accounts),
		toOne("account.name", TypeString, task.FieldAccountID, accounts),
	)
}

func own(t Type, name, column string, nullable bool) Field {
	return Field{Name: name, Label: labelOf(name), Type: t, src: location{kind: kindOwn, column: column, nullable: nullable, whole: t == TypeNumber}}
}

func str(name, column string) Field        { return own(TypeString, name, column, false) }
func optStr(name, column string) Field     { return own(TypeString, name, column, true) }
func num(name, column string) Field        { return own(TypeNumber, name, column, false) }
func optNum(name, column string) Field     { return own(TypeNumber, name, column, true) }
func flag(name, column string) Field       { return own(TypeBoolean, name, column, false) }
func optFlag(name, column string) Field    { return own(TypeBoolean, name, column, true) }
func instant(name, column string) Field    { return own(TypeDateTime, name, column, false) }
func optInstant(name, column string) Field { return own(TypeDateTime, name, column, true) }

func enum(name, column string, nullable bool, values ...string) Field {
	f := own(TypeEnum, name, column, nullable)
	f.Values = values
	return f
}

// ref is a to-one relation compared by the related row's id or by its
// target column (a name, an email…).
func ref(name, fk string, targets ...target) Field {
	return Field{Name: name, Label: labelOf(name), Type: TypeString,
		src: location{kind: kindToOne, fk: fk, targets: targets, byID: true}}
}

// toOne is a column of the row a foreign key names.
func toOne(name string, t Type, fk string, tg target, values ...string) Field {
	return Field{Name: name, Label: labelOf(name), Type: t, Values: values,
		src: location{kind: kindToOne, fk: fk, targets: []target{tg}}}
}

// toMany is a column of rows linked through a join table: a rule matches
// when any linked row satisfies it.
func toMany(name string, j *join, tg target, byID bool) Field {
	return Field{Name: name, Label: labelOf(name), Type: TypeString,
		src: location{kind: kindToMany, join: j, targets: []target{tg}, byID: byID}}
}
