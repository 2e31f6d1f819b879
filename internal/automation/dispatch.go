package automation

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/appointment"
	"github.com/conecrm/gateway/ent/automation"
	"github.com/conecrm/gateway/ent/automationrun"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/outboxevent"
	"github.com/conecrm/gateway/ent/task"
	"github.com/conecrm/gateway/internal/crm"
)

// dispatchArgs is the job of one domain event: find the automations it
// triggers and enqueue a run for each.
type dispatchArgs struct {
	EventID uuid.UUID `json:"eventId"`
}

func (dispatchArgs) Kind() string { return "automation.dispatch" }

func (dispatchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

type dispatchWorker struct {
	river.WorkerDefaults[dispatchArgs]
	rt *Runtime
}

func (w *dispatchWorker) Work(ctx context.Context, job *river.Job[dispatchArgs]) error {
	return w.rt.dispatch(ctx, job.Args.EventID)
}

// runArgs is the job of one automation for one event; with the run row's
// unique (automation, event) key it happens once.
type runArgs struct {
	AutomationID uuid.UUID `json:"automationId"`
	EventID      uuid.UUID `json:"eventId"`
}

func (runArgs) Kind() string { return "automation.run" }

func (runArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// subject is what an event is about, as automations see it: the lead (a
// lead's own event, or the lead of a task or appointment) and its
// franchise.
type subject struct {
	lead *ent.Lead
}

func (s subject) leadID() *uuid.UUID {
	if s.lead == nil {
		return nil
	}
	return &s.lead.ID
}

func (rt *Runtime) loadSubject(ctx context.Context, db *ent.Client, ev *ent.OutboxEvent) (subject, error) {
	var leadID *uuid.UUID
	switch {
	case hasPrefix(ev.Topic, "lead."):
		leadID = &ev.SubjectID
	case hasPrefix(ev.Topic, "task."):
		t, err := db.Task.Query().Where(task.ID(ev.SubjectID)).Select(task.FieldConnectionID).Only(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return subject{}, err
		}
		if t != nil {
			leadID = t.ConnectionID
		}
	case hasPrefix(ev.Topic, "appointment."):
		a, err := db.Appointment.Query().Where(appointment.ID(ev.SubjectID)).Select(appointment.FieldConnectionID).Only(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return subject{}, err
		}
		if a != nil {
			leadID = a.ConnectionID
		}
	}
	if leadID == nil {
		return subject{}, nil
	}
	l, err := db.Lead.Query().Where(lead.ID(*leadID)).Only(ctx)
	if ent.IsNotFound(err) {
		return subject{}, nil
	}
	return subject{lead: l}, err
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// dispatch enqueues a run job for every active automation of the event's
// tenant on its topic whose franchise (if any) is the subject's — except
// the automation whose run caused the event (it is never re-triggered by
// its own effects). Past the causal depth limit, the runs are recorded as
// stopped, with the reason, instead.
func (rt *Runtime) dispatch(ctx context.Context, eventID uuid.UUID) error {
	ev, err := rt.db.OutboxEvent.Get(bypass(ctx), eventID)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	actx := systemContext(ctx, ev.TenantID, nil)
	subj, err := rt.loadSubject(actx, rt.db.Client, ev)
	if err != nil {
		return err
	}
	q := rt.db.Automation.Query().Where(automation.AutomationTrigger(ev.Topic), automation.IsActive(true))
	if subj.lead != nil && subj.lead.FranchiseID != nil {
		q.Where(automation.Or(automation.FranchiseIDIsNil(), automation.FranchiseID(*subj.lead.FranchiseID)))
	} else {
		q.Where(automation.FranchiseIDIsNil())
	}
	autos, err := q.Order(automation.ByDateCreated(), automation.ByID()).All(actx)
	if err != nil {
		return err
	}
	c, err := rt.causation(actx, rt.db.Client, ev)
	if err != nil {
		return err
	}
	return rt.svc.InTx(actx, func(bound *crm.Service, tx *ent.Client, sqlTx *sql.Tx) error {
		var params []river.InsertManyParams
		for _, a := range autos {
			switch {
			case a.ID == c.automation:
				rt.log.DebugContext(ctx, "automation not re-triggered by its own run", "automation", a.ID, "event", ev.ID)
			case c.depth >= rt.cfg.MaxDepth:
				reason := fmt.Sprintf("loop protection: causal chain of %d automation runs reached the limit (%d, CONECRM_AUTOMATION_MAX_DEPTH)", c.depth, rt.cfg.MaxDepth)
				rt.log.WarnContext(ctx, "automation run stopped", "automation", a.ID, "event", ev.ID, "reason", reason)
				if err := recordStopped(actx, tx, a, ev, subj, c, reason); err != nil {
					return err
				}
			default:
				params = append(params, river.InsertManyParams{Args: runArgs{AutomationID: a.ID, EventID: ev.ID}})
			}
		}
		if len(params) > 0 {
			if _, err := rt.river.InsertManyTx(ctx, sqlTx, params); err != nil {
				return err
			}
		}
		return tx.OutboxEvent.Update().Where(outboxevent.ID(ev.ID), outboxevent.ProcessedAtIsNil()).
			SetProcessedAt(time.Now().UTC()).Exec(actx)
	})
}

// recordStopped stores a run that did not start, with its reason (once per
// automation and event, like every run).
func recordStopped(ctx context.Context, tx *ent.Client, a *ent.Automation, ev *ent.OutboxEvent, subj subject, c cause, reason string) error {
	exists, err := tx.AutomationRun.Query().Where(automationrun.AutomationID(a.ID), automationrun.EventID(ev.ID)).Exist(ctx)
	if err != nil || exists {
		return err
	}
	now := time.Now().UTC()
	return tx.AutomationRun.Create().SetAutomationID(a.ID).SetEventID(ev.ID).SetTopic(ev.Topic).
		SetRecordID(ev.SubjectID).SetNillableLeadID(subj.leadID()).SetStatus(automationrun.StatusSTOPPED).
		SetReason(reason).SetDepth(c.depth).SetNillableCausationRunID(c.run).
		SetFinishedAt(now).Exec(ctx)
}

// cause is where an event stands in a causal chain of automation runs: the
// run whose action emitted it (the event's causationId), that run's
// automation, and the event's depth — the causing run's depth plus one, 0
// for a user's own write.
type cause struct {
	run        *uuid.UUID
	automation uuid.UUID
	depth      int
}

func (rt *Runtime) causation(ctx context.Context, db *ent.Client, ev *ent.OutboxEvent) (cause, error) {
	s, _ := ev.Payload["causationId"].(string)
	id, err := uuid.Parse(s)
	if err != nil {
		return cause{}, nil
	}
	r, err := db.AutomationRun.Query().Where(automationrun.ID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return cause{run: &id}, nil
	}
	if err != nil {
		return cause{}, err
	}
	return cause{run: &id, automation: r.AutomationID, depth: r.Depth + 1}, nil
}
