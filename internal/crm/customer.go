package crm

import (
	"strings"

	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent/schema"
)

// CustomerFilter selects accounts or contacts for the list routes.
type CustomerFilter struct {
	// Search is a case-insensitive substring of names, emails and phones;
	// every word must match some field, so "ada lovelace" finds Ada
	// Lovelace. A word's digits are also compared with the phones' digits,
	// so "(514) 555" finds "514-555-0199".
	Search string
	// Exclude drops one record from the result.
	Exclude *uuid.UUID
	// Franchise keeps customers with a lead in that franchise, given by id
	// or by code.
	Franchise string
	Page      Page
	Sort      Sort
}

// searchPredicate builds the Search condition over textCols (compared
// case-insensitively) and the *_digits columns; nil when Search is blank.
func searchPredicate(search string, textCols ...string) func(*sql.Selector) {
	words := strings.Fields(search)
	if len(words) == 0 {
		return nil
	}
	return func(s *sql.Selector) {
		var all []*sql.Predicate
		for _, w := range words {
			var any []*sql.Predicate
			for _, c := range textCols {
				any = append(any, sql.ContainsFold(s.C(c), w))
			}
			if d := schema.PhoneDigits(w); d != "" {
				for _, c := range []string{"home_phone_digits", "work_phone_digits", "mobile_phone_digits"} {
					any = append(any, sql.Contains(s.C(c), d))
				}
			}
			all = append(all, sql.Or(any...))
		}
		s.Where(sql.And(all...))
	}
}

// franchisePredicate keeps customers (customerCol is the leads' column
// naming them) with a live lead in the franchise given by id or code.
func franchisePredicate(franchise, customerCol string) func(*sql.Selector) {
	return func(s *sql.Selector) {
		leads := sql.Table("leads")
		fr := sql.Table("franchises")
		match := sql.EQ(fr.C("code"), franchise)
		if id, err := uuid.Parse(franchise); err == nil {
			match = sql.Or(sql.EQ(fr.C("id"), id), match)
		}
		sub := sql.Select(leads.C(customerCol)).From(leads).
			Join(fr).On(leads.C("franchise_id"), fr.C("id")).
			Where(sql.And(
				sql.EQ(leads.C("is_deleted"), false),
				sql.EQ(fr.C("is_deleted"), false),
				sql.ColumnsEQ(leads.C("tenant_id"), s.C("tenant_id")),
				match,
			))
		s.Where(sql.In(s.C("id"), sub))
	}
}
