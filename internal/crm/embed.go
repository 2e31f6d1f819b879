package crm

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent/dialect/sql"
)

// MaxEmbedded is the most related records a REST answer embeds per record
// and per relation (an account's contacts, each contact's accounts): the
// first by id, capped in SQL by a window function. Without it one page of
// 100 accounts sharing contacts embedded every account of every contact
// (35 MB). A longer relation is paged from the other side (query builder
// filter, GraphQL root connections). Set from CONECRM_REST_MAX_EMBEDDED at
// startup.
var MaxEmbedded = 10

// embedLimit keeps MaxEmbedded rows per partitionBy value, the first by
// the column orderBy.
func embedLimit(partitionBy, orderBy string) func(*sql.Selector) {
	return entgql.LimitPerRow(partitionBy, MaxEmbedded, sql.ExprFunc(func(b *sql.Builder) { b.Ident(orderBy) }))
}
