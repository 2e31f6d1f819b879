package graph

import (
	"errors"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/conecrm/gateway/graph/model"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
)

// omits collects the omittable fields of an input that were sent, by API
// name, as the services' optional fields.
func omits[T any](fields map[string]graphql.Omittable[*T]) map[string]crm.Opt[T] {
	out := map[string]crm.Opt[T]{}
	for name, o := range fields {
		if v, set := o.ValueOK(); set {
			out[name] = crm.Opt[T]{Set: true, Value: v}
		}
	}
	return out
}

func updateLeadInput(in model.UpdateLeadInput) crm.LeadUpdateInput {
	out := crm.LeadUpdateInput{
		Subject: in.Subject, StatusID: in.StatusID, StageID: in.StageID, SourceID: in.SourceID,
		ContactID: in.ContactID, DepartmentID: in.DepartmentID, FranchiseID: in.FranchiseID,
		AccountID: opt(in.AccountID, same), SoldByID: in.SoldByID, LostByID: in.LostByID,
		IsLostApproved: in.IsLostApproved, IsQualified: in.IsQualified, CustomerInitiated: in.CustomerInitiated,
		Direction: in.Direction, Priority: opt(in.Priority, same),
		Texts: omits(map[string]graphql.Omittable[*string]{
			"description": in.Description, "category": in.Category, "formName": in.FormName,
			"makeStr": in.MakeStr, "modelStr": in.ModelStr, "yearStr": in.YearStr, "trimStr": in.TrimStr,
			"utmCampaign": in.UtmCampaign, "utmSource": in.UtmSource, "leadHandlingInstructions": in.LeadHandlingInstructions,
		}),
		Times: omits(map[string]graphql.Omittable[*time.Time]{
			"dueDate": in.DueDate, "expectedDeliveryDate": in.ExpectedDeliveryDate, "testDriveDate": in.TestDriveDate,
			"orderDate": in.OrderDate, "tradeInAppraisalDate": in.TradeInAppraisalDate,
			"creditApplicationSubmittedDate": in.CreditApplicationSubmittedDate, "offerMadeDate": in.OfferMadeDate,
			"walkAroundDate": in.WalkAroundDate, "takeOverDate": in.TakeOverDate,
		}),
		Flags: omits(map[string]graphql.Omittable[*bool]{
			"testDriveDone": in.TestDriveDone, "orderPlaced": in.OrderPlaced, "tradeInAppraisalDone": in.TradeInAppraisalDone,
			"creditApplicationSubmitted": in.CreditApplicationSubmitted, "offerMade": in.OfferMade,
			"isWalkAroundDone": in.IsWalkAroundDone, "isTakeOver": in.IsTakeOver,
			"inTransit": in.InTransit, "cpo": in.Cpo, "demo": in.Demo,
		}),
	}
	for _, v := range in.CustomFieldValues {
		out.CustomFieldValues = append(out.CustomFieldValues, crm.CustomFieldValueInput{FieldID: v.FieldID, Value: v.Value})
	}
	out.ThirdPartyIDs = thirdPartyIDs(in.ThirdPartyIds)
	return out
}

// updateLeadFields renames the services' field names to the input's.
var updateLeadFields = map[string]string{
	"contact": "contactID", "account": "accountID", "department": "departmentID", "franchise": "franchiseID",
	"source": "sourceID", "status": "statusID", "stage": "stageID", "soldBy": "soldByID", "lostBy": "lostByID",
}

// argsError names the fields of an Invalid error by the mutation's
// argument names (renames: service field → argument); other errors pass.
func argsError(err error, renames map[string]string) error {
	var e *fault.Error
	if !errors.As(err, &e) || e.Code != fault.Invalid || len(e.Fields) == 0 {
		return err
	}
	out := *e
	out.Fields = make(map[string][]string, len(e.Fields))
	for name, msgs := range e.Fields {
		out.Fields[rename(name, renames)] = msgs
	}
	parts := make([]string, 0, len(out.Fields))
	for _, name := range out.FieldNames() {
		parts = append(parts, name+": "+strings.Join(out.Fields[name], ", "))
	}
	out.Message = strings.Join(parts, "; ")
	return &out
}

func contactWriteInput(in model.ContactInput) crm.ContactWriteInput {
	out := crm.ContactWriteInput{
		ContactInput: crm.ContactInput{
			CustomerFields: customerFields(in.PrimaryEmail, in.SecondaryEmail, in.HomePhone, in.WorkPhone,
				in.WorkPhoneExtension, in.MobilePhone, in.Address, in.City, in.Province, in.PostalCode, in.Country,
				in.Language, in.IsActive),
			FirstName: in.FirstName, LastName: in.LastName, CompanyName: in.CompanyName, Civility: in.Civility,
			PreferredMethodOfContact: in.PreferredMethodOfContact,
		},
		CustomFieldValues: customFieldValues(in.CustomFieldValues),
	}
	out.ThirdPartyIDs = thirdPartyIDs(in.ThirdPartyIds)
	return out
}
