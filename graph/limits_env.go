package graph

import (
	"fmt"
	"strconv"
)

// LimitsFromEnv returns DefaultLimits with the values set in the
// environment: CONECRM_GRAPHQL_MAX_DEPTH, CONECRM_GRAPHQL_MAX_COMPLEXITY,
// CONECRM_GRAPHQL_MAX_ALIASES, CONECRM_GRAPHQL_MAX_TOKENS,
// CONECRM_GRAPHQL_MAX_SELECTIONS and CONECRM_GRAPHQL_MAX_RESPONSE_BYTES
// (positive integers).
func LimitsFromEnv(getenv func(string) string) (Limits, error) {
	l := DefaultLimits()
	for name, dst := range map[string]*int{
		"CONECRM_GRAPHQL_MAX_DEPTH":          &l.MaxDepth,
		"CONECRM_GRAPHQL_MAX_COMPLEXITY":     &l.MaxComplexity,
		"CONECRM_GRAPHQL_MAX_ALIASES":        &l.MaxAliases,
		"CONECRM_GRAPHQL_MAX_TOKENS":         &l.MaxTokens,
		"CONECRM_GRAPHQL_MAX_SELECTIONS":     &l.MaxSelections,
		"CONECRM_GRAPHQL_MAX_RESPONSE_BYTES": &l.MaxResponseBytes,
	} {
		v := getenv(name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return l, fmt.Errorf("%s must be a positive integer, not %q", name, v)
		}
		*dst = n
	}
	return l, nil
}
