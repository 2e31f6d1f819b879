package store_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/ent/lead"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/tenancy"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// A statement's rows are scanned into one set of holders, reused from row
// to row (ent/template/join.tmpl, reusable): every row must still read as
// its own — a NULL after a value and a value after a NULL, strings that
// outlive the next row's scan (the drivers' own copies), joined relations
// missing on one row and present on the next, the many-to-many's rows —
// on both drivers. Each lead read in a list of all of them equals the lead
// read alone (one row: nothing reused), in every column and relation.
func TestReusedScanHoldersReadEveryRowAsItsOwn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := tenancy.Bypass(context.Background())
		ids, err := db.Lead.Query().Order(lead.ByID()).IDs(ctx)
		if err != nil || len(ids) < 10 {
			t.Fatalf("%d leads, %v", len(ids), err)
		}
		// Alternate NULLs and values in nullable columns of several types.
		for i, id := range ids {
			u := db.Lead.UpdateOneID(id)
			if i%2 == 0 {
				u.SetDescription("description of lead " + id.String()).SetVisitCount(i).SetIsQualified(true).SetOrderDate(time.Date(2026, 1, 1+i%28, i%24, 0, 0, 0, time.UTC))
			} else {
				u.ClearDescription().SetVisitCount(0).SetIsQualified(false).ClearOrderDate().ClearAccountID()
			}
			if i%3 == 0 {
				u.ClearStageID()
			}
			if err := u.Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		query := func(ctx context.Context) *ent.LeadQuery {
			return db.Lead.Query().WithContact().WithAccount().WithStage().WithCreatedBy().WithAssignees()
		}
		for name, ctx := range map[string]context.Context{"joined": ctx, "separate": ent.WithoutJoins(ctx)} {
			all, err := query(ctx).Order(lead.ByID()).All(ctx)
			if err != nil || len(all) != len(ids) {
				t.Fatalf("%s: %d leads, %v", name, len(all), err)
			}
			shapes := map[bool]int{}
			for i, l := range all {
				one, err := query(ctx).Where(lead.ID(ids[i])).Only(ctx)
				if err != nil {
					t.Fatal(err)
				}
				got, want := asJSON(t, l), asJSON(t, one)
				if got != want {
					t.Errorf("%s: lead %d read in a list:\n%s\nread alone:\n%s", name, i, got, want)
				}
				shapes[l.Description == nil && l.Edges.Account == nil]++
			}
			if shapes[true] == 0 || shapes[false] == 0 {
				t.Errorf("%s: rows with and without NULLs: %v", name, shapes)
			}
		}
	})
}

func asJSON(t *testing.T, l *ent.Lead) string {
	t.Helper()
	type relations struct {
		Contact, Account, Stage, CreatedBy any
		Assignees                          []uuid.UUID
	}
	// A many-to-many's rows come in no particular order.
	slices.SortFunc(l.Edges.Assignees, func(a, b *ent.User) int { return strings.Compare(a.ID.String(), b.ID.String()) })
	r := relations{Contact: l.Edges.Contact, Account: l.Edges.Account, Stage: l.Edges.Stage, CreatedBy: l.Edges.CreatedBy}
	for _, a := range l.Edges.Assignees {
		r.Assignees = append(r.Assignees, a.ID)
	}
	b, err := json.Marshal(struct {
		Lead      *ent.Lead
		Relations relations
	}{l, r})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
