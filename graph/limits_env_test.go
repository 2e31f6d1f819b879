package graph

import "testing"

func TestLimitsFromEnv(t *testing.T) {
	env := map[string]string{"CONECRM_GRAPHQL_MAX_DEPTH": "7", "CONECRM_GRAPHQL_MAX_TOKENS": "500"}
	l, err := LimitsFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultLimits()
	want.MaxDepth, want.MaxTokens = 7, 500
	if l != want {
		t.Errorf("got %+v, want %+v", l, want)
	}
	for _, bad := range []string{"0", "-3", "ten"} {
		if _, err := LimitsFromEnv(func(k string) string {
			if k == "CONECRM_GRAPHQL_MAX_ALIASES" {
				return bad
			}
			return ""
		}); err == nil {
			t.Errorf("CONECRM_GRAPHQL_MAX_ALIASES=%s accepted", bad)
		}
	}
}
