package graph

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// jsonParams is decodeParams without quickParams: encoding/json alone.
func jsonParams(raw []byte) (graphql.RawParams, bool) {
	var p graphql.RawParams
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&p) != nil {
		return p, false
	}
	return p, len(bytes.TrimLeft(raw[dec.InputOffset():], " \t\r\n")) == 0
}

var paramsSeeds = []string{
	`{"query":"query($id: ID!) { node(id: $id) { id ... on Account { name city } } }","variables":{"id":"019a4a8e-0000-7000-8000-000000000001"}}`,
	`{"query":"query Q {\n  __typename\n}","operationName":"Q","variables":null,"extensions":{"persistedQuery":{"version":1,"sha256Hash":"ab"}}}`,
	`{"query":"{ a }","variables":{"n":-1.5e+3,"z":0,"b":[true,false,null,{},[]],"s":"\u00e9\"","k":{"k":1,"k":2}}}`,
	`{"query":"caf` + "\xc3\xa9" + `","variables":{"bad":"` + "\xff" + `"}}`,
	`{"query":"{ a }","query":"{ b }"}`,
	`{"Query":"{ a }"}`,
	`{"query":"{ a }","variables":{"n":01}}`,
	`{"query":"{ a }","variables":{"n":-}}`,
	`{"query":"{ a }","variables":{"n":1.}}`,
	`{"query":"{ a }"} x`,
	`{"query":null,"operationName":null}`,
	`{"query":"a","other":1}`,
	`{"quer\u0079":"{ a }"}`,
	` {} `,
	`{"query":"{ a }","variables":{"a":"b\`,
	`{"query":"{ a }","variables":[1]}`,
	`{"query":"\u0000"}`,
	"{\"query\":\"\x01\"}",
}

// quickParams decodes exactly what encoding/json decodes, the same way,
// or leaves the body to it.
func FuzzQuickParams(f *testing.F) {
	for _, s := range paramsSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var quick graphql.RawParams
		if !quickParams(raw, &quick) {
			return
		}
		want, ok := jsonParams(raw)
		if !ok {
			t.Fatalf("quickParams decoded %q, which encoding/json refuses", raw)
		}
		if !reflect.DeepEqual(quick, want) {
			t.Fatalf("%q: quickParams %#v, encoding/json %#v", raw, quick, want)
		}
	})
}

// decodeParams answers as encoding/json does for the seeds, and the bench
// harness's single-node body, and a multi-line query with a variable,
// take the quick way.
func TestDecodeParamsAsEncodingJSON(t *testing.T) {
	for _, s := range paramsSeeds {
		var got graphql.RawParams
		ok := decodeParams([]byte(s), &got)
		want, wantOK := jsonParams([]byte(s))
		if ok != wantOK || ok && !reflect.DeepEqual(got, want) {
			t.Errorf("%q: decodeParams %v %#v, encoding/json %v %#v", s, ok, got, wantOK, want)
		}
	}
	for _, s := range paramsSeeds[:3] {
		var p graphql.RawParams
		if !quickParams([]byte(s), &p) {
			t.Errorf("%q: not decoded by quickParams", s)
		}
	}
}
