package querybuilder_test

import (
	"errors"
	"testing"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/conecrm/gateway/internal/fault"
)

// FuzzParse feeds arbitrary bytes to the parser and compiler: they never
// panic, every failure is an Invalid fault.Error (a 400, never a 500), and a
// query that compiles writes SQL on both dialects.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"combinator":"and","rules":[{"id":"r1","field":"subject","operator":"contains","value":"50%"}]}`,
		`{"query":{"combinator":"or","not":true,"rules":[{"field":"priority","operator":"between","value":"1,3"},{"rules":[]}]}}`,
		`{"rules":[{"field":"stage","operator":"in","value":["New","x"]},"or",{"field":"custom.budget","operator":">","value":1e3}]}`,
		`{"rules":[{"field":"priority","operator":"<","valueSource":"field","value":"visitCount"}]}`,
		`{"rules":[{"field":"custom.extras","operator":"=","value":"mats"},{"field":"dueDate","operator":"null"}]}`,
		`{"rules":[{"field":"custom.callbackAt","operator":"notBetween","value":["2026-01-01","2026-02-01T00:00:00+01:00"]}]}`,
		`{"rules":["and"]}`, `[]`, `null`, `{"rules":[{"rules":[{"rules":[]}]}]}`, `{"query":{"query":{}}}`,
	} {
		f.Add([]byte(seed))
	}
	c := testCatalogue(f, "lead")
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := c.CompileJSON(data)
		if err != nil {
			var e *fault.Error
			if !errors.As(err, &e) || e.Code != fault.Invalid || e.Message == "" {
				t.Fatalf("%q: error %v is not an Invalid fault.Error", data, err)
			}
			return
		}
		for _, d := range []string{dialect.SQLite, dialect.Postgres} {
			s := sql.Dialect(d).Select("id").From(sql.Table("leads"))
			p(s)
			if query, _ := s.Query(); s.Err() != nil || query == "" {
				t.Fatalf("%q on %s: %v", data, d, s.Err())
			}
		}
	})
}
