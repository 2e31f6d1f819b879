#!/usr/bin/env bash
# The client-tooling part of `make e2e`, run by .ci/e2e.sh against its server:
#   1. the OpenAPI document, fetched without a token, passes `redocly lint`
#      (0 errors) and @apidevtools/swagger-parser validation;
#   2. Chromium on a second origin (FRONT_PORT, listed in the server's
#      CONECRM_CORS_ORIGINS) calls /graphql and /api, an unlisted origin
#      (OTHER_PORT) is blocked;
#   3. GraphQL Code Generator (typescript-operations, which also emits the
#      input and enum types the operations use; with the
#      scalars mapping of docs/graphql.md and strictScalars) generates the
#      types of .ci/e2e-clients/operations.graphql from the served schema,
#      tsc compiles the typed client .ci/e2e-clients/client.ts, and it runs
#      against the server: creates, pages (also by pageInfo cursors alone),
#      uses and revokes an API key, deletes.
# Environment: BASE_URL TOKEN CHROMIUM FRONT_PORT OTHER_PORT, NODE_DIR (an
# npm prefix holding the packages .ci/e2e.sh installs), WORK (a scratch dir).
set -euo pipefail
cd "$(dirname "$0")/e2e-clients"
src=$PWD
bin=$NODE_DIR/node_modules/.bin
export NODE_PATH=$NODE_DIR/node_modules

echo "e2e: OpenAPI document (no token) through redocly lint and swagger-parser"
curl -fsS -o "$WORK/openapi.json" "$BASE_URL/api/doc.json"
"$bin/redocly" lint --format=summary "$WORK/openapi.json" 2>&1 | grep -vE '^\s*(║|╔|╚)' | sed '/^\s*$/d'
node "$src/validate-openapi.cjs" "$WORK/openapi.json"

echo "e2e: CORS from a second origin in Chromium"
BASE_URL="$BASE_URL" TOKEN="$TOKEN" CHROMIUM="$CHROMIUM" FRONT_PORT="$FRONT_PORT" OTHER_PORT="$OTHER_PORT" \
	PROFILE="$(mktemp -d "$WORK/profile.XXXXXX")" node "$src/cors.cjs"

echo "e2e: graphql-codegen typed client, tsc, run"
gen=$WORK/codegen
mkdir -p "$gen/src"
cp "$src/operations.graphql" "$gen/"
cp "$src/client.ts" "$gen/src/"
cat >"$gen/codegen.yml" <<YAML
schema:
  - $BASE_URL/graphql:
      headers:
        Authorization: Bearer $TOKEN
documents: operations.graphql
generates:
  src/gen/graphql.ts:
    plugins: [typescript-operations]
    config:
      strictScalars: true
      enumsAsTypes: true
      scalars:
        ID: string
        UUID: string
        Time: string
        Cursor: string
        Map: Record<string, unknown>
YAML
(cd "$gen" && "$bin/graphql-codegen" --config codegen.yml --silent)
(cd "$gen" && "$bin/tsc" --strict --noEmitOnError --target es2022 --module nodenext --moduleResolution nodenext \
	--types node --typeRoots "$NODE_DIR/node_modules/@types" --outDir out src/client.ts)
BASE_URL="$BASE_URL" TOKEN="$TOKEN" node "$gen/out/client.js"
