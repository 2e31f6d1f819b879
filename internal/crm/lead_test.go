package crm

import (
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/conecrm/gateway/ent"
)

func TestRotationOrdersActiveMembers(t *testing.T) {
	a, b, c, d := uuid.MustParse("00000000-0000-7000-8000-00000000000a"), uuid.MustParse("00000000-0000-7000-8000-00000000000b"),
		uuid.MustParse("00000000-0000-7000-8000-00000000000c"), uuid.MustParse("00000000-0000-7000-8000-00000000000d")
	group := func(order []string, members ...uuid.UUID) *ent.SecurityGroup {
		g := &ent.SecurityGroup{MembersOrder: order}
		for _, m := range members {
			g.Edges.Members = append(g.Edges.Members, &ent.User{ID: m})
		}
		return g
	}
	tests := []struct {
		name  string
		group *ent.SecurityGroup
		want  []uuid.UUID
	}{
		{"members_order decides", group([]string{c.String(), a.String(), b.String()}, a, b, c), []uuid.UUID{c, a, b}},
		{"inactive or removed members are skipped", group([]string{d.String(), b.String(), a.String()}, a, b), []uuid.UUID{b, a}},
		{"unlisted members follow, by id", group([]string{b.String()}, c, a, b), []uuid.UUID{b, a, c}},
		{"garbage and repeats in the order are ignored", group([]string{"x", a.String(), a.String()}, a), []uuid.UUID{a}},
		{"no members", group([]string{a.String()}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rotation(tt.group); !slices.Equal(got, tt.want) {
				t.Fatalf("rotation = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSortWhitelistNamesTheField(t *testing.T) {
	if _, err := accountSort.order(Sort{Field: "password"}, "name"); AsError(err).Fields["sortField"] == nil {
		t.Fatalf("unknown sortField: %v", err)
	}
	terms, err := contactSort.order(Sort{Field: "firstName", Desc: true}, "last_name")
	if err != nil || len(terms) != 2 {
		t.Fatalf("firstName DESC: %d terms, %v", len(terms), err)
	}
}
