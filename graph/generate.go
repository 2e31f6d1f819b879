package graph

// The executor is generated from schema/*.graphqls, which includes the SDL
// entgql writes into schema/ent.graphqls: run `go generate ./ent` first
// (`go generate ./...` does, as ./ent sorts before ./graph). graph/gqlgen
// is gqlgen with the scheduling changes of graph/executor.
//go:generate go -C .. run ./graph/gqlgen
