// Store outage (README "Failure behaviour", SPEC §2 default & stale rules): a FerretDB
// started for this file alone is stopped under a loop of concurrent requests and
// started again. Paths with documents keep answering from the last good policies (and
// say `stale: true` once past STALE_AFTER_MS); a path with no documents never gets the
// default from stale knowledge; writes fail with 503 and leave nothing behind; the
// service recovers by itself. A service that starts while the database is down answers
// NOT_READY and becomes ready on its own. A database that hangs (a proxy holding every
// byte back) does not hold decisions, and writes to it are bounded. Invalid documents
// written straight into the database fail closed. Measured numbers are printed as
// comments and written into docs/failure-behaviour.md.

import t from 'tap';
import net from 'node:net';
import { MongoClient } from 'mongodb';
import { freePort, startFerretDB } from '../helpers/ferretdb.js';
import { testApp } from '../helpers/app.js';
import { testMongo } from '../helpers/mongo.js';
import { httpSender, type Res, type Send } from '../helpers/http.js';
import { MongoStore } from '../../src/store/mongo/mongo-store.js';

const POLL_MS = 100;
const STALE_MS = 1000;
const STORE_TIMEOUT_MS = 300;
const env = { POLL_INTERVAL_MS: String(POLL_MS), STALE_AFTER_MS: String(STALE_MS), STORE_TIMEOUT_MS: String(STORE_TIMEOUT_MS) };
/** Recovery bound asserted after the database comes back (measured: well under 1.5 s). */
const RECOVERY_BOUND_MS = 5000;
/** Timer and scheduling slack on a loaded 2-core CI machine. */
const SLACK_MS = 150;

const yaml = { 'content-type': 'application/yaml' };
const POLICIES = `key: global-base
ordinal: 10
rules:
  - subjects: ["*"]
    grant: ["document:read"]
---
key: org-editors
rules:
  - subjects: ["role:editor"]
    grant: ["document:*"]
    deny: ["document:purge"]
---
key: team-owners
rules:
  - subjects: ["user:owner"]
    grant: ["team:*"]
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

type Kind = 'warm' | 'cold' | 'cold-check' | 'absent' | 'absent-warm' | 'absent-check';

interface Sample {
  kind: Kind;
  /** when the request was sent */
  at: number;
  ms: number;
  status: number;
  body: Record<string, unknown>;
}

/** Lists every stored policy (key → etag) through the API. */
async function listing(send: Send): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let cursor: string | null = null;
  do {
    const r: Res = await send({ method: 'GET', url: `/v1/policies?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}` });
    if (r.status !== 200) throw new Error(`list: ${r.status} ${r.body}`);
    const body = r.json() as { items: Array<{ key: string; etag: string }>; cursor: string | null };
    for (const i of body.items) out[i.key] = i.etag;
    cursor = body.cursor;
  } while (cursor);
  return out;
}

t.test('store outage under load: last good policies, no default from stale knowledge, self-recovery', async (t) => {
  const server = await startFerretDB();
  t.teardown(() => server.stop());
  const url = `${server.url}pe_outage`;
  const store = new MongoStore({ url, serverSelectionTimeoutMS: STORE_TIMEOUT_MS });
  const { app, services } = await testApp(t, { store, env });
  const send = await httpSender(app);

  const imported = await send({ method: 'POST', url: '/v1/policies', headers: yaml, payload: POLICIES });
  t.equal(imported.status, 200, imported.body);

  let seq = 0;
  const requestOf = (kind: Kind) => {
    const n = seq++;
    switch (kind) {
      // cached before the outage: the same subject and path every time
      case 'warm': return { url: '/v1/evaluate', payload: { subject: { id: 'user:alice', roles: ['editor'] }, namespace: 'global.org' } };
      // documents present, but a new subject each time: never in the cache
      case 'cold': return { url: '/v1/evaluate', payload: { subject: `user:cold-${n}`, namespace: 'global.team' } };
      case 'cold-check': return { url: '/v1/check', payload: { subject: { id: `user:c-${n}`, roles: ['editor'] }, namespace: 'global.org', permissions: ['document:write', 'document:purge'] } };
      // no document in any namespace of the path: the default, while fresh
      case 'absent': return { url: '/v1/evaluate', payload: { subject: `user:absent-${n}`, namespace: 'vacant.x' } };
      case 'absent-warm': return { url: '/v1/evaluate', payload: { subject: 'user:alice', namespace: 'vacant' } };
      case 'absent-check': return { url: '/v1/check', payload: { subject: `user:ac-${n}`, namespace: 'vacant.y', permission: 'anything:at:all' } };
    }
  };
  const call = async (kind: Kind): Promise<Sample> => {
    const { url: path, payload } = requestOf(kind);
    const at = Date.now();
    const r = await send({ method: 'POST', url: path, payload });
    return { kind, at, ms: Date.now() - at, status: r.status, body: r.json() as Record<string, unknown> };
  };

  // Warm the cache, and check the fresh answers.
  for (const kind of ['warm', 'absent-warm'] as const) {
    const first = await call(kind);
    const second = await call(kind);
    t.equal(first.status, 200);
    t.equal(second.body.cached, true, `${kind} is cached`);
  }
  t.same((await call('warm')).body.permissions, ['document:*']);
  t.same((await call('cold')).body.permissions, ['document:read']);
  const { decisionId, ...absentAnswer } = (await call('absent')).body;
  t.match(decisionId, /^[0-9a-f-]{36}$/, 'every answer names its decision');
  t.same(absentAnswer, { permissions: ['*'], denied: [], default: true, namespaces: ['vacant', 'x'], policies: [], cached: false, revision: '3', exact: true });
  t.equal((await send({ method: 'GET', url: '/readyz' })).status, 200);
  const before = await listing(send);
  t.same(Object.keys(before).sort(), ['global-base', 'org-editors', 'team-owners']);

  // ---- the load: 8 connections, every kind in rotation, until told to stop
  const samples: Sample[] = [];
  const ready: Array<{ at: number; status: number; body: Record<string, unknown> }> = [];
  let loading = true;
  const kinds: Kind[] = ['warm', 'cold', 'cold-check', 'absent', 'absent-warm', 'absent-check'];
  const workers = Array.from({ length: 8 }, async (_, w) => {
    for (let i = w; loading; i++) {
      samples.push(await call(kinds[i % kinds.length]!));
    }
  });
  const readiness = (async () => {
    while (loading) {
      const at = Date.now();
      const r = await send({ method: 'GET', url: '/readyz' });
      ready.push({ at, status: r.status, body: r.json() as Record<string, unknown> });
      await sleep(20);
    }
  })();

  await sleep(300);
  const stopAt = Date.now();
  await server.stop();
  const stopped = Date.now();
  t.comment(`FerretDB stopped in ${stopped - stopAt} ms`);

  // Writes while the store is down (still fresh, then stale): 503, nothing stored.
  const writes: Array<{ what: string; r: Res; ms: number }> = [];
  const write = async (what: string, req: Parameters<Send>[0]) => {
    const at = Date.now();
    const r = await send(req);
    writes.push({ what, r, ms: Date.now() - at });
  };
  const doWrites = async (phase: string) => {
    await write(`${phase}: PUT new key`, { method: 'PUT', url: '/v1/policies/global-outage', headers: yaml, payload: 'key: global-outage\nrules:\n  - subjects: ["*"]\n    grant: ["outage:*"]\n' });
    await write(`${phase}: PUT replace with If-Match`, { method: 'PUT', url: '/v1/policies/global-base', headers: { ...yaml, 'if-match': before['global-base']! }, payload: 'key: global-base\nrules:\n  - subjects: ["*"]\n    grant: ["*"]\n' });
    await write(`${phase}: DELETE`, { method: 'DELETE', url: '/v1/policies/org-editors' });
    await write(`${phase}: bulk import`, { method: 'POST', url: '/v1/policies', headers: yaml, payload: 'key: bulk-a\nrules:\n  - subjects: ["*"]\n    grant: ["a"]\n---\nkey: bulk-b\nrules:\n  - subjects: ["*"]\n    grant: ["b"]\n' });
    await write(`${phase}: GET one`, { method: 'GET', url: '/v1/policies/global-base' });
    await write(`${phase}: list`, { method: 'GET', url: '/v1/policies' });
  };
  await doWrites('fresh');
  const staleBy = stopped + STALE_MS + SLACK_MS;
  await sleep(Math.max(0, staleBy + 200 - Date.now()));
  await doWrites('stale');
  await sleep(Math.max(0, staleBy + 1200 - Date.now()));
  loading = false;
  await Promise.all([...workers, readiness]);

  // ---- what the decisions said
  const outage = samples.filter((s) => s.at >= stopped);
  t.ok(outage.length > 200, `${outage.length} decisions during the outage (${samples.length} in all)`);
  t.equal(samples.filter((s) => s.status >= 500 && s.status !== 503).length, 0, 'never a 500');

  const present = samples.filter((s) => s.kind === 'warm' || s.kind === 'cold' || s.kind === 'cold-check');
  const badPresent = present.filter((s) => s.status !== 200);
  t.same(badPresent.map((s) => `${s.kind} ${s.status} ${JSON.stringify(s.body)}`).slice(0, 5), [], 'paths with documents always answer 200');
  const wrongPresent = present.filter((s) => {
    if (s.kind === 'warm') return JSON.stringify(s.body.permissions) !== '["document:*"]' || JSON.stringify(s.body.denied) !== '["document:purge"]';
    if (s.kind === 'cold') return JSON.stringify(s.body.permissions) !== '["document:read"]';
    return JSON.stringify(s.body.results) !== '{"document:write":true,"document:purge":false}';
  });
  t.equal(wrongPresent.length, 0, 'with the last good policies');
  const notStaleLate = present.filter((s) => s.at > staleBy && s.body.stale !== true);
  t.equal(notStaleLate.length, 0, `past STALE_AFTER_MS every answer says stale: true (${present.filter((s) => s.at > staleBy).length} answers)`);
  t.equal(present.filter((s) => s.at < stopAt && s.body.stale !== undefined).length, 0, 'before the outage no answer is stale');
  t.ok(present.some((s) => s.kind === 'warm' && s.at > staleBy && s.body.cached === true), 'cached answers are served (and marked stale)');
  t.ok(present.some((s) => s.kind === 'cold' && s.at > staleBy && s.body.cached === false), 'uncached answers are computed (and marked stale)');

  const absent = samples.filter((s) => s.kind.startsWith('absent'));
  const staleDefault = absent.filter((s) => s.status === 200 && s.body.stale === true);
  t.equal(staleDefault.length, 0, 'the default is never given with stale: true');
  const lateDefault = absent.filter((s) => s.at > staleBy && s.status !== 503);
  t.same(lateDefault.map((s) => `${s.kind} ${s.status} ${JSON.stringify(s.body)}`).slice(0, 5), [], 'past STALE_AFTER_MS a path with no documents is 503');
  const absent503 = absent.filter((s) => s.status === 503);
  t.ok(absent503.length > 0, 'some answers for the absent path were 503');
  t.ok(absent503.every((s) => s.body.code === 'STORE_UNAVAILABLE'), 'with code STORE_UNAVAILABLE');
  t.ok(absent.filter((s) => s.at > staleBy).length > 30, 'and that was asked many times');
  const absent200 = absent.filter((s) => s.status === 200);
  t.ok(absent200.length > 0, 'the absent path was answered before staleness');
  t.ok(absent200.every((s) => JSON.stringify(s.body.permissions) === '["*"]' || s.body.allowed === true), 'before staleness: the default, from fresh knowledge');
  const beforeOutage = absent.filter((s) => s.at < stopAt);
  t.ok(beforeOutage.length > 0, 'the absent path was asked before the outage');
  t.ok(beforeOutage.every((s) => s.status === 200 && s.body.default !== false), 'before the outage: the default');

  const firstStale = present.find((s) => s.at >= stopped && s.body.stale === true);
  const lastFreshDefault = [...absent200].reverse()[0];
  const first503 = absent.find((s) => s.status === 503);
  const readyDown = ready.find((r) => r.at >= stopped && r.status === 503);
  t.ok(readyDown, '/readyz turns 503');
  t.equal(readyDown?.body.stale, true);
  const readyLate = ready.filter((r) => r.at > staleBy);
  t.ok(readyLate.length > 0, '/readyz was polled past STALE_AFTER_MS');
  t.ok(readyLate.every((r) => r.status === 503 && r.body.status === 'unready'), '/readyz stays 503 while the store is down');
  t.ok(typeof readyDown?.body.lastError === 'string', '/readyz says why');
  const latency = outage.map((s) => s.ms);
  const baseline = samples.filter((s) => s.at < stopAt).map((s) => s.ms);
  // Decisions cannot wait on the store: the decision service is synchronous.
  const direct = services.decisions.evaluate({ subject: 'user:direct', namespace: 'global.org' });
  t.notOk(direct instanceof Promise, 'a decision is computed synchronously, from memory');
  t.equal(direct.response.stale, true);
  t.comment(`outage timeline (ms after FerretDB exited): first stale answer +${(firstStale?.at ?? NaN) - stopped}, ` +
    `last default answer +${(lastFreshDefault?.at ?? NaN) - stopped}, first 503 STORE_UNAVAILABLE +${(first503?.at ?? NaN) - stopped}, ` +
    `/readyz 503 +${(readyDown?.at ?? NaN) - stopped}`);
  t.comment(`decision latency (8 connections, client and server in one process) before the outage: p50 ${percentile(baseline, 50)} ms, p99 ${percentile(baseline, 99)} ms; ` +
    `during: p50 ${percentile(latency, 50)} ms, p99 ${percentile(latency, 99)} ms, max ${Math.max(...latency)} ms over ${latency.length} requests`);

  // ---- writes during the outage
  for (const w of writes) {
    t.equal(w.r.status, 503, `${w.what}: 503 (${w.ms} ms)`);
    t.equal(w.r.json().code, 'STORE_UNAVAILABLE', `${w.what}: STORE_UNAVAILABLE`);
  }
  t.comment(`writes/reads of the store during the outage failed after ${writes.map((w) => w.ms).join(', ')} ms`);
  t.ok(writes.every((w) => w.ms < STORE_TIMEOUT_MS * 4 + 1000), 'each fails within a few store timeouts');

  // No sync succeeds while the database is down: this is the last good one.
  const lastSync = services.manager!.status().lastSyncAt;
  t.ok(firstStale !== undefined && firstStale.at - lastSync <= STALE_MS + 1000,
    `stale ${(firstStale?.at ?? NaN) - lastSync} ms after the last successful sync (STALE_AFTER_MS ${STALE_MS})`);
  t.comment(`last successful sync ${lastSync - stopAt} ms after stop was asked; first stale answer ${(firstStale?.at ?? NaN) - lastSync} ms ` +
    `and first 503 for a path without documents ${(first503?.at ?? NaN) - lastSync} ms after that sync`);

  // ---- the database comes back; the service recovers by itself
  await server.start();
  const started = Date.now();
  let recovered: number | undefined;
  let lastSeen = '';
  while (Date.now() - started < RECOVERY_BOUND_MS + 2000) {
    const r = await send({ method: 'GET', url: '/readyz' });
    const a = await call('absent');
    const w = await call('warm');
    lastSeen = `${r.status} ${a.status} ${JSON.stringify(w.body.stale)}`;
    if (r.status === 200 && a.status === 200 && a.body.default === true && a.body.stale === undefined && w.body.stale === undefined) {
      recovered = Date.now() - started;
      break;
    }
    await sleep(20);
  }
  t.ok(recovered !== undefined && recovered <= RECOVERY_BOUND_MS, `recovered without a restart in ${recovered} ms (bound ${RECOVERY_BOUND_MS} ms; last seen ${lastSeen})`);
  t.comment(`recovery after FerretDB came back: ${recovered} ms`);

  // Nothing from the failed writes is stored, on the API or in the database itself.
  t.same(await listing(send), before, 'the store holds exactly what it held before the outage');
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  t.teardown(() => client.close());
  const changes = await client.db().collection('policies_changes').find({}, { projection: { key: 1, applied: 1 } }).toArray();
  t.same(changes.map((c) => c.key).sort(), ['global-base', 'org-editors', 'team-owners'], 'the change log holds only the three imports');
  t.ok(changes.every((c) => c.applied === true), 'every logged change is applied');
  t.equal(await client.db().collection('policies').countDocuments({}), 3, 'no tombstone, no half-written document');

  // Writes work again, and take effect at once on this replica.
  const put = await send({ method: 'PUT', url: '/v1/policies/vacant-now', headers: yaml, payload: 'key: vacant-now\nrules:\n  - subjects: ["*"]\n    grant: ["v:read"]\n' });
  t.equal(put.status, 201, put.body);
  const after = await call('absent');
  t.same([after.status, after.body.permissions, after.body.default], [200, ['v:read'], false], 'the cached default of the path was dropped by the write');
  const warmAfter = await call('absent-warm');
  t.same(warmAfter.body.permissions, ['v:read'], 'and so was the warmed one');
});

t.test('a service that starts while the database is down: NOT_READY, then ready on its own', async (t) => {
  const port = await freePort();
  const url = `mongodb://127.0.0.1:${port}/pe_late`;

  // Start-up must not wait for the database: it serves NOT_READY until the store answers.
  const { app } = await testApp(t, { store: new MongoStore({ url, serverSelectionTimeoutMS: STORE_TIMEOUT_MS }), env });
  const send = await httpSender(app);

  t.equal((await send({ method: 'GET', url: '/healthz' })).status, 200, 'alive');
  const ready = await send({ method: 'GET', url: '/readyz' });
  t.equal(ready.status, 503);
  t.match(ready.json(), { status: 'unready', loaded: false, stale: true });
  const modes: Array<[string, object]> = [
    ['/v1/evaluate', { subject: 'u', namespace: 'global.org' }],
    ['/v1/evaluate', { subject: 'u', namespace: 'nothing.here' }],
    ['/v1/check', { subject: 'u', namespace: 'global', permission: 'a:b' }],
    ['/v1/evaluate', { subject: 'u', policy: 'global-base' }],
  ];
  for (const [path, payload] of modes) {
    const r = await send({ method: 'POST', url: path, payload });
    t.equal(r.status, 503, `${path} ${JSON.stringify(payload)}`);
    t.equal(r.json().code, 'NOT_READY');
  }
  const inline = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'u', policies: [{ key: 'x-a', rules: [{ subjects: ['*'], grant: ['a:b'] }] }] } });
  t.equal(inline.status, 200, 'the policies mode needs no store');
  const w = await send({ method: 'PUT', url: '/v1/policies/global-base', headers: yaml, payload: 'key: global-base\nrules:\n  - subjects: ["*"]\n    grant: ["a"]\n' });
  t.equal(w.status, 503);
  t.equal(w.json().code, 'STORE_UNAVAILABLE');

  const server = await startFerretDB({ port });
  t.teardown(() => server.stop());
  const up = Date.now();
  let readyAfter: number | undefined;
  while (Date.now() - up < RECOVERY_BOUND_MS + 2000) {
    if ((await send({ method: 'GET', url: '/readyz' })).status === 200) {
      readyAfter = Date.now() - up;
      break;
    }
    await sleep(20);
  }
  t.ok(readyAfter !== undefined && readyAfter <= RECOVERY_BOUND_MS, `ready ${readyAfter} ms after the database came up`);
  t.comment(`start-up with the database down: ready ${readyAfter} ms after it came up`);
  const d = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'u', namespace: 'global.org' } });
  t.same([d.status, d.json().permissions, d.json().default], [200, ['*'], true], 'an empty database, freshly read: the default');
  const put = await send({ method: 'PUT', url: '/v1/policies/global-base', headers: yaml, payload: 'key: global-base\nrules:\n  - subjects: ["*"]\n    grant: ["a"]\n' });
  t.equal(put.status, 201, put.body);
  const d2 = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'u', namespace: 'global.org' } });
  t.same(d2.json().permissions, ['a']);
  // The unique index that makes If-Match safe exists although open() failed at start.
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  t.teardown(() => client.close());
  const indexes = await client.db().collection('policies_changes').indexes();
  t.ok(indexes.some((i) => i.unique === true && JSON.stringify(i.key) === '{"key":1,"version":1}'), 'the {key, version} unique index was created late');
});

/**
 * A TCP proxy that can "hang" the database: while frozen, bytes in either direction are
 * held back (not dropped), as with a stuck server or a network that stops delivering;
 * connections stay open, new ones are accepted but nothing gets through. Thawing
 * delivers what was held.
 */
async function hangingProxy(upstreamPort: number): Promise<{ port: number; freeze(): void; thaw(): void; close(): Promise<void> }> {
  let frozen = false;
  const sockets = new Set<net.Socket>();
  const held: Array<() => void> = [];
  const forward = (from: net.Socket, to: net.Socket) => {
    from.on('data', (chunk: Buffer) => {
      if (frozen) held.push(() => to.write(chunk));
      else to.write(chunk);
    });
  };
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: upstreamPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    forward(client, upstream);
    forward(upstream, client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    freeze() {
      frozen = true;
    },
    thaw() {
      frozen = false;
      for (const deliver of held.splice(0)) deliver();
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

t.test('a store that hangs (connections held open, no answers): decisions go on, writes are bounded', async (t) => {
  const server = await startFerretDB();
  t.teardown(() => server.stop());
  const proxy = await hangingProxy(server.port);
  t.teardown(() => proxy.close());
  const url = `mongodb://127.0.0.1:${proxy.port}/pe_hang`;
  const { app } = await testApp(t, { store: new MongoStore({ url, serverSelectionTimeoutMS: STORE_TIMEOUT_MS }), env });
  const send = await httpSender(app);
  t.equal((await send({ method: 'POST', url: '/v1/policies', headers: yaml, payload: POLICIES })).status, 200);
  const present = { subject: { id: 'user:alice', roles: ['editor'] }, namespace: 'global.org' };
  t.same((await send({ method: 'POST', url: '/v1/evaluate', payload: present })).json().permissions, ['document:*']);

  proxy.freeze();
  const frozenAt = Date.now();
  // A write while the database hangs, bounded on the client side so the test cannot hang.
  const CLIENT_LIMIT_MS = 8000;
  const address = app.server.address() as net.AddressInfo;
  const writeStarted = Date.now();
  const pending = fetch(`http://127.0.0.1:${address.port}/v1/policies/global-hung`, {
    method: 'PUT',
    headers: yaml,
    body: 'key: global-hung\nrules:\n  - subjects: ["*"]\n    grant: ["hung:*"]\n',
    signal: AbortSignal.timeout(CLIENT_LIMIT_MS),
  }).then(async (r) => ({ status: r.status, body: await r.text(), ms: Date.now() - writeStarted }), (err: Error) => ({ status: 0, body: err.name, ms: Date.now() - writeStarted }));

  // Decisions: from memory, fast, then stale; the default is refused once stale.
  const decisionTimes: number[] = [];
  let firstStale: number | undefined;
  let first503: number | undefined;
  while (Date.now() - frozenAt < STALE_MS + 1500) {
    const at = Date.now();
    const p = await send({ method: 'POST', url: '/v1/evaluate', payload: present });
    const a = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: `user:${at}`, namespace: 'vacant' } });
    decisionTimes.push(Date.now() - at);
    t.equal(p.status, 200, 'a path with documents answers');
    if (p.json().stale === true) firstStale ??= at - frozenAt;
    if (a.status === 503) {
      first503 ??= at - frozenAt;
      t.equal(a.json().code, 'STORE_UNAVAILABLE');
    } else {
      t.equal(a.json().stale, undefined, 'the default only from fresh knowledge');
    }
    await sleep(50);
  }
  t.ok(firstStale !== undefined && first503 !== undefined, `stale after ${firstStale} ms, default refused after ${first503} ms`);
  t.ok(Math.max(...decisionTimes) < 1000, `decisions do not wait on the hung store (slowest pair ${Math.max(...decisionTimes)} ms)`);
  t.equal((await send({ method: 'GET', url: '/readyz' })).status, 503, '/readyz 503');

  const w = await pending;
  t.comment(`hung store: stale after ${firstStale} ms, default refused after ${first503} ms; a write answered ${w.status || 'nothing'} after ${w.ms} ms`);
  t.ok(w.status === 503 && w.ms <= STORE_TIMEOUT_MS * 10, `a write to a hung store fails with 503 within a bound (got ${w.status || w.body} after ${w.ms} ms; STORE_TIMEOUT_MS ${STORE_TIMEOUT_MS})`);

  proxy.thaw();
  const thawed = Date.now();
  let recovered: number | undefined;
  while (Date.now() - thawed < RECOVERY_BOUND_MS + 2000) {
    const r = await send({ method: 'GET', url: '/readyz' });
    const a = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'user:after', namespace: 'vacant' } });
    if (r.status === 200 && a.status === 200 && a.json().stale === undefined) {
      recovered = Date.now() - thawed;
      break;
    }
    await sleep(20);
  }
  t.ok(recovered !== undefined && recovered <= RECOVERY_BOUND_MS, `recovered ${recovered} ms after the database answered again`);
  // Whatever the write answered, the store and this replica agree on whether it happened.
  await sleep(500);
  const stored = await send({ method: 'GET', url: '/v1/policies/global-hung' });
  const d = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: 'u', namespace: 'global' } });
  const applied = stored.status === 200;
  t.equal(d.json().permissions.includes('hung:*'), applied, `the replica answers as the store holds it (write ${applied ? 'applied' : 'not applied'} after the thaw)`);
  t.comment(`after the thaw: recovered in ${recovered} ms; the write sent during the hang was ${applied ? 'APPLIED' : 'not applied'}`);
});

t.test('the store returns something invalid: fail closed, and recover once it is fixed', async (t) => {
  const mongo = await testMongo(t);
  const RESYNC_MS = 2000;
  const { app } = await testApp(t, { store: new MongoStore({ url: mongo.url }), env: { ...env, RESYNC_INTERVAL_MS: String(RESYNC_MS) } });
  const send = await httpSender(app);
  const put = (key: string, grant: string) =>
    send({ method: 'PUT', url: `/v1/policies/${key}`, headers: yaml, payload: `key: ${key}\nrules:\n  - subjects: ["*"]\n    grant: ["${grant}"]\n` });
  for (const [key, grant] of [['global-base', 'doc:read'], ['team-x', 'team:read'], ['solo-only', 'solo:read']] as const) {
    t.equal((await put(key, grant)).status, 201);
  }
  const ask = async (namespace: string) => {
    const r = await send({ method: 'POST', url: '/v1/evaluate', payload: { subject: `user:${Math.random()}`, namespace } });
    return { status: r.status, body: r.json() as Record<string, unknown> };
  };
  const changes = mongo.client.db().collection('policies_changes');
  const policies = mongo.client.db().collection('policies');
  /** Write a version of `key` straight into the database, as another program (or a newer version) would. */
  const corrupt = async (key: string, fields: Record<string, unknown>) => {
    const last = await changes.find({}).sort({ _id: -1 }).limit(1).next();
    const current = await policies.findOne({ _id: key as never });
    const change = {
      _id: Number(last?._id ?? 0) + 1, key, version: Number(current?.version ?? 0) + 1, namespace: current?.namespace, ordinal: null, disabled: false,
      format: 'json', text: '{}', doc: '{}', etag: `"corrupt-${key}"`, updatedAt: new Date(), deleted: false, applied: true, ...fields,
    };
    await changes.insertOne(change as never);
    const { _id: seq, applied: _a, ...state } = change;
    await policies.updateOne({ _id: key as never }, { $set: { ...state, seq } });
  };
  const waitFor = async (what: string, cond: () => Promise<boolean>, boundMs: number) => {
    const start = Date.now();
    while (!(await cond())) {
      if (Date.now() - start > boundMs) {
        t.fail(`${what}: not within ${boundMs} ms`);
        return NaN;
      }
      await sleep(25);
    }
    return Date.now() - start;
  };

  // 1. A document that is well-formed JSON but not a valid policy (a field this version does not know).
  await corrupt('team-x', { doc: JSON.stringify({ key: 'team-x', rules: [{ subjects: ['*'], grant: ['team:*'], colour: 'red' }] }) });
  await waitFor('the new version is seen', async () => (await ask('team')).body.revision !== '3', 2000);
  const broken = await ask('global.team');
  t.same([broken.status, broken.body.code], [503, 'POLICY_STATE_BROKEN'], `paths through its namespace: 503, never run while ignoring what it says (got ${broken.status} ${JSON.stringify(broken.body)})`);
  const other = await ask('global');
  t.same([other.status, other.body.permissions], [200, ['doc:read']], 'other paths answer');
  const ready = await send({ method: 'GET', url: '/readyz' });
  t.equal(ready.json().brokenDocuments, 1, '/readyz counts it');
  t.equal((await put('team-x', 'team:read')).status, 200, 'fixing it through the API works');
  t.same((await ask('team')).body.permissions, ['team:read'], 'and the namespace answers again at once');

  // 1b. A document the compiler rejects (a malformed permission pattern): its namespace
  //     fails closed, and nothing else is affected (polling goes on, nothing goes stale).
  await corrupt('team-x', { doc: JSON.stringify({ key: 'team-x', rules: [{ subjects: ['*'], grant: ['team::read'] }] }) });
  await waitFor('the bad pattern is seen', async () => (await ask('team')).status !== 200, 2000);
  const badPattern = await ask('team');
  t.same([badPattern.status, badPattern.body.code], [503, 'POLICY_STATE_BROKEN'], `a bad pattern: 503 POLICY_STATE_BROKEN (got ${badPattern.status} ${JSON.stringify(badPattern.body).slice(0, 200)})`);
  await sleep(STALE_MS + 300);
  const unaffected = await ask('global');
  t.same([unaffected.status, unaffected.body.stale], [200, undefined], 'other paths answer, and are not stale: polling goes on past the bad document');
  t.equal((await put('team-x', 'team:read')).status, 200);
  await waitFor('team answers after the fix', async () => JSON.stringify((await ask('team')).body.permissions) === '["team:read"]', STALE_MS + 3000);

  // 2. A live document with a field missing (no text): never the default in its place.
  await corrupt('solo-only', { text: null });
  await waitFor('the new version is seen', async () => JSON.stringify((await ask('solo')).body.permissions) !== '["solo:read"]', 2000);
  const solo = await ask('solo');
  t.not(solo.body.default, true, `a malformed stored document is not taken for "no document" (got ${solo.status} ${JSON.stringify(solo.body)})`);
  t.same([solo.status, solo.body.code], [503, 'POLICY_STATE_BROKEN'], 'its namespace answers 503 POLICY_STATE_BROKEN');
  t.equal((await put('solo-only', 'solo:read')).status, 200);
  await waitFor('solo answers after the fix', async () => JSON.stringify((await ask('solo')).body.permissions) === '["solo:read"]', 2000);

  // 3. A document whose stored JSON does not even parse (issue 16 item 4): a broken
  //    document like the others — its namespace fails closed, polling goes on past it,
  //    nothing goes stale. (It used to fail every poll: the whole replica went stale.)
  await corrupt('global-base', { doc: '{"key": "global-base", "rules": [' });
  await waitFor('the unparseable version is seen', async () => (await ask('global')).status !== 200, 2000);
  const unparseable = await ask('global');
  t.same([unparseable.status, unparseable.body.code], [503, 'POLICY_STATE_BROKEN'], `its namespace: 503 POLICY_STATE_BROKEN (got ${unparseable.status} ${JSON.stringify(unparseable.body).slice(0, 200)})`);
  await sleep(STALE_MS + 300);
  const vacant = await ask('vacant');
  t.same([vacant.status, vacant.body.default, vacant.body.stale], [200, true, undefined], 'a path without it answers, fresh: the poll did not stop at it');
  const r = await send({ method: 'GET', url: '/readyz' });
  t.same([r.status, r.json().brokenDocuments, r.json().stale], [200, 1, false], '/readyz: ready, not stale, and counts it');
  t.equal((await put('global-base', 'doc:*')).status, 200, 'the write over it succeeds');
  t.same((await ask('global')).body.permissions, ['doc:*'], 'and is answered at once');
  t.equal((await send({ method: 'GET', url: '/readyz' })).json().brokenDocuments, 0);
  t.same((await ask('global')).body.permissions, ['doc:*']);
});
