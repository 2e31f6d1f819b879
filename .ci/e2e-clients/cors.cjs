// Chromium on a second origin calls the API: the listed origin FRONT_PORT
// must get through (preflighted POST with Authorization, Content-Type and
// Idempotency-Key; readable status, body and exposed X-Request-Id, also of a
// 401), an unlisted origin OTHER_PORT must be blocked by the browser.
const http = require('node:http');
const { chromium } = require('playwright-core');
const { BASE_URL, TOKEN, CHROMIUM, PROFILE, FRONT_PORT, OTHER_PORT } = process.env;

function serve(port) {
  const srv = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>front end</title>');
  });
  return new Promise((ok) => srv.listen(Number(port), '127.0.0.1', () => ok(srv)));
}

// Runs in the page: the calls a front end makes.
async function calls([base, token]) {
  const out = {};
  const gql = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, 'Idempotency-Key': crypto.randomUUID() },
    body: JSON.stringify({ query: '{ accounts(first: 1) { totalCount } }' }),
  });
  out.graphql = { status: gql.status, body: await gql.json(), requestId: gql.headers.get('X-Request-Id') };
  const rest = await fetch(`${base}/api/account?limit=1`, { headers: { Authorization: `Bearer ${token}` } });
  out.rest = { status: rest.status, body: await rest.json() };
  const refused = await fetch(`${base}/graphql`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"query":"{ __typename }"}',
  });
  out.refused = { status: refused.status, body: await refused.json(), wwwAuthenticate: refused.headers.get('WWW-Authenticate') };
  return out;
}

async function blocked([base, token]) {
  try {
    await fetch(`${base}/graphql`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: '{"query":"{ __typename }"}',
    });
    return 'not blocked';
  } catch (e) {
    return `blocked: ${e.name}`;
  }
}

(async () => {
  const servers = [await serve(FRONT_PORT), await serve(OTHER_PORT)];
  const context = await chromium.launchPersistentContext(PROFILE, {
    executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  let code = 0;
  try {
    const page = context.pages()[0] || (await context.newPage());
    await page.goto(`http://127.0.0.1:${FRONT_PORT}/`);
    const got = await page.evaluate(calls, [BASE_URL, TOKEN]);
    const problems = [];
    if (got.graphql.status !== 200 || !(got.graphql.body.data?.accounts?.totalCount > 0)) problems.push(`POST /graphql: ${JSON.stringify(got.graphql)}`);
    if (!got.graphql.requestId) problems.push('X-Request-Id not exposed to the page');
    if (got.rest.status !== 200 || !Array.isArray(got.rest.body.accounts) || got.rest.body.accounts.length !== 1) problems.push(`GET /api/account: ${JSON.stringify(got.rest)}`);
    if (got.refused.status !== 401 || got.refused.body.errors?.[0]?.extensions?.code !== 'UNAUTHENTICATED' || !got.refused.wwwAuthenticate) {
      problems.push(`POST /graphql without a token: ${JSON.stringify(got.refused)}`);
    }
    await page.goto(`http://127.0.0.1:${OTHER_PORT}/`);
    const other = await page.evaluate(blocked, [BASE_URL, TOKEN]);
    if (!other.startsWith('blocked')) problems.push(`an unlisted origin was not blocked: ${other}`);
    if (problems.length) throw new Error(problems.join('\n  '));
    console.log(`e2e: CORS OK from http://127.0.0.1:${FRONT_PORT} (GraphQL, REST, 401 readable); http://127.0.0.1:${OTHER_PORT} ${other}`);
  } catch (e) {
    console.error(`e2e: FAIL: CORS: ${e.message}`);
    code = 1;
  }
  await context.close();
  servers.forEach((s) => s.close());
  process.exit(code);
})();
