#!/usr/bin/env bash
# Browser end-to-end check of the GraphiQL playground, then the client
# tooling checks of .ci/e2e-clients.sh (OpenAPI lint, CORS from a second
# origin in Chromium, a graphql-codegen typed client).
#
# Builds and starts the server on a free loopback port with a temp data dir,
# gets a token, opens /playground in headless Debian Chromium (driven by
# playwright-core; no browser is ever downloaded) signed in through the URL
# fragment (/playground#token=…, as the server's startup log prints it),
# checks the token reached the headers editor, runs QUERY and waits for a
# result matching EXPECT (a regular expression) in the result pane; then
# runs a subscription in the playground (graphql-ws over a same-origin
# websocket, the token in connection_init), creates an account through
# /graphql and waits for its event in the result pane. Then the client
# tooling checks of .ci/e2e-clients.sh and the subscriptions across two
# instances on one PostgreSQL of .ci/e2e-live.sh (graphql-ws npm client).
#
# What it needs from the server binary (go build of the repo root):
#   env        CONECRM_ADDR=127.0.0.1:PORT  CONECRM_DATA_DIR=DIR
#   commands   `serve`; `token --email EMAIL` printing the token (last stdout line)
#   endpoints  GET /healthz (200 when ready), GET /playground, POST /graphql
#
# E2E_BASE_URL=http://127.0.0.1:PORT (plus optional E2E_TOKEN) skips building
# and starting the server and tests an already running one; for the CORS
# check it must allow the origin http://127.0.0.1:$E2E_FRONT_PORT.
set -euo pipefail

QUERY='{ accounts(first: 2) { totalCount edges { node { name } } } }'
EXPECT='"totalCount": [1-9]'
EMAIL='admin@demo-motors.test'
PLAYWRIGHT_CORE_VERSION='1.65.1'
# The client tools .ci/e2e-clients.sh runs, pinned.
CLIENT_PACKAGES=(@redocly/cli@2.77.0 @apidevtools/swagger-parser@13.0.0 graphql@16.15.0
	@graphql-codegen/cli@7.4.3 @graphql-codegen/typescript@6.1.0 @graphql-codegen/typescript-operations@6.1.9
	typescript@7.0.2 @types/node@20 graphql-ws@6.4.2 ws@8.23.0)
CHROMIUM=/usr/bin/chromium

cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/conecrm-e2e.XXXXXX)
shot_dir=$(mktemp -d /tmp/conecrm-e2e-shot.XXXXXX) # kept after the run
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
fail() {
	echo "e2e: FAIL: $*" >&2
	if [ -s "$work/server.log" ]; then
		echo "--- server log (tail) ---" >&2
		tail -n 40 "$work/server.log" >&2
	fi
	exit 1
}

# Browser: Debian's chromium package, never a downloaded build.
if [ ! -x "$CHROMIUM" ]; then
	echo "e2e: installing Debian chromium"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# Driver: playwright-core only (it has no browser-download step).
echo "e2e: installing playwright-core@$PLAYWRIGHT_CORE_VERSION and the client tools"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$work/pw" --no-save --no-audit --no-fund \
	--loglevel=error "playwright-core@$PLAYWRIGHT_CORE_VERSION" "${CLIENT_PACKAGES[@]}" >/dev/null ||
	fail "npm install"

# The committed playground bundle is what its sources and lockfile build.
echo "e2e: rebuilding the playground bundle from internal/playground/web (npm ci)"
(cd internal/playground/web && npm ci --no-audit --no-fund --loglevel=error &&
	PLAYGROUND_OUT="$work/playground-dist" npm run --silent build) >"$work/playground-build.log" 2>&1 ||
	fail "playground build: $(tail -n 20 "$work/playground-build.log")"
diff -r -q "$work/playground-dist" internal/playground/dist ||
	fail "internal/playground/dist differs from a build of internal/playground/web: rebuild it (make playground) and commit"

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
# Origins of the CORS check: a listed front end and an unlisted page.
front_port=${E2E_FRONT_PORT:-$(free_port)}
other_port=$(free_port)

base_url=${E2E_BASE_URL:-}
token=${E2E_TOKEN:-}
if [ -z "$base_url" ]; then
	port=$(free_port)
	export CONECRM_ADDR="127.0.0.1:$port" CONECRM_DATA_DIR="$work/data"
	export CONECRM_CORS_ORIGINS="http://127.0.0.1:$front_port"
	mkdir -p "$CONECRM_DATA_DIR"
	base_url="http://$CONECRM_ADDR"

	echo "e2e: building server"
	go build -o /tmp/conecrm-e2e . || fail "go build"
	/tmp/conecrm-e2e serve >"$work/server.log" 2>&1 &
	server_pid=$!

	for _ in $(seq 1 120); do
		curl -fsS -o /dev/null "$base_url/healthz" 2>/dev/null && break
		kill -0 "$server_pid" 2>/dev/null || fail "server exited before /healthz answered"
		sleep 0.5
	done
	curl -fsS -o /dev/null "$base_url/healthz" || fail "/healthz not ready after 60s at $base_url"

	token=$(/tmp/conecrm-e2e token --email "$EMAIL" | awk 'NF { t = $NF } END { print t }') ||
		fail "token --email $EMAIL"
	[ -n "$token" ] || fail "token --email $EMAIL printed nothing"
fi

shot="$shot_dir/playground.png"
echo "e2e: opening $base_url/playground"
cat >"$work/pw/e2e.cjs" <<'EOF'
const { chromium } = require('playwright-core');
const { BASE_URL, TOKEN, QUERY, EXPECT, SHOT, CHROMIUM, PROFILE } = process.env;

// CodeMirror 5 editor of each GraphiQL pane; the headers pane is the visible
// one of the editor tools because the page opens with the headers tab shown.
const QUERY_CM = '.graphiql-query-editor .CodeMirror';
const HEADERS_CM = '.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror';
const RESULT = '.graphiql-response';

async function fill(page, selector, text) {
  const cm = page.locator(selector);
  await cm.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Backspace');
  await page.keyboard.insertText(text); // like a paste: no auto-closed brackets
  const got = await cm.evaluate((el) => el.CodeMirror.getValue());
  if (got !== text) throw new Error(`editor ${selector} holds ${JSON.stringify(got)}, want ${JSON.stringify(text)}`);
}

(async () => {
  const context = await chromium.launchPersistentContext(PROFILE, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
  });
  const page = context.pages()[0] || (await context.newPage());
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`));
  page.on('requestfailed', async (r) => {
    const why = r.failure()?.errorText;
    // GraphiQL asks for multipart answers and stops the previous operation
    // when the next one runs, cancelling the rest of its stream even when
    // only the closing boundary was left: an answer that arrived with 2xx
    // and was shown is not a failure.
    if (why === 'net::ERR_ABORTED' && (await r.response().catch(() => null))?.ok()) {
      console.log(`e2e: note: ${r.method()} ${r.url()} answered 2xx, then its stream was cancelled by the page`);
      return;
    }
    problems.push(`request failed: ${r.method()} ${r.url()} ${why} ${(r.postData() || '').slice(0, 100)}`);
  });
  let code = 0;
  try {
    const res = await page.goto(`${BASE_URL}/playground#token=${encodeURIComponent(TOKEN)}`);
    if (!res || !res.ok()) throw new Error(`GET /playground: ${res && res.status()}`);
    await page.locator(QUERY_CM).waitFor({ timeout: 20000 });
    await page.locator(HEADERS_CM).waitFor({ timeout: 10000 });
    const headers = await page.locator(HEADERS_CM).evaluate((el) => el.CodeMirror.getValue());
    if (!headers.includes(`Bearer ${TOKEN}`)) throw new Error(`headers editor holds ${headers}, not the token of the URL fragment`);
    if (page.url().includes('token=')) throw new Error(`the token stayed in the address bar: ${page.url()}`);
    await fill(page, QUERY_CM, QUERY);
    await page.keyboard.press('ControlOrMeta+Home');
    await page.locator('.graphiql-execute-button').click();
    await page.waitForFunction(
      ([sel, want]) => {
        const el = document.querySelector(`${sel} .CodeMirror`);
        return !!el && new RegExp(want).test(el.CodeMirror.getValue());
      },
      [RESULT, EXPECT],
      { timeout: 20000 },
    ).catch(async () => {
      const got = await page.locator(`${RESULT} .CodeMirror`).evaluate((el) => el.CodeMirror.getValue()).catch(() => '(no result pane)');
      throw new Error(`result pane never matched ${JSON.stringify(EXPECT)}; it shows:\n${got}`);
    });
    const result = await page.locator(`${RESULT} .CodeMirror`).evaluate((el) => el.CodeMirror.getValue());
    console.log(`e2e: result pane:\n${result}`);

    // A subscription: GraphiQL opens a websocket to this origin (graphql-ws)
    // and sends the headers editor's Authorization in connection_init.
    const name = `Playground live ${Date.now()}`;
    await fill(page, QUERY_CM, 'subscription { recordChanged(types: ["account"]) { topic record { ... on Account { name } } } }');
    await page.keyboard.press('ControlOrMeta+Home');
    // GraphiQL parses the editor after a pause; the fetcher picks the
    // websocket by the parsed operation, so wait for the parse.
    await page.waitForFunction((sel) => {
      const ast = document.querySelector(sel).CodeMirror.documentAST;
      return !!ast && ast.definitions.some((d) => d.operation === 'subscription');
    }, QUERY_CM, { timeout: 10000 });
    await page.locator('.graphiql-execute-button').click();
    const shows = () => page.locator(`${RESULT} .CodeMirror`).evaluate((el, n) => el.CodeMirror.getValue().includes(n), name).catch(() => false);
    // The server registers the subscription asynchronously: write until it is heard.
    let heard = false;
    for (let i = 0; i < 20 && !heard; i++) {
      const res = await fetch(`${BASE_URL}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ query: 'mutation($n: String!) { createAccount(input: {name: $n}) { id } }', variables: { n: name } }),
      });
      if (!res.ok) throw new Error(`createAccount: ${res.status} ${await res.text()}`);
      for (let j = 0; j < 10 && !heard; j++) {
        await page.waitForTimeout(100);
        heard = await shows();
      }
    }
    const live = await page.locator(`${RESULT} .CodeMirror`).evaluate((el) => el.CodeMirror.getValue()).catch(() => '(no result pane)');
    if (!heard || !live.includes('"topic": "account.created"')) {
      throw new Error(`the subscription's result pane never showed the account created through /graphql; it shows:\n${live}`);
    }
    console.log(`e2e: subscription result pane:\n${live}`);
    await page.locator('.graphiql-execute-button').click(); // stops the subscription
  } catch (e) {
    console.error(`e2e: FAIL: ${e.message}`);
    code = 1;
  }
  await page.screenshot({ path: SHOT }).catch((e) => console.error(`screenshot: ${e.message}`));
  console.log(`e2e: screenshot ${SHOT}`);
  if (problems.length) {
    // Signed in from the first request on, the page must not see a single
    // failed request (a 401 would mean the schema fetch went out unsigned).
    console.error(`e2e: FAIL: browser reported:\n  ${problems.join('\n  ')}`);
    code = 1;
  }
  await context.close();
  process.exit(code);
})();
EOF

BASE_URL="$base_url" TOKEN="$token" QUERY="$QUERY" EXPECT="$EXPECT" SHOT="$shot" \
	CHROMIUM="$CHROMIUM" PROFILE="$(mktemp -d "$work/profile.XXXXXX")" \
	node "$work/pw/e2e.cjs" || fail "playground did not show \"$EXPECT\" for the query (screenshot: $shot)"

BASE_URL="$base_url" TOKEN="$token" CHROMIUM="$CHROMIUM" FRONT_PORT="$front_port" OTHER_PORT="$other_port" \
	NODE_DIR="$work/pw" WORK="$work" bash .ci/e2e-clients.sh || fail "client tooling checks"
BIN=${server_pid:+/tmp/conecrm-e2e} NODE_DIR="$work/pw" WORK="$work" bash .ci/e2e-live.sh || fail "subscriptions across instances"
echo "e2e: OK"
