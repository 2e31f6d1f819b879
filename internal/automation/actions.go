package automation

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/contact"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/outboundmessage"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
)

// action performs one action node through the domain services (bound to
// the run's transaction) and returns what it did, for the run history.
func (w *walker) action(id, typ string, data map[string]any) (string, error) {
	if w.lead == nil && typ != "webhook" {
		return "", fault.Errorf(fault.Invalid, "the event has no lead")
	}
	switch typ {
	case "createTask":
		assignee, err := w.assignee(data)
		if err != nil {
			return "", err
		}
		in := crm.TaskInput{Title: ptr(str(data, "title")), AssigneeID: &assignee}
		in.ConnectionID = crm.Opt[uuid.UUID]{Set: true, Value: &w.lead.ID}
		if t := str(data, "type"); t != "" {
			in.Type = crm.Opt[string]{Set: true, Value: &t}
		}
		if n := str(data, "note"); n != "" {
			in.Note = crm.Opt[string]{Set: true, Value: &n}
		}
		start := due(data)
		in.Start = crm.Opt[time.Time]{Set: true, Value: &start}
		t, err := w.svc.CreateTask(w.ctx, in)
		if err != nil {
			return "", err
		}
		return "task " + t.ID.String(), nil
	case "createFollowUp":
		assignee, err := w.assignee(data)
		if err != nil {
			return "", err
		}
		f, err := w.svc.CreateAutomationFollowUp(w.ctx, crm.FollowUpInput{LeadID: w.lead.ID, Title: str(data, "title"),
			Note: str(data, "note"), AssigneeID: assignee, Due: due(data)})
		if err != nil {
			return "", err
		}
		return "follow-up " + f.ID.String(), nil
	case "assignLead":
		assignee := idPtr(data, "userId")
		if str(data, "mode") != "user" {
			var group *uuid.UUID
			if str(data, "mode") == "group" {
				group = idPtr(data, "groupId")
			}
			turn, err := w.svc.RoundRobinTurn(w.ctx, w.lead.ID, group)
			if err != nil {
				return "", err
			}
			assignee = &turn
		}
		if assignee == nil {
			return "", fault.Errorf(fault.Invalid, "no user to assign")
		}
		if _, err := w.svc.AssignLead(w.ctx, w.lead.ID, []uuid.UUID{*assignee}); err != nil {
			return "", err
		}
		return "assigned to " + assignee.String(), nil
	// Stage and status change through UpdateLead, the one domain path of
	// a lead's change: lifecycle rules, dense board positions (the lead
	// goes last on its new stage's column) and the same events as a user's
	// write. A lead already there is left alone.
	case "changeStage":
		_, err := w.svc.UpdateLead(w.ctx, w.lead.ID, crm.LeadUpdateInput{StageID: idPtr(data, "stageId")})
		return "stage " + str(data, "stageId"), err
	case "changeStatus":
		_, err := w.svc.UpdateLead(w.ctx, w.lead.ID, crm.LeadUpdateInput{StatusID: idPtr(data, "statusId")})
		return "status " + str(data, "statusId"), err
	case "webhook":
		return w.webhook(id, data)
	case "sendEmail", "sendSms":
		return w.message(typ, data)
	}
	return "", fault.Errorf(fault.Invalid, "unsupported action %q", typ)
}

// assignee is the node's assignee, else the lead's first assignee, else
// the automation's author.
func (w *walker) assignee(data map[string]any) (uuid.UUID, error) {
	if id := idPtr(data, "assigneeId"); id != nil {
		return *id, nil
	}
	ids, err := w.tx.Lead.Query().Where(lead.ID(w.lead.ID)).QueryAssignees().Order(user.ByID()).IDs(w.ctx)
	if err != nil {
		return uuid.Nil, err
	}
	if len(ids) > 0 {
		return ids[0], nil
	}
	if w.auto.CreatedByID != nil {
		return *w.auto.CreatedByID, nil
	}
	return uuid.Nil, fault.Errorf(fault.Invalid, "no assignee: set assigneeId, or assign the lead")
}

func due(data map[string]any) time.Time {
	h, _ := data["dueInHours"].(float64)
	return time.Now().UTC().Add(time.Duration(h * float64(time.Hour))).Truncate(time.Second)
}

// webhook enqueues the delivery (its own job, with River's retries) and
// records the step as waiting for it; the delivery job completes the step.
func (w *walker) webhook(nodeID string, data map[string]any) (string, error) {
	body, err := json.Marshal(map[string]any{
		"event": map[string]any{"id": w.ev.ID, "topic": w.ev.Topic, "subjectId": w.ev.SubjectID,
			"payload": w.ev.Payload, "date": w.ev.DateCreated},
		"automation": map[string]any{"id": w.auto.ID, "name": w.auto.Name, "runId": w.run.ID, "nodeId": nodeID},
		"lead":       leadPayload(w.lead),
	})
	if err != nil {
		return "", err
	}
	_, err = w.rt.river.InsertTx(w.ctx, w.sqlTx, webhookArgs{RunID: w.run.ID, NodeID: nodeID, TenantID: w.run.TenantID,
		AutomationID: w.auto.ID, URL: str(data, "url"), Body: body}, nil)
	if err != nil {
		return "", err
	}
	return "delivery to " + str(data, "url") + " queued", nil
}

func leadPayload(l *ent.Lead) any {
	if l == nil {
		return nil
	}
	return map[string]any{"id": l.ID, "subject": l.Subject, "stageId": l.StageID, "statusId": l.StatusID,
		"franchiseId": l.FranchiseID, "departmentId": l.DepartmentID, "contactId": l.ContactID}
}

// message stores an email or SMS; with a transport configured it is sent
// by its own job, otherwise it stays in the development mailbox.
func (w *walker) message(typ string, data map[string]any) (string, error) {
	channel := outboundmessage.ChannelEMAIL
	if typ == "sendSms" {
		channel = outboundmessage.ChannelSMS
	}
	to := str(data, "to")
	if to == "" || to == "contact" {
		if w.lead.ContactID == nil {
			return "", fault.Errorf(fault.Invalid, "the lead has no contact to write to")
		}
		c, err := w.tx.Contact.Query().Where(contact.ID(*w.lead.ContactID)).Only(w.ctx)
		if err != nil {
			return "", err
		}
		if channel == outboundmessage.ChannelEMAIL {
			to = deref(c.PrimaryEmail)
		} else {
			to = deref(c.MobilePhone)
		}
		if to == "" {
			return "", fault.Errorf(fault.Invalid, "the lead's contact has no %s", map[bool]string{true: "email address", false: "mobile phone"}[channel == outboundmessage.ChannelEMAIL])
		}
	}
	status := outboundmessage.StatusMAILBOX
	if channel == outboundmessage.ChannelEMAIL && w.rt.mailer != nil {
		status = outboundmessage.StatusPENDING
	}
	m, err := w.tx.OutboundMessage.Create().SetChannel(channel).SetRecipient(to).SetSubject(str(data, "subject")).
		SetBody(str(data, "body")).SetStatus(status).SetRunID(w.run.ID).SetLeadID(w.lead.ID).Save(w.ctx)
	if err != nil {
		return "", err
	}
	if status == outboundmessage.StatusPENDING {
		if _, err := w.rt.river.InsertTx(w.ctx, w.sqlTx, sendArgs{MessageID: m.ID}, nil); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s to %s queued (message %s)", channel, to, m.ID), nil
	}
	return fmt.Sprintf("%s to %s kept in the development mailbox (message %s)", channel, to, m.ID), nil
}

func str(data map[string]any, key string) string {
	s, _ := data[key].(string)
	return s
}

func idPtr(data map[string]any, key string) *uuid.UUID {
	id, err := uuid.Parse(str(data, key))
	if err != nil {
		return nil
	}
	return &id
}

func ptr[T any](v T) *T { return &v }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
