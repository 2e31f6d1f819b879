// Package model holds the GraphQL types that are not ent types: gqlgen
// generates them into models_gen.go from the hand-written schema.
package model
