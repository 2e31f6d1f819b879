// Subscriptions through the graphql-ws npm client (graphql-transport-ws),
// run by .ci/e2e-live.sh against two gateway instances on one PostgreSQL:
// a bad token is closed with 4401; a subscriber of instance B gets every
// account created through instance A exactly once, in order; the change →
// event latency is measured over WRITES sequential writes.
// Env: A_URL B_URL (http://host:port) TOKEN WRITES.
const { createClient } = require('graphql-ws');
const WebSocket = require('ws');

const { A_URL, B_URL, TOKEN } = process.env;
const WRITES = Number(process.env.WRITES || 200);
const wsURL = (base) => base.replace(/^http/, 'ws') + '/graphql';
const SUB = 'subscription { recordChanged(types: ["account"]) { eventId topic recordId occurredAt record { ... on Account { name } } } }';

// Microseconds since the epoch: the wall clock at sub-millisecond resolution.
const nowUs = () => (performance.timeOrigin + performance.now()) * 1000;
// occurredAt is RFC 3339 with up to nanoseconds; Date.parse keeps only ms.
function parseUs(iso) {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
  if (!m) throw new Error(`occurredAt ${iso}`);
  return Date.parse(`${m[1]}Z`) * 1000 + Number((m[2] || '').padEnd(6, '0').slice(0, 6));
}

async function gql(base, query, variables) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (!res.ok || body.errors) throw new Error(`graphql ${res.status}: ${JSON.stringify(body)}`);
  return body.data;
}

const createAccount = async (name) =>
  (await gql(A_URL, 'mutation($n: String!) { createAccount(input: {name: $n}) { id } }', { n: name })).createAccount.id;

// A bad token in connection_init: the server closes with 4401 and
// graphql-ws does not retry it.
function badToken() {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { client.dispose(); reject(new Error('bad token: not closed')); }, 10000);
    const client = createClient({
      url: wsURL(B_URL), webSocketImpl: WebSocket, lazy: false, retryAttempts: 0,
      connectionParams: { Authorization: 'Bearer not-a-token' },
      on: {
        closed: (e) => {
          clearTimeout(timer);
          if (e.code === 4401) resolve();
          else reject(new Error(`bad token: closed with ${e.code} ${e.reason}`));
        },
      },
      onNonLazyError: () => {},
    });
  });
}

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

(async () => {
  await badToken();
  console.log('e2e: graphql-ws with a bad token: closed 4401');

  const client = createClient({
    url: wsURL(B_URL), webSocketImpl: WebSocket, lazy: false, retryAttempts: 0,
    connectionParams: { Authorization: `Bearer ${TOKEN}` },
  });
  const received = []; // {at, ev}
  let wake = null;
  let failure = null;
  client.subscribe({ query: SUB }, {
    next: (v) => {
      const at = nowUs();
      if (v.errors) failure = new Error(`event with errors: ${JSON.stringify(v.errors)}`);
      else received.push({ at, ev: v.data.recordChanged });
      if (wake) wake();
    },
    error: (e) => { failure = new Error(`subscription: ${e.code || ''} ${e.reason || e.message || JSON.stringify(e)}`); if (wake) wake(); },
    complete: () => { failure = failure || new Error('subscription completed'); if (wake) wake(); },
  });
  // The event of account id, waiting at most ms.
  async function eventOf(id, ms) {
    const deadline = Date.now() + ms;
    for (;;) {
      if (failure) throw failure;
      const i = received.findIndex((r) => r.ev.recordId === id);
      if (i >= 0) return received[i];
      const left = deadline - Date.now();
      if (left <= 0) return null;
      await new Promise((r) => { const t = setTimeout(r, left); wake = () => { clearTimeout(t); r(); }; });
      wake = null;
    }
  }
  // The server registers the subscription asynchronously: write until one is heard.
  const run = Date.now().toString(36);
  let warm = null;
  for (let i = 0; i < 20 && !warm; i++) warm = await eventOf(await createAccount(`Warm-up ${run} ${i}`), 1000);
  if (!warm) throw new Error('no event for the warm-up writes');
  received.length = 0;

  const ids = [];
  const fromOccurred = [];
  const fromSend = [];
  for (let i = 0; i < WRITES; i++) {
    const name = `Live ${run} ${i}`;
    const sent = nowUs();
    const id = await createAccount(name);
    ids.push(id);
    const r = await eventOf(id, 10000);
    if (!r) throw new Error(`no event for account ${i} (${id}) within 10 s`);
    if (r.ev.topic !== 'account.created' || !r.ev.record || r.ev.record.name !== name) {
      throw new Error(`event ${JSON.stringify(r.ev)} for ${name}`);
    }
    fromOccurred.push((r.at - parseUs(r.ev.occurredAt)) / 1000);
    fromSend.push((r.at - sent) / 1000);
  }
  await new Promise((r) => setTimeout(r, 500)); // a duplicate would arrive now
  if (failure) throw failure;
  const got = received.map((r) => r.ev.recordId);
  if (got.length !== ids.length || got.some((id, i) => id !== ids[i])) {
    throw new Error(`events ${got.length} for ${ids.length} writes, or out of order / twice`);
  }
  const ms = (v) => `${v.toFixed(1)} ms`;
  for (const [what, v] of [['occurredAt → event', fromOccurred], ['mutation sent → event', fromSend]]) {
    v.sort((a, b) => a - b);
    console.log(`e2e: latency ${what} across instances (n=${v.length}): p50 ${ms(pct(v, 50))}, p99 ${ms(pct(v, 99))}, max ${ms(v[v.length - 1])}`);
  }
  await client.dispose();
  process.exit(0);
})().catch((e) => {
  console.error(`e2e: FAIL: ${e.message}`);
  process.exit(1);
});
