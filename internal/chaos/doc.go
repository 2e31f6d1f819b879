// Package chaos holds the real-process fault tests of the gateway (its
// tests only): the gateway is built once and run as a process under a
// write load whose acknowledged ids are kept in a ledger, while its
// database is restarted, frozen, filled or made read-only and the gateway
// itself is killed with SIGKILL. `go test` runs a short round; `make chaos`
// (CONECRM_CHAOS=full) runs longer ones. docs/operations.md has the
// measured figures.
package chaos
