package store

import (
	"reflect"
	"testing"

	"github.com/google/uuid"
)

func TestAnyArraysRewritesUUIDLists(t *testing.T) {
	a, b, c := uuid.New(), uuid.New(), uuid.New()
	arr := func(ids ...uuid.UUID) string {
		out := make([]any, len(ids))
		for i, id := range ids {
			out[i] = id
		}
		return uuidArray(out)
	}
	if got, want := arr(a, b), "{"+a.String()+","+b.String()+"}"; got != want {
		t.Fatalf("the array literal is %s, want %s", got, want)
	}
	for _, tc := range []struct {
		name     string
		q        string
		args     []any
		wantQ    string
		wantArgs []any
	}{
		{"one list", `SELECT * FROM t WHERE "t"."id" IN ($1, $2, $3)`, []any{a, b, c},
			`SELECT * FROM t WHERE "t"."id" = ANY($1)`, []any{arr(a, b, c)}},
		{"one id", `SELECT * FROM t WHERE "id" IN ($1)`, []any{a},
			`SELECT * FROM t WHERE "id" = ANY($1)`, []any{arr(a)}},
		{"renumbered after", `SELECT * FROM t WHERE "x" = $1 AND "id" IN ($2, $3) AND "y" = $4 LIMIT $5`, []any{"x", a, b, "y", 10},
			`SELECT * FROM t WHERE "x" = $1 AND "id" = ANY($2) AND "y" = $3 LIMIT $4`, []any{"x", arr(a, b), "y", 10}},
		{"two lists", `SELECT * FROM t WHERE "a" IN ($1, $2) OR "b" IN ($3, $4, $5)`, []any{a, b, a, b, c},
			`SELECT * FROM t WHERE "a" = ANY($1) OR "b" = ANY($2)`, []any{arr(a, b), arr(a, b, c)}},
		{"not in stays", `SELECT * FROM t WHERE "id" NOT IN ($1, $2)`, []any{a, b},
			`SELECT * FROM t WHERE "id" NOT IN ($1, $2)`, []any{a, b}},
		{"other types stay", `SELECT * FROM t WHERE "name" IN ($1, $2) AND "id" IN ($3)`, []any{"x", "y", a},
			`SELECT * FROM t WHERE "name" IN ($1, $2) AND "id" = ANY($3)`, []any{"x", "y", arr(a)}},
		{"reused placeholder stays", `SELECT * FROM t WHERE "id" IN ($1, $2) OR "parent" = $1`, []any{a, b},
			`SELECT * FROM t WHERE "id" IN ($1, $2) OR "parent" = $1`, []any{a, b}},
		{"quoted text ignored", `SELECT ' IN ($9)' FROM t WHERE "id" IN ($1, $2)`, []any{a, b},
			`SELECT ' IN ($9)' FROM t WHERE "id" = ANY($1)`, []any{arr(a, b)}},
		{"not a whole list", `SELECT * FROM t WHERE "id" IN ($1, $2 + 1)`, []any{a, b},
			`SELECT * FROM t WHERE "id" IN ($1, $2 + 1)`, []any{a, b}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, args := anyArrays(tc.q, tc.args)
			if q != tc.wantQ || !reflect.DeepEqual(args, tc.wantArgs) {
				t.Errorf("got\n  %s %v\nwant\n  %s %v", q, args, tc.wantQ, tc.wantArgs)
			}
		})
	}
}
