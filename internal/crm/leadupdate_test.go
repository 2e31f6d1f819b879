package crm_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/department"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/outboxevent"
	"github.com/conecrm/gateway/ent/status"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
	"github.com/conecrm/gateway/internal/registry"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
	"github.com/conecrm/gateway/internal/viewer"
)

// statusOf returns the tenant's status of kind.
func statusOf(t *testing.T, db *store.DB, ctx context.Context, kind status.Kind) uuid.UUID {
	t.Helper()
	id, err := db.Status.Query().Where(status.KindEQ(kind)).Order(status.ByPosition()).FirstID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// topics returns the topics of the outbox events of record id written
// after the event count skip, in order.
func topics(t *testing.T, db *store.DB, ctx context.Context, id uuid.UUID) []string {
	t.Helper()
	var out []string
	for _, e := range events(t, db, ctx, id) {
		out = append(out, e.Topic)
	}
	return out
}

// lastEvent returns the newest outbox event of record id with topic.
func lastEvent(t *testing.T, db *store.DB, ctx context.Context, id uuid.UUID, topic string) *ent.OutboxEvent {
	t.Helper()
	e, err := db.OutboxEvent.Query().Where(outboxevent.SubjectID(id), outboxevent.Topic(topic)).
		Order(ent.Desc(outboxevent.FieldDateCreated), ent.Desc(outboxevent.FieldID)).First(registry.Unchecked(ctx)) // no viewer reads the outbox
	if err != nil {
		t.Fatalf("no %s event: %v", topic, err)
	}
	return e
}

func change(t *testing.T, e *ent.OutboxEvent, field string) map[string]any {
	t.Helper()
	c, ok := e.Payload["changes"].(map[string]any)[field].(map[string]any)
	if !ok {
		t.Fatalf("%s event has no %s change: %v", e.Topic, field, e.Payload["changes"])
	}
	return c
}

func TestLeadLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		ctx := storetest.As(t, db, "manager@demo-motors.test")
		me := viewer.FromContext(ctx).UserID
		seller := storetest.UserID(t, db, "user@demo-motors.test")
		open, sold, lost, closed := statusOf(t, db, ctx, status.KindOPEN), statusOf(t, db, ctx, status.KindSOLD),
			statusOf(t, db, ctx, status.KindLOST), statusOf(t, db, ctx, status.KindCLOSED)

		type want struct {
			sold, lost, closed bool
			soldBy, lostBy     *uuid.UUID
		}
		tests := []struct {
			name  string
			path  []uuid.UUID // statuses applied in turn after creation
			extra crm.LeadUpdateInput
			want  want
			bad   string // field of the refusal of the last step
		}{
			{name: "open → sold sets soldDate, soldBy and closedDate", path: []uuid.UUID{sold}, want: want{sold: true, closed: true, soldBy: &me}},
			{name: "open → sold with a seller", path: []uuid.UUID{sold}, extra: crm.LeadUpdateInput{SoldByID: &seller}, want: want{sold: true, closed: true, soldBy: &seller}},
			{name: "open → lost sets lostDate, lostBy and closedDate", path: []uuid.UUID{lost}, want: want{lost: true, closed: true, lostBy: &me}},
			{name: "open → closed sets closedDate only", path: []uuid.UUID{closed}, want: want{closed: true}},
			{name: "sold → open reopens: clears the sold and closed dates", path: []uuid.UUID{sold, open}, want: want{}},
			{name: "lost → open reopens", path: []uuid.UUID{lost, open}, want: want{}},
			{name: "sold → lost is refused", path: []uuid.UUID{sold, lost}, bad: "status"},
			{name: "lost → sold is refused", path: []uuid.UUID{lost, sold}, bad: "status"},
			{name: "closed → sold is refused", path: []uuid.UUID{closed, sold}, bad: "status"},
			{name: "a seller on an open lead is refused", path: []uuid.UUID{open}, extra: crm.LeadUpdateInput{SoldByID: &seller}, bad: "soldBy"},
			{name: "a loser on a sold lead is refused", path: []uuid.UUID{sold}, extra: crm.LeadUpdateInput{LostByID: &seller}, bad: "lostBy"},
			{name: "a loss approval on an open lead is refused", path: []uuid.UUID{open}, extra: crm.LeadUpdateInput{IsLostApproved: new(true)}, bad: "isLostApproved"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				l, err := svc.CreateLead(ctx, leadInput(t, db, ctx, tc.name))
				if err != nil {
					t.Fatal(err)
				}
				if l.DateFirstModified != nil {
					t.Fatal("a new lead has no first modification")
				}
				var last error
				for i, st := range tc.path {
					in := crm.LeadUpdateInput{StatusID: &st}
					if i == len(tc.path)-1 {
						in.SoldByID, in.LostByID, in.IsLostApproved = tc.extra.SoldByID, tc.extra.LostByID, tc.extra.IsLostApproved
					}
					var got *ent.Lead
					got, last = svc.UpdateLead(ctx, l.ID, in)
					if last == nil {
						l = got
					}
				}
				if tc.bad != "" {
					assertInvalid(t, last, tc.bad)
					return
				}
				if last != nil {
					t.Fatal(last)
				}
				stored := db.Lead.GetX(ctx, l.ID)
				for _, got := range []*ent.Lead{l, stored} {
					if (got.SoldDate != nil) != tc.want.sold || (got.LostDate != nil) != tc.want.lost ||
						(got.ConnectionClosedDate != nil) != tc.want.closed {
						t.Fatalf("sold %v lost %v closed %v, want %+v", got.SoldDate, got.LostDate, got.ConnectionClosedDate, tc.want)
					}
					if !slices.Equal(ids(got.SoldByID), ids(tc.want.soldBy)) || !slices.Equal(ids(got.LostByID), ids(tc.want.lostBy)) {
						t.Fatalf("soldBy %v lostBy %v, want %+v", got.SoldByID, got.LostByID, tc.want)
					}
					if tc.want.closed && (got.ConnectionClosedByID == nil || *got.ConnectionClosedByID != me) {
						t.Fatalf("closedBy %v", got.ConnectionClosedByID)
					}
					if got.DateFirstModified == nil || got.FirstModifiedByID == nil || *got.FirstModifiedByID != me {
						t.Fatalf("first modification %v by %v", got.DateFirstModified, got.FirstModifiedByID)
					}
				}
				ev := lastEvent(t, db, ctx, l.ID, crm.TopicLeadStatusChanged)
				if c := change(t, ev, "status"); c["after"] != tc.path[len(tc.path)-1].String() {
					t.Fatalf("status change %v", c)
				}
			})
		}
	})
}

func ids(id *uuid.UUID) []uuid.UUID {
	if id == nil {
		return nil
	}
	return []uuid.UUID{*id}
}

func TestUpdateLead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		ctx := storetest.As(t, db, "manager@demo-motors.test")
		l, err := svc.CreateLead(ctx, leadInput(t, db, ctx, "Civic"))
		if err != nil {
			t.Fatal(err)
		}

		t.Run("fields, milestones and custom values: answer, stored state, events", func(t *testing.T) {
			due := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
			got, err := svc.UpdateLead(ctx, l.ID, crm.LeadUpdateInput{
				Subject: new("Civic Si"), Priority: crm.Opt[int]{Set: true, Value: new(3)},
				IsQualified: new(true),
				Texts:       map[string]crm.Opt[string]{"makeStr": {Set: true, Value: new("Honda")}},
				Times:       map[string]crm.Opt[time.Time]{"dueDate": {Set: true, Value: &due}},
				Flags:       map[string]crm.Opt[bool]{"testDriveDone": {Set: true, Value: new(true)}},
			})
			if err != nil {
				t.Fatal(err)
			}
			stored := db.Lead.GetX(ctx, l.ID)
			for _, x := range []*ent.Lead{got, stored} {
				if x.Subject != "Civic Si" || *x.Priority != 3 || !x.IsQualified || *x.MakeStr != "Honda" ||
					!x.DueDate.Equal(due) || !*x.TestDriveDone || x.TestDriveDate == nil || x.DateFirstModified == nil {
					t.Fatalf("lead %+v", x)
				}
			}
			ev := lastEvent(t, db, ctx, l.ID, crm.TopicLeadUpdated)
			if c := change(t, ev, "subject"); c["before"] != "Civic" || c["after"] != "Civic Si" {
				t.Fatalf("subject change %v", c)
			}
			if c := change(t, ev, "priority"); c["before"] != nil || c["after"] != float64(3) {
				t.Fatalf("priority change %v", c)
			}
			change(t, ev, "testDriveDate")
			change(t, ev, "dateFirstModified")
			if _, ok := ev.Payload["changes"].(map[string]any)["stage"]; ok {
				t.Fatal("an unchanged stage is not a change")
			}
			firstModified := *stored.DateFirstModified

			// Turning the milestone off clears its date; the first
			// modification is not recorded again.
			got, err = svc.UpdateLead(ctx, l.ID, crm.LeadUpdateInput{Flags: map[string]crm.Opt[bool]{"testDriveDone": {Set: true, Value: new(false)}}})
			if err != nil || got.TestDriveDate != nil || !got.DateFirstModified.Equal(firstModified) {
				t.Fatalf("%+v %v", got, err)
			}
		})

		t.Run("an update that changes nothing emits nothing", func(t *testing.T) {
			before := len(events(t, db, ctx, l.ID))
			if _, err := svc.UpdateLead(ctx, l.ID, crm.LeadUpdateInput{Subject: new("Civic Si")}); err != nil {
				t.Fatal(err)
			}
			if n := len(events(t, db, ctx, l.ID)); n != before {
				t.Fatalf("%d events after a no-op, want %d", n, before)
			}
		})

		t.Run("bad input names the field and changes nothing", func(t *testing.T) {
			foreign := storetest.As(t, db, "admin@northwind-auto.test")
			foreignStatus := statusOf(t, db, foreign, status.KindOPEN)
			otherStage := db.ConnectionStage.Create().SetName("Not on the pipeline").SaveX(ctx).ID
			cases := []struct {
				field string
				in    crm.LeadUpdateInput
			}{
				{"subject", crm.LeadUpdateInput{Subject: new(" ")}},
				{"status", crm.LeadUpdateInput{StatusID: &foreignStatus}},
				{"status", crm.LeadUpdateInput{StatusID: new(uuid.New())}},
				{"stage", crm.LeadUpdateInput{StageID: &otherStage}},
				{"priority", crm.LeadUpdateInput{Priority: crm.Opt[int]{Set: true, Value: new(11)}}},
				{"direction", crm.LeadUpdateInput{Direction: new("SIDEWAYS")}},
				{"contact", crm.LeadUpdateInput{ContactID: new(uuid.New())}},
				{"orderDate", crm.LeadUpdateInput{Times: map[string]crm.Opt[time.Time]{"orderDate": {Set: true, Value: new(time.Now())}}}},
			}
			before := db.Lead.GetX(ctx, l.ID)
			n := len(events(t, db, ctx, l.ID))
			for _, c := range cases {
				_, err := svc.UpdateLead(ctx, l.ID, c.in)
				assertInvalid(t, err, c.field)
			}
			after := db.Lead.GetX(ctx, l.ID)
			if after.Subject != before.Subject || !after.DateModified.Equal(*before.DateModified) || len(events(t, db, ctx, l.ID)) != n {
				t.Fatal("a refused update changed the lead or emitted an event")
			}
		})

		t.Run("permission and tenancy", func(t *testing.T) {
			user := storetest.As(t, db, "user@demo-motors.test")
			if _, err := svc.UpdateLead(user, l.ID, crm.LeadUpdateInput{Subject: new("x")}); crm.AsError(err).Code != fault.Forbidden {
				t.Fatalf("USER without lead.write: %v", err)
			}
			foreign := storetest.As(t, db, "admin@northwind-auto.test")
			if _, err := svc.UpdateLead(foreign, l.ID, crm.LeadUpdateInput{Subject: new("x")}); crm.AsError(err).Code != fault.NotFound {
				t.Fatalf("another tenant's lead: %v", err)
			}
			if _, err := svc.AssignLead(foreign, l.ID, nil); crm.AsError(err).Code != fault.NotFound {
				t.Fatalf("another tenant's lead: %v", err)
			}
			if _, err := svc.OpenLead(foreign, l.ID); crm.AsError(err).Code != fault.NotFound {
				t.Fatalf("another tenant's lead: %v", err)
			}
		})

		t.Run("assign", func(t *testing.T) {
			u := storetest.UserID(t, db, "user@demo-motors.test")
			if _, err := svc.AssignLead(ctx, l.ID, nil); err != nil {
				t.Fatal(err)
			}
			got, err := svc.AssignLead(ctx, l.ID, []uuid.UUID{u, u})
			if err != nil || len(got.Edges.Assignees) != 1 || got.Edges.Assignees[0].ID != u {
				t.Fatalf("%v %v", got, err)
			}
			ev := lastEvent(t, db, ctx, l.ID, crm.TopicLeadAssigned)
			if c := change(t, ev, "assignees"); fmt.Sprint(c["after"]) != fmt.Sprint([]any{u.String()}) {
				t.Fatalf("assignees change %v", c)
			}
			foreignUser := storetest.UserID(t, db, "admin@northwind-auto.test")
			_, err = svc.AssignLead(ctx, l.ID, []uuid.UUID{foreignUser})
			assertInvalid(t, err, "assignees")
		})

		t.Run("open records the first opening once", func(t *testing.T) {
			user := storetest.As(t, db, "user@demo-motors.test")
			got, err := svc.OpenLead(user, l.ID)
			if err != nil || got.FirstOpenDate == nil || *got.FirstOpenByID != viewer.FromContext(user).UserID {
				t.Fatalf("%+v %v", got, err)
			}
			again, err := svc.OpenLead(ctx, l.ID)
			if err != nil || !again.FirstOpenDate.Equal(*got.FirstOpenDate) || *again.FirstOpenByID != *got.FirstOpenByID {
				t.Fatalf("second opening changed it: %+v %v", again, err)
			}
		})
	})
}

func TestMoveLeadKeepsColumnsDense(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := crm.NewService(db.Client)
		ctx := storetest.As(t, db, "manager@demo-motors.test")
		in := leadInput(t, db, ctx, "board")
		pipe := *db.Department.Query().Where(department.ID(*in.DepartmentID)).OnlyX(ctx).PipelineID
		// Two fresh stages on the pipeline, so the columns hold only this test's leads.
		var cols []uuid.UUID
		for i := range 2 {
			st := db.ConnectionStage.Create().SetName(fmt.Sprint("column ", i)).SaveX(ctx).ID
			db.PipelineStage.Create().SetPipelineID(pipe).SetStageID(st).SetPosition(100 + i).ExecX(ctx)
			cols = append(cols, st)
		}
		const n = 12
		var leads []uuid.UUID
		for i := range n {
			l, err := svc.CreateLead(ctx, leadInput(t, db, ctx, fmt.Sprint("lead ", i)))
			if err != nil {
				t.Fatal(err)
			}
			leads = append(leads, l.ID)
		}
		// Concurrent moves into and between the two columns at random places.
		var wg sync.WaitGroup
		errs := make(chan error, 3*n)
		for i, id := range leads {
			wg.Go(func() {
				for round := range 3 {
					if _, err := svc.MoveLead(ctx, id, cols[(i+round)%2], (i*7+round)%5); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		total := 0
		for _, col := range cols {
			var pos []int
			for _, l := range db.Lead.Query().Where(lead.StageID(col)).Order(lead.ByBoardPosition()).AllX(ctx) {
				pos = append(pos, l.BoardPosition)
			}
			for i, p := range pos {
				if p != i {
					t.Fatalf("column positions %v are not dense and unique", pos)
				}
			}
			total += len(pos)
		}
		if total != n {
			t.Fatalf("%d leads on the columns, want %d", total, n)
		}

		t.Run("moving within a column reorders it", func(t *testing.T) {
			col := db.Lead.Query().Where(lead.StageID(cols[0])).Order(lead.ByBoardPosition()).IDsX(ctx)
			last := col[len(col)-1]
			got, err := svc.MoveLead(ctx, last, cols[0], 0)
			if err != nil || got.BoardPosition != 0 {
				t.Fatalf("%v %v", got, err)
			}
			now := db.Lead.Query().Where(lead.StageID(cols[0])).Order(lead.ByBoardPosition()).IDsX(ctx)
			if !slices.Equal(now, append([]uuid.UUID{last}, col[:len(col)-1]...)) {
				t.Fatalf("order %v, want the last first", now)
			}
			if ev := lastEvent(t, db, ctx, last, crm.TopicLeadUpdated); ev.Payload["data"] == nil {
				t.Fatalf("a reorder event carries the position: %v", ev.Payload)
			}
		})
		t.Run("a stage off the pipeline, a closed lead and a negative position are refused", func(t *testing.T) {
			off := db.ConnectionStage.Create().SetName("off").SaveX(ctx).ID
			_, err := svc.MoveLead(ctx, leads[0], off, 0)
			assertInvalid(t, err, "stage")
			_, err = svc.MoveLead(ctx, leads[0], cols[0], -1)
			assertInvalid(t, err, "position")
			if _, err := svc.UpdateLead(ctx, leads[1], crm.LeadUpdateInput{StatusID: new(statusOf(t, db, ctx, status.KindSOLD))}); err != nil {
				t.Fatal(err)
			}
			_, err = svc.MoveLead(ctx, leads[1], cols[0], 0)
			assertInvalid(t, err, "stage")
		})
		t.Run("stage_changed carries before and after", func(t *testing.T) {
			l := db.Lead.GetX(ctx, leads[2])
			to := cols[0]
			if *l.StageID == to {
				to = cols[1]
			}
			if _, err := svc.MoveLead(ctx, l.ID, to, 0); err != nil {
				t.Fatal(err)
			}
			c := change(t, lastEvent(t, db, ctx, l.ID, crm.TopicLeadStageChanged), "stage")
			if c["before"] != l.StageID.String() || c["after"] != to.String() {
				t.Fatalf("stage change %v", c)
			}
		})
	})
}
