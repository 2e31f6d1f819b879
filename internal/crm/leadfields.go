package crm

import (
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
)

// leadSnapshot is a lead's fields under their API names (the spec's
// Connection), the values events compare: a lead.created event carries
// every non-empty one, an update the ones that changed. Assignees are
// included when they were loaded (sorted ids).
func leadSnapshot(l *ent.Lead) map[string]any {
	s := map[string]any{
		"subject": l.Subject, "description": l.Description, "status": l.StatusID,
		"source": l.SourceID, "contact": l.ContactID, "account": l.AccountID,
		"franchise": l.FranchiseID, "department": l.DepartmentID, "stage": l.StageID,
		"dueDate": l.DueDate, "direction": l.Direction, "priority": l.Priority, "category": l.Category,
		"dateFirstModified": l.DateFirstModified, "firstModifiedBy": l.FirstModifiedByID,
		"firstOpenDate": l.FirstOpenDate, "firstOpenBy": l.FirstOpenByID,
		"isQualified": l.IsQualified, "expectedDeliveryDate": l.ExpectedDeliveryDate,
		"connectionClosedDate": l.ConnectionClosedDate, "connectionClosedBy": l.ConnectionClosedByID,
		"soldDate": l.SoldDate, "soldBy": l.SoldByID,
		"lostDate": l.LostDate, "lostBy": l.LostByID, "isLostApproved": l.IsLostApproved,
		"testDriveDone": l.TestDriveDone, "testDriveDate": l.TestDriveDate,
		"orderPlaced": l.OrderPlaced, "orderDate": l.OrderDate,
		"tradeInAppraisalDone": l.TradeInAppraisalDone, "tradeInAppraisalDate": l.TradeInAppraisalDate,
		"creditApplicationSubmitted":     l.CreditApplicationSubmitted,
		"creditApplicationSubmittedDate": l.CreditApplicationSubmittedDate,
		"offerMade":                      l.OfferMade, "offerMadeDate": l.OfferMadeDate,
		"isWalkAroundDone": l.IsWalkAroundDone, "walkAroundDate": l.WalkAroundDate,
		"isTakeOver": l.IsTakeOver, "takeOverDate": l.TakeOverDate,
		"inTransit": l.InTransit, "cpo": l.Cpo, "demo": l.Demo, "formName": l.FormName,
		"makeStr": l.MakeStr, "modelStr": l.ModelStr, "yearStr": l.YearStr, "trimStr": l.TrimStr,
		"utmCampaign": l.UtmCampaign, "utmSource": l.UtmSource,
		"leadHandlingInstructions": l.LeadHandlingInstructions, "customerInitiated": l.CustomerInitiated,
	}
	if l.Edges.Assignees != nil {
		s["assignees"] = userIDs(l.Edges.Assignees)
	}
	return s
}

// userIDs returns the users' ids sorted, so that equal sets compare equal.
func userIDs(users []*ent.User) []uuid.UUID {
	ids := make([]uuid.UUID, 0, len(users))
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	return ids
}

// diff returns the fields whose values differ between two snapshots
// (a nil before is a record being created).
func diff(before, after map[string]any) Changes {
	c := Changes{}
	for f, a := range after {
		var b any
		if before != nil {
			b = before[f]
		}
		c.Set(f, b, a)
	}
	return c
}
