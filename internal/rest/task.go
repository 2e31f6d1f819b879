package rest

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/crm"
)

// The rows of the filter route (querybuilder.go).
var _ = filterShape("task", func(ctx context.Context, s *Server, rows []*ent.Task) (any, error) {
	views, err := s.svc.TaskViews(ctx, rows)
	if err != nil {
		return nil, err
	}
	return Tasks(views), nil
})

var _ = routes((*Server).taskRoutes)

func (s *Server) taskRoutes(mux *http.ServeMux) {
	mux.Handle("POST /api/task", s.handle(StringErrors, s.createTask))
	mux.Handle("PATCH /api/task/{task}", s.handle(StringErrors, s.updateTask))
	mux.Handle("DELETE /api/task/{task}", s.handle(StringErrors, s.deleteTask))
}

// taskBody is the spec's TaskRequest (ids are bare strings), plus taskDone
// and customFieldValues (as on leads).
type taskBody struct {
	Type       nullable[string] `json:"type"`
	Assignee   *string          `json:"assignee"`
	Start      nullable[string] `json:"start"`
	End        nullable[string] `json:"end"`
	Title      *string          `json:"title"`
	Note       nullable[string] `json:"note"`
	Contact    nullable[string] `json:"contact"`
	Account    nullable[string] `json:"account"`
	Connection nullable[string] `json:"connection"`
	TaskDone   *bool            `json:"taskDone"`
	// CustomFieldValues replaces the value of each given task custom field.
	CustomFieldValues customValuesBody `json:"customFieldValues"`
}

func (b taskBody) input() (crm.TaskInput, error) {
	in := crm.TaskInput{
		Title: b.Title, TaskDone: b.TaskDone,
		Type: crm.Opt[string](b.Type), Note: crm.Opt[string](b.Note),
	}
	if b.Assignee != nil {
		id, err := parseID("assignee", *b.Assignee)
		if err != nil {
			return in, err
		}
		in.AssigneeID = &id
	}
	var err error
	for _, t := range []struct {
		field string
		in    nullable[string]
		dst   *crm.Opt[time.Time]
	}{{"start", b.Start, &in.Start}, {"end", b.End, &in.End}} {
		t.dst.Set = t.in.Set
		if t.dst.Value, err = parseTime(t.field, t.in.Value); err != nil {
			return in, err
		}
	}
	for _, r := range []struct {
		field string
		in    nullable[string]
		dst   *crm.Opt[uuid.UUID]
	}{{"contact", b.Contact, &in.ContactID}, {"account", b.Account, &in.AccountID}, {"connection", b.Connection, &in.ConnectionID}} {
		r.dst.Set = r.in.Set
		if r.in.Value == nil || *r.in.Value == "" {
			continue
		}
		id, err := parseID(r.field, *r.in.Value)
		if err != nil {
			return in, err
		}
		r.dst.Value = &id
	}
	in.CustomFieldValues, err = b.CustomFieldValues.input()
	return in, err
}

func decodeTask(r *http.Request) (crm.TaskInput, error) {
	var b taskBody
	if err := decode(r, &b); err != nil {
		return crm.TaskInput{}, err
	}
	return b.input()
}

func (s *Server) createTask(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeTask(r)
	if err != nil {
		return err
	}
	t, err := s.svc.CreateTask(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newTask(*t))
	return nil
}

func (s *Server) updateTask(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "task")
	if err != nil {
		return err
	}
	in, err := decodeTask(r)
	if err != nil {
		return err
	}
	t, err := s.svc.UpdateTask(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newTask(*t))
	return nil
}

func (s *Server) deleteTask(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "task")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteTask(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
