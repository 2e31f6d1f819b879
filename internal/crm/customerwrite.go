package crm

import (
	"context"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/account"
	"github.com/conecrm/gateway/ent/contact"
	"github.com/conecrm/gateway/internal/fault"
)

// ContactWriteInput is a contact create or update on its own: the
// contact's fields (nil keeps the stored value, blank clears it) and custom
// field values (each given field's value replaced; empty removes it).
type ContactWriteInput struct {
	ContactInput
	CustomFieldValues []CustomFieldValueInput
}

// CreateContact creates a contact with its custom field values and emits
// contact.created, in one transaction; it answers the contact as created.
func (s *Service) CreateContact(ctx context.Context, in ContactWriteInput) (*ent.Contact, error) {
	if err := Require(ctx, PermContactWrite); err != nil {
		return nil, err
	}
	in.ID = nil
	var v fault.Validation
	in.check(&v, "")
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *ent.Contact
	err := s.inTx(ctx, func(tx *ent.Client) error {
		c, err := contactCreate(tx, in.ContactInput).Save(ctx)
		if err != nil {
			return err
		}
		if err := writeThirdPartyIDs(ctx, tx, c.ID, false, in.ThirdPartyIDs); err != nil {
			return err
		}
		if err := replaceCustomValues(ctx, tx, "contact", c.ID, in.CustomFieldValues); err != nil {
			return err
		}
		after, state, err := contactState(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		out = after
		return s.emit(ctx, tx, Event{Topic: "contact.created", RecordType: RecordContact, RecordID: c.ID, Changes: diff(nil, state)})
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// UpdateContact applies in to contact id and emits contact.updated with
// what changed (nothing is emitted when nothing changed). NotFound for an
// unknown or another tenant's contact.
func (s *Service) UpdateContact(ctx context.Context, id uuid.UUID, in ContactWriteInput) (*ent.Contact, error) {
	if err := Require(ctx, PermContactWrite); err != nil {
		return nil, err
	}
	var out *ent.Contact
	err := s.inTx(ctx, func(tx *ent.Client) error {
		_, before, err := contactState(ctx, tx, id)
		if err != nil {
			return err
		}
		var v fault.Validation
		in.ID = nil
		in.check(&v, "")
		if err := v.Err(); err != nil {
			return err
		}
		if err := updateContact(ctx, tx, id, in.ContactInput); err != nil {
			return err
		}
		if err := writeThirdPartyIDs(ctx, tx, id, false, in.ThirdPartyIDs); err != nil {
			return err
		}
		if err := replaceCustomValues(ctx, tx, "contact", id, in.CustomFieldValues); err != nil {
			return err
		}
		after, state, err := contactState(ctx, tx, id)
		if err != nil {
			return err
		}
		out = after
		return s.emitUpdated(ctx, tx, RecordContact, id, before, state)
	})
	if err != nil {
		return nil, err
	}
	return out.Unwrap(), nil
}

// DeleteContact soft-deletes contact id and, in the same transaction,
// clears the primary contact of the accounts that had it (each emits
// account.updated) and emits contact.deleted.
func (s *Service) DeleteContact(ctx context.Context, id uuid.UUID) error {
	if err := Require(ctx, PermContactDelete); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *ent.Client) error {
		if _, err := tx.Contact.Get(ctx, id); err != nil {
			return err
		}
		accounts, err := tx.Account.Query().Where(account.PrimaryContactID(id)).IDs(ctx)
		if err != nil {
			return err
		}
		for _, a := range accounts {
			if err := tx.Account.UpdateOneID(a).ClearPrimaryContact().Exec(ctx); err != nil {
				return err
			}
			ev := Event{Topic: "account.updated", RecordType: RecordAccount, RecordID: a,
				Changes: Changes{"primaryContact": {Before: id, After: nil}}}
			if err := s.emit(ctx, tx, ev); err != nil {
				return err
			}
		}
		if err := tx.Contact.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		return s.emit(ctx, tx, Event{Topic: "contact.deleted", RecordType: RecordContact, RecordID: id})
	})
}

// updateContact writes the fields in sets on contact id.
func updateContact(ctx context.Context, tx *ent.Client, id uuid.UUID, in ContactInput) error {
	update := tx.Contact.UpdateOneID(id)
	m := update.Mutation()
	in.CustomerFields.apply(m, false)
	for _, t := range in.texts() {
		setText(m, t.column, t.value, false)
	}
	if len(m.Fields()) == 0 && len(m.ClearedFields()) == 0 {
		return nil
	}
	return update.Exec(ctx)
}

// hasFields reports whether a nested contact input carries fields besides
// its id (then the linked contact is updated).
func (c ContactInput) hasFields() bool {
	for _, t := range append(c.CustomerFields.columns(), c.texts()...) {
		if t.value != nil {
			return true
		}
	}
	return c.IsActive != nil || c.ThirdPartyIDs != nil
}

// emitUpdated emits "<record>.updated" with the differences between two
// states, or nothing when they are equal.
func (s *Service) emitUpdated(ctx context.Context, tx *ent.Client, record string, id uuid.UUID, before, after map[string]any) error {
	changes := diff(before, after)
	for f, v := range before {
		if _, ok := after[f]; !ok {
			changes.Set(f, v, nil)
		}
	}
	if len(changes) == 0 {
		return nil
	}
	return s.emit(ctx, tx, Event{Topic: record + ".updated", RecordType: record, RecordID: id, Changes: changes})
}

// customerSnapshot is the shared fields of an account or a contact.
func customerSnapshot(primaryEmail, secondaryEmail, homePhone, workPhone, workPhoneExtension, mobilePhone,
	address, city, province, postalCode, country, language *string, isActive bool) map[string]any {
	return map[string]any{
		"primaryEmail": primaryEmail, "secondaryEmail": secondaryEmail, "homePhone": homePhone,
		"workPhone": workPhone, "workPhoneExtension": workPhoneExtension, "mobilePhone": mobilePhone,
		"address": address, "city": city, "province": province, "postalCode": postalCode,
		"country": country, "language": language, "isActive": isActive,
	}
}

// contactState reads contact id in the transaction as a response embeds
// it, with its event snapshot (custom values as customFieldValues.<name>).
func contactState(ctx context.Context, tx *ent.Client, id uuid.UUID) (*ent.Contact, map[string]any, error) {
	c, err := WithContactGraph(tx.Contact.Query().Where(contact.ID(id))).Only(ctx)
	if err != nil {
		return nil, nil, err
	}
	s := customerSnapshot(c.PrimaryEmail, c.SecondaryEmail, c.HomePhone, c.WorkPhone, c.WorkPhoneExtension,
		c.MobilePhone, c.Address, c.City, c.Province, c.PostalCode, c.Country, c.Language, c.IsActive)
	s["firstName"], s["lastName"], s["companyName"] = c.FirstName, c.LastName, c.CompanyName
	s["civility"], s["preferredMethodOfContact"] = c.Civility, c.PreferredMethodOfContact
	if err := addCustomValues(ctx, tx, id, s); err != nil {
		return nil, nil, err
	}
	if err := addThirdPartyIDs(ctx, tx, id, false, s); err != nil {
		return nil, nil, err
	}
	return c, s, nil
}

// accountState reads account id in the transaction as a response embeds
// it, with its event snapshot.
func accountState(ctx context.Context, tx *ent.Client, id uuid.UUID) (*ent.Account, map[string]any, error) {
	a, err := WithAccountGraph(tx.Account.Query().Where(account.ID(id))).Only(ctx)
	if err != nil {
		return nil, nil, err
	}
	s := customerSnapshot(a.PrimaryEmail, a.SecondaryEmail, a.HomePhone, a.WorkPhone, a.WorkPhoneExtension,
		a.MobilePhone, a.Address, a.City, a.Province, a.PostalCode, a.Country, a.Language, a.IsActive)
	s["name"], s["primaryContact"] = a.Name, a.PrimaryContactID
	var contacts []uuid.UUID
	for _, c := range a.Edges.Contacts {
		contacts = append(contacts, c.ID)
	}
	s["contacts"] = sortedIDs(contacts)
	if err := addCustomValues(ctx, tx, id, s); err != nil {
		return nil, nil, err
	}
	if err := addThirdPartyIDs(ctx, tx, id, true, s); err != nil {
		return nil, nil, err
	}
	return a, s, nil
}

func addCustomValues(ctx context.Context, tx *ent.Client, id uuid.UUID, s map[string]any) error {
	values, err := customValues(ctx, tx, id)
	if err != nil {
		return err
	}
	for f, v := range values {
		s["customFieldValues."+f] = v
	}
	return nil
}

// sortedIDs returns ids sorted, so that equal sets compare equal.
func sortedIDs(ids []uuid.UUID) []uuid.UUID {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	return out
}
