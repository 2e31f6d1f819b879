package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/querybuilder"
	"github.com/conecrm/gateway/internal/registry"
)

var _ = routes((*Server).queryBuilderRoutes)

func (s *Server) queryBuilderRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/query-builder/config/{entity}", s.handle(PlainErrors, s.queryBuilderConfig))
	mux.Handle("POST /api/query-builder/filter/{entity}", s.handle(PlainErrors, s.queryBuilderFilter))
}

func (s *Server) queryBuilderConfig(w http.ResponseWriter, r *http.Request) error {
	c, err := s.svc.FilterConfig(r.Context(), r.PathValue("entity"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// filterResult is POST /api/query-builder/filter/{entity}'s body.
type filterResult struct {
	Success bool `json:"success"`
	Data    any  `json:"data"`
	Total   int  `json:"total"`
}

// queryBuilderFilter answers the rows of an entity matching the query in
// the body ({"query": group} or the group itself), paged and sorted by the
// URL's offset, limit, sortField and sortDirection.
func (s *Server) queryBuilderFilter(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	p, err := pageParams(q, "offset")
	if err != nil {
		return err
	}
	order, err := sortParams(q)
	if err != nil {
		return err
	}
	var body json.RawMessage
	if err := decode(r, &body); err != nil {
		return err
	}
	entity := r.PathValue("entity")
	// The rows come with what their REST shape embeds.
	ctx := registry.Embedding(r.Context(), registry.ByFilter(entity))
	res, err := s.svc.Filter(ctx, entity, body, querybuilder.Page{
		Offset: p.Offset, Limit: p.Limit, SortField: order.Field, Desc: order.Desc,
	})
	if err != nil {
		return err
	}
	shape, ok := filterShapes[entity]
	if !ok {
		return fmt.Errorf("rest: no filter shape for %s", entity)
	}
	data, err := shape(ctx, s, res.Rows)
	if err != nil {
		return err
	}
	out := filterResult{Success: true, Total: res.Total, Data: data}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// filterShapes answer the rows of each filterable entity of the registry
// (by its Filter name) in that entity's REST shape. Each is declared next
// to its shape (filterShape), so a new filterable entity adds no line here;
// TestEveryFilterableEntityHasAShape keeps them in step with the registry.
var filterShapes = map[string]func(context.Context, *Server, any) (any, error){}

// filterShape declares the shape of entity's rows (crm.FilterResult.Rows,
// a []T) on the filter route.
func filterShape[T any](entity string, shape func(context.Context, *Server, []T) (any, error)) bool {
	if filterShapes[entity] != nil {
		panic("rest: two filter shapes for " + entity)
	}
	filterShapes[entity] = func(ctx context.Context, s *Server, rows any) (any, error) {
		r, ok := rows.([]T)
		if !ok {
			return nil, fmt.Errorf("rest: the filter of %s found %T", entity, rows)
		}
		return shape(ctx, s, r)
	}
	return true
}

// Appointments and follow-ups have no routes of their own: their shapes
// are here.
var (
	_ = filterShape("appointment", func(_ context.Context, _ *Server, rows []*ent.Appointment) (any, error) {
		return appointments(rows), nil
	})
	_ = filterShape("followup", func(_ context.Context, _ *Server, rows []*ent.FollowUp) (any, error) {
		return followUps(rows), nil
	})
)

// Event is the spec's EventBase as the filter route answers appointments
// and follow-ups (which have no routes of their own): related records and
// the assignee (a user or a security group) are {"id"} references.
type Event struct {
	BaseRecord
	Connection *IDRef `json:"connection"`
	Start      *Time  `json:"start"`
	End        *Time  `json:"end"`
	Title      string `json:"title"`
	Note       string `json:"note"`
	Assignee   IDRef  `json:"assignee"`
	TaskDone   bool   `json:"taskDone"`
	Notified   bool   `json:"notified"`
	Edited     *bool  `json:"edited"`
	Tenant     IDRef  `json:"tenant"`
	Contact    *IDRef `json:"contact"`
	Account    *IDRef `json:"account"`
}

// Appointment is the spec's Appointment.
type Appointment struct {
	Event
	Type              string  `json:"type"`
	NoShow            bool    `json:"noShow"`
	CustomerConfirmed bool    `json:"customerConfirmed"`
	Canceled          bool    `json:"canceled"`
	URL               *string `json:"url"`
}

// FollowUp is the spec's FollowUp.
type FollowUp struct {
	Event
	FromAutomation bool `json:"fromAutomation"`
}

func appointments(rows []*ent.Appointment) []Appointment {
	out := make([]Appointment, 0, len(rows))
	for _, a := range rows {
		out = append(out, Appointment{
			Event: Event{
				BaseRecord: baseRecord(audit{a.ID, a.DateCreated, a.CreatedByID, a.DateModified, a.ModifiedByID,
					a.IsDeleted, a.DateDeleted, a.DeletedByID, a.Dtype}),
				Connection: refOf(a.ConnectionID), Start: timeOf(a.Start), End: timeOf(a.End), Title: a.Title,
				Note: a.Note, Assignee: IDRef{ID: a.AssigneeID}, TaskDone: a.TaskDone, Notified: a.Notified,
				Edited: a.Edited, Tenant: IDRef{ID: a.TenantID}, Contact: refOf(a.ContactID), Account: refOf(a.AccountID),
			},
			Type: a.Type, NoShow: a.NoShow, CustomerConfirmed: a.CustomerConfirmed, Canceled: a.Canceled, URL: a.URL,
		})
	}
	return out
}

func followUps(rows []*ent.FollowUp) []FollowUp {
	out := make([]FollowUp, 0, len(rows))
	for _, f := range rows {
		out = append(out, FollowUp{
			Event: Event{
				BaseRecord: baseRecord(audit{f.ID, f.DateCreated, f.CreatedByID, f.DateModified, f.ModifiedByID,
					f.IsDeleted, f.DateDeleted, f.DeletedByID, f.Dtype}),
				Connection: refOf(f.ConnectionID), Start: timeOf(f.Start), End: timeOf(f.End), Title: f.Title,
				Note: f.Note, Assignee: IDRef{ID: f.AssigneeID}, TaskDone: f.TaskDone, Notified: f.Notified,
				Edited: f.Edited, Tenant: IDRef{ID: f.TenantID}, Contact: refOf(f.ContactID), Account: refOf(f.AccountID),
			},
			FromAutomation: f.FromAutomation,
		})
	}
	return out
}
