package crm

import (
	"context"
	"regexp"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/automation"
	"github.com/conecrm/gateway/ent/department"
	"github.com/conecrm/gateway/ent/franchise"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/ent/leadproduct"
	"github.com/conecrm/gateway/ent/pipeline"
	"github.com/conecrm/gateway/ent/product"
	"github.com/conecrm/gateway/ent/productgroup"
	"github.com/conecrm/gateway/ent/securitygroup"
	"github.com/conecrm/gateway/ent/source"
	"github.com/conecrm/gateway/ent/status"
	"github.com/conecrm/gateway/ent/user"
	"github.com/conecrm/gateway/internal/fault"
)

// Reference data: franchises with their departments, sources and statuses
// (settings.manage), products and product groups (product.manage). Each is
// created, updated and deactivated (isActive false: kept for the records
// that name it); a delete is refused with the counts of the live records
// that use it, as stages are.

// FranchiseInput is a franchise create or update; nil leaves a field as is.
type FranchiseInput struct {
	Name, Code *string
	IsActive   *bool
}

// CreateFranchise adds a franchise (needs settings.manage).
func (s *Service) CreateFranchise(ctx context.Context, in FranchiseInput) (*ent.Franchise, error) {
	return write(ctx, s, PermSettingsManage, RecordFranchise, nil, franchiseFields,
		func(tx *ent.Client) (uuid.UUID, error) {
			if err := checkFranchise(in, true); err != nil {
				return uuid.Nil, err
			}
			f, err := tx.Franchise.Create().SetName(*in.Name).SetCode(deref(in.Code)).SetNillableIsActive(in.IsActive).Save(ctx)
			return idOf(err, func() uuid.UUID { return f.ID })
		}, tx(func(c *ent.Client) *ent.FranchiseClient { return c.Franchise }))
}

// UpdateFranchise changes a franchise (needs settings.manage).
func (s *Service) UpdateFranchise(ctx context.Context, id uuid.UUID, in FranchiseInput) (*ent.Franchise, error) {
	return write(ctx, s, PermSettingsManage, RecordFranchise, &id, franchiseFields,
		func(tx *ent.Client) (uuid.UUID, error) {
			if err := checkFranchise(in, false); err != nil {
				return uuid.Nil, err
			}
			f, err := tx.Franchise.UpdateOneID(id).SetNillableName(in.Name).SetNillableCode(in.Code).
				SetNillableIsActive(in.IsActive).Save(ctx)
			return idOf(err, func() uuid.UUID { return f.ID })
		}, tx(func(c *ent.Client) *ent.FranchiseClient { return c.Franchise }))
}

// DeleteFranchise deletes a franchise no live record uses (needs
// settings.manage).
func (s *Service) DeleteFranchise(ctx context.Context, id uuid.UUID) error {
	return s.remove(ctx, PermSettingsManage, RecordFranchise, id, franchiseFields, func(tx *ent.Client) error {
		counts, err := countAll(ctx,
			tx.Lead.Query().Where(lead.FranchiseID(id)).Count,
			tx.Department.Query().Where(department.FranchiseID(id)).Count,
			tx.Automation.Query().Where(automation.FranchiseID(id)).Count,
			tx.User.Query().Where(user.HasFranchisesWith(franchise.ID(id))).Count,
			tx.SecurityGroup.Query().Where(securitygroup.HasFranchisesWith(franchise.ID(id))).Count)
		if err != nil {
			return err
		}
		if err := inUse("franchise", usage{counts[0], "connections"}, usage{counts[1], "departments"},
			usage{counts[2], "automations"}, usage{counts[3], "users"}, usage{counts[4], "security groups"}); err != nil {
			return err
		}
		return tx.Franchise.DeleteOneID(id).Exec(ctx)
	})
}

func checkFranchise(in FranchiseInput, create bool) error {
	var v fault.Validation
	checkName(&v, "name", in.Name, create)
	checkLen(&v, "code", in.Code)
	return v.Err()
}

func franchiseFields(ctx context.Context, tx *ent.Client, id uuid.UUID) (fields, error) {
	f, err := tx.Franchise.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return fields{"name": f.Name, "code": f.Code, "isActive": f.IsActive}, nil
}

// DepartmentInput is a department create or update. FranchiseID is
// required on create; PipelineID is the pipeline its new leads enter,
// SecurityGroupID the round-robin group they are assigned by.
type DepartmentInput struct {
	Name                                     *string
	FranchiseID, PipelineID, SecurityGroupID *uuid.UUID
	IsActive                                 *bool
}

// CreateDepartment adds a department to a franchise (needs settings.manage).
func (s *Service) CreateDepartment(ctx context.Context, in DepartmentInput) (*ent.Department, error) {
	return write(ctx, s, PermSettingsManage, RecordDepartment, nil, departmentFields,
		func(tx *ent.Client) (uuid.UUID, error) {
			if err := checkDepartment(ctx, tx, in, true); err != nil {
				return uuid.Nil, err
			}
			d, err := tx.Department.Create().SetName(*in.Name).SetNillableFranchiseID(in.FranchiseID).
				SetNillablePipelineID(in.PipelineID).SetNillableSecurityGroupID(in.SecurityGroupID).
				SetNillableIsActive(in.IsActive).Save(ctx)
			return idOf(err, func() uuid.UUID { return d.ID })
		}, tx(func(c *ent.Client) *ent.DepartmentClient { return c.Department }))
}

// UpdateDepartment changes a department (needs settings.manage).
func (s *Service) UpdateDepartment(ctx context.Context, id uuid.UUID, in DepartmentInput) (*ent.Department, error) {
	return write(ctx, s, PermSettingsManage, RecordDepartment, &id, departmentFields,
		func(tx *ent.Client) (uuid.UUID, error) {
			if err := checkDepartment(ctx, tx, in, false); err != nil {
				return uuid.Nil, err
			}
			d, err := tx.Department.UpdateOneID(id).SetNillableName(in.Name).SetNillableFranchiseID(in.FranchiseID).
				SetNillablePipelineID(in.PipelineID).SetNillableSecurityGroupID(in.SecurityGroupID).
				SetNillableIsActive(in.IsActive).Save(ctx)
			return idOf(err, func() uuid.UUID { return d.ID })
		}, tx(func(c *ent.Client) *ent.DepartmentClient { return c.Department }))
}

// DeleteDepartment deletes a department no live record uses (needs
// settings.manage).
func (s *Service) DeleteDepartment(ctx context.Context, id uuid.UUID) error {
	return s.remove(ctx, PermSettingsManage, RecordDepartment, id, departmentFields, func(tx *ent.Client) error {
		counts, err := countAll(ctx,
			tx.Lead.Query().Where(lead.DepartmentID(id)).Count,
			tx.User.Query().Where(user.HasDepartmentsWith(department.ID(id))).Count,
			tx.SecurityGroup.Query().Where(securitygroup.HasDepartmentsWith(department.ID(id))).Count)
		if err != nil {
			return err
		}
		if err := inUse("department", usage{counts[0], "connections"}, usage{counts[1], "users"},
			usage{counts[2], "security groups"}); err != nil {
			return err
		}
		return tx.Department.DeleteOneID(id).Exec(ctx)
	})
}

func checkDepartment(ctx context.Context, tx *ent.Client, in DepartmentInput, create bool) error {
	var v fault.Validation
	checkName(&v, "name", in.Name, create)
	if create && in.FranchiseID == nil {
		v.Add("franchiseID", "is required")
	}
	for _, r := range []struct {
		field, table string
		id           *uuid.UUID
	}{{"franchiseID", franchise.Table, in.FranchiseID}, {"pipelineID", pipeline.Table, in.PipelineID},
		{"securityGroupID", securitygroup.Table, in.SecurityGroupID}} {
		if err := checkRef(ctx, tx, &v, r.field, r.table, r.id); err != nil {
			return err
		}
	}
	return v.Err()
}

func departmentFields(ctx context.Context, tx *ent.Client, id uuid.UUID) (fields, error) {
	d, err := tx.Department.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return fields{"name": d.Name, "franchiseID": d.FranchiseID, "pipelineID": d.PipelineID,
		"securityGroupID": d.SecurityGroupID, "isActive": d.IsActive}, nil
}

// SourceInput is a lead source create or update.
type SourceInput struct {
	Name     *string
	IsActive *bool
}

// CreateSource adds a lead source (needs settings.manage).
func (s *Service) CreateSource(ctx context.Context, in SourceInput) (*ent.Source, error) {
	return write(ctx, s, PermSettingsManage, RecordSource, nil, sourceFields,
		func(tx *ent.Client) (uuid.UUID, error) {
			if err := checkNameOnly(in.Name, true); err != nil {
				return uuid.Nil, err
			}
			src, err := tx.Source.Create().SetName(*in.Name).SetNillableIsActive(in.IsActive).Save(ctx)
			return idOf(err, func() uuid.UUID { return src.ID })
		}, tx(func(c *ent.Client) *ent.SourceClient { return c.Source }))
}

// UpdateSource changes a lead source (needs settings.manage).
func (s *Service) UpdateSource(ctx context.Context, id uuid.UUID, in SourceInput) (*ent.Source, error) {
	return write(ctx, s, PermSettingsManage, RecordSource, &id, sourceFields,
		func(tx *ent.Client) (uuid.UUID, error) {
			if err := checkNameOnly(in.Name, false); err != nil {
				return uuid.Nil, err
			}
			src, err := tx.Source.UpdateOneID(id).SetNillableName(in.Name).SetNillableIsActive(in.IsActive).Save(ctx)
			return idOf(err, func() uuid.UUID { return src.ID })
		}, tx(func(c *ent.Client) *ent.SourceClient { return c.Source }))
}

// DeleteSource deletes a source no live lead has (needs settings.manage).
func (s *Service) DeleteSource(ctx context.Context, id uuid.UUID) error {
	return s.remove(ctx, PermSettingsManage, RecordSource, id, sourceFields, func(tx *ent.Client) error {
		n, err := tx.Lead.Query().Where(lead.SourceID(id)).Count(ctx)
		if err != nil {
			return err
		}
		if err := inUse("source", usage{n, "connections"}); err != nil {
			return err
		}
		return tx.Source.DeleteOneID(id).Exec(ctx)
	})
}

func sourceFields(ctx context.Context, tx *ent.Client, id uuid.UUID) (fields, error) {
	s, err := tx.Source.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return fields{"name": s.Name, "isActive": s.IsActive}, nil
}

// StatusInput is a connection status create or update. Kind (OPEN, CLOSED,
// LOST, SOLD; default OPEN) says whether a lead with it is open.
type StatusInput struct {
	Name, Kind *string
	Position   *int
	IsActive   *bool
}

// CreateStatus adds a connection status (needs settings.manage).
func (s *Service) CreateStatus(ctx context.Context, in StatusInput) (*ent.Status, error) {
	return write(ctx, s, PermSettingsManage, RecordStatus, nil, statusFields,
		func(tx *ent.Client) (uuid.UUID, error) {
			if err := checkStatus(in, true); err != nil {
				return uuid.Nil, err
			}
			c := tx.Status.Create().SetName(*in.Name).SetNillablePosition(in.Position).SetNillableIsActive(in.IsActive)
			if in.Kind != nil {
				c.SetKind(status.Kind(*in.Kind))
			}
			st, err := c.Save(ctx)
			return idOf(err, func() uuid.UUID { return st.ID })
		}, tx(func(c *ent.Client) *ent.StatusClient { return c.Status }))
}

// UpdateStatus changes a connection status (needs settings.manage).
func (s *Service) UpdateStatus(ctx context.Context, id uuid.UUID, in StatusInput) (*ent.Status, error) {
	return write(ctx, s, PermSettingsManage, RecordStatus, &id, statusFields,
		func(tx *ent.Client) (uuid.UUID, error) {
			if err := checkStatus(in, false); err != nil {
				return uuid.Nil, err
			}
			u := tx.Status.UpdateOneID(id).SetNillableName(in.Name).SetNillablePosition(in.Position).SetNillableIsActive(in.IsActive)
			if in.Kind != nil {
				u.SetKind(status.Kind(*in.Kind))
			}
			st, err := u.Save(ctx)
			return idOf(err, func() uuid.UUID { return st.ID })
		}, tx(func(c *ent.Client) *ent.StatusClient { return c.Status }))
}

// DeleteStatus deletes a status no live lead has (needs settings.manage).
func (s *Service) DeleteStatus(ctx context.Context, id uuid.UUID) error {
	return s.remove(ctx, PermSettingsManage, RecordStatus, id, statusFields, func(tx *ent.Client) error {
		n, err := tx.Lead.Query().Where(lead.StatusID(id)).Count(ctx)
		if err != nil {
			return err
		}
		if err := inUse("status", usage{n, "connections"}); err != nil {
			return err
		}
		return tx.Status.DeleteOneID(id).Exec(ctx)
	})
}

func checkStatus(in StatusInput, create bool) error {
	var v fault.Validation
	checkName(&v, "name", in.Name, create)
	if in.Kind != nil && status.KindValidator(status.Kind(*in.Kind)) != nil {
		v.Add("kind", "must be OPEN, CLOSED, LOST or SOLD")
	}
	if in.Position != nil && *in.Position < 0 {
		v.Add("position", "must not be negative")
	}
	return v.Err()
}

func statusFields(ctx context.Context, tx *ent.Client, id uuid.UUID) (fields, error) {
	s, err := tx.Status.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return fields{"name": s.Name, "kind": string(s.Kind), "position": s.Position, "isActive": s.IsActive}, nil
}

// ProductInput is a product create or update. Prices are decimals
// ("1234.50"), the currency an ISO 4217 code.
type ProductInput struct {
	Name, Sku, Description                        *string
	DefaultCost, DefaultSalesPrice, DefaultMargin *string
	Currency                                      *string
	ProductGroupID                                *uuid.UUID
	IsActive                                      *bool
}

var (
	decimalPattern  = regexp.MustCompile(`^-?[0-9]{1,15}(\.[0-9]{1,4})?$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// CreateProduct adds a product (needs product.manage).
func (s *Service) CreateProduct(ctx context.Context, in ProductInput) (*ent.Product, error) {
	return write(ctx, s, PermProductManage, RecordProduct, nil, productFields,
		func(tx *ent.Client) (uuid.UUID, error) {
			if err := checkProduct(ctx, tx, in, true); err != nil {
				return uuid.Nil, err
			}
			p, err := tx.Product.Create().SetName(*in.Name).SetNillableSku(in.Sku).SetNillableDescription(in.Description).
				SetNillableDefaultCost(in.DefaultCost).SetNillableDefaultSalesPrice(in.DefaultSalesPrice).
				SetNillableDefaultMargin(in.DefaultMargin).SetNillableCurrency(in.Currency).
				SetNillableProductGroupID(in.ProductGroupID).SetNillableIsActive(in.IsActive).Save(ctx)
			return idOf(err, func() uuid.UUID { return p.ID })
		}, tx(func(c *ent.Client) *ent.ProductClient { return c.Product }))
}

// UpdateProduct changes a product (needs product.manage).
func (s *Service) UpdateProduct(ctx context.Context, id uuid.UUID, in ProductInput) (*ent.Product, error) {
	return write(ctx, s, PermProductManage, RecordProduct, &id, productFields,
		func(tx *ent.Client) (uuid.UUID, error) {
			if err := checkProduct(ctx, tx, in, false); err != nil {
				return uuid.Nil, err
			}
			p, err := tx.Product.UpdateOneID(id).SetNillableName(in.Name).SetNillableSku(in.Sku).
				SetNillableDescription(in.Description).SetNillableDefaultCost(in.DefaultCost).
				SetNillableDefaultSalesPrice(in.DefaultSalesPrice).SetNillableDefaultMargin(in.DefaultMargin).
				SetNillableCurrency(in.Currency).SetNillableProductGroupID(in.ProductGroupID).
				SetNillableIsActive(in.IsActive).Save(ctx)
			return idOf(err, func() uuid.UUID { return p.ID })
		}, tx(func(c *ent.Client) *ent.ProductClient { return c.Product }))
}

// DeleteProduct deletes a product no live lead offers (needs
// product.manage).
func (s *Service) DeleteProduct(ctx context.Context, id uuid.UUID) error {
	return s.remove(ctx, PermProductManage, RecordProduct, id, productFields, func(tx *ent.Client) error {
		n, err := tx.LeadProduct.Query().Where(leadproduct.ProductID(id)).Count(ctx)
		if err != nil {
			return err
		}
		if err := inUse("product", usage{n, "connection products"}); err != nil {
			return err
		}
		return tx.Product.DeleteOneID(id).Exec(ctx)
	})
}

func checkProduct(ctx context.Context, tx *ent.Client, in ProductInput, create bool) error {
	var v fault.Validation
	checkName(&v, "name", in.Name, create)
	checkLen(&v, "sku", in.Sku)
	if in.Description != nil && len(*in.Description) > maxTextLength {
		checkText(&v, "description", in.Description)
	}
	for _, d := range []struct {
		field string
		value *string
	}{{"defaultCost", in.DefaultCost}, {"defaultSalesPrice", in.DefaultSalesPrice}, {"defaultMargin", in.DefaultMargin}} {
		if d.value != nil && !decimalPattern.MatchString(*d.value) {
			v.Add(d.field, "must be a decimal number such as 1234.50")
		}
	}
	if in.Currency != nil && !currencyPattern.MatchString(*in.Currency) {
		v.Add("currency", "must be a three-letter ISO 4217 code such as USD")
	}
	if err := checkRef(ctx, tx, &v, "productGroupID", productgroup.Table, in.ProductGroupID); err != nil {
		return err
	}
	return v.Err()
}

func productFields(ctx context.Context, tx *ent.Client, id uuid.UUID) (fields, error) {
	p, err := tx.Product.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return fields{"name": p.Name, "sku": p.Sku, "description": p.Description, "defaultCost": p.DefaultCost,
		"defaultSalesPrice": p.DefaultSalesPrice, "defaultMargin": p.DefaultMargin, "currency": p.Currency,
		"productGroupID": p.ProductGroupID, "isActive": p.IsActive}, nil
}

// ProductGroupInput is a product group create or update; ParentID places
// it in the tree (a group cannot be its own ancestor).
type ProductGroupInput struct {
	Name     *string
	ParentID *uuid.UUID
	IsActive *bool
}

// CreateProductGroup adds a product group (needs product.manage).
func (s *Service) CreateProductGroup(ctx context.Context, in ProductGroupInput) (*ent.ProductGroup, error) {
	return write(ctx, s, PermProductManage, RecordProductGroup, nil, productGroupFields,
		func(tx *ent.Client) (uuid.UUID, error) {
			if err := checkProductGroup(ctx, tx, nil, in, true); err != nil {
				return uuid.Nil, err
			}
			g, err := tx.ProductGroup.Create().SetName(*in.Name).SetNillableParentID(in.ParentID).
				SetNillableIsActive(in.IsActive).Save(ctx)
			return idOf(err, func() uuid.UUID { return g.ID })
		}, tx(func(c *ent.Client) *ent.ProductGroupClient { return c.ProductGroup }))
}

// UpdateProductGroup changes a product group (needs product.manage).
func (s *Service) UpdateProductGroup(ctx context.Context, id uuid.UUID, in ProductGroupInput) (*ent.ProductGroup, error) {
	return write(ctx, s, PermProductManage, RecordProductGroup, &id, productGroupFields,
		func(tx *ent.Client) (uuid.UUID, error) {
			if err := checkProductGroup(ctx, tx, &id, in, false); err != nil {
				return uuid.Nil, err
			}
			g, err := tx.ProductGroup.UpdateOneID(id).SetNillableName(in.Name).SetNillableParentID(in.ParentID).
				SetNillableIsActive(in.IsActive).Save(ctx)
			return idOf(err, func() uuid.UUID { return g.ID })
		}, tx(func(c *ent.Client) *ent.ProductGroupClient { return c.ProductGroup }))
}

// DeleteProductGroup deletes a product group that holds no live product
// and no live group (needs product.manage).
func (s *Service) DeleteProductGroup(ctx context.Context, id uuid.UUID) error {
	return s.remove(ctx, PermProductManage, RecordProductGroup, id, productGroupFields, func(tx *ent.Client) error {
		counts, err := countAll(ctx,
			tx.Product.Query().Where(product.ProductGroupID(id)).Count,
			tx.ProductGroup.Query().Where(productgroup.ParentID(id)).Count)
		if err != nil {
			return err
		}
		if err := inUse("product group", usage{counts[0], "products"}, usage{counts[1], "product groups"}); err != nil {
			return err
		}
		return tx.ProductGroup.DeleteOneID(id).Exec(ctx)
	})
}

func checkProductGroup(ctx context.Context, tx *ent.Client, id *uuid.UUID, in ProductGroupInput, create bool) error {
	var v fault.Validation
	checkName(&v, "name", in.Name, create)
	if err := checkRef(ctx, tx, &v, "parentID", productgroup.Table, in.ParentID); err != nil || v.Has("parentID") {
		if err != nil {
			return err
		}
		return v.Err()
	}
	// Walk up from the new parent: meeting the group itself is a cycle.
	// The walk is bounded by the number of groups the tenant has.
	for p := in.ParentID; id != nil && p != nil; {
		if *p == *id {
			v.Add("parentID", "must not be the group itself or one of its descendants")
			break
		}
		g, err := tx.ProductGroup.Get(ctx, *p)
		if err != nil {
			return err
		}
		p = g.ParentID
	}
	return v.Err()
}

func productGroupFields(ctx context.Context, tx *ent.Client, id uuid.UUID) (fields, error) {
	g, err := tx.ProductGroup.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return fields{"name": g.Name, "parentID": g.ParentID, "isActive": g.IsActive}, nil
}

// checkActiveReferences refuses a new lead naming a deactivated franchise,
// department or source (fields named as checkLeadReferences names them):
// deactivation keeps a record for the leads that have it, it does not offer
// it to new ones.
func checkActiveReferences(ctx context.Context, tx *ent.Client, dept, fr uuid.UUID, src *uuid.UUID) error {
	const msg = "This value is not valid: the record is inactive."
	var v fault.Validation
	checks := map[string]func(context.Context) (bool, error){
		"department": tx.Department.Query().Where(department.ID(dept), department.IsActive(false)).Exist,
		"franchise":  tx.Franchise.Query().Where(franchise.ID(fr), franchise.IsActive(false)).Exist,
	}
	if src != nil {
		checks["source"] = tx.Source.Query().Where(source.ID(*src), source.IsActive(false)).Exist
	}
	for field, inactive := range checks {
		yes, err := inactive(ctx)
		if err != nil {
			return err
		}
		if yes {
			v.Add(field, msg)
		}
	}
	return v.Err()
}

// getter reads a record by id with the client of a transaction.
type getter[T any] func(tx *ent.Client, ctx context.Context, id uuid.UUID) (T, error)

// tx adapts an entity's client accessor into a getter.
func tx[T any, C interface {
	Get(context.Context, uuid.UUID) (T, error)
}](client func(*ent.Client) C) getter[T] {
	return func(c *ent.Client, ctx context.Context, id uuid.UUID) (T, error) { return client(c).Get(ctx, id) }
}

// write runs a create (id nil) or an update of a reference record in one
// transaction, after checking perm, and emits its event with the fields
// that changed. It answers the record as read inside the transaction.
func write[T interface{ Unwrap() T }](ctx context.Context, s *Service, perm, recordType string, id *uuid.UUID,
	read func(context.Context, *ent.Client, uuid.UUID) (fields, error),
	do func(tx *ent.Client) (uuid.UUID, error), get getter[T]) (T, error) {
	var out T
	if err := Require(ctx, perm); err != nil {
		return out, err
	}
	err := s.inTx(ctx, func(tx *ent.Client) error {
		var before fields
		verb := "created"
		if id != nil {
			var err error
			if before, err = read(ctx, tx, *id); err != nil {
				return err
			}
			verb = "updated"
		}
		rid, err := do(tx)
		if err != nil {
			return err
		}
		after, err := read(ctx, tx, rid)
		if err != nil {
			return err
		}
		if out, err = get(tx, ctx, rid); err != nil {
			return err
		}
		return s.emitChange(ctx, tx, recordType, verb, rid, before, after)
	})
	if err != nil {
		return out, err
	}
	return out.Unwrap(), nil
}

// remove runs the delete of a reference record (del checks its use) in one
// transaction, after checking perm, and emits its deleted event.
func (s *Service) remove(ctx context.Context, perm, recordType string, id uuid.UUID,
	read func(context.Context, *ent.Client, uuid.UUID) (fields, error), del func(tx *ent.Client) error) error {
	if err := Require(ctx, perm); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *ent.Client) error {
		before, err := read(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := del(tx); err != nil {
			return err
		}
		return s.emitChange(ctx, tx, recordType, "deleted", id, before, nil)
	})
}

// idOf returns the id of the record a write returned, unless it failed.
func idOf(err error, id func() uuid.UUID) (uuid.UUID, error) {
	if err != nil {
		return uuid.Nil, err
	}
	return id(), nil
}

// checkNameOnly validates an input whose only text is its name.
func checkNameOnly(name *string, create bool) error {
	var v fault.Validation
	checkName(&v, "name", name, create)
	return v.Err()
}
