package rest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/customfield"
	"github.com/conecrm/gateway/ent/customfieldvalue"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/outboxevent"
	"github.com/conecrm/gateway/ent/pipelinestage"
	"github.com/conecrm/gateway/ent/roundrobincursor"
	"github.com/conecrm/gateway/ent/status"
	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// leadJSON is the part of a Lead response the tests read.
type leadJSON struct {
	ID                string
	Subject           string
	Status, Stage     *struct{ ID string }
	Contact, Account  *struct{ ID string }
	Source, Franchise *struct{ ID string }
	Department        *struct{ ID string }
	Assignees         []struct{ ID string }
	MakeStr           *string
	Category          *string
	SoldDate          *string
	ThirdPartyIDs     []any `json:"thirdPartyIds"`
}

// formError is the lead routes' 400 body.
type formError struct {
	Errors  map[string][]string
	Message string
}

func (s *seeded) customField(name string) *ent.CustomField {
	s.t.Helper()
	f, err := s.db.CustomField.Query().Where(customfield.TenantID(s.tid), customfield.FieldName(name)).Only(s.ctx)
	s.must(err)
	return f
}

// newLead is a valid LeadCreateRequest in the franchise with code DT.
func newLead(d *seeded, subject string) map[string]any {
	fr := d.franchise("DT")
	ref := func(id uuid.UUID) map[string]any { return map[string]any{"id": id.String()} }
	return map[string]any{
		"subject": subject, "department": ref(d.salesDepartment(fr).ID), "franchise": ref(fr.ID),
		"contact": ref(d.contacts()[0].ID), "source": ref(d.source().ID),
	}
}

func with(body map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range body {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func TestCreateLead(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		demo := tenantData(t, db, "demo-motors.test")
		northwind := tenantData(t, db, "northwind-auto.test")
		dt := demo.franchise("DT")
		budget, financing := demo.customField("budget"), demo.customField("financing")

		t.Run("starts on the pipeline's first stage, open, assigned by round robin, with an outbox event", func(t *testing.T) {
			var l leadJSON
			s.Expect(t, http.StatusOK, http.MethodPost, "/api/lead", resttest.User, with(newLead(demo, "Civic for Ada"),
				"makeStr", "Honda", "category", "CAR", "id", "01a21b42-3cf8-700e-b376-2958bfc9e509",
				"customFieldValues", []any{
					map[string]any{"field": map[string]any{"id": budget.ID}, "value": "25000.50"},
					map[string]any{"field": map[string]any{"id": financing.ID}, "value": "loan"},
				})).JSON(t, &l)
			first, err := db.PipelineStage.Query().Where(pipelinestage.PipelineID(*demo.salesDepartment(dt).PipelineID)).
				Order(pipelinestage.ByPosition()).First(demo.ctx)
			demo.must(err)
			open, err := db.Status.Query().Where(status.TenantID(demo.tid), status.KindEQ(status.KindOPEN)).Only(demo.ctx)
			demo.must(err)
			if l.Stage == nil || l.Stage.ID != first.StageID.String() || l.Status == nil || l.Status.ID != open.ID.String() {
				t.Fatalf("stage %+v status %+v; want %s and %s", l.Stage, l.Status, first.StageID, open.ID)
			}
			if l.Subject != "Civic for Ada" || *l.MakeStr != "Honda" || *l.Category != "CAR" || l.ID == "01a21b42-3cf8-700e-b376-2958bfc9e509" {
				t.Fatalf("lead %+v", l)
			}
			members := demo.group().MembersOrder
			if len(l.Assignees) != 1 || !slices.Contains(members, l.Assignees[0].ID) {
				t.Fatalf("assignees %+v, want one of the round-robin members %v", l.Assignees, members)
			}
			id := mustUUID(t, l.ID)
			n, err := db.OutboxEvent.Query().Where(outboxevent.SubjectID(id), outboxevent.Topic("lead.created")).Count(demo.ctx)
			demo.must(err)
			values, err := db.CustomFieldValue.Query().Where(customfieldvalue.RecordID(id)).All(demo.ctx)
			demo.must(err)
			if n != 1 || len(values) != 2 {
				t.Fatalf("%d outbox events, %d custom values; want 1 and 2", n, len(values))
			}
		})
		t.Run("keeps the given assignees", func(t *testing.T) {
			manager := storetest.UserID(t, db, resttest.Manager)
			var l leadJSON
			s.Expect(t, http.StatusOK, http.MethodPost, "/api/lead", resttest.User, with(newLead(demo, "Assigned"),
				"assignees", []any{map[string]any{"id": manager}})).JSON(t, &l)
			if len(l.Assignees) != 1 || l.Assignees[0].ID != manager.String() {
				t.Fatalf("assignees %+v, want the manager", l.Assignees)
			}
		})
		otherContact := northwind.contacts()[0].ID
		rejected := []struct {
			name   string
			body   any
			fields []string
		}{
			{"nothing sent", map[string]any{}, []string{"contact", "department", "franchise", "source", "subject"}},
			{"blank subject", with(newLead(demo, "  ")), []string{"subject"}},
			{"malformed JSON", `{"subject": `, []string{"body"}},
			{"wrong type", with(newLead(demo, "x"), "subject", 5), []string{"subject"}},
			{"wrong nested type", with(newLead(demo, "x"), "contact", map[string]any{"id": 5}), []string{"contact.id"}},
			{"not a UUID", with(newLead(demo, "x"), "source", map[string]any{"id": "source-1"}), []string{"source.id"}},
			{"unknown source", with(newLead(demo, "x"), "source", map[string]any{"id": uuid.Must(uuid.NewV7())}), []string{"source"}},
			{"another tenant's contact", with(newLead(demo, "x"), "contact", map[string]any{"id": otherContact}), []string{"contact"}},
			{"another tenant's assignee", with(newLead(demo, "x"), "assignees", []any{map[string]any{"id": storetest.UserID(t, db, resttest.OtherAdmin)}}), []string{"assignees"}},
			{"department of another franchise", with(newLead(demo, "x"), "franchise", map[string]any{"id": demo.franchise("NS").ID}), []string{"department"}},
			{"custom value of the wrong type", with(newLead(demo, "x"), "customFieldValues", []any{map[string]any{"field": map[string]any{"id": budget.ID}, "value": "lots"}}), []string{"customFieldValues[0].value"}},
			{"not a lead custom field", with(newLead(demo, "x"), "customFieldValues", []any{map[string]any{"field": map[string]any{"id": demo.customField("birthday").ID}, "value": "2000-01-01"}}), []string{"customFieldValues[0].field"}},
		}
		for _, c := range rejected {
			t.Run("400: "+c.name, func(t *testing.T) {
				before := storetest.TakeSnapshot(t, db)
				var e formError
				s.Expect(t, http.StatusBadRequest, http.MethodPost, "/api/lead", resttest.User, c.body).JSON(t, &e)
				var got []string
				for f := range e.Errors {
					got = append(got, f)
				}
				slices.Sort(got)
				if !slices.Equal(got, c.fields) || e.Message == "" {
					t.Fatalf("errors %v (%q), want fields %v", e.Errors, e.Message, c.fields)
				}
				storetest.NothingWritten(t, db, before)
			})
		}
		t.Run("401 and 403", func(t *testing.T) {
			s.Expect(t, http.StatusUnauthorized, http.MethodPost, "/api/lead", resttest.NoToken, newLead(demo, "x"))
			s.Expect(t, http.StatusForbidden, http.MethodPost, "/api/lead", withoutRoles(t, db), newLead(demo, "x"))
		})
	})
}

// Concurrent creations each take their own turn of the round robin, so the
// rotation stays fair: 3 rounds over 3 members give each member 3 leads.
func TestCreateLeadRoundRobinIsFairUnderConcurrency(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		demo := tenantData(t, db, "demo-motors.test")
		group := demo.group()
		before := 0
		if c, err := db.RoundRobinCursor.Query().Where(roundrobincursor.SecurityGroupID(group.ID)).Only(demo.ctx); err == nil {
			before = c.Turn
		}
		const rounds = 3
		n := rounds * len(group.MembersOrder)
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			counts = map[string]int{}
			errs   []string
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := s.Server.Do(http.MethodPost, "/api/lead", resttest.User, newLead(demo, fmt.Sprintf("concurrent %d", i)))
				mu.Lock()
				defer mu.Unlock()
				var l leadJSON
				if err := resttest.Validate(http.MethodPost, "/api/lead", res); err != nil || res.Status != http.StatusOK || json.Unmarshal(res.Body, &l) != nil || len(l.Assignees) != 1 {
					errs = append(errs, fmt.Sprintf("%d %v %s", res.Status, err, res.Body))
					return
				}
				counts[l.Assignees[0].ID]++
			}()
		}
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("%d requests failed: %v", len(errs), errs)
		}
		for _, m := range group.MembersOrder {
			if counts[m] != rounds {
				t.Errorf("member %s got %d leads, want %d (all: %v)", m, counts[m], rounds, counts)
			}
		}
		after, err := db.RoundRobinCursor.Query().Where(roundrobincursor.SecurityGroupID(group.ID)).Only(demo.ctx)
		demo.must(err)
		if after.Turn != before+n {
			t.Errorf("the group's cursor %d, want %d", after.Turn, before+n)
		}
	})
}

func TestCopyLead(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		demo := tenantData(t, db, "demo-motors.test")
		northwind := tenantData(t, db, "northwind-auto.test")
		// An original with a custom value, assignees, a third-party id and a
		// finished lifecycle: only some of it may be copied.
		valued, err := db.CustomFieldValue.Query().Where(customfieldvalue.FieldIDEQ(demo.customField("budget").ID)).First(demo.ctx)
		demo.must(err)
		orig, err := db.Lead.Query().Where(lead.ID(valued.RecordID)).WithAssignees().Only(demo.ctx)
		demo.must(err)
		demo.must(db.Lead.UpdateOneID(orig.ID).SetSoldDate(time.Now()).SetVisitCount(4).SetCategory("CAR").Exec(demo.ctx))
		demo.must(db.ConnectionThirdPartyID.Create().SetTenantID(demo.tid).SetConnectionID(orig.ID).
			SetSystemName("DMS").SetThirdPartyID("X-1").Exec(demo.ctx))
		newContact := demo.contacts()[9]
		path := "/api/lead/" + orig.ID.String() + "/copy"

		t.Run("inherits the deal, not the identity or the lifecycle", func(t *testing.T) {
			var c leadJSON
			s.Expect(t, http.StatusOK, http.MethodPost, path, resttest.User, map[string]any{
				"contact": map[string]any{"id": newContact.ID, "firstName": "ignored"},
			}).JSON(t, &c)
			if c.ID == orig.ID.String() || c.Subject != orig.Subject || c.Contact.ID != newContact.ID.String() ||
				c.Source.ID != orig.SourceID.String() || c.Franchise.ID != orig.FranchiseID.String() ||
				c.Department.ID != orig.DepartmentID.String() || *c.MakeStr != *orig.MakeStr || *c.Category != "CAR" {
				t.Fatalf("copy %+v of %+v", c, orig)
			}
			if c.SoldDate != nil || len(c.ThirdPartyIDs) != 0 || c.Account != nil {
				t.Fatalf("copied lifecycle, third-party ids or account: %+v", c)
			}
			var want, got []string
			for _, a := range orig.Edges.Assignees {
				want = append(want, a.ID.String())
			}
			for _, a := range c.Assignees {
				got = append(got, a.ID)
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("assignees %v, want %v", got, want)
			}
			copied, err := db.Lead.Get(demo.ctx, mustUUID(t, c.ID))
			demo.must(err)
			values, err := db.CustomFieldValue.Query().Where(customfieldvalue.RecordID(copied.ID)).All(demo.ctx)
			demo.must(err)
			if copied.VisitCount != 0 || len(values) != 1 || values[0].Value != valued.Value {
				t.Fatalf("visits %d, custom values %+v; want 0 and %q", copied.VisitCount, values, valued.Value)
			}
			n, err := db.OutboxEvent.Query().Where(outboxevent.SubjectID(copied.ID)).Count(demo.ctx)
			demo.must(err)
			if n != 1 {
				t.Fatalf("%d outbox events for the copy", n)
			}
		})
		t.Run("takes the overrides", func(t *testing.T) {
			ns := demo.franchise("NS")
			account := demo.accounts()[0]
			var c leadJSON
			s.Expect(t, http.StatusOK, http.MethodPost, path, resttest.User, map[string]any{
				"contact": map[string]any{"id": newContact.ID}, "subject": "Second car",
				"account": map[string]any{"id": account.ID}, "franchise": map[string]any{"id": ns.ID},
				"department": map[string]any{"id": demo.salesDepartment(ns).ID},
			}).JSON(t, &c)
			if c.Subject != "Second car" || c.Account.ID != account.ID.String() || c.Franchise.ID != ns.ID.String() {
				t.Fatalf("overrides ignored: %+v", c)
			}
		})
		other := northwind.lead()
		for _, c := range []struct {
			name, path, as string
			body           any
			status         int
			field          string
		}{
			{"unknown lead", "/api/lead/" + uuid.Must(uuid.NewV7()).String() + "/copy", resttest.User, map[string]any{"contact": map[string]any{"id": newContact.ID}}, http.StatusNotFound, ""},
			{"another tenant's lead", "/api/lead/" + other.ID.String() + "/copy", resttest.User, map[string]any{"contact": map[string]any{"id": newContact.ID}}, http.StatusNotFound, ""},
			{"not a UUID", "/api/lead/7/copy", resttest.User, map[string]any{"contact": map[string]any{"id": newContact.ID}}, http.StatusNotFound, ""},
			{"no contact", path, resttest.User, map[string]any{"subject": "x"}, http.StatusBadRequest, "contact"},
			{"another tenant's contact", path, resttest.User, map[string]any{"contact": map[string]any{"id": northwind.contacts()[0].ID}}, http.StatusBadRequest, "contact"},
			{"malformed JSON", path, resttest.User, `{"contact":`, http.StatusBadRequest, "body"},
			{"wrong type", path, resttest.User, map[string]any{"contact": map[string]any{"id": newContact.ID}, "subject": []int{1}}, http.StatusBadRequest, "subject"},
			{"no token", path, resttest.NoToken, map[string]any{"contact": map[string]any{"id": newContact.ID}}, http.StatusUnauthorized, ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := storetest.TakeSnapshot(t, db)
				res := s.Expect(t, c.status, http.MethodPost, c.path, c.as, c.body)
				if c.field != "" {
					var e formError
					res.JSON(t, &e)
					if _, ok := e.Errors[c.field]; !ok {
						t.Fatalf("errors %v do not name %s", e.Errors, c.field)
					}
				}
				storetest.NothingWritten(t, db, before)
			})
		}
		t.Run("403 without lead.copy", func(t *testing.T) {
			s.Expect(t, http.StatusForbidden, http.MethodPost, path, withoutRoles(t, db), map[string]any{"contact": map[string]any{"id": newContact.ID}})
		})
	})
}
