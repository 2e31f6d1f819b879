package graph

import (
	"errors"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/conecrm/gateway/ent/task"
	"github.com/conecrm/gateway/graph/model"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
)

// The mutation inputs are the REST bodies' fields under GraphQL names; these
// functions only translate them to the crm services' inputs.

func customerFields(primaryEmail, secondaryEmail, homePhone, workPhone, workPhoneExtension, mobilePhone,
	address, city, province, postalCode, country, language *string, isActive *bool) crm.CustomerFields {
	return crm.CustomerFields{
		PrimaryEmail: primaryEmail, SecondaryEmail: secondaryEmail, HomePhone: homePhone, WorkPhone: workPhone,
		WorkPhoneExtension: workPhoneExtension, MobilePhone: mobilePhone, Address: address, City: city,
		Province: province, PostalCode: postalCode, Country: country, Language: language, IsActive: isActive,
	}
}

func contactInput(in *model.AccountContactInput) crm.ContactInput {
	out := crm.ContactInput{
		ID: in.ID,
		CustomerFields: customerFields(in.PrimaryEmail, in.SecondaryEmail, in.HomePhone, in.WorkPhone,
			in.WorkPhoneExtension, in.MobilePhone, in.Address, in.City, in.Province, in.PostalCode, in.Country,
			in.Language, in.IsActive),
		FirstName: in.FirstName, LastName: in.LastName, CompanyName: in.CompanyName, Civility: in.Civility,
		PreferredMethodOfContact: in.PreferredMethodOfContact,
	}
	out.ThirdPartyIDs = thirdPartyIDs(in.ThirdPartyIds)
	return out
}

// thirdPartyIDs converts a thirdPartyIds input; nil (not sent) stays nil.
func thirdPartyIDs(in []*model.ThirdPartyIDInput) *[]crm.ThirdPartyIDInput {
	if in == nil {
		return nil
	}
	out := make([]crm.ThirdPartyIDInput, len(in))
	for i, t := range in {
		out[i] = crm.ThirdPartyIDInput{SystemName: t.SystemName, ThirdPartyID: t.ThirdPartyID, Metadata: t.Metadata}
	}
	return &out
}

func accountInput(in model.AccountInput) crm.AccountInput {
	out := crm.AccountInput{
		Name: in.Name,
		CustomerFields: customerFields(in.PrimaryEmail, in.SecondaryEmail, in.HomePhone, in.WorkPhone,
			in.WorkPhoneExtension, in.MobilePhone, in.Address, in.City, in.Province, in.PostalCode, in.Country,
			in.Language, in.IsActive),
	}
	if pc, set := in.PrimaryContact.ValueOK(); set {
		out.PrimaryContactSet = true
		if pc != nil {
			c := contactInput(pc)
			out.PrimaryContact = &c
		}
	}
	out.CustomFieldValues = customFieldValues(in.CustomFieldValues)
	out.ThirdPartyIDs = thirdPartyIDs(in.ThirdPartyIds)
	if in.Contacts != nil {
		cs := make([]crm.ContactInput, len(in.Contacts))
		for i, c := range in.Contacts {
			cs[i] = contactInput(c)
		}
		out.Contacts = &cs
	}
	return out
}

func leadInput(in model.LeadInput) crm.LeadInput {
	out := crm.LeadInput{
		Subject: &in.Subject, DepartmentID: &in.DepartmentID, ContactID: &in.ContactID, AccountID: in.AccountID,
		SourceID: &in.SourceID, FranchiseID: &in.FranchiseID, MakeStr: in.MakeStr, ModelStr: in.ModelStr,
		YearStr: in.YearStr, TrimStr: in.TrimStr, Description: in.Description, Category: in.Category,
		UTMCampaign: in.UtmCampaign, UTMSource: in.UtmSource, LeadHandlingInstructions: in.LeadHandlingInstructions,
		CustomerInitiated: in.CustomerInitiated, AssigneeIDs: in.AssigneeIDs,
	}
	for _, v := range in.CustomFieldValues {
		out.CustomFieldValues = append(out.CustomFieldValues, crm.CustomFieldValueInput{FieldID: v.FieldID, Value: v.Value})
	}
	return out
}

func copyLeadInput(in model.CopyLeadInput) crm.CopyLeadInput {
	return crm.CopyLeadInput{ContactID: &in.ContactID, AccountID: in.AccountID, Subject: in.Subject,
		DepartmentID: in.DepartmentID, FranchiseID: in.FranchiseID}
}

// opt translates an omittable GraphQL field (absent, null or a value) into
// the services' optional update field.
func opt[T, U any](o graphql.Omittable[*T], conv func(T) U) crm.Opt[U] {
	v, set := o.ValueOK()
	if !set || v == nil {
		return crm.Opt[U]{Set: set}
	}
	u := conv(*v)
	return crm.Opt[U]{Set: true, Value: &u}
}

func same[T any](v T) T { return v }

func taskInput(in model.TaskInput) crm.TaskInput {
	return crm.TaskInput{
		Title: in.Title, AssigneeID: in.AssigneeID, TaskDone: in.TaskDone,
		Type:         opt(in.Type, func(t task.Type) string { return string(t) }),
		Start:        opt(in.Start, same),
		End:          opt(in.End, same),
		Note:         opt(in.Note, same),
		ContactID:    opt(in.ContactID, same),
		AccountID:    opt(in.AccountID, same),
		ConnectionID: opt(in.ConnectionID, same),

		CustomFieldValues: customFieldValues(in.CustomFieldValues),
	}
}

func customFieldValues(in []*model.CustomFieldValueInput) []crm.CustomFieldValueInput {
	var out []crm.CustomFieldValueInput
	for _, v := range in {
		out = append(out, crm.CustomFieldValueInput{FieldID: v.FieldID, Value: v.Value})
	}
	return out
}

func customFieldInput(in model.CustomFieldInput) crm.CustomFieldInput {
	out := crm.CustomFieldInput{FieldName: in.FieldName, Options: in.Options}
	if in.Entity != nil {
		e := in.Entity.String()
		out.Entity = &e
	}
	if in.FieldType != nil {
		t := in.FieldType.String()
		out.FieldType = &t
	}
	return out
}

func automationInput(in model.AutomationInput) crm.AutomationInput {
	franchise, set := in.FranchiseID.ValueOK()
	return crm.AutomationInput{Name: in.Name, Trigger: in.AutomationTrigger, Nodes: in.Nodes, Edges: in.Edges,
		Franchise: franchise, FranchiseSet: set}
}

func savedFilterInput(in model.SavedFilterInput) crm.SavedFilterInput {
	return crm.SavedFilterInput{Name: in.Name, Module: in.Module, Value: in.Value, Private: in.Private}
}

// inputError names the fields of an Invalid error by their path in the
// mutation's input argument: the services name them as the REST bodies do
// ("contact", "assignees[0].id"), renames maps those whose GraphQL name
// differs to it ("contact" → "contactID"), and every path gets the
// "input." prefix. Other errors pass unchanged.
func inputError(err error, renames map[string]string) error {
	return argError(err, "input", renames)
}

// argError is inputError for the argument arg.
func argError(err error, arg string, renames map[string]string) error {
	var e *fault.Error
	if !errors.As(err, &e) || e.Code != fault.Invalid || len(e.Fields) == 0 {
		return err
	}
	out := *e
	out.Fields = make(map[string][]string, len(e.Fields))
	for name, msgs := range e.Fields {
		name = rename(name, renames)
		// ThirdPartyIDInput spells it as the ent types do.
		name = strings.ReplaceAll(name, ".thirdPartyId", ".thirdPartyID")
		out.Fields[arg+"."+name] = msgs
	}
	parts := make([]string, 0, len(out.Fields))
	for _, name := range out.FieldNames() {
		parts = append(parts, name+": "+strings.Join(out.Fields[name], ", "))
	}
	out.Message = strings.Join(parts, "; ")
	return &out
}

// rename replaces the leading segment of a field path (up to "." or "[")
// when renames has it.
func rename(path string, renames map[string]string) string {
	head, rest := path, ""
	if i := strings.IndexAny(path, ".["); i >= 0 {
		head, rest = path[:i], path[i:]
	}
	if to, ok := renames[head]; ok {
		return to + strings.TrimSuffix(rest, ".id") // the GraphQL inputs take ids, not {id} objects
	}
	return path
}

// Renames of the REST field names the services report.
var (
	leadFields = map[string]string{"contact": "contactID", "account": "accountID", "department": "departmentID",
		"franchise": "franchiseID", "source": "sourceID", "assignees": "assigneeIDs"}
	taskFields       = map[string]string{"assignee": "assigneeID", "contact": "contactID", "account": "accountID", "connection": "connectionID"}
	automationFields = map[string]string{"franchise": "franchiseID", "trigger": "automationTrigger"}
)

func appointmentInput(in model.AppointmentInput) crm.AppointmentInput {
	return crm.AppointmentInput{
		EventInput: followUpInput(model.FollowUpInput{
			Title: in.Title, AssigneeID: in.AssigneeID, Start: in.Start, End: in.End, Note: in.Note,
			ContactID: in.ContactID, AccountID: in.AccountID, ConnectionID: in.ConnectionID, TaskDone: in.TaskDone,
			CustomFieldValues: in.CustomFieldValues,
		}),
		Type: opt(in.Type, same), NoShow: in.NoShow, CustomerConfirmed: in.CustomerConfirmed,
		Canceled: in.Canceled, URL: opt(in.URL, same),
	}
}

func followUpInput(in model.FollowUpInput) crm.EventInput {
	return crm.EventInput{
		Title: in.Title, AssigneeID: in.AssigneeID, TaskDone: in.TaskDone,
		Start: opt(in.Start, same), End: opt(in.End, same), Note: opt(in.Note, same),
		ContactID: opt(in.ContactID, same), AccountID: opt(in.AccountID, same),
		ConnectionID:      opt(in.ConnectionID, same),
		CustomFieldValues: customFieldValues(in.CustomFieldValues),
	}
}
