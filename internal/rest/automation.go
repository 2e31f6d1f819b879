package rest

import (
	"encoding/json"
	"net/http"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
)

var _ = routes((*Server).automationRoutes)

func (s *Server) automationRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/automation/builder/data", s.handle(PlainErrors, s.automationBuilderData))
	mux.Handle("GET /api/automation", s.handle(PlainErrors, s.listAutomations))
	mux.Handle("POST /api/automation", s.handle(PlainErrors, s.createAutomation))
	mux.Handle("GET /api/automation/{automation}", s.handle(PlainErrors, s.getAutomation))
	mux.Handle("PATCH /api/automation/{automation}", s.handle(PlainErrors, s.updateAutomation))
	mux.Handle("DELETE /api/automation/{automation}", s.handle(PlainErrors, s.deleteAutomation))
	mux.Handle("POST /api/automation/{automation}/duplicate", s.handle(PlainErrors, s.duplicateAutomation))
}

// Automation is the spec's Automation3 with the BaseRecord fields (its id
// above all) of the spec's Automation.
type Automation struct {
	BaseRecord
	Name                    string           `json:"name"`
	AutomationTrigger       string           `json:"automationTrigger"`
	Nodes                   []map[string]any `json:"nodes"`
	Edges                   []map[string]any `json:"edges"`
	Franchise               *AutomationOwner `json:"franchise"`
	DelayedAutomationsCount int              `json:"delayedAutomationsCount"`
	IsActive                bool             `json:"isActive"`
}

// AutomationOwner is the spec's Franchise2: the automation's franchise with
// its automations, which end the recursion as references ({"id"}).
type AutomationOwner struct {
	ID          uuid.UUID `json:"id"`
	Name        string    `json:"name"`
	Automations []IDRef   `json:"automations"`
}

func automationOf(a crm.Automation) Automation {
	out := Automation{
		BaseRecord: baseRecord(audit{a.ID, a.DateCreated, a.CreatedByID, a.DateModified, a.ModifiedByID,
			a.IsDeleted, a.DateDeleted, a.DeletedByID, a.Dtype}),
		Name: a.Name, AutomationTrigger: a.AutomationTrigger,
		Nodes: nonNil(a.Nodes), Edges: nonNil(a.FlowEdges),
		DelayedAutomationsCount: a.DelayedCount, IsActive: a.IsActive,
	}
	if f := a.Edges.Franchise; f != nil {
		out.Franchise = &AutomationOwner{ID: f.ID, Name: f.Name, Automations: []IDRef{}}
		for _, sibling := range f.Edges.Automations {
			out.Franchise.Automations = append(out.Franchise.Automations, IDRef{ID: sibling.ID})
		}
	}
	return out
}

func nonNil(list []map[string]any) []map[string]any {
	if list == nil {
		return []map[string]any{}
	}
	return list
}

// automationInput is the Automation3 request body; delayedAutomationsCount
// is computed, so it is not read. Franchise stays raw to tell an absent
// franchise (keep it) from null (remove it).
type automationInput struct {
	Name              *string          `json:"name"`
	AutomationTrigger *string          `json:"automationTrigger"`
	Nodes             []map[string]any `json:"nodes"`
	Edges             []map[string]any `json:"edges"`
	Franchise         json.RawMessage  `json:"franchise"`
	IsActive          *bool            `json:"isActive"`
}

func (in automationInput) crm() (crm.AutomationInput, error) {
	out := crm.AutomationInput{Name: in.Name, Trigger: in.AutomationTrigger, Nodes: in.Nodes, Edges: in.Edges, Active: in.IsActive}
	if in.Franchise == nil {
		return out, nil
	}
	out.FranchiseSet = true
	var ref *Ref
	if err := json.Unmarshal(in.Franchise, &ref); err != nil {
		return out, fault.FieldError("franchise", `must be {"id": …} or null`)
	}
	id, err := parseRef("franchise", ref)
	out.Franchise = id
	return out, err
}

// automationBuilder is GET /api/automation/builder/data's body.
type automationBuilder struct {
	Triggers    []string                   `json:"triggers"`
	Actions     []string                   `json:"actions"`
	Conditions  []string                   `json:"conditions"`
	NodeSchemas map[string]json.RawMessage `json:"nodeSchemas"`
}

func (s *Server) automationBuilderData(w http.ResponseWriter, r *http.Request) error {
	b, err := s.svc.AutomationBuilderData(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, automationBuilder{Triggers: b.Triggers, Actions: b.Actions, Conditions: b.Conditions, NodeSchemas: b.NodeSchemas})
	return nil
}

func (s *Server) listAutomations(w http.ResponseWriter, r *http.Request) error {
	rows, err := s.svc.Automations(r.Context())
	if err != nil {
		return err
	}
	out := make([]Automation, 0, len(rows))
	for _, a := range rows {
		out = append(out, automationOf(a))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) getAutomation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "automation")
	if err != nil {
		return err
	}
	a, err := s.svc.Automation(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, automationOf(a))
	return nil
}

func (s *Server) createAutomation(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeAutomation(r)
	if err != nil {
		return err
	}
	a, err := s.svc.CreateAutomation(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, automationOf(a))
	return nil
}

func (s *Server) updateAutomation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "automation")
	if err != nil {
		return err
	}
	in, err := decodeAutomation(r)
	if err != nil {
		return err
	}
	a, err := s.svc.UpdateAutomation(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, automationOf(a))
	return nil
}

func (s *Server) deleteAutomation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "automation")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteAutomation(r.Context(), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, nil)
	return nil
}

func (s *Server) duplicateAutomation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "automation")
	if err != nil {
		return err
	}
	a, err := s.svc.DuplicateAutomation(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, automationOf(a))
	return nil
}

func decodeAutomation(r *http.Request) (crm.AutomationInput, error) {
	var in automationInput
	if err := decode(r, &in); err != nil {
		return crm.AutomationInput{}, err
	}
	return in.crm()
}
