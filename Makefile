# Developer and CI entry points. CI runs .ci/run, which calls these targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
# Go lives in /usr/local/go/bin on the CI image; appending is harmless elsewhere.
export PATH := $(PATH):/usr/local/go/bin

GO_TEST      := go test -count=1 -timeout 40m ./...
GENERATED    := ent graph schema
# Space-separated pkg:FuzzName entries, e.g. ./internal/foo:FuzzParse
FUZZ_TARGETS ?= ./internal/querybuilder:FuzzParse ./graph:FuzzQuickParams
FUZZTIME     ?= 20s
PG           := bash .ci/pg-throwaway.sh
# The committed PGO profile (make pgo writes it, make build uses it).
PGO          ?= internal/bench/pgo/gateway.pgo

.PHONY: test generate check-generated vet e2e run build pgo fuzz chaos bench playground

# PostgreSQL source, in order: an exported CONECRM_TEST_DATABASE_URL,
# SQLITE_ONLY=1 (tests skip PostgreSQL), else a throwaway cluster of our own.
test:
	@if [[ -n "$${CONECRM_TEST_DATABASE_URL:-}" ]]; then \
		echo "test: using CONECRM_TEST_DATABASE_URL from the environment"; \
		$(GO_TEST); \
	elif [[ "$(SQLITE_ONLY)" == 1 ]]; then \
		echo "test: SQLITE_ONLY=1, PostgreSQL tests will skip"; \
		$(GO_TEST); \
	elif ! $(PG) bindir >/dev/null 2>&1; then \
		echo "PostgreSQL binaries not found: install the postgresql package (apt-get install postgresql) or run SQLITE_ONLY=1 make test" >&2; \
		exit 1; \
	else \
		export CONECRM_PG_STATE=$$(mktemp /tmp/conecrm-pgstate-make.XXXXXX); \
		trap '$(PG) stop >/dev/null || true; rm -f "$$CONECRM_PG_STATE"' EXIT; \
		trap 'exit 130' INT TERM; \
		CONECRM_TEST_DATABASE_URL=$$($(PG) start); \
		echo "test: throwaway PostgreSQL at $$CONECRM_TEST_DATABASE_URL"; \
		export CONECRM_TEST_DATABASE_URL; \
		$(GO_TEST); \
	fi

generate:
	go generate ./...

check-generated: generate
	@changes=$$(git status --porcelain --untracked-files=all -- $(GENERATED)); \
	if [[ -n "$$changes" ]]; then \
		echo "generated code is out of date; run 'make generate' and commit:" >&2; \
		echo "$$changes" >&2; \
		git --no-pager diff --stat -- $(GENERATED) >&2; \
		exit 1; \
	fi; \
	echo "check-generated: ok"

# The PGO profile is checked for what could break make build, that the
# compiler reads it (go tool preprofile: 0.5 s), not by a PGO build (~4.5
# min of CPU on a cold cache): a stale profile only gains less.
vet:
	go vet ./...
	go tool preprofile -i $(PGO) -o /dev/null
	@unformatted=$$(git ls-files -z -- '*.go' | xargs -0 -r gofmt -l); \
	if [[ -n "$$unformatted" ]]; then \
		echo "gofmt needed on:" >&2; echo "$$unformatted" >&2; exit 1; \
	fi

e2e:
	@if [[ -f .ci/e2e.sh ]]; then bash .ci/e2e.sh; else echo "e2e: .ci/e2e.sh not present, skipping"; fi

run:
	go run .

# The release binary: built with profile-guided optimisation from the
# committed CPU profile (`make pgo` makes it; docs/benchmarks.md, session 9,
# measures what it gains). Not a default.pgo beside server.go, which
# `go run .` would pick up too: a PGO build compiles every package, the
# standard library's included, anew (~4.5 min of CPU on a cold cache).
# PGO=off builds without; BIN names the output.
BIN ?= conecrm
build:
	go build -pgo=$(PGO) -o $(BIN) .

# Regenerates the PGO profile: the bench harness on both databases (as
# make bench: CONECRM_TEST_DATABASE_URL, else a throwaway cluster), a plain
# build (the profile must not depend on the previous one), every gateway
# shape at concurrency 1 and 8 for PGO_SECONDS each, its CPU profiles
# merged into $(PGO). Hold the machine quiet meanwhile (~5 min).
PGO_SECONDS ?= 10
pgo:
	$(MAKE) bench BENCH_FLAGS='-pgo off -pgo-out $(PGO) -c 1,8 -duration $(PGO_SECONDS)s -rounds 1 $(BENCH_FLAGS)'

# Rebuilds the committed GraphiQL bundle (internal/playground/dist) from
# internal/playground/web and its lockfile; make e2e checks the two agree.
playground:
	cd internal/playground/web && npm ci --no-audit --no-fund && npm run build

fuzz:
	@for e in $(FUZZ_TARGETS); do \
		pkg=$${e%%:*} t=$${e#*:}; \
		echo "fuzz: $$pkg $$t"; \
		go test -run='^$$' -fuzz="^$${t}$$" -fuzztime=$(FUZZTIME) "$$pkg"; \
	done

# Benchmark harness (internal/bench/run), not part of `make test`: seeds the
# bench data set on SQLite and on PostgreSQL (CONECRM_TEST_DATABASE_URL, else
# a throwaway cluster) and prints the results as Markdown. BENCH_FLAGS, e.g.
# BENCH_FLAGS='-duration 3s -c 1,8'; see `go run ./internal/bench/run -h`.
BENCH_FLAGS ?=
bench:
	@if [[ -n "$${CONECRM_TEST_DATABASE_URL:-}" ]]; then \
		go run ./internal/bench/run $(BENCH_FLAGS); \
	else \
		export CONECRM_PG_STATE=$$(mktemp /tmp/conecrm-pgstate-bench.XXXXXX); \
		trap '$(PG) stop >/dev/null || true; rm -f "$$CONECRM_PG_STATE"' EXIT; \
		trap 'exit 130' INT TERM; \
		go run ./internal/bench/run -pg "$$($(PG) start)" $(BENCH_FLAGS); \
	fi

# Fault tests. The real-process suite (internal/chaos: the gateway built and
# run as a process under write load through PostgreSQL restarts, a freeze,
# kill -9, SQLite full disk and read-only directory) runs one short round in
# `make test`; here every scenario runs three rounds (CONECRM_CHAOS=full),
# with the proxy-based store and idempotency fault tests. Needs PostgreSQL
# like `make test` (CONECRM_TEST_DATABASE_URL, else a throwaway cluster)
# and root for the SQLite faults (tmpfs mount, unprivileged gateway).
chaos:
	@if [[ -z "$${CONECRM_TEST_DATABASE_URL:-}" ]]; then \
		export CONECRM_PG_STATE=$$(mktemp /tmp/conecrm-pgstate-chaos.XXXXXX); \
		trap '$(PG) stop >/dev/null || true; rm -f "$$CONECRM_PG_STATE"' EXIT; \
		trap 'exit 130' INT TERM; \
		CONECRM_TEST_DATABASE_URL=$$($(PG) start); export CONECRM_TEST_DATABASE_URL; \
	fi; \
	CONECRM_CHAOS=full go test -count=1 -v -timeout 30m -run 'Faults|Frozen|Outage|OpenWait|Deadline|SQLiteReadiness|Concurrent|TakenOver|Repeat' \
		./internal/chaos ./internal/store ./internal/idempotency
