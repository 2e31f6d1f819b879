package rest

import (
	"github.com/conecrm/gateway/ent"
)

// Lead is the spec's Lead (Connection + lead fields). Beyond the reference
// it carries department, assignees, the vehicle and the UTM fields, which
// LeadCreateRequest writes and a client otherwise could not read back.
type Lead struct {
	BaseRecord
	Subject                        string             `json:"subject"`
	Description                    *string            `json:"description"`
	Status                         *IDRef             `json:"status"`
	DateFirstModified              *Time              `json:"dateFirstModified"`
	FirstModifiedBy                *IDRef             `json:"firstModifiedBy"`
	Source                         *IDRef             `json:"source"`
	Contact                        *IDRef             `json:"contact"`
	Account                        *IDRef             `json:"account"`
	Franchise                      *IDRef             `json:"franchise"`
	DueDate                        *Time              `json:"dueDate"`
	Stage                          *IDRef             `json:"stage"`
	Direction                      string             `json:"direction"`
	IsQualified                    bool               `json:"isQualified"`
	ConnectionClosedDate           *Time              `json:"connectionClosedDate"`
	ConnectionClosedBy             *IDRef             `json:"connectionClosedBy"`
	ExpectedDeliveryDate           *Time              `json:"expectedDeliveryDate"`
	IsLostApproved                 *bool              `json:"isLostApproved"`
	LostBy                         *IDRef             `json:"lostBy"`
	LostDate                       *Time              `json:"lostDate"`
	FirstOpenDate                  *Time              `json:"firstOpenDate"`
	FirstOpenBy                    *IDRef             `json:"firstOpenBy"`
	TestDriveDone                  *bool              `json:"testDriveDone"`
	TestDriveDate                  *Time              `json:"testDriveDate"`
	OrderPlaced                    *bool              `json:"orderPlaced"`
	OrderDate                      *Time              `json:"orderDate"`
	TradeInAppraisalDone           *bool              `json:"tradeInAppraisalDone"`
	TradeInAppraisalDate           *Time              `json:"tradeInAppraisalDate"`
	CreditApplicationSubmitted     *bool              `json:"creditApplicationSubmitted"`
	CreditApplicationSubmittedDate *Time              `json:"creditApplicationSubmittedDate"`
	Priority                       *int               `json:"priority"`
	ThirdPartyIDs                  []LeadThirdPartyID `json:"thirdPartyIds"`
	Category                       *string            `json:"category"`
	AutomationDay                  *int               `json:"automationDay"`
	VisitCount                     int                `json:"visitCount"`
	IsTakeOver                     bool               `json:"isTakeOver"`
	IsWalkAroundDone               bool               `json:"isWalkAroundDone"`
	WalkAroundDate                 *Time              `json:"walkAroundDate"`
	TakeOverDate                   *Time              `json:"takeOverDate"`
	OfferMade                      *bool              `json:"offerMade"`
	OfferMadeDate                  *Time              `json:"offerMadeDate"`
	SoldDate                       *Time              `json:"soldDate"`
	SoldBy                         *IDRef             `json:"soldBy"`
	PresaleVisitCount              int                `json:"presaleVisitCount"`
	PostsaleVisitCount             int                `json:"postsaleVisitCount"`
	CustomerInitiated              bool               `json:"customerInitiated"`
	InTransit                      *bool              `json:"inTransit"`
	Cpo                            *bool              `json:"cpo"`
	Demo                           *bool              `json:"demo"`
	FormName                       *string            `json:"formName"`
	LeadHandlingInstructions       *string            `json:"leadHandlingInstructions"`
	CreditAssessments              []IDRef            `json:"creditAssessments"`
	Incentives                     []IDRef            `json:"incentives"`
	Packages                       []IDRef            `json:"packages"`
	Surveys                        []IDRef            `json:"surveys"`
	Department                     *IDRef             `json:"department"`
	Assignees                      []IDRef            `json:"assignees"`
	MakeStr                        *string            `json:"makeStr"`
	ModelStr                       *string            `json:"modelStr"`
	YearStr                        *string            `json:"yearStr"`
	TrimStr                        *string            `json:"trimStr"`
	UTMCampaign                    *string            `json:"utmCampaign"`
	UTMSource                      *string            `json:"utmSource"`
}

// LeadThirdPartyID is the spec's ConnectionThirdPartyId.
type LeadThirdPartyID struct {
	BaseRecord
	SystemName   string  `json:"systemName"`
	ThirdPartyID string  `json:"thirdPartyId"`
	Metadata     *string `json:"metadata"`
}

// Leads serializes leads loaded with crm.WithLeadGraph.
func Leads(rows []*ent.Lead) []Lead {
	out := make([]Lead, 0, len(rows))
	for _, l := range rows {
		out = append(out, newLead(l))
	}
	return out
}

func newLead(l *ent.Lead) Lead {
	tpids := make([]LeadThirdPartyID, 0, len(l.Edges.ThirdPartyIds))
	for _, t := range l.Edges.ThirdPartyIds {
		tpids = append(tpids, LeadThirdPartyID{
			BaseRecord: baseRecord(audit{t.ID, t.DateCreated, t.CreatedByID, t.DateModified, t.ModifiedByID,
				t.IsDeleted, t.DateDeleted, t.DeletedByID, t.Dtype}),
			SystemName: t.SystemName, ThirdPartyID: t.ThirdPartyID, Metadata: t.Metadata,
		})
	}
	return Lead{
		BaseRecord: baseRecord(audit{l.ID, l.DateCreated, l.CreatedByID, l.DateModified, l.ModifiedByID,
			l.IsDeleted, l.DateDeleted, l.DeletedByID, l.Dtype}),
		Subject: l.Subject, Description: l.Description, Status: refOf(l.StatusID),
		DateFirstModified: timeOf(l.DateFirstModified), FirstModifiedBy: refOf(l.FirstModifiedByID),
		Source: refOf(l.SourceID), Contact: refOf(l.ContactID), Account: refOf(l.AccountID),
		Franchise: refOf(l.FranchiseID), DueDate: timeOf(l.DueDate), Stage: refOf(l.StageID),
		Direction: l.Direction, IsQualified: l.IsQualified,
		ConnectionClosedDate: timeOf(l.ConnectionClosedDate), ConnectionClosedBy: refOf(l.ConnectionClosedByID),
		ExpectedDeliveryDate: timeOf(l.ExpectedDeliveryDate), IsLostApproved: l.IsLostApproved,
		LostBy: refOf(l.LostByID), LostDate: timeOf(l.LostDate),
		FirstOpenDate: timeOf(l.FirstOpenDate), FirstOpenBy: refOf(l.FirstOpenByID),
		TestDriveDone: l.TestDriveDone, TestDriveDate: timeOf(l.TestDriveDate),
		OrderPlaced: l.OrderPlaced, OrderDate: timeOf(l.OrderDate),
		TradeInAppraisalDone: l.TradeInAppraisalDone, TradeInAppraisalDate: timeOf(l.TradeInAppraisalDate),
		CreditApplicationSubmitted:     l.CreditApplicationSubmitted,
		CreditApplicationSubmittedDate: timeOf(l.CreditApplicationSubmittedDate),
		Priority:                       l.Priority, ThirdPartyIDs: tpids,
		Category: l.Category, AutomationDay: l.AutomationDay, VisitCount: l.VisitCount,
		IsTakeOver: l.IsTakeOver, IsWalkAroundDone: l.IsWalkAroundDone,
		WalkAroundDate: timeOf(l.WalkAroundDate), TakeOverDate: timeOf(l.TakeOverDate),
		OfferMade: l.OfferMade, OfferMadeDate: timeOf(l.OfferMadeDate),
		SoldDate: timeOf(l.SoldDate), SoldBy: refOf(l.SoldByID),
		PresaleVisitCount: l.PresaleVisitCount, PostsaleVisitCount: l.PostsaleVisitCount,
		CustomerInitiated: l.CustomerInitiated, InTransit: l.InTransit, Cpo: l.Cpo, Demo: l.Demo,
		FormName: l.FormName, LeadHandlingInstructions: l.LeadHandlingInstructions,
		CreditAssessments: refs(l.Edges.CreditAssessments, func(x *ent.CreditAssessment) IDRef { return IDRef{x.ID} }),
		Incentives:        refs(l.Edges.Incentives, func(x *ent.Incentive) IDRef { return IDRef{x.ID} }),
		Packages:          refs(l.Edges.Packages, func(x *ent.LeadPackage) IDRef { return IDRef{x.ID} }),
		Surveys:           refs(l.Edges.Surveys, func(x *ent.Survey) IDRef { return IDRef{x.ID} }),
		Department:        refOf(l.DepartmentID),
		Assignees:         refs(l.Edges.Assignees, func(x *ent.User) IDRef { return IDRef{x.ID} }),
		MakeStr:           l.MakeStr, ModelStr: l.ModelStr, YearStr: l.YearStr, TrimStr: l.TrimStr,
		UTMCampaign: l.UtmCampaign, UTMSource: l.UtmSource,
	}
}

// refs maps rows to {"id"} references; never nil.
func refs[T any](rows []T, ref func(T) IDRef) []IDRef {
	out := make([]IDRef, 0, len(rows))
	for _, r := range rows {
		out = append(out, ref(r))
	}
	return out
}
