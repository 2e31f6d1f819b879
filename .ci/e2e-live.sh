#!/usr/bin/env bash
# The subscriptions part of `make e2e`, run by .ci/e2e.sh: two gateway
# instances (A and B) on one PostgreSQL database, and the graphql-ws npm
# client (.ci/e2e-clients/live.cjs): a bad token is closed with 4401; a
# subscriber of B gets every account created through A exactly once, in
# order; the change → event latency is printed (p50/p99 over WRITES writes,
# default 200); then IDLE (default 1000) idle graphql-ws subscribers of B
# (.ci/e2e-clients/idle.cjs): B's memory and goroutines per connection, read
# from its /metrics, and the time one change through A takes to reach them
# all. docs/subscriptions.md has the figures.
#
# PostgreSQL: a new database in the cluster of CONECRM_TEST_DATABASE_URL
# (as `make test` and CI export it), dropped at the end; without it a
# throwaway cluster of its own (.ci/pg-throwaway.sh).
# Environment: NODE_DIR (an npm prefix with graphql-ws and ws), WORK (a
# scratch dir), BIN (the gateway binary; built when absent), WRITES, IDLE.
set -euo pipefail
cd "$(dirname "$0")/.."
PG=.ci/pg-throwaway.sh
EMAIL='admin@demo-motors.test'

pids=() own_state='' db='' base=''
psql_bin=$(bash "$PG" bindir)/psql
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [[ -n $db && -z $own_state ]]; then
		"$psql_bin" -q "$base" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
	fi
	if [[ -n $own_state ]]; then
		CONECRM_PG_STATE=$own_state bash "$PG" stop >/dev/null || true
		rm -f "$own_state"
	fi
}
trap cleanup EXIT
fail() {
	echo "e2e: FAIL: $*" >&2
	for f in "$WORK"/live-*.log; do
		[[ -s $f ]] && { echo "--- $f (tail) ---" >&2; tail -n 30 "$f" >&2; }
	done
	exit 1
}

if [[ -n ${CONECRM_TEST_DATABASE_URL:-} ]]; then
	base=$CONECRM_TEST_DATABASE_URL
else
	own_state=$(mktemp /tmp/conecrm-pgstate-e2e.XXXXXX)
	base=$(CONECRM_PG_STATE=$own_state bash "$PG" start)
fi
db=conecrm_e2e_live_$$
"$psql_bin" -q "$base" -c "CREATE DATABASE $db" >/dev/null || fail "create database $db"
url=$(sed -E "s#/[^/?]+(\?|$)#/$db\1#" <<<"$base")

BIN=${BIN:-}
if [[ ! -x $BIN ]]; then
	BIN=$WORK/conecrm-live
	go build -o "$BIN" . || fail "go build"
fi
mkdir -p "$WORK/live-data"
IDLE=${IDLE:-1000}
# The writes go back to back: the per-user rate limit (20/s) would pace
# them; the idle subscribers are one user's connections.
export CONECRM_DATABASE_URL=$url CONECRM_METRICS_ADDR=off CONECRM_DATA_DIR=$WORK/live-data CONECRM_RATE_USER=0 \
	CONECRM_SUBSCRIPTION_CONNECTIONS_PER_USER=$((IDLE + 10))
CONECRM_JWT_SECRET=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
export CONECRM_JWT_SECRET
"$BIN" migrate >"$WORK/live-migrate.log" 2>&1 || fail "migrate"
"$BIN" seed --demo >>"$WORK/live-migrate.log" 2>&1 || fail "seed --demo"
token=$("$BIN" token --email "$EMAIL" | awk 'NF { t = $NF } END { print t }') || fail "token"

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
urls=()
metrics_port=$(free_port) # instance B's
for name in a b; do
	port=$(free_port)
	mkdir -p "$WORK/live-$name"
	metrics=off
	[[ $name == b ]] && metrics=127.0.0.1:$metrics_port
	CONECRM_ADDR=127.0.0.1:$port CONECRM_DATA_DIR=$WORK/live-$name CONECRM_METRICS_ADDR=$metrics \
		"$BIN" serve >"$WORK/live-$name.log" 2>&1 &
	pids+=($!)
	urls+=("http://127.0.0.1:$port")
done
for i in 0 1; do
	for _ in $(seq 1 120); do
		curl -fsS -o /dev/null "${urls[$i]}/healthz" 2>/dev/null && break
		kill -0 "${pids[$i]}" 2>/dev/null || fail "instance $i exited before /healthz answered"
		sleep 0.5
	done
	curl -fsS -o /dev/null "${urls[$i]}/healthz" || fail "instance $i not ready at ${urls[$i]}"
done

echo "e2e: graphql-ws client, instances A ${urls[0]} and B ${urls[1]} on one PostgreSQL"
NODE_PATH=$NODE_DIR/node_modules A_URL=${urls[0]} B_URL=${urls[1]} TOKEN=$token WRITES=${WRITES:-200} \
	node .ci/e2e-clients/live.cjs || fail "graphql-ws subscriptions across instances"
NODE_PATH=$NODE_DIR/node_modules A_URL=${urls[0]} B_URL=${urls[1]} B_METRICS=http://127.0.0.1:$metrics_port/metrics \
	TOKEN=$token IDLE=$IDLE node .ci/e2e-clients/idle.cjs || fail "idle subscribers"
