package querybuilder_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/conecrm/gateway/internal/crm"
	"github.com/conecrm/gateway/internal/querybuilder"
	"github.com/conecrm/gateway/internal/store"
	"github.com/conecrm/gateway/internal/testing/storetest"
)

// randomQueries is the number of generated queries per database.
const randomQueries = 400

// gen makes random queries over the fixture's lead fields from value pools
// that hit the fixture's values, their boundaries and the traps (%, _, a
// quote, empty text, ids of deleted rows).
type gen struct {
	rng    *rand.Rand
	cat    *querybuilder.Catalogue
	fields []string
	pools  map[string][]any
}

func newGen(fx *fixture, cat *querybuilder.Catalogue, seed uint64) *gen {
	ids := func(keys ...string) []any {
		var out []any
		for _, k := range keys {
			out = append(out, fx.ids[k].String())
		}
		return out
	}
	text := []any{"civic", "CIVIC_LX", "civic 50% off", "50%", "%", "_", "o'brien", "Martin", "new", "NEW", "vip",
		"call", "BACK", "model 3", "outback", "", "m", "z", "émile", "ada@fixture.test", "bob@FIXTURE.TEST", "zed@fixture.test"}
	whole := []any{-1, 0, 1, 2, 3, 5, "2"}
	return &gen{
		rng: rand.New(rand.NewPCG(seed, 7)),
		cat: cat,
		fields: []string{"subject", "description", "priority", "visitCount", "isQualified", "offerMade", "dueDate",
			"stage", "status.kind", "contact.lastName", "assignees", "custom.budget", "custom.financing",
			"custom.tradeIn", "custom.visitDate", "custom.callbackAt", "custom.notes", "custom.extras"},
		pools: map[string][]any{
			"subject": text, "description": text, "contact.lastName": text, "custom.notes": text,
			"stage":             append(slices.Clone(text), ids("new", "contacted", "gone")...),
			"assignees":         append(slices.Clone(text), ids("ada", "bob", "zed")...),
			"priority":          whole,
			"visitCount":        whole,
			"custom.budget":     {0, 1000, 1e3, 20000, "20000", 35000.5, 99999, -5},
			"isQualified":       {true, false, "true", "false"},
			"offerMade":         {true, false},
			"custom.tradeIn":    {true, false},
			"dueDate":           {"2026-01-10T09:00:00Z", "2026-02-10T09:00:00Z", "2026-02-10", "2026-03-10T10:00:00+01:00", "2025-01-01", "2027-01-01"},
			"custom.callbackAt": {"2026-03-01T10:00:00Z", "2026-04-15T08:30:00Z", "2026-03-01", "2026-04-15T09:30:00+01:00"},
			"custom.visitDate":  {"2026-03-01", "2026-04-15", "2025-12-31", "2026-01-01"},
			"status.kind":       {"OPEN", "CLOSED", "LOST", "SOLD"},
			"custom.financing":  {"cash", "loan", "lease"},
			"custom.extras":     {"mats", "rack", "tires"},
		},
	}
}

func (g *gen) pick(xs []any) any { return xs[g.rng.IntN(len(xs))] }

// fieldPairs can be compared with valueSource "field".
var fieldPairs = [][2]string{{"priority", "visitCount"}, {"visitCount", "priority"}, {"subject", "description"}, {"description", "subject"}}

func (g *gen) group(depth int) map[string]any {
	n := 1 + g.rng.IntN(3)
	rules := make([]any, 0, n)
	for range n {
		if depth < 3 && g.rng.IntN(4) == 0 {
			rules = append(rules, g.group(depth+1))
		} else {
			rules = append(rules, g.rule())
		}
	}
	return map[string]any{"combinator": []string{"and", "or"}[g.rng.IntN(2)], "not": g.rng.IntN(5) == 0, "rules": rules}
}

func (g *gen) rule() map[string]any {
	if g.rng.IntN(10) == 0 {
		p := fieldPairs[g.rng.IntN(len(fieldPairs))]
		ops := []querybuilder.Operator{querybuilder.OpEqual, querybuilder.OpNotEqual, querybuilder.OpLess, querybuilder.OpLessOrEqual, querybuilder.OpGreater, querybuilder.OpGreaterOrEqual}
		return map[string]any{"field": p[0], "operator": ops[g.rng.IntN(len(ops))], "valueSource": "field", "value": p[1]}
	}
	name := g.fields[g.rng.IntN(len(g.fields))]
	f, _ := g.cat.Field(name)
	ops := f.Operators()
	op := ops[g.rng.IntN(len(ops))]
	r := map[string]any{"field": name, "operator": op}
	pool := g.pools[name]
	switch op {
	case querybuilder.OpNull, querybuilder.OpNotNull:
	case querybuilder.OpIn, querybuilder.OpNotIn, querybuilder.OpBetween, querybuilder.OpNotBetween:
		n := 2
		if op == querybuilder.OpIn || op == querybuilder.OpNotIn {
			n = 1 + g.rng.IntN(3)
		}
		list := make([]any, n)
		for i := range list {
			list[i] = g.pick(pool)
		}
		r["value"] = list
		if g.rng.IntN(3) == 0 {
			r["value"] = commaJoined(list)
		}
	default:
		r["value"] = g.pick(pool)
	}
	return r
}

// commaJoined writes a list as react-querybuilder's text editor does; a
// value holding a comma or spaces at its ends cannot be written so and
// stays a list.
func commaJoined(list []any) any {
	parts := make([]string, len(list))
	for i, v := range list {
		s := fmt.Sprint(v)
		if strings.Contains(s, ",") || strings.TrimSpace(s) != s || s == "" {
			return list
		}
		parts[i] = s
	}
	return strings.Join(parts, ",")
}

// TestRandomQueriesMatchTheReference compares the SQL results of random
// queries (fixed seeds) with the reference evaluator, on both databases.
func TestRandomQueriesMatchTheReference(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fx := newFixture(t, db)
		cat, err := crm.NewService(db.Client).FilterCatalogue(fx.ctx, "lead")
		if err != nil {
			t.Fatal(err)
		}
		model := fx.model()
		g := newGen(fx, cat, 42)
		failures := 0
		for i := range randomQueries {
			raw, _ := json.Marshal(g.group(1))
			got, err := fx.leads(t, string(raw))
			if err != nil {
				t.Fatalf("query %d %s: %v", i, raw, err)
			}
			q, err := querybuilder.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{}
			for key, r := range model {
				if eval(cat, q, r) {
					want = append(want, key)
				}
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("query %d %s\n sql %v\n ref %v", i, raw, got, want)
				if failures++; failures == 10 {
					t.FailNow()
				}
			}
		}
	})
}
