package graph

// defaultPage returns the page size of a connection: first, or DefaultPage
// when neither first nor last is given. (The operation's limits have already
// rejected sizes above MaxPage.)
func defaultPage(first, last *int) *int {
	if first == nil && last == nil {
		n := DefaultPage
		return &n
	}
	return first
}
