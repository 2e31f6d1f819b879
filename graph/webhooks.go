package graph

// nonNilStrings keeps a required list present: an empty list must be
// refused as empty, not taken for an omitted one.
func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
