package idempotency

import (
	"encoding/json"
	"testing"
)

// A GraphQL body is decoded for its extensions.idempotencyKey only when it
// may hold one: whenever encoding/json would find the key, so must the
// cheap check (case folding, the Kelvin sign, escapes).
func TestMayNameKeyNeverMissesAKeyJSONFinds(t *testing.T) {
	for i, body := range []string{
		`{"query":"mutation { a }","extensions":{"idempotencyKey":"k1"}}`,
		`{"query":"mutation { a }","extensions":{"IDEMPOTENCYKEY":"k1"}}`,
		"{\"query\":\"mutation { a }\",\"extensions\":{\"idempotency\u212aey\":\"k1\"}}", // the Kelvin sign folds to k
		`{"query":"mutation { a }","extensions":{"\u0069dempotencyKey":"k1"}}`,
		`{"query":"{ node(id: \"x\") { id } }"}`,
		`{"query":"{ a }","variables":{"idempotencyKey":"not an extension"}}`,
		`{"query":"{ a }"}`,
		`{"query":"mutation { a }","extensions":{"persistedQuery":{"version":1}}}`,
	} {
		var req struct {
			Extensions struct {
				IdempotencyKey string `json:"idempotencyKey"`
			} `json:"extensions"`
		}
		if err := json.Unmarshal([]byte(body), &req); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if i < 4 && req.Extensions.IdempotencyKey == "" {
			t.Fatalf("%s: encoding/json finds no key: the case shows nothing", body)
		}
		if req.Extensions.IdempotencyKey != "" && !mayNameKey([]byte(body)) {
			t.Errorf("%s: holds a key, the check says it cannot", body)
		}
	}
	for _, body := range []string{`{"query":"{ a }"}`, `{"query":"query Q($id: ID!) { node(id: $id) { id } }","variables":{"id":"x"}}`} {
		if mayNameKey([]byte(body)) {
			t.Errorf("%s: a plain query is decoded for a key", body)
		}
	}
}
