// Idle subscribers' cost on the server, run by .ci/e2e-live.sh: IDLE
// graphql-ws connections to instance B, one recordChanged subscription
// each, held by this separate process; B's own memory (its /metrics: Go heap
// and stacks in use, after a GC the runtime ran by itself; and the
// process's resident set) and goroutines are read before and after. Then
// one account created through instance A must reach every subscriber; the
// time it takes is printed.
// Env: A_URL B_URL B_METRICS (http://host:port/metrics) TOKEN IDLE.
const { createClient } = require('graphql-ws');
const WebSocket = require('ws');

const { A_URL, B_URL, B_METRICS, TOKEN } = process.env;
const N = Number(process.env.IDLE || 1000);

async function metrics() {
  const text = await (await fetch(B_METRICS)).text();
  const get = (name) => {
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    if (!m) throw new Error(`no ${name} in ${B_METRICS}`);
    return Number(m[1]);
  };
  return {
    heap: get('go_memstats_heap_inuse_bytes') + get('go_memstats_stack_inuse_bytes'),
    rss: get('process_resident_memory_bytes'),
    goroutines: get('go_goroutines'),
    connections: get('conecrm_subscription_connections'),
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

(async () => {
  const before = await metrics();
  const name = `Fan-out ${Date.now()}`;
  const clients = [];
  const got = new Set();
  let done = null;
  for (let i = 0; i < N; i++) {
    const client = createClient({
      url: B_URL.replace(/^http/, 'ws') + '/graphql', webSocketImpl: WebSocket, lazy: false, retryAttempts: 0,
      connectionParams: { Authorization: `Bearer ${TOKEN}` },
    });
    client.subscribe({ query: 'subscription { recordChanged(types: ["account"]) { record { ... on Account { name } } } }' }, {
      next: (v) => {
        if (v.data && v.data.recordChanged.record && v.data.recordChanged.record.name === name) {
          got.add(i);
          if (got.size === N && done) done();
        }
      },
      error: (e) => { console.error(`e2e: FAIL: subscriber ${i}: ${e.code || ''} ${e.reason || e.message || e}`); process.exit(1); },
      complete: () => {},
    });
    clients.push(client);
  }
  // Every connection acknowledged and counted by the server, then idle a while.
  for (let i = 0; ; i++) {
    const m = await metrics();
    if (m.connections - before.connections >= N) break;
    if (i === 300) throw new Error(`only ${m.connections - before.connections} of ${N} connections open after 30 s`);
    await sleep(100);
  }
  await sleep(2000);
  const after = await metrics();
  const kib = (b) => `${(b / N / 1024).toFixed(1)} KiB`;
  console.log(`e2e: ${N} idle graphql-ws subscribers on instance B: ${kib(after.heap - before.heap)} Go heap+stack, ` +
    `${kib(after.rss - before.rss)} resident, ${((after.goroutines - before.goroutines) / N).toFixed(1)} goroutines per connection (server process only)`);

  const reached = new Promise((r) => { done = r; });
  const start = performance.now();
  const res = await fetch(`${A_URL}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ query: 'mutation($n: String!) { createAccount(input: {name: $n}) { id } }', variables: { n: name } }),
  });
  if (!res.ok) throw new Error(`createAccount: ${res.status}`);
  // The subscriptions registered asynchronously; the gauge counted connections.
  const timeout = sleep(30000).then(() => { throw new Error(`the change reached ${got.size} of ${N} subscribers in 30 s`); });
  await Promise.race([reached, timeout]);
  console.log(`e2e: one change through instance A reached all ${N} subscribers of instance B in ${((performance.now() - start) / 1000).toFixed(2)} s`);
  await Promise.all(clients.map((c) => c.dispose()));
  process.exit(0);
})().catch((e) => {
  console.error(`e2e: FAIL: ${e.message}`);
  process.exit(1);
});
