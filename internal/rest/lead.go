package rest

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/fault"
)

// The rows of the filter route (querybuilder.go).
var _ = filterShape("lead", func(_ context.Context, _ *Server, rows []*ent.Lead) (any, error) { return Leads(rows), nil })

var _ = routes((*Server).leadRoutes)

func (s *Server) leadRoutes(mux *http.ServeMux) {
	mux.Handle("POST /api/lead", s.handle(FormErrors, s.createLead))
	mux.Handle("POST /api/lead/{lead}/copy", s.handle(FormErrors, s.copyLead))
}

// leadBody is the spec's LeadCreateRequest.
type leadBody struct {
	Subject                  *string          `json:"subject"`
	Department               *Ref             `json:"department"`
	Contact                  *Ref             `json:"contact"`
	Account                  *Ref             `json:"account"`
	Source                   *Ref             `json:"source"`
	Franchise                *Ref             `json:"franchise"`
	Assignees                []Ref            `json:"assignees"`
	MakeStr                  *string          `json:"makeStr"`
	ModelStr                 *string          `json:"modelStr"`
	YearStr                  *string          `json:"yearStr"`
	TrimStr                  *string          `json:"trimStr"`
	Description              *string          `json:"description"`
	Category                 *string          `json:"category"`
	UTMCampaign              *string          `json:"utmCampaign"`
	UTMSource                *string          `json:"utmSource"`
	CustomerInitiated        *bool            `json:"customerInitiated"`
	LeadHandlingInstructions *string          `json:"leadHandlingInstructions"`
	CustomFieldValues        customValuesBody `json:"customFieldValues"`
}

func (b leadBody) input() (crm.LeadInput, error) {
	in := crm.LeadInput{
		Subject: b.Subject, MakeStr: b.MakeStr, ModelStr: b.ModelStr, YearStr: b.YearStr, TrimStr: b.TrimStr,
		Description: b.Description, Category: b.Category, UTMCampaign: b.UTMCampaign, UTMSource: b.UTMSource,
		CustomerInitiated: b.CustomerInitiated, LeadHandlingInstructions: b.LeadHandlingInstructions,
	}
	var err error
	for _, r := range []struct {
		field string
		ref   *Ref
		dst   **uuid.UUID
	}{
		{"department", b.Department, &in.DepartmentID}, {"contact", b.Contact, &in.ContactID},
		{"account", b.Account, &in.AccountID}, {"source", b.Source, &in.SourceID},
		{"franchise", b.Franchise, &in.FranchiseID},
	} {
		if *r.dst, err = parseRef(r.field, r.ref); err != nil {
			return in, err
		}
	}
	for i, a := range b.Assignees {
		id, err := parseID(fmt.Sprintf("assignees[%d].id", i), a.ID)
		if err != nil {
			return in, err
		}
		in.AssigneeIDs = append(in.AssigneeIDs, id)
	}
	if in.CustomFieldValues, err = b.CustomFieldValues.input(); err != nil {
		return in, err
	}
	return in, nil
}

func (s *Server) createLead(w http.ResponseWriter, r *http.Request) error {
	var b leadBody
	if err := decode(r, &b); err != nil {
		return err
	}
	in, err := b.input()
	if err != nil {
		return err
	}
	l, err := s.svc.CreateLead(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, Leads([]*ent.Lead{l})[0])
	return nil
}

// copyBody is the spec's CopyLeadData; only the ids of its nested records
// are read.
type copyBody struct {
	Contact    *Ref    `json:"contact"`
	Account    *Ref    `json:"account"`
	Subject    *string `json:"subject"`
	Department *Ref    `json:"department"`
	Franchise  *Ref    `json:"franchise"`
}

func (s *Server) copyLead(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "lead")
	if err != nil {
		return err
	}
	var b copyBody
	if err := decode(r, &b); err != nil {
		return err
	}
	in := crm.CopyLeadInput{Subject: b.Subject}
	for _, ref := range []struct {
		field string
		ref   *Ref
		dst   **uuid.UUID
	}{
		{"contact", b.Contact, &in.ContactID}, {"account", b.Account, &in.AccountID},
		{"department", b.Department, &in.DepartmentID}, {"franchise", b.Franchise, &in.FranchiseID},
	} {
		if *ref.dst, err = parseRef(ref.field, ref.ref); err != nil {
			return err
		}
	}
	l, err := s.svc.CopyLead(r.Context(), id, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, Leads([]*ent.Lead{l})[0])
	return nil
}

// customValuesBody is the customFieldValues of a lead, account or task
// body: [{"field": {"id": …}, "value": "…"}]; an empty value removes it.
type customValuesBody []struct {
	Field *Ref    `json:"field"`
	Value *string `json:"value"`
}

func (b customValuesBody) input() ([]crm.CustomFieldValueInput, error) {
	var out []crm.CustomFieldValueInput
	for i, v := range b {
		field := fmt.Sprintf("customFieldValues[%d].field", i)
		if v.Field == nil {
			return nil, fault.FieldError(field, "This value should not be blank.")
		}
		id, err := parseID(field+".id", v.Field.ID)
		if err != nil {
			return nil, err
		}
		value := ""
		if v.Value != nil {
			value = *v.Value
		}
		out = append(out, crm.CustomFieldValueInput{FieldID: id, Value: value})
	}
	return out, nil
}
