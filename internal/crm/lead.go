package crm

import (
	"context"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/ent/connectionstage"
	"github.com/conecrm/gateway/ent/contact"
	"github.com/conecrm/gateway/ent/creditassessment"
	"github.com/conecrm/gateway/ent/customfield"
	"github.com/conecrm/gateway/ent/customfieldvalue"
	"github.com/conecrm/gateway/ent/department"
	"github.com/conecrm/gateway/ent/franchise"
	"github.com/conecrm/gateway/ent/incentive"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/leadpackage"
	"github.com/conecrm/gateway/ent/pipelinestage"
	"github.com/conecrm/gateway/ent/securitygroup"
	"github.com/conecrm/gateway/ent/source"
	"github.com/conecrm/gateway/ent/status"
	"github.com/conecrm/gateway/ent/survey"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/internal/fault"
	qb "github.com/conecrm/gateway/internal/querybuilder"
)

// Filtered by the query builder (filter.go).
var _ = filterable("lead", leadFilterFields(),
	finder[*ent.Lead](func(c *ent.Client) *ent.LeadQuery { return WithLeadGraph(c.Lead.Query()) }))

// leadFilterFields are a lead's query-builder fields, named as REST names
// them.
func leadFilterFields() []qb.Field {
	assignees := qb.Join{Table: lead.AssigneesTable, Own: lead.AssigneesPrimaryKey[0], Other: lead.AssigneesPrimaryKey[1]}
	fs := []qb.Field{
		qb.Str("subject", lead.FieldSubject), qb.OptStr("description", lead.FieldDescription),
		qb.Str("direction", lead.FieldDirection), qb.Flag("isQualified", lead.FieldIsQualified),
		qb.OptInstant("dueDate", lead.FieldDueDate), qb.OptNum("priority", lead.FieldPriority),
		qb.OptStr("category", lead.FieldCategory), qb.OptNum("automationDay", lead.FieldAutomationDay),
		qb.Num("visitCount", lead.FieldVisitCount), qb.Num("presaleVisitCount", lead.FieldPresaleVisitCount),
		qb.Num("postsaleVisitCount", lead.FieldPostsaleVisitCount),
		qb.Flag("isTakeOver", lead.FieldIsTakeOver), qb.OptInstant("takeOverDate", lead.FieldTakeOverDate),
		qb.Flag("isWalkAroundDone", lead.FieldIsWalkAroundDone), qb.OptInstant("walkAroundDate", lead.FieldWalkAroundDate),
		qb.OptFlag("offerMade", lead.FieldOfferMade), qb.OptInstant("offerMadeDate", lead.FieldOfferMadeDate),
		qb.OptInstant("soldDate", lead.FieldSoldDate), qb.Flag("customerInitiated", lead.FieldCustomerInitiated),
		qb.OptFlag("inTransit", lead.FieldInTransit), qb.OptFlag("cpo", lead.FieldCpo), qb.OptFlag("demo", lead.FieldDemo),
		qb.OptStr("formName", lead.FieldFormName), qb.OptStr("leadHandlingInstructions", lead.FieldLeadHandlingInstructions),
		qb.OptInstant("connectionClosedDate", lead.FieldConnectionClosedDate),
		qb.OptInstant("expectedDeliveryDate", lead.FieldExpectedDeliveryDate),
		qb.OptFlag("isLostApproved", lead.FieldIsLostApproved), qb.OptInstant("lostDate", lead.FieldLostDate),
		qb.OptInstant("firstOpenDate", lead.FieldFirstOpenDate),
		qb.OptFlag("testDriveDone", lead.FieldTestDriveDone), qb.OptInstant("testDriveDate", lead.FieldTestDriveDate),
		qb.OptFlag("orderPlaced", lead.FieldOrderPlaced), qb.OptInstant("orderDate", lead.FieldOrderDate),
		qb.OptFlag("tradeInAppraisalDone", lead.FieldTradeInAppraisalDone),
		qb.OptInstant("tradeInAppraisalDate", lead.FieldTradeInAppraisalDate),
		qb.OptFlag("creditApplicationSubmitted", lead.FieldCreditApplicationSubmitted),
		qb.OptInstant("creditApplicationSubmittedDate", lead.FieldCreditApplicationSubmittedDate),
		qb.OptStr("makeStr", lead.FieldMakeStr), qb.OptStr("modelStr", lead.FieldModelStr),
		qb.OptStr("yearStr", lead.FieldYearStr), qb.OptStr("trimStr", lead.FieldTrimStr),
		qb.OptStr("utmCampaign", lead.FieldUtmCampaign), qb.OptStr("utmSource", lead.FieldUtmSource),
	}
	fs = append(fs, recordFields()...)
	return append(fs,
		qb.Ref("stage", lead.FieldStageID, stageTarget),
		qb.Ref("status", lead.FieldStatusID, statusTarget),
		qb.ToOne("status.kind", qb.TypeEnum, lead.FieldStatusID, qb.Target{Table: status.Table, Column: status.FieldKind}, "OPEN", "CLOSED", "LOST", "SOLD"),
		qb.Ref("source", lead.FieldSourceID, sourceTarget),
		qb.Ref("franchise", lead.FieldFranchiseID, franchiseTarget),
		qb.ToOne("franchise.code", qb.TypeString, lead.FieldFranchiseID, qb.Target{Table: franchise.Table, Column: franchise.FieldCode}),
		qb.Ref("department", lead.FieldDepartmentID, departmentTarget),
		qb.Ref("contact", lead.FieldContactID, contactTarget),
		qb.ToOne("contact.firstName", qb.TypeString, lead.FieldContactID, qb.Target{Table: contact.Table, Column: contact.FieldFirstName}),
		qb.ToOne("contact.lastName", qb.TypeString, lead.FieldContactID, qb.Target{Table: contact.Table, Column: contact.FieldLastName}),
		qb.ToOne("contact.primaryEmail", qb.TypeString, lead.FieldContactID, qb.Target{Table: contact.Table, Column: contact.FieldPrimaryEmail}),
		qb.ToOne("contact.mobilePhone", qb.TypeString, lead.FieldContactID, qb.Target{Table: contact.Table, Column: contact.FieldMobilePhone}),
		qb.ToOne("contact.city", qb.TypeString, lead.FieldContactID, qb.Target{Table: contact.Table, Column: contact.FieldCity}),
		qb.Ref("account", lead.FieldAccountID, accountTarget),
		qb.ToOne("account.name", qb.TypeString, lead.FieldAccountID, accountTarget),
		qb.Ref("soldBy", lead.FieldSoldByID, userTarget),
		qb.ToMany("assignees", assignees, userTarget, true),
	)
}

// Messages of the lead routes' form errors, in the reference's wording.
const (
	msgBlank    = "This value should not be blank."
	msgNotFound = "This value is not valid: no such record."
)

// WithLeadGraph eager-loads what a lead response embeds: third-party ids
// and the ids of its assignees, credit assessments, incentives, packages
// and surveys — a fixed number of statements whatever the number of leads.
func WithLeadGraph(q *ent.LeadQuery) *ent.LeadQuery {
	return q.WithThirdPartyIds().
		WithAssignees(func(q *ent.UserQuery) { q.Select(user.FieldID) }).
		WithCreditAssessments(func(q *ent.CreditAssessmentQuery) { q.Select(creditassessment.FieldID) }).
		WithIncentives(func(q *ent.IncentiveQuery) { q.Select(incentive.FieldID) }).
		WithPackages(func(q *ent.LeadPackageQuery) { q.Select(leadpackage.FieldID) }).
		WithSurveys(func(q *ent.SurveyQuery) { q.Select(survey.FieldID) })
}

// LeadInput is the spec's LeadCreateRequest. Subject, department, contact,
// source and franchise are required.
type LeadInput struct {
	Subject                                       *string
	DepartmentID, ContactID, AccountID            *uuid.UUID
	SourceID, FranchiseID                         *uuid.UUID
	MakeStr, ModelStr, YearStr, TrimStr           *string
	Description, Category, UTMCampaign, UTMSource *string
	LeadHandlingInstructions                      *string
	CustomerInitiated                             *bool
	AssigneeIDs                                   []uuid.UUID
	CustomFieldValues                             []CustomFieldValueInput
}

// CreateLead creates a lead: every reference must be a live record of the
// tenant; without assignees it goes to the next member of the department's
// round-robin group; it starts on the first stage of the department's
// pipeline with an open status; custom field values are checked against
// the tenant's lead custom fields. The lead, its custom field values and a
// lead.created outbox event are written in one transaction.
func (s *Service) CreateLead(ctx context.Context, in LeadInput) (*ent.Lead, error) {
	if err := Require(ctx, PermLeadCreate); err != nil {
		return nil, err
	}
	var v fault.Validation
	if in.Subject == nil || strings.TrimSpace(*in.Subject) == "" {
		v.Add("subject", msgBlank)
	}
	for _, r := range []struct {
		name string
		id   *uuid.UUID
	}{{"department", in.DepartmentID}, {"contact", in.ContactID}, {"source", in.SourceID}, {"franchise", in.FranchiseID}} {
		if r.id == nil {
			v.Add(r.name, msgBlank)
		}
	}
	for _, t := range in.texts() {
		checkText(&v, t.name, t.value)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *ent.Lead
	err := s.inTx(ctx, func(tx *ent.Client) error {
		p, err := checkLeadReferences(ctx, tx, leadRefs{
			department: *in.DepartmentID, franchise: *in.FranchiseID, contact: *in.ContactID,
			source: in.SourceID, account: in.AccountID, assignees: in.AssigneeIDs,
		})
		if err != nil {
			return err
		}
		if err := checkActiveReferences(ctx, tx, *in.DepartmentID, *in.FranchiseID, in.SourceID); err != nil {
			return err
		}
		values, err := CheckCustomFieldValues(ctx, tx, "lead", in.CustomFieldValues)
		if err != nil {
			return err
		}
		create := tx.Lead.Create().SetSubject(strings.TrimSpace(*in.Subject)).
			SetDepartmentID(*in.DepartmentID).SetFranchiseID(*in.FranchiseID).
			SetContactID(*in.ContactID).SetSourceID(*in.SourceID).
			SetNillableAccountID(in.AccountID)
		m := create.Mutation()
		for _, t := range in.texts() {
			setText(m, t.column, t.value, true)
		}
		if in.CustomerInitiated != nil {
			create.SetCustomerInitiated(*in.CustomerInitiated)
		}
		l, assigned, err := s.startLead(ctx, tx, create, p, in.AssigneeIDs)
		if err != nil {
			return err
		}
		checked := make([]CustomFieldValueInput, 0, len(values))
		for _, cv := range values {
			checked = append(checked, CustomFieldValueInput{FieldID: cv.Field.ID, Value: cv.Value})
		}
		if err := writeCustomFieldValues(ctx, tx, l.ID, checked); err != nil {
			return err
		}
		if err := s.writeLeadCreated(ctx, tx, l, assigned, nil); err != nil {
			return err
		}
		out, err = WithLeadGraph(tx.Lead.Query().Where(lead.ID(l.ID))).Only(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

func (in LeadInput) texts() []textField {
	return []textField{
		{"make_str", "makeStr", in.MakeStr}, {"model_str", "modelStr", in.ModelStr},
		{"year_str", "yearStr", in.YearStr}, {"trim_str", "trimStr", in.TrimStr},
		{"description", "description", in.Description}, {"category", "category", in.Category},
		{"utm_campaign", "utmCampaign", in.UTMCampaign}, {"utm_source", "utmSource", in.UTMSource},
		{"lead_handling_instructions", "leadHandlingInstructions", in.LeadHandlingInstructions},
	}
}

// CopyLeadInput is the spec's CopyLeadData: the new contact (required) and
// optional overrides of the original's account, subject, department and
// franchise.
type CopyLeadInput struct {
	ContactID                 *uuid.UUID
	AccountID                 *uuid.UUID
	Subject                   *string
	DepartmentID, FranchiseID *uuid.UUID
}

// CopyLead creates a new lead from lead id for another contact. It inherits
// subject, vehicle, source, category, description, assignees, custom field
// values, franchise and department (the last three unless overridden); ids,
// audit fields, third-party ids, lifecycle dates (sold, lost, closed,
// visits) and the account (unless given) are not copied. Like a new lead it
// starts on the first stage of its department's pipeline with an open
// status, and a lead.created event is written. NotFound for an unknown lead.
func (s *Service) CopyLead(ctx context.Context, id uuid.UUID, in CopyLeadInput) (*ent.Lead, error) {
	if err := Require(ctx, PermLeadCopy); err != nil {
		return nil, err
	}
	var v fault.Validation
	if in.ContactID == nil {
		v.Add("contact", msgBlank)
	}
	if in.Subject != nil && strings.TrimSpace(*in.Subject) == "" {
		v.Add("subject", msgBlank)
	}
	checkText(&v, "subject", in.Subject)
	// The lead must exist before the input is judged: 404 wins over 400.
	orig, err := s.db.Lead.Query().Where(lead.ID(id)).
		WithAssignees(func(q *ent.UserQuery) { q.Select(user.FieldID) }).Only(ctx)
	if err != nil {
		return nil, AsError(err)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	dept := or(in.DepartmentID, orig.DepartmentID)
	fr := or(in.FranchiseID, orig.FranchiseID)
	var assignees []uuid.UUID
	for _, u := range orig.Edges.Assignees {
		assignees = append(assignees, u.ID)
	}
	var out *ent.Lead
	err = s.inTx(ctx, func(tx *ent.Client) error {
		if dept == nil || fr == nil {
			var v fault.Validation
			if dept == nil {
				v.Add("department", msgBlank)
			}
			if fr == nil {
				v.Add("franchise", msgBlank)
			}
			return v.Err()
		}
		p, err := checkLeadReferences(ctx, tx, leadRefs{
			department: *dept, franchise: *fr, contact: *in.ContactID, account: in.AccountID,
		})
		if err != nil {
			return err
		}
		subject := orig.Subject
		if in.Subject != nil {
			subject = strings.TrimSpace(*in.Subject)
		}
		create := tx.Lead.Create().SetSubject(subject).
			SetDepartmentID(*dept).SetFranchiseID(*fr).SetContactID(*in.ContactID).
			SetNillableAccountID(in.AccountID).SetNillableSourceID(orig.SourceID).
			SetNillableMakeStr(orig.MakeStr).SetNillableModelStr(orig.ModelStr).
			SetNillableYearStr(orig.YearStr).SetNillableTrimStr(orig.TrimStr).
			SetNillableCategory(orig.Category).SetNillableDescription(orig.Description)
		l, assigned, err := s.startLead(ctx, tx, create, p, assignees)
		if err != nil {
			return err
		}
		values, err := tx.CustomFieldValue.Query().Where(customfieldvalue.RecordID(orig.ID),
			customfieldvalue.HasCustomFieldWith(customfield.IsDeleted(false))).All(ctx)
		if err != nil {
			return err
		}
		copied := make([]CustomFieldValueInput, 0, len(values))
		for _, cv := range values {
			copied = append(copied, CustomFieldValueInput{FieldID: cv.FieldID, Value: cv.Value})
		}
		if err := writeCustomFieldValues(ctx, tx, l.ID, copied); err != nil {
			return err
		}
		if err := s.writeLeadCreated(ctx, tx, l, assigned, &orig.ID); err != nil {
			return err
		}
		out, err = WithLeadGraph(tx.Lead.Query().Where(lead.ID(l.ID))).Only(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

func or(a, b *uuid.UUID) *uuid.UUID {
	if a != nil {
		return a
	}
	return b
}

// leadRefs are the records a new lead names.
type leadRefs struct {
	department, franchise, contact uuid.UUID
	source, account                *uuid.UUID
	assignees                      []uuid.UUID
}

// placement is where a new lead starts, from its department.
type placement struct {
	roundRobin *uuid.UUID // the department's security group
	pipeline   *uuid.UUID
}

// checkLeadReferences checks that every record r names is a live record of
// the tenant (and the department one of the franchise), collecting a form
// error per field, and returns the department's placement.
func checkLeadReferences(ctx context.Context, tx *ent.Client, r leadRefs) (placement, error) {
	var (
		v fault.Validation
		p placement
	)
	dept, err := tx.Department.Query().Where(department.ID(r.department)).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		v.Add("department", msgNotFound)
	case err != nil:
		return p, err
	case dept.FranchiseID != nil && *dept.FranchiseID != r.franchise:
		v.Add("department", "This department does not belong to the franchise.")
	default:
		p = placement{roundRobin: dept.SecurityGroupID, pipeline: dept.PipelineID}
	}
	exists := map[string]func(context.Context) (bool, error){
		"franchise": tx.Franchise.Query().Where(franchise.ID(r.franchise)).Exist,
		"contact":   tx.Contact.Query().Where(contact.ID(r.contact)).Exist,
	}
	if r.source != nil {
		exists["source"] = tx.Source.Query().Where(source.ID(*r.source)).Exist
	}
	if r.account != nil {
		exists["account"] = tx.Account.Query().Where(account.ID(*r.account)).Exist
	}
	for name, exist := range exists {
		ok, err := exist(ctx)
		if err != nil {
			return p, err
		}
		if !ok {
			v.Add(name, msgNotFound)
		}
	}
	if len(r.assignees) > 0 {
		ids := unique(r.assignees)
		n, err := tx.User.Query().Where(user.IDIn(ids...), user.IsActive(true)).Count(ctx)
		if err != nil {
			return p, err
		}
		if n != len(ids) {
			v.Add("assignees", "Every assignee must be an active user of the tenant.")
		}
	}
	return p, v.Err()
}

// startLead places the lead being created: the first stage of the
// department's pipeline, the tenant's first open status, and the given
// assignees or else the next member of the department's round-robin group.
// It returns the lead and its assignees.
func (s *Service) startLead(ctx context.Context, tx *ent.Client, create *ent.LeadCreate, p placement, assignees []uuid.UUID) (*ent.Lead, []uuid.UUID, error) {
	if p.pipeline != nil {
		first, err := tx.PipelineStage.Query().Where(pipelinestage.PipelineID(*p.pipeline)).
			Order(pipelinestage.ByPosition(), pipelinestage.ByID()).First(ctx)
		switch {
		case err == nil:
			// Last in the stage's board column; the stage row is locked so
			// that concurrent creations get distinct positions.
			q := tx.ConnectionStage.Query().Where(connectionstage.ID(first.StageID))
			q.Modify(pgLock)
			if _, err := q.IDs(ctx); err != nil {
				return nil, nil, err
			}
			n, err := tx.Lead.Query().Where(lead.StageID(first.StageID)).Count(ctx)
			if err != nil {
				return nil, nil, err
			}
			create.SetStageID(first.StageID).SetBoardPosition(n)
		case !ent.IsNotFound(err):
			return nil, nil, err
		}
	}
	open, err := tx.Status.Query().Where(status.KindEQ(status.KindOPEN), status.IsActive(true)).
		Order(status.ByPosition(), status.ByID()).First(ctx)
	switch {
	case err == nil:
		create.SetStatusID(open.ID)
	case !ent.IsNotFound(err):
		return nil, nil, err
	}
	if len(assignees) == 0 && p.roundRobin != nil {
		next, err := nextRoundRobin(ctx, tx, *p.roundRobin)
		if err != nil {
			return nil, nil, err
		}
		if next != nil {
			assignees = []uuid.UUID{*next}
		}
	}
	assignees = unique(assignees)
	l, err := create.AddAssigneeIDs(assignees...).Save(ctx)
	return l, assignees, err
}

// nextRoundRobin returns the group's next member in turn, or nil when the
// group is not round-robin or has no active member. The group's row is
// locked (PostgreSQL) or the immediate transaction holds the write lock
// (SQLite) while its turn is taken (takeTurn), so concurrent creations,
// and changes of the group's members (keepTurns), queue: each creation
// gets its own turn and the rotation stays fair.
func nextRoundRobin(ctx context.Context, tx *ent.Client, groupID uuid.UUID) (*uuid.UUID, error) {
	q := tx.SecurityGroup.Query().Where(securitygroup.ID(groupID)).
		WithMembers(func(q *ent.UserQuery) { q.Where(user.IsActive(true)).Select(user.FieldID) })
	q.Modify(lockTurn)
	g, err := q.Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if g.RoundRobin == nil || !*g.RoundRobin {
		return nil, nil
	}
	members := rotation(g)
	if len(members) == 0 {
		return nil, nil
	}
	cursor, err := takeTurn(ctx, tx, g)
	if err != nil {
		return nil, err
	}
	turn := cursor % len(members)
	if turn < 0 {
		turn += len(members)
	}
	return &members[turn], nil
}

// rotation orders a group's active members: by members_order first, then
// the members it does not list, by id.
func rotation(g *ent.SecurityGroup) []uuid.UUID {
	active := map[uuid.UUID]bool{}
	for _, m := range g.Edges.Members {
		active[m.ID] = true
	}
	var out []uuid.UUID
	for _, s := range g.MembersOrder {
		if id, err := uuid.Parse(s); err == nil && active[id] && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	var rest []uuid.UUID
	for id := range active {
		if !slices.Contains(out, id) {
			rest = append(rest, id)
		}
	}
	slices.SortFunc(rest, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	return append(out, rest...)
}

// writeCustomFieldValues stores the non-empty values for record id.
func writeCustomFieldValues(ctx context.Context, tx *ent.Client, id uuid.UUID, values []CustomFieldValueInput) error {
	var bulk []*ent.CustomFieldValueCreate
	for _, v := range values {
		if v.Value != "" {
			bulk = append(bulk, tx.CustomFieldValue.Create().SetFieldID(v.FieldID).SetRecordID(id).SetValue(v.Value))
		}
	}
	if len(bulk) == 0 {
		return nil
	}
	return tx.CustomFieldValue.CreateBulk(bulk...).Exec(ctx)
}

// writeLeadCreated emits the lead.created event of l (copiedFrom names the
// original of a copy).
func (s *Service) writeLeadCreated(ctx context.Context, tx *ent.Client, l *ent.Lead, assignees []uuid.UUID, copiedFrom *uuid.UUID) error {
	snap := leadSnapshot(l)
	snap["assignees"] = assignees
	ev := Event{Topic: TopicLeadCreated, RecordType: RecordLead, RecordID: l.ID, Changes: diff(nil, snap)}
	if copiedFrom != nil {
		ev.Data = map[string]any{"copiedFrom": copiedFrom.String()}
	}
	return s.emit(ctx, tx, ev)
}
