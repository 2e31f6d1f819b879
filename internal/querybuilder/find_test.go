package querybuilder_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/conecrm/gateway/ent"
	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/querybuilder"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

func TestFilterPagesAndSortsWithMissingValuesLast(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fx := newFixture(t, db)
		svc := crm.NewService(db.Client)
		priorities := func(p querybuilder.Page) (int, []string) {
			r, err := svc.Filter(fx.ctx, "lead", nil, p)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, l := range r.Rows.([]*ent.Lead) {
				if l.Priority == nil {
					out = append(out, "none")
				} else {
					out = append(out, fmt.Sprint(*l.Priority))
				}
			}
			return r.Total, out
		}
		for _, c := range []struct {
			page  querybuilder.Page
			total int
			want  []string
		}{
			{querybuilder.Page{Limit: 10, SortField: "priority"}, 5, []string{"1", "2", "2", "3", "none"}},
			{querybuilder.Page{Limit: 10, SortField: "priority", Desc: true}, 5, []string{"3", "2", "2", "1", "none"}},
			{querybuilder.Page{Limit: 2, Offset: 2, SortField: "priority"}, 5, []string{"2", "3"}},
		} {
			if total, got := priorities(c.page); total != c.total || !slices.Equal(got, c.want) {
				t.Errorf("%+v: total %d %v, want %d %v", c.page, total, got, c.total, c.want)
			}
		}
		_, err := svc.Filter(fx.ctx, "lead", nil, querybuilder.Page{Limit: 1, SortField: "custom.budget"})
		assertInvalidField(t, err, "sortField")
	})
}
