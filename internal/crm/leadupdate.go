package crm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/connectionstage"
	"github.com/conecrm/gateway/ent/customfieldvalue"
	"github.com/conecrm/gateway/ent/department"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/pipelinestage"
	"github.com/conecrm/gateway/ent/status"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/viewer"
)

// LeadUpdateInput is an update of a lead's writable fields (the spec's
// Lead/Connection); nil or unset fields keep their value. Texts, Times and
// Flags are keyed by API name (see leadTexts, leadTimes, leadFlags).
type LeadUpdateInput struct {
	Subject                                        *string
	StatusID, StageID, SourceID, ContactID         *uuid.UUID
	DepartmentID, FranchiseID                      *uuid.UUID
	AccountID                                      Opt[uuid.UUID]
	SoldByID, LostByID                             *uuid.UUID
	Priority                                       Opt[int]
	IsQualified, CustomerInitiated, IsLostApproved *bool
	Direction                                      *string
	Texts                                          map[string]Opt[string]
	Times                                          map[string]Opt[time.Time]
	Flags                                          map[string]Opt[bool]
	CustomFieldValues                              []CustomFieldValueInput
	// ThirdPartyIDs, when given, replace the lead's ids in other systems
	// (the spec's Connection.thirdPartyIds).
	ThirdPartyIDs *[]ThirdPartyIDInput
}

// Writable lead columns by API name.
var (
	leadTexts = map[string]string{
		"description": lead.FieldDescription, "category": lead.FieldCategory, "formName": lead.FieldFormName,
		"makeStr": lead.FieldMakeStr, "modelStr": lead.FieldModelStr, "yearStr": lead.FieldYearStr,
		"trimStr": lead.FieldTrimStr, "utmCampaign": lead.FieldUtmCampaign, "utmSource": lead.FieldUtmSource,
		"leadHandlingInstructions": lead.FieldLeadHandlingInstructions,
	}
	leadTimes = map[string]string{
		"dueDate": lead.FieldDueDate, "expectedDeliveryDate": lead.FieldExpectedDeliveryDate,
		"testDriveDate": lead.FieldTestDriveDate, "orderDate": lead.FieldOrderDate,
		"tradeInAppraisalDate": lead.FieldTradeInAppraisalDate, "offerMadeDate": lead.FieldOfferMadeDate,
		"creditApplicationSubmittedDate": lead.FieldCreditApplicationSubmittedDate,
		"walkAroundDate":                 lead.FieldWalkAroundDate, "takeOverDate": lead.FieldTakeOverDate,
	}
	leadFlags = map[string]string{
		"testDriveDone": lead.FieldTestDriveDone, "orderPlaced": lead.FieldOrderPlaced,
		"tradeInAppraisalDone": lead.FieldTradeInAppraisalDone, "offerMade": lead.FieldOfferMade,
		"creditApplicationSubmitted": lead.FieldCreditApplicationSubmitted,
		"isWalkAroundDone":           lead.FieldIsWalkAroundDone, "isTakeOver": lead.FieldIsTakeOver,
		"inTransit": lead.FieldInTransit, "cpo": lead.FieldCpo, "demo": lead.FieldDemo,
	}
	// milestoneDates pairs a milestone flag with the date it records.
	milestoneDates = map[string]string{
		"testDriveDone": "testDriveDate", "orderPlaced": "orderDate",
		"tradeInAppraisalDone": "tradeInAppraisalDate", "offerMade": "offerMadeDate",
		"creditApplicationSubmitted": "creditApplicationSubmittedDate",
		"isWalkAroundDone":           "walkAroundDate", "isTakeOver": "takeOverDate",
	}
	// notNullFlags are flags stored as plain booleans: null means false.
	notNullFlags = map[string]bool{"isWalkAroundDone": true, "isTakeOver": true}
)

// Status kinds of the lead lifecycle.
const (
	kindOpen   = status.KindOPEN
	kindSold   = status.KindSOLD
	kindLost   = status.KindLOST
	kindClosed = status.KindCLOSED
)

// UpdateLead applies in to lead id under the lifecycle rules
// (docs/leads.md): dateFirstModified/firstModifiedBy are set by the first
// change; a status change sets or clears the sold, lost and closed dates
// and users; a closed lead keeps its stage until reopened; a milestone flag
// set to true records its date. It emits lead.updated with every changed
// field, plus lead.stage_changed, lead.status_changed and lead.assigned for
// those fields, in the write's transaction, and answers the lead as that
// transaction committed it.
func (s *Service) UpdateLead(ctx context.Context, id uuid.UUID, in LeadUpdateInput) (*ent.Lead, error) {
	if err := Require(ctx, PermLeadWrite); err != nil {
		return nil, err
	}
	var v fault.Validation
	if in.Subject != nil && blank(*in.Subject) {
		v.Add("subject", msgBlank)
	}
	checkText(&v, "subject", in.Subject)
	for name, t := range in.Texts {
		if _, ok := leadTexts[name]; !ok {
			v.Add(name, "is not a writable lead field")
			continue
		}
		checkText(&v, name, t.Value)
	}
	for name := range in.Times {
		if _, ok := leadTimes[name]; !ok {
			v.Add(name, "is not a writable lead field")
		}
	}
	for name := range in.Flags {
		if _, ok := leadFlags[name]; !ok {
			v.Add(name, "is not a writable lead field")
		}
	}
	if in.Direction != nil && *in.Direction != "INBOUND" && *in.Direction != "OUTBOUND" {
		v.Add("direction", "must be INBOUND or OUTBOUND")
	}
	if p := in.Priority.Value; p != nil && (*p < 0 || *p > 10) {
		v.Add("priority", "must be between 0 and 10")
	}
	checkThirdPartyIDs(&v, "", in.ThirdPartyIDs)
	return s.writeLeadAs(ctx, id, true, in.StageID, func(tx *ent.Client, cur *ent.Lead, m *ent.LeadMutation) error {
		if err := in.check(ctx, tx, &v, cur); err != nil {
			return err
		}
		if err := v.Err(); err != nil {
			return err
		}
		in.apply(m, cur)
		if in.StatusID != nil && !sameID(cur.StatusID, *in.StatusID) {
			if err := applyStatus(ctx, tx, cur, *in.StatusID, in, m); err != nil {
				return err
			}
		} else if err := checkLifecycleUsers(in, cur.Edges.Status); err != nil {
			return err
		}
		if in.StageID != nil && !sameID(cur.StageID, *in.StageID) {
			if err := placeOnStage(ctx, tx, cur, *in.StageID, nil, m); err != nil {
				return err
			}
		}
		if err := s.writeLeadCustomValues(ctx, tx, cur.ID, in.CustomFieldValues); err != nil {
			return err
		}
		return writeLeadThirdPartyIDs(ctx, tx, cur.ID, in.ThirdPartyIDs)
	})
}

// AssignLead replaces the assignees of lead id: active users of the
// tenant (none unassigns it). It emits lead.assigned and lead.updated.
func (s *Service) AssignLead(ctx context.Context, id uuid.UUID, assignees []uuid.UUID) (*ent.Lead, error) {
	if err := Require(ctx, PermLeadWrite); err != nil {
		return nil, err
	}
	ids := unique(assignees)
	return s.writeLeadAs(ctx, id, true, nil, func(tx *ent.Client, cur *ent.Lead, m *ent.LeadMutation) error {
		if len(ids) > 0 {
			n, err := tx.User.Query().Where(user.IDIn(ids...), user.IsActive(true)).Count(ctx)
			if err != nil {
				return err
			}
			if n != len(ids) {
				return fault.FieldError("assignees", "Every assignee must be an active user of the tenant.")
			}
		}
		m.ClearAssignees()
		m.AddAssigneeIDs(ids...)
		return nil
	})
}

// MoveLead puts lead id on stage at board position (0 is the top of the
// column; past the end means last), keeping the positions of both columns
// dense and unique: the columns are locked (PostgreSQL) or the write
// transaction holds the database (SQLite) while they are renumbered. The
// stage must be on the pipeline of the lead's department, and a closed
// lead cannot move. Moving within the same stage emits lead.updated only.
func (s *Service) MoveLead(ctx context.Context, id, stage uuid.UUID, position int) (*ent.Lead, error) {
	if err := Require(ctx, PermLeadWrite); err != nil {
		return nil, err
	}
	if position < 0 {
		return nil, fault.FieldError("position", "must not be negative")
	}
	return s.writeLeadAs(ctx, id, true, &stage, func(tx *ent.Client, cur *ent.Lead, m *ent.LeadMutation) error {
		return placeOnStage(ctx, tx, cur, stage, &position, m)
	})
}

// OpenLead records that the viewer opened lead id (its detail screen): the
// first call sets firstOpenDate and firstOpenBy, later ones change nothing.
// It needs only lead.read.
func (s *Service) OpenLead(ctx context.Context, id uuid.UUID) (*ent.Lead, error) {
	if err := Require(ctx, PermLeadRead); err != nil {
		return nil, err
	}
	return s.writeLeadAs(ctx, id, false, nil, func(_ *ent.Client, cur *ent.Lead, m *ent.LeadMutation) error {
		if cur.FirstOpenDate == nil {
			m.SetFirstOpenDate(time.Now().UTC())
			m.SetFirstOpenByID(viewer.FromContext(ctx).UserID)
		}
		return nil
	})
}

// writeLeadAs runs change in a transaction on the current lead id (with
// its status and assignees, its row locked), saves the mutation change
// fills, stamps the first modification when modifies, emits the events of
// what changed and answers the lead read inside the transaction.
//
// A write that may move the lead to stage locks the board columns first:
// the lead's current stage and stage, in id order, and only then the lead
// row; a move renumbers other leads of those columns, so taking the lead
// row first would let two moves wait on each other. Should the lead have
// changed column between reading and locking, the write starts over.
func (s *Service) writeLeadAs(ctx context.Context, id uuid.UUID, modifies bool, stage *uuid.UUID, change func(tx *ent.Client, cur *ent.Lead, m *ent.LeadMutation) error) (*ent.Lead, error) {
	for attempt := 0; ; attempt++ {
		l, err := s.writeLeadOnce(ctx, id, modifies, stage, change)
		if errors.Is(err, errColumnChanged) && attempt < 5 {
			continue
		}
		return l, err
	}
}

var errColumnChanged = errors.New("crm: the lead changed column while its columns were being locked")

func (s *Service) writeLeadOnce(ctx context.Context, id uuid.UUID, modifies bool, stage *uuid.UUID, change func(tx *ent.Client, cur *ent.Lead, m *ent.LeadMutation) error) (*ent.Lead, error) {
	var out *ent.Lead
	err := s.inTx(ctx, func(tx *ent.Client) error {
		var column *uuid.UUID
		if stage != nil {
			l, err := tx.Lead.Query().Where(lead.ID(id)).Select(lead.FieldStageID).Only(ctx)
			if err != nil {
				return err
			}
			column = l.StageID
			if err := lockColumns(ctx, tx, *stage, column); err != nil {
				return err
			}
		}
		q := tx.Lead.Query().Where(lead.ID(id)).WithStatus().
			WithAssignees(func(q *ent.UserQuery) { q.Select(user.FieldID) })
		q.Modify(pgLock)
		cur, err := q.Only(ctx)
		if err != nil {
			return err
		}
		if stage != nil && !slices.Equal(optionalIDs(cur.StageID), optionalIDs(column)) {
			return errColumnChanged
		}
		before, err := leadState(ctx, tx, cur)
		if err != nil {
			return err
		}
		upd := tx.Lead.UpdateOneID(id)
		if err := change(tx, cur, upd.Mutation()); err != nil {
			return err
		}
		if err := upd.Exec(ctx); err != nil {
			return err
		}
		after, changes, err := reloadLead(ctx, tx, id, before)
		if err != nil {
			return err
		}
		if len(changes) == 0 && cur.BoardPosition == after.BoardPosition {
			out = after
			return nil
		}
		// The first change of the lead is recorded once.
		if modifies && cur.DateFirstModified == nil {
			stamp := tx.Lead.UpdateOneID(id).SetDateFirstModified(time.Now().UTC())
			if u := viewer.FromContext(ctx).UserID; u != uuid.Nil {
				stamp.SetFirstModifiedByID(u)
			}
			if err := stamp.Exec(ctx); err != nil {
				return err
			}
			if after, changes, err = reloadLead(ctx, tx, id, before); err != nil {
				return err
			}
		}
		out = after
		return s.emitLeadChanges(ctx, tx, cur, after, changes)
	})
	if err != nil {
		return nil, err
	}
	// Read in the transaction, the answer is what it committed; unwrapped,
	// later edge queries (GraphQL fields) run outside it.
	return out.Unwrap(), nil
}

// leadState is a lead's snapshot with its custom field values
// ("customFieldValues.<field name>") and third-party ids.
func leadState(ctx context.Context, tx *ent.Client, l *ent.Lead) (map[string]any, error) {
	snap := leadSnapshot(l)
	if err := addLeadThirdPartyIDs(ctx, tx, l.ID, snap); err != nil {
		return nil, err
	}
	values, err := customValues(ctx, tx, l.ID)
	if err != nil {
		return nil, err
	}
	for f, v := range values {
		snap["customFieldValues."+f] = v
	}
	return snap, nil
}

// reloadLead reads lead id inside the transaction as a response embeds it
// (with its status) and diffs it against before.
func reloadLead(ctx context.Context, tx *ent.Client, id uuid.UUID, before map[string]any) (*ent.Lead, Changes, error) {
	after, err := WithLeadGraph(tx.Lead.Query().Where(lead.ID(id))).WithStatus().Only(ctx)
	if err != nil {
		return nil, nil, err
	}
	state, err := leadState(ctx, tx, after)
	if err != nil {
		return nil, nil, err
	}
	changes := diff(before, state)
	for f, v := range before {
		if _, ok := state[f]; !ok {
			changes.Set(f, v, nil) // a removed custom field value
		}
	}
	return after, changes, nil
}

// emitLeadChanges emits lead.updated with every change and the lifecycle
// events of the stage, status and assignees.
func (s *Service) emitLeadChanges(ctx context.Context, tx *ent.Client, cur, after *ent.Lead, changes Changes) error {
	data := map[string]any{}
	_, moved := changes["stage"]
	if moved || cur.BoardPosition != after.BoardPosition {
		data["boardPosition"] = map[string]any{"before": cur.BoardPosition, "after": after.BoardPosition}
	}
	if err := s.emit(ctx, tx, Event{Topic: TopicLeadUpdated, RecordType: RecordLead, RecordID: after.ID, Changes: changes, Data: data}); err != nil {
		return err
	}
	for _, t := range []struct{ field, topic string }{
		{"stage", TopicLeadStageChanged}, {"status", TopicLeadStatusChanged}, {"assignees", TopicLeadAssigned},
	} {
		field, topic := t.field, t.topic
		c, ok := changes[field]
		if !ok {
			continue
		}
		ev := Event{Topic: topic, RecordType: RecordLead, RecordID: after.ID, Changes: Changes{field: c}}
		if field == "stage" {
			ev.Data = data
		}
		if field == "status" {
			ev.Data = map[string]any{"kind": map[string]any{"before": statusKind(cur.Edges.Status), "after": statusKind(after.Edges.Status)}}
		}
		if err := s.emit(ctx, tx, ev); err != nil {
			return err
		}
	}
	return nil
}

func statusKind(st *ent.Status) status.Kind {
	if st == nil {
		return kindOpen
	}
	return st.Kind
}

// customValues returns the custom field values of record id by field name.
func customValues(ctx context.Context, tx *ent.Client, id uuid.UUID) (map[string]any, error) {
	rows, err := tx.CustomFieldValue.Query().Where(customfieldvalue.RecordID(id)).WithCustomField().All(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(rows))
	for _, r := range rows {
		if r.Edges.CustomField != nil && !r.Edges.CustomField.IsDeleted {
			out[r.Edges.CustomField.FieldName] = r.Value
		}
	}
	return out, nil
}

// writeLeadCustomValues checks values against the lead custom fields and
// replaces the record's value of each given field (an empty value removes
// it).
func (s *Service) writeLeadCustomValues(ctx context.Context, tx *ent.Client, id uuid.UUID, values []CustomFieldValueInput) error {
	return replaceCustomValues(ctx, tx, "lead", id, values)
}

// replaceCustomValues checks values against entity's custom fields and
// replaces record id's value of each given field (empty removes it).
func replaceCustomValues(ctx context.Context, tx *ent.Client, entity string, id uuid.UUID, values []CustomFieldValueInput) error {
	if len(values) == 0 {
		return nil
	}
	checked, err := CheckCustomFieldValues(ctx, tx, entity, values)
	if err != nil {
		return err
	}
	fields := make([]uuid.UUID, 0, len(checked))
	keep := make([]CustomFieldValueInput, 0, len(checked))
	for _, cv := range checked {
		fields = append(fields, cv.Field.ID)
		keep = append(keep, CustomFieldValueInput{FieldID: cv.Field.ID, Value: cv.Value})
	}
	if _, err := tx.CustomFieldValue.Delete().Where(customfieldvalue.RecordID(id), customfieldvalue.FieldIDIn(fields...)).Exec(ctx); err != nil {
		return err
	}
	return writeCustomFieldValues(ctx, tx, id, keep)
}

// check validates the references of in against the tenant's records and
// the department/franchise pairing, given the current lead.
func (in LeadUpdateInput) check(ctx context.Context, tx *ent.Client, v *fault.Validation, cur *ent.Lead) error {
	exists := map[string]func(context.Context) (bool, error){}
	ref := func(name string, id *uuid.UUID, q func(uuid.UUID) func(context.Context) (bool, error)) {
		if id != nil {
			exists[name] = q(*id)
		}
	}
	ref("status", in.StatusID, func(id uuid.UUID) func(context.Context) (bool, error) {
		return tx.Status.Query().Where(status.ID(id)).Exist
	})
	ref("stage", in.StageID, func(id uuid.UUID) func(context.Context) (bool, error) {
		return tx.ConnectionStage.Query().Where(connectionstage.ID(id)).Exist
	})
	for name, id := range map[string]*uuid.UUID{"soldBy": in.SoldByID, "lostBy": in.LostByID} {
		ref(name, id, func(id uuid.UUID) func(context.Context) (bool, error) {
			return tx.User.Query().Where(user.ID(id), user.IsActive(true)).Exist
		})
	}
	for name, exist := range exists {
		ok, err := exist(ctx)
		if err != nil {
			return err
		}
		if !ok {
			v.Add(name, msgNotFound)
		}
	}
	// Department, franchise, contact, source and account are checked as on
	// create, with the current values standing in for those not sent.
	if in.DepartmentID != nil || in.FranchiseID != nil || in.ContactID != nil || in.SourceID != nil || in.AccountID.Value != nil {
		r := leadRefs{source: in.SourceID, account: in.AccountID.Value}
		for _, p := range []struct {
			dst      *uuid.UUID
			given    *uuid.UUID
			current  *uuid.UUID
			field    string
			required bool
		}{
			{&r.department, in.DepartmentID, cur.DepartmentID, "department", true},
			{&r.franchise, in.FranchiseID, cur.FranchiseID, "franchise", true},
			{&r.contact, in.ContactID, cur.ContactID, "contact", true},
		} {
			switch {
			case p.given != nil:
				*p.dst = *p.given
			case p.current != nil:
				*p.dst = *p.current
			default:
				v.Add(p.field, msgBlank)
			}
		}
		if v.Has("department") || v.Has("franchise") || v.Has("contact") {
			return v.Err()
		}
		if _, err := checkLeadReferences(ctx, tx, r); err != nil {
			e := AsError(err)
			if e.Code != fault.Invalid {
				return err
			}
			for f, msgs := range e.Fields {
				for _, msg := range msgs {
					v.Add(f, msg)
				}
			}
		}
	}
	// A milestone date needs its flag: a date on a milestone that is not
	// (or no longer) reached is refused.
	for flag, date := range milestoneDates {
		d, ok := in.Times[date]
		if !ok || d.Value == nil {
			continue
		}
		reached := flagValue(cur, flag)
		if f, ok := in.Flags[flag]; ok {
			reached = f.Value != nil && *f.Value
		}
		if !reached {
			v.Add(date, fmt.Sprintf("requires %s to be true", flag))
		}
	}
	return v.Err()
}

// flagValue is the current value of a milestone flag.
func flagValue(l *ent.Lead, flag string) bool {
	b := map[string]*bool{
		"testDriveDone": l.TestDriveDone, "orderPlaced": l.OrderPlaced, "tradeInAppraisalDone": l.TradeInAppraisalDone,
		"offerMade": l.OfferMade, "creditApplicationSubmitted": l.CreditApplicationSubmitted,
		"isWalkAroundDone": &l.IsWalkAroundDone, "isTakeOver": &l.IsTakeOver,
	}[flag]
	return b != nil && *b
}

// apply writes the plain fields of in into m; a milestone flag turned on
// records today unless its date is given or already set, turned off it
// clears its date.
func (in LeadUpdateInput) apply(m *ent.LeadMutation, cur *ent.Lead) {
	if in.Subject != nil {
		m.SetSubject(trim(*in.Subject))
	}
	for _, r := range []struct {
		id  *uuid.UUID
		set func(uuid.UUID)
	}{
		{in.SourceID, m.SetSourceID}, {in.ContactID, m.SetContactID},
		{in.DepartmentID, m.SetDepartmentID}, {in.FranchiseID, m.SetFranchiseID},
		{in.SoldByID, m.SetSoldByID}, {in.LostByID, m.SetLostByID},
	} {
		if r.id != nil {
			r.set(*r.id)
		}
	}
	if in.IsLostApproved != nil {
		m.SetIsLostApproved(*in.IsLostApproved)
	}
	setOpt(in.AccountID, m.SetAccountID, m.ClearAccountID)
	setOpt(in.Priority, m.SetPriority, m.ClearPriority)
	if in.IsQualified != nil {
		m.SetIsQualified(*in.IsQualified)
	}
	if in.CustomerInitiated != nil {
		m.SetCustomerInitiated(*in.CustomerInitiated)
	}
	if in.Direction != nil {
		m.SetDirection(*in.Direction)
	}
	for name, t := range in.Texts {
		col := leadTexts[name]
		if t.Value == nil || trim(*t.Value) == "" {
			_ = m.ClearField(col)
		} else {
			_ = m.SetField(col, trim(*t.Value))
		}
	}
	for name, t := range in.Times {
		col := leadTimes[name]
		if t.Value == nil {
			_ = m.ClearField(col)
		} else {
			_ = m.SetField(col, t.Value.UTC())
		}
	}
	now := time.Now().UTC()
	for name, f := range in.Flags {
		col := leadFlags[name]
		on := f.Value != nil && *f.Value
		switch {
		case f.Value == nil && notNullFlags[name]:
			_ = m.SetField(col, false)
		case f.Value == nil:
			_ = m.ClearField(col)
		default:
			_ = m.SetField(col, *f.Value)
		}
		date, ok := milestoneDates[name]
		if !ok {
			continue
		}
		if _, given := in.Times[date]; given {
			continue
		}
		switch {
		case on && !flagValue(cur, name):
			_ = m.SetField(leadTimes[date], now)
		case !on:
			_ = m.ClearField(leadTimes[date])
		}
	}
}

// applyStatus moves cur to status to under the lifecycle rules: a lead
// between two closed kinds (sold, lost, closed) must be reopened first;
// closing sets connectionClosedDate/By, selling soldDate/By, losing
// lostDate/By (the given users, else the viewer); reopening clears them.
func applyStatus(ctx context.Context, tx *ent.Client, cur *ent.Lead, to uuid.UUID, in LeadUpdateInput, m *ent.LeadMutation) error {
	st, err := tx.Status.Get(ctx, to)
	if err != nil {
		return err
	}
	from, kind := statusKind(cur.Edges.Status), st.Kind
	if from != kindOpen && kind != kindOpen && from != kind {
		return fault.FieldError("status", fmt.Sprintf("a %s lead cannot become %s: reopen it (an open status) first",
			strings.ToLower(string(from)), strings.ToLower(string(kind))))
	}
	if err := checkLifecycleUsers(in, st); err != nil {
		return err
	}
	m.SetStatusID(to)
	// No user (an automation without an author) records no user.
	actor := viewer.FromContext(ctx).UserID
	by := func(set func(uuid.UUID), id uuid.UUID) {
		if id != uuid.Nil {
			set(id)
		}
	}
	now := time.Now().UTC()
	if kind == from {
		return nil
	}
	switch kind {
	case kindOpen:
		m.ClearConnectionClosedDate()
		m.ClearConnectionClosedByID()
		m.ClearSoldDate()
		m.ClearSoldByID()
		m.ClearLostDate()
		m.ClearLostByID()
		m.ClearIsLostApproved()
		return nil
	case kindSold:
		m.SetSoldDate(now)
		by(m.SetSoldByID, orID(in.SoldByID, actor))
	case kindLost:
		m.SetLostDate(now)
		by(m.SetLostByID, orID(in.LostByID, actor))
	}
	m.SetConnectionClosedDate(now)
	by(m.SetConnectionClosedByID, actor)
	return nil
}

// checkLifecycleUsers refuses a seller on a lead that is not sold, a loser
// or a loss approval on one that is not lost (st is the status the lead
// will have).
func checkLifecycleUsers(in LeadUpdateInput, st *ent.Status) error {
	kind := statusKind(st)
	var v fault.Validation
	if in.SoldByID != nil && kind != kindSold {
		v.Add("soldBy", "only a sold lead has a seller")
	}
	if in.LostByID != nil && kind != kindLost {
		v.Add("lostBy", "only a lost lead has a user who lost it")
	}
	if in.IsLostApproved != nil && kind != kindLost {
		v.Add("isLostApproved", "only the loss of a lost lead can be approved")
	}
	return v.Err()
}

// placeOnStage puts cur on stage at position (nil: last), renumbering the
// columns it leaves and enters so that positions stay dense.
func placeOnStage(ctx context.Context, tx *ent.Client, cur *ent.Lead, stage uuid.UUID, position *int, m *ent.LeadMutation) error {
	if k := statusKind(cur.Edges.Status); k != kindOpen {
		return fault.FieldError("stage", fmt.Sprintf("a %s lead stays on its stage: reopen it (an open status) first", strings.ToLower(string(k))))
	}
	ok, err := tx.ConnectionStage.Query().Where(connectionstage.ID(stage)).Exist(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return fault.FieldError("stage", msgNotFound)
	}
	if cur.DepartmentID != nil {
		d, err := tx.Department.Query().Where(department.ID(*cur.DepartmentID)).Only(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return err
		}
		if d != nil && d.PipelineID != nil {
			ok, err := tx.PipelineStage.Query().Where(pipelinestage.PipelineID(*d.PipelineID), pipelinestage.StageID(stage)).Exist(ctx)
			if err != nil {
				return err
			}
			if !ok {
				return fault.FieldError("stage", "This stage is not on the pipeline of the lead's department.")
			}
		}
	}
	column, err := tx.Lead.Query().Where(lead.StageID(stage), lead.IDNEQ(cur.ID)).
		Order(lead.ByBoardPosition(), lead.ByDateCreated(), lead.ByID()).IDs(ctx)
	if err != nil {
		return err
	}
	at := len(column)
	if position != nil && *position < at {
		at = *position
	}
	// Leave the old column: close the gap.
	if cur.StageID != nil && *cur.StageID != stage {
		old, err := tx.Lead.Query().Where(lead.StageID(*cur.StageID), lead.IDNEQ(cur.ID)).
			Order(lead.ByBoardPosition(), lead.ByDateCreated(), lead.ByID()).
			Select(lead.FieldID, lead.FieldBoardPosition).All(ctx)
		if err != nil {
			return err
		}
		if err := renumber(ctx, tx, old, nil, 0); err != nil {
			return err
		}
	}
	rows, err := tx.Lead.Query().Where(lead.IDIn(column...)).Select(lead.FieldID, lead.FieldBoardPosition).All(ctx)
	if err != nil {
		return err
	}
	byID := make(map[uuid.UUID]*ent.Lead, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	ordered := make([]*ent.Lead, 0, len(column))
	for _, id := range column {
		ordered = append(ordered, byID[id])
	}
	if err := renumber(ctx, tx, ordered, &cur.ID, at); err != nil {
		return err
	}
	m.SetStageID(stage)
	m.SetBoardPosition(at)
	return nil
}

// renumber gives the leads of a column (in order) the positions 0, 1, …,
// skipping position at when gap names the lead being inserted there.
// Only leads whose position changes are written, one UPDATE per distinct
// shift: a move within a column shifts a contiguous run by one.
func renumber(ctx context.Context, tx *ent.Client, column []*ent.Lead, gap *uuid.UUID, at int) error {
	shifts := map[int][]uuid.UUID{}
	for i, l := range column {
		want := i
		if gap != nil && i >= at {
			want = i + 1
		}
		if l.BoardPosition != want {
			shifts[want-l.BoardPosition] = append(shifts[want-l.BoardPosition], l.ID)
		}
	}
	for delta, ids := range shifts {
		for chunk := range slices.Chunk(ids, 500) {
			if err := tx.Lead.Update().Where(lead.IDIn(chunk...)).AddBoardPosition(delta).Exec(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// lockColumns locks the board columns of stage and current (if any), in id
// order so that two writers never wait on each other in opposite orders.
func lockColumns(ctx context.Context, tx *ent.Client, stage uuid.UUID, current *uuid.UUID) error {
	stages := []uuid.UUID{stage}
	if current != nil && *current != stage {
		stages = append(stages, *current)
	}
	q := tx.ConnectionStage.Query().Where(connectionstage.IDIn(stages...)).Order(connectionstage.ByID())
	q.Modify(pgLock)
	_, err := q.IDs(ctx)
	return err
}

// LockBoardColumns locks the board columns of stages (PostgreSQL; in id
// order) until the transaction of the bound Service s ends. A transaction
// that takes other locks before it moves a lead — an automation run takes
// a round-robin turn, assigns the lead, then changes its stage — takes its
// columns up front with it, so that every write locks columns before the
// round-robin group and lead rows (docs/writes.md, "Lock order").
func (s *Service) LockBoardColumns(ctx context.Context, stages []uuid.UUID) error {
	if len(stages) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *ent.Client) error {
		q := tx.ConnectionStage.Query().Where(connectionstage.IDIn(unique(stages)...)).Order(connectionstage.ByID())
		q.Modify(pgLock)
		_, err := q.IDs(ctx)
		return err
	})
}

func optionalIDs(id *uuid.UUID) []uuid.UUID {
	if id == nil {
		return nil
	}
	return []uuid.UUID{*id}
}

// pgLock makes a query lock the rows it reads until the transaction ends
// on PostgreSQL (SELECT … FOR NO KEY UPDATE); use it with the query's
// Modify. SQLite has no row locks and needs none: a write transaction
// holds the database from its start (_txlock=immediate), so writers are
// serialised.
//
// NO KEY UPDATE, the lock an UPDATE of the row takes, not FOR UPDATE: the
// locks serialise the writers of a column, a lead or a tenant, never a
// key change (ids never change, deletes are soft), and FOR UPDATE also
// blocks the FOR KEY SHARE of every foreign-key check naming the row. A
// transaction that updates a row twice re-checks all its foreign keys on
// the second UPDATE (PostgreSQL does for a row version it wrote itself):
// an automation run that took a round-robin turn and then assigned its
// lead (two UPDATEs of the lead) checked the lead's stage and waited for
// a lead creation's lock on that column, while the creation waited for
// the turn — a deadlock (TestARoundRobinAssignmentBesideACreationDoesNotDeadlock).
func pgLock(s *sql.Selector) {
	if s.Dialect() == dialect.Postgres {
		s.For(sql.LockNoKeyUpdate)
	}
}

func orID(id *uuid.UUID, fallback uuid.UUID) uuid.UUID {
	if id != nil {
		return *id
	}
	return fallback
}

func sameID(a *uuid.UUID, b uuid.UUID) bool { return a != nil && *a == b }
