package rest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/rest/resttest"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// taskJSON is the part of a Task response the tests read.
type taskJSON struct {
	ID       string
	Title    string
	Note     string
	Type     *string
	Start    *time.Time
	End      *time.Time
	Edited   *bool
	TaskDone bool
	Contact  *struct{ ID string }
	Assignee *struct {
		ID      string
		IsGroup bool
	}
}

func TestCreateTask(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		demo := tenantData(t, db, "demo-motors.test")
		northwind := tenantData(t, db, "northwind-auto.test")
		group := demo.group()
		contact, acct, lead := demo.contacts()[0], demo.accounts()[0], demo.lead()
		sales1 := storetest.UserID(t, db, resttest.Sales1)

		t.Run("creates a task for a group with its references", func(t *testing.T) {
			var tk taskJSON
			s.Expect(t, http.StatusOK, http.MethodPost, "/api/task", resttest.User, map[string]any{
				"type": "CALL", "assignee": group.ID, "title": " Call back ", "note": "about financing",
				"start": "2026-03-01T10:00:00+01:00", "end": "2026-03-01T09:30:00Z",
				"contact": contact.ID, "account": acct.ID, "connection": lead.ID,
			}).JSON(t, &tk)
			if tk.Title != "Call back" || *tk.Type != "CALL" || tk.Assignee == nil || !tk.Assignee.IsGroup ||
				tk.Assignee.ID != group.ID.String() || tk.Contact.ID != contact.ID.String() ||
				!tk.Start.Equal(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)) || tk.Start.Location() != time.UTC {
				t.Fatalf("task %+v", tk)
			}
		})
		t.Run("a user as assignee; empty type is none", func(t *testing.T) {
			var tk taskJSON
			s.Expect(t, http.StatusOK, http.MethodPost, "/api/task", resttest.User, map[string]any{
				"assignee": sales1, "title": "Send brochure", "type": "",
			}).JSON(t, &tk)
			if tk.Assignee.IsGroup || tk.Assignee.ID != sales1.String() || tk.Type != nil || tk.Note != "" {
				t.Fatalf("task %+v", tk)
			}
		})
		valid := map[string]any{"assignee": sales1, "title": "x"}
		for _, c := range []struct {
			name string
			body any
			want string
		}{
			{"nothing sent", map[string]any{}, "assignee This value should not be blank.\ntitle This value should not be blank."},
			{"blank title", with(valid, "title", "  "), "title This value should not be blank."},
			{"type outside the enum", with(valid, "type", "PARTY"), "type The value you selected is not a valid choice."},
			{"end before start", with(valid, "start", "2026-03-01T10:00:00Z", "end", "2026-03-01T09:00:00Z"), "end The end date must not be before the start date."},
			{"assignee of another tenant", with(valid, "assignee", storetest.UserID(t, db, resttest.OtherAdmin)), "assignee This value should be a user or a security group of the tenant."},
			{"assignee that is no security object", with(valid, "assignee", contact.ID), "assignee This value should be a user or a security group of the tenant."},
			{"assignee not a UUID", with(valid, "assignee", "sales1"), "assignee must be a UUID"},
			{"contact of another tenant", with(valid, "contact", northwind.contacts()[0].ID), "contact This value is not valid: no such record."},
			{"unknown connection", with(valid, "connection", uuid.Must(uuid.NewV7())), "connection This value is not valid: no such record."},
			{"wrong type", with(valid, "title", 5), "title must be a string, not a number"},
			{"not a date", with(valid, "start", "tomorrow"), "start must be an RFC 3339 date-time"},
			{"malformed JSON", `{"title": "x"`, "body is not valid JSON"},
		} {
			t.Run("400: "+c.name, func(t *testing.T) {
				before := storetest.TakeSnapshot(t, db)
				var msg string
				s.Expect(t, http.StatusBadRequest, http.MethodPost, "/api/task", resttest.User, c.body).JSON(t, &msg)
				if msg != c.want {
					t.Fatalf("body %q, want %q", msg, c.want)
				}
				storetest.NothingWritten(t, db, before)
			})
		}
		t.Run("401 and 403", func(t *testing.T) {
			s.Expect(t, http.StatusUnauthorized, http.MethodPost, "/api/task", resttest.NoToken, valid)
			s.Expect(t, http.StatusForbidden, http.MethodPost, "/api/task", withoutRoles(t, db), valid)
		})
	})
}

func TestUpdateAndDeleteTask(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := resttest.Start(t, db)
		demo := tenantData(t, db, "demo-motors.test")
		user := storetest.UserID(t, db, resttest.User)
		sales1 := storetest.UserID(t, db, resttest.Sales1)
		mine := demo.taskAssignedTo(user, user)
		groups := demo.taskAssignedTo(demo.group().ID, user)
		theirs := demo.taskAssignedTo(sales1, user)
		other := tenantData(t, db, "northwind-auto.test")
		otherTask := other.taskAssignedTo(storetest.UserID(t, db, "sales1@northwind-auto.test"), uuid.Nil)
		path := func(id uuid.UUID) string { return "/api/task/" + id.String() }

		t.Run("a USER updates tasks assigned to them or their group", func(t *testing.T) {
			var tk taskJSON
			s.Expect(t, http.StatusOK, http.MethodPatch, path(mine.ID), resttest.User, map[string]any{"taskDone": true, "note": "done"}).JSON(t, &tk)
			if !tk.TaskDone || tk.Note != "done" || tk.Edited == nil || !*tk.Edited || tk.Title != mine.Title {
				t.Fatalf("updated %+v", tk)
			}
			s.Expect(t, http.StatusOK, http.MethodPatch, path(groups.ID), resttest.User, map[string]any{"title": "Group work"})
		})
		t.Run("null clears, absent keeps", func(t *testing.T) {
			var tk taskJSON
			s.Expect(t, http.StatusOK, http.MethodPatch, path(mine.ID), resttest.User, map[string]any{"contact": demo.contacts()[1].ID}).JSON(t, &tk)
			if tk.Contact == nil {
				t.Fatal("contact not set")
			}
			s.Expect(t, http.StatusOK, http.MethodPatch, path(mine.ID), resttest.User, map[string]any{"contact": nil, "start": nil, "type": nil}).JSON(t, &tk)
			if tk.Contact != nil || tk.Start != nil || tk.Type != nil || tk.Note != "done" {
				t.Fatalf("after clearing %+v", tk)
			}
		})
		t.Run("the end may not move before the stored start", func(t *testing.T) {
			s.Expect(t, http.StatusOK, http.MethodPatch, path(mine.ID), resttest.User, map[string]any{"start": "2026-05-01T10:00:00Z"})
			var msg string
			s.Expect(t, http.StatusBadRequest, http.MethodPatch, path(mine.ID), resttest.User, map[string]any{"end": "2026-05-01T09:00:00Z"}).JSON(t, &msg)
			if msg != "end The end date must not be before the start date." {
				t.Fatalf("body %q", msg)
			}
		})
		t.Run("a USER may not touch another's task; MANAGER may", func(t *testing.T) {
			s.Expect(t, http.StatusForbidden, http.MethodPatch, path(theirs.ID), resttest.User, map[string]any{"title": "mine now"})
			s.Expect(t, http.StatusForbidden, http.MethodDelete, path(theirs.ID), resttest.User, nil)
			stored, err := db.Task.Get(demo.ctx, theirs.ID)
			demo.must(err)
			if stored.Title != theirs.Title || stored.IsDeleted {
				t.Fatalf("a forbidden request wrote: %+v", stored)
			}
			s.Expect(t, http.StatusOK, http.MethodPatch, path(theirs.ID), resttest.Manager, map[string]any{"title": "Reviewed"})
		})
		t.Run("a USER may update and delete what they created", func(t *testing.T) {
			var tk taskJSON
			s.Expect(t, http.StatusOK, http.MethodPost, "/api/task", resttest.User, map[string]any{"assignee": sales1, "title": "For Sam"}).JSON(t, &tk)
			id := mustUUID(t, tk.ID)
			s.Expect(t, http.StatusOK, http.MethodPatch, path(id), resttest.User, map[string]any{"title": "For Sam, urgent"})
			s.Expect(t, http.StatusOK, http.MethodDelete, path(id), resttest.User, nil)
			s.Expect(t, http.StatusNotFound, http.MethodPatch, path(id), resttest.User, map[string]any{"title": "gone"})
		})
		for _, c := range []struct {
			name, method, path, as string
			body                   any
			status                 int
		}{
			{"another tenant's task", http.MethodPatch, path(otherTask.ID), resttest.Admin, map[string]any{"title": "x"}, http.StatusNotFound},
			{"another tenant's task (delete)", http.MethodDelete, path(otherTask.ID), resttest.Admin, nil, http.StatusNotFound},
			{"unknown task", http.MethodPatch, path(uuid.Must(uuid.NewV7())), resttest.Admin, map[string]any{"title": "x"}, http.StatusNotFound},
			{"not a UUID", http.MethodDelete, "/api/task/abc", resttest.Admin, nil, http.StatusNotFound},
			{"malformed JSON", http.MethodPatch, path(mine.ID), resttest.User, `{"title":`, http.StatusBadRequest},
			{"wrong type", http.MethodPatch, path(mine.ID), resttest.User, map[string]any{"taskDone": "yes"}, http.StatusBadRequest},
			{"blank title", http.MethodPatch, path(mine.ID), resttest.User, map[string]any{"title": ""}, http.StatusBadRequest},
			{"no token", http.MethodPatch, path(mine.ID), resttest.NoToken, map[string]any{"title": "x"}, http.StatusUnauthorized},
			{"no token (delete)", http.MethodDelete, path(mine.ID), resttest.NoToken, nil, http.StatusUnauthorized},
		} {
			t.Run(c.name, func(t *testing.T) {
				s.Expect(t, c.status, c.method, c.path, c.as, c.body)
			})
		}
		t.Run("another tenant's task is untouched", func(t *testing.T) {
			stored, err := db.Task.Get(other.ctx, otherTask.ID)
			other.must(err)
			if stored.Title != otherTask.Title || stored.IsDeleted || stored.DateModified != nil {
				t.Fatalf("modified: %+v", stored)
			}
		})
		t.Run("403 without task.delete; MANAGER deletes any task", func(t *testing.T) {
			s.Expect(t, http.StatusForbidden, http.MethodDelete, path(theirs.ID), withoutRoles(t, db), nil)
			s.Expect(t, http.StatusOK, http.MethodDelete, path(theirs.ID), resttest.Manager, nil)
			s.Expect(t, http.StatusNotFound, http.MethodDelete, path(theirs.ID), resttest.Manager, nil)
		})
	})
}
