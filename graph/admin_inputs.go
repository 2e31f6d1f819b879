package graph

import (
	"github.com/conecrm/gateway/graph/model"
	"github.com/conecrm/gateway/internal/crm"
)

// Translations of the administration mutations' inputs (schema/admin.graphqls).

// list is an optional list: absent or null leaves it unchanged, a given
// list (even empty) replaces it.
func list[T any](xs []T) *[]T {
	if xs == nil {
		return nil
	}
	return &xs
}

func userInput(in model.UserInput) crm.UserInput {
	out := crm.UserInput{Email: in.Email, Username: in.Username, Firstname: in.Firstname, Lastname: in.Lastname,
		DisplayName: in.DisplayName, MobilePhone: in.MobilePhone, RoundRobinStatus: in.RoundRobinStatus,
		RoleIDs: list(in.RoleIDs), FranchiseIDs: list(in.FranchiseIDs), DepartmentIDs: list(in.DepartmentIDs)}
	if in.UserType != nil {
		t := in.UserType.String()
		out.UserType = &t
	}
	return out
}

func roleInput(in model.RoleInput) crm.RoleInput {
	return crm.RoleInput{Name: in.Name, Permissions: list(in.Permissions)}
}

func securityGroupInput(in model.SecurityGroupInput) crm.SecurityGroupInput {
	return crm.SecurityGroupInput{Name: in.Name, DisplayName: in.DisplayName, RoundRobin: in.RoundRobin,
		IsActive: in.IsActive, MemberIDs: list(in.MemberIDs), FranchiseIDs: list(in.FranchiseIDs),
		DepartmentIDs: list(in.DepartmentIDs)}
}

func franchiseInput(in model.FranchiseInput) crm.FranchiseInput {
	return crm.FranchiseInput{Name: in.Name, Code: in.Code, IsActive: in.IsActive}
}

func departmentInput(in model.DepartmentInput) crm.DepartmentInput {
	return crm.DepartmentInput{Name: in.Name, FranchiseID: in.FranchiseID, PipelineID: in.PipelineID,
		SecurityGroupID: in.SecurityGroupID, IsActive: in.IsActive}
}

func sourceInput(in model.SourceInput) crm.SourceInput {
	return crm.SourceInput{Name: in.Name, IsActive: in.IsActive}
}

func statusInput(in model.StatusInput) crm.StatusInput {
	out := crm.StatusInput{Name: in.Name, Position: in.Position, IsActive: in.IsActive}
	if in.Kind != nil {
		k := in.Kind.String()
		out.Kind = &k
	}
	return out
}

func productInput(in model.ProductInput) crm.ProductInput {
	return crm.ProductInput{Name: in.Name, Sku: in.Sku, Description: in.Description, DefaultCost: in.DefaultCost,
		DefaultSalesPrice: in.DefaultSalesPrice, DefaultMargin: in.DefaultMargin, Currency: in.Currency,
		ProductGroupID: in.ProductGroupID, IsActive: in.IsActive}
}

func productGroupInput(in model.ProductGroupInput) crm.ProductGroupInput {
	return crm.ProductGroupInput{Name: in.Name, ParentID: in.ParentID, IsActive: in.IsActive}
}
