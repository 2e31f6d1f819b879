// Package querybuilder turns react-querybuilder queries into SQL predicates
// for ent queries, one filter language for REST, GraphQL and saved filters.
// It is a compiler: query JSON + catalogue → predicate. It reads no
// database and decides no permission; the domain layer does both
// (crm.Service's Filter… methods: the viewer's read permissions and the
// tenant's custom fields go into New, the rows are read there), so it
// imports neither internal/crm nor a transport.
//
// A query is a rule group: combinator "and" | "or", "not", and rules that
// are rules or nested groups (react-querybuilder's independent-combinator
// form, rules alternating with "and"/"or", is accepted too; "and" binds
// tighter than "or"). A rule names a field of the entity's catalogue, one of
// the 18 operators, and a value, or (valueSource "field") another field.
//
// Pipeline: Parse checks structure and limits (depth 10, 500 rules, 1000
// values in "in"); New builds an entity's Catalogue for a viewer
// (built-in fields plus the tenant's custom fields as custom.<fieldName>);
// Catalogue.Compile validates each rule against it and returns a
// func(*sql.Selector); CompileJSON parses and compiles. Errors are *fault.Error;
// a bad query is Invalid and names the rule by its id (or its position).
//
// Semantics, identical on SQLite and PostgreSQL:
//   - Every value is a bound parameter; every identifier comes from the
//     catalogue. Nothing of the request is ever spliced into SQL.
//   - Text comparisons (=, <, in, between, contains…) are case-insensitive:
//     lower() on both sides, in SQL (see dialect.go). '%' and '_' in values
//     match literally (LIKE … ESCAPE '\').
//   - Two-valued logic: a missing value (NULL, no related row, no custom
//     value, an empty text) never satisfies a positive operator, and each
//     negative operator is the exact complement of its positive twin: "!="
//     and "doesNotContain" include rows without a value, "null" is "not
//     notNull", "notIn" is "not in", "notBetween" is "not between". A "not"
//     group is the complement of the group.
//   - between is inclusive, in the order given (between 5,1 matches nothing).
//     in and between take an array or a comma-separated string.
//   - Relations: to-one paths (contact.lastName, stage…) and to-many ones
//     (assignees…) compile to "fk IN (SELECT id …)" subqueries, so rows never
//     multiply. A relation itself (stage, status, source, franchise,
//     assignee…) compares the related row's name (email for users); with =,
//     !=, in and notIn, a value that is a UUID is compared with its id
//     instead. Related rows count only when live and of the viewer's tenant.
//   - Custom fields are stored as text and read as their type: numbers of
//     the form -12.5 (a malformed value is no value), dates "YYYY-MM-DD",
//     date-times RFC 3339 in UTC, booleans true/false (or 1/0).
//   - valueSource "field" compares two columns of the entity itself with
//     =, !=, <, <=, >, >=.
package querybuilder
