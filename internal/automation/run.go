package automation

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/automationrun"
	"github.com/conecrm/gateway/ent/automationrunstep"
	"github.com/conecrm/gateway/ent/delayedautomation"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
)

type runWorker struct {
	river.WorkerDefaults[runArgs]
	rt *Runtime
}

// errRan says the run already exists: this job is a redelivery.
var errRan = errors.New("automation: run already recorded")

func (w *runWorker) Work(ctx context.Context, job *river.Job[runArgs]) error {
	err := w.rt.run(ctx, job.Args)
	if err != nil && job.Attempt >= max(job.MaxAttempts, 1) {
		// Last attempt: leave a visible failed run rather than nothing.
		w.rt.recordFailedRun(ctx, job.Args, err)
	}
	return err
}

// run performs one automation for one event, in one transaction: the run
// row (unique per automation and event), its steps, and every action's
// effects commit together, so a crash or a retry redoes all or nothing.
func (rt *Runtime) run(ctx context.Context, a runArgs) error {
	ev, err := rt.db.OutboxEvent.Get(bypass(ctx), a.EventID)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	actx := systemContext(ctx, ev.TenantID, nil)
	auto, err := rt.db.Automation.Get(actx, a.AutomationID)
	if ent.IsNotFound(err) {
		return nil // deleted since the dispatch
	}
	if err != nil {
		return err
	}
	actx = systemContext(ctx, ev.TenantID, auto.CreatedByID)
	err = rt.svc.InTx(actx, func(bound *crm.Service, tx *ent.Client, sqlTx *sql.Tx) error {
		done, err := tx.AutomationRun.Query().Where(automationrun.AutomationID(auto.ID), automationrun.EventID(ev.ID)).Exist(actx)
		if err != nil {
			return err
		}
		if done {
			return errRan
		}
		subj, err := rt.loadSubject(actx, tx, ev)
		if err != nil {
			return err
		}
		if err := lockBoard(actx, bound, auto, subj.lead); err != nil {
			return err
		}
		c, err := rt.causation(actx, tx, ev)
		if err != nil {
			return err
		}
		run, err := tx.AutomationRun.Create().SetAutomationID(auto.ID).SetEventID(ev.ID).SetTopic(ev.Topic).
			SetRecordID(ev.SubjectID).SetNillableLeadID(subj.leadID()).SetStatus(automationrun.StatusRUNNING).
			SetDepth(c.depth).SetNillableCausationRunID(c.run).Save(actx)
		if err != nil {
			if ent.IsConstraintError(err) {
				return errRan
			}
			return err
		}
		w := rt.walker(actx, bound, tx, sqlTx, auto, run, ev, subj.lead)
		if err := w.walk(startNodes(auto.Nodes)); err != nil {
			return err
		}
		return w.finish()
	})
	if errors.Is(err, errRan) {
		return nil
	}
	return err
}

func (rt *Runtime) recordFailedRun(ctx context.Context, a runArgs, failure error) {
	ev, err := rt.db.OutboxEvent.Get(bypass(ctx), a.EventID)
	if err != nil {
		return
	}
	actx := systemContext(ctx, ev.TenantID, nil)
	tx := rt.db.Client
	exists, err := tx.AutomationRun.Query().Where(automationrun.AutomationID(a.AutomationID), automationrun.EventID(ev.ID)).Exist(actx)
	if err != nil || exists {
		return
	}
	subj, _ := rt.loadSubject(actx, tx, ev)
	c, _ := rt.causation(actx, tx, ev)
	err = tx.AutomationRun.Create().SetAutomationID(a.AutomationID).SetEventID(ev.ID).SetTopic(ev.Topic).
		SetRecordID(ev.SubjectID).SetNillableLeadID(subj.leadID()).SetStatus(automationrun.StatusFAILED).
		SetReason(truncate("gave up after retries: "+failure.Error(), 1000)).SetDepth(c.depth).
		SetNillableCausationRunID(c.run).SetFinishedAt(time.Now().UTC()).Exec(actx)
	if err != nil {
		rt.log.ErrorContext(ctx, "cannot record a failed automation run", "automation", a.AutomationID, "event", a.EventID, "err", err)
	}
}

// resumeArgs continues a run after a delay node.
type resumeArgs struct {
	DelayedID uuid.UUID `json:"delayedId"`
}

func (resumeArgs) Kind() string { return "automation.resume" }

func (resumeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

type resumeWorker struct {
	river.WorkerDefaults[resumeArgs]
	rt *Runtime
}

func (w *resumeWorker) Work(ctx context.Context, job *river.Job[resumeArgs]) error {
	return w.rt.resume(ctx, job.Args.DelayedID)
}

// resume takes the delayed step (marking it done: a second delivery finds
// nothing to do) and walks on from its delay node, in one transaction. A
// delayed step cancelled by the deletion of its automation or lead is gone
// and does nothing.
func (rt *Runtime) resume(ctx context.Context, id uuid.UUID) error {
	d, err := rt.db.DelayedAutomation.Get(bypass(ctx), id)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if d.DoneAt != nil || d.IsDeleted || d.RunID == nil {
		return nil
	}
	actx := systemContext(ctx, d.TenantID, nil)
	auto, err := rt.db.Automation.Get(actx, d.AutomationID)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	actx = systemContext(ctx, d.TenantID, auto.CreatedByID)
	return rt.svc.InTx(actx, func(bound *crm.Service, tx *ent.Client, sqlTx *sql.Tx) error {
		var l *ent.Lead
		if d.LeadID != nil {
			var err error
			if l, err = tx.Lead.Query().Where(lead.ID(*d.LeadID)).Only(actx); err != nil && !ent.IsNotFound(err) {
				return err
			}
			if err := lockBoard(actx, bound, auto, l); err != nil {
				return err
			}
		}
		n, err := tx.DelayedAutomation.Update().Where(delayedautomation.ID(d.ID), delayedautomation.DoneAtIsNil()).
			SetDoneAt(time.Now().UTC()).Save(actx)
		if err != nil || n == 0 {
			return err
		}
		run, err := tx.AutomationRun.Get(actx, *d.RunID)
		if err != nil {
			return err
		}
		ev, err := tx.OutboxEvent.Get(actx, run.EventID)
		if err != nil {
			return err
		}
		if d.LeadID != nil && l == nil {
			return tx.AutomationRun.UpdateOne(run).SetStatus(automationrun.StatusSTOPPED).
				SetReason("lead deleted during a delay").SetFinishedAt(time.Now().UTC()).Exec(actx)
		}
		w := rt.walker(actx, bound, tx, sqlTx, auto, run, ev, l)
		if w.pos, err = tx.AutomationRunStep.Query().Where(automationrunstep.RunID(run.ID)).Count(actx); err != nil {
			return err
		}
		if err := w.walk(w.successors(d.NodeID, true)); err != nil {
			return err
		}
		return w.finish()
	})
}

// lockBoard takes, before any other lock of the run, the board columns its
// changeStage actions may move lead l between — its stage and every stage
// they name — in the order every write takes them: columns first, then a
// round-robin group, then lead rows. A run that assigned by round robin
// (the group's row) or assigned the lead (its row) before it moved the
// lead deadlocked with lead creations, which lock their first column and
// then the group, and with moves, which lock the columns and then the
// leads they renumber (crm.Service.LockBoardColumns).
func lockBoard(ctx context.Context, bound *crm.Service, auto *ent.Automation, l *ent.Lead) error {
	if l == nil {
		return nil
	}
	var stages []uuid.UUID
	for _, n := range auto.Nodes {
		if t, _ := n["type"].(string); t != "changeStage" {
			continue
		}
		data, _ := n["data"].(map[string]any)
		if id := idPtr(data, "stageId"); id != nil {
			stages = append(stages, *id)
		}
	}
	if len(stages) == 0 {
		return nil
	}
	if l.StageID != nil {
		stages = append(stages, *l.StageID)
	}
	return bound.LockBoardColumns(ctx, stages)
}

// startNodes is where a walk starts: the trigger node.
func startNodes(nodes []map[string]any) []string {
	for _, n := range nodes {
		if t, _ := n["type"].(string); t == crm.TriggerNodeType {
			id, _ := n["id"].(string)
			return []string{id}
		}
	}
	return nil
}

// Step is one node of a walk as history (and testAutomation) shows it.
type Step struct {
	NodeID, NodeType string
	Status           string // DONE, SKIPPED, FAILED, WAITING
	Detail, Error    string
	WaitUntil        *time.Time
}

// walker walks one automation's graph for one run. With dry set it only
// reads (testAutomation): conditions are evaluated, actions and delays are
// described, nothing is written.
type walker struct {
	rt     *Runtime
	ctx    context.Context
	svc    *crm.Service
	tx     *ent.Client
	sqlTx  *sql.Tx
	auto   *ent.Automation
	run    *ent.AutomationRun // nil when dry
	ev     *ent.OutboxEvent
	lead   *ent.Lead
	dry    bool
	pos    int
	steps  []Step
	failed string
	nodes  map[string]map[string]any
}

func (rt *Runtime) walker(ctx context.Context, svc *crm.Service, tx *ent.Client, sqlTx *sql.Tx, auto *ent.Automation, run *ent.AutomationRun, ev *ent.OutboxEvent, l *ent.Lead) *walker {
	w := &walker{rt: rt, svc: svc, tx: tx, sqlTx: sqlTx, auto: auto, run: run, ev: ev, lead: l,
		nodes: map[string]map[string]any{}}
	for _, n := range auto.Nodes {
		if id, ok := n["id"].(string); ok {
			w.nodes[id] = n
		}
	}
	w.ctx = ctx
	if run != nil {
		// The run's own writes carry it as their causation (loop protection).
		w.ctx = crm.WithCause(ctx, run.ID)
	}
	return w
}

// successors returns the targets of id's outgoing edges, in the order of
// the edges; for a condition only those of the branch taken (an edge
// labelled false/no is the false branch, any other the true branch).
func (w *walker) successors(id string, branch bool) []string {
	var out []string
	for _, e := range w.auto.FlowEdges {
		if src, _ := e["source"].(string); src != id {
			continue
		}
		if edgeBranch(e) != branch {
			continue
		}
		if t, ok := e["target"].(string); ok {
			out = append(out, t)
		}
	}
	return out
}

func edgeBranch(e map[string]any) bool {
	for _, k := range []string{"sourceHandle", "label", "branch"} {
		if s, ok := e[k].(string); ok && s != "" {
			switch strings.ToLower(s) {
			case "false", "no":
				return false
			}
			return true
		}
	}
	if d, ok := e["data"].(map[string]any); ok {
		return edgeBranch(d)
	}
	return true
}

// walk visits the graph depth first from start, each node at most once.
func (w *walker) walk(start []string) error {
	seen := map[string]bool{}
	stack := append([]string(nil), start...)
	// Visit in edge order: pop from the front of the pending list.
	for len(stack) > 0 {
		id := stack[0]
		stack = stack[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		n, ok := w.nodes[id]
		if !ok {
			continue
		}
		typ, _ := n["type"].(string)
		data, _ := n["data"].(map[string]any)
		next, err := w.visit(id, typ, data)
		if err != nil {
			return err
		}
		stack = append(next, stack...)
	}
	return nil
}

// visit runs one node and returns the nodes to visit after it.
func (w *walker) visit(id, typ string, data map[string]any) ([]string, error) {
	switch {
	case typ == crm.TriggerNodeType:
		return w.successors(id, true), nil
	case crm.IsCondition(typ):
		ok, detail, err := w.condition(typ, data)
		if err != nil {
			var ce *fault.Error
			if errors.As(err, &ce) {
				return nil, w.step(Step{NodeID: id, NodeType: typ, Status: "FAILED", Error: ce.Message})
			}
			return nil, err
		}
		if err := w.step(Step{NodeID: id, NodeType: typ, Status: "DONE", Detail: fmt.Sprintf("%t: %s", ok, detail)}); err != nil {
			return nil, err
		}
		return w.successors(id, ok), nil
	case typ == "delay":
		until := delayUntil(time.Now().UTC(), data)
		if w.dry {
			// A test shows the whole path: the wait, then what follows.
			return w.successors(id, true), w.step(Step{NodeID: id, NodeType: typ, Status: "WAITING", WaitUntil: &until,
				Detail: "would wait until " + until.Format(time.RFC3339)})
		}
		if err := w.delay(id, until); err != nil {
			return nil, err
		}
		return nil, w.step(Step{NodeID: id, NodeType: typ, Status: "WAITING", WaitUntil: &until,
			Detail: "waiting until " + until.Format(time.RFC3339)})
	default:
		if w.dry {
			return w.successors(id, true), w.step(Step{NodeID: id, NodeType: typ, Status: "DONE", Detail: "would run " + typ})
		}
		detail, err := w.action(id, typ, data)
		if err != nil {
			var ce *fault.Error
			if errors.As(err, &ce) && ce.Code != fault.Internal {
				w.failed = fmt.Sprintf("%s failed: %s", id, ce.Error())
				return nil, w.step(Step{NodeID: id, NodeType: typ, Status: "FAILED", Error: ce.Error()})
			}
			return nil, err
		}
		status := "DONE"
		if typ == "webhook" {
			status = "WAITING" // until its delivery job reports
		}
		return w.successors(id, true), w.step(Step{NodeID: id, NodeType: typ, Status: status, Detail: detail})
	}
}

// step records one step (in memory when dry).
func (w *walker) step(s Step) error {
	w.steps = append(w.steps, s)
	w.pos++
	if w.dry {
		return nil
	}
	_, err := w.tx.AutomationRunStep.Create().SetRunID(w.run.ID).SetPosition(w.pos).SetNodeID(s.NodeID).
		SetNodeType(s.NodeType).SetStatus(automationrunstep.Status(s.Status)).SetDetail(truncate(s.Detail, 2000)).
		SetError(truncate(s.Error, 2000)).SetNillableWaitUntil(s.WaitUntil).Save(w.ctx)
	return err
}

// delay stores the pending continuation and schedules its job, both in the
// run's transaction.
func (w *walker) delay(nodeID string, until time.Time) error {
	d, err := w.tx.DelayedAutomation.Create().SetAutomationID(w.auto.ID).SetNillableLeadID(leadIDOf(w.lead)).
		SetNodeID(nodeID).SetRunAt(until).SetRunID(w.run.ID).Save(w.ctx)
	if err != nil {
		return err
	}
	_, err = w.rt.river.InsertTx(w.ctx, w.sqlTx, resumeArgs{DelayedID: d.ID}, &river.InsertOpts{ScheduledAt: until})
	return err
}

func leadIDOf(l *ent.Lead) *uuid.UUID {
	if l == nil {
		return nil
	}
	return &l.ID
}

// finish sets the run's outcome and the lead's automationDay.
func (w *walker) finish() error {
	pending, err := w.tx.DelayedAutomation.Query().
		Where(delayedautomation.RunID(w.run.ID), delayedautomation.DoneAtIsNil()).Exist(w.ctx)
	if err != nil {
		return err
	}
	upd := w.tx.AutomationRun.UpdateOne(w.run)
	switch {
	case w.failed != "":
		upd.SetStatus(automationrun.StatusFAILED).SetReason(truncate(w.failed, 1000)).SetFinishedAt(time.Now().UTC())
	case pending:
		upd.SetStatus(automationrun.StatusWAITING)
	default:
		upd.SetStatus(automationrun.StatusDONE).SetFinishedAt(time.Now().UTC())
	}
	if err := upd.Exec(w.ctx); err != nil {
		return err
	}
	if tell := w.rt.cfg.RunChanged; tell != nil {
		if err := tell(w.ctx, w.tx, w.run.TenantID, w.run.ID, w.run.AutomationID); err != nil {
			return err
		}
	}
	if w.lead != nil && w.pos > 0 {
		day := int(time.Since(w.lead.DateCreated) / (24 * time.Hour))
		return w.tx.Lead.Update().Where(lead.ID(w.lead.ID)).SetAutomationDay(day).Exec(w.ctx)
	}
	return nil
}

// Test walks automation id for lead leadID without side effects and
// returns the path a run would take (GraphQL testAutomation).
func (rt *Runtime) Test(ctx context.Context, id, leadID uuid.UUID) ([]Step, error) {
	if err := crm.Require(ctx, crm.PermAutomationRead); err != nil {
		return nil, err
	}
	auto, err := rt.db.Automation.Get(ctx, id)
	if err != nil {
		return nil, crm.AsError(err)
	}
	l, err := rt.db.Lead.Get(ctx, leadID)
	if err != nil {
		return nil, fault.FieldError("leadId", "unknown lead")
	}
	ev := &ent.OutboxEvent{ID: uuid.Nil, Topic: auto.AutomationTrigger, SubjectID: l.ID, TenantID: l.TenantID}
	w := rt.walker(ctx, rt.svc, rt.db.Client, nil, auto, nil, ev, l)
	w.dry = true
	if err := w.walk(startNodes(auto.Nodes)); err != nil {
		return nil, crm.AsError(err)
	}
	if w.steps == nil {
		w.steps = []Step{}
	}
	return w.steps, nil
}
